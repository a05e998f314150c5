"""The default blocks make real offspring on a short real-like region and keep its LD."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ogan_vcf.hybridizer import hybridize
from ogan_vcf.hybridizer.blocks import standardized_dosages
from ogan_vcf.io import Region, read_cohort

EXAMPLE = Path(__file__).parents[1] / "example_data"


def r2_within(genotypes, positions, max_distance=50_000):
    z = standardized_dosages(genotypes)
    i, j = np.triu_indices(len(positions), 1)
    near = positions[j] - positions[i] <= max_distance
    return ((z @ z.T)[i[near], j[near]]) ** 2


@pytest.fixture(scope="module")
def region_805():
    cohort = read_cohort(EXAMPLE / "cohort.vcf.gz", panel=EXAMPLE / "cohort.panel",
                         region=Region("6", 30_900_000, 31_400_000))
    keep = slice(0, 805)
    assert cohort.n_variants >= 805
    return replace(cohort, genotypes=cohort.genotypes[keep], phased=cohort.phased[keep],
                   variant_contig=cohort.variant_contig[keep], variant_position=cohort.variant_position[keep],
                   variant_id=cohort.variant_id[keep], variant_allele=cohort.variant_allele[keep])


@pytest.mark.parametrize("pop", ["EAS", "AFR"])
@pytest.mark.parametrize("unit", ["genotype", "haplotype"])
def test_default_blocks_make_offspring_that_differ_and_keep_ld(region_805, pop, unit):
    members = np.flatnonzero(region_805.samples.populations == pop)[:100]  # a biased minority
    parents = region_805.take_samples(members)
    result = hybridize(parents, factor=5, unit=unit, seed=2022)
    offspring = result.cohort.genotypes[:, 100:]
    parent_genomes = {parents.genotypes[:, j].tobytes() for j in range(100)}
    differ = np.mean([offspring[:, j].tobytes() not in parent_genomes for j in range(offspring.shape[1])])
    assert differ >= 0.95
    assert len(result.populations[0].blocks) - 1 >= 2
    positions = parents.variant_position
    r = np.corrcoef(r2_within(parents.genotypes, positions), r2_within(offspring, positions))[0, 1]
    assert r >= 0.95, f"r^2 correlation {r:.3f}"
