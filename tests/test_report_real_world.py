"""Report on real-world input: REF/ALT swapped by PLINK, missing calls, several contigs (issue 11)."""

import importlib.util
import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner
from util import write_panel_text, write_vcf_text

from ogan_vcf.cli import app
from ogan_vcf.errors import InputError
from ogan_vcf.reporting import compute_metrics, html, match_sites
from ogan_vcf.reporting import metrics as m
from ogan_vcf.reporting.sites import align

# ---------------------------------------------------------------- helpers (written the obvious way)

def swap_sites(cohort, sites):
    """The cohort with REF and ALT swapped at ``sites``, alleles and genotypes, as PLINK 1.9 may write it."""
    allele = cohort.variant_allele.copy()
    allele[sites] = allele[sites][:, ::-1]
    g = cohort.genotypes.copy()
    g[sites] = np.where(g[sites] < 0, -1, 1 - g[sites])
    return replace(cohort, variant_allele=allele, genotypes=g)


def with_missing(cohort, rate, seed):
    """The cohort with a share ``rate`` of its calls (both haplotypes) set missing."""
    g = cohort.genotypes.copy()
    g[np.random.default_rng(seed).random(g.shape[:2]) < rate] = -1
    return replace(cohort, genotypes=g)


def dosages(seed, shape=(23, 150), missing=0.2):
    """Random int8 dosages (samples, SNPs) with a share of -1, one all-missing row and two disjoint rows."""
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 3, size=shape).astype(np.int8)
    d[rng.random(shape) < missing] = -1
    d[0] = -1
    d[1, shape[1] // 2:] = -1
    d[2, :shape[1] // 2] = -1
    return d


def naive_distance(x, y):
    """Allele mismatch fraction over the SNPs called in both; NaN when there are none."""
    both = (x >= 0) & (y >= 0)
    return np.abs(x[both].astype(int) - y[both]).sum() / (2 * both.sum()) if both.any() else np.nan


def naive_king(x, y):
    """plink2's KING-robust kinship from its own counts, over the SNPs called in both."""
    both = (x >= 0) & (y >= 0)
    x, y = x[both], y[both]
    hethet = np.sum((x == 1) & (y == 1))
    ibs0 = np.sum(np.abs(x.astype(int) - y) == 2)
    het1hom2, het2hom1 = np.sum((x == 1) & (y != 1)), np.sum((x != 1) & (y == 1))
    smaller_het = hethet + min(het1hom2, het2hom1)
    return 0.5 - (4 * ibs0 + het1hom2 + het2hom1) / (4 * smaller_het) if smaller_het else np.nan


def dosage_of(genotypes):
    """(V, S, 2) allele indices -> (S, V) ALT counts, -1 where either haplotype is missing."""
    return np.where(genotypes.min(axis=2) < 0, -1, genotypes.sum(axis=2)).T.astype(np.int8)


def plain(metrics):
    """Metrics without the site counts, NaN as None (as metrics.json has them)."""
    return html._plain({k: v for k, v in metrics.items() if k != "sites"})


@pytest.fixture(scope="module")
def real(sim_cohort):
    return sim_cohort


@pytest.fixture(scope="module")
def synthetic(real):
    """Independent SNPs at each population's frequencies, 10% of calls missing."""
    rng = np.random.default_rng(5)
    g = np.empty_like(real.genotypes)
    for pop in ("AFR", "EUR", "EAS"):
        cols = np.flatnonzero(real.samples.populations == pop)
        p = real.genotypes[:, cols].mean(axis=(1, 2))
        g[:, cols] = rng.random((len(p), len(cols), 2)) < p[:, None, None]
    samples = replace(real.samples, ids=np.array([f"SYN_{i}" for i in range(real.n_samples)], dtype=object))
    return with_missing(replace(real, genotypes=g, samples=samples), 0.1, seed=6)  # names no real person


# ---------------------------------------------------------------- 1. REF/ALT swaps

def test_match_sites_pairs_swapped_alleles_and_counts_what_differs(real):
    other = swap_sites(real, [4, 9])
    allele = other.variant_allele.copy()
    allele[20] = [allele[20, 0], "N" if allele[20, 1] != "N" else "X"]  # same CHROM:POS, other ALT
    keep = np.r_[0:150, 160:200]  # sites 150-159 only in the first cohort
    other = replace(other, variant_allele=allele[keep], variant_contig=other.variant_contig[keep],
                    variant_position=other.variant_position[keep], variant_id=other.variant_id[keep],
                    genotypes=other.genotypes[keep], phased=other.phased[keep])
    match = match_sites(real, other, names=("real", "synthetic"))
    expect = np.setdiff1d(np.arange(200), np.r_[20, 150:160])
    np.testing.assert_array_equal(match.a, expect)
    np.testing.assert_array_equal(keep[match.b], expect)
    np.testing.assert_array_equal(match.a[match.flip], [4, 9])
    assert match.counts == {"shared": 189, "flipped": 2, "allele_mismatch": 1, "unmatched_real": 10,
                            "unmatched_synthetic": 0}
    back = match_sites(other, real, names=("synthetic", "real"))
    assert back.counts["unmatched_real"] == 10 and back.counts["shared"] == 189


def test_match_sites_prefers_same_order_and_uses_each_site_once(real):
    pick = np.r_[0, 0, 1]  # site 0 swapped, site 0 as is, site 1 swapped
    allele = real.variant_allele[pick].copy()
    allele[[0, 2]] = allele[[0, 2]][:, ::-1]
    a = replace(real, variant_contig=real.variant_contig[pick], variant_position=real.variant_position[pick],
                variant_id=real.variant_id[pick], variant_allele=allele, genotypes=real.genotypes[pick],
                phased=real.phased[pick])
    match = match_sites(a, real)
    np.testing.assert_array_equal(match.a, [1, 2])  # real's site 0 goes to the copy in the same order
    np.testing.assert_array_equal(match.b, [0, 1])
    np.testing.assert_array_equal(match.flip, [False, True])
    assert match.counts == {"shared": 2, "flipped": 1, "allele_mismatch": 1, "unmatched_a": 0, "unmatched_b": 198}


def test_swapped_synthetic_and_training_sites_give_the_same_metrics(real, synthetic):
    train = real.take_samples(np.arange(0, real.n_samples, 2))
    swapped = np.arange(3, real.n_variants, 4)
    base, _, _ = compute_metrics(real, synthetic, train, seed=1)
    met, _, notes = compute_metrics(real, swap_sites(synthetic, swapped), swap_sites(train, swapped), seed=1)
    assert met["sites"] == {**base["sites"], "flipped": len(swapped)}
    assert met["sites"]["shared"] == real.n_variants and met["encoding"] == "phased-4"
    assert plain(met) == plain(base)  # MAF, LD, distances, GMM on phased codes, privacy: all alike
    assert 0.5 < met["overall"]["maf_r"] < 1 and met["privacy"]["exact_copy_fraction"] == 0
    assert any(n.startswith(f"{len(swapped)} shared sites have REF and ALT swapped in the synthetic") for n in notes)
    assert any(n.startswith(f"{len(swapped)} shared sites have REF and ALT swapped in the training") for n in notes)


def test_unmatched_sites_are_counted_and_noted(real):
    allele = real.variant_allele.copy()
    allele[:5, 1] = np.where(allele[:5, 1] == "N", "X", "N")
    synth = replace(real, variant_allele=allele)
    met, _, notes = compute_metrics(real, synth, seed=1)
    assert met["sites"] == {"real": 200, "synthetic": 200, "shared": 195, "flipped": 0, "allele_mismatch": 5,
                            "unmatched_real": 0, "unmatched_synthetic": 0}
    assert "left out of the comparison: 5 real sites whose CHROM:POS the synthetic cohort has with other " \
           "alleles" in notes


def test_a_training_cohort_must_cover_the_shared_sites(real):
    allele = real.variant_allele.copy()
    allele[:5, 1] = np.where(allele[:5, 1] == "N", "X", "N")
    train = replace(real, variant_allele=allele, path="train.h5")
    with pytest.raises(InputError, match=re.escape("train.h5: the training cohort lacks 5 of the report's shared "
                                                   "sites; it must cover the real cohort's sites")):
        compute_metrics(real, real, train, seed=1)


def test_align_puts_a_swapped_cohort_on_the_reference_sites(real):
    order = np.r_[100:200, 0:100]
    other = swap_sites(real, [1, 150])
    other = replace(other, variant_contig=other.variant_contig[order], variant_position=other.variant_position[order],
                    variant_id=other.variant_id[order], variant_allele=other.variant_allele[order],
                    genotypes=other.genotypes[order], phased=other.phased[order])
    aligned, match = align(real, other)
    assert match.counts["flipped"] == 2
    np.testing.assert_array_equal(aligned.genotypes, real.genotypes)
    np.testing.assert_array_equal(aligned.variant_allele, real.variant_allele)
    np.testing.assert_array_equal(aligned.variant_position, real.variant_position)


def load_bench(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_imputation_bench_aligns_swapped_cohorts_to_training(real):
    bench = load_bench("imputation")
    aligned, changed = bench.on_training_sites(real, swap_sites(real, [7]), "other.bed")
    assert changed
    np.testing.assert_array_equal(aligned.genotypes, real.genotypes)
    assert bench.on_training_sites(real, real, "same.h5")[1] is False
    with pytest.raises(SystemExit, match="has 199 of the training cohort's 200 SNPs"):
        bench.on_training_sites(real, replace(real, variant_allele=np.where(
            np.arange(200)[:, None] == 0, "N", real.variant_allele)), "other.vcf.gz")


@pytest.fixture(scope="module")
def vcf_and_minor_a1_bed(tmp_path_factory, sim):
    """The simulated cohort as VCF and as a PLINK set with the minor allele as A1 (PLINK 1.9's order)."""
    from bed_reader import to_bed

    d = tmp_path_factory.mktemp("plink_order")
    vcf = write_vcf_text(d / "sim.vcf", sim)
    panel = write_panel_text(d / "sim.panel", sim.samples, sim.populations)
    alt = sim.genotypes.sum(axis=2).astype(np.float32)  # (V, S)
    alt_major = alt.mean(axis=1) > 1
    minor = np.where(alt_major[:, None], 2 - alt, alt).T
    to_bed(d / "minor.bed", minor, properties={
        "iid": sim.samples, "sid": sim.ids, "chromosome": [sim.contig] * len(sim.ids),
        "bp_position": sim.positions, "allele_1": np.where(alt_major, sim.ref, sim.alt),
        "allele_2": np.where(alt_major, sim.alt, sim.ref)})
    return vcf, d / "minor.bed", panel, int(alt_major.sum())


def test_report_of_a_vcf_against_its_minor_allele_plink_set_matches_every_site(tmp_path, vcf_and_minor_a1_bed):
    vcf, bed, panel, n_swapped = vcf_and_minor_a1_bed
    assert n_swapped > 0
    r = CliRunner().invoke(app, ["report", str(vcf), str(bed), "--panel", str(panel), "--synth-panel", str(panel),
                                 "--train", str(bed), "--train-panel", str(panel), "-o", str(tmp_path),
                                 "--no-progress"], terminal_width=200)
    assert r.exit_code == 0, r.output
    met = json.loads((tmp_path / "metrics.json").read_text())
    assert met["sites"] == {"real": 200, "synthetic": 200, "shared": 200, "flipped": n_swapped,
                            "allele_mismatch": 0, "unmatched_real": 0, "unmatched_synthetic": 0}
    assert met["overall"]["maf_r"] == pytest.approx(1) and met["overall"]["maf_rmse"] == 0
    assert met["overall"]["ld_r"] == pytest.approx(1)
    assert met["privacy"]["exact_copy_fraction"] == 1.0  # the same genomes, once flipped back
    assert f"shared sites 200 of 200 real, {n_swapped} with REF/ALT flipped" in r.output
    assert f"{n_swapped} shared sites have REF and ALT swapped in the synthetic cohort" in " ".join(r.output.split())


# ---------------------------------------------------------------- 2. missing calls in distances

def test_nearest_distances_use_only_sites_called_in_both():
    a, b = dosages(1), dosages(2, shape=(31, 150))
    naive = np.array([[naive_distance(x, y) for y in b] for x in a])
    expect = np.array([np.nanmin(row) if np.isfinite(row).any() else np.nan for row in naive])
    assert np.isnan(expect[0]) and np.isfinite(expect[1:]).all()
    for chunk_bytes in (256 << 20, 3000):  # one block; many blocks of a and of b
        np.testing.assert_allclose(m.nearest_distances(a, b, chunk_bytes=chunk_bytes), expect, rtol=1e-6)
    self_naive = np.array([[naive_distance(x, y) if i != j else np.nan for j, y in enumerate(a)]
                           for i, x in enumerate(a)])
    self_expect = np.array([np.nanmin(row) if np.isfinite(row).any() else np.nan for row in self_naive])
    np.testing.assert_allclose(m.nearest_distances(a, a, same=True, chunk_bytes=3000), self_expect, rtol=1e-6)
    assert np.isnan(naive_distance(a[1], a[2]))  # disjoint calls: no distance, never the nearest


def test_distances_without_missing_calls_keep_their_values():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 3, size=(9, 40)).astype(np.int8), rng.integers(0, 3, size=(12, 40)).astype(np.int8)
    expect = [min(naive_distance(x, y) for y in b) for x in a]
    np.testing.assert_allclose(m.nearest_distances(a, b, chunk_bytes=500), expect, rtol=1e-6)
    pairs = [naive_distance(a[i], a[j]) for i in range(9) for j in range(i + 1, 9)]
    assert m.mean_pairwise_distance(a) == pytest.approx(np.mean(pairs))


def test_mean_pairwise_distance_skips_incomparable_pairs():
    d = dosages(4)
    pairs = [naive_distance(d[i], d[j]) for i in range(len(d)) for j in range(i + 1, len(d))]
    assert m.mean_pairwise_distance(d) == pytest.approx(np.nanmean(pairs))
    assert m.mean_pairwise_distance(d, chunk_bytes=2000) == pytest.approx(np.nanmean(pairs))
    assert m.mean_pairwise_distance(d[[0, 1]]) is None


def test_king_robust_with_missing_calls_matches_plink2_definition():
    a, b = dosages(5, missing=0.15), dosages(6, shape=(17, 150), missing=0.15)
    naive = np.array([[naive_king(x, y) for y in b] for x in a])
    np.testing.assert_allclose(m.king_robust(a, b), naive, rtol=1e-9, atol=1e-12)
    best = m.king_robust_max(a, b, chunk=5)
    assert np.isnan(best[0])  # no call at all: no kinship
    np.testing.assert_allclose(best[1:], np.nanmax(naive[1:], axis=1))
    x, y = np.array([[1, 1, 0, 2, -1, 1]], np.int8), np.array([[1, 0, 2, 2, 1, -1]], np.int8)
    # both called at the first four: hethet 1, ibs0 1, het1hom2 1, het2hom1 0 -> 0.5 - (4 + 1) / (4 * 1)
    assert m.king_robust(x, y)[0, 0] == pytest.approx(-0.75)
    unequal = np.array([[1, 1, 1, 1, 1, 0, 2, 0, 2, 0]], np.int8), np.array([[1, 1, 0, 2, 0, 0, 2, 0, 2, 0]], np.int8)
    assert m.king_robust(*unequal)[0, 0] == pytest.approx(0.125)  # between-family: min het count below


def test_report_with_missing_calls_and_an_uncalled_genome(tmp_path, real, synthetic):
    from ogan_vcf.reporting.plots import save_figures

    g = synthetic.genotypes.copy()
    g[:, 0] = -1  # one synthetic genome with no call at all
    synth = replace(synthetic, genotypes=g)
    train = real.take_samples(np.arange(0, real.n_samples, 2))
    met, plot, _ = compute_metrics(with_missing(real, 0.05, seed=8), synth, with_missing(train, 0.05, seed=9),
                                   seed=1)
    assert np.isnan(plot.dcr_synthetic[0]) and np.isfinite(plot.dcr_synthetic[1:]).all()
    assert np.isnan(plot.kinship[0]) and np.isfinite(plot.kinship[1:]).all()
    p = met["privacy"]
    for key in ("dcr_ratio", "aa_ts", "membership_auc", "max_kinship", "first_degree_fraction"):
        assert p[key] is not None and np.isfinite(p[key]), key
    assert 0 < met["overall"]["diversity_ratio"] < 2
    assert {"dcr", "kinship"} <= set(save_figures(plot, tmp_path))


# ---------------------------------------------------------------- 3. one kinship threshold

def test_kinship_threshold_comes_from_one_constant(monkeypatch):
    from ogan_vcf import reporting as report

    privacy = {"max_kinship": 0.25, "first_degree_fraction": 0.5, "first_degree_fraction_holdout": None}
    (text,) = report.concerns(privacy)
    assert f"KING kinship >= {m.FIRST_DEGREE}," in text
    assert html._rating("max_kinship", 0.25, privacy) == "bad"
    monkeypatch.setattr(m, "FIRST_DEGREE", 0.3)
    assert report.concerns(privacy) == []
    assert html._rating("max_kinship", 0.25, privacy) == "warn"
    monkeypatch.setattr(m, "FIRST_DEGREE", 0.2)
    assert "KING kinship >= 0.2," in report.concerns(privacy)[0]


# ---------------------------------------------------------------- 4. contigs

def two_contigs(cohort, n_first):
    """The cohort's first ``n_first`` SNPs on contig 1 and all of its SNPs again on contig 2 (same positions)."""
    pick = np.r_[0:n_first, 0:cohort.n_variants]
    contig = np.r_[np.zeros(n_first, np.int32), np.ones(cohort.n_variants, np.int32)]
    g = cohort.genotypes[pick]
    g[n_first:] = g[n_first:, ::-1]  # other genomes on contig 2, so its LD differs
    return replace(cohort, contig_id=["1", "2"], contig_length=[-1, -1], variant_contig=contig,
                   variant_position=cohort.variant_position[pick], variant_id=cohort.variant_id[pick],
                   variant_allele=cohort.variant_allele[pick], genotypes=g, phased=cohort.phased[pick])


def test_ld_heatmap_window_stays_on_one_contig(real):
    cohort = two_contigs(real, 120)
    _, plot, _ = compute_metrics(cohort, cohort, seed=1)
    assert plot.ld_real.shape == (120, 120)
    assert plot.ld_window.startswith("SNPs 1-120 of the shared sites (1:")
    _, plot, _ = compute_metrics(cohort, cohort, ld_window=(100, 320), seed=1)
    assert plot.ld_real.shape == (20, 20)  # a window handed in is cut at the contig's end


def test_ld_region_window_selects_one_contig(real):
    from ogan_vcf.io import Region
    from ogan_vcf.reporting import _window

    cohort = two_contigs(real, 120)
    start, stop = _window(cohort, cohort, Region.parse(f"2:1-{cohort.variant_position.max()}"))
    assert (start, stop) == (120, 320) and set(cohort.variant_contig[start:stop]) == {1}
    with pytest.raises(InputError, match="^the LD heatmap region 3:1-100: fewer than 2 shared SNPs inside$"):
        _window(cohort, cohort, Region.parse("3:1-100"))


@pytest.mark.parametrize("first", [0, 1])
def test_near_pairs_never_join_two_contigs_with_overlapping_positions(first):
    n, rng = 300, np.random.default_rng(0)
    contig = np.r_[np.full(n, first), np.full(n, 1 - first)].astype(np.int32)
    offsets = np.sort(rng.choice(200_000, n, replace=False))
    position = np.r_[10_000_000 + offsets, 10_000_000 + offsets].astype(np.int64)
    naive = {(i, j) for i in range(2 * n) for j in range(i + 1, min(2 * n, i + n))
             if contig[i] == contig[j] and position[j] - position[i] <= 5_000}
    i, j = m.near_pairs(contig, position, 5_000, 10**7, rng)
    assert set(zip(i.tolist(), j.tolist())) == naive and len(i) == len(naive)
    draws = [m.near_pairs(contig, position, 5_000, len(naive) - 1, rng) for _ in range(20)]  # sampled
    i, j = np.concatenate([d[0] for d in draws]), np.concatenate([d[1] for d in draws])
    assert len(i) == 20 * (len(naive) - 1)
    assert (contig[i] == contig[j]).all() and (j > i).all() and (position[j] - position[i] <= 5_000).all()
    pairs, counts = np.unique(np.stack([i, j]), axis=1, return_counts=True)
    assert set(zip(*pairs.tolist())) == naive  # every pair is drawn, and about equally often (~20 each)
    assert abs(counts.std() - counts.mean() ** 0.5) < 0.15 * counts.mean() ** 0.5


# ---------------------------------------------------------------- with plink2 (CI installs it)

def _plink2(*args, cwd):
    run = subprocess.run(["plink2", "--threads", "1", *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.tools("plink2")
def test_king_robust_matches_plink2_make_king_table(tmp_path, sim):
    g = sim.genotypes.copy()
    g[np.random.default_rng(11).random(g.shape[:2]) < 0.1] = -1
    missing = replace(sim, genotypes=g)
    vcf = write_vcf_text(tmp_path / "m.vcf", missing)
    _plink2("--vcf", vcf, "--make-king-table", "--out", "m", cwd=tmp_path)
    lines = (tmp_path / "m.kin0").read_text().splitlines()
    head = lines[0].lstrip("#").split("\t")
    rows = [dict(zip(head, line.split("\t"))) for line in lines[1:]]
    id1, id2 = (next(h for h in head if h.endswith(f"ID{k}") and "F" not in h) for k in (1, 2))
    index = {s: i for i, s in enumerate(sim.samples)}
    d = dosage_of(g)
    ours = m.king_robust(d, d)
    assert len(rows) == len(sim.samples) * (len(sim.samples) - 1) // 2
    theirs = np.array([float(r["KINSHIP"]) for r in rows])
    mine = np.array([ours[index[r[id1]], index[r[id2]]] for r in rows])
    defined = np.isfinite(theirs)  # plink2 writes nan/-inf when one genome has no het call: we give NaN
    assert defined.mean() > 0.5
    np.testing.assert_array_equal(np.isnan(mine), ~defined)
    assert np.abs(mine[defined] - theirs[defined]).max() <= 0.01


@pytest.mark.tools("plink2")
def test_report_of_a_vcf_against_plink2_maj_ref_set_matches_every_site(tmp_path, sim):
    vcf = write_vcf_text(tmp_path / "sim.vcf", sim)
    panel = write_panel_text(tmp_path / "sim.panel", sim.samples, sim.populations)
    _plink2("--vcf", vcf, "--maj-ref", "force", "--make-bed", "--out", "maj", cwd=tmp_path)
    alt = sim.genotypes.mean(axis=(1, 2))
    r = CliRunner().invoke(app, ["report", str(vcf), str(tmp_path / "maj.bed"), "--panel", str(panel),
                                 "--synth-panel", str(panel), "-o", str(tmp_path / "r"), "--no-progress"])
    assert r.exit_code == 0, r.output
    sites = json.loads((tmp_path / "r" / "metrics.json").read_text())["sites"]
    assert sites["shared"] == sites["real"] == sites["synthetic"] == 200
    assert 0 < (alt > 0.5).sum() <= sites["flipped"] <= (alt >= 0.5).sum()
    assert sites["unmatched_real"] == sites["unmatched_synthetic"] == sites["allele_mismatch"] == 0


def test_real_genomes_scored_as_synthetic_are_not_their_own_held_out_yardstick(sim_cohort):
    """Held-out = real genomes neither in training nor in the synthetic set: half the held-out
    real genomes scored as synthetic leave the other half as non-members (AUC not forced to 0)."""
    from ogan_vcf.reporting import compute_metrics

    pops = sim_cohort.samples.populations
    train_rows = np.flatnonzero(np.arange(len(pops)) % 3 != 0)
    held = np.flatnonzero(np.arange(len(pops)) % 3 == 0)
    train = sim_cohort.take_samples(train_rows)
    synth = sim_cohort.take_samples(held[::2])
    met, _, _ = compute_metrics(sim_cohort, synth, train, seed=1)
    assert met["privacy"]["n_holdout"] == len(held) - len(held[::2])
