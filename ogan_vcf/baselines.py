"""Baselines beside a synthetic cohort: the same measures on sets whose answer is known.

- **hybridizer only**: PPO offspring of the training set (no real genome, no network): what
  the hybridizer alone gives, so the generator's gain over it can be read off;
- **held-out real**: half of the real genomes the generator never saw, scored as if synthetic
  (what a perfect generator gets), while the other half stays the privacy audit's held-out
  yardstick.

``ogan pipeline`` writes them as files and reports them (``write_hybridizer_baseline``,
``write_heldout_half``); ``ogan report --train`` computes them in memory. Both use these functions.
"""

from __future__ import annotations

import numpy as np

from .cohort import Cohort

ROW_LABELS = {"hybridizer": "hybridizer only (baseline)", "heldout": "held-out real (baseline)"}
SYNTHETIC_LABEL = "synthetic (this file)"  # the set a report is about, in tables beside the baselines


def hybridizer_only(train: Cohort, sizes: dict[str, int], *, blocks=None, seed: int,
                    membership_budget: float | None = None):
    """PPO offspring of ``train``: ``sizes[pop]`` genomes of each named population (a HybridResult).

    The unit is what training uses (``hybridizer.default_unit``): mosaic for phased data, else
    genotype blocks; ``blocks``: a BlockSpec, LD-aware (``BlockSpec()``) by default. Raises
    InputError when the hybridizer refuses, e.g. a population with fewer than 2 members or only
    one block. ``membership_budget``: mosaic switch rates per population chosen to it ("auto").
    """
    from .hybridizer import BlockSpec, default_unit, hybridize

    blocks = blocks or BlockSpec()
    unit = default_unit(train, blocks)
    auto = dict(generations="auto", budget=membership_budget) if membership_budget and unit == "mosaic" else {}
    return hybridize(train, sizes=sizes, mode="ppo", blocks=blocks, unit=unit, seed=seed, **auto)


def recorded_budget(provenance: list[dict] | None) -> float | None:
    """The membership budget the generator of a synthetic cohort started from: ``membership_budget`` of
    its last ``generate`` provenance record (the cpu preset's 0.62), or None (none recorded, or invalid).
    The report's hybridizer baseline is then chosen to the same budget, as the pipeline's is."""
    for record in reversed(provenance or []):
        if isinstance(record, dict) and record.get("command") == "generate":
            value = (record.get("parameters") or {}).get("membership_budget")
            try:
                return value if value is not None and 0.5 < float(value) < 1.0 else None
            except (TypeError, ValueError):
                return None
    return None


def heldout_half(heldout: Cohort, *, seed: int) -> Cohort:
    """A random half of each population's genomes in ``heldout`` (at least one), in cohort order.

    Scored as if synthetic, while the report keeps the rest as the held-out yardstick. The draw
    depends on ``seed`` only (its own stream, ``SeedSequence([seed, 12])``).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 12]))
    pops = heldout.samples.populations
    rows = [np.sort(rng.permutation(np.flatnonzero(pops == p))[:max(1, int((pops == p).sum()) // 2)])
            for p in heldout.samples.population_counts()]
    return heldout.take_samples(np.concatenate(rows) if rows else np.array([], dtype=np.int64))


def heldout_rows(real: Cohort, train: Cohort) -> np.ndarray:
    """Indices (int64) of the real genomes whose sample id is not in the training cohort."""
    return np.flatnonzero(~np.isin(real.samples.ids, train.samples.ids))
