"""Report metrics with known answers on generated data."""

from dataclasses import replace

import numpy as np
import pytest

from ogan_vcf.errors import InputError
from ogan_vcf.reporting import compute_metrics, match_sites
from ogan_vcf.reporting import metrics as m


@pytest.fixture(scope="module")
def real(sim_cohort):
    return sim_cohort


def with_genotypes(cohort, genotypes):
    return replace(cohort, genotypes=np.ascontiguousarray(genotypes, dtype=np.int8))


def test_identical_cohorts(real):
    met, plot, _ = compute_metrics(real, real, real, seed=1)
    assert met["sites"] == {"real": 200, "synthetic": 200, "shared": 200, "flipped": 0, "allele_mismatch": 0,
                            "unmatched_real": 0, "unmatched_synthetic": 0}
    assert met["overall"]["maf_r"] == pytest.approx(1.0) and met["overall"]["maf_rmse"] == 0
    assert met["overall"]["ld_r"] == pytest.approx(1.0)
    assert met["overall"]["diversity_ratio"] == pytest.approx(1.0)
    assert met["privacy"]["exact_copy_fraction"] == 1.0
    assert met["privacy"]["aa_ts"] == pytest.approx(0.0, abs=0.05)
    assert met["privacy"]["max_kinship"] == pytest.approx(0.5)
    assert met["privacy"]["n_holdout"] == 0 and met["privacy"]["dcr_ratio"] is None
    assert met["privacy"]["longest_shared_run_snps"] == 200
    assert any("exact copies" in c for c in met["privacy"]["concerns"])
    assert set(met["per_population"]) == {"AFR", "EUR", "EAS"}
    for pop in ("AFR", "EUR", "EAS"):
        assert met["per_population"][pop]["maf_r"] == pytest.approx(1.0)
    assert met["gmm"]["normalized_emd"] == pytest.approx([0, 0], abs=1e-9)


def test_independent_snps_keep_maf_but_lose_ld(real):
    rng = np.random.default_rng(0)
    g = np.empty_like(real.genotypes)
    for pop in ("AFR", "EUR", "EAS"):
        cols = np.flatnonzero(real.samples.populations == pop)
        p = real.genotypes[:, cols].mean(axis=(1, 2))
        g[:, cols] = rng.random((len(p), len(cols), 2)) < p[:, None, None]
    met, _, _ = compute_metrics(real, with_genotypes(real, g), seed=1)
    assert met["overall"]["maf_r"] > 0.95
    for pop in ("AFR", "EUR", "EAS"):  # pooled LD keeps the Wahlund part; within a population none is left
        assert met["per_population"][pop]["maf_r"] > 0.9
        assert abs(met["per_population"][pop]["ld_r"]) < 0.2
    assert "privacy" not in met


def test_copies_of_one_genome_are_duplicates_without_diversity(real):
    g = np.repeat(real.genotypes[:, :1], real.n_samples, axis=1)
    met, _, _ = compute_metrics(real, with_genotypes(real, g), seed=1)
    assert met["overall"]["duplicate_fraction"] == pytest.approx(1 - 1 / real.n_samples)
    assert met["overall"]["diversity_ratio"] == pytest.approx(0.0)


def test_copies_of_training_genomes_raise_every_privacy_flag(real):
    train = real.take_samples(np.arange(0, 60, 2))
    synth = real.take_samples(np.repeat(np.arange(0, 60, 2), 2))
    met, plot, _ = compute_metrics(real, synth, train, seed=1)
    p = met["privacy"]
    assert p["n_holdout"] == 30 and p["exact_copy_fraction"] == 1.0
    assert p["dcr_ratio"] == 0.0 and p["membership_auc"] > 0.9
    assert len(p["concerns"]) == 5 + 3  # the pooled five, and membership within each of the 3 populations
    assert [c.split(":")[0] for c in p["concerns"][5:]] == ["AFR", "EUR", "EAS"]
    assert np.median(plot.dcr_holdout) > 0 and plot.dcr_synthetic.max() == 0


def test_site_matching_by_chrom_pos_and_alleles_in_either_order(real):
    keep = np.r_[0:150]
    synth = replace(real.take_samples(np.arange(30)), genotypes=real.genotypes[keep][:, :30],
                    phased=real.phased[keep][:, :30], variant_contig=real.variant_contig[keep],
                    variant_position=real.variant_position[keep], variant_id=real.variant_id[keep],
                    variant_allele=real.variant_allele[keep].copy())
    synth.variant_allele[0] = [synth.variant_allele[0, 1], synth.variant_allele[0, 0]]  # REF/ALT swapped
    match = match_sites(real, synth)
    assert len(match.a) == 150 and match.flip.tolist() == [True] + [False] * 149
    met, _, _ = compute_metrics(real, synth, seed=1)
    assert met["sites"] == {"real": 200, "synthetic": 150, "shared": 150, "flipped": 1, "allele_mismatch": 0,
                            "unmatched_real": 50, "unmatched_synthetic": 0}
    tiny = replace(synth, variant_allele=np.full_like(synth.variant_allele, "N"))
    with pytest.raises(InputError, match="shares 0 sites"):
        compute_metrics(real, tiny, seed=1)


