"""Hybridizer invariants on generated data: sizes, blocks, counts, identity, privacy, seeds."""

import re
from dataclasses import replace

import numpy as np
import pytest

from ogan_vcf.errors import InputError
from ogan_vcf.hybridizer import BlockSpec, hybridize
from ogan_vcf.hybridizer.blocks import fixed_blocks, ld_blocks, map_blocks, read_genetic_map




def members_of(cohort, pop):
    return np.flatnonzero(cohort.samples.populations == pop)


def split_copies(result, pop, n, n_real):
    g = result.cohort.genotypes[:, members_of(result.cohort, pop)]
    return g[:, :n_real], g[:, n_real:].reshape(g.shape[0], -1, n, 2)


@pytest.mark.parametrize("mode", ["offspring", "ppo"])
def test_sizes_names_and_parents(sim_cohort, mode):
    r = hybridize(sim_cohort, factor=3, populations=["EUR", "EAS"], mode=mode, blocks=BlockSpec(size=40), seed=1)
    assert r.cohort.samples.population_counts() == {"EUR": 60, "EAS": 60}
    ids = list(r.cohort.samples.ids)
    assert len(set(ids)) == len(ids)
    eur = members_of(sim_cohort, "EUR")
    if mode == "offspring":
        assert ids[:20] == list(sim_cohort.samples.ids[eur]) and ids[20] == "EUR_off000001"
        np.testing.assert_array_equal(r.cohort.genotypes[:, :20], sim_cohort.genotypes[:, eur])
    else:
        assert all(i.startswith("EUR_off") for i in ids[:60])
    assert set(r.cohort.samples.panel["pop"][20:60]) == {"EURx"}  # shared panel values carried over


def test_genotype_unit_blocks_are_members_blocks_and_counts_are_preserved(sim_cohort):
    r = hybridize(sim_cohort, factor=4, populations=["AFR"], blocks=BlockSpec(size=30), seed=7)
    parents = sim_cohort.genotypes[:, members_of(sim_cohort, "AFR")]
    real, copies = split_copies(r, "AFR", 20, 20)
    starts = r.populations[0].blocks
    np.testing.assert_array_equal(starts, fixed_blocks(sim_cohort.variant_contig, 30))
    for c in range(copies.shape[1]):
        np.testing.assert_array_equal(copies[:, c].sum(axis=(1, 2)), parents.sum(axis=(1, 2)))
        for a, b in zip(starts[:-1], starts[1:]):
            parent_blocks = {parents[a:b, j].tobytes() for j in range(20)}
            got = [copies[a:b, c, j].tobytes() for j in range(20)]
            assert sorted(got) == sorted(parents[a:b, j].tobytes() for j in range(20))
            assert set(got) <= parent_blocks


def test_haplotype_unit_crosses_two_members(sim_cohort):
    r = hybridize(sim_cohort, factor=3, populations=["EAS"], unit="haplotype", blocks=BlockSpec(size=50), seed=3)
    parents = sim_cohort.genotypes[:, members_of(sim_cohort, "EAS")]
    _, copies = split_copies(r, "EAS", 20, 20)
    starts = r.populations[0].blocks
    for a, b in zip(starts[:-1], starts[1:]):
        haps = {}
        for j in range(20):
            for h in range(2):
                haps.setdefault(parents[a:b, j, h].tobytes(), set()).add(j)
        for c in range(2):
            for j in range(20):
                mothers = haps[copies[a:b, c, j, 0].tobytes()]
                fathers = haps[copies[a:b, c, j, 1].tobytes()]
                assert any(m != f for m in mothers for f in fathers)
    assert r.cohort.phased.all()


def test_factor_one_is_the_identity(sim_cohort):
    r = hybridize(sim_cohort, factor=1, seed=5)
    np.testing.assert_array_equal(r.cohort.genotypes, sim_cohort.genotypes)
    assert list(r.cohort.samples.ids) == list(sim_cohort.samples.ids)


def test_ppo_never_emits_a_parent_even_when_copies_are_likely(sim_cohort):
    sub = sim_cohort.take_samples(members_of(sim_cohort, "EUR")[:3])
    r = hybridize(sub, factor=10, mode="ppo", blocks=BlockSpec(size=100), seed=11)  # 2 blocks, 3 members
    parents = {sub.genotypes[:, j].tobytes() for j in range(3)}
    assert not any(r.cohort.genotypes[:, j].tobytes() in parents for j in range(30))
    assert r.populations[0].redraws > 0


