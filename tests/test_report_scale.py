"""The report at scale: junction LD, site sampling past the limits, and reading only the sampled sites."""

from dataclasses import replace

import numpy as np
import pytest

from ogan_vcf.cohort import CohortFile
from ogan_vcf.reporting import compute_baselines, compute_metrics
from ogan_vcf.reporting import metrics as m
from ogan_vcf.reporting.html import write_report
from ogan_vcf.reporting.sampling import find_windows, plan_sites, window_of_sites
from ogan_vcf.reporting.store import Store, gather

SMALL = {"ld_sites": 100, "ld_window_snps": 20, "genome_sites": 50, "privacy_sites": 60, "privacy_run_snps": 20,
         "junctions": 3, "junction_snps": 5}


def linked_haplotypes(n_haplotypes: int, n_snps: int, seed: int, stay: float = 0.9) -> np.ndarray:
    """int8 (haplotypes, SNPs) alleles in strong LD: each SNP copies the previous one with probability ``stay``."""
    rng = np.random.default_rng(seed)
    h = np.empty((n_haplotypes, n_snps), dtype=np.int8)
    h[:, 0] = rng.integers(0, 2, n_haplotypes)
    for v in range(1, n_snps):
        h[:, v] = np.where(rng.random(n_haplotypes) < stay, h[:, v - 1], rng.integers(0, 2, n_haplotypes))
    return h


@pytest.fixture(scope="module")
def two_windows():
    """400 genomes, 200 SNPs 1 kb apart on one contig, generation windows SNPs 1-100 and 101-200."""
    h = linked_haplotypes(800, 200, seed=1)
    dosage = (h[0::2] + h[1::2]).astype(np.int8)
    position = np.arange(200, dtype=np.int64) * 1000 + 1000
    windows = [{"contig": "1", "start": 1000, "stop": 100_000}, {"contig": "1", "start": 101_000, "stop": 200_000}]
    window = window_of_sites(np.full(200, "1", dtype=object), position, windows)
    return dosage, position, window


def test_window_of_sites_and_the_last_windows_record():
    position = np.array([5, 10, 15, 20, 30, 10])
    contig = np.array(["1", "1", "1", "1", "1", "2"], dtype=object)
    windows = [{"contig": "1", "start": 5, "stop": 15}, {"contig": "1", "start": 20, "stop": 25},
               {"contig": "2", "start": 1, "stop": 100}]
    assert window_of_sites(contig, position, windows).tolist() == [0, 0, 0, 1, -1, 2]
    provenance = [{"command": "generate", "parameters": {"windows": [{"contig": "1", "start": 1, "stop": 2}]}},
                  {"command": "generate", "parameters": {"windows": windows}}, {"command": "export", "parameters": {}}]
    assert find_windows(provenance) == windows
    assert find_windows([{"command": "generate", "parameters": {"preset": "tiny"}}]) is None


def test_junction_ld_of_a_copy_is_one_everywhere(two_windows):
    dosage, position, window = two_windows
    out = m.junction_ld(dosage, dosage.copy(), position, np.zeros(200), window, max_distance=10_000,
                        max_pairs=10**6, rng=np.random.default_rng(0))
    # pairs within 10 SNPs: 945 inside each window; across the junction 10 + 9 + ... + 1
    assert out["ld_pairs_within"] == 2 * 945 and out["ld_pairs_junction"] == 55
    assert out["ld_r_within"] == pytest.approx(1.0) and out["ld_r_junction"] == pytest.approx(1.0)
    assert out["ld_junction_ratio"] == pytest.approx(1.0)
    assert out["ld_breaks_per_mb_inside"] == 0 and out["ld_breaks_per_mb_junction"] == 0
    # the control straddles each window's middle (SNP 50 and 150) as the junction pairs straddle SNP 100
    assert out["ld_pairs_midpoint"] == 2 * 55 and out["ld_junction_ratio_matched"] == pytest.approx(1.0)


