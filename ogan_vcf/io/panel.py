"""Population panels in 1000 Genomes form: ``sample pop super_pop gender``, tab-separated.

Reading tolerates a UTF-8 BOM, CRLF line ends and the trailing empty columns of the
1000 Genomes panel; everything else that is wrong is an InputError naming the line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cohort import Samples, atomic_path
from ..errors import InputError


@dataclass
class Panel:
    """The rows of a panel file, keyed by sample name."""

    path: str
    columns: list[str]  # header names, "sample" first
    rows: dict[str, list[str]]  # sample -> values in ``columns`` order
    label_column: str

    def match(self, sample_ids) -> tuple[Samples, list[str]]:
        """Samples for ``sample_ids`` (in that order) and the panel names not among them.

        A sample missing from the panel is an InputError.
        """
        missing = [s for s in sample_ids if s not in self.rows]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise InputError(
                f"{self.path}: sample {missing[0]!r}{more} of the genotype file is not in the "
                "panel; add it, or drop it first (e.g. `bcftools view -S keep.txt`)"
            )
        label = self.columns.index(self.label_column)
        rows = [self.rows[s] for s in sample_ids]
        panel = {
            name: np.array([row[j] for row in rows], dtype=object)
            for j, name in enumerate(self.columns) if j > 0
        }
        ids = np.empty(len(rows), dtype=object)
        ids[:] = list(sample_ids)
        samples = Samples(ids, np.array([row[label] for row in rows], dtype=object),
                          panel, self.label_column)
        wanted = set(sample_ids)
        return samples, [s for s in self.rows if s not in wanted]


def read_panel(path: str | os.PathLike, *, label_column: str | None = None) -> Panel:
    """Read a tab-separated panel with a header line that has a ``sample`` column.

    ``label_column`` defaults to ``super_pop`` when the header has it, else ``pop``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such panel file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: panel is not UTF-8 text ({e.reason} at byte {e.start})") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise InputError(f"{path}: panel is empty; expected a header line 'sample<TAB>pop<TAB>super_pop'")
    header_no, header = lines[0]
    columns = _trim(header.split("\t"))
    if "sample" not in columns or columns[0] != "sample":
        raise InputError(
            f"{path}: line {header_no}: panel header must start with a 'sample' column, got "
            f"{header[:60]!r} (tab-separated: sample pop super_pop gender)"
        )
    label_column = label_column or ("super_pop" if "super_pop" in columns else "pop")
    if label_column not in columns:
        raise InputError(f"{path}: panel has no {label_column!r} column (columns: {', '.join(columns)})")
    label = columns.index(label_column)
    rows: dict[str, list[str]] = {}
    for n, line in lines[1:]:
        values = _trim(line.split("\t"))
        if len(values) < len(columns):
            raise InputError(
                f"{path}: line {n}: {len(values)} columns, the header has {len(columns)} "
                "(is the panel tab-separated?)"
            )
        values = values[: len(columns)]
        sample = values[0]
        if not values[label].strip():
            raise InputError(f"{path}: line {n}: sample {sample!r} has an empty {label_column!r}")
        if sample in rows:
            raise InputError(f"{path}: line {n}: sample {sample!r} is listed twice")
        rows[sample] = values
    if not rows:
        raise InputError(f"{path}: panel has a header but no samples")
    return Panel(str(path), columns, rows, label_column)


def _trim(values: list[str]) -> list[str]:
    """Drop the trailing empty columns (1000 Genomes panels end lines with tabs)."""
    while values and values[-1] == "":
        values.pop()
    return values


def write_panel(path: str | os.PathLike, samples: Samples) -> None:
    """Write ``samples`` as a panel: every stored panel column, else ``sample`` + label."""
    columns = dict(samples.panel) or {samples.label_column: samples.populations}
    columns.setdefault(samples.label_column, samples.populations)
    lines = ["\t".join(["sample", *columns])]
    for i, sample in enumerate(samples.ids):
        lines.append("\t".join([sample, *(str(c[i]) for c in columns.values())]))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
