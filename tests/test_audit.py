"""The per-population privacy audit (issue 12): kernels against naive references, known answers.

Known answers, per population of a simulated cohort (msprime, common SNPs), with members = 60
training genomes, non-members = 120 held-out genomes (60 scored, 60 the attacker's reference):
- synthetic = the members themselves: every member has a copy at distance 0, so AA_TS vs train
  is exactly 0, the nearest-synthetic attack has AUC exactly 1 and every copy is exact, while
  AA_TS vs held-out stays near 0.5 (members and held-out people are exchangeable): privacy loss
  near 0.5;
- synthetic = a third set of real genomes of the population: nothing to learn, AUCs and AA_TS
  near 0.5, privacy loss near 0;
- synthetic = genotypes drawn SNP by SNP from the members' allele frequencies: no haplotype is
  kept, so the segments shared with training haplotypes are a few SNPs long, while the allele
  frequencies, and with them the frequency attack's view, are those of the copies.
"""

from dataclasses import replace

import numpy as np
import pytest
from util import simulate_cohort

from ogan_vcf.reporting import compute_metrics, concerns
from ogan_vcf.reporting import metrics as m
from ogan_vcf.reporting.audit import auc, frequency_lr_scores, population_audit, shared_segments, split_haplotypes
from ogan_vcf.reporting.html import write_metrics_json
from ogan_vcf.reporting.kernels import greedy_segments

POPULATIONS = ("AFR", "EUR", "EAS")
N_TRAIN, N_HOLDOUT, N_THIRD = 60, 120, 60


# ---------------------------------------------------------------- naive references

def naive_segments(a, b):
    """Greedy tiling written the obvious way: at each start, the longest match over every row of b."""
    out = []
    for row in a:
        lengths, v = [], 0
        while v < len(row):
            best = 0
            for other in b:
                run = 0
                while v + run < len(row) and row[v + run] >= 0 and row[v + run] == other[v + run]:
                    run += 1
                best = max(best, run)
            if best:
                lengths.append(best)
            v += max(best, 1)
        out.append(lengths)
    return out


def naive_frequency_lr(x, synthetic, reference):
    """sum over called SNPs of log Binomial(x; 2, p_synthetic) - log Binomial(x; 2, p_reference)."""
    def freq(d, j):
        called = d[:, j][d[:, j] >= 0]
        return (called.sum() + 0.5) / (2 * len(called) + 1)

    total = 0.0
    for j, g in enumerate(x):
        if g >= 0:
            ps, pr = freq(synthetic, j), freq(reference, j)
            total += g * np.log(ps / pr) + (2 - g) * np.log((1 - ps) / (1 - pr))
    return total


# ---------------------------------------------------------------- kernels and small functions

def test_greedy_segments_known_tiling():
    b = np.array([[0] * 12, [1] * 12, [2] * 12], dtype=np.int8)
    a = np.array([[0] * 4 + [1] * 5 + [2] * 3,
                  [0, 0, -1, 1, 1, 3, 2, 2, 2, 2, 2, 2],  # a missing allele and one no row has: skipped
                  b[1]], dtype=np.int8)
    lengths = greedy_segments(a, b)
    assert lengths.dtype == np.int32 and lengths.shape == a.shape
    assert lengths[0].tolist() == [4, 0, 0, 0, 5, 0, 0, 0, 0, 3, 0, 0]
    assert lengths[1].tolist() == [2, 0, 0, 2, 0, 0, 6, 0, 0, 0, 0, 0]
    assert lengths[2].tolist() == [12] + [0] * 11


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_segments_match_the_naive_tiling(seed):
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 2, size=(7, 90)).astype(np.int8)
    a = np.where(rng.random((9, 90)) < 0.7, b[rng.integers(0, 7, size=(9, 1)), np.arange(90)],
                 rng.integers(0, 2, size=(9, 90))).astype(np.int8)  # mostly copied, with changes
    a[rng.random(a.shape) < 0.05] = -1
    b[rng.random(b.shape) < 0.05] = -1
    lengths = greedy_segments(a, b)
    assert [row[row > 0].tolist() for row in lengths] == naive_segments(a, b)


def test_shared_segments_summary():
    b = np.array([[0] * 10, [1] * 10], dtype=np.int8)
    a = np.array([[0] * 6 + [1] * 4, [1] * 10], dtype=np.int8)  # segments 6, 4 and 10
    assert shared_segments(a, b) == {"median": 6.0, "p90": pytest.approx(9.2), "max": 10,
                                     "mean": pytest.approx(20 / 3), "segments": 3, "haplotypes": 2}
    contig = np.array([0] * 3 + [1] * 7)  # a segment stops where a contig does: 3 + 3, 4 and 3 + 7
    split = shared_segments(a, b, contig)
    assert (split["segments"], split["median"], split["max"], split["mean"]) == (5, 3, 7, 4)


