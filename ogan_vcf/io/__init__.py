"""Readers and writers of the outside formats, all meeting at the cohort model.

``open_source`` opens VCF/BCF, PLINK or a cohort .h5 as a VariantSource (labelled
from a panel); ``write_output`` writes any VariantSource as .vcf.gz/.bcf/.vcf (+panel),
a PLINK set (+panel) or a cohort .h5.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..cohort import CohortFile, VariantSource, is_cohort_path, write_cohort
from ..errors import InputError
from .panel import Panel, read_panel, write_panel
from .plink import PlinkSource, plink_prefix, write_plink
from .vcf import Region, VcfSource, output_kind, write_vcf

__all__ = [
    "Panel", "Region", "VcfSource", "PlinkSource", "CohortFile", "open_source", "read_panel",
    "write_panel", "write_output", "write_vcf", "write_plink", "panel_path_for", "input_kind", "read_cohort",
    "read_vcf", "read_plink",
]


def input_kind(path: str | os.PathLike) -> str:
    """'cohort', 'plink' or 'vcf' for an input path; InputError if there is nothing there."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a VCF/BCF, PLINK or cohort file")
    if path.suffix in (".bed", ".bim", ".fam") or (not path.exists() and plink_prefix(path)):
        return "plink"
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    return "cohort" if is_cohort_path(path) else "vcf"


def open_source(path: str | os.PathLike, *, panel: str | os.PathLike | None = None,
                label_column: str | None = None, region: Region | None = None):
    """Open ``path`` as a VariantSource with labelled samples.

    VCF/BCF/PLINK need a ``panel`` to label samples (notes list panel samples the
    file lacks); a cohort carries its labels, and a panel given with it relabels it.
    """
    kind = input_kind(path)
    if kind == "cohort":
        source = CohortFile(path)
        source.notes, source.counts, source.region = [], {}, None
        if region is not None:
            source.close()
            raise InputError(f"{path}: a region applies to VCF/BCF/PLINK input, not to a cohort")
    else:
        source = PlinkSource(path, region=region) if kind == "plink" else VcfSource(path, region=region)
    if panel is not None:
        matched, extra = read_panel(panel, label_column=label_column).match(list(source.samples.ids))
        source.samples = matched
        if extra:
            source.notes.append(f"{len(extra)} panel samples are not in {source.path}; ignored")
    elif kind == "cohort" and label_column and label_column != source.samples.label_column:
        source.samples = source.samples.relabel(label_column, str(path))
    elif kind != "cohort":
        source.samples.label_column = "none"
    return source


def require_panel(path: str | os.PathLike, panel, panel_role: str | None = None) -> None:
    """Refuse VCF/BCF/PLINK input without a panel (one line naming the file, and the panel beside it)."""
    if panel is None and input_kind(path) != "cohort":
        beside = panel_path_for(path)
        hints = ([panel_role] if panel_role else []) + ([f"e.g. {beside}"] if beside.is_file() else [])
        hint = f" ({', '.join(hints)})" if hints else ""
        raise InputError(f"{path}: a VCF/BCF/PLINK input needs a panel to label its samples{hint}")


def read_cohort(path: str | os.PathLike, *, panel: str | os.PathLike | None = None,
                label_column: str | None = None, region: Region | None = None, show_progress: bool = False,
                panel_role: str | None = None):
    """Any input (cohort .h5, or VCF/BCF/PLINK + panel) as an in-memory Cohort.

    Non-cohort input goes through the same checks as ``ogan ingest`` (via a temporary
    cohort file), so every command sees sorted, checked, labelled data. A cohort can be
    relabelled by another of its stored panel columns (``label_column``). ``panel_role``
    says in the missing-panel error which panel is meant (e.g. "the synthetic cohort's panel").
    """
    import tempfile

    from ..cohort import load

    kind = input_kind(path)
    if kind == "cohort" and panel is None and region is None:
        cohort = load(path)
        if label_column and label_column != cohort.samples.label_column:
            cohort.samples = cohort.samples.relabel(label_column, str(path))
        return cohort
    require_panel(path, panel, panel_role)
    source = open_source(path, panel=panel, label_column=label_column, region=region)
    with tempfile.TemporaryDirectory(prefix="ogan-") as tmp:
        write_cohort(Path(tmp) / "input.h5", source, show_progress=show_progress)
        cohort = load(Path(tmp) / "input.h5")
    cohort.path = str(path)
    return cohort


def read_vcf(path: str | os.PathLike, *, panel: str | os.PathLike, label_column: str | None = None,
             region: Region | None = None, show_progress: bool = False):
    """A VCF/BCF (plain, gzip or bgzipped) labelled by ``panel``, as a checked in-memory Cohort."""
    if input_kind(path) != "vcf":
        raise InputError(f"{path}: not a VCF/BCF file (use read_plink for PLINK sets, load for cohort files)")
    return read_cohort(path, panel=panel, label_column=label_column, region=region, show_progress=show_progress)


def read_plink(path: str | os.PathLike, *, panel: str | os.PathLike, label_column: str | None = None,
               region: Region | None = None, show_progress: bool = False):
    """A PLINK 1 set (prefix or .bed/.bim/.fam) labelled by ``panel``, as a checked in-memory Cohort
    (unphased; .bim A1 is read as ALT, so match it to a VCF with ``reporting.sites.match_sites``)."""
    if input_kind(path) != "plink":
        raise InputError(f"{path}: not a PLINK .bed/.bim/.fam set")
    return read_cohort(path, panel=panel, label_column=label_column, region=region, show_progress=show_progress)


def panel_path_for(path: str | os.PathLike) -> Path:
    """The panel written beside an output: out.vcf.gz -> out.panel."""
    path = Path(path)
    name = path.name
    for ext in (".vcf.gz", ".vcf.bgz", ".bcf", ".vcf", ".bed", ".h5"):
        if name.endswith(ext):
            return path.with_name(name[: -len(ext)] + ".panel")
    return path.with_name(name + ".panel")


def write_output(path: str | os.PathLike, source: VariantSource, *, provenance: list[dict] | None = None,
                 show_progress: bool = False) -> list[str]:
    """Write ``source`` to ``path`` by its extension; VCF/BCF/PLINK get a panel beside.

    ``provenance`` is the full record list to store (defaults to the source's).
    Returns the paths written.
    """
    kind = output_kind(path)
    if kind == "h5":
        write_cohort(path, source, provenance=provenance, show_progress=show_progress)
        return [str(path)]
    if kind == "bed":
        written = write_plink(path, source, show_progress=show_progress)
    else:
        written = write_vcf(path, source, provenance=provenance, show_progress=show_progress)
    panel = panel_path_for(path)
    write_panel(panel, source.samples)
    return [*written, str(panel)]