def test_ppo_refuses_when_distinct_offspring_cannot_exist(sim_cohort):
    sub = sim_cohort.take_samples(members_of(sim_cohort, "EUR")[:3])
    same = replace(sub, genotypes=np.repeat(sub.genotypes[:, :1], 3, axis=1))
    with pytest.raises(InputError, match=re.escape(
            "population EUR: 3 members are too few to make offspring that all differ from every parent "
            "(mode ppo); use smaller blocks or mode offspring")):
        hybridize(same, factor=2, mode="ppo", blocks=BlockSpec(size=50), seed=1)
    with pytest.raises(InputError, match=re.escape(
            "population EUR: only one block, so every offspring would copy a parent; use smaller blocks "
            "(a smaller fixed size, or a smaller LD-aware maximum) for mode ppo")):
        hybridize(sub, factor=2, mode="ppo", blocks=BlockSpec(size=1000), seed=1)


def test_bad_block_and_option_values_are_named_in_words(sim_cohort):
    contig = sim_cohort.variant_contig
    with pytest.raises(InputError, match="^the block size must be at least 1 SNP, got 0$"):
        fixed_blocks(contig, 0)
    with pytest.raises(InputError, match=re.escape(
            "LD-aware block lengths must satisfy 1 <= minimum <= maximum SNPs, got minimum 60 and maximum 50")):
        ld_blocks(sim_cohort.genotypes, contig, BlockSpec(min_snps=60, max_snps=50))
    with pytest.raises(InputError, match="^the block length in centimorgans must be positive, got 0$"):
        map_blocks(contig, sim_cohort.variant_position, ["1"], {}, cm=0)
    with pytest.raises(InputError, match="^mode must be one of offspring, ppo, got 'clone'$"):
        hybridize(sim_cohort, factor=2, mode="clone", seed=1)
    with pytest.raises(InputError, match="^unit must be one of genotype, haplotype, mosaic, got 'snp'$"):
        hybridize(sim_cohort, factor=2, unit="snp", seed=1)


def test_blocks_never_cross_a_contig(sim_cohort):
    contig = np.repeat([0, 1, 2], [95, 5, 100]).astype(np.int32)
    for starts in (fixed_blocks(contig, 40),
                   ld_blocks(sim_cohort.genotypes, contig, BlockSpec(min_snps=10, max_snps=30))):
        assert {0, 95, 100, 200} <= set(starts.tolist())
        for a, b in zip(starts[:-1], starts[1:]):
            assert len(set(contig[a:b].tolist())) == 1
    assert fixed_blocks(contig, 40).tolist() == [0, 40, 80, 95, 100, 140, 180, 200]


def test_ld_blocks_respect_their_bounds_and_cut_at_weak_linkage():
    rng = np.random.default_rng(0)
    founders = rng.integers(0, 2, size=(4, 60)).astype(np.int8)  # four haplotype blocks of 60 SNPs
    genotypes = np.concatenate([np.repeat(founders[k][:, None], 40, axis=1) for k in range(4)], axis=0)
    carriers = rng.random((4, 40)) < 0.5
    g = np.stack([np.where(np.repeat(carriers, 60, axis=0), genotypes, 1 - genotypes)] * 2, axis=2).astype(np.int8)
    starts = ld_blocks(g, np.zeros(240, dtype=np.int32), BlockSpec(min_snps=30, max_snps=100))
    assert starts.tolist() == [0, 60, 120, 180, 240]


def test_genetic_map_blocks_from_plink_and_hapmap_maps(tmp_path):
    positions = np.arange(1, 201) * 1000
    (tmp_path / "m.map").write_text("".join(f"1\tsnp{i}\t{p / 50_000:.4f}\t{p}\n" for i, p in enumerate(positions)))
    (tmp_path / "m.txt").write_text("Chromosome\tPosition(bp)\tRate(cM/Mb)\tMap(cM)\n1\t0\t20\t0\n1\t300000\t20\t6\n")
    contig = np.zeros(200, dtype=np.int32)
    for name in ("m.map", "m.txt"):
        starts = map_blocks(contig, positions, ["1"], read_genetic_map(tmp_path / name), cm=1.0)
        assert np.all(np.diff(starts)[:-1] == 50), name  # 1 cM = 50 kb at 20 cM/Mb
    with pytest.raises(InputError, match="no contig '2'"):
        map_blocks(contig, positions, ["2"], read_genetic_map(tmp_path / "m.map"), cm=1.0)


def test_same_seed_same_output_and_streams_per_population(sim_cohort):
    a = hybridize(sim_cohort, factor=2, populations=["EAS"], seed=42)
    b = hybridize(sim_cohort, factor=2, populations=["EAS"], seed=42)
    c = hybridize(sim_cohort, factor=2, populations=["EAS"], seed=43)
    both = hybridize(sim_cohort, factor=2, populations=["AFR", "EAS"], seed=42)
    np.testing.assert_array_equal(a.cohort.genotypes, b.cohort.genotypes)
    assert not np.array_equal(a.cohort.genotypes, c.cohort.genotypes)
    np.testing.assert_array_equal(a.cohort.genotypes, both.cohort.genotypes[:, 40:])


