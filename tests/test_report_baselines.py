"""``ogan report --train`` with baselines (issue 12): the hybridizer alone and held-out real genomes,
scored beside the synthetic cohort in the same tables.

Known answers on a 2-population msprime cohort (60 genomes each, 450 SNPs: two LD-aware blocks),
trained on every second genome, with the synthetic cohort = copies of the training genomes:
- the synthetic cohort is found out: within each population the nearest-synthetic membership
  AUC is about 1 and AA_TS vs training is 0;
- the held-out baseline (15 held-out genomes per population scored as synthetic, the other 15
  held out) leaks nothing: its AUC is near 0.5, with 0.5 inside its interval;
- the hybridizer baseline (PPO offspring of the training genomes) copies no genome, is as large
  as the synthetic cohort per population, and keeps the training allele frequencies.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner
from util import simulate_cohort, two_contig_cohort, write_panel_text, write_vcf_text

from ogan_vcf import cli
from ogan_vcf.baselines import ROW_LABELS, SYNTHETIC_LABEL, heldout_half
from ogan_vcf.cli import app

POPULATIONS = ("AFR", "EUR")
TOP_KEYS = {"schema_version", "sites", "encoding", "sampling", "per_population", "overall", "gmm", "privacy"}
LABELS = {"synthetic": SYNTHETIC_LABEL, **ROW_LABELS}


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """(real.h5, train.h5): the simulated cohort and every second genome of it."""
    from ogan_vcf.cohort import load, save
    from ogan_vcf.convert import ingest

    d = tmp_path_factory.mktemp("baselines")
    sim = simulate_cohort(n_per_pop=60, populations=POPULATIONS, length=1e6, max_snps=450, seed=5)
    ingest(write_vcf_text(d / "real.vcf", sim), d / "real.h5",
           panel=write_panel_text(d / "real.panel", sim.samples, sim.populations))
    real = load(d / "real.h5")
    save(real.take_samples(np.arange(0, real.n_samples, 2)), d / "train.h5")
    return d / "real.h5", d / "train.h5"


def _invoke(monkeypatch, *args):
    """``ogan report ARGS`` with a wide console, and no figures (they do not depend on the baselines)."""
    monkeypatch.setattr(cli.console, "_width", 200)  # one table row per line
    monkeypatch.setattr("ogan_vcf.reporting.plots.save_figures", lambda plot, out_dir: {})
    return CliRunner().invoke(app, ["report", *map(str, args), "--no-progress"], terminal_width=200)


@pytest.fixture(scope="module")
def copies_report(cohorts, tmp_path_factory):
    """``ogan report REAL TRAIN --train TRAIN --seed 1``: (CLI result, output directory, metrics.json)."""
    real, train = cohorts
    out = tmp_path_factory.mktemp("copies")
    with pytest.MonkeyPatch.context() as mp:
        r = _invoke(mp, real, train, "--train", train, "--seed", 1, "-o", out)
    assert r.exit_code == 0, r.output
    return r, out, json.loads((out / "metrics.json").read_text())


def test_heldout_baseline_leaks_nothing_while_copies_leak_everything(copies_report):
    _, _, met = copies_report
    assert set(met) == TOP_KEYS | {"baselines"} and set(met["baselines"]) == {"hybridizer", "heldout"}
    for key, b in met["baselines"].items():
        assert b["label"] == ROW_LABELS[key]
        assert set(b) == TOP_KEYS - {"schema_version"} | {"label"}, key
        assert set(b["privacy"]) == set(met["privacy"]), key
        assert set(b["per_population"]) == set(b["privacy"]["per_population"]) == set(POPULATIONS), key
        assert b["sites"]["shared"] == met["sites"]["shared"] == 450, key
    held, hybrid = met["baselines"]["heldout"], met["baselines"]["hybridizer"]
    for pop in POPULATIONS:
        copies, fresh = met["privacy"]["per_population"][pop], held["privacy"]["per_population"][pop]
        assert copies["mia_nearest_auc"] > 0.95 and copies["aa_ts_train"] == 0 and copies["exact_copy_fraction"] == 1
        lo, hi = fresh["mia_nearest_auc_interval"]
        assert abs(fresh["mia_nearest_auc"] - 0.5) < 0.2 and lo <= 0.5 <= hi, fresh
        assert (fresh["n_synthetic"], fresh["n_holdout"], fresh["n_members"]) == (15, 15, 30)  # the other half
        assert held["per_population"][pop]["n_synthetic"] == 15
        assert hybrid["per_population"][pop]["n_synthetic"] == met["per_population"][pop]["n_synthetic"] == 30
        assert hybrid["privacy"]["per_population"][pop]["exact_copy_fraction"] == 0
        assert hybrid["per_population"][pop]["maf_r"] > 0.9  # mosaic offspring: frequencies near, not exact
    assert held["privacy"]["n_holdout"] == 30 and met["privacy"]["n_holdout"] == 60
    assert held["privacy"]["membership_auc"] == pytest.approx(0.5, abs=0.15)
    assert len(met["privacy"]["concerns"]) >= 4  # (over 450 SNPs two real people may be identical: no test)


def _between(text: str, start: str, stop: str) -> str:
    return text[text.index(start):text.index(stop)]


def test_page_puts_the_baselines_in_the_same_tables(copies_report):
    _, out, met = copies_report
    text = (out / "report.html").read_text(encoding="utf-8")
    quality = _between(text, 'id="populations"', 'id="gmm"')
    audit = _between(text, 'id="privacy-populations"', "Pooled over all populations</h3>")
    pooled = text[text.index("Pooled over all populations</h3>"):]
    for label in LABELS.values():
        for pop in [*POPULATIONS, "overall"]:
            assert f'<td>{pop}</td><td class="text set">{label}</td>' in quality, (pop, label)
        for pop in POPULATIONS:
            assert f'<td>{pop}</td><td class="text set">{label}</td>' in audit, (pop, label)
        assert f"<th>{label}</th>" in pooled
    assert quality.count("<tr") == 1 + 3 * 3 and audit.count("<tr") == 1 + 3 * 2
    auc = met["baselines"]["heldout"]["privacy"]["per_population"]["AFR"]["mia_nearest_auc"]
    row = audit[audit.index(f'<td>AFR</td><td class="text set">{ROW_LABELS["heldout"]}</td>'):]
    assert f">{auc:.3f}<br>" in row[:row.index("</tr>")]
    assert "hybridizer only</em>: PPO offspring of the training set" in quality
    assert "verdict bad" in text  # the verdict is the synthetic cohort's


def test_cli_prints_the_baseline_rows(copies_report):
    r, _, met = copies_report
    lines = r.output.splitlines()
    for key, b in met["baselines"].items():
        short = ROW_LABELS[key].split(" (")[0]
        rows = [line for line in lines if f"│ {short} " in line]
        assert len(rows) == 3 + 2, (key, rows)  # per population and overall, then the audit per population
        cells = [f"{b['per_population'][p]['maf_r']:.3f}" for p in POPULATIONS]
        assert all(c in row for c, row in zip(cells, rows)), rows
        a = b["privacy"]["per_population"]["EUR"]
        assert (f"{a['mia_nearest_auc']:.2f} [{a['mia_nearest_auc_interval'][0]:.2f},"
                f"{a['mia_nearest_auc_interval'][1]:.2f}]") in rows[-1]
    pooled = next(line for line in lines if line.startswith("│ membership_auc"))
    assert all(f"{m['privacy']['membership_auc']:.3f}" in pooled for m in [met, *met["baselines"].values()])
    assert "baselines, scored the same way" in " ".join(r.output.split())


def test_same_seed_same_baselines(tmp_path):
    """Two contigs on 400 SNPs, phased: the hybridizer baseline is mosaic offspring."""
    from ogan_vcf.cohort import load
    from ogan_vcf.convert import ingest
    from ogan_vcf.reporting import compute_baselines
    from ogan_vcf.reporting.html import _plain

    sim = two_contig_cohort()
    ingest(write_vcf_text(tmp_path / "two.vcf", sim), tmp_path / "two.h5",
           panel=write_panel_text(tmp_path / "two.panel", sim.samples, sim.populations))
    real = load(tmp_path / "two.h5")
    train = real.take_samples(np.arange(0, real.n_samples, 2))
    first, notes = compute_baselines(real, train, train, seed=7)
    again, _ = compute_baselines(real, train, train, seed=7)
    assert set(first) == {"hybridizer", "heldout"}
    assert notes == ["hybridizer only (baseline): no genetic map: switch points drawn at 1 cM per Mb"]  # phased: mosaic
    assert json.dumps(_plain(first)) == json.dumps(_plain(again))


def test_heldout_half_is_seeded_and_shared_with_the_pipeline(tmp_path, sim_h5, sim_cohort):
    from ogan_vcf.cohort import load
    from ogan_vcf.pipeline import write_heldout_half

    half = heldout_half(sim_cohort, seed=3)
    assert half.samples.population_counts() == {p: n // 2 for p, n in sim_cohort.samples.population_counts().items()}
    assert list(heldout_half(sim_cohort, seed=3).samples.ids) == list(half.samples.ids)
    assert list(heldout_half(sim_cohort, seed=4).samples.ids) != list(half.samples.ids)
    write_heldout_half(sim_h5, tmp_path / "half.h5", seed=3)
    assert list(load(tmp_path / "half.h5").samples.ids) == list(half.samples.ids)


def test_a_refusing_hybridizer_is_a_note(sim_cohort):
    """Unphased, 200 SNPs on one contig: one LD-aware genotype block, so PPO offspring would copy a parent."""
    from dataclasses import replace

    from ogan_vcf.reporting import compute_baselines

    train = sim_cohort.take_samples(np.arange(0, sim_cohort.n_samples, 2))
    train = replace(train, phased=np.zeros_like(train.phased))  # unphased: genotype blocks, not the mosaic unit
    out, notes = compute_baselines(sim_cohort, train, train, seed=1)
    assert set(out) == {"heldout"}
    assert notes[0] == ("hybridizer only (baseline): skipped (population AFR: only one block, so every offspring "
                        "would copy a parent; use smaller blocks (a smaller fixed size, or a smaller LD-aware maximum) "
                        "for mode ppo)")
    assert notes[1:] == ["held-out real (baseline): the cohorts are not all phased: no haplotype-sharing signature "
                         "(shared_segment_snps is null)"]


def test_no_baselines_without_train_or_when_asked(tmp_path, monkeypatch, sim_h5, sim_cohort):
    """--no-baselines and a report without --train have none (the one-set layout); --baselines
    without --train is refused in one line."""
    from ogan_vcf.cohort import save

    train = tmp_path / "train.h5"
    save(sim_cohort.take_samples(np.arange(0, sim_cohort.n_samples, 2)), train)
    r = _invoke(monkeypatch, sim_h5, train, "--train", train, "--no-baselines", "-o", tmp_path / "off")
    assert r.exit_code == 0, r.output
    assert "baselines" not in json.loads((tmp_path / "off" / "metrics.json").read_text())
    page = (tmp_path / "off" / "report.html").read_text()
    assert "(baseline)" not in page and "<th>Value</th>" in page and "<th>Population</th><th title" in page
    assert "│ hybridizer only" not in r.output and "│ held-out real" not in r.output
    assert "no baselines" not in r.output

    r = _invoke(monkeypatch, sim_h5, train, "-o", tmp_path / "none")
    assert r.exit_code == 0, r.output
    assert set(json.loads((tmp_path / "none" / "metrics.json").read_text())) == TOP_KEYS - {"privacy"}
    assert "note: no baselines: they are made from the training cohort (--train)" in r.output
    assert "(baseline)" not in (tmp_path / "none" / "report.html").read_text()

    r = _invoke(monkeypatch, sim_h5, train, "--baselines", "-o", tmp_path / "bad")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == ("ogan: error: --baselines needs --train: the baselines are made from the training cohort "
                        "and audited against it\n")
    assert not (tmp_path / "bad").exists()


def test_no_heldout_genomes_no_baselines_by_default(tmp_path, monkeypatch, sim_h5):
    r = _invoke(monkeypatch, sim_h5, sim_h5, "--train", sim_h5, "-o", tmp_path / "r")
    assert r.exit_code == 0, r.output
    assert "baselines" not in json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert ("note: no baselines: every real genome is in the training cohort, so none is held out to score "
            "(--baselines scores the hybridizer alone)") in " ".join(r.output.split())


def test_cli_passes_the_baselines_choice(tmp_path, monkeypatch):
    import ogan_vcf.reporting
    from ogan_vcf.reporting import ReportResult

    calls = []

    def fake(*args, **kwargs):
        calls.append(kwargs["baselines"])
        metrics = {"sites": {"shared": 2, "real": 2}, "per_population": {}, "overall": {"n_synthetic": 1}}
        return ReportResult(metrics, [])

    monkeypatch.setattr(ogan_vcf.reporting, "report", fake)
    for flag in ([], ["--baselines"], ["--no-baselines"]):
        r = _invoke(monkeypatch, "real.h5", "synth.h5", "-o", tmp_path, *flag)
        assert r.exit_code == 0, r.output
    assert calls == [None, True, False]


def test_the_hybridizer_baseline_takes_the_generators_membership_budget(cohorts):
    """A synthetic cohort whose ``generate`` record carries the cpu preset's membership budget gets a
    hybridizer baseline whose switch rates are chosen to that budget (as the pipeline's is), said in a note;
    without the record, the default rate and no note."""
    from dataclasses import replace

    from ogan_vcf.baselines import recorded_budget
    from ogan_vcf.cohort import load
    from ogan_vcf.hybridizer import hybridize
    from ogan_vcf.reporting import compute_baselines

    real, train = (load(p) for p in cohorts)
    record = {"command": "generate", "parameters": {"membership_budget": 0.7}}
    synthetic = replace(train, provenance=[{"command": "ingest", "parameters": {}}, record])
    assert recorded_budget(synthetic.provenance) == 0.7
    assert recorded_budget([{"command": "generate", "parameters": {"membership_budget": 2}}]) is None
    assert recorded_budget([{"command": "generate", "parameters": {}}]) is None and recorded_budget(None) is None
    _, notes = compute_baselines(real, synthetic, train, seed=1)
    chosen = hybridize(train, sizes=train.samples.population_counts(), mode="ppo", unit="mosaic",
                       generations="auto", budget=0.7, seed=1)
    rates = {r.population: r.generations for r in chosen.populations}
    want = ("hybridizer only (baseline): switch rates chosen to the generator's membership budget 0.7: "
            + ", ".join(f"{p} {g:g}" for p, g in rates.items()) + " per Morgan")
    assert want in notes
    _, plain = compute_baselines(real, replace(train, provenance=[]), train, seed=1)
    assert not any("membership budget" in n for n in plain)
