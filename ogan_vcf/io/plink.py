"""PLINK 1 binary sets (.bed/.bim/.fam): read and write with bed-reader.

Alleles follow PLINK's convention as plink2 writes it: .bim column 5 (A1) is ALT,
column 6 (A2) is REF, and the .bed counts A1. PLINK genotypes are unphased.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..cohort import Samples, VariantChunk, VariantSource, atomic_path
from ..errors import InputError, OutputError
from .vcf import _BASES, Region

_BED_MAGIC = b"\x6c\x1b\x01"


def plink_prefix(path: str | os.PathLike) -> Path | None:
    """The .bed/.bim/.fam prefix for ``path`` (a prefix or the .bed), or None."""
    path = Path(path)
    prefix = path.with_suffix("") if path.suffix in (".bed", ".bim", ".fam") else path
    return prefix if prefix.with_suffix(".bed").exists() else None


class PlinkSource:
    """Biallelic SNPs of a PLINK 1 set as VariantChunks (unphased, -1 missing)."""

    def __init__(self, path: str | os.PathLike, *, region: Region | None = None, chunk_variants: int = 4096):
        from bed_reader import open_bed

        prefix = plink_prefix(path)
        if prefix is None:
            raise InputError(f"{path}: no such PLINK .bed file")
        self.path = str(prefix.with_suffix(".bed"))
        for ext in (".bim", ".fam"):
            if not prefix.with_suffix(ext).exists():
                raise InputError(f"{self.path}: the {ext} file beside it is missing")
        try:
            self._bed = open_bed(self.path, num_threads=2)
            iid = np.asarray(self._bed.iid, dtype=object)
            self._chrom = np.asarray(self._bed.chromosome).astype(str)
            self._pos = np.asarray(self._bed.bp_position, dtype=np.int64)
            self._sid = np.asarray(self._bed.sid, dtype=object)
            self._a1 = np.asarray(self._bed.allele_1).astype(str)
            self._a2 = np.asarray(self._bed.allele_2).astype(str)
        except (ValueError, OSError, IndexError) as e:
            raise InputError(f"{self.path}: cannot read the PLINK set ({' '.join(str(e).split())})") from None
        self._check_size(len(iid), len(self._sid))
        dupes = [s for s, n in Counter(iid).items() if n > 1]
        if dupes:
            raise InputError(f"{prefix.with_suffix('.fam')}: duplicate sample IID {dupes[0]!r}")
        self.sample_names = list(iid)
        self.samples = Samples(iid, np.full(len(iid), "", dtype=object))
        self.contig_id = list(dict.fromkeys(self._chrom))
        self.contig_length = [-1] * len(self.contig_id)
        self.provenance: list[dict] = []
        self.region = region
        self.chunk_variants = chunk_variants
        self.notes: list[str] = []
        self.counts: Counter = Counter()
        self.phased = False
        self._keep = self._select()
        self.n_variants = int(self._keep.sum())

    def _check_size(self, n_samples: int, n_variants: int) -> None:
        expected = 3 + n_variants * math.ceil(n_samples / 4)
        with open(self.path, "rb") as fh:
            magic = fh.read(3)
        size = os.path.getsize(self.path)
        if magic != _BED_MAGIC:
            raise InputError(f"{self.path}: not a variant-major PLINK 1 .bed file (bad magic bytes)")
        if size != expected:
            state = "truncated" if size < expected else "longer than expected"
            raise InputError(
                f"{self.path}: .bed is {state}: {size} bytes, {n_variants} variants x "
                f"{n_samples} samples need {expected}"
            )

    def _select(self) -> np.ndarray:
        """Mask of the biallelic SNPs (in the region, if any); counts the rest."""
        snp = np.array([a in _BASES and b in _BASES and a != b for a, b in zip(self._a1, self._a2)], dtype=bool)
        missing_allele = np.isin(self._a1, ["0", "."]) | np.isin(self._a2, ["0", "."])
        self.counts["no_alt"] = int(np.count_nonzero(missing_allele))
        self.counts["not_snp"] = int(np.count_nonzero(~snp & ~missing_allele))
        keep = snp
        if self.region is not None:
            r = self.region
            inside = (self._chrom == r.contig) & (self._pos >= r.start)
            if r.end is not None:
                inside &= self._pos <= r.end
            keep &= inside
        if not keep.any():
            where = f" in {self.region}" if self.region else ""
            raise InputError(f"{self.path}: no biallelic SNPs{where}")
        return keep

    def chunks(self) -> Iterator[VariantChunk]:
        contig_index = {c: i for i, c in enumerate(self.contig_id)}
        chunk_sites = np.flatnonzero(self._keep)
        last = (-1, -1)
        for start in range(0, len(chunk_sites), self.chunk_variants):
            sites = chunk_sites[start:start + self.chunk_variants]
            try:
                counts = self._bed.read(index=np.s_[:, sites], dtype="int8", order="C")
            except Exception as e:
                raise InputError(f"{self.path}: cannot read genotypes ({' '.join(str(e).split())})") from None
            counts = counts.T  # (n, S) copies of A1 (ALT); -127 missing
            missing = counts < 0
            genotypes = np.stack([counts == 2, counts >= 1], axis=2).astype(np.int8)
            genotypes[missing] = -1
            contig = np.array([contig_index[c] for c in self._chrom[sites]], dtype=np.int32)
            position = self._pos[sites]
            keys = list(zip(contig.tolist(), position.tolist()))
            self.counts["unsorted"] += sum(b < a for a, b in zip([last, *keys[:-1]], keys))
            last = keys[-1]
            allele = np.stack([self._a2[sites], self._a1[sites]], axis=1).astype(object)
            self.counts["snps"] += len(sites)
            yield VariantChunk(contig, position, self._sid[sites], allele, genotypes,
                               np.zeros(counts.shape, dtype=bool))

    def close(self) -> None:
        self._bed.__exit__(None, None, None)


_SEX_CODE = {"male": 1, "m": 1, "1": 1, "female": 2, "f": 2, "2": 2}


def write_plink(path: str | os.PathLike, source: VariantSource, *, show_progress: bool = False) -> list[str]:
    """Write ``source`` as a PLINK 1 set at the prefix of ``path`` (.bed/.bim/.fam).

    FID is written as the IID, sex comes from a panel ``gender``/``sex`` column when
    there is one, and phase is dropped (PLINK 1 cannot hold it).
    """
    from bed_reader import create_bed

    from .._progress import progress_bar

    prefix = Path(path).with_suffix("")
    ids = [str(s) for s in source.samples.ids]
    spaced = next((s for s in ids if any(c.isspace() for c in s)), None)
    if spaced is not None:
        raise OutputError(f"{path}: sample name {spaced!r} has whitespace, which a PLINK .fam cannot hold")
    sex_column = source.samples.panel.get("gender", source.samples.panel.get("sex"))
    sex = [_SEX_CODE.get(str(s).lower(), 0) for s in sex_column] if sex_column is not None else [0] * len(ids)
    n_variants = source.n_variants
    if n_variants is None:
        raise OutputError(f"{path}: PLINK output needs a source with a known variant count")
    finals = [prefix.with_suffix(ext) for ext in (".bed", ".bim", ".fam")]
    rows: dict[str, list] = {"chromosome": [], "sid": [], "bp_position": [], "allele_1": [], "allele_2": []}
    with atomic_path(finals[1]) as bim_tmp, atomic_path(finals[2]) as fam_tmp, atomic_path(finals[0]) as bed_tmp:
        chunks = source.chunks()
        with create_bed(bed_tmp, len(ids), n_variants, fam_location=fam_tmp, bim_location=bim_tmp,
                        properties={"fid": ids, "iid": ids, "sex": sex}) as writer, \
                progress_bar("writing PLINK", n_variants, show=show_progress) as bar:
            for chunk in chunks:
                counts = (chunk.genotypes == 1).sum(axis=2, dtype=np.int8)
                counts[(chunk.genotypes < 0).any(axis=2)] = -127
                for row in counts:
                    writer.write(row)
                rows["chromosome"] += [source.contig_id[c] for c in chunk.contig]
                rows["sid"] += list(chunk.id)
                rows["bp_position"] += chunk.position.tolist()
                rows["allele_1"] += list(chunk.allele[:, 1])
                rows["allele_2"] += list(chunk.allele[:, 0])
                bar.advance(len(chunk))
        _write_bim(bim_tmp, rows)
    return [str(p) for p in finals]


def _write_bim(path: Path, rows: dict[str, list]) -> None:
    lines = [
        f"{c}\t{sid}\t0\t{pos}\t{a1}\t{a2}"
        for c, sid, pos, a1, a2 in zip(rows["chromosome"], rows["sid"], rows["bp_position"],
                                       rows["allele_1"], rows["allele_2"])
    ]
    path.write_text("\n".join(lines) + "\n")
