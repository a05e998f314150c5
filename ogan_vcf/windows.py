"""Windows: a chromosome cut into independent pieces that one model each can learn.

A window is data (sgkit's shape): a variant range ``start:stop`` on one contig that its model is
trained on, and inside it the ``core_start:core_stop`` whose genotypes it writes. Cores tile
every contig without gaps; a window reaches ``overlap`` SNPs past its core on each side (never
past its contig), so two neighbouring windows share ``2 x overlap`` SNPs, where generation stitches
their synthetic haplotypes (windowed.py). Cuts between cores are evenly spaced by SNP count
(``cut="even"``, the default: windows of equal work), or moved within a quarter window to where
LD is weakest (``"ld"``, the hybridizer's crossing-r^2 score) or to the largest genetic-map step
(``"map"``); windows never span contigs.

Why even by default: the stitch matches haplotypes over the whole shared stretch, so where the
cut falls does not show in the output (docs/windows.md: LD r across junctions equals LD r inside
windows with even cuts), while at a weak-LD cut the SNP pairs that straddle it carry almost no LD
(mean r^2 ~0.01 on example_data), so LD r there is noise even between two halves of the real cohort.

Planning reads only the genotypes around each candidate cut, so its memory does not grow with
the number of SNPs beyond per-variant tables.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from .errors import InputError
from .hybridizer.blocks import band_r2, contig_bounds, standardized_dosages

DEFAULT_WINDOW_SNPS = 6000  # two cpu-preset workers training one window each peak near 5 GiB in all
DEFAULT_OVERLAP_SNPS = 250
LD_SPAN = 20  # SNPs each side of a candidate cut whose r^2 across it counts
CUTS = ("even", "ld", "map")


@dataclass(frozen=True)
class Window:
    """One window: its model learns variants ``start:stop`` and writes ``core_start:core_stop``."""

    index: int
    contig: int
    start: int
    stop: int
    core_start: int
    core_stop: int

    @property
    def name(self) -> str:
        return f"w{self.index:04d}"

    def to_dict(self) -> dict:
        return asdict(self)


def single_window(n_variants: int) -> list[Window]:
    return [Window(0, -1, 0, n_variants, 0, n_variants)]


def is_windowed(windows: list[Window]) -> bool:
    return len(windows) > 1


def plan_windows(variant_contig: np.ndarray, *, window_snps: int = DEFAULT_WINDOW_SNPS,
                 overlap_snps: int = DEFAULT_OVERLAP_SNPS, cut: str = "even", genotypes=None,
                 genetic_cm: np.ndarray | None = None) -> list[Window]:
    """The window table for a cohort of ``len(variant_contig)`` sorted variants.

    A cohort of at most 1.5 x ``window_snps`` variants is one window (its network already keeps
    contigs apart), otherwise each contig of more than 1.5 x ``window_snps`` variants is cut into
    round(n / window_snps) cores. ``cut`` "even" spaces the cuts evenly; "ld" moves each to the
    weakest LD in ``genotypes`` (int8 (V, S, 2), e.g. an h5py dataset: only rows near the cuts are
    read); "map" to the largest step of ``genetic_cm`` (float (V,)).
    """
    variant_contig = np.asarray(variant_contig)
    n = len(variant_contig)
    if cut not in CUTS:
        raise InputError(f"--cut must be one of {', '.join(CUTS)}, got {cut!r}")
    if cut == "map" and genetic_cm is None:
        raise InputError("--cut map needs a genetic map (--map)")
    if cut == "ld" and genotypes is None:
        raise InputError("cutting at weak LD needs the genotypes")
    genotypes = genotypes if cut == "ld" else None
    genetic_cm = genetic_cm if cut == "map" else None
    if window_snps < 100:
        raise InputError(f"a window needs at least 100 SNPs, got --window-snps {window_snps}")
    if not 0 <= overlap_snps <= window_snps // 2:
        raise InputError(f"the window overlap must be between 0 and half a window ({window_snps // 2} SNPs), "
                         f"got {overlap_snps}")
    if n <= 1.5 * window_snps:
        return single_window(n)
    windows: list[Window] = []
    for start, stop in contig_bounds(variant_contig):
        length = stop - start
        pieces = max(1, round(length / window_snps)) if length > 1.5 * window_snps else 1
        cuts = [start]
        reach = window_snps // 4
        for k in range(1, pieces):
            target = start + round(k * length / pieces)
            lo, hi = max(cuts[-1] + 1, target - reach), min(stop - 1, target + reach)
            cuts.append(_best_cut(lo, hi, target, genotypes, genetic_cm))
        cuts.append(stop)
        for a, b in zip(cuts[:-1], cuts[1:]):
            windows.append(Window(len(windows), int(variant_contig[start]), max(start, a - overlap_snps),
                                  min(stop, b + overlap_snps), int(a), int(b)))
    return windows


def _best_cut(lo: int, hi: int, target: int, genotypes, genetic_cm) -> int:
    """The cut c in lo..hi (variants c-1 | c) that breaks the least: largest cM step, or weakest LD."""
    if hi <= lo:
        return int(target)
    if genetic_cm is not None:
        steps = np.diff(np.asarray(genetic_cm[lo - 1:hi + 1], dtype=np.float64))  # steps[i]: cut at lo + i
        return lo + int(np.argmax(steps))
    if genotypes is None:
        return int(target)
    from .hybridizer.kernels import crossing_ld

    first = max(0, lo - LD_SPAN)
    rows = np.asarray(genotypes[first:hi + LD_SPAN])
    score = crossing_ld(band_r2(standardized_dosages(rows), LD_SPAN))  # score[c]: cut before row c
    local = score[lo - first:hi - first + 1]
    return lo + int(np.argmin(local))


def window_table(windows: list[Window]) -> list[dict]:
    return [w.to_dict() for w in windows]


def windows_from_table(table: list[dict]) -> list[Window]:
    return [Window(**row) for row in table]


def window_digest(window: Window, source: dict, settings: dict) -> str:
    """What a finished window was trained from: its range, its input's identity and every setting."""
    text = json.dumps({"window": window.to_dict(), "source": source, "settings": settings}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def window_seed(seed: int, index: int) -> int:
    """An independent 31-bit seed per window, from the run's seed."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0] & 0x7FFFFFFF)


def core_ranges(windows: list[Window], contig_id: list[str], core_positions: list[np.ndarray]) -> list[dict]:
    """Each core's contig and first and last base-pair position (``core_positions[k]``: the positions of
    window k's core): the record ``ogan report`` finds the junctions by."""
    return [{"contig": contig_id[w.contig] if w.contig >= 0 else None, "start": int(p[0]), "stop": int(p[-1])}
            for w, p in zip(windows, core_positions)]