def test_junction_ld_sees_haplotypes_shuffled_across_the_junction(two_windows):
    dosage, position, window = two_windows
    synthetic = dosage.copy()
    synthetic[:, 100:] = dosage[np.random.default_rng(2).permutation(len(dosage)), 100:]  # window 2, other people
    out = m.junction_ld(dosage, synthetic, position, np.zeros(200), window, max_distance=10_000, max_pairs=10**6,
                        rng=np.random.default_rng(0))
    assert out["ld_r_within"] == pytest.approx(1.0)  # each window is a real window, whole
    assert out["ld_r_junction"] < 0.5 and out["ld_junction_ratio"] < 0.5
    assert out["ld_r_midpoint"] == pytest.approx(1.0) and out["ld_junction_ratio_matched"] < 0.5
    assert out["ld_breaks_per_mb_inside"] == 0 and out["ld_breaks_per_mb_junction"] > 10


def test_junction_pairs_are_sampled_past_the_limit(two_windows):
    dosage, position, window = two_windows
    out = m.junction_ld(dosage, dosage, position, np.zeros(200), window, max_distance=10_000, max_pairs=30,
                        rng=np.random.default_rng(0))
    assert out["ld_pairs_within"] == out["ld_pairs_junction"] == 30


def test_run_pair_r_matches_corrcoef():
    rng = np.random.default_rng(3)
    d = rng.integers(0, 3, size=(50, 300)).astype(np.int8)
    run = np.repeat([0, 1, 2], 100)
    i, j = m.near_pairs(run, np.arange(300), 20, 10**6, rng)
    np.testing.assert_allclose(m.run_pair_r(d, i, j, run, chunk=7), np.corrcoef(d.T.astype(float))[i, j], atol=1e-5)


def windowed(cohort, size: int):
    """``cohort`` as if generated in windows of ``size`` SNPs: genomes shuffled per window within each
    population, and the windows record in its provenance."""
    rng = np.random.default_rng(4)
    g = cohort.genotypes.copy()
    pops = cohort.samples.populations
    windows = []
    for start in range(0, cohort.n_variants, size):
        s = slice(start, start + size)
        for p in np.unique(pops):
            k = np.flatnonzero(pops == p)
            g[s][:, k] = cohort.genotypes[s][:, rng.permutation(k)]
        windows.append({"contig": cohort.contig_id[cohort.variant_contig[start]],
                        "start": int(cohort.variant_position[s][0]), "stop": int(cohort.variant_position[s][-1])})
    record = {"command": "generate", "parameters": {"windows": windows}}
    return replace(cohort, genotypes=g, provenance=[*cohort.provenance, record])


def test_no_windows_record_no_junctions(sim_cohort):
    met, _, _ = compute_metrics(sim_cohort, sim_cohort, seed=1)
    assert "junctions" not in met
    assert not {"ld_sites", "genome_sites", "privacy_sites"} & set(met["sampling"])  # 200 SNPs: every site


def test_junctions_in_metrics_and_page(sim_cohort, tmp_path):
    synth = windowed(sim_cohort, 50)
    met, _, _ = compute_metrics(sim_cohort, synth, seed=1)
    j = met["junctions"]
    assert j["windows"] == 4 and j["junctions"] == 3
    assert set(j["per_population"]) == {"AFR", "EUR", "EAS"}
    for row in (j["overall"], *j["per_population"].values()):
        assert row["ld_pairs_within"] > 0 and row["ld_pairs_junction"] > 0
    pop = j["per_population"]["EUR"]
    assert pop["ld_r_within"] > 0.95 and pop["ld_r_junction"] < pop["ld_r_within"] - 0.3
    page = write_report(tmp_path, met, {}, title="t", notes=[], inputs={}).read_text()
    assert "Windows and junctions" in page and "LD r across junctions" in page
    plain = write_report(tmp_path, compute_metrics(sim_cohort, sim_cohort, seed=1)[0], {}, title="t", notes=[],
                         inputs={}).read_text()
    assert "junction" not in plain.lower()


