"""A mosaic switch rate per population, chosen to a membership budget inside its members (hybridizer.calibrate)."""

import numpy as np
import pytest

from ogan_vcf.errors import InputError
from ogan_vcf.hybridizer import hybridize
from ogan_vcf.hybridizer.calibrate import _dosage, calibrate_generations, internal_membership_auc
from ogan_vcf.hybridizer.mosaic import parse_generations

from util import simulate_cohort


@pytest.fixture(scope="module")
def members():
    """40 genomes of one population over ~2 Mb: (genotypes (V, 40, 2), cM at 1 cM per Mb, contig)."""
    sim = simulate_cohort(n_per_pop=40, populations=("AFR",), length=3e6, max_snps=4000, seed=5)
    return sim.genotypes, sim.positions / 1e6, np.zeros(len(sim.positions), dtype=np.int32)


def _auc(members, generations, seed=0, match_window=0):
    genotypes, cm, contig = members
    n = genotypes.shape[1]
    splits = [(np.random.default_rng([seed, r]).permutation(n) % 10, np.random.SeedSequence([seed, r]).spawn(10))
              for r in range(2)]
    return internal_membership_auc(genotypes, _dosage(genotypes), cm, contig, generations, splits, 5.0,
                                   match_window=match_window)


def test_dosage_counts_alt_alleles_and_keeps_missing():
    genotypes = np.array([[[0, 1], [1, 1]], [[-1, 0], [0, 0]]], dtype=np.int8)  # (V=2, n=2, 2)
    assert _dosage(genotypes).tolist() == [[1, -1], [2, 0]]


def test_members_are_recognised_when_mosaics_barely_switch(members):
    """Near-copies (30 per Morgan: ~0.6 switches per haplotype here) expose their sources; many
    switches mix them and the AUC falls (not to 0.5: the island model's haplotypes are widely shared)."""
    few, many = _auc(members, 30.0), _auc(members, 5000.0)
    assert few > 0.8
    assert many < few - 0.15


def test_matched_switches_leak_more_at_a_given_rate(members):
    """A matched switch (the default mosaic) often moves to a haplotype that goes on agreeing with the one
    left: at many switches members stay easier to recognise than with switches to any source, which is
    why the audit runs on the process that is released (``match_window``)."""
    assert _auc(members, 5000.0, match_window=10) > _auc(members, 5000.0) + 0.01  # 0.697 against 0.671


def test_the_same_splits_give_the_same_auc(members):
    """Fold splits and draws are reused at every rate (common random numbers): a repeat is exact."""
    genotypes, cm, contig = members
    n = genotypes.shape[1]
    splits = [(np.arange(n) % 10, np.random.SeedSequence(4).spawn(10))]
    first = internal_membership_auc(genotypes, _dosage(genotypes), cm, contig, 300.0, splits, 5.0)
    assert internal_membership_auc(genotypes, _dosage(genotypes), cm, contig, 300.0, splits, 5.0) == first


def test_calibration_picks_the_fewest_switches_within_the_budget(members):
    genotypes, cm, contig = members
    grid = (30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
    found = calibrate_generations(genotypes, cm, contig, budget=0.75, per_member=5.0, seed=2, grid=grid)
    assert found.within_budget and found.members == 40 and list(found.auc) == list(found.fitted)
    measured = list(found.auc)
    assert measured == list(grid[:len(measured)])  # from the fewest switches, in order
    within = [found.auc[g] <= 0.75 for g in measured]
    assert within[-2:] == [True, True] or len(measured) == len(grid)  # stopped at two in a row within budget
    assert not any(a and b for a, b in zip(within[:-2], within[1:-1]))  # ... and not before
    fitted = np.array(list(found.fitted.values()))
    assert (np.diff(fitted) <= 1e-12).all()  # non-increasing in the rate
    assert found.fitted[found.generations] <= 0.75
    lower = [g for g in grid if g < found.generations]
    assert lower and all(found.fitted[g] > 0.75 for g in lower)
    tighter = calibrate_generations(genotypes, cm, contig, budget=0.7, per_member=5.0, seed=2, grid=grid)
    assert tighter.generations >= found.generations
    again = calibrate_generations(genotypes, cm, contig, budget=0.75, per_member=5.0, seed=2, grid=grid)
    assert again.to_dict() == found.to_dict()  # deterministic given the seed


def test_the_decreasing_fit_pools_only_what_rises():
    from ogan_vcf.hybridizer.calibrate import decreasing_fit

    np.testing.assert_allclose(decreasing_fit(np.array([0.9, 0.7, 0.6, 0.62, 0.58, 0.59])),
                               [0.9, 0.7, 0.61, 0.61, 0.585, 0.585])
    np.testing.assert_allclose(decreasing_fit(np.array([0.8, 0.7, 0.6])), [0.8, 0.7, 0.6])  # already decreasing


def test_an_unreachable_budget_takes_the_highest_rate_and_says_so(members):
    genotypes, cm, contig = members
    found = calibrate_generations(genotypes, cm, contig, budget=0.501, per_member=5.0, seed=2, grid=(30.0, 100.0))
    assert found.generations == 100.0 and not found.within_budget
    assert calibrate_generations(genotypes[:, :4], cm, contig, seed=2).generations is None  # too few members


def test_parse_generations():
    assert parse_generations(None) is None and parse_generations("auto") == "auto"
    assert parse_generations("300") == 300.0
    assert parse_generations("EAS=300, AFR=1000") == {"EAS": 300.0, "AFR": 1000.0}
    for bad in ("EAS=", "=300", "EAS=-1", "many"):
        with pytest.raises(InputError):
            parse_generations(bad)


def test_hybridize_takes_a_rate_per_population_or_chooses_them(sim_cohort):
    result = hybridize(sim_cohort, balance=True, mode="ppo", unit="mosaic", seed=3,
                       generations={"AFR": 50.0, "EAS": 5000.0})
    by_pop = {p.population: p for p in result.populations}
    assert by_pop["AFR"].generations == 50.0 and by_pop["EAS"].generations == 5000.0
    assert by_pop["EUR"].generations == 1000.0  # not named: the default
    assert by_pop["AFR"].segment_snps > by_pop["EAS"].segment_snps
    assert result.generations == {"AFR": 50.0, "EUR": 1000.0, "EAS": 5000.0}
    auto = hybridize(sim_cohort, balance=True, mode="ppo", unit="mosaic", seed=3, generations="auto", budget=0.7)
    for p in auto.populations:
        assert p.calibration["budget"] == 0.7 and p.generations == p.calibration["generations"]
        assert p.calibration["fitted"][f"{p.generations:g}"] <= 0.7 or not p.calibration["within_budget"]
    with pytest.raises(InputError, match="unknown population"):
        hybridize(sim_cohort, balance=True, mode="ppo", unit="mosaic", seed=3, generations={"XYZ": 10.0})
    with pytest.raises(InputError, match="budget"):
        hybridize(sim_cohort, balance=True, mode="ppo", unit="mosaic", seed=3, budget=0.6)
    with pytest.raises(InputError, match="budget"):
        hybridize(sim_cohort, balance=True, mode="ppo", unit="mosaic", seed=3, generations="auto", budget=0.4)
