"""Seeded simulators and plain reference writers for tests (independent of ogan_vcf's writers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msprime
import numpy as np


@dataclass
class SimCohort:
    """A small simulated cohort: truth to compare ogan_vcf's output against."""

    genotypes: np.ndarray  # int8 (V, S, 2)
    positions: np.ndarray  # int64 (V,)
    ref: list[str]
    alt: list[str]
    ids: list[str]
    samples: list[str]
    populations: list[str]
    contig: str = "1"
    variant_contigs: list[str] | None = None  # per variant, when there are several contigs
    contig_length: int = 10_000_000

    def contig_of(self, v: int) -> str:
        return self.variant_contigs[v] if self.variant_contigs else self.contig


def simulate_cohort(*, n_per_pop: int = 20, populations=("AFR", "EUR", "EAS"), length: float = 2e5,
                    max_snps: int = 200, seed: int = 42) -> SimCohort:
    """Three diverged populations (msprime, seeded), biallelic SNPs only."""
    demography = msprime.Demography.island_model([5_000] * len(populations), migration_rate=1e-4)
    for pop, name in zip(demography.populations, populations):
        pop.name = name
    ts = msprime.sim_ancestry(
        {name: n_per_pop for name in populations}, demography=demography, sequence_length=length,
        recombination_rate=1e-8, random_seed=seed,
    )
    ts = msprime.sim_mutations(ts, rate=2e-8, random_seed=seed)
    rng = np.random.default_rng(seed)
    keep = [v for v in ts.variants() if len(v.alleles) == 2 and v.alleles[1] is not None]
    keep = keep[:max_snps]
    haps = np.array([v.genotypes for v in keep], dtype=np.int8)  # (V, 2S)
    positions = np.array([int(v.site.position) + 1 for v in keep], dtype=np.int64)
    positions = np.maximum.accumulate(positions + np.arange(len(positions)))  # strictly increasing
    bases = np.array(list("ACGT"))
    ref = rng.choice(bases, len(keep))
    alt = np.array([rng.choice(bases[bases != r]) for r in ref])
    pop_names = [ts.population(ts.node(ind.nodes[0]).population).metadata["name"] for ind in ts.individuals()]
    return SimCohort(
        genotypes=haps.reshape(len(keep), -1, 2),
        positions=positions, ref=list(ref), alt=list(alt),
        ids=[f"rs{i + 1}" for i in range(len(keep))],
        samples=[f"{p}_{i:03d}" for i, p in enumerate(pop_names)], populations=pop_names,
    )


def write_vcf_text(path: Path, sim: SimCohort, *, phased: bool = True) -> Path:
    """A plain VCF written line by line, the obvious way."""
    sep = "|" if phased else "/"
    contigs = list(dict.fromkeys(sim.variant_contigs or [sim.contig]))
    lines = ["##fileformat=VCFv4.2", *(f"##contig=<ID={c},length={sim.contig_length}>" for c in contigs),
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *sim.samples])]
    for v in range(len(sim.positions)):
        calls = [f"{a}{sep}{b}".replace("-1", ".") for a, b in sim.genotypes[v]]
        lines.append("\t".join([sim.contig_of(v), str(sim.positions[v]), sim.ids[v], sim.ref[v], sim.alt[v],
                                ".", "PASS", ".", "GT", *calls]))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def two_contig_cohort(names=("7", "3"), start: int = 10_000_000, **kwargs) -> SimCohort:
    """Two independently simulated contigs (same people), in the order given, whose positions
    both start near ``start``: what a cohort of two chromosome regions looks like."""
    a = simulate_cohort(seed=42, **kwargs)
    b = simulate_cohort(seed=43, **kwargs)
    return SimCohort(
        genotypes=np.concatenate([a.genotypes, b.genotypes]),
        positions=np.concatenate([a.positions, b.positions]) + start,
        ref=a.ref + b.ref, alt=a.alt + b.alt, ids=[f"rs{i + 1}" for i in range(len(a.ids) + len(b.ids))],
        samples=a.samples, populations=a.populations,
        variant_contigs=[names[0]] * len(a.ids) + [names[1]] * len(b.ids), contig_length=2 * start,
    )


def write_panel_text(path: Path, samples, populations) -> Path:
    lines = ["sample\tpop\tsuper_pop\tgender"]
    lines += [f"{s}\t{p}x\t{p}\t{'male' if i % 2 else 'female'}" for i, (s, p) in enumerate(zip(samples, populations))]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def bgzip_and_index(path: Path) -> Path:
    import pysam

    out = Path(str(path) + ".gz")
    pysam.tabix_compress(str(path), str(out), force=True)
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return out


def query_vcf(path) -> list[str]:
    """Sites and genotypes as ``bcftools query`` would print them, via cyvcf2 (no tools needed)."""
    import cyvcf2

    rows = []
    for v in cyvcf2.VCF(str(path)):
        rows.append(f"{v.CHROM}\t{v.POS}\t{v.ID or '.'}\t{v.REF}\t{','.join(v.ALT)}\t" + " ".join(v.gt_bases.tolist()))
    return rows