def test_split_haplotypes_inverts_the_phased_codes():
    rng = np.random.default_rng(3)
    g = rng.integers(0, 2, size=(4, 30, 2)).astype(np.int8)  # (samples, SNPs, 2)
    g[0, 3] = -1
    codes = np.where(g.min(axis=2) < 0, -1, 2 * g[..., 0] + g[..., 1]).astype(np.int8)
    haps = split_haplotypes(codes)
    np.testing.assert_array_equal(haps[0::2], g[..., 0])
    np.testing.assert_array_equal(haps[1::2], g[..., 1])


def test_auc_matches_sklearn_with_ties_and_nan():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(4)
    pos, neg = rng.integers(0, 6, 40).astype(float), rng.integers(0, 5, 55).astype(float)  # many ties
    assert auc(pos, neg) == pytest.approx(roc_auc_score(np.r_[np.ones(40), np.zeros(55)], np.r_[pos, neg]))
    kept_pos, kept_neg = np.delete(pos, 3), np.delete(neg, 7)
    pos[3], neg[7] = np.nan, np.inf
    assert auc(pos, neg) == pytest.approx(roc_auc_score(np.r_[np.ones(39), np.zeros(54)], np.r_[kept_pos, kept_neg]))
    assert auc(np.array([2.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(0.5)
    assert auc(np.array([np.nan]), neg) is None


def test_frequency_lr_scores_match_the_naive_sum():
    rng = np.random.default_rng(5)
    x, s, r = (rng.integers(0, 3, size=(k, 25)).astype(np.int8) for k in (6, 11, 9))
    x[0, :4], s[:3, 5], r[2, 6] = -1, -1, -1
    expect = [naive_frequency_lr(row, s, r) for row in x]
    np.testing.assert_allclose(frequency_lr_scores(x, s, r), expect, rtol=1e-10)


# ---------------------------------------------------------------- known answers on a simulated cohort

@pytest.fixture(scope="module")
def sets():
    """Per population: members, held-out, a third real set and iid draws from member frequencies,
    as (dosage, haplotypes), over the common SNPs of a 1 Mb msprime cohort."""
    sim = simulate_cohort(n_per_pop=N_TRAIN + N_HOLDOUT + N_THIRD, length=1e6, max_snps=100_000, seed=11)
    freq = sim.genotypes.mean(axis=(1, 2))
    g = sim.genotypes[(freq >= 0.05) & (freq <= 0.95)]
    labels, rng = np.array(sim.populations), np.random.default_rng(0)
    out = {}
    for pop in POPULATIONS:
        haps = np.ascontiguousarray(g[:, labels == pop].transpose(1, 0, 2))  # (samples, SNPs, 2)
        members, holdout, third = np.split(haps, [N_TRAIN, N_TRAIN + N_HOLDOUT])
        p = members.mean(axis=(0, 2))
        iid = (rng.random((N_THIRD, len(p), 2)) < p[None, :, None]).astype(np.int8)
        out[pop] = {name: (h.sum(axis=2).astype(np.int8), np.ascontiguousarray(h.transpose(0, 2, 1).reshape(-1, len(p))))
                    for name, h in (("members", members), ("holdout", holdout), ("third", third), ("iid", iid))}
    return out


_AUDITS = {}


def audit(sets, pop, synthetic, seed=1):
    """``population_audit`` of one population with ``synthetic`` as its synthetic set (computed once)."""
    key = (pop, synthetic, seed)
    if key not in _AUDITS:
        _AUDITS[key] = _audit(sets, pop, synthetic, seed)
    return _AUDITS[key]


def _audit(sets, pop, synthetic, seed):
    s = sets[pop]
    return population_audit(s["members"][0], s["holdout"][0], s[synthetic][0], limits=m.LIMITS,
                            haplotypes=(s["members"][1], s["holdout"][1], s[synthetic][1]),
                            rng=np.random.default_rng(seed))


def inside(interval, value):
    return interval[0] <= value <= interval[1]


@pytest.mark.parametrize("pop", POPULATIONS)
def test_copies_of_training_genomes(sets, pop):
    a = audit(sets, pop, "members")
    n_snps = sets[pop]["members"][0].shape[1]
    assert a["n"] == N_TRAIN and a["n_holdout"] == N_HOLDOUT and a["mia_reference_n"] == N_HOLDOUT - N_TRAIN
    assert a["aa_ts_train"] == 0 and a["aa_ts_train_interval"] == [0, 0]  # every genome's copy is its neighbour
    assert abs(a["aa_ts_holdout"] - 0.5) < 0.15
    assert a["privacy_loss"] == a["aa_ts_holdout"] > 0.35 and a["privacy_loss_interval"][0] > 0.25
    assert a["mia_nearest_auc"] == 1 and a["mia_nearest_auc_interval"] == [1, 1]
    assert a["mia_frequency_lr_auc"] > 0.55 and a["mia_frequency_lr_auc_interval"][0] > 0.5
    assert a["exact_copy_fraction"] == 1 and a["dcr_ratio"] == 0 and a["dcr_ratio_interval"] == [0, 0]
    assert a["longest_shared_run_snps"] == n_snps > a["longest_shared_run_holdout"]
    assert a["max_kinship"] == pytest.approx(0.5) and a["first_degree_fraction"] == 1
    assert a["first_degree_fraction_holdout"] < 1
    segments = a["shared_segment_snps"]
    assert segments["synthetic"] == {"median": n_snps, "p90": n_snps, "max": n_snps, "mean": n_snps,
                                     "segments": 2 * N_TRAIN, "haplotypes": 2 * N_TRAIN}
    assert segments["holdout"]["median"] < n_snps / 4 and segments["holdout"]["haplotypes"] == 2 * N_TRAIN


@pytest.mark.parametrize("pop", POPULATIONS)
def test_a_third_real_set_leaks_nothing(sets, pop):
    a = audit(sets, pop, "third")
    for key in ("aa_ts_train", "aa_ts_holdout", "mia_nearest_auc", "mia_frequency_lr_auc"):
        lo, hi = a[f"{key}_interval"]
        assert abs(a[key] - 0.5) < 0.15 and lo <= a[key] <= hi, key
        assert lo <= 0.55 and hi >= 0.45, key  # 0.5 inside the interval, or within 0.05 of it
    assert abs(a["privacy_loss"]) < 0.15 and inside(a["privacy_loss_interval"], 0)
    assert 0.85 < a["dcr_ratio"] < 1.15
    assert a["exact_copy_fraction"] < 0.05  # over 1 Mb, two real genomes may be identical by descent
    held, synth = a["shared_segment_snps"]["holdout"], a["shared_segment_snps"]["synthetic"]
    assert 1 / 4 < synth["mean"] / held["mean"] < 4  # real genomes share like real genomes


@pytest.mark.parametrize("pop", POPULATIONS)
def test_independent_snps_share_only_short_segments(sets, pop):
    a = audit(sets, pop, "iid")
    synth, held = a["shared_segment_snps"]["synthetic"], a["shared_segment_snps"]["holdout"]
    assert synth["median"] <= 5 and synth["p90"] <= 20 and synth["mean"] < 10
    assert held["median"] > 3 * synth["median"] and held["mean"] > 20 * synth["mean"]
    assert synth["segments"] > 10 * held["segments"]
    assert a["longest_shared_run_snps"] < a["longest_shared_run_holdout"] / 5
    assert a["max_kinship"] < m.FIRST_DEGREE < a["max_kinship_holdout"]
    assert a["dcr_ratio"] > 1.2 and a["exact_copy_fraction"] == 0
    # the frequency attack sees allele frequencies only: these are the copies' frequencies, drawn again
    assert a["mia_frequency_lr_auc"] == pytest.approx(audit(sets, pop, "members")["mia_frequency_lr_auc"], abs=0.06)


def test_subsets_are_equal_sized_random_and_seeded(sets):
    s = sets["AFR"]
    a = population_audit(s["members"][0][:40], s["holdout"][0][:50], s["third"][0], limits=m.LIMITS,
                         haplotypes=None, rng=np.random.default_rng(2))
    assert (a["n"], a["n_members"], a["n_holdout"], a["n_synthetic"]) == (40, 40, 50, 60)
    assert a["mia_frequency_lr_n"] == 20 and a["mia_reference_n"] == 20  # 10 left over < 40 / 2: split
    assert a["shared_segment_snps"] is None
    capped = population_audit(s["members"][0], s["holdout"][0], s["third"][0], haplotypes=None,
                              limits={**m.LIMITS, "audit_genomes": 25}, rng=np.random.default_rng(2))
    assert capped["n"] == 25 and capped["mia_reference_n"] == N_HOLDOUT - 25
    assert _audit(sets, "AFR", "third", 1) == audit(sets, "AFR", "third") != _audit(sets, "AFR", "third", 2)
    assert population_audit(s["members"][0][:1], s["holdout"][0], s["third"][0], haplotypes=None,
                            limits=m.LIMITS, rng=np.random.default_rng(0)) is None


# ---------------------------------------------------------------- in the report and metrics.json

AUDIT_KEYS = {"n", "n_members", "n_holdout", "n_synthetic", "aa_ts_train", "aa_ts_train_interval", "aa_ts_holdout",
              "aa_ts_holdout_interval", "privacy_loss", "privacy_loss_interval", "mia_synthetic_n",
              "mia_nearest_auc", "mia_nearest_auc_interval", "mia_frequency_lr_n", "mia_reference_n",
              "mia_frequency_lr_auc", "mia_frequency_lr_auc_interval", "dcr_ratio", "dcr_ratio_interval",
              "exact_copy_fraction", "longest_shared_run_snps", "longest_shared_run_holdout", "max_kinship",
              "first_degree_fraction", "max_kinship_holdout", "first_degree_fraction_holdout", "shared_segment_snps"}
POOLED_KEYS = {"exact_copy_fraction", "n_holdout", "aa_ts", "dcr_ratio", "membership_auc", "longest_shared_run_snps",
               "longest_shared_run_holdout", "max_kinship", "first_degree_fraction", "max_kinship_holdout",
               "first_degree_fraction_holdout", "per_population", "concerns"}


def test_metrics_json_has_the_audit_per_population(tmp_path, sim_cohort):
    import json

    real = sim_cohort
    eas = np.flatnonzero(real.samples.populations == "EAS")
    train_rows = np.union1d(np.arange(0, real.n_samples, 2), eas)  # every EAS genome trained on: no audit
    train = real.take_samples(train_rows)
    met, _, notes = compute_metrics(real, train, train, seed=1)
    write_metrics_json(tmp_path, met)
    privacy = json.loads((tmp_path / "metrics.json").read_text())["privacy"]
    assert set(privacy) == POOLED_KEYS
    assert set(privacy["per_population"]) == {"AFR", "EUR"}
    for pop, a in privacy["per_population"].items():
        assert set(a) == AUDIT_KEYS, pop
        assert a["n"] == 10 and a["n_holdout"] == 10 and a["exact_copy_fraction"] == 1
        assert a["mia_nearest_auc"] > 0.9 and a["aa_ts_train"] < 0.1  # 200 mostly rare SNPs: some twins
        for key in AUDIT_KEYS:
            if key.endswith("_interval"):
                assert len(a[key]) == 2 and a[key][0] <= a[key][1], key
        assert set(a["shared_segment_snps"]) == {"synthetic", "holdout"}
    pooled = [c for c in privacy["concerns"] if not c.startswith(("AFR:", "EUR:"))]
    assert len(pooled) == 5 and len(privacy["concerns"]) == 7
    assert privacy["concerns"][5].startswith("AFR: training genomes can be told from held-out genomes of the same "
                                             "population (distance to the nearest synthetic genome: AUC 0.95")
    assert not any(n.startswith("EAS") for n in notes)  # no held-out EAS genome: simply not audited


def test_unphased_cohorts_have_no_segment_signature(sim_cohort):
    real = replace(sim_cohort, phased=np.zeros_like(sim_cohort.phased))
    train = real.take_samples(np.arange(0, real.n_samples, 2))
    met, _, notes = compute_metrics(real, train, train, seed=1)
    assert all(a["shared_segment_snps"] is None for a in met["privacy"]["per_population"].values())
    assert "the cohorts are not all phased: no haplotype-sharing signature (shared_segment_snps is null)" in notes


def test_population_concern_fires_above_its_threshold():
    base = {"n": 100, "mia_nearest_auc": 0.58, "mia_frequency_lr_auc": 0.6}
    assert concerns({"per_population": {"SAS": base}}) == []
    (text,) = concerns({"per_population": {"SAS": {**base, "mia_frequency_lr_auc": 0.66}, "EAS": base}})
    assert text == ("SAS: training genomes can be told from held-out genomes of the same population "
                    "(allele-frequency likelihood ratio: AUC 0.66; n 100 each) > 0.6: membership leaks within "
                    "the population")
    both = concerns({"per_population": {"AFR": {**base, "mia_nearest_auc": 0.72, "mia_frequency_lr_auc": None}}})
    assert both == ["AFR: training genomes can be told from held-out genomes of the same population (distance to "
                    "the nearest synthetic genome: AUC 0.72; n 100 each) > 0.6: membership leaks within the "
                    "population"]


def test_page_shows_the_audit_per_population(tmp_path):
    from ogan_vcf.reporting.html import write_report

    row = {"n": 100, "aa_ts_train": 0.77, "aa_ts_train_interval": [0.715, 0.825], "aa_ts_holdout": 0.86,
           "aa_ts_holdout_interval": [0.815, 0.905], "privacy_loss": 0.09, "privacy_loss_interval": [0.015, 0.165],
           "mia_nearest_auc": 0.715, "mia_nearest_auc_interval": [0.648, 0.779], "mia_frequency_lr_auc": 0.52,
           "mia_frequency_lr_auc_interval": [0.45, 0.6], "dcr_ratio": 1.114, "dcr_ratio_interval": [1.09, 1.145],
           "exact_copy_fraction": 0.0, "max_kinship": 0.19, "max_kinship_holdout": 0.277,
           "first_degree_fraction": 0.03, "first_degree_fraction_holdout": 0.33, "longest_shared_run_snps": 812,
           "longest_shared_run_holdout": 1815,
           "shared_segment_snps": {"synthetic": {"median": 192.0}, "holdout": {"median": 225.0}}}
    privacy = {"exact_copy_fraction": 0.0, "aa_ts": 0.77, "membership_auc": 0.52, "n_holdout": 1200,
               "per_population": {"AFR": row, "EAS": {**row, "shared_segment_snps": None}}, "concerns": []}
    text = write_report(tmp_path, {"privacy": privacy}, {}, title="t", notes=[], inputs={}).read_text()
    table = text[text.index('id="privacy-populations"'):text.index("Pooled over all populations</h3>")]
    assert table.count("<tr>") == 3 and "<td>AFR</td>" in table and "<td>EAS</td>" in table
    def cell(rating, value, interval):
        return f'<td class="{rating}">{value}<br><small style="white-space: nowrap">{interval}</small></td>'

    assert cell("bad", "0.715", "0.648–0.779") in table  # membership AUC > 0.6: red
    assert cell("good", "0.520", "0.450–0.600") in table
    assert cell("warn", "0.090", "0.015–0.165") in table  # privacy loss > 0.05: amber
    assert cell("warn", "0.770", "0.715–0.825") in table  # AA_TS > 0.6: amber
    assert "0.190 (0.277)" in table and "3% (33%)" in table and "812 (1,815)" in table
    assert "<td>192 (225)</td>" in table and "<td>n/a</td>" in table
    pooled = text[text.index("Pooled over all populations</h3>"):]
    assert "per_population" not in pooled and "Held-out genomes" in pooled
    assert "Privacy (pooled)" in text and 'href="#privacy-populations"' in text


def test_cli_report_prints_the_audit_per_population(tmp_path, monkeypatch, sim_h5, sim_cohort):
    import json

    from typer.testing import CliRunner

    from ogan_vcf import cli
    from ogan_vcf.cli import app
    from ogan_vcf.cohort import save

    monkeypatch.setattr(cli.console, "_width", 200)  # one table row per line
    monkeypatch.setattr(cli.console, "_height", 50)
    train = tmp_path / "train.h5"
    save(sim_cohort.take_samples(np.arange(0, sim_cohort.n_samples, 2)), train)
    r = CliRunner().invoke(app, ["report", str(sim_h5), str(train), "--train", str(train), "-o", str(tmp_path / "r"),
                                 "--no-progress"], terminal_width=200)
    assert r.exit_code == 0, r.output
    audits = json.loads((tmp_path / "r" / "metrics.json").read_text())["privacy"]["per_population"]
    words = " ".join(r.output.split())  # a table's title wraps at the table's width
    assert "privacy audit (pooled over populations)" in words
    assert "privacy audit within each population (95% intervals)" in words
    for pop, a in audits.items():
        cells = [f"{a[k]:.2f} [{a[k + '_interval'][0]:.2f},{a[k + '_interval'][1]:.2f}]"
                 for k in ("privacy_loss", "mia_nearest_auc", "mia_frequency_lr_auc")]
        line = [line for line in r.output.splitlines() if line.startswith(f"│ {pop} ")][-1]  # the last table
        assert all(c in line for c in cells), (line, cells)
        assert f"privacy concern: {pop}: training genomes can be told from held-out genomes" in words
