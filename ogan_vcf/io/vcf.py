"""VCF and BCF: read with cyvcf2 in chunks; write bgzipped, indexed VCF or BCF.

Only biallelic SNPs are read; other records are skipped and counted. Genotypes are
read with ``Variant.genotype.array()`` into a chunk buffer and checked per chunk
(haploid calls, allele index beyond ALT), so memory is bounded by the chunk size.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import json
import os
import re
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cohort import Samples, VariantChunk, VariantSource, variants_per_chunk, atomic_path
from ..errors import InputError, OutputError

_BASES = frozenset("ACGTN")
BGZF_MODE = "wb4"  # bgzip level 4: ~4x faster than the default level, a few % larger


_HTS_LOG_OFF, _HTS_LOG_WARNING = 0, 3


def _htslib():
    import cyvcf2.cyvcf2 as compiled

    return ctypes.CDLL(compiled.__file__)


def _quiet_htslib() -> None:
    """Silence htslib while records stream (per-record messages would flood stderr; our errors
    say what went wrong). Opening and region queries capture its messages: ``_htslib_messages``."""
    _htslib().hts_set_log_level(_HTS_LOG_OFF)


_HTSLIB_LINE = re.compile(rb"^\[[EW]::")


@contextlib.contextmanager
def _htslib_messages() -> Iterator[list[str]]:
    """Capture htslib's ``[E::...]`` and ``[W::...]`` lines written inside the block.

    Raises htslib's log level to warnings and points file descriptor 2 at a temporary
    file; both are restored on exit, when the yielded list is filled. Anything else
    written to fd 2 meanwhile (a progress bar's thread) is passed on to it. Keep the
    block short: only around an open or a region query, never around the records.
    """
    lib, lines = _htslib(), []
    previous = lib.hts_get_log_level()
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to capture (a closed fd 2): htslib stays quiet
        yield lines
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        lib.hts_set_log_level(_HTS_LOG_WARNING)
        try:
            yield lines
        finally:
            lib.hts_set_log_level(previous)
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            other = []
            for line in capture.read().splitlines(keepends=True):
                if _HTSLIB_LINE.match(line):
                    lines.append(line.decode("utf-8", "replace").strip())
                else:
                    other.append(line)
            if other:
                os.write(2, b"".join(other))


@dataclass
class Region:
    """A 1-based inclusive genomic interval; ``end`` None means to the contig's end."""

    contig: str
    start: int = 1
    end: int | None = None

    @classmethod
    def parse(cls, text: str) -> Region:
        m = re.fullmatch(r"([^:\s]+)(?::([\d,]+)?-([\d,]+)?)?", text.strip())
        if not m:
            raise InputError(f"region {text!r}: expected CHR or CHR:START-END, e.g. 6:29000000-33000000")
        contig, start, end = m.groups()
        start = int(start.replace(",", "")) if start else 1
        end = int(end.replace(",", "")) if end else None
        if end is not None and end < start:
            raise InputError(f"region {text!r}: end is before start")
        return cls(contig, start, end)

    def __str__(self) -> str:
        return f"{self.contig}:{self.start}-{self.end}" if self.end else f"{self.contig}:{self.start}-"


_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def sniff_format(path: Path) -> str:
    """'bcf' or 'vcf' from the bytes (not the name); InputError for anything else.

    A BGZF file must end with the BGZF EOF block: without it the file was cut short
    at a block boundary, which htslib would otherwise read as a shorter, valid file.
    """
    with open(path, "rb") as fh:
        head = fh.read(18)
        if not head:
            raise InputError(f"{path}: file is empty")
        if head[:2] == b"\x1f\x8b":
            if head[3] & 4 and head[12:14] == b"BC":
                fh.seek(-len(_BGZF_EOF), os.SEEK_END)
                if fh.read() != _BGZF_EOF:
                    raise InputError(f"{path}: truncated BGZF file (no EOF block); nothing was written")
            try:
                with gzip.open(path, "rb") as gz:
                    head = gz.read(5)
            except (OSError, EOFError) as e:
                raise InputError(f"{path}: corrupt or truncated gzip/BGZF data ({e})") from None
    if head[:3] == b"BCF":
        return "bcf"
    if head.startswith(b"##"):
        return "vcf"
    raise InputError(f"{path}: not a VCF or BCF file (it does not start with '##fileformat')")


def find_index(path: str | os.PathLike) -> str | None:
    """The index htslib would load for a region query on ``path``, or None.

    As htslib looks (``hts_idx_check_local``): PATH.csi, then PATH with its last suffix
    replaced by .csi, then (not for a file cyvcf2 treats as BCF, by its name) the same
    with .tbi. Only a BGZF-compressed file can have one: a plain or gzip VCF has none.
    """
    path = str(path)
    with open(path, "rb") as fh:
        head = fh.read(18)
    if not (head[:2] == b"\x1f\x8b" and len(head) == 18 and head[3] & 4 and head[12:14] == b"BC"):
        return None
    stem = os.path.splitext(path)[0]
    kinds = (".csi",) if path.endswith((".bcf", ".bcf.gz")) else (".csi", ".tbi")
    for candidate in (name + kind for kind in kinds for name in (path, stem)):
        if os.path.isfile(candidate):
            return candidate
    return None


class VcfSource:
    """Biallelic SNPs of a VCF/BCF as VariantChunks, plus counts of what was skipped."""

    def __init__(self, path: str | os.PathLike, *, region: Region | None = None,
                 chunk_variants: int | None = None, threads: int = 2):
        _quiet_htslib()
        self.path = str(path)
        self.format = sniff_format(Path(path))
        self.notes: list[str] = []
        self._vcf = self._open(threads)
        names = list(self._vcf.samples)
        if not names:
            raise InputError(f"{path}: no samples (a sites-only VCF); genotypes are needed")
        if self._vcf.contains("GT") is False:
            raise InputError(f"{path}: no GT FORMAT field in the header; genotypes are needed")
        dupes = [s for s, n in Counter(names).items() if n > 1]
        if dupes:
            raise InputError(f"{path}: duplicate sample name {dupes[0]!r}; rename with `bcftools reheader`")
        self.sample_names = names
        self.samples = Samples(np.array(names, dtype=object), np.full(len(names), "", dtype=object))
        self.contig_id, self.contig_length = _header_contigs(self._vcf)
        self._contig_index = {c: i for i, c in enumerate(self.contig_id)}
        self.region = region
        self.provenance = _header_provenance(self._vcf.raw_header)  # what ogan wrote it from, if it did
        self.n_variants = None
        # whole HDF5 chunks per write: a partial chunk would be decompressed and rewritten
        self.chunk_variants = chunk_variants or variants_per_chunk(len(names), 16 << 20)
        self.counts = Counter()
        self.phased = True
        self._index_hint = ""  # htslib's warnings about the index, for a later read error

    def _open(self, threads: int):
        """cyvcf2.VCF on the file; htslib's warnings become notes, its errors join the InputError."""
        import cyvcf2

        error = None
        with _htslib_messages() as messages:
            try:
                vcf = cyvcf2.VCF(self.path, threads=threads)
            except Exception as e:  # cyvcf2 raises a bare Exception on bad headers
                error = e
        self.notes += [f"{self.path}: htslib: {m}" for m in messages if m.startswith("[W::")]
        if error is not None:
            why = _diagnose_header(Path(self.path)) or "cannot read as VCF/BCF"
            detail = "; ".join([_clean(error), *(m for m in messages if m.startswith("[E::"))])
            raise InputError(f"{self.path}: {why} ({detail})")
        return vcf

    def _records(self):
        """Iterate records: by an index query when the file has an index, else by filtering."""
        if self.region is None:
            yield from self._vcf
            return
        index = find_index(self.path)
        if index is None:
            self.notes.append(f"{self.path} has no index: read it whole to select {self.region}")
            r = self.region
            for rec in self._vcf:
                if rec.CHROM == r.contig and rec.POS >= r.start and (r.end is None or rec.POS <= r.end):
                    yield rec
            return
        it, first = self._query(index)
        if first is not None:
            yield first
            yield from it

    def _query(self, index: str):
        """Start the region query through ``index``: (iterator, first record or None).

        A contig the index does not know gives no records. A query that fails (a damaged
        index, a stale one) is an InputError with htslib's own words; its warnings are notes.
        """
        error, it, first = None, None, None
        with _htslib_messages() as messages, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cyvcf2 warns "no intervals found" for an unknown contig
            try:
                it = self._vcf(str(self.region))
                first = next(it, None)
            except Exception as e:  # cyvcf2 asserts that the index loaded
                error = e
        errors = [m for m in messages if m.startswith("[E::")]
        fix = "bcftools index -t" if index.endswith(".tbi") else "bcftools index"
        if error is not None or (first is None and errors):
            detail = "; ".join(errors) or _clean(error)
            raise InputError(f"{self.path}: the region query {self.region} through the index {index} failed "
                             f"({detail}); re-index with `{fix} {self.path}`, or remove the index to read it whole")
        stale = any("older than the data file" in m for m in messages)
        self.notes += [f"{self.path}: htslib: {m}" for m in messages]
        if stale:
            self.notes.append(f"{self.path}: if the file was rewritten after {index} was made, records of "
                              f"{self.region} may be missing; re-index with `{fix} {self.path}`")
        if messages:
            self._index_hint = f"; read through the index {index} ({'; '.join(messages)}): re-index with `{fix}`"
        return it, first

    def chunks(self) -> Iterator[VariantChunk]:
        # int8 rows (allele, allele, phased): cyvcf2's int16 rows are narrowed on assignment
        buf = np.empty((self.chunk_variants, len(self.sample_names), 3), dtype=np.int8)
        meta = _ChunkMeta()
        counts = self.counts
        last_chrom, contig, last_key = None, -1, (-1, -1)
        try:
            for rec in self._records():
                alt = rec.ALT
                if len(alt) != 1:
                    counts["multiallelic" if alt else "no_alt"] += 1
                    continue
                ref, alt = rec.REF, alt[0]
                if len(ref) != 1 or len(alt) != 1 or ref.upper() not in _BASES or alt.upper() not in _BASES:
                    counts["not_snp"] += 1
                    continue
                chrom, pos = rec.CHROM, rec.POS
                if chrom != last_chrom:
                    last_chrom, contig = chrom, self._contig(chrom)
                if (contig, pos) < last_key:
                    counts["unsorted"] += 1
                last_key = (contig, pos)
                buf[len(meta.position)] = rec.genotype.array()
                meta.add(contig, pos, rec.ID or ".", ref, alt)
                if len(meta.position) == self.chunk_variants:
                    yield self._finish_chunk(buf, meta)
                    meta = _ChunkMeta()
        except InputError:
            raise
        except Exception as e:
            raise InputError(
                f"{self.path}: corrupt or truncated data after {self._last_site(meta)} "
                f"({_clean(e)}{self._index_hint}); nothing was written"
            ) from None
        if len(meta):
            yield self._finish_chunk(buf, meta)
        if not counts["snps"]:
            where = f" in {self.region}" if self.region else ""
            if not counts:
                raise InputError(f"{self.path}: no variant records{where}{self._empty_hint()}")
            skipped = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
            raise InputError(f"{self.path}: no biallelic SNPs{where} (skipped: {skipped})")

    def _empty_hint(self) -> str:
        """Why nothing was read: a header-only file, or a region on a contig the file lacks."""
        if self.region is None:
            return " (header only?)"
        if self.contig_id and self.region.contig not in self.contig_id:
            shown = ", ".join(self.contig_id[:5]) + (", ..." if len(self.contig_id) > 5 else "")
            return f" (its contigs: {shown})"
        return ""

    def _last_site(self, meta: _ChunkMeta) -> str:
        if len(meta):
            return f"{self.contig_id[meta.contig[-1]]}:{meta.position[-1]}"
        return "the header" if not self.counts else "the last complete chunk"

    def _contig(self, name: str) -> int:
        index = self._contig_index.get(name)
        if index is None:
            index = self._contig_index[name] = len(self.contig_id)
            self.contig_id.append(name)
            self.contig_length.append(-1)
        return index

    def _finish_chunk(self, buf: np.ndarray, meta: _ChunkMeta) -> VariantChunk:
        """Check and convert the int16 cyvcf2 rows (allele, allele, phased) of a chunk."""
        raw = buf[: len(meta)]
        second = raw[:, :, 1]
        vector_end = second == -2  # a haploid call, or a lone "." for a missing diploid call
        missing_single = None
        if vector_end.any():
            missing_single = vector_end & (raw[:, :, 0] == -1)
            haploid = vector_end & ~missing_single
            if haploid.any():
                v, s = np.argwhere(haploid)[0]
                raise InputError(
                    f"{self.path}: haploid call at {self._site(meta, v)} for sample "
                    f"{self.sample_names[s]!r}; only diploid genotypes are supported"
                )
        genotypes = np.ascontiguousarray(raw[:, :, :2])
        if genotypes.max(initial=0) > 1:
            v, s, _ = np.argwhere(genotypes > 1)[0]
            raise InputError(
                f"{self.path}: genotype allele index {genotypes[v, s].max()} at {self._site(meta, v)} "
                f"(sample {self.sample_names[s]!r}) is beyond the single ALT allele"
            )
        phased = raw[:, :, 2].astype(bool)
        if missing_single is not None:
            genotypes[:, :, 1][missing_single] = -1
            phased &= ~missing_single
        self.counts["snps"] += len(meta)
        return meta.chunk(genotypes, phased)

    def _site(self, meta: _ChunkMeta, v: int) -> str:
        return f"{self.contig_id[meta.contig[v]]}:{meta.position[v]}"

    def close(self) -> None:
        self._vcf.close()


class _ChunkMeta:
    """Per-variant columns of the chunk being filled."""

    def __init__(self):
        self.contig, self.position, self.id, self.ref, self.alt = [], [], [], [], []

    def __len__(self) -> int:
        return len(self.position)

    def add(self, contig: int, pos: int, vid: str, ref: str, alt: str) -> None:
        self.contig.append(contig)
        self.position.append(pos)
        self.id.append(vid)
        self.ref.append(ref)
        self.alt.append(alt)

    def chunk(self, genotypes: np.ndarray, phased: np.ndarray) -> VariantChunk:
        allele = np.empty((len(self), 2), dtype=object)
        allele[:, 0], allele[:, 1] = self.ref, self.alt
        ids = np.empty(len(self), dtype=object)
        ids[:] = self.id
        return VariantChunk(np.array(self.contig, np.int32), np.array(self.position, np.int64),
                            ids, allele, genotypes, phased)


_CONTIG_LINE = re.compile(r"^##contig=<(.*)>\s*$", re.MULTILINE)


def _header_provenance(header: str) -> list[dict]:
    """The ``##ogan_provenance`` records of a header (unreadable ones are skipped)."""
    records = []
    for line in header.splitlines():
        if line.startswith("##ogan_provenance="):
            try:
                record = json.loads(line.split("=", 1)[1])
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def _header_contigs(vcf) -> tuple[list[str], list[int]]:
    """Contig names and lengths (-1 when absent) from the ``##contig`` header lines."""
    ids, lengths = [], []
    for body in _CONTIG_LINE.findall(vcf.raw_header):
        fields = dict(re.findall(r'(\w+)=("[^"]*"|[^,]*)', body))
        if "ID" in fields:
            ids.append(fields["ID"])
            length = fields.get("length", "")
            lengths.append(int(length) if length.isdigit() else -1)
    return ids, lengths


def _diagnose_header(path: Path) -> str | None:
    """Why htslib refused a header: damaged compression or duplicate sample names."""
    with open(path, "rb") as fh:
        opener = gzip.open if fh.read(2) == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:
            for line in fh:
                if line.startswith(b"#CHROM"):
                    names = line.rstrip(b"\r\n").decode("utf-8", "replace").split("\t")[9:]
                    dupes = [s for s, n in Counter(names).items() if n > 1]
                    if dupes:
                        return f"duplicate sample name {dupes[0]!r}; rename with `bcftools reheader`"
                    break
            while fh.read(1 << 20):
                pass
    except (OSError, EOFError) as e:
        return f"corrupt or truncated gzip/BGZF data ({e})"
    return None


def _clean(e: Exception) -> str:
    return " ".join(str(e).split()) or type(e).__name__


# ---------------------------------------------------------------- writing

def vcf_header(source: VariantSource, provenance: list[dict]) -> str:
    """The header text: fileformat, contigs, GT, source and provenance lines."""
    from .. import __version__

    lines = ["##fileformat=VCFv4.2", '##FILTER=<ID=PASS,Description="All filters passed">',
             f"##source=ogan_vcf {__version__}"]
    for name, length in zip(source.contig_id, source.contig_length):
        lines.append(f"##contig=<ID={name},length={length}>" if length > 0 else f"##contig=<ID={name}>")
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    for record in provenance:
        lines.append("##ogan_provenance=" + json.dumps(record, sort_keys=True, ensure_ascii=False))
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    lines.append("\t".join(columns + list(source.samples.ids)))
    return "\n".join(lines) + "\n"


_ALLELE_CHAR = np.frombuffer(b".01", dtype=np.uint8)  # index allele + 1


def format_records(chunk: VariantChunk, contig_id: list[str]) -> bytes:
    """The VCF text of a chunk's records; genotypes formatted with numpy, no per-call Python."""
    n, n_samples = chunk.genotypes.shape[:2]
    cells = np.empty((n, n_samples, 4), dtype=np.uint8)
    cells[:, :, 0] = _ALLELE_CHAR[chunk.genotypes[:, :, 0] + 1]
    cells[:, :, 1] = np.where(chunk.phased, ord("|"), ord("/"))
    cells[:, :, 2] = _ALLELE_CHAR[chunk.genotypes[:, :, 1] + 1]
    cells[:, :, 3] = ord("\t")
    cells[:, -1, 3] = ord("\n")
    rows = cells.reshape(n, -1)
    out = []
    for i in range(n):
        ref, alt = chunk.allele[i]
        out.append(f"{contig_id[chunk.contig[i]]}\t{chunk.position[i]}\t{chunk.id[i]}\t{ref}\t{alt}"
                   "\t.\t.\t.\tGT\t".encode())
        out.append(rows[i].tobytes())
    return b"".join(out)


def output_kind(path: str | os.PathLike) -> str:
    """'vcf.gz', 'bcf', 'vcf', 'bed' or 'h5' from an output file name."""
    name = str(path)
    for kind in ("vcf.gz", "vcf.bgz", "bcf", "vcf", "bed", "h5"):
        if name.endswith("." + kind):
            return "vcf.gz" if kind == "vcf.bgz" else kind
    raise OutputError(f"{path}: unknown output type; name it .vcf.gz, .bcf, .vcf, .bed or .h5")


def write_vcf(path: str | os.PathLike, source: VariantSource, *, provenance: list[dict] | None = None,
              show_progress: bool = False) -> list[str]:
    """Write ``source`` as .vcf.gz (+.tbi, or .csi past 2^29 bp), .bcf (+.csi) or .vcf.

    ``provenance`` (default: the source's) becomes ``##ogan_provenance`` lines.
    Returns the paths written. Everything is written under temporary names and
    renamed at the end, so a failure leaves no partial output.
    """
    import pysam

    kind = output_kind(path)
    if kind not in ("vcf.gz", "bcf", "vcf"):
        raise OutputError(f"{path}: write_vcf writes .vcf.gz, .bcf or .vcf")
    path = Path(path)
    provenance = source.provenance if provenance is None else provenance
    if kind == "vcf":
        with atomic_path(path, suffix=".vcf") as tmp:
            _write_text(tmp, source, provenance, show_progress, compressed=False)
        return [str(path)]
    if kind == "bcf":
        return _write_bcf(path, source, provenance, show_progress)
    with atomic_path(path, suffix=".vcf.gz") as tmp:
        max_pos = _write_text(tmp, source, provenance, show_progress, compressed=True)
        csi = max_pos >= 1 << 29
        pysam.tabix_index(str(tmp), preset="vcf", force=True, csi=csi)
        return [str(path), _place_index(tmp, path, "csi" if csi else "tbi")]


def _write_text(tmp: Path, source: VariantSource, provenance, show_progress: bool,
                *, compressed: bool) -> int:
    """Write header and records to ``tmp``; return the largest position written."""
    import pysam

    from .._progress import progress_bar

    max_pos = 0
    opener = pysam.BGZFile(str(tmp), BGZF_MODE) if compressed else open(tmp, "wb")
    with opener as fh, progress_bar("writing VCF", source.n_variants, show=show_progress) as bar:
        fh.write(vcf_header(source, provenance).encode())
        for chunk in source.chunks():
            fh.write(format_records(chunk, source.contig_id))
            max_pos = max(max_pos, int(chunk.position.max(initial=0)))
            bar.advance(len(chunk))
    return max_pos


def _place_index(tmp: Path, path: Path, kind: str) -> str:
    """Move ``tmp``'s index beside ``path`` and drop a stale index of the other kind."""
    final = Path(f"{path}.{kind}")
    os.replace(f"{tmp}.{kind}", final)
    Path(f"{path}.{'tbi' if kind == 'csi' else 'csi'}").unlink(missing_ok=True)
    return str(final)


def _write_bcf(path: Path, source: VariantSource, provenance, show_progress: bool) -> list[str]:
    """Stage a bgzipped VCF, convert it with pysam's bundled bcftools, index (.csi)."""
    import pysam.bcftools

    stage = path.with_name(f".{path.name}.{os.getpid()}.stage.vcf.gz")
    try:
        _write_text(stage, source, provenance, show_progress, compressed=True)
        with atomic_path(path, suffix=".bcf") as tmp:
            pysam.bcftools.view("--no-version", "-Ob", "-o", str(tmp), str(stage), catch_stdout=False)
            pysam.bcftools.index("--csi", str(tmp))
            return [str(path), _place_index(tmp, path, "csi")]
    finally:
        stage.unlink(missing_ok=True)