def test_near_pairs_enumerates_and_samples_within_distance():
    rng = np.random.default_rng(0)
    contig = np.r_[np.zeros(50, np.int32), np.ones(50, np.int32)]
    pos = np.r_[np.arange(50) * 100, np.arange(50) * 100]
    i, j = m.near_pairs(contig, pos, 250, 10**6, rng)
    naive = {(a, b) for a in range(100) for b in range(a + 1, 100)
             if contig[a] == contig[b] and pos[b] - pos[a] <= 250}
    assert set(zip(i.tolist(), j.tolist())) == naive
    i, j = m.near_pairs(contig, pos, 250, 40, rng)
    assert len(i) == 40 and all((a, b) in naive for a, b in zip(i.tolist(), j.tolist()))


def test_pair_r_matches_corrcoef():
    rng = np.random.default_rng(2)
    d = rng.integers(0, 3, size=(40, 300)).astype(np.int8)
    d[:, 1] = d[:, 0]
    z = m.standardize(d)
    i, j = m.near_pairs(np.zeros(300, np.int32), np.arange(300), 70, 10**6, rng)
    full = np.corrcoef(d.T.astype(float))
    np.testing.assert_allclose(m.pair_r(z, i, j, tile=16), full[i, j], atol=1e-5)


def test_distances_and_kinship_known_values():
    a = np.array([[0, 1, 2, 2], [0, 0, 0, 0]], dtype=np.int8)
    b = np.array([[0, 1, 2, 0], [2, 2, 2, 2]], dtype=np.int8)
    np.testing.assert_allclose(m.nearest_distances(a, b), [2 / 8, 3 / 8])
    np.testing.assert_allclose(m.nearest_distances(a, a, same=True), [5 / 8, 5 / 8])
    het = np.array([[1, 1, 0, 2]], dtype=np.int8)
    assert m.king_robust_max(het, het)[0] == pytest.approx(0.5)
    opposite = np.array([[1, 1, 2, 0]], dtype=np.int8)
    assert m.king_robust_max(het, opposite)[0] == pytest.approx((2 - 2 * 2) / 4)


def test_longest_shared_run_kernel():
    from ogan_vcf.reporting.kernels import longest_shared_runs

    a = np.array([[0, 1, 1, 2, 0, 0, 1]], dtype=np.int8)
    b = np.array([[0, 1, 2, 2, 0, 0, 1], [1, 1, 1, 2, 0, -1, 1]], dtype=np.int8)
    runs, partner = longest_shared_runs(a, b)
    assert runs[0] == 4 and partner[0] == 0


def test_ld_breaks_per_mb_counts_linkage_lost_at_junctions():
    """Blocks of 40 SNPs in tight LD: the real set against itself has no break; shuffling whole blocks
    between genomes breaks LD at every block edge (one break counted per SNP whose next 5 cross it);
    independent SNPs break everywhere."""
    rng = np.random.default_rng(0)
    n, blocks, width = 400, 10, 40
    founders = rng.integers(0, 2, size=(blocks, 2, width))  # two haplotypes per block
    pick = rng.integers(0, 2, size=(n, 2, blocks))
    haps = founders[np.arange(blocks)[None, None, :], pick].reshape(n, 2, -1)  # (n, 2, V)
    dosage = haps.sum(axis=1).astype(np.int8)
    position = np.arange(blocks * width) * 1000  # 0.4 Mb
    contig = np.zeros(blocks * width, dtype=np.int32)
    assert m.ld_breaks_per_mb(dosage, dosage, position, contig) == 0
    shuffled = dosage[rng.permuted(np.tile(np.arange(n), (blocks, 1)), axis=1).T[:, np.repeat(np.arange(blocks), width)],
                      np.arange(blocks * width)]  # each block from another genome
    assert m.ld_breaks_per_mb(dosage, shuffled, position, contig) == 0  # blocks are independent already
    single = dosage.copy()
    single[:, ::2] = rng.permutation(dosage[:, ::2], axis=0)  # every other SNP from another genome
    breaks = m.ld_breaks_per_mb(dosage, single, position, contig)
    maf = dosage.mean(axis=0) / 2
    n_common = int(np.sum(np.minimum(maf, 1 - maf) >= 0.05))
    assert breaks > 0.7 * n_common / 0.399  # most common SNPs, per Mb spanned
    two = np.repeat([0, 1], 200).astype(np.int32)  # the same SNPs as two contigs: pairs never join them
    assert m.ld_breaks_per_mb(dosage, dosage, position, two) == 0
    assert m.ld_breaks_per_mb(dosage[:, :4], dosage[:, :4], position[:4], contig[:4]) is None
