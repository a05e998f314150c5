"""Where to cut the genome into blocks: fixed size, LD-aware, or from a genetic map.

A block partition is an int64 array ``starts`` of length B+1: block b holds variants
``starts[b]:starts[b+1]``; ``starts[0] == 0`` and ``starts[-1] == V``. Blocks never span
contigs: every contig start is a cut.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class BlockSpec:
    """How to cut blocks. ``size`` set: fixed blocks (the paper: 1000). ``genetic_map`` set:
    cut every ``cm`` centimorgans. Otherwise LD-aware: cut where the largest r^2 between
    SNPs up to ``window`` apart across the cut is smallest, keeping blocks within
    ``min_snps``..``max_snps``.
    """

    size: int | None = None
    min_snps: int = 50
    max_snps: int = 400
    window: int = 20
    genetic_map: str | None = None
    cm: float = 1.0

    def describe(self) -> str:
        if self.size:
            return f"fixed {self.size} SNPs"
        if self.genetic_map:
            return f"genetic map {Path(self.genetic_map).name}, {self.cm} cM"
        return f"LD-aware, {self.min_snps}-{self.max_snps} SNPs"


def contig_bounds(variant_contig: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) variant ranges of each run of one contig (variants are sorted)."""
    change = np.flatnonzero(np.diff(variant_contig)) + 1
    edges = [0, *change.tolist(), len(variant_contig)]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def fixed_blocks(variant_contig: np.ndarray, size: int) -> np.ndarray:
    """Blocks of ``size`` SNPs per contig; the last block of a contig takes the remainder."""
    if size < 1:
        raise InputError(f"the block size must be at least 1 SNP, got {size}")
    cuts = [0]
    for start, stop in contig_bounds(variant_contig):
        cuts += list(range(start + size, stop, size)) + [stop]
    return np.unique(np.asarray(cuts, dtype=np.int64))


def standardized_dosages(genotypes: np.ndarray) -> np.ndarray:
    """float32 (V, n) ALT dosages, missing set to the SNP mean, centred, rows of unit norm."""
    dosage = genotypes[:, :, 0].astype(np.float32)
    dosage += genotypes[:, :, 1]
    missing = np.minimum(genotypes[:, :, 0], genotypes[:, :, 1]) < 0
    if missing.any():
        called = np.where(missing, 0, dosage)
        mean = called.sum(axis=1) / np.maximum(1, (~missing).sum(axis=1))
        dosage = np.where(missing, mean[:, None], dosage)
    dosage -= dosage.mean(axis=1, keepdims=True)
    norm = np.sqrt((dosage * dosage).sum(axis=1, keepdims=True))
    return np.divide(dosage, norm, out=np.zeros_like(dosage), where=norm > 0)


def band_r2(z: np.ndarray, width: int, tile: int = 32) -> np.ndarray:
    """r^2 between SNP i and i+d+1 for d < width (0 past the end), float32 (V, width).

    ``z`` has rows of unit norm and mean 0, so r is a dot product; tiles of rows go
    through BLAS (``z[tile] @ z[tile + 1 : tile + width].T``), and only the band is kept.
    """
    n_snps = z.shape[0]
    out = np.zeros((n_snps, width), dtype=np.float32)
    offsets = np.arange(width)
    for start in range(0, n_snps - 1, tile):
        stop = min(n_snps, start + tile)
        r = z[start:stop] @ z[start + 1:min(n_snps, stop + width)].T
        rows = np.arange(stop - start)[:, None]
        cols = rows + offsets  # pair (start+i, start+i+d+1) sits at r[i, i+d]
        valid = cols < r.shape[1]
        out[start:stop][valid] = r[np.broadcast_to(rows, cols.shape)[valid], cols[valid]] ** 2
    return out


