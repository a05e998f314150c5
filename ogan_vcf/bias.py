"""The paper's study design: keep a fraction of some populations and all of the others."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from .cohort import Cohort
from .errors import InputError


@dataclass
class BiasResult:
    """The training cohort, the held-out rest, per-population counts and the seed."""

    train: Cohort
    heldout: Cohort
    table: dict[str, tuple[int, int]]  # population -> (before, kept)
    seed: int


def parse_keep(text: str) -> dict[str, float]:
    """'EAS=0.2,AFR=0.2' -> {'EAS': 0.2, 'AFR': 0.2}; fractions in (0, 1]."""
    keep = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            fraction = float(value)
        except ValueError:
            fraction = -1.0
        if not sep or not name or not 0 < fraction <= 1:
            raise InputError(f"keep {text!r}: expected POP=FRACTION pairs with 0 < FRACTION <= 1, "
                             "e.g. EAS=0.2,AFR=0.2,SAS=0.2")
        keep[name.strip()] = fraction
    if not keep:
        raise InputError("keep is empty; give POP=FRACTION pairs, e.g. EAS=0.2,AFR=0.2,SAS=0.2")
    return keep


def bias(cohort: Cohort, keep: dict[str, float], *, seed: int | None = None) -> BiasResult:
    """Keep round(fraction * n) random members (at least 1) of each named population.

    Sample order is preserved in both outputs; the same seed keeps the same samples.
    """
    seed = secrets.randbits(63) if seed is None else int(seed)
    counts = cohort.samples.population_counts()
    unknown = [p for p in keep if p not in counts]
    if unknown:
        raise InputError(f"unknown population {unknown[0]!r}; the cohort has {', '.join(counts)}")
    streams = dict(zip(sorted(counts), np.random.SeedSequence(seed).spawn(len(counts))))
    kept = np.ones(cohort.n_samples, dtype=bool)
    table = {}
    for pop, n in counts.items():
        members = np.flatnonzero(cohort.samples.populations == pop)
        n_keep = max(1, round(keep[pop] * n)) if pop in keep else n
        if pop in keep:
            chosen = np.random.default_rng(streams[pop]).choice(members, size=n_keep, replace=False)
            kept[members] = False
            kept[chosen] = True
        table[pop] = (n, n_keep)
    return BiasResult(cohort.take_samples(np.flatnonzero(kept)), cohort.take_samples(np.flatnonzero(~kept)),
                      table, seed)


def default_heldout_path(train_path) -> str:
    """train.vcf.gz -> train.heldout.vcf.gz (same type as the training output)."""
    from .io.vcf import output_kind

    text = str(train_path)
    kind = output_kind(text)
    return text[: -len(kind) - 1] + ".heldout." + kind


def bias_file(input, output, *, keep: str, panel=None, label_column=None, heldout=None, seed=None,
              show_progress=False):
    """Read any input, apply ``bias``, write the training and held-out cohorts (+panels)."""
    from .cohort import provenance_record
    from .io import read_cohort, write_output
    from .io.vcf import output_kind

    output_kind(output)
    heldout = heldout or default_heldout_path(output)
    output_kind(heldout)
    fractions = parse_keep(keep)
    cohort = read_cohort(input, panel=panel, label_column=label_column, show_progress=show_progress)
    result = bias(cohort, fractions, seed=seed)
    params = {"input": str(input), "keep": fractions}
    paths = write_output(output, result.train, show_progress=show_progress, provenance=[
        *cohort.provenance, provenance_record("bias", {**params, "part": "train"}, seed=result.seed)])
    paths += write_output(heldout, result.heldout, show_progress=show_progress, provenance=[
        *cohort.provenance, provenance_record("bias", {**params, "part": "heldout"}, seed=result.seed)])
    return result, paths
