"""The mosaic unit: offspring haplotypes copied from members' haplotypes, switching along a genetic map.

Every offspring haplotype, on every contig, starts on a member haplotype drawn at random and
switches to another one at recombination points drawn for that haplotype alone: a Poisson
process of rate ``generations`` per Morgan of genetic distance (the copying model of Li &
Stephens 2003, as HAPNEST and RESHAPE use it to simulate descendants of a reference panel).
Unlike blocks, the switch points differ between offspring, so every stretch of the genome is
spanned unbroken by many offspring haplotypes: the long shared haplotypes imputation rests on.
Fewer generations mean longer copied segments: better imputation, more to recognise a member
by (bench/tradeoff.py measures the curve).

A switch moves to a source that agrees with the one before it on the ``match_window`` variants
each side of the switch point (``match_sources``), when any does: the junction then shows no allele
combination that neither source carries, as where a real haplotype's copying path changes source
inside a stretch the two share (in the coalescent, a lineage that recombines mostly rejoins a
related one). On example_data's AFR at 1000 switches per Morgan this raised the panel's imputation
r^2 by 0.02 and lowered the membership AUC (docs/imputation.md); ``match_window = 0`` switches to any
source, as Li & Stephens' model does.

Distances come from a genetic map when one is given, else 1 cM per Mb (what Beagle assumes
without a map). All randomness is drawn here; the kernels only gather and compare.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .blocks import contig_bounds, variants_cm

MATCH_WINDOW = 10  # variants each side of a switch on which the new source agrees with the old one


def genetic_positions(variant_contig: np.ndarray, variant_position: np.ndarray, contig_id: list[str],
                      genetic_map: dict | None = None, *, notes: list[str] | None = None) -> np.ndarray:
    """float64 (V,) cM of every variant: from ``genetic_map`` (see ``read_genetic_map``) or 1 cM per Mb."""
    if genetic_map is None:
        if notes is not None:
            notes.append("no genetic map: switch points drawn at 1 cM per Mb")
        return np.asarray(variant_position, dtype=np.float64) / 1e6
    return variants_cm(variant_contig, variant_position, contig_id, genetic_map, notes=notes)


def check_generations(generations) -> float:
    try:
        value = float(generations)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"the mosaic unit's generations must be a positive number, got {generations}")
    return value


def parse_generations(text: str | None):
    """'auto' | '1000' | 'EAS=300,SAS=500' -> 'auto', 1000.0 or {'EAS': 300.0, 'SAS': 500.0} (None stays None)."""
    if text is None or str(text).strip().lower() == "auto":
        return None if text is None else "auto"
    if "=" not in str(text):
        return check_generations(text)
    rates = {}
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"generations {text!r}: expected a number, 'auto' or POP=N pairs, e.g. EAS=300,AFR=1000")
        rates[name.strip()] = check_generations(value)
    return rates


def draw_segments(rng: np.random.Generator, position_cm: np.ndarray, variant_contig: np.ndarray, *,
                  n_haplotypes: int, n_sources: int, generations: float, intervals=None):
    """Segments of ``n_haplotypes`` mosaic haplotypes over ``n_sources`` source haplotypes.

    Returns (seg_ptr int64 (H+1,), seg_start int64 (S,), seg_stop int64 (S,), seg_source int32 (S,)),
    segments sorted by haplotype then start: what ``kernels.copy_segments`` takes. A contig
    start opens a segment on a fresh random source; a switch moves to a different source.

    intervals : None, switches are a Poisson process along each contig (the mosaic hybridizer); or
        (contig index (m,), lo cM (m,), hi cM (m,)): at most one switch per interval, with probability
        1 - exp(-generations x length), at a uniform point inside (the copying generator's start,
        whose switches fall between its blocks' middle SNPs: ``switch_intervals``).
    """
    if n_sources < 2:
        raise InputError(f"mosaic haplotypes need at least 2 source haplotypes, got {n_sources}")
    owners, starts, fresh = [], [], []
    hap = np.arange(n_haplotypes, dtype=np.int64)
    for start, stop in contig_bounds(variant_contig):
        cm = position_cm[start:stop]
        owners.append(hap)
        starts.append(np.full(n_haplotypes, start, dtype=np.int64))
        fresh.append(np.ones(n_haplotypes, dtype=bool))
        if intervals is None:
            morgans = (cm[-1] - cm[0]) / 100.0
            if morgans <= 0:
                continue
            counts = rng.poisson(generations * morgans, size=n_haplotypes)
            points = rng.uniform(cm[0], cm[-1], size=int(counts.sum()))
            switching = np.repeat(hap, counts)
        else:
            here = np.asarray(intervals[0]) == variant_contig[start]
            lo, hi = np.asarray(intervals[1])[here], np.asarray(intervals[2])[here]
            chance = 1.0 - np.exp(-generations * np.maximum(hi - lo, 0.0) / 100.0)
            switching, which = np.nonzero(rng.random((n_haplotypes, len(lo))) < chance)
            points = rng.uniform(lo[which], hi[which])
        at = start + np.searchsorted(cm, points, side="right")  # the first variant past the switch
        owners.append(switching.astype(np.int64))
        starts.append(at.astype(np.int64))
        fresh.append(np.zeros(len(at), dtype=bool))
    owner, seg_start, is_fresh = (np.concatenate(x) for x in (owners, starts, fresh))
    order = np.lexsort((~is_fresh, seg_start, owner))  # a contig start sorts before a switch at it
    owner, seg_start, is_fresh = owner[order], seg_start[order], is_fresh[order]
    keep = np.ones(len(owner), dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | (seg_start[1:] != seg_start[:-1])  # two switches at one variant: one
    owner, seg_start, is_fresh = owner[keep], seg_start[keep], is_fresh[keep]
    seg_stop = np.empty_like(seg_start)
    seg_stop[:-1] = np.where(owner[1:] == owner[:-1], seg_start[1:], len(position_cm))
    seg_stop[-1] = len(position_cm)
    step = np.where(is_fresh, rng.integers(0, n_sources, size=len(owner)),
                    rng.integers(1, n_sources, size=len(owner)))
    run = np.cumsum(is_fresh) - 1  # the contig run each segment belongs to
    total = np.cumsum(step)
    base = total[is_fresh] - step[is_fresh]
    seg_source = ((total - base[run]) % n_sources).astype(np.int32)
    seg_ptr = np.searchsorted(owner, np.arange(n_haplotypes + 1)).astype(np.int64)
    return seg_ptr, seg_start, seg_stop, seg_source


def switch_intervals(middles: np.ndarray, position_cm: np.ndarray, variant_contig: np.ndarray):
    """``draw_segments``' intervals between consecutive block middles (SNP indices, int (B,)) on one
    contig: (contig index, lo cM, hi cM); a contig's first block starts with a fresh draw instead."""
    middles = np.asarray(middles, dtype=np.int64)
    lo, hi = middles[:-1], middles[1:]
    same = variant_contig[lo] == variant_contig[hi]
    lo, hi = lo[same], hi[same]
    return variant_contig[lo], position_cm[lo], position_cm[hi]


def check_match_window(window) -> int:
    try:
        value = int(window)
    except (TypeError, ValueError):
        value = -1
    if value < 0 or value != float(window):
        raise InputError(f"the mosaic unit's match window is a whole number of variants >= 0, got {window}")
    return value


def match_sources(rng: np.random.Generator, sources: np.ndarray, segments, variant_contig: np.ndarray,
                  window: int):
    """``draw_segments``' segments with every switch's source re-chosen in the previous source's class on
    ``window`` variants each side of the switch (clipped to its contig): the sources that carry its alleles
    there, or, for one that no other does, the others like it (``kernels.match_switch_sources``).
    sources : int8 (V, H_in). Returns the segments (a new source array)."""
    from .kernels import match_switch_sources

    seg_ptr, seg_start, seg_stop, seg_source = segments
    is_switch = np.ones(len(seg_start), dtype=bool)
    is_switch[seg_ptr[:-1][np.diff(seg_ptr) > 0]] = False  # a haplotype's first segment
    contig_starts = np.array([a for a, _ in contig_bounds(variant_contig)], dtype=np.int64)
    is_switch &= ~np.isin(seg_start, contig_starts)  # a contig start is a fresh draw
    lo, hi = match_windows(variant_contig, seg_start, window)
    seg_source = seg_source.copy()
    switches = np.flatnonzero(is_switch)
    switches = switches[np.argsort(seg_start[switches], kind="stable")]
    match_switch_sources(sources, seg_start, seg_source, switches, lo, hi, rng.random(len(seg_start)))
    return seg_ptr, seg_start, seg_stop, seg_source


def match_windows(variant_contig: np.ndarray, at: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) int64: variants ``at - window`` to ``at + window`` (exclusive), clipped to each one's contig."""
    at = np.asarray(at, dtype=np.int64)
    bounds = np.array(contig_bounds(variant_contig), dtype=np.int64).reshape(-1, 2)
    run = np.searchsorted(bounds[:, 0], at, side="right") - 1
    return np.maximum(bounds[run, 0], at - window), np.minimum(bounds[run, 1], at + window)


def window_classes(alleles: np.ndarray, owner: np.ndarray, variant_contig: np.ndarray, window: int) -> np.ndarray:
    """int16 (V, K): at each variant j, the class of each haplotype (alleles int8 (K, V); owner int (K,), its
    population) on the match window around j (``match_windows``): ``kernels.window_labels``, the rule of
    ``match_sources``, for the copying generator (``model.networks.MatchedMarkovChoice``)."""
    from .kernels import window_classes_kernel

    n_haplotypes, n_snps = alleles.shape
    owner = np.asarray(owner, dtype=np.int64)
    if n_haplotypes + int(owner.max(initial=0)) >= np.iinfo(np.int16).max:
        raise ValueError(f"window classes of {n_haplotypes} haplotypes do not fit int16")
    lo, hi = match_windows(variant_contig, np.arange(n_snps), window)
    out = np.empty((n_snps, n_haplotypes), dtype=np.int16)
    window_classes_kernel(np.ascontiguousarray(np.asarray(alleles, dtype=np.int8).T), owner, lo, hi, out)
    return out


def mosaic_genomes(genotypes: np.ndarray, position_cm: np.ndarray, variant_contig: np.ndarray, *,
                   n_genomes: int, generations: float, rng: np.random.Generator, intervals=None,
                   match_window: int = MATCH_WINDOW) -> np.ndarray:
    """int8 (V, n_genomes, 2) phased mosaic offspring of the members in ``genotypes`` (int8 (V, n, 2));
    ``intervals``: see ``draw_segments``; ``match_window``: see ``match_sources`` (0: any source)."""
    from .kernels import copy_segments

    n_snps, n = genotypes.shape[:2]
    sources = np.ascontiguousarray(genotypes.reshape(n_snps, 2 * n))
    segments = draw_segments(rng, position_cm, variant_contig, n_haplotypes=2 * n_genomes,
                             n_sources=2 * n, generations=generations, intervals=intervals)
    if match_window:
        segments = match_sources(rng, sources, segments, variant_contig, match_window)
    out = np.empty((n_snps, 2 * n_genomes), dtype=np.int8)
    copy_segments(sources, *segments, out)
    return out.reshape(n_snps, n_genomes, 2)
