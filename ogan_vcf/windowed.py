"""Whole chromosomes: one model per window, trained and generated as independent Dask tasks.

The shape is bio2zarr's explode (plan -> parts -> finalise)::

    train:    cohort.h5 -> window table (windows.plan_windows) -> MODEL/windows/wNNNN/ (one model each,
              trained in parallel; a finished window has done.json with its digest and is never redone)
    generate: each window draws its people            (parallel)  -> parts/wNNNN.raw.npy
              neighbours are matched in their overlap (here, light) -> who continues whom, and where
              each window writes its core             (parallel)  -> parts/wNNNN.core.npy (+ .vcf.bgz)
              the parts are joined: BGZF blocks concatenated under one header and indexed (VCF), or
              streamed into the writer (BCF, PLINK, .h5)

A model directory of a windowed run::

    MODEL/config.json          layout "windows": the window table, model, preset, labels, seed, settings
    MODEL/windows/w0000/       an ordinary model directory (config.json, checkpoints, history.csv)
    MODEL/windows/w0000/done.json   written last: digest, seconds, best quality of the finished window

Stitching (``stitch_junction``): the synthetic haplotypes of a population in window k+1 are assigned
one-to-one to those of window k by the fewest differences over the SNPs the windows share (the
Hungarian algorithm, scipy's ``linear_sum_assignment``), and each haplotype switches from window k
to k+1 in the middle of the longest run over which its two halves agree. Unphased models match and
switch whole genomes. So a synthetic person is one genome, continued across every junction.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from .cohort import atomic_path
from .errors import InputError
from .windows import Window, window_digest, window_seed, windows_from_table

LAYOUT = "windows"
DEFAULT_OVERSAMPLE = 1  # candidates per person after a junction: 3 matched no better on example_data (docs/windows.md)
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def is_windowed_model(model_dir) -> bool:
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("layout") == LAYOUT
    except json.JSONDecodeError:
        return False


def window_dir(model_dir, window: Window) -> Path:
    return Path(model_dir) / "windows" / window.name


def is_finished(record: dict | None, digest: str, epochs: int) -> bool:
    """A window's done record says it was trained with this digest for at least ``epochs`` epochs."""
    return bool(record) and record.get("digest") == digest and record.get("epochs", 0) >= epochs


def read_done(model_dir, window: Window) -> dict | None:
    path = window_dir(model_dir, window) / "done.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


# ---------------------------------------------------------------- training

@dataclass
class WindowedTraining:
    """What a windowed ``train`` did, beside the usual TrainSummary figures."""

    windows: int
    trained: int
    skipped: int
    seconds: dict[str, float] = field(default_factory=dict)  # per window trained in this run
    digests: dict[str, str] = field(default_factory=dict)
    engine: str = ""


def train_window(cohort_path: str, label_column: str | None, window: dict, sub_dir: str, options: dict,
                 digest: str, threads: int | None) -> dict:
    """One window's task (runs on a worker): train its model, then write done.json last."""
    from .cohort import CohortFile
    from .parallel import limit_threads
    from .training import train

    limit_threads(threads)
    w = Window(**window)
    sub = Path(sub_dir)
    done = sub / "done.json"
    record = read_done(sub.parent.parent, w)
    if is_finished(record, digest, options["epochs"]):
        return {**record, "skipped": True}
    try:
        import keras

        keras.backend.clear_session()  # a worker trains many windows: free the previous one's graph
    except ImportError:
        pass
    from .model.store import has_checkpoint

    started = sub / "started.json"
    resumable = started.is_file() and json.loads(started.read_text()).get("digest") == digest \
        and has_checkpoint(sub, "last")
    if not resumable and sub.exists():
        shutil.rmtree(sub)  # another configuration's (or a broken) run: start clean
    sub.mkdir(parents=True, exist_ok=True)
    with atomic_path(started) as tmp:
        tmp.write_text(json.dumps({"digest": digest}))
    with CohortFile(cohort_path) as f:
        cohort = f.load_range(w.start, w.stop)
    if label_column and label_column != cohort.samples.label_column:
        cohort.samples = cohort.samples.relabel(label_column, cohort_path)
    t0 = time.perf_counter()
    summary = train(cohort, sub, model=options["model"], preset=options["preset"],
                    overrides={**options["overrides"], "epochs": options["epochs"]},
                    blocks=options["blocks"], seed=window_seed(options["seed"], w.index), resume=resumable,
                    jit_compile=options["jit_compile"])
    if summary.interrupted:
        raise KeyboardInterrupt
    record = {"digest": digest, "seconds": round(time.perf_counter() - t0, 1), "epochs": summary.epochs,
              "steps": summary.steps, "best_epoch": summary.best_epoch, "best_quality": summary.best_quality,
              "n_training": summary.n_training, "snps": w.stop - w.start}
    with atomic_path(done) as tmp:
        tmp.write_text(json.dumps(record))
    return {**record, "skipped": False}


