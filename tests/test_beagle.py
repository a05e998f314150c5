"""Beagle 5 takes ogan's VCF output, exactly as written, as an imputation reference panel."""

import subprocess
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from ogan_vcf.cli import app

pytestmark = pytest.mark.tools("beagle")
runner = CliRunner()
KEEP_EVERY = 4  # targets keep every 4th SNP: 50 of 200 typed, 150 to impute


@pytest.fixture(scope="module")
def study(tmp_path_factory, sim_cohort):
    """Two real genomes per population as masked, unphased targets; the other 54 as a cohort file."""
    from ogan_vcf.cohort import save
    from ogan_vcf.io import write_output

    d = tmp_path_factory.mktemp("beagle")
    pops = sim_cohort.samples.populations
    targets = np.concatenate([np.flatnonzero(pops == p)[:2] for p in ("AFR", "EUR", "EAS")])
    rest = np.setdiff1d(np.arange(sim_cohort.n_samples), targets)
    save(sim_cohort.take_samples(rest), d / "ref.h5")
    t = sim_cohort.take_samples(targets)
    typed = np.arange(0, t.n_variants, KEEP_EVERY)
    t = replace(t, variant_contig=t.variant_contig[typed], variant_position=t.variant_position[typed],
                variant_id=t.variant_id[typed], variant_allele=t.variant_allele[typed],
                genotypes=t.genotypes[typed], phased=np.zeros_like(t.phased[typed]))
    write_output(d / "targets.vcf.gz", t)
    return d, list(t.samples.ids), sim_cohort.variant_position.tolist()


def impute(ref, study, out):
    d, target_ids, positions = study
    run = subprocess.run(["beagle", f"ref={ref}", f"gt={d / 'targets.vcf.gz'}", f"out={out}", "nthreads=1",
                          "seed=1"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warn" not in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
    import cyvcf2

    vcf = cyvcf2.VCF(f"{out}.vcf.gz")
    assert vcf.samples == target_ids
    records = list(vcf)
    assert [v.POS for v in records] == positions  # every reference marker, typed or imputed
    imputed = [bool(v.INFO.get("IMP")) for v in records]
    assert imputed == [i % KEEP_EVERY != 0 for i in range(len(positions))]
    ds = np.array([v.format("DS")[:, 0] for v in records])
    assert ds.shape == (len(positions), len(target_ids)) and np.all((ds >= 0) & (ds <= 2))


def test_generator_output_is_a_beagle_reference(study):
    pytest.importorskip("tensorflow")
    d = study[0]
    r = runner.invoke(app, ["train", str(d / "ref.h5"), "--preset", "tiny", "--epochs", "1", "--batch-size",
                            "27", "-o", str(d / "model"), "--seed", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["generate", str(d / "model"), "--n", "10", "--seed", "1", "-o",
                            str(d / "synth.vcf.gz"), "--no-progress"])
    assert r.exit_code == 0, r.output
    impute(d / "synth.vcf.gz", study, d / "imputed_synth")


def test_hybridizer_output_is_a_beagle_reference(study):
    d = study[0]
    r = runner.invoke(app, ["hybridize", str(d / "ref.h5"), "--pop", "AFR,EUR,EAS", "--factor", "2", "--seed",
                            "1", "-o", str(d / "hybrid.vcf.gz"), "--no-progress"])
    assert r.exit_code == 0, r.output
    impute(d / "hybrid.vcf.gz", study, d / "imputed_hybrid")
