"""A switch rate per population, chosen to a membership budget by an audit inside the training data.

Fewer mosaic switches per Morgan copy longer segments: better imputation, and members easier to
recognise (docs/imputation.md, the utility-privacy curve). Where a population sits on that curve
depends on how much its members differ from one another: an AFR member is recognised at switch
rates that leave an EAS member hidden. So one rate for all either leaks in AFR or throws away
imputation elsewhere.

``calibrate_generations`` picks, for one population, the fewest switches per Morgan on a grid whose
within-population membership AUC stays at or under a budget. The AUC is measured without held-out
people: the members are cut into folds; each fold in turn stands in for non-members while the
other members are the sources of a mosaic set as large, per source, as the one that will be
released (``per_member``). The attack is the report's: distance to the nearest synthetic genome
(``reporting.audit``). Fold splits and mosaic draws are the same for every rate (common random
numbers). The grid is measured from the fewest switches until two rates in a row are within the
budget, and the AUCs are made non-increasing in the rate (isotonic regression): at the curve's flat
end, where chance alone moves a single estimate by 0.02-0.03 and so the choice by a factor of 2-3 in
rate, neighbouring rates pool their evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .mosaic import MATCH_WINDOW, mosaic_genomes

GRID = (100.0, 150.0, 200.0, 300.0, 500.0, 700.0, 1000.0, 1500.0, 2000.0, 3000.0)
DEFAULT_BUDGET = 0.62  # within-population nearest-synthetic membership AUC (issue 12's must: <= 0.62)
FOLDS = 10  # left-out members per fold: few, so the sources are nearly all members (the AUC falls as they grow)
REPEATS = 2  # fold splits pooled
SCORED_PER_OUTSIDER = 4  # sources scored per left-out member (a random subset: distances cost the most)
MAX_SNPS = 20_000  # distances on at most this many SNPs (an even sample), as the report's privacy sites
MIN_MEMBERS = 6  # fewer: no folds to learn from, the caller's default rate stands
CONFIRM = 2  # the grid stops after this many rates in a row whose measured AUC is within the budget


def check_budget(budget) -> float:
    try:
        value = float(budget)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.5 < value < 1.0:
        raise InputError(f"a membership budget is an AUC above 0.5 and below 1, got {budget}")
    return value


@dataclass
class Calibration:
    """What ``calibrate_generations`` chose for one population and the AUCs it measured on the way."""

    generations: float | None  # None: too few members to calibrate
    budget: float
    members: int
    auc: dict[float, float] = field(default_factory=dict)  # switches per Morgan -> internal AUC, as measured
    fitted: dict[float, float] = field(default_factory=dict)  # ... made non-increasing (``decreasing_fit``)
    within_budget: bool = True  # False: even the grid's highest rate leaks more than the budget

    def to_dict(self) -> dict:
        return {"generations": self.generations, "budget": self.budget, "members": self.members,
                "within_budget": self.within_budget, "auc": {f"{g:g}": round(a, 4) for g, a in self.auc.items()},
                "fitted": {f"{g:g}": round(a, 4) for g, a in self.fitted.items()}}


def calibrate_generations(genotypes: np.ndarray, position_cm: np.ndarray, variant_contig: np.ndarray, *,
                          budget: float = DEFAULT_BUDGET, per_member: float = 1.0, seed: int = 0,
                          grid: tuple[float, ...] = GRID, folds: int = FOLDS, repeats: int = REPEATS,
                          intervals=None, match_window: int = MATCH_WINDOW) -> Calibration:
    """The fewest switches per Morgan in ``grid`` whose internal membership AUC, measured rate by rate
    from the fewest and made non-increasing in the rate (``decreasing_fit``), is <= ``budget``. The
    grid stops once ``CONFIRM`` rates in a row measure within the budget (a majority population is
    usually within it at the grid's first rates: its calibration is then a fifth of the grid's cost).

    genotypes : int8 (V, n, 2) phased members of one population (-1 missing is compared as in the report).
    per_member : synthetic genomes to be released per member (the pipeline releases as many per
        population as the largest has: largest / n).
    intervals : the switch process to audit (``mosaic.draw_segments``): None, the mosaic hybridizer's;
        the copying generator's intervals between block middles (``mosaic.switch_intervals``), whose
        at most one switch per interval leaks less at a given rate than as many Poisson switches.
    match_window : the switch sources' agreement window (``mosaic.match_sources``), as released.
    """
    n = genotypes.shape[1]
    if n < MIN_MEMBERS:
        return Calibration(None, budget, n)
    keep = _even_sample(genotypes.shape[0], MAX_SNPS)
    genotypes = np.ascontiguousarray(genotypes[keep])
    position_cm, variant_contig = np.asarray(position_cm)[keep], np.asarray(variant_contig)[keep]
    folds = int(min(folds, n // 2))
    splits = [(np.random.default_rng([seed, r, 0]).permutation(n) % folds,
               np.random.SeedSequence([seed, r, 1]).spawn(folds)) for r in range(repeats)]
    dosage = _dosage(genotypes)
    grid = tuple(sorted(float(g) for g in grid))
    measured, in_a_row = {}, 0
    for g in grid:  # fewest switches first; past CONFIRM rates in a row within the budget, more cannot be fewer
        measured[g] = internal_membership_auc(genotypes, dosage, position_cm, variant_contig, g, splits, per_member,
                                              intervals, match_window)
        in_a_row = in_a_row + 1 if measured[g] <= budget else 0
        if in_a_row == CONFIRM:
            break
    rates = list(measured)
    fitted = dict(zip(rates, decreasing_fit(np.array(list(measured.values())))))
    within = [g for g in rates if fitted[g] <= budget]
    return Calibration(within[0] if within else grid[-1], budget, n, measured, fitted, within_budget=bool(within))


def decreasing_fit(values: np.ndarray) -> np.ndarray:
    """The closest non-increasing sequence (least squares; isotonic regression by pooling adjacent
    violators): more switches cannot make members easier to recognise, so where the measured AUCs
    rise and fall by chance (the flat end of the curve) they are pooled into their mean."""
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(increasing=False).fit_transform(np.arange(len(values)), values)


def internal_membership_auc(genotypes: np.ndarray, dosage: np.ndarray, position_cm: np.ndarray,
                            variant_contig: np.ndarray, generations: float, splits: list, per_member: float,
                            intervals=None, match_window: int = MATCH_WINDOW) -> float:
    """Nearest-synthetic AUC of sources against left-out members, pooled over folds and splits.

    splits : (fold of each member, one SeedSequence per fold) pairs. For each fold the other members
    are the sources of round(per_member x sources) mosaic genomes; each left-out member and
    ``SCORED_PER_OUTSIDER`` times as many sources are scored by the distance to the nearest of them
    (nearer scores higher, as the report's attack).
    """
    from ..reporting.audit import auc
    from ..reporting.metrics import nearest_distances

    member_scores, outsider_scores = [], []
    for fold_of, fold_seeds in splits:
        for f, fold_seed in enumerate(fold_seeds):
            sources, outsiders = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            rng = np.random.default_rng(fold_seed)  # the same stream at every rate: common random numbers
            scored = rng.choice(sources, size=min(len(sources), SCORED_PER_OUTSIDER * len(outsiders)), replace=False)
            n_synthetic = max(1, int(round(per_member * len(sources))))
            released = _dosage(mosaic_genomes(genotypes[:, sources], position_cm, variant_contig,
                                              n_genomes=n_synthetic, generations=generations, rng=rng,
                                              intervals=intervals, match_window=match_window))
            member_scores.append(-nearest_distances(dosage[scored], released))
            outsider_scores.append(-nearest_distances(dosage[outsiders], released))
    value = auc(np.concatenate(member_scores), np.concatenate(outsider_scores))
    return 0.5 if value is None else value


def _dosage(genotypes: np.ndarray) -> np.ndarray:
    """int8 (V, n, 2) alleles -> int8 (n, V) ALT dosages, -1 where either allele is missing (the report's)."""
    from ..reporting.store import dosage_and_codes

    return np.ascontiguousarray(dosage_and_codes(genotypes, False)[0].T)


def _even_sample(n: int, most: int) -> np.ndarray:
    return np.arange(n) if n <= most else np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))