def training_source(path) -> dict:
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def train_windowed(cohort_path: Path, model_dir: Path, windows: list[Window], *, config: dict, options: dict,
                   label_column: str | None, engine, show_progress: bool = False) -> WindowedTraining:
    """Train every window not yet done (with this digest) on ``engine``; config.json first."""
    from ._progress import progress_bar
    from .model.store import write_config

    model_dir.mkdir(parents=True, exist_ok=True)
    write_config(model_dir, config)
    source = training_source(cohort_path)
    settings = {k: (v.describe() if hasattr(v, "describe") else v) for k, v in options.items()
                if k != "epochs"}  # more epochs continue a window; they do not void it
    result = WindowedTraining(len(windows), 0, 0, engine=engine.describe())
    todo = []
    for w in windows:
        digest = window_digest(w, source, settings)
        result.digests[w.name] = digest
        if is_finished(read_done(model_dir, w), digest, options["epochs"]):
            result.skipped += 1
            continue
        todo.append((w.name, (str(cohort_path), label_column, w.to_dict(), str(window_dir(model_dir, w)), options,
                              digest, engine.threads)))
    with progress_bar(f"training {options['model']}: windows", len(windows), show=show_progress) as bar:
        bar.advance(result.skipped)
        for key, record in engine.run(train_window, todo, resources=engine.task_resources, fresh_process=True,
                                      on_done=lambda *_: bar.advance()):
            if record.get("skipped"):
                result.skipped += 1
            else:
                result.trained += 1
                result.seconds[key] = record["seconds"]
    return result


# ---------------------------------------------------------------- generation

def generate_window(sub_dir: str, raw_path: str, n: int, populations: list[str], sample, factor, seed: int,
                    checkpoint: str, threads: int | None) -> dict:
    """One window's draw (runs on a worker): its model's people, as int8 (V, N, 2) in raw_path."""
    from .generation import synthesize
    from .parallel import limit_threads

    limit_threads(threads)
    cohort, epoch, _ = synthesize(sub_dir, n=n, populations=populations, sample=sample, hybridize_factor=factor,
                                  seed=seed, checkpoint=checkpoint)
    with atomic_path(raw_path, suffix=".npy") as tmp:
        np.save(tmp, cohort.genotypes)
    return {"epoch": epoch}


@numba.njit(cache=True)
def longest_true_runs(agree):
    """Per row of bool (H, L): (start, length) of its longest run of True (the first of ties; 0, 0 if none)."""
    n_rows, n_cols = agree.shape
    start = np.zeros(n_rows, dtype=np.int64)
    length = np.zeros(n_rows, dtype=np.int64)
    for h in range(n_rows):
        run = 0
        for j in range(n_cols):
            run = run + 1 if agree[h, j] else 0
            if run > length[h]:
                length[h] = run
                start[h] = j - run + 1
    return start, length


