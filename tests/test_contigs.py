"""Several contigs: nothing links SNPs of two contigs, and every output keeps every contig in input order."""

import json
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from ogan_vcf.cli import app
from util import bgzip_and_index, two_contig_cohort, write_panel_text, write_vcf_text

runner = CliRunner()
CONTIGS = ["7", "3"]  # the input's order, not sorted by name


@pytest.fixture(scope="module")
def two_contigs(tmp_path_factory):
    """Contigs 7 and 3, 200 SNPs each, both starting near 10 Mb (overlapping positions)."""
    sim = two_contig_cohort(CONTIGS)
    d = tmp_path_factory.mktemp("contigs")
    vcf = bgzip_and_index(write_vcf_text(d / "two.vcf", sim))
    panel = write_panel_text(d / "two.panel", sim.samples, sim.populations)
    return sim, vcf, panel


def test_the_fixture_positions_overlap(two_contigs):
    sim, _, _ = two_contigs
    first, second = sim.positions[:200], sim.positions[200:]
    assert first.min() < second.max() and second.min() < first.max()  # what broke near_pairs


def test_hybridizer_blocks_never_span_contigs(two_contigs):
    from ogan_vcf.hybridizer import BlockSpec, hybridize
    from ogan_vcf.io import read_cohort

    sim, vcf, panel = two_contigs
    cohort = read_cohort(vcf, panel=panel)
    assert cohort.contig_id == CONTIGS and (np.diff(cohort.variant_contig) >= 0).all()
    for spec in (BlockSpec(), BlockSpec(size=150), BlockSpec(min_snps=20, max_snps=60)):
        result = hybridize(cohort, factor=2, populations=["EAS"], blocks=spec, seed=1)
        starts = result.populations[0].blocks
        assert 200 in starts.tolist(), spec  # the contig boundary is a cut
        for a, b in zip(starts[:-1], starts[1:]):
            assert len(set(cohort.variant_contig[a:b])) == 1


pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, two_contigs):
    from ogan_vcf.training import train

    _, vcf, panel = two_contigs
    model_dir = tmp_path_factory.mktemp("model") / "m"
    summary = train(vcf, model_dir, panel=panel, preset="tiny", seed=3, overrides={"epochs": 1, "batch_size": 30})
    return model_dir, summary


def test_training_on_two_contigs_keeps_blocks_and_ld_pairs_within_a_contig(two_contigs, trained):
    from ogan_vcf.io import read_cohort
    from ogan_vcf.model.encoding import encode
    from ogan_vcf.training import Quality

    model_dir, summary = trained
    assert summary.epochs == 1 and summary.best_quality is not None and np.isfinite(summary.best_quality)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["variants"]["contig_id"] == CONTIGS
    starts = config["network_blocks"]
    assert 200 in starts and starts[-1] == 400
    contig = np.array(config["variants"]["contig"])
    assert all(len(set(contig[a:b])) == 1 for a, b in zip(starts[:-1], starts[1:]))
    _, vcf, panel = two_contigs
    cohort = read_cohort(vcf, panel=panel)
    labels = np.unique(cohort.samples.populations, return_inverse=True)[1]
    quality = Quality(encode(cohort.genotypes, True), labels, ["AFR", "EAS", "EUR"], True, cohort.variant_contig,
                      cohort.variant_position, 4, 0, True)
    i, j = quality.pairs
    assert len(i) and (cohort.variant_contig[i] == cohort.variant_contig[j]).all()
    assert set(cohort.variant_contig[i]) == {0, 1}  # both contigs are scored


@pytest.fixture(scope="module")
def study(tmp_path_factory, two_contigs):
    _, vcf, panel = two_contigs
    out = tmp_path_factory.mktemp("study") / "study"
    r = runner.invoke(app, ["pipeline", str(vcf), "-p", str(panel), "--keep", "EAS=0.5", "--model", "offspring",
                            "--preset", "tiny", "--epochs", "1", "--batch-size", "20", "--n", "8", "--seed", "5",
                            "-o", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output + r.stderr
    return out


def test_pipeline_on_two_contigs_writes_both_contigs_and_every_site(two_contigs, study):
    import cyvcf2

    sim, _, _ = two_contigs
    vcf = cyvcf2.VCF(str(study / "synthetic" / "offspring.vcf.gz"))
    assert vcf.seqnames == CONTIGS
    sites = [(v.CHROM, v.POS) for v in vcf]
    assert sites == list(zip(sim.variant_contigs, sim.positions.tolist()))
    metrics = json.loads((study / "reports" / "offspring" / "metrics.json").read_text())
    assert metrics["sites"]["shared"] == 400 and metrics["overall"]["ld_r"] is not None


@pytest.mark.tools("bcftools", "plink2")
def test_bcftools_and_plink2_read_the_two_contig_output(tmp_path, study):
    synth = study / "synthetic" / "offspring.vcf.gz"
    counts = subprocess.run(["bcftools", "index", "--stats", str(synth)], capture_output=True, text=True,
                            check=True).stdout.split()
    assert counts[0::3] == CONTIGS and counts[2::3] == ["200", "200"]
    region = subprocess.run(["bcftools", "view", "-H", "-r", "3", str(synth)], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    assert len(region) == 200 and all(line.startswith("3\t") for line in region)
    subprocess.run(["plink2", "--vcf", str(synth), "--allow-extra-chr", "--make-pgen", "--out", str(tmp_path / "p")],
                   capture_output=True, text=True, check=True)
    pvar = [line.split("\t")[0] for line in (tmp_path / "p.pvar").read_text().splitlines() if line[0] != "#"]
    assert pvar == ["7"] * 200 + ["3"] * 200


@pytest.mark.tools("beagle")
def test_beagle_takes_the_two_contig_output_as_a_reference(tmp_path, two_contigs, study):
    """Beagle imputes contig 3 of held-out genomes (every 4th SNP typed) from the synthetic panel."""
    from ogan_vcf.io import read_cohort, write_output

    _, vcf, panel = two_contigs
    cohort = read_cohort(vcf, panel=panel)
    target = cohort.take_samples(np.arange(4))
    from dataclasses import replace

    target = target.take_variants(np.flatnonzero((target.variant_contig == 1) & (np.arange(400) % 4 == 0)))
    target = replace(target, phased=np.zeros_like(target.phased))
    write_output(tmp_path / "targets.vcf.gz", target)
    run = subprocess.run(["beagle", f"ref={study / 'synthetic' / 'offspring.vcf.gz'}",
                          f"gt={tmp_path / 'targets.vcf.gz'}", f"out={tmp_path / 'imputed'}", "chrom=3", "nthreads=1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    import cyvcf2

    imputed = [(v.CHROM, v.POS) for v in cyvcf2.VCF(str(tmp_path / "imputed.vcf.gz"))]
    assert len(imputed) == 200 and {c for c, _ in imputed} == {"3"}
