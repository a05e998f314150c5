"""The cohort: the one data model that every command reads and writes.

A cohort is stored as one HDF5 file whose arrays carry the VCF Zarr names:

=======================  ==================  ==========================================
name                     dtype, shape        meaning
=======================  ==================  ==========================================
call_genotype            int8 (V, S, 2)      allele index per haplotype, -1 missing
call_genotype_phased     bool (V, S)         call written with ``|``
variant_contig           int32 (V,)          index into ``contig_id``
variant_position         int64 (V,)          1-based POS
variant_id               str (V,)            ID column, ``.`` when absent
variant_allele           str (V, 2)          REF, ALT
contig_id, contig_length str / int64 (C,)    contig names; length -1 when unknown
sample_id                str (S,)            sample names, verbatim
sample_population        str (S,)            the label (panel ``label_column``)
sample_panel/<column>    str (S,)            every panel column, for writing it back
provenance               str (P,)            one JSON record per command
=======================  ==================  ==========================================

Root attributes: ``ogan_cohort_version`` and ``label_column``. Genotypes are written
in variant chunks, so a cohort of any size is written and read with bounded memory.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import sys
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import h5py
import numpy as np

from ._progress import progress_bar
from .errors import CohortFormatError, InputError

COHORT_VERSION = "1.0"
GENOTYPE_CHUNK_VARIANTS = 1024
GENOTYPE_CHUNK_SAMPLES = 1024
GZIP_LEVEL = 1
_COMPRESSION = {"compression": "gzip", "compression_opts": GZIP_LEVEL}
_STR = h5py.string_dtype()


# ---------------------------------------------------------------- records

@dataclass
class Samples:
    """Sample names, their labels and the panel rows they came from."""

    ids: np.ndarray  # object str (S,)
    populations: np.ndarray  # object str (S,)
    panel: dict[str, np.ndarray] = field(default_factory=dict)  # column -> (S,)
    label_column: str = "super_pop"

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> Samples:
        """The samples at ``index`` (an integer or boolean array), in that order."""
        return Samples(
            self.ids[index],
            self.populations[index],
            {name: column[index] for name, column in self.panel.items()},
            self.label_column,
        )

    def relabel(self, column: str, source: str = "") -> Samples:
        """The same samples labelled by another stored panel column."""
        if column not in self.panel:
            from .errors import InputError

            raise InputError(f"{source or 'cohort'}: no panel column {column!r} (it has "
                             f"{', '.join(self.panel) or 'none'})")
        return Samples(self.ids, self.panel[column].astype(object), self.panel, column)

    def population_counts(self) -> dict[str, int]:
        """Samples per population, populations in order of first appearance."""
        names, first, counts = np.unique(self.populations, return_index=True, return_counts=True)
        order = np.argsort(first)
        return {str(names[i]): int(counts[i]) for i in order}


@dataclass
class VariantChunk:
    """A run of consecutive variants with their genotypes: what readers yield."""

    contig: np.ndarray  # int32 (n,)
    position: np.ndarray  # int64 (n,)
    id: np.ndarray  # object str (n,)
    allele: np.ndarray  # object str (n, 2)
    genotypes: np.ndarray  # int8 (n, S, 2)
    phased: np.ndarray  # bool (n, S)

    def __len__(self) -> int:
        return len(self.position)


class VariantSource(Protocol):
    """What writers read: a VCF/PLINK reader, an open cohort file or a Cohort.

    ``contig_id`` and ``contig_length`` are complete once ``chunks()`` is exhausted
    (a VCF without ``##contig`` lines reveals its contigs as it is read).
    """

    path: str
    samples: Samples
    contig_id: list[str]
    contig_length: list[int]
    n_variants: int | None
    provenance: list[dict]

    def chunks(self) -> Iterator[VariantChunk]: ...


class SampleSubset:
    """The samples at ``index`` of another VariantSource, chunk by chunk (a VariantSource itself)."""

    def __init__(self, source: VariantSource, index: np.ndarray):
        self.source, self.index = source, np.asarray(index)
        self.path, self.samples = source.path, source.samples.take(self.index)
        self.n_variants, self.provenance = source.n_variants, source.provenance

    @property
    def contig_id(self) -> list[str]:
        return self.source.contig_id

    @property
    def contig_length(self) -> list[int]:
        return self.source.contig_length

    def chunks(self) -> Iterator[VariantChunk]:
        for chunk in self.source.chunks():
            yield replace(chunk, genotypes=np.ascontiguousarray(chunk.genotypes[:, self.index]),
                          phased=np.ascontiguousarray(chunk.phased[:, self.index]))


@dataclass
class Cohort:
    """A cohort held in memory (hybridize and train work on this)."""

    contig_id: list[str]
    contig_length: list[int]
    variant_contig: np.ndarray
    variant_position: np.ndarray
    variant_id: np.ndarray
    variant_allele: np.ndarray
    genotypes: np.ndarray  # int8 (V, S, 2)
    phased: np.ndarray  # bool (V, S)
    samples: Samples
    provenance: list[dict] = field(default_factory=list)
    path: str = "<memory>"

    @property
    def n_variants(self) -> int:
        return len(self.variant_position)

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    def chunks(self, size: int = 8192) -> Iterator[VariantChunk]:
        """Yield the cohort as VariantChunks of ``size`` variants (a VariantSource)."""
        for start in range(0, self.n_variants, size):
            s = slice(start, start + size)
            yield VariantChunk(
                self.variant_contig[s], self.variant_position[s], self.variant_id[s],
                self.variant_allele[s], self.genotypes[s], self.phased[s],
            )

    @property
    def phase_state(self) -> str:
        """'phased', 'unphased' or 'partly': see ``phase_state``."""
        return phase_state(self.genotypes, self.phased)

    def take_samples(self, index: np.ndarray) -> Cohort:
        """A cohort with only the samples at ``index``, in that order."""
        return replace(
            self, genotypes=self.genotypes[:, index], phased=self.phased[:, index],
            samples=self.samples.take(index),
        )

    def take_variants(self, index: np.ndarray) -> Cohort:
        """A cohort with only the variants at ``index`` (an integer or boolean array), in that order."""
        return replace(
            self, variant_contig=self.variant_contig[index], variant_position=self.variant_position[index],
            variant_id=self.variant_id[index], variant_allele=self.variant_allele[index],
            genotypes=self.genotypes[index], phased=self.phased[index],
        )


# ---------------------------------------------------------------- provenance

def software_versions() -> dict[str, str]:
    """Versions of ogan_vcf and the libraries that shape its output."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in ("ogan_vcf", "numpy", "h5py", "cyvcf2", "pysam", "bed-reader"):
        with contextlib.suppress(PackageNotFoundError):
            versions[package] = version(package)
    return versions


def provenance_record(command: str, parameters: dict, *, seed: int | None = None) -> dict:
    """One provenance entry: what ran, with which options and seed, where and when."""
    return {
        "command": command,
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in parameters.items()},
        "seed": seed,
        "software": software_versions(),
        "argv": sys.argv,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------- writing

@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    if not path.parent.exists():
        from .errors import OutputError

        raise OutputError(f"{path}: output directory {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _create_genotype_datasets(f: h5py.File, n_samples: int) -> tuple[h5py.Dataset, h5py.Dataset]:
    rows = GENOTYPE_CHUNK_VARIANTS
    cols = max(1, min(n_samples, GENOTYPE_CHUNK_SAMPLES))
    gt = f.create_dataset(
        "call_genotype", shape=(0, n_samples, 2), maxshape=(None, n_samples, 2),
        dtype="i1", chunks=(rows, cols, 2), **_COMPRESSION,
    )
    gt.attrs["missing"] = -1
    phased = f.create_dataset(
        "call_genotype_phased", shape=(0, n_samples), maxshape=(None, n_samples),
        dtype=bool, chunks=(rows, cols), **_COMPRESSION,
    )
    return gt, phased


class _ChunkAppender:
    """Appends rows to chunked, gzip-filtered datasets one whole HDF5 chunk at a time.

    Each chunk is deflated by ``zlib.compress`` in a worker thread (zlib releases the
    GIL, so the reader keeps parsing meanwhile) and placed with ``write_direct_chunk``:
    the bytes are what HDF5's deflate filter would have written. Edge chunks are padded
    to the full chunk shape, as HDF5 stores them.
    """

    def __init__(self, *datasets: h5py.Dataset, in_flight: int = 16):
        self.datasets = datasets
        self.pending: list[list[np.ndarray]] = [[] for _ in datasets]
        self.n_pending = 0
        self.n_rows = 0
        self.in_flight = in_flight
        self.pool = ThreadPoolExecutor(1)
        self.queue: deque = deque()

    def append(self, *arrays: np.ndarray) -> None:
        for pending, array in zip(self.pending, arrays):
            pending.append(array)
        self.n_pending += len(arrays[0])
        rows = self.datasets[0].chunks[0]
        while self.n_pending >= rows:
            self._flush(rows)

    def __enter__(self) -> _ChunkAppender:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            if self.n_pending:
                self._flush(self.n_pending)
            self._write(keep=0)
        self.pool.shutdown(cancel_futures=exc_type is not None)

    def _flush(self, n: int) -> None:
        row0 = self.n_rows
        self.n_rows += n
        self.n_pending -= n
        for i, ds in enumerate(self.datasets):
            block = np.concatenate(self.pending[i]) if len(self.pending[i]) > 1 else self.pending[i][0]
            self.pending[i] = [block[n:]] if len(block) > n else []
            ds.resize(self.n_rows, axis=0)
            width = ds.chunks[1]
            for col in range(0, ds.shape[1], width):
                piece = np.zeros(ds.chunks, dtype=ds.dtype)
                part = block[:n, col:col + width]
                piece[: part.shape[0], : part.shape[1]] = part
                offset = (row0, col) + (0,) * (ds.ndim - 2)
                self.queue.append((ds, offset, self.pool.submit(zlib.compress, piece.tobytes(), GZIP_LEVEL)))
        self._write(keep=self.in_flight)

    def _write(self, keep: int) -> None:
        while len(self.queue) > keep or (self.queue and self.queue[0][2].done()):
            ds, offset, future = self.queue.popleft()
            ds.id.write_direct_chunk(offset, future.result())


def _write_strings(group: h5py.Group, name: str, values) -> None:
    values = np.asarray(values, dtype=object)
    group.create_dataset(name, data=values, dtype=_STR, **(_COMPRESSION if values.size else {}))


def _write_header(f: h5py.File, samples: Samples, provenance: list[dict]) -> None:
    f.attrs["ogan_cohort_version"] = COHORT_VERSION
    f.attrs["label_column"] = samples.label_column
    _write_strings(f, "sample_id", samples.ids)
    _write_strings(f, "sample_population", samples.populations)
    panel = f.create_group("sample_panel")
    panel.attrs["columns"] = json.dumps(list(samples.panel))
    for name, column in samples.panel.items():
        _write_strings(panel, name, column)
    _write_strings(f, "provenance", [json.dumps(p, sort_keys=True) for p in provenance])


def _write_variant_table(f: h5py.File, source: VariantSource, table: dict[str, np.ndarray]) -> None:
    _write_strings(f, "contig_id", source.contig_id)
    f.create_dataset("contig_length", data=np.asarray(source.contig_length, dtype=np.int64))
    f.create_dataset("variant_contig", data=table["contig"].astype(np.int32), **_COMPRESSION)
    f.create_dataset("variant_position", data=table["position"].astype(np.int64), **_COMPRESSION)
    _write_strings(f, "variant_id", table["id"])
    _write_strings(f, "variant_allele", table["allele"].reshape(-1, 2))


def _sort_order(table: dict[str, np.ndarray]) -> np.ndarray | None:
    """The permutation that sorts variants by (contig, position), or None if sorted."""
    key = table["contig"].astype(np.int64) << 33 | table["position"].astype(np.int64)
    if len(key) < 2 or np.all(key[1:] >= key[:-1]):
        return None
    return np.argsort(key, kind="stable")


def _check_duplicates(table: dict[str, np.ndarray], source: VariantSource) -> None:
    contig, pos, allele = table["contig"], table["position"], table["allele"]
    same = (contig[1:] == contig[:-1]) & (pos[1:] == pos[:-1])
    same &= np.all(allele[1:] == allele[:-1], axis=1)
    if same.any():
        i = int(np.flatnonzero(same)[0]) + 1
        site = f"{source.contig_id[contig[i]]}:{pos[i]}:{allele[i, 0]}:{allele[i, 1]}"
        raise InputError(
            f"{source.path}: duplicate site {site} (same CHROM/POS/REF/ALT twice); "
            "remove duplicates first, e.g. `bcftools norm -d exact`"
        )


def count_missing_calls(genotypes: np.ndarray) -> int:
    """Calls (variant, sample) with at least one missing allele in int8 (n, S, 2) genotypes."""
    return int(np.count_nonzero(np.minimum(genotypes[:, :, 0], genotypes[:, :, 1]) < 0))


def _called(genotypes: np.ndarray) -> np.ndarray:
    """bool (n, S): calls with both alleles present."""
    return np.minimum(genotypes[:, :, 0], genotypes[:, :, 1]) >= 0


def count_unphased_calls(genotypes: np.ndarray, phased: np.ndarray) -> int:
    """Called calls written unphased; a missing call (any allele ``.``) has no phase."""
    return int(np.count_nonzero(_called(genotypes) & ~phased))


def phase_state(genotypes: np.ndarray, phased: np.ndarray) -> str:
    """'phased', 'unphased' or 'partly': the phase of the called calls only.

    genotypes : int8 (V, S, 2), -1 missing; phased : bool (V, S). Missing calls
    (``./.``, ``.``, ``.|1``...) do not count; with no called call at all, 'phased'.
    """
    called = _called(genotypes)
    n_unphased = int(np.count_nonzero(called & ~phased))
    if n_unphased == 0:
        return "phased"
    return "unphased" if n_unphased == int(np.count_nonzero(called)) else "partly"


@dataclass
class WriteSummary:
    """What ``write_cohort`` did."""

    n_variants: int
    n_samples: int
    resorted: bool
    missing_calls: int
    unphased_calls: int  # called calls only: a missing call has no phase


def write_cohort(
    path: str | os.PathLike,
    source: VariantSource,
    *,
    provenance: list[dict] | None = None,
    show_progress: bool = False,
) -> WriteSummary:
    """Write ``source`` to ``path`` as a cohort file, chunk by chunk, atomically.

    Variants are sorted by (contig order, position) if the source was not, and a
    repeated CHROM/POS/REF/ALT is an InputError. ``provenance`` defaults to the
    source's own records.
    """
    provenance = list(source.provenance if provenance is None else provenance)
    meta: dict[str, list] = {"contig": [], "position": [], "id": [], "allele": []}
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            _write_header(f, source.samples, provenance)
            missing = unphased = 0
            with _ChunkAppender(*_create_genotype_datasets(f, len(source.samples))) as appender, \
                    progress_bar("writing cohort", source.n_variants, show=show_progress) as bar:
                for chunk in source.chunks():
                    missing += count_missing_calls(chunk.genotypes)
                    unphased += count_unphased_calls(chunk.genotypes, chunk.phased)
                    appender.append(chunk.genotypes, chunk.phased)
                    for name in meta:
                        meta[name].append(getattr(chunk, name))
                    bar.advance(len(chunk))
            f.attrs["n_missing_calls"], f.attrs["n_unphased_calls"] = missing, unphased
            table = {k: _concat(v, k) for k, v in meta.items()}
            order = _sort_order(table)
            if order is None:
                _check_duplicates(table, source)
                _write_variant_table(f, source, table)
        if order is not None:
            table = {k: v[order] for k, v in table.items()}
            _check_duplicates(table, source)
            _rewrite_sorted(tmp, order, source, table, show_progress)
        return WriteSummary(len(table["position"]), len(source.samples), order is not None, missing, unphased)


def _concat(parts: list[np.ndarray], name: str) -> np.ndarray:
    if parts:
        return np.concatenate(parts)
    empty = {"contig": np.int32, "position": np.int64, "id": object, "allele": object}[name]
    return np.empty((0, 2) if name == "allele" else (0,), dtype=empty)


def _rewrite_sorted(tmp: Path, order: np.ndarray, source, table, show_progress: bool) -> None:
    """Copy the unsorted file at ``tmp`` into a sorted one and move it onto ``tmp``."""
    with atomic_path(tmp, suffix=".sorted.h5") as sorted_tmp:
        with h5py.File(tmp, "r") as src, h5py.File(sorted_tmp, "w") as dst:
            _write_header(dst, _read_samples(src), _read_provenance(src))
            for name in ("n_missing_calls", "n_unphased_calls"):
                dst.attrs[name] = src.attrs[name]
            _write_variant_table(dst, source, table)
            gt, phased = _create_genotype_datasets(dst, src["call_genotype"].shape[1])
            n = len(order)
            gt.resize(n, axis=0)
            phased.resize(n, axis=0)
            step = variants_per_chunk(gt.shape[1])
            with progress_bar("sorting variants", n, show=show_progress) as bar:
                for start in range(0, n, step):
                    rows = order[start:start + step]
                    ascending = np.sort(rows)
                    back = np.searchsorted(ascending, rows)
                    gt[start:start + len(rows)] = src["call_genotype"][ascending][back]
                    phased[start:start + len(rows)] = src["call_genotype_phased"][ascending][back]
                    bar.advance(len(rows))


def variants_per_chunk(n_samples: int, budget_bytes: int = 64 << 20) -> int:
    """Variants per read chunk so that one chunk of genotypes stays near ``budget_bytes``."""
    rows = budget_bytes // max(1, 3 * n_samples)
    return int(max(GENOTYPE_CHUNK_VARIANTS, rows // GENOTYPE_CHUNK_VARIANTS * GENOTYPE_CHUNK_VARIANTS))


def save(cohort: Cohort, path: str | os.PathLike, *, provenance: list[dict] | None = None) -> WriteSummary:
    """Write an in-memory cohort to ``path``."""
    return write_cohort(path, cohort, provenance=provenance)


# ---------------------------------------------------------------- reading

def _read_strings(ds: h5py.Dataset) -> np.ndarray:
    return np.asarray(ds.asstr()[...], dtype=object)


def _read_samples(f: h5py.File) -> Samples:
    panel_group = f["sample_panel"]
    columns = json.loads(panel_group.attrs["columns"])
    return Samples(
        _read_strings(f["sample_id"]),
        _read_strings(f["sample_population"]),
        {name: _read_strings(panel_group[name]) for name in columns},
        str(f.attrs["label_column"]),
    )


def _read_provenance(f: h5py.File) -> list[dict]:
    return [json.loads(s) for s in _read_strings(f["provenance"])]


class CohortFile:
    """An open cohort file: metadata in memory, genotypes read chunk by chunk.

    Use as a context manager; it is a VariantSource, and ``load()`` reads it all.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        if not Path(path).exists():
            raise InputError(f"{path}: no such file")
        try:
            self._file = h5py.File(path, "r", rdcc_nbytes=64 << 20)
        except OSError:
            raise CohortFormatError(f"{path}: not an HDF5 cohort file") from None
        try:
            self._read_metadata()
        except CohortFormatError:
            self._file.close()
            raise
        except (KeyError, ValueError, json.JSONDecodeError) as e:
            self._file.close()
            raise CohortFormatError(f"{path}: damaged cohort file ({e})") from None

    def _read_metadata(self) -> None:
        f = self._file
        version = f.attrs.get("ogan_cohort_version")
        if version is None:
            raise CohortFormatError(f"{self.path}: not an ogan cohort (no ogan_cohort_version attribute)")
        if str(version).split(".")[0] != COHORT_VERSION.split(".")[0]:
            raise CohortFormatError(
                f"{self.path}: cohort format {version} is not supported (this ogan_vcf reads "
                f"{COHORT_VERSION.split('.')[0]}.x); re-ingest it from VCF"
            )
        self.samples = _read_samples(f)
        self.provenance = _read_provenance(f)
        self.contig_id = list(_read_strings(f["contig_id"]))
        self.contig_length = [int(x) for x in f["contig_length"][...]]
        self.variant_contig = f["variant_contig"][...]
        self.variant_position = f["variant_position"][...]
        self.variant_id = _read_strings(f["variant_id"])
        self.variant_allele = _read_strings(f["variant_allele"]).reshape(-1, 2)
        self.n_variants = len(self.variant_position)
        self.n_missing_calls = int(f.attrs["n_missing_calls"])
        self.n_unphased_calls = int(f.attrs["n_unphased_calls"])

    def __enter__(self) -> CohortFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def chunks(self, size: int | None = None) -> Iterator[VariantChunk]:
        """Yield VariantChunks of ``size`` variants (default: about 64 MB each)."""
        size = size or variants_per_chunk(len(self.samples))
        gt, phased = self._file["call_genotype"], self._file["call_genotype_phased"]
        for start in range(0, self.n_variants, size):
            s = slice(start, start + size)
            yield VariantChunk(
                self.variant_contig[s], self.variant_position[s], self.variant_id[s],
                self.variant_allele[s], gt[s], phased[s],
            )

    def load_range(self, start: int, stop: int) -> Cohort:
        """Variants ``start:stop`` (every sample) as a Cohort: one window of a chromosome."""
        s = slice(int(start), int(stop))
        return Cohort(
            self.contig_id, self.contig_length, self.variant_contig[s], self.variant_position[s],
            self.variant_id[s], self.variant_allele[s], self._file["call_genotype"][s],
            self._file["call_genotype_phased"][s], self.samples, self.provenance, self.path,
        )

    @property
    def genotype_dataset(self):
        """The int8 (V, S, 2) genotype dataset, read lazily by slice."""
        return self._file["call_genotype"]

    def load(self) -> Cohort:
        """Read everything into a Cohort."""
        return Cohort(
            self.contig_id, self.contig_length, self.variant_contig, self.variant_position,
            self.variant_id, self.variant_allele, self._file["call_genotype"][...],
            self._file["call_genotype_phased"][...], self.samples, self.provenance, self.path,
        )


def load(path: str | os.PathLike) -> Cohort:
    """Read a cohort file into memory."""
    with CohortFile(path) as f:
        return f.load()


def is_cohort_path(path: str | os.PathLike) -> bool:
    """True when ``path`` names a cohort file (by its HDF5 signature or .h5 suffix)."""
    path = Path(path)
    if path.suffix in (".h5", ".hdf5"):
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False