def stitch_junction(left: np.ndarray, right: np.ndarray, left_groups: np.ndarray,
                    right_groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Who continues whom across one junction, and where each switches.

    left : int8 (L, H), the L shared SNPs of H units (haplotypes, or genomes as dosages) of the window
        before, in its final order; right : int8 (L, M), M >= H units of the window after, as drawn.
    left_groups, right_groups : int (H,), (M,): the population of each unit (right_groups defaults to
        left_groups); units are matched one-to-one only within a population, by the fewest squared
        differences (for haplotypes: mismatches) over the shared SNPs.
    Returns (order, switch): left unit h continues as right's unit ``order[h]`` and takes right's alleles
    from shared SNP ``switch[h]`` on (the middle of the longest run where the two agree).
    """
    from scipy.optimize import linear_sum_assignment

    right_groups = left_groups if right_groups is None else right_groups
    n_shared, n_units = left.shape
    order = np.empty(n_units, dtype=np.int64)
    for g in np.unique(left_groups):
        mine, theirs = np.flatnonzero(left_groups == g), np.flatnonzero(right_groups == g)
        if len(theirs) < len(mine):
            raise InputError(f"stitching: population {g} has {len(theirs)} units after a junction, {len(mine)} before")
        a = left[:, mine].T.astype(np.float32)
        b = right[:, theirs].T.astype(np.float32)
        cost = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
        rows, cols = linear_sum_assignment(cost)
        order[mine[rows]] = theirs[cols]
    if n_shared == 0:
        return order, np.zeros(n_units, dtype=np.int64)
    agree = (left.T == right[:, order].T)
    start, length = longest_true_runs(np.ascontiguousarray(agree))
    switch = np.where(length > 0, start + length // 2, n_shared // 2)
    return order, switch.astype(np.int64)


def _units(genotypes: np.ndarray, phased: bool) -> np.ndarray:
    """int8 (V, H): haplotypes (phased: person*2 + copy) or genomes as ALT dosages."""
    if phased:
        return genotypes.reshape(genotypes.shape[0], -1)
    return genotypes.sum(axis=2, dtype=np.int8)


def stitch_plan(windows: list[Window], raw_paths: list[Path], populations: np.ndarray, n: int, draws: list[int],
                phased: bool) -> list[dict]:
    """Per window: ``order`` (final unit -> drawn unit) and, at its left junction, ``switch`` (absolute
    variant index where each final unit starts taking this window's alleles). ``populations`` (P,)
    labels, ``n`` people each in the output, ``draws[k]`` people each drawn in window k. Reads only
    the overlaps."""
    per_unit = 2 if phased else 1
    final_groups = np.repeat(np.arange(len(populations)), n * per_unit)
    plans: list[dict] = []
    for k, w in enumerate(windows):
        drawn_groups = np.repeat(np.arange(len(populations)), draws[k] * per_unit)
        prev = windows[k - 1] if k else None
        if prev is None or prev.contig != w.contig or prev.stop <= w.start:  # a contig's first window: the first n
            first = np.concatenate([np.flatnonzero(drawn_groups == g)[: n * per_unit] for g in range(len(populations))])
            plans.append({"order": first, "switch": None})
            continue
        lo, hi = w.start, prev.stop  # the shared SNPs
        a = np.load(raw_paths[k - 1], mmap_mode="r")[lo - prev.start:hi - prev.start]
        b = np.load(raw_paths[k], mmap_mode="r")[: hi - lo]
        left = _units(np.asarray(a), phased)[:, plans[k - 1]["order"]]
        order, switch = stitch_junction(left, _units(np.asarray(b), phased), final_groups, drawn_groups)
        plans.append({"order": order, "switch": lo + switch})
    return plans


def _final(raw: np.ndarray, order: np.ndarray, phased: bool) -> np.ndarray:
    """int8 (V, N, 2) of a window's draw in final unit order."""
    if phased:
        return raw.reshape(raw.shape[0], -1)[:, order].reshape(raw.shape[0], -1, 2)
    return raw[:, order]


def write_core(k: int, windows: list[dict], raw_paths: list[str], plans: dict, phased: bool, core_path: str,
               records_path: str | None, variants: dict, threads: int | None) -> dict:
    """One window's core (runs on a worker): its final genotypes, with its neighbours' alleles where a
    unit switches inside this core; saved as .npy and, for VCF output, as headerless BGZF records.
    ``plans`` maps window index k-1, k, k+1 (those that exist) to their plans; ``variants`` is the core's
    variant table."""
    from .parallel import limit_threads

    limit_threads(threads)
    ws = [Window(**w) for w in windows]
    w = ws[k]
    core = _final(np.load(raw_paths[k], mmap_mode="r"), plans[k]["order"], phased)[w.core_start - w.start:
                                                                                     w.core_stop - w.start].copy()
    unit_axis = core.reshape(core.shape[0], -1) if phased else core
    for j, switch_at in ((k - 1, plans[k]["switch"]), (k + 1, plans[k + 1]["switch"] if k + 1 in plans else None)):
        if switch_at is None or j not in plans or ws[j].contig != w.contig:
            continue
        other = ws[j]
        lo, hi = max(w.core_start, other.start), min(w.core_stop, other.stop)
        if hi <= lo:
            continue
        theirs = _final(np.load(raw_paths[j], mmap_mode="r"), plans[j]["order"], phased)[lo - other.start:
                                                                                         hi - other.start]
        theirs = theirs.reshape(theirs.shape[0], -1) if phased else theirs
        rows = np.arange(lo, hi)[:, None]
        use = rows < switch_at[None, :] if j < k else rows >= switch_at[None, :]  # (rows, units)
        block = unit_axis[lo - w.core_start:hi - w.core_start]
        block[use] = theirs[use]
    with atomic_path(core_path, suffix=".npy") as tmp:
        np.save(tmp, core)
    if records_path:
        _write_records(records_path, core, phased, variants)
    return {"snps": w.core_stop - w.core_start}


def core_variants(table: dict, w: Window) -> dict:
    """The rows of ``table`` (see ``window_variants``) in window ``w``'s core."""
    s = slice(w.core_start - table["offset"], w.core_stop - table["offset"])
    return {"contig": table["contig"][s], "position": table["position"][s], "id": table["id"][s],
            "allele": table["allele"][s], "contig_id": table["contig_id"]}


def _write_records(path: str, core: np.ndarray, phased: bool, variants: dict) -> None:
    """The core's VCF records as BGZF blocks (no header); the EOF block is stripped at the join."""
    import pysam

    from .cohort import VariantChunk
    from .io.vcf import BGZF_MODE, format_records

    s = slice(0, core.shape[0])
    contig_id = variants["contig_id"]
    with atomic_path(path, suffix=".bgz") as tmp:
        with pysam.BGZFile(str(tmp), BGZF_MODE) as fh:
            step = 4096
            for a in range(0, core.shape[0], step):
                b = min(core.shape[0], a + step)
                chunk = VariantChunk(np.asarray(variants["contig"][s][a:b], dtype=np.int32),
                                     np.asarray(variants["position"][s][a:b], dtype=np.int64),
                                     np.asarray(variants["id"][s][a:b], dtype=object),
                                     np.asarray(variants["allele"][s][a:b], dtype=object).reshape(-1, 2),
                                     core[a:b], np.full(core[a:b].shape[:2], phased))
                fh.write(format_records(chunk, contig_id))


def join_bgzf(header: bytes, parts: list[Path], output: Path) -> None:
    """One bgzipped VCF: ``header`` as its own BGZF blocks, then each part's blocks as they are
    (their EOF markers dropped), then one EOF marker. Nothing is decompressed or re-parsed."""
    import pysam

    from .io.vcf import BGZF_MODE

    head = output.with_name(f".{output.name}.{os.getpid()}.header.bgz")
    try:
        with pysam.BGZFile(str(head), BGZF_MODE) as fh:
            fh.write(header)
        with open(output, "wb") as out:
            for piece in [head, *parts]:
                data = Path(piece).read_bytes()
                if not data.endswith(BGZF_EOF):
                    raise InputError(f"{piece}: not a complete BGZF part (no EOF block)")
                out.write(memoryview(data)[: len(data) - len(BGZF_EOF)])
            out.write(BGZF_EOF)
    finally:
        head.unlink(missing_ok=True)


class CoreParts:
    """The joined synthetic cohort as a VariantSource: core after core, read from the parts."""

    def __init__(self, core_paths: list[Path], windows: list[Window], variants: dict, samples, phased: bool,
                 contig_id: list[str], contig_length: list[int], provenance: list[dict], path: str):
        self.core_paths, self.windows, self.variants, self.samples = core_paths, windows, variants, samples
        self.phased, self.contig_id, self.contig_length, self.provenance = phased, contig_id, contig_length, provenance
        self.path = path
        self.n_variants = sum(w.core_stop - w.core_start for w in windows)

    def chunks(self):
        from .cohort import VariantChunk

        v, off = self.variants, self.variants["offset"]
        for w, core_path in zip(self.windows, self.core_paths):
            core = np.load(core_path)
            s = slice(w.core_start - off, w.core_stop - off)
            yield VariantChunk(np.asarray(v["contig"][s], dtype=np.int32), np.asarray(v["position"][s], dtype=np.int64),
                               np.asarray(v["id"][s], dtype=object),
                               np.asarray(v["allele"][s], dtype=object).reshape(-1, 2), core,
                               np.full(core.shape[:2], self.phased))


def window_variants(model_dir: Path, windows: list[Window]) -> dict:
    """The variant table of every window's core, from the windows' own configs (per-variant tables)."""
    from .model.store import read_config

    parts = {"contig": [], "position": [], "id": [], "allele": []}
    contig_id = None
    for w in windows:
        v = read_config(window_dir(model_dir, w))["variants"]
        contig_id = v["contig_id"]
        s = slice(w.core_start - w.start, w.core_stop - w.start)
        parts["contig"].append(np.asarray(v["contig"], dtype=np.int32)[s])
        parts["position"].append(np.asarray(v["position"], dtype=np.int64)[s])
        parts["id"].append(np.asarray(v["id"], dtype=object)[s])
        parts["allele"].append(np.asarray(v["allele"], dtype=object).reshape(-1, 2)[s])
    table = {k: np.concatenate(x) for k, x in parts.items()}
    table.update(contig_id=contig_id, offset=windows[0].core_start)
    return table


def synthesize_windowed(model_dir, output: Path, *, n: int, populations: list[str], sample, factor, seed: int,
                        checkpoint: str, engine, provenance: list[dict], oversample: int = DEFAULT_OVERSAMPLE,
                        show_progress: bool = False) -> list[str]:
    """Generate ``n`` people per population across every window of ``model_dir`` and write ``output``;
    each window after a junction draws ``oversample`` x as many candidates to continue them from."""
    import tempfile

    from ._progress import progress_bar
    from .cohort import Samples
    from .io import panel_path_for, write_output
    from .io.panel import write_panel
    from .io.vcf import output_kind, vcf_header
    from .model.store import read_config

    config = read_config(model_dir)
    windows = windows_from_table(config["windows"])
    for w in windows:
        if not (window_dir(model_dir, w) / "done.json").is_file():
            raise InputError(f"{model_dir}: window {w.name} has not finished training; run `ogan train --resume`")
    kind = output_kind(output)
    phased = bool(config["phased"])
    pops = np.repeat(np.array(populations, dtype=object), n)
    ids = np.array([f"SYN_{p}_{i + 1:06d}" for p in populations for i in range(n)], dtype=object)
    samples = Samples(ids, pops, {config["label_column"]: pops.copy()}, config["label_column"])
    # a window after a junction draws `oversample` x n people per population: its continuations are chosen
    draws = [n if k == 0 or windows[k - 1].contig != w.contig else n * oversample for k, w in enumerate(windows)]
    parts_dir = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        raw = [parts_dir / f"{w.name}.raw.npy" for w in windows]
        tasks = [(w.name, (str(window_dir(model_dir, w)), str(raw[k]), draws[k], populations, sample, factor,
                           window_seed(seed, w.index), checkpoint, engine.threads)) for k, w in enumerate(windows)]
        epochs = {}
        with progress_bar("generating: windows", 2 * len(windows), show=show_progress) as bar:
            for key, result in engine.run(generate_window, tasks, on_done=lambda *_: bar.advance()):
                epochs[key] = result["epoch"]
            plans = stitch_plan(windows, raw, populations, n, draws, phased)
            variants = window_variants(Path(model_dir), windows)
            cores = [parts_dir / f"{w.name}.core.npy" for w in windows]
            records = [parts_dir / f"{w.name}.vcf.bgz" for w in windows] if kind == "vcf.gz" else None
            table = [w.to_dict() for w in windows]
            tasks = [(w.name, (k, table, [str(p) for p in raw], {j: plans[j] for j in (k - 1, k, k + 1) if 0 <= j < len(plans)},
                               phased, str(cores[k]),
                               str(records[k]) if records else None, core_variants(variants, w), engine.threads))
                     for k, w in enumerate(windows)]
            for _ in engine.run(write_core, tasks, on_done=lambda *_: bar.advance()):
                pass
        source = CoreParts(cores, windows, variants, samples, phased, config["contig_id"], config["contig_length"],
                           provenance, str(model_dir))
        if kind != "vcf.gz":
            return write_output(output, source, provenance=provenance, show_progress=show_progress)
        import pysam

        from .io.vcf import _place_index

        with atomic_path(output, suffix=".vcf.gz") as tmp:
            join_bgzf(vcf_header(source, provenance).encode(), records, tmp)
            csi = int(variants["position"].max(initial=0)) >= 1 << 29
            pysam.tabix_index(str(tmp), preset="vcf", force=True, csi=csi)
            paths = [str(output), _place_index(tmp, output, "csi" if csi else "tbi")]
        panel = panel_path_for(output)
        write_panel(panel, samples)
        return [*paths, str(panel)]
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)
