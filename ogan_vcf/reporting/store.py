"""The report's view of a cohort: variant tables in memory, genotypes read only where needed.

A ``Store`` wraps an in-memory Cohort or an open cohort file (``cohort.CohortFile``), optionally
restricted to some samples. ``gather`` makes one pass over the shared sites in variant chunks: it
streams the per-site tables that need every site (allele counts per population, heterozygous calls,
a digest of each genome for the exact-copy and duplicate checks) and keeps genotypes only at the
sampled sites of ``sampling.SitePlan``, so memory grows with the sampled sites, not with the SNPs.
``open_store`` opens a report input: a cohort .h5 as it is, a VCF/BCF/PLINK input ingested to a
temporary cohort file first (the same checks as ``ogan ingest``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cohort import Cohort, CohortFile, Samples, variants_per_chunk
from ..errors import InputError
from .sites import flip_alleles

READ_GAP = 4096  # variants: requested sites closer than this are read as one slice


class Store:
    """A cohort whose genotypes are read by variant index (a ``Cohort`` or a ``CohortFile``).

    It carries what ``sites.match_sites`` and the report read in memory: ``contig_id``,
    ``variant_contig``, ``variant_position``, ``variant_allele``, ``samples``, ``provenance``
    and ``path``. ``variants`` and ``columns``: the variants and samples it shows (int64 indices
    into the source's), or None for all.
    """

    def __init__(self, source: Cohort | CohortFile, *, variants: np.ndarray | None = None,
                 columns: np.ndarray | None = None, path: str | None = None):
        self.source, self.variants, self.columns = source, variants, columns
        self.path = str(path or source.path)
        self.contig_id, self.contig_length = list(source.contig_id), list(source.contig_length)
        pick = slice(None) if variants is None else variants
        self.variant_contig, self.variant_position = source.variant_contig[pick], source.variant_position[pick]
        self.variant_id, self.variant_allele = source.variant_id[pick], source.variant_allele[pick]
        self.provenance = source.provenance
        self.samples: Samples = source.samples if columns is None else source.samples.take(columns)

    @property
    def n_variants(self) -> int:
        return len(self.variant_position)

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    def take_samples(self, index: np.ndarray) -> Store:
        """The same cohort showing only the samples at ``index`` (int64), in that order."""
        index = np.asarray(index, dtype=np.int64)
        columns = index if self.columns is None else self.columns[index]
        return Store(self.source, variants=self.variants, columns=columns, path=self.path)

    def take_variants(self, index: np.ndarray) -> Store:
        """The same cohort showing only the variants at ``index`` (int64), in that order."""
        index = np.asarray(index, dtype=np.int64)
        variants = index if self.variants is None else self.variants[index]
        return Store(self.source, variants=variants, columns=self.columns, path=self.path)

    def read(self, index: np.ndarray, *, phased: bool = False):
        """int8 (n, samples, 2) genotypes at variant indices ``index`` (int64, any order); with
        ``phased``, also the bool (n, samples) phase flags."""
        index = np.asarray(index, dtype=np.int64)
        if self.variants is not None:
            index = self.variants[index]
        if isinstance(self.source, Cohort):
            g, p = self.source.genotypes[index], self.source.phased[index] if phased else None
        else:
            g, p = _read_rows(self.source, index, phased)
        if self.columns is not None:
            g, p = g[:, self.columns], (p[:, self.columns] if phased else None)
        return (g, p) if phased else g

    @property
    def phase_state(self) -> str:
        """'phased', 'unphased' or 'partly' (``cohort.phase_state``), read in chunks when it must be."""
        whole = self.variants is None and self.columns is None
        if whole and isinstance(self.source, Cohort):
            return self.source.phase_state
        if whole:
            called = self.n_variants * self.n_samples - self.source.n_missing_calls
            unphased = self.source.n_unphased_calls
            return "phased" if unphased == 0 else "unphased" if unphased == called else "partly"
        if Store(self.source).phase_state == "phased":
            return "phased"
        n_unphased = n_called = 0
        step = variants_per_chunk(self.n_samples)
        for start in range(0, self.n_variants, step):
            g, p = self.read(np.arange(start, min(start + step, self.n_variants)), phased=True)
            called = np.minimum(g[:, :, 0], g[:, :, 1]) >= 0
            n_unphased += int(np.count_nonzero(called & ~p))
            n_called += int(np.count_nonzero(called))
        return "phased" if n_unphased == 0 else "unphased" if n_unphased == n_called else "partly"

    def load(self) -> Cohort:
        """Everything it shows, as an in-memory Cohort (for small inputs)."""
        if isinstance(self.source, Cohort) and self.variants is None and self.columns is None:
            return self.source
        g, p = self.read(np.arange(self.n_variants), phased=True)
        return Cohort(self.contig_id, self.contig_length, self.variant_contig, self.variant_position,
                      self.variant_id, self.variant_allele, g, p, self.samples, self.provenance, self.path)


def as_store(cohort) -> Store:
    """``cohort`` (a Store, Cohort or CohortFile) as a Store."""
    return cohort if isinstance(cohort, Store) else Store(cohort)


def _read_rows(f: CohortFile, index: np.ndarray, phased: bool):
    """Genotypes (and flags) at ``index`` from a cohort file, each run of near indices read as one slice."""
    gt, flags = f._file["call_genotype"], f._file["call_genotype_phased"]
    n_samples = gt.shape[1]
    out = np.empty((len(index), n_samples, 2), dtype=np.int8)
    out_p = np.empty((len(index), n_samples), dtype=bool) if phased else None
    if not len(index):
        return out, out_p
    order = np.argsort(index, kind="stable")
    wanted = index[order]
    cut = np.flatnonzero(np.diff(wanted) > READ_GAP) + 1
    for part in np.split(np.arange(len(wanted)), cut):
        lo, hi = int(wanted[part[0]]), int(wanted[part[-1]]) + 1
        rows = wanted[part] - lo
        out[order[part]] = gt[lo:hi][rows]
        if phased:
            out_p[order[part]] = flags[lo:hi][rows]
    return out, out_p


@contextlib.contextmanager
def open_store(path: str | os.PathLike, *, panel=None, panel_role: str | None = None):
    """Yield a report input as a Store: a cohort .h5 opened as it is (relabelled by ``panel`` when
    given); a VCF/BCF/PLINK input (which needs ``panel``) ingested to a temporary cohort file,
    deleted on exit. ``panel_role`` names the panel in the missing-panel error."""
    import tempfile

    from ..cohort import write_cohort
    from ..io import input_kind, open_source, panel_path_for

    kind = input_kind(path)
    if kind != "cohort" and panel is None:
        beside = panel_path_for(path)
        hints = ([panel_role] if panel_role else []) + ([f"e.g. {beside}"] if beside.is_file() else [])
        hint = f" ({', '.join(hints)})" if hints else ""
        raise InputError(f"{path}: a VCF/BCF/PLINK input needs a panel to label its samples{hint}")
    with contextlib.ExitStack() as stack:
        source = open_source(path, panel=panel)
        if kind == "cohort":
            stack.callback(source.close)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ogan-report-"))) / "input.h5"
            write_cohort(tmp, source)
            samples = source.samples
            source = CohortFile(tmp)
            source.samples = samples
            stack.callback(source.close)
        yield Store(source, path=str(path))


# ---------------------------------------------------------------- one pass over the shared sites

@dataclass
class Genomes:
    """One cohort over some sites: ALT counts and genotype codes, (samples, SNPs).

    codes is ``dosage`` itself when the codes are dosages (unphased), None when not gathered.
    """

    dosage: np.ndarray  # int8, -1 missing
    codes: np.ndarray | None  # int8: phased 4-class codes or dosage
    labels: np.ndarray  # str
    ids: np.ndarray  # str

    def take(self, rows: np.ndarray) -> Genomes:
        dosage = self.dosage[rows]
        codes = dosage if self.codes is self.dosage else None if self.codes is None else self.codes[rows]
        return Genomes(dosage, codes, self.labels[rows], self.ids[rows])


@dataclass
class SiteTables:
    """Per-site tables of one cohort over every shared site, per label (``gather``).

    labels : the sample labels, in order of first appearance; alt, called : int64 (labels, sites)
    ALT alleles and called genotypes; het, calls : int64 (labels,) heterozygous and called
    genotypes over all sites; digest : bytes (samples,) per genome, a hash of its ALT counts at
    every shared site (missing included): equal genomes have equal digests.
    """

    labels: list[str]
    alt: np.ndarray | None
    called: np.ndarray | None
    het: np.ndarray | None
    calls: np.ndarray | None
    digest: np.ndarray | None

    def frequency(self, labels=None) -> np.ndarray:
        """ALT allele frequency per site over the genomes of ``labels`` (all when None)."""
        rows = [self.labels.index(x) for x in labels] if labels is not None else slice(None)
        alt, called = self.alt[rows].sum(axis=0), self.called[rows].sum(axis=0)
        return alt / np.maximum(1, 2 * called)

    def heterozygosity(self, labels=None) -> float:
        """Share of called genotypes that are heterozygous, over the genomes of ``labels``."""
        rows = [self.labels.index(x) for x in labels] if labels is not None else slice(None)
        return float(self.het[rows].sum() / max(1, self.calls[rows].sum()))


def dosage_and_codes(genotypes: np.ndarray, phased_codes: bool) -> tuple[np.ndarray, np.ndarray]:
    """int8 (n, S, 2) alleles -> int8 (n, S) ALT counts and codes (phased 4-class, or the counts), -1 missing."""
    missing = np.minimum(genotypes[:, :, 0], genotypes[:, :, 1]) < 0
    dosage = np.where(missing, -1, genotypes[:, :, 0] + genotypes[:, :, 1]).astype(np.int8)
    if not phased_codes:
        return dosage, dosage
    return dosage, np.where(missing, -1, 2 * genotypes[:, :, 0] + genotypes[:, :, 1]).astype(np.int8)


def gather(store: Store, sites: np.ndarray, flip: np.ndarray | None, subsets: dict[str, np.ndarray], *,
           phased_codes: bool, codes_for=(), tables: bool = True, digests: bool = True,
           chunk: int | None = None) -> tuple[dict[str, Genomes], SiteTables]:
    """Read ``store`` at the shared ``sites`` (int64 store indices, in the shared order; REF/ALT
    swapped where ``flip``) chunk by chunk, and keep genotypes at each subset only.

    subsets : name -> int64 ascending positions into ``sites``; subsets with equal positions share
        one Genomes. codes_for : the subsets that need genotype codes (others get ``codes=None``).
    tables, digests : stream the per-label allele counts and the genome digests over every site
        (``SiteTables``); with neither, only the chunks that hold a subset's sites are read.
    """
    sites = np.asarray(sites, dtype=np.int64)
    labels = list(dict.fromkeys(store.samples.populations.tolist()))
    group = np.array([labels.index(x) for x in store.samples.populations.tolist()], dtype=np.int64)
    one_hot = np.zeros((store.n_samples, len(labels)), dtype=np.float32)
    one_hot[np.arange(store.n_samples), group] = 1
    shared: dict[str, str] = {}  # subset -> the first subset with the same positions
    for name, pos in subsets.items():
        shared[name] = next((k for k in shared if shared[k] == k and np.array_equal(subsets[k], pos)), name)
    keep = {name: np.asarray(subsets[name], dtype=np.int64) for name in shared if shared[name] == name}
    wants_codes = {shared[n] for n in codes_for if n in shared}
    out = {}
    for name, pos in keep.items():
        dosage = np.empty((store.n_samples, len(pos)), dtype=np.int8)
        codes = (np.empty_like(dosage) if phased_codes else dosage) if name in wants_codes else None
        out[name] = Genomes(dosage, codes, store.samples.populations, store.samples.ids)
    n = len(sites)
    t = SiteTables(labels, *(np.zeros((len(labels), n), np.int64) for _ in range(2)),
                   *(np.zeros(len(labels), np.int64) for _ in range(2)), None) if tables else \
        SiteTables(labels, None, None, None, None, None)
    hashes = [hashlib.blake2b(digest_size=16) for _ in range(store.n_samples)] if digests else None
    step = chunk or variants_per_chunk(store.n_samples)
    needed = np.unique(np.concatenate([np.zeros(0, np.int64), *keep.values()]))
    for start in range(0, n, step):
        stop = min(start + step, n)
        if tables or digests:
            part = np.arange(start, stop)
        else:
            part = needed[np.searchsorted(needed, start):np.searchsorted(needed, stop)]
            if not len(part):
                continue
        g = store.read(sites[part])
        if flip is not None and flip[part].any():
            g = flip_alleles(g, flip[part])
        dosage, codes = dosage_and_codes(g, phased_codes)
        del g
        if tables:
            called = dosage >= 0
            t.alt[:, part] = (np.where(called, dosage, 0).astype(np.float32) @ one_hot).T.astype(np.int64)
            t.called[:, part] = (called.astype(np.float32) @ one_hot).T.astype(np.int64)
            t.het += np.bincount(group, (dosage == 1).sum(axis=0), len(labels)).astype(np.int64)
            t.calls += np.bincount(group, called.sum(axis=0), len(labels)).astype(np.int64)
        if digests:
            rows = np.ascontiguousarray(dosage.T)
            for h, row in zip(hashes, rows):
                h.update(row.tobytes())
        for name, pos in keep.items():
            lo, hi = np.searchsorted(pos, [start, stop])
            if lo == hi:
                continue
            at = np.searchsorted(part, pos[lo:hi])
            out[name].dosage[:, lo:hi] = dosage[at].T
            if out[name].codes is not None and out[name].codes is not out[name].dosage:
                out[name].codes[:, lo:hi] = codes[at].T
    if digests:
        t.digest = np.array([h.digest() for h in hashes], dtype=object)
    return {name: out[shared[name]] for name in subsets}, t
