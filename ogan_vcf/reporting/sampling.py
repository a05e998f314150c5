"""Which shared sites each measure of the report reads: every site up to a size, then a sample.

MAF, heterozygosity, duplicates and exact copies use every shared site (``store.gather``
streams them). The measures that need genotypes of many sites at once read a bounded set
(``SitePlan``; limits in ``metrics.LIMITS``):

- LD r, LD decay and LD breaks: every site up to ``ld_sites``; past it, windows of
  ``ld_window_snps`` consecutive SNPs, evenly spaced over the shared sites (a window never
  spans two contigs), ``ld_sites`` SNPs in all; pairs stay inside a window;
- PCA, the classifier, the GMM tables and diversity: every site up to ``genome_sites``, then
  that many evenly spaced sites;
- the privacy audit: every site up to ``privacy_sites``, then that many in evenly spaced runs of
  ``privacy_run_snps`` consecutive SNPs (runs and shared segments need consecutive SNPs; they
  never span two runs);
- junction LD of a windowed synthetic cohort (``find_windows``): the LD sites plus, past
  ``ld_sites``, up to ``junction_snps`` SNPs each side of up to ``junctions`` junctions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

HEATMAP_SNPS = 1000


@dataclass
class SitePlan:
    """Positions (int64, ascending, into the shared sites) that each group of measures reads.

    ld_run, privacy_run : int64 run ids (per site of ``ld`` / ``privacy``): the contig index
        when every site is read, else a new id at each contig change or gap; pairs, next-SNP
        runs and shared segments never join two runs.
    ld_sample : bool (len(ld),) the sites of the LD sample (LD r, decay, breaks); the others are
        read for junction LD only.
    window : int64 (len(ld),) the generation window (index into ``windows``) whose core holds
        each LD site, -1 none; None without a windows record.
    heatmap_range : (start, stop) of the heatmap window among the shared sites.
    sampling : what was sampled, for metrics.json ``sampling`` (empty when nothing was).
    """

    ld: np.ndarray
    ld_run: np.ndarray
    ld_sample: np.ndarray
    genome: np.ndarray
    privacy: np.ndarray
    privacy_run: np.ndarray
    heatmap_range: tuple[int, int]
    window: np.ndarray | None = None
    junctions: int = 0
    sampling: dict = field(default_factory=dict)

    @property
    def heatmap(self) -> np.ndarray:
        return np.arange(*self.heatmap_range)

    @property
    def privacy_thinned(self) -> bool:
        return "privacy_sites" in self.sampling


def plan_sites(contig: np.ndarray, position: np.ndarray, contig_names: list[str], *, limits: dict,
               ld_distance: int, ld_window: tuple[int, int] | None = None, windows: list[dict] | None = None
               ) -> SitePlan:
    """The SitePlan for shared sites on ``contig`` (int, index into ``contig_names``) at ``position``.

    ld_window : (start, stop) of the heatmap among the shared sites (default the first
    ``HEATMAP_SNPS`` of the first contig); windows : the synthetic cohort's generation windows.
    """
    n = len(position)
    start, stop = ld_window or (0, n)
    same = contig[start:min(stop, start + HEATMAP_SNPS)] == contig[start]
    heatmap = (start, start + (len(same) if same.all() else int(np.argmin(same))))
    everything = np.arange(n)
    plan = SitePlan(everything, contig, np.ones(n, dtype=bool), everything, everything, contig, heatmap)
    if n > limits["genome_sites"]:
        plan.genome = np.unique(np.linspace(0, n - 1, limits["genome_sites"]).round().astype(np.int64))
        plan.sampling["genome_sites"] = len(plan.genome)
    if n > limits["privacy_sites"]:
        length = limits["privacy_run_snps"]
        plan.privacy = _runs(n, max(1, limits["privacy_sites"] // length), length)
        plan.privacy_run = run_ids(plan.privacy, contig)
        plan.sampling.update(privacy_sites=len(plan.privacy), privacy_runs=len(plan.privacy) // length,
                             privacy_run_snps=length)
    site_window = None if windows is None else window_of_sites(
        np.asarray(contig_names, dtype=object)[contig], position, windows)
    if n > limits["ld_sites"]:
        sample = _ld_windows(contig, n, limits["ld_sites"], limits["ld_window_snps"])
        plan.sampling.update(ld_sites=len(sample), ld_windows=int(run_ids(sample, contig)[-1]) + 1,
                             ld_window_snps=limits["ld_window_snps"])
        near = np.zeros(0, dtype=np.int64)
        if site_window is not None:
            near, plan.junctions = _junction_sites(site_window, position, windows, ld_distance,
                                                   limits["junctions"], limits["junction_snps"])
            plan.sampling.update(junction_sites=len(near), junctions_sampled=plan.junctions)
        plan.ld = np.union1d(sample, near)
        plan.ld_sample = np.isin(plan.ld, sample)
        plan.ld_run = run_ids(plan.ld, contig)
    elif site_window is not None:
        plan.junctions = _count_junctions(windows)
    if site_window is not None:
        plan.window = site_window[plan.ld]
    return plan


def run_ids(sites: np.ndarray, contig: np.ndarray) -> np.ndarray:
    """int64 (len(sites),) run id: a new run where ``sites`` (ascending) skip a site or the contig changes."""
    if not len(sites):
        return np.zeros(0, dtype=np.int64)
    new = (np.diff(sites) != 1) | (np.diff(contig[sites]) != 0)
    return np.concatenate([[0], np.cumsum(new)]).astype(np.int64)


def _runs(n: int, count: int, length: int) -> np.ndarray:
    """``count`` evenly spaced runs of ``length`` consecutive positions in range(n) (count * length < n)."""
    starts = np.linspace(0, n - length, count).round().astype(np.int64)
    return (starts[:, None] + np.arange(length)).ravel()


def _ld_windows(contig: np.ndarray, n: int, total: int, length: int) -> np.ndarray:
    """Windows of ``length`` consecutive sites, centred on ``total // length`` evenly spaced sites and
    moved inside their contig run (a shorter run is taken whole); overlapping windows merge."""
    bounds = np.flatnonzero(np.diff(contig) != 0) + 1
    run_start, run_stop = np.r_[0, bounds], np.r_[bounds, n]
    centres = np.linspace(0, n - 1, max(1, total // length)).round().astype(np.int64)
    which = np.searchsorted(run_start, centres, side="right") - 1
    lo = np.clip(centres - length // 2, run_start[which], np.maximum(run_start[which], run_stop[which] - length))
    hi = np.minimum(lo + length, run_stop[which])
    return np.unique(np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)]))


def find_windows(provenance: list[dict]) -> list[dict] | None:
    """The generation windows of a windowed synthetic cohort: the ``parameters["windows"]`` of the last
    provenance record that has them, as [{contig, start, stop}] (core bp, file order); None when no
    record has them or they are malformed."""
    for record in reversed(provenance or []):
        parameters = record.get("parameters") if isinstance(record, dict) else None
        if isinstance(parameters, dict) and "windows" in parameters:
            try:
                return [{"contig": str(w["contig"]), "start": int(w["start"]), "stop": int(w["stop"])}
                        for w in parameters["windows"]]
            except (KeyError, TypeError, ValueError):
                return None
    return None


def window_of_sites(contig: np.ndarray, position: np.ndarray, windows: list[dict]) -> np.ndarray:
    """int64 (n,) index into ``windows`` of the window whose core (start..stop bp) holds each site, -1 none.

    contig : str (n,) contig name of each site; position : int64 (n,).
    """
    out = np.full(len(position), -1, dtype=np.int64)
    names = np.array([w["contig"] for w in windows], dtype=object)
    for name in np.unique(names).tolist():
        index = np.flatnonzero(names == name)
        starts = np.array([windows[k]["start"] for k in index], dtype=np.int64)
        stops = np.array([windows[k]["stop"] for k in index], dtype=np.int64)
        order = np.argsort(starts, kind="stable")
        index, starts, stops = index[order], starts[order], stops[order]
        sites = np.flatnonzero(contig == name)
        k = np.searchsorted(starts, position[sites], side="right") - 1
        inside = (k >= 0) & (position[sites] <= stops[np.maximum(k, 0)])
        out[sites[inside]] = index[k[inside]]
    return out


def _count_junctions(windows: list[dict]) -> int:
    return sum(a["contig"] == b["contig"] for a, b in itertools.pairwise(windows))


def _junction_sites(site_window: np.ndarray, position: np.ndarray, windows: list[dict], ld_distance: int,
                    max_junctions: int, snps: int) -> tuple[np.ndarray, int]:
    """Sites within ``ld_distance`` bp of a junction, at most ``snps`` nearest each side, for at most
    ``max_junctions`` junctions evenly spread over all of them; and the number of junctions taken."""
    junctions = [k for k in range(len(windows) - 1) if windows[k]["contig"] == windows[k + 1]["contig"]]
    if len(junctions) > max_junctions:
        junctions = [junctions[i] for i in np.unique(np.linspace(0, len(junctions) - 1, max_junctions)
                                                     .round().astype(np.int64))]
    order = np.argsort(site_window, kind="stable")
    keys = site_window[order]
    parts = []
    for k in junctions:
        left = order[np.searchsorted(keys, k):np.searchsorted(keys, k, side="right")]
        right = order[np.searchsorted(keys, k + 1):np.searchsorted(keys, k + 1, side="right")]
        left = np.sort(left[position[left] > windows[k]["stop"] - ld_distance])[-snps:]
        right = np.sort(right[position[right] < windows[k + 1]["start"] + ld_distance])[:snps]
        parts += [left, right]
    return np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *parts])), len(junctions)