def ld_blocks(genotypes: np.ndarray, variant_contig: np.ndarray, spec: BlockSpec) -> np.ndarray:
    """LD-aware blocks for the members in ``genotypes`` (int8 (V, n, 2)).

    Greedy along each contig: from a block's start, cut at the weakest point (lowest
    crossing r^2, the earliest of ties) between ``min_snps`` and ``max_snps`` ahead,
    so that no block is shorter than ``min_snps`` (a contig shorter than that is one block).
    """
    from .kernels import crossing_ld

    if not 1 <= spec.min_snps <= spec.max_snps:
        raise InputError(f"LD-aware block lengths must satisfy 1 <= minimum <= maximum SNPs, got minimum "
                         f"{spec.min_snps} and maximum {spec.max_snps}")
    z = standardized_dosages(genotypes)
    cuts = [0]
    for start, stop in contig_bounds(variant_contig):
        score = crossing_ld(band_r2(np.ascontiguousarray(z[start:stop]), spec.window))
        s = 0
        length = stop - start
        while length - s > spec.max_snps:
            lo, hi = s + spec.min_snps, min(s + spec.max_snps, length - spec.min_snps)
            if hi < lo:  # max_snps < 2 * min_snps near the end: halve what is left
                s = (s + length) // 2
            else:
                s = lo + int(np.argmin(score[lo:hi + 1]))
            cuts.append(start + s)
        cuts.append(stop)
    return np.asarray(cuts, dtype=np.int64)


def read_genetic_map(path: str | os.PathLike, *, notes: list[str] | None = None
                     ) -> dict[str | None, tuple[np.ndarray, np.ndarray]]:
    """Positions (bp) and cM per contig from a PLINK .map or a HapMap-style map.

    PLINK .map: ``chr id cM bp``, no header. HapMap: a header naming a position column
    (``Position(bp)``/``position``/``pos``) and a map column (``Map(cM)``/``Genetic_Map(cM)``
    /``cM``), with or without a chromosome column (contig None: applies to every contig).
    Rows are sorted by position and exact repeats dropped (said in ``notes``); a position
    given two cM values, a decreasing cM, or a contig with one point is an InputError.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such genetic map file")
    maps: dict[str | None, list] = {}
    for contig, pos, cm in _map_rows(path):
        maps.setdefault(contig, []).append((pos, cm))
    out, unsorted, repeats = {}, 0, 0
    for contig, pairs in maps.items():
        arr = np.array(pairs, dtype=np.float64)
        unsorted += int(np.any(np.diff(arr[:, 0]) < 0))
        arr = np.unique(arr, axis=0)  # sorted by position, then cM; exact repeats dropped
        repeats += len(pairs) - len(arr)
        _check_map_contig(path, contig, arr[:, 0], arr[:, 1])
        out[contig] = (arr[:, 0], arr[:, 1])
    if notes is not None and unsorted:
        notes.append(f"{path}: map rows were not sorted by position on {unsorted} contig(s); sorted")
    if notes is not None and repeats:
        notes.append(f"{path}: {repeats} repeated map rows dropped")
    return out


def _map_rows(path: Path) -> list[tuple[str | None, float, float]]:
    """(contig, position, cM) rows of a PLINK .map or a HapMap-style map."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise InputError(f"{path}: genetic map is empty")
    header = [h.lower() for h in lines[0]]
    try:
        if _is_number(lines[0][-1]):  # PLINK .map
            rows = [(r[0], float(r[3]), float(r[2])) for r in lines]
        else:
            pos_col = next(i for i, h in enumerate(header) if h.startswith("pos"))
            cm_col = next(i for i, h in enumerate(header) if ("map" in h or h == "cm") and "rate" not in h)
            chr_col = next((i for i, h in enumerate(header) if h.startswith("chr")), None)
            rows = [(r[chr_col] if chr_col is not None else None, float(r[pos_col]), float(r[cm_col]))
                    for r in lines[1:]]
    except (StopIteration, IndexError, ValueError):
        raise InputError(f"{path}: not a PLINK .map (chr id cM bp) or HapMap-style genetic map "
                         "(header with position and cM columns)") from None
    bad = next((r for r in rows if not (np.isfinite(r[1]) and np.isfinite(r[2]))), None)
    if bad is not None:
        raise InputError(f"{path}: position {bad[1]} with cM {bad[2]} on contig {_contig_name(bad[0])}: "
                         "not a number")
    return rows


def _check_map_contig(path: Path, contig: str | None, pos: np.ndarray, cm: np.ndarray) -> None:
    """One contig's sorted, de-duplicated map: distinct positions, cM never decreasing, >= 2 points."""
    name = _contig_name(contig)
    if len(pos) < 2:
        raise InputError(f"{path}: contig {name} has one map point; at least two are needed for a "
                         "rate (cM per bp) to cut blocks by")
    twice = np.flatnonzero(np.diff(pos) == 0)
    if len(twice):
        i = twice[0]
        raise InputError(f"{path}: position {pos[i]:.0f} on contig {name} has two cM values "
                         f"({cm[i]:g} and {cm[i + 1]:g})")
    down = np.flatnonzero(np.diff(cm) < 0)
    if len(down):
        i = down[0]
        raise InputError(f"{path}: cM decreases on contig {name}, from {cm[i]:g} at {pos[i]:.0f} to "
                         f"{cm[i + 1]:g} at {pos[i + 1]:.0f}; a genetic map's cM never decreases")