def test_sampling_limits_kick_in_and_are_reported(sim_cohort, tmp_path):
    train = sim_cohort.take_samples(np.arange(0, 60, 2))
    synth = windowed(sim_cohort, 50)
    full, _, _ = compute_metrics(sim_cohort, synth, train, seed=1)
    met, _, _ = compute_metrics(sim_cohort, synth, train, seed=1, limits=SMALL)
    s = met["sampling"]
    assert s["genome_sites"] == 50
    assert s["privacy_sites"] == 60 and s["privacy_runs"] == 3 and s["privacy_run_snps"] == 20
    assert s["ld_window_snps"] == 20 and 0 < s["ld_sites"] <= 100 and s["ld_windows"] >= 1
    assert s["junctions_sampled"] == 3 and 0 < s["junction_sites"] <= 3 * 2 * 5
    for key in ("maf_r", "maf_rmse", "heterozygosity_ratio", "duplicate_fraction"):  # every site, still
        assert met["overall"][key] == full["overall"][key]
    assert met["privacy"]["exact_copy_fraction"] == full["privacy"]["exact_copy_fraction"]
    assert met["privacy"]["longest_shared_run_snps"] <= 20  # within one run of 20 SNPs
    assert np.isfinite(met["overall"]["ld_r"]) and np.isfinite(met["overall"]["diversity_ratio"])
    page = write_report(tmp_path, met, {}, title="t", notes=[], inputs={}).read_text()
    assert "Not every shared SNP was read" in page and "3 evenly spaced runs of 20 consecutive SNPs" in page


def test_plan_windows_stay_on_one_contig():
    contig = np.repeat([0, 1, 2], [500, 30, 470])
    position = np.concatenate([np.arange(500), np.arange(30), np.arange(470)]) * 100
    plan = plan_sites(contig, position, ["a", "b", "c"], limits={**m.LIMITS, **SMALL}, ld_distance=1000)
    starts = np.flatnonzero(np.diff(plan.ld_run, prepend=-1) != 0)
    for lo, hi in zip(starts, np.r_[starts[1:], len(plan.ld)]):
        assert len(np.unique(contig[plan.ld[lo:hi]])) == 1 and (np.diff(plan.ld[lo:hi]) == 1).all()
    assert len(plan.genome) == 50 and len(plan.privacy) == 60


class Recording(Store):
    """A Store that records the variant indices it is asked to read."""

    def __init__(self, source):
        super().__init__(source)
        self.asked: list[int] = []

    def read(self, index, *, phased=False):
        self.asked += np.asarray(index).tolist()
        return super().read(index, phased=phased)


def test_gather_reads_only_the_sampled_sites(sim_h5, sim_cohort):
    with CohortFile(sim_h5) as f:
        store = Recording(f)
        sites = np.arange(10, 190)  # the shared sites, as store indices
        subsets = {"a": np.array([0, 1, 2, 50]), "b": np.array([100, 170])}
        genomes, _ = gather(store, sites, None, subsets, phased_codes=True, codes_for=("a",), tables=False,
                            digests=False, chunk=32)
        assert sorted(store.asked) == sites[np.r_[subsets["a"], subsets["b"]]].tolist()
        g = sim_cohort.genotypes[sites[subsets["a"]]]
        assert (genomes["a"].dosage == (g[:, :, 0] + g[:, :, 1]).T).all()
        assert (genomes["a"].codes == (2 * g[:, :, 0] + g[:, :, 1]).T).all()
        assert genomes["b"].codes is None and genomes["b"].dosage.shape == (sim_cohort.n_samples, 2)
        store.asked.clear()  # streaming the per-site tables reads every site, but keeps only the subsets
        genomes, tables = gather(store, sites, None, subsets, phased_codes=False, chunk=32)
        assert sorted(store.asked) == sites.tolist() and genomes["a"].dosage.shape == (sim_cohort.n_samples, 4)
        d = (sim_cohort.genotypes[sites].sum(axis=2)).T
        np.testing.assert_array_equal(tables.frequency(), m.allele_frequency(d))
        assert len(set(tables.digest.tolist())) == len(np.unique(d, axis=0))  # equal genomes, equal digests


def test_baselines_at_scale_are_made_in_pieces(sim_cohort):
    train = sim_cohort.take_samples(np.arange(0, 60, 2))
    out, notes = compute_baselines(sim_cohort, sim_cohort, train, seed=1, limits={**SMALL, "genome_sites": 100})
    assert set(out) == {"hybridizer", "heldout"}, notes
    assert out["hybridizer"]["sites"]["shared"] == 200 and out["hybridizer"]["overall"]["n_synthetic"] == 60
    assert out["hybridizer"]["privacy"]["exact_copy_fraction"] == 0
