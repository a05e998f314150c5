"""Ingest, export and describe: cohorts in and out of VCF/BCF/PLINK."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from .cohort import CohortFile, count_missing_calls, count_unphased_calls, provenance_record, write_cohort
from .errors import InputError
from .io import Region, open_source, write_output
from .io.vcf import output_kind


@dataclass
class IngestSummary:
    """What ``ingest`` read, kept, skipped and noted."""

    input: str
    output: str
    n_samples: int
    n_snps: int
    populations: dict[str, int]
    snps_per_contig: dict[str, int]
    skipped: dict[str, int]
    missing_calls: int
    unphased_calls: int
    resorted: bool
    notes: list[str] = field(default_factory=list)

    @property
    def phased(self) -> bool:
        """Every called call is phased (missing calls have no phase and do not count)."""
        return self.unphased_calls == 0


_SKIP_HINTS = {
    "multiallelic": "split them first with `bcftools norm -m-`",
    "not_snp": "indels and symbolic alleles are not modelled",
    "no_alt": "sites with no ALT allele carry no variation",
}


def ingest(input: str | os.PathLike, output: str | os.PathLike, *, panel: str | os.PathLike,
           label_column: str | None = None, region: str | None = None,
           show_progress: bool = False) -> IngestSummary:
    """Read VCF/BCF/PLINK + panel into one cohort .h5 file (biallelic SNPs only)."""
    if output_kind(output) != "h5":
        raise InputError(f"{output}: ingest writes a cohort; name the output .h5")
    parsed = Region.parse(region) if region else None
    source = open_source(input, panel=panel, label_column=label_column, region=parsed)
    record = provenance_record("ingest", {"input": str(input), "panel": str(panel),
                                          "label_column": source.samples.label_column, "region": region})
    written = write_cohort(output, source, provenance=[*source.provenance, record], show_progress=show_progress)
    counts = Counter(source.counts)
    notes = list(source.notes)
    for reason, hint in _SKIP_HINTS.items():
        if counts[reason]:
            notes.append(f"skipped {counts[reason]} {reason.replace('_', ' ')} records: {hint}")
    if written.unphased_calls:
        notes.append(f"{written.unphased_calls} unphased calls stored unphased; phase before "
                     "training (e.g. Beagle) to model haplotypes")
    if written.missing_calls:
        notes.append(f"{written.missing_calls} missing calls kept as missing; impute before training")
    if written.resorted:
        notes.append(f"records were not sorted ({counts['unsorted']} out of order); stored sorted")
    with CohortFile(output) as stored:
        per_contig = Counter(stored.variant_contig.tolist())
        snps_per_contig = {stored.contig_id[i]: per_contig[i] for i in sorted(per_contig)}
    return IngestSummary(
        str(input), str(output), len(source.samples), written.n_variants,
        source.samples.population_counts(), snps_per_contig,
        {k: counts[k] for k in _SKIP_HINTS if counts[k]},
        written.missing_calls, written.unphased_calls, written.resorted, notes,
    )


@dataclass
class ExportSummary:
    """What ``export`` wrote."""

    input: str
    paths: list[str]
    n_samples: int
    n_snps: int
    phased: bool


def export(cohort_path: str | os.PathLike, output: str | os.PathLike, *,
           show_progress: bool = False) -> ExportSummary:
    """Write a cohort as .vcf.gz/.bcf/.vcf (indexed where compressed) or PLINK .bed, + panel."""
    with CohortFile(cohort_path) as cohort:
        record = provenance_record("export", {"input": str(cohort_path), "output": str(output)})
        paths = write_output(output, cohort, provenance=[*cohort.provenance, record],
                             show_progress=show_progress)
        return ExportSummary(str(cohort_path), paths, len(cohort.samples), cohort.n_variants,
                             cohort.n_unphased_calls == 0 and output_kind(output) != "bed")


@dataclass
class Description:
    """What ``describe`` found in a cohort, VCF/BCF or PLINK file."""

    path: str
    kind: str
    n_samples: int
    populations: dict[str, int]
    label_column: str
    snps_per_contig: dict[str, int]
    skipped: dict[str, int]
    missing_calls: int
    unphased_calls: int
    total_calls: int
    provenance: list[dict]
    notes: list[str]


def describe(path: str | os.PathLike, *, panel: str | os.PathLike | None = None,
             label_column: str | None = None, show_progress: bool = False) -> Description:
    """Count samples per population, SNPs per contig, phasing and missing calls.

    Streams the genotypes once, so it works on inputs of any size.
    """
    from ._progress import progress_bar

    source = open_source(path, panel=panel, label_column=label_column)
    per_contig: Counter = Counter()
    missing = unphased = total = 0
    try:
        with progress_bar("reading", source.n_variants, show=show_progress) as bar:
            for chunk in source.chunks():
                per_contig.update(chunk.contig.tolist())
                missing += count_missing_calls(chunk.genotypes)
                unphased += count_unphased_calls(chunk.genotypes, chunk.phased)
                total += chunk.phased.size
                bar.advance(len(chunk))
    finally:
        if isinstance(source, CohortFile):
            source.close()
    counts = Counter(getattr(source, "counts", {}))
    kind = "cohort" if isinstance(source, CohortFile) else getattr(source, "format", "plink")
    populations = source.samples.population_counts() if source.samples.label_column != "none" else {}
    return Description(
        str(path), kind, len(source.samples), populations, source.samples.label_column,
        {source.contig_id[i]: per_contig[i] for i in sorted(per_contig)},
        {k: counts[k] for k in _SKIP_HINTS if counts[k]}, missing, unphased, total,
        list(source.provenance), list(source.notes),
    )
