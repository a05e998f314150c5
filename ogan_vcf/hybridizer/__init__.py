"""The Mendelian hybridizer: n genomes of one population -> f*n by reshuffling blocks.

For each extra copy and each block, a permutation of the members decides who gives
that block to which offspring (the paper's procedure), so a block's allele counts are
preserved exactly (genotype unit). The haplotype unit crosses two distinct members
per block, one haplotype from each. The mosaic unit has no shared blocks: each offspring
haplotype copies member haplotypes and switches at its own recombination points along a
genetic map (``mosaic.py``). All randomness is drawn here, one Generator per population
(``SeedSequence.spawn``); the numba kernels only gather.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace

import numpy as np

from ..cohort import Cohort, Samples, phase_state
from ..errors import InputError
from .blocks import BlockSpec, contig_bounds, make_blocks, read_genetic_map
from .kernels import column_hashes, cross_haplotype_blocks, gather_blocks
from .calibrate import DEFAULT_BUDGET, calibrate_generations, check_budget
from .mosaic import MATCH_WINDOW, check_generations, check_match_window, genetic_positions, mosaic_genomes

MODES = ("offspring", "ppo")
UNITS = ("genotype", "haplotype", "mosaic")
DEFAULT_GENERATIONS = 1000.0  # switches per Morgan: within-population membership AUC <= 0.62 (bench/tradeoff.py)
MAX_REDRAW_ROUNDS = 100


@dataclass
class PopulationResult:
    """What the hybridizer did to one population."""

    population: str
    n_in: int
    n_out: int
    n_real: int
    blocks: np.ndarray | None  # int64 (B+1,) block starts; None when passed through or mosaic
    redraws: int = 0
    segment_snps: float | None = None  # mosaic unit: mean SNPs per copied segment
    generations: float | None = None  # mosaic unit: this population's switches per Morgan
    calibration: dict | None = None  # generations "auto": what ``calibrate.calibrate_generations`` measured

    @property
    def block_sizes(self) -> np.ndarray:
        return np.diff(self.blocks) if self.blocks is not None else np.zeros(0, dtype=np.int64)


@dataclass
class HybridResult:
    """The hybridized cohort, what happened per population, the seed used, and notes."""

    cohort: Cohort
    populations: list[PopulationResult]
    seed: int
    notes: list[str] = field(default_factory=list)  # e.g. SNPs beyond the genetic map's ends
    generations: float | dict | None = None  # the mosaic unit's switches per Morgan (population -> rate
    # when they differ)


def _check_options(mode: str, unit: str) -> None:
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if unit not in UNITS:
        raise InputError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")


def default_unit(cohort: Cohort, blocks: BlockSpec | None = None) -> str:
    """The unit ogan's own steps use: mosaic for a phased cohort, genotype blocks for an unphased one
    or when fixed blocks (``blocks.size``, e.g. the paper's 1000 SNPs) are asked for."""
    return "mosaic" if cohort.phase_state == "phased" and not (blocks and blocks.size) else "genotype"


def check_factor(factor) -> int:
    """An integer factor >= 1 (int, or text such as '5'), or InputError."""
    try:
        value = float(factor)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(factor, bool) or not value.is_integer() or value < 1:
        raise InputError(f"the hybridizing factor must be a whole number >= 1, got {factor}")
    return int(value)


def _draw_sources(rng: np.random.Generator, n_copies: int, n_blocks: int, n: int, unit: str) -> dict:
    """Permutations of the members, one per (copy, block); two for the haplotype unit."""
    perms = np.argsort(rng.random((n_copies, n_blocks, n)), axis=-1).astype(np.int32)
    if unit == "genotype":
        return {"sources": perms}
    shift = rng.integers(1, n, size=(n_copies, n_blocks, 1))  # fathers differ from mothers
    fathers = np.take_along_axis(perms, (np.arange(n) + shift) % n, axis=-1).astype(np.int32)
    return {
        "mothers": perms, "fathers": fathers,
        "mother_hap": rng.integers(0, 2, size=perms.shape, dtype=np.uint8),
        "father_hap": rng.integers(0, 2, size=perms.shape, dtype=np.uint8),
    }


def _offspring(genotypes: np.ndarray, variant_block: np.ndarray, draw: dict, out: np.ndarray | None = None):
    """Run the kernel for the drawn sources into ``out`` (int8 (V, C*n, 2), may be a view)."""
    key = "sources" if "sources" in draw else "mothers"
    n_copies, _, n = draw[key].shape
    if out is None:
        out = np.empty((genotypes.shape[0], n_copies * n, 2), dtype=np.int8)
    if "sources" in draw:
        gather_blocks(genotypes.view(np.int16)[:, :, 0], variant_block, draw["sources"],
                      out.view(np.int16)[:, :, 0])
    else:
        cross_haplotype_blocks(genotypes, variant_block, draw["mothers"], draw["fathers"],
                               draw["mother_hap"], draw["father_hap"], out)
    return out


def _copies_of_parents(parents: np.ndarray, offspring: np.ndarray) -> np.ndarray:
    """Indices of offspring that equal some parent genome exactly."""
    parent_hash = column_hashes(parents.view(np.int16)[:, :, 0])
    off_hash = column_hashes(offspring.view(np.int16)[:, :, 0])
    suspects = np.flatnonzero(np.isin(off_hash, parent_hash))
    by_hash = {}
    for p, h in enumerate(parent_hash):
        by_hash.setdefault(h, []).append(p)
    return np.array([j for j in suspects
                     if any(np.array_equal(offspring[:, j], parents[:, p]) for p in by_hash[off_hash[j]])],
                    dtype=np.int64)


def _redraw_copies(genotypes, variant_block, draw, offspring, rng, label) -> int:
    """PPO: swap block sources between offspring until none equals a parent; count swaps."""
    n = genotypes.shape[1]
    swaps = 0
    for _ in range(MAX_REDRAW_ROUNDS):
        bad = _copies_of_parents(genotypes, offspring)
        if not len(bad):
            return swaps
        for j in bad:
            c, k = divmod(int(j), n)
            b = rng.integers(draw[next(iter(draw))].shape[1])
            other = (k + rng.integers(1, n)) % n
            for array in draw.values():
                array[c, b, [k, other]] = array[c, b, [other, k]]
            swaps += 1
        for c in np.unique(bad // n):
            one_copy = {name: array[c:c + 1] for name, array in draw.items()}
            _offspring(genotypes, variant_block, one_copy, offspring[:, c * n:(c + 1) * n])
    raise InputError(f"population {label}: {n} members are too few to make offspring that all differ "
                     "from every parent (mode ppo); use smaller blocks or mode offspring")


def mosaic_members(genotypes: np.ndarray, position_cm: np.ndarray, variant_contig: np.ndarray, *, n_out: int,
                   mode: str, generations: float, rng: np.random.Generator, label: str = "",
                   match_window: int = MATCH_WINDOW):
    """n phased members -> ``n_out`` genomes (parents first in offspring mode), mosaic unit.

    Returns the genomes and, in ppo mode, how many offspring were redrawn for equalling a parent.
    """
    n = genotypes.shape[1]
    if n < 2:
        raise InputError(f"population {label} has {n} sample(s); hybridizing needs at least 2")
    n_real = min(n, n_out) if mode == "offspring" else 0
    out = np.empty((genotypes.shape[0], n_out, 2), dtype=np.int8)
    out[:, :n_real] = genotypes[:, :n_real]
    draw = dict(generations=generations, rng=rng, match_window=match_window)
    out[:, n_real:] = mosaic_genomes(genotypes, position_cm, variant_contig, n_genomes=n_out - n_real, **draw)
    redraws = 0
    if mode == "ppo":
        for _ in range(MAX_REDRAW_ROUNDS):
            bad = _copies_of_parents(genotypes, out)
            if not len(bad):
                break
            out[:, bad] = mosaic_genomes(genotypes, position_cm, variant_contig, n_genomes=len(bad), **draw)
            redraws += len(bad)
        else:
            raise InputError(f"population {label}: mosaic offspring keep equalling a parent (mode ppo); use "
                             "more generations or mode offspring")
    return out, redraws


def hybridize_members(genotypes: np.ndarray, blocks: np.ndarray, *, n_out: int, mode: str = "offspring",
                      unit: str = "genotype", rng: np.random.Generator, label: str = "",
                      phased: np.ndarray | None = None) -> tuple[np.ndarray, int, np.ndarray | None]:
    """n members (int8 (V, n, 2)) -> ``n_out`` genomes: parents first in offspring mode.

    Returns the genomes, the number of block swaps made to avoid parent copies (ppo),
    and, when the members' ``phased`` flags (bool (V, n)) are given, the output's flags.
    """
    n = genotypes.shape[1]
    if n < 2:
        raise InputError(f"population {label} has {n} sample(s); hybridizing needs at least 2")
    n_real = n if mode == "offspring" else 0
    n_copies = max(0, math.ceil((n_out - n_real) / n))
    n_blocks = len(blocks) - 1
    if mode == "ppo" and unit == "genotype" and n_blocks < 2:
        raise InputError(f"population {label}: only one block, so every offspring would copy a parent; use "
                         "smaller blocks (a smaller fixed size, or a smaller LD-aware maximum) for mode ppo")
    variant_block = np.repeat(np.arange(n_blocks), np.diff(blocks))
    draw = _draw_sources(rng, n_copies, n_blocks, n, unit)
    out = np.empty((genotypes.shape[0], n_real + n_copies * n, 2), dtype=np.int8)
    out[:, :n_real] = genotypes[:, :n_real]
    offspring = _offspring(genotypes, variant_block, draw, out[:, n_real:])
    swaps = _redraw_copies(genotypes, variant_block, draw, offspring, rng, label) if mode == "ppo" else 0
    if phased is None:
        return out[:, :n_out], swaps, None
    flags = np.concatenate([phased[:, :n_real], _offspring_phase(phased, offspring, variant_block, draw)], axis=1)
    return out[:, :n_out], swaps, flags[:, :n_out]


def _offspring_phase(phased: np.ndarray, offspring: np.ndarray, variant_block: np.ndarray, draw: dict):
    """Phase flags of the offspring, bool (V, C*n).

    Genotype blocks move with their calls' own flags (a ``./.`` stays ``./.``); haplotype
    crosses are phased, except a call with both alleles missing (written ``./.``).
    """
    if "sources" not in draw:
        return (offspring[:, :, 0] >= 0) | (offspring[:, :, 1] >= 0)
    out = np.empty(offspring.shape[:2], dtype=bool)
    gather_blocks(np.ascontiguousarray(phased), variant_block, draw["sources"], out)
    return out


def _check_phase(cohort: Cohort, members: np.ndarray, pop: str, unit: str) -> None:
    """Refuse unphased input for haplotype crosses, and partly phased input for any unit."""
    state = phase_state(cohort.genotypes[:, members], cohort.phased[:, members])
    if state == "phased":
        return
    if unit in ("haplotype", "mosaic"):
        what = "unphased" if state == "unphased" else "partly phased"
        raise InputError(f"{cohort.path}: the {unit} unit needs phased genotypes (population {pop} is "
                         f"{what}); phase first (e.g. Beagle) or use the genotype unit")
    if state == "partly":
        raise InputError(f"{cohort.path}: population {pop} is partly phased (some called genotypes "
                         "use '|', some '/'); phase it fully (e.g. Beagle) before hybridizing")


def hybridize(data, *, factor: int | None = None, blocks: BlockSpec | int | np.ndarray | None = None,
              mode: str = "offspring", unit: str = "genotype", seed: int | None = None,
              populations: list[str] | None = None, balance: bool = False, sizes: dict[str, int] | None = None,
              generations: float | dict | str | None = None, budget: float | None = None,
              match_window: int = MATCH_WINDOW):
    """Hybridize a Cohort (returns a HybridResult) or one population's int8 (V, n, 2) array.

    Cohort: ``populations`` (default all) each become factor*n genomes and the output
    holds those only; with ``balance`` every population is brought to the size of the
    largest and the whole cohort is returned (in offspring mode the largest passes through
    as is; in ppo mode it too is replaced by as many offspring, so no real genome remains);
    with ``sizes`` (population -> count) each named population becomes exactly that many
    genomes (in ppo mode offspring only: the hybridizer-only baseline of a synthetic cohort).
    Array: the genomes of one population -> factor*n genomes (an array).
    The mosaic unit switches ``generations`` times per Morgan (default ``DEFAULT_GENERATIONS``)
    along ``blocks.genetic_map`` (else 1 cM per Mb; an array counts as one contig at 1 cM per Mb
    of variant index, i.e. as if SNPs were 1 kb apart). On a Cohort, ``generations`` may also be a
    dict (population -> rate; populations left out get the default) or "auto": each population's
    rate is chosen to a membership ``budget`` (default ``calibrate.DEFAULT_BUDGET``) by the audit
    inside its members that ``calibrate.calibrate_generations`` runs, for as many offspring as it gets.
    A mosaic switch moves to a source that agrees with the previous one on ``match_window`` variants
    each side (``mosaic.match_sources``; 0: to any source).
    """
    _check_options(mode, unit)
    match_window = check_match_window(match_window)
    if generations is not None and unit != "mosaic":
        raise InputError("generations set the mosaic unit's switch rate; use them with unit mosaic")
    if budget is not None and generations != "auto":
        raise InputError("a membership budget chooses the switch rates of generations 'auto'; use them together")
    if isinstance(data, np.ndarray) or not (generations == "auto" or isinstance(generations, dict)):
        generations = check_generations(DEFAULT_GENERATIONS if generations is None else generations)
    elif isinstance(generations, dict):
        generations = {str(p): check_generations(g) for p, g in generations.items()}
    else:
        budget = check_budget(DEFAULT_BUDGET if budget is None else budget)
    seed = secrets.randbits(63) if seed is None else int(seed)
    spec = blocks if isinstance(blocks, BlockSpec) else BlockSpec(size=blocks) if isinstance(blocks, int) else None
    if isinstance(data, np.ndarray):
        factor = check_factor(factor)
        genotypes = np.ascontiguousarray(data, dtype=np.int8)
        contig = np.zeros(genotypes.shape[0], dtype=np.int32)
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        if unit == "mosaic":
            cm = np.arange(genotypes.shape[0], dtype=np.float64) / 1000.0
            return mosaic_members(genotypes, cm, contig, n_out=factor * genotypes.shape[1], mode=mode,
                                  generations=generations, rng=rng, match_window=match_window)[0]
        starts = np.asarray(blocks, dtype=np.int64) if spec is None and blocks is not None else \
            make_blocks(spec or BlockSpec(), genotypes, contig)
        return hybridize_members(genotypes, starts, n_out=factor * genotypes.shape[1], mode=mode, unit=unit,
                                 rng=rng)[0]
    return _hybridize_cohort(data, factor=factor, spec=spec or BlockSpec(), mode=mode, unit=unit, seed=seed,
                             populations=populations, balance=balance, sizes=sizes, generations=generations,
                             budget=budget, match_window=match_window)


def _hybridize_cohort(cohort: Cohort, *, factor, spec: BlockSpec, mode, unit, seed, populations, balance, sizes,
                      generations, budget, match_window):
    counts = cohort.samples.population_counts()
    if sizes is not None:
        targets = {p: _check_size(p, n, counts) for p, n in sizes.items()}
    elif balance:
        targets = _balance_targets(counts)
    else:
        factor = check_factor(factor)
        chosen = populations or list(counts)
        unknown = [p for p in chosen if p not in counts]
        if unknown:
            raise InputError(f"unknown population {unknown[0]!r}; the cohort has {', '.join(counts)}")
        targets = {p: factor * counts[p] for p in chosen}
    if isinstance(generations, dict):
        unknown = [p for p in generations if p not in counts]
        if unknown:
            raise InputError(f"switch rate for unknown population {unknown[0]!r}; the cohort has {', '.join(counts)}")
    for pop, n_out in targets.items():
        if not (n_out == counts[pop] and balance and mode == "offspring"):
            _check_phase(cohort, np.flatnonzero(cohort.samples.populations == pop), pop, unit)
    notes: list[str] = []
    genetic_map = read_genetic_map(spec.genetic_map, notes=notes) if spec.genetic_map else None
    position_cm = genetic_positions(cohort.variant_contig, cohort.variant_position, cohort.contig_id, genetic_map,
                                    notes=notes) if unit == "mosaic" else None
    streams = dict(zip(sorted(counts), np.random.SeedSequence(seed).spawn(len(counts))))
    parts, results = [], []
    for pop, n_out in targets.items():
        members = np.flatnonzero(cohort.samples.populations == pop)
        genotypes = np.ascontiguousarray(cohort.genotypes[:, members])
        if n_out == len(members) and balance and mode == "offspring":  # the largest passes through
            parts.append((members, genotypes, cohort.phased[:, members], None))
            results.append(PopulationResult(pop, len(members), n_out, n_out, None))
            continue
        if unit == "mosaic":
            calibration = None
            if generations == "auto":
                n_new = n_out - (min(len(members), n_out) if mode == "offspring" else 0)
                calibration = calibrate_generations(genotypes, position_cm, cohort.variant_contig, budget=budget,
                                                    per_member=n_new / len(members), seed=seed,
                                                    match_window=match_window)
                rate = calibration.generations or DEFAULT_GENERATIONS
            else:
                rate = generations.get(pop, DEFAULT_GENERATIONS) if isinstance(generations, dict) else generations
            out, redraws = mosaic_members(genotypes, position_cm, cohort.variant_contig, n_out=n_out, mode=mode,
                                          generations=rate, rng=np.random.default_rng(streams[pop]),
                                          label=pop, match_window=match_window)
            n_real = min(len(members), n_out) if mode == "offspring" else 0
            called = (out[:, n_real:, 0] >= 0) | (out[:, n_real:, 1] >= 0)
            phased = np.concatenate([cohort.phased[:, members[:n_real]], called], axis=1)
            parts.append((members, out, phased, n_real))
            length = _mean_segment_snps(position_cm, cohort.variant_contig, rate)
            results.append(PopulationResult(pop, len(members), n_out, n_real, None, redraws, length, rate,
                                            calibration.to_dict() if calibration else None))
            continue
        starts = make_blocks(spec, genotypes, cohort.variant_contig, cohort.variant_position,
                             cohort.contig_id, genetic_map, notes=notes)
        out, swaps, phased = hybridize_members(genotypes, starts, n_out=n_out, mode=mode, unit=unit,
                                               rng=np.random.default_rng(streams[pop]), label=pop,
                                               phased=np.ascontiguousarray(cohort.phased[:, members]))
        n_real = min(len(members), n_out) if mode == "offspring" else 0
        parts.append((members, out, phased, n_real))
        results.append(PopulationResult(pop, len(members), n_out, n_real, starts, swaps))
    rates = {p.population: p.generations for p in results if p.generations is not None}
    if unit != "mosaic":
        used = None
    elif generations == "auto" or isinstance(generations, dict):
        used = rates if len(set(rates.values())) > 1 else next(iter(rates.values()), DEFAULT_GENERATIONS)
    else:
        used = generations
    return HybridResult(_assemble(cohort, parts), results, seed, list(dict.fromkeys(notes)), used)


def _mean_segment_snps(position_cm: np.ndarray, variant_contig: np.ndarray, generations: float) -> float:
    """Expected SNPs per mosaic segment: SNPs / (contigs + expected switches)."""
    bounds = contig_bounds(variant_contig)
    switches = sum(generations * (position_cm[b - 1] - position_cm[a]) / 100.0 for a, b in bounds)
    return len(position_cm) / (len(bounds) + switches)


def _check_size(pop: str, n, counts: dict[str, int]) -> int:
    if pop not in counts:
        raise InputError(f"unknown population {pop!r}; the cohort has {', '.join(counts)}")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise InputError(f"population {pop}: the number of genomes to make must be a whole number >= 1, got {n}")
    return int(n)


def _balance_targets(counts: dict[str, int]) -> dict[str, int]:
    largest = max(counts.values())
    return {pop: largest for pop in counts}


def _assemble(cohort: Cohort, parts) -> Cohort:
    """One cohort from per-population (members, genotypes, phased, n_real) parts."""
    taken = set(cohort.samples.ids)
    ids, pops, panel_rows = [], [], {name: [] for name in cohort.samples.panel}
    for members, genotypes, _, n_real in parts:
        sub = cohort.samples.take(members)
        n_real = len(members) if n_real is None else n_real
        pop = sub.populations[0]
        ids += list(sub.ids[:n_real])
        ids += _offspring_names(pop, genotypes.shape[1] - n_real, taken)
        pops += [pop] * genotypes.shape[1]
        for name, column in sub.panel.items():
            shared = column[0] if (column == column[0]).all() else "NA"
            panel_rows[name] += list(column[:n_real]) + [shared] * (genotypes.shape[1] - n_real)
    samples = Samples(np.array(ids, dtype=object), np.array(pops, dtype=object),
                      {k: np.array(v, dtype=object) for k, v in panel_rows.items()}, cohort.samples.label_column)
    return replace(cohort, genotypes=np.concatenate([p[1] for p in parts], axis=1),
                   phased=np.concatenate([p[2] for p in parts], axis=1), samples=samples)


def _offspring_names(pop: str, count: int, taken: set) -> list[str]:
    """``POP_off000001``... skipping any name the cohort already uses."""
    names, i = [], 0
    while len(names) < count:
        i += 1
        name = f"{pop}_off{i:06d}"
        if name not in taken:
            names.append(name)
            taken.add(name)
    return names


def hybridize_file(input, output, *, panel=None, label_column=None, region=None, factor=None,
                   populations=None, balance=False, mode="offspring", unit="genotype",
                   blocks: BlockSpec | None = None, seed=None, generations=None, budget=None,
                   match_window: int = MATCH_WINDOW, show_progress=False):
    """Read any input, hybridize, write VCF/BCF/PLINK (+panel) or .h5; (HybridResult, paths)."""
    from ..cohort import provenance_record
    from ..io import Region, read_cohort, write_output
    from ..io.vcf import output_kind

    output_kind(output)
    if balance == bool(populations):
        raise InputError("hybridizing needs either populations with a factor, or balance")
    if not balance and factor is None:
        raise InputError("hybridizing populations needs a factor (a whole number >= 1)")
    if balance and factor is not None:
        raise InputError("balance brings every population to the largest's size; give no factor with it")
    if populations and not balance:
        factor = check_factor(factor)
    cohort = read_cohort(input, panel=panel, label_column=label_column,
                         region=Region.parse(region) if region else None, show_progress=show_progress)
    spec = blocks or BlockSpec()
    result = hybridize(cohort, factor=factor, blocks=spec, mode=mode, unit=unit, seed=seed,
                       populations=populations, balance=balance, generations=generations, budget=budget,
                       match_window=match_window)
    record = provenance_record("hybridize", {
        "input": str(input), "populations": populations, "balance": balance, "factor": factor, "mode": mode,
        "unit": unit, "blocks": spec.describe(), "generations": result.generations, "budget": budget,
        "match_window": match_window if unit == "mosaic" else None,
        "calibration": {p.population: p.calibration for p in result.populations if p.calibration},
        "region": region},
        seed=result.seed)
    paths = write_output(output, result.cohort, provenance=[*cohort.provenance, record], show_progress=show_progress)
    return result, paths
