"""A second simulated cohort for the imputation and trade-off benchmarks (not committed: written under --out).

Another demography than example_data's Gravel et al. model, denser SNPs (about 5,000 per Mb at
cohort MAF >= 0.01) and a variable recombination map, written as a PLINK .map for Beagle and
``--map``. msprime, seeded. Demography (generations): an ancestral population of 10,000; AFR
splits 3,000 ago and stays at 20,000 (no growth); the out-of-Africa branch goes through a 1,000
bottleneck 1,500 ago; EUR and EAS split 700 ago, EAS through a 600 bottleneck then growing 0.6%
per generation; SAS splits from EUR 500 ago and takes a 25% pulse from EAS 300 ago; AMR is
founded 10 generations ago from AFR 15%, EUR 45%, EAS 40%; migration 2e-5 between all present
continental pairs. 1 Mb, recombination 1.2e-8 on average with 70% in 2 kb hotspots (one per 50 kb).

    python bench/second_cohort.py --out bench/out/second    # cohort.vcf.gz, cohort.panel, cohort.map
"""

from __future__ import annotations

import argparse
from pathlib import Path

import msprime
import numpy as np

POPS = ("AFR", "EUR", "EAS", "SAS", "AMR")
CHROM, OFFSET, LENGTH = "20", 30_000_000, 1_000_000


def demography() -> msprime.Demography:
    d = msprime.Demography()
    d.add_population(name="AFR", initial_size=20_000)
    d.add_population(name="EUR", initial_size=8_000, growth_rate=0.002)
    d.add_population(name="EAS", initial_size=30_000, growth_rate=0.006)
    d.add_population(name="SAS", initial_size=12_000, growth_rate=0.003)
    d.add_population(name="AMR", initial_size=20_000, growth_rate=0.05)
    d.add_population(name="OOA", initial_size=1_000)
    d.add_population(name="ANC", initial_size=10_000)
    for a in POPS[:4]:
        for b in POPS[:4]:
            if a != b:
                d.set_migration_rate(a, b, 2e-5)
    d.add_admixture(time=10, derived="AMR", ancestral=["AFR", "EUR", "EAS"], proportions=[0.15, 0.45, 0.40])
    d.add_mass_migration(time=300, source="SAS", dest="EAS", proportion=0.25)
    d.add_population_split(time=500, derived=["SAS"], ancestral="EUR")
    d.add_population_parameters_change(time=650, population="EAS", initial_size=600, growth_rate=0)
    d.add_population_split(time=700, derived=["EUR", "EAS"], ancestral="OOA")
    d.add_population_split(time=3_000, derived=["AFR", "OOA"], ancestral="ANC")
    d.add_population_parameters_change(time=500, population="EUR", growth_rate=0)
    d.sort_events()
    return d


def recombination_map(rng: np.random.Generator, mean=1.2e-8, hot_frac=0.7, spacing=50_000, width=2_000):
    starts = np.sort(rng.uniform(0, LENGTH - width, size=LENGTH // spacing)).astype(int)
    starts = starts[np.concatenate([[True], np.diff(starts) > width])]
    weights = rng.exponential(size=len(starts))
    edges, rates = [0], []
    background = mean * (1 - hot_frac) * LENGTH / (LENGTH - width * len(starts))
    for s, w in zip(starts, weights):
        if s > edges[-1]:
            edges.append(s)
            rates.append(background)
        edges.append(s + width)
        rates.append(background + mean * hot_frac * LENGTH * w / weights.sum() / width)
    edges.append(LENGTH)
    rates.append(background)
    return msprime.RateMap(position=edges, rate=rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "second")
    parser.add_argument("--per-pop", type=int, default=400)
    parser.add_argument("--mu", type=float, default=3.0e-8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from ogan_vcf.cohort import Cohort, Samples
    from ogan_vcf.io import write_output

    rng = np.random.default_rng(args.seed)
    rate_map = recombination_map(rng)
    ts = msprime.sim_ancestry({p: args.per_pop for p in POPS}, demography=demography(), sequence_length=LENGTH,
                              recombination_rate=rate_map, random_seed=args.seed)
    ts = msprime.sim_mutations(ts, rate=args.mu, model=msprime.BinaryMutationModel(), random_seed=args.seed)
    one_hit = np.bincount(ts.tables.mutations.site, minlength=ts.num_sites) == 1
    hap = ts.genotype_matrix()[one_hit].astype(np.int8)  # (V, 2n)
    position = ts.tables.sites.position[one_hit].astype(np.int64) + OFFSET
    freq = hap.mean(axis=1)
    keep = (np.minimum(freq, 1 - freq) >= 0.01) & np.concatenate([[True], np.diff(position) > 0])
    hap, position = hap[keep], position[keep]
    n = hap.shape[1] // 2
    genotypes = np.ascontiguousarray(hap.reshape(len(position), n, 2))
    pops = np.array([ts.population(ts.node(u).population).metadata["name"] for u in ts.samples()[::2]], dtype=object)
    ids = np.array([f"S2_{p}_{i + 1:04d}" for i, p in enumerate(pops)], dtype=object)
    samples = Samples(ids, pops, {"super_pop": pops.copy()}, "super_pop")
    alleles = np.array([["A", "G"]] * len(position), dtype=object)
    cohort = Cohort([CHROM], [64_444_167], np.zeros(len(position), dtype=np.int32), position,
                    np.array([f"{CHROM}:{p}" for p in position], dtype=object), alleles, genotypes,
                    np.ones(genotypes.shape[:2], dtype=bool), samples, [], "second_cohort")
    args.out.mkdir(parents=True, exist_ok=True)
    paths = write_output(args.out / "cohort.vcf.gz", cohort)
    cm = np.array([rate_map.get_cumulative_mass(p - OFFSET) for p in position]) * 100
    (args.out / "cohort.map").write_text("".join(f"{CHROM}\t{CHROM}:{p}\t{c:.6f}\t{p}\n" for p, c in zip(position, cm)))
    print(f"{len(position)} SNPs over {np.ptp(position) / 1e6:.2f} Mb ({len(position) / np.ptp(position) * 1e6:.0f} "
          f"per Mb), {n} people ({', '.join(f'{p} {int((pops == p).sum())}' for p in POPS)}), "
          f"{cm[-1] - cm[0]:.2f} cM; files: {', '.join(paths)}, {args.out / 'cohort.map'}")


if __name__ == "__main__":
    main()
