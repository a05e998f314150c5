"""The paper's study design: keep a fraction of some populations and all of the others."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from .cohort import Cohort, Samples
from .errors import InputError


@dataclass
class BiasResult:
    """The training cohort, the held-out rest, per-population counts and the seed."""

    train: Cohort
    heldout: Cohort
    table: dict[str, tuple[int, int]]  # population -> (before, kept)
    seed: int


@dataclass
class BiasSplit:
    """What ``bias_file`` wrote: per-population counts and the seed."""

    table: dict[str, tuple[int, int]]  # population -> (before, kept)
    seed: int

    @property
    def n_train(self) -> int:
        return sum(kept for _, kept in self.table.values())

    @property
    def n_heldout(self) -> int:
        return sum(before - kept for before, kept in self.table.values())


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


def choose_kept(samples: Samples, keep: dict[str, float], *, seed: int | None = None
                ) -> tuple[np.ndarray, dict[str, tuple[int, int]], int]:
    """(kept mask, population -> (before, kept), seed): round(fraction * n) random members (at
    least 1) of each population in ``keep``, every member of the others; the same seed keeps the
    same samples."""
    seed = secrets.randbits(63) if seed is None else int(seed)
    counts = samples.population_counts()
    unknown = [p for p in keep if p not in counts]
    if unknown:
        raise InputError(f"unknown population {unknown[0]!r}; the cohort has {', '.join(counts)}")
    streams = dict(zip(sorted(counts), np.random.SeedSequence(seed).spawn(len(counts))))
    kept = np.ones(len(samples), dtype=bool)
    table = {}
    for pop, n in counts.items():
        members = np.flatnonzero(samples.populations == pop)
        n_keep = max(1, round(keep[pop] * n)) if pop in keep else n
        if pop in keep:
            chosen = np.random.default_rng(streams[pop]).choice(members, size=n_keep, replace=False)
            kept[members] = False
            kept[chosen] = True
        table[pop] = (n, n_keep)
    return kept, table, seed


def bias(cohort: Cohort, keep: dict[str, float], *, seed: int | None = None) -> BiasResult:
    """``choose_kept`` on an in-memory cohort; sample order is preserved in both outputs."""
    kept, table, seed = choose_kept(cohort.samples, keep, seed=seed)
    return BiasResult(cohort.take_samples(np.flatnonzero(kept)), cohort.take_samples(np.flatnonzero(~kept)),
                      table, seed)


def default_heldout_path(train_path) -> str:
    """train.vcf.gz -> train.heldout.vcf.gz (same type as the training output)."""
    from .io.vcf import output_kind

    text = str(train_path)
    kind = output_kind(text)
    return text[: -len(kind) - 1] + ".heldout." + kind


def bias_file(input, output, *, keep: str, panel=None, label_column=None, heldout=None, seed=None,
              show_progress=False) -> tuple[BiasSplit, list[str]]:
    """Read any input, split it by ``choose_kept``, write the training and held-out cohorts (+panels).

    Genotypes stream through chunk by chunk (memory does not grow with the number of variants);
    VCF/BCF/PLINK input is first checked into a temporary cohort file, as ``read_cohort`` does.
    """
    import tempfile
    from pathlib import Path

    from .cohort import CohortFile, SampleSubset, provenance_record, write_cohort
    from .io import input_kind, open_source, require_panel, write_output
    from .io.vcf import output_kind

    output_kind(output)
    heldout = heldout or default_heldout_path(output)
    output_kind(heldout)
    fractions = parse_keep(keep)
    with tempfile.TemporaryDirectory(prefix="ogan-") as tmp:
        if input_kind(input) == "cohort" and panel is None:
            source = open_source(input, label_column=label_column)
        else:
            require_panel(input, panel)
            write_cohort(Path(tmp) / "input.h5", open_source(input, panel=panel, label_column=label_column),
                         show_progress=show_progress)
            source = CohortFile(Path(tmp) / "input.h5")
        with source:
            kept, table, seed = choose_kept(source.samples, fractions, seed=seed)
            params = {"input": str(input), "keep": fractions}
            paths = []
            for path, part, index in ((output, "train", np.flatnonzero(kept)),
                                      (heldout, "heldout", np.flatnonzero(~kept))):
                paths += write_output(path, SampleSubset(source, index), show_progress=show_progress, provenance=[
                    *source.provenance, provenance_record("bias", {**params, "part": part}, seed=seed)])
    return BiasSplit(table, seed), paths