def test_missing_and_unphased_calls_are_carried(sim_cohort):
    g = sim_cohort.genotypes.copy()
    g[5, 0] = -1
    unphased = replace(sim_cohort, genotypes=g, phased=np.zeros_like(sim_cohort.phased))
    r = hybridize(unphased, factor=3, populations=["AFR"], blocks=BlockSpec(size=50), seed=1)
    assert not r.cohort.phased.any()
    assert (r.cohort.genotypes[5] == -1).all(axis=1).sum() == 3  # the parent and one offspring per copy
    with pytest.raises(InputError, match=re.escape(
            ": the haplotype unit needs phased genotypes (population AFR is unphased); phase first (e.g. Beagle) "
            "or use the genotype unit")):
        hybridize(unphased, factor=2, populations=["AFR"], unit="haplotype", seed=1)


def test_balance_brings_every_population_to_the_largest(sim_cohort):
    sub = sim_cohort.take_samples(np.r_[members_of(sim_cohort, "AFR"), members_of(sim_cohort, "EUR")[:7]])
    r = hybridize(sub, balance=True, blocks=BlockSpec(size=25), seed=2)
    assert r.cohort.samples.population_counts() == {"AFR": 20, "EUR": 20}
    np.testing.assert_array_equal(r.cohort.genotypes[:, :20], sub.genotypes[:, :20])  # largest passes through
    assert r.populations[0].blocks is None and r.populations[1].n_real == 7



def test_balance_in_ppo_mode_leaves_no_real_genome(sim_cohort):
    """PPO balance replaces the largest population by offspring too: nothing real is passed on."""
    sub = sim_cohort.take_samples(np.r_[members_of(sim_cohort, "AFR"), members_of(sim_cohort, "EUR")[:7]])
    r = hybridize(sub, balance=True, mode="ppo", blocks=BlockSpec(size=25), seed=2)
    assert r.cohort.samples.population_counts() == {"AFR": 20, "EUR": 20}
    assert not set(r.cohort.samples.ids) & set(sub.samples.ids)
    real = {g.tobytes() for g in np.moveaxis(sub.genotypes, 1, 0)}
    assert not any(g.tobytes() in real for g in np.moveaxis(r.cohort.genotypes, 1, 0))
    assert [p.n_real for p in r.populations] == [0, 0]

def test_bad_options(sim_cohort):
    with pytest.raises(InputError, match="unknown population 'XYZ'; the cohort has AFR, EUR, EAS"):
        hybridize(sim_cohort, factor=2, populations=["XYZ"], seed=1)
    for factor in (0, 2.5, "two"):
        with pytest.raises(InputError, match="the hybridizing factor must be a whole number >= 1, got "):
            hybridize(sim_cohort, factor=factor, populations=["EUR"], seed=1)
    one = sim_cohort.take_samples(members_of(sim_cohort, "EUR")[:1])
    with pytest.raises(InputError, match="population EUR has 1 sample"):
        hybridize(one, factor=2, seed=1)


def test_array_input_returns_an_array(sim_cohort):
    g = np.ascontiguousarray(sim_cohort.genotypes[:, members_of(sim_cohort, "EUR")])
    out = hybridize(g, factor=5, blocks=40, seed=1)
    assert out.shape == (200, 100, 2) and out.dtype == np.int8
    np.testing.assert_array_equal(out[:, :20], g)


def test_sizes_make_exactly_that_many_genomes_per_population(sim_cohort):
    from ogan_vcf.hybridizer import BlockSpec, hybridize

    result = hybridize(sim_cohort, sizes={"EAS": 7, "AFR": 45}, mode="ppo", blocks=BlockSpec(size=50), seed=2)
    out = result.cohort
    assert out.samples.population_counts() == {"EAS": 7, "AFR": 45}
    assert not set(out.samples.ids) & set(sim_cohort.samples.ids)  # ppo: offspring only
    real = {sim_cohort.genotypes[:, j].tobytes() for j in range(sim_cohort.n_samples)}
    assert not any(out.genotypes[:, j].tobytes() in real for j in range(out.n_samples))
    kept = hybridize(sim_cohort, sizes={"EAS": 5}, mode="offspring", blocks=BlockSpec(size=50), seed=2).cohort
    eas = np.flatnonzero(sim_cohort.samples.populations == "EAS")[:5]
    np.testing.assert_array_equal(kept.genotypes, sim_cohort.genotypes[:, eas])  # fewer than n: the first real ones
    with pytest.raises(InputError, match="population EAS: the number of genomes to make must be a whole number"):
        hybridize(sim_cohort, sizes={"EAS": 0}, seed=1)
    with pytest.raises(InputError, match="unknown population 'XYZ'"):
        hybridize(sim_cohort, sizes={"XYZ": 3}, seed=1)