def _contig_name(contig: str | None) -> str:
    return repr(contig) if contig is not None else "(all contigs)"


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def map_position_cm(position: np.ndarray, map_pos: np.ndarray, map_cm: np.ndarray) -> tuple[np.ndarray, int]:
    """cM at ``position``: interpolated inside the map, extrapolated at its end rates outside.

    The end rates are the cM/bp slopes of the first two and the last two map points.
    Returns float64 cM and how many positions lie outside the map's range.
    """
    cm = np.interp(position, map_pos, map_cm)
    before, after = position < map_pos[0], position > map_pos[-1]
    first_rate = (map_cm[1] - map_cm[0]) / (map_pos[1] - map_pos[0])
    last_rate = (map_cm[-1] - map_cm[-2]) / (map_pos[-1] - map_pos[-2])
    cm[before] = map_cm[0] + (position[before] - map_pos[0]) * first_rate
    cm[after] = map_cm[-1] + (position[after] - map_pos[-1]) * last_rate
    return cm, int(before.sum() + after.sum())


def map_blocks(variant_contig: np.ndarray, variant_position: np.ndarray, contig_id: list[str],
               genetic_map: dict, cm: float, *, notes: list[str] | None = None) -> np.ndarray:
    """Cut each contig where the genetic distance since the block start reaches ``cm``.

    SNPs outside the map's range on a contig are placed at the map's end rates and
    counted in ``notes``.
    """
    if cm <= 0:
        raise InputError(f"the block length in centimorgans must be positive, got {cm}")
    position_cm = variants_cm(variant_contig, variant_position, contig_id, genetic_map, notes=notes)
    cuts = [0]
    for start, stop in contig_bounds(variant_contig):
        block_start_cm = position_cm[start]
        for i in range(start + 1, stop):
            if position_cm[i] - block_start_cm >= cm:
                cuts.append(i)
                block_start_cm = position_cm[i]
        cuts.append(stop)
    return np.asarray(cuts, dtype=np.int64)


def variants_cm(variant_contig: np.ndarray, variant_position: np.ndarray, contig_id: list[str],
                genetic_map: dict, *, notes: list[str] | None = None) -> np.ndarray:
    """float64 (V,) cM of every variant from ``genetic_map`` (``read_genetic_map``), contig by contig.

    Contig names match with or without a ``chr`` prefix, or the map's contig-less table; SNPs
    outside the map's range are placed at its end rates and counted in ``notes``.
    """
    position = np.asarray(variant_position, dtype=np.float64)
    out = np.empty(len(position))
    for start, stop in contig_bounds(variant_contig):
        name = contig_id[variant_contig[start]]
        table = genetic_map.get(name, genetic_map.get(name.removeprefix("chr"), genetic_map.get(None)))
        if table is None:
            raise InputError(f"the genetic map has no contig {name!r} (it has {', '.join(map(str, genetic_map))})")
        out[start:stop], outside = map_position_cm(position[start:stop], *table)
        if outside and notes is not None:
            notes.append(f"{outside} SNPs lie outside the genetic map's range on contig {name}; "
                         "extrapolated at the end rates")
    return out


def make_blocks(spec: BlockSpec, genotypes: np.ndarray, variant_contig: np.ndarray,
                variant_position: np.ndarray | None = None, contig_id: list[str] | None = None,
                genetic_map: dict | None = None, *, notes: list[str] | None = None) -> np.ndarray:
    """The block partition ``spec`` asks for, for the members in ``genotypes``; notes go to ``notes``."""
    if spec.size:
        return fixed_blocks(variant_contig, spec.size)
    if spec.genetic_map:
        if variant_position is None:
            raise InputError("blocks from a genetic map need variant positions (pass a Cohort)")
        return map_blocks(variant_contig, variant_position, contig_id,
                          genetic_map or read_genetic_map(spec.genetic_map, notes=notes), spec.cm, notes=notes)
    return ld_blocks(genotypes, variant_contig, spec)
