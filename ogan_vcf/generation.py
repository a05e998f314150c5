"""``ogan generate``: N synthetic people per population from a trained model -> Cohort -> file."""

from __future__ import annotations

import math
import numbers
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cohort import Cohort, Samples, provenance_record
from .errors import InputError
from .model.encoding import decode, draw_classes
from .model.presets import preset_from_dict
from .model.store import CHECKPOINTS, build_gan, load_checkpoint, read_config


@dataclass
class GenerateSummary:
    paths: list[str]
    counts: dict[str, int]
    epoch: int
    seed: int
    hybridize_factor: int | None


def check_count(n) -> int:
    """The number of people per population: a whole number, at least 1."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or int(n) != n or n < 1:
        raise InputError(f"the number of people per population must be a whole number >= 1, got {n}")
    return int(n)


def _checked_request(config: dict, n, populations, checkpoint: str, hybridize_factor) -> tuple[list[str], int, int]:
    """(populations, people per population, hybridize factor) of a generation request, checked against the model."""
    labels = config["labels"]
    populations = populations or labels
    unknown = [p for p in populations if p not in labels]
    if unknown:
        raise InputError(f"unknown population {unknown[0]!r}; the model knows {', '.join(labels)}")
    n = check_count(n if n is not None else max(config["training_sizes"].values()))
    if checkpoint not in CHECKPOINTS:
        raise InputError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, got {checkpoint!r}")
    factor = int(hybridize_factor) if hybridize_factor else 1
    if factor < 1:
        raise InputError(f"the hybridize factor must be a whole number >= 1, got {hybridize_factor}")
    return populations, n, factor


def synthesize(model_dir, *, n: int | None = None, populations: list[str] | None = None, sample: bool | None = None,
               hybridize_factor: int | None = None, seed: int | None = None, checkpoint: str = "best"):
    """A Cohort of ``n`` synthetic people per population, plus the epoch of the weights used."""
    from .model import require_tensorflow

    config = read_config(model_dir)
    require_tensorflow()
    seed = secrets.randbits(31) if seed is None else int(seed)
    labels = config["labels"]
    populations, n, factor = _checked_request(config, n, populations, checkpoint, hybridize_factor)
    preset = preset_from_dict(config["preset"])
    sample = preset.samples if sample is None else sample
    import keras

    from .model.networks import run_generator

    keras.mixed_precision.set_global_policy("float32")  # generation runs in full precision everywhere
    gan = build_gan(config, preset, training=False)
    state = load_checkpoint(gan, model_dir, checkpoint, training=False)  # any device, any precision policy
    gan.reseed(seed)
    n_net = math.ceil(n / factor)
    rng = np.random.default_rng(seed)
    n_snps = len(config["variants"]["position"])
    parts = []
    for pop in populations:
        label = np.full(n_net, labels.index(pop), dtype=np.int32)
        noise = rng.normal(size=(n_net, preset.noise_dim)).astype("float32")
        logits = run_generator(gan.generator, noise, label, n_snps)
        parts.append(draw_classes(logits, sample, rng))
    cohort = _cohort(config, np.concatenate(parts), populations, n_net, Path(model_dir))
    if factor > 1:
        from .hybridizer import hybridize

        cohort = hybridize(cohort, factor=factor, populations=populations, seed=seed).cohort
        keep = np.concatenate([np.flatnonzero(cohort.samples.populations == p)[:n] for p in populations])
        cohort = cohort.take_samples(keep)
    cohort.samples.ids[:] = [f"SYN_{p}_{i + 1:06d}" for p in populations for i in range(n)]
    return cohort, state["epoch"], seed


def _cohort(config: dict, classes: np.ndarray, populations: list[str], n_each: int, model_dir: Path) -> Cohort:
    v = config["variants"]
    phased = config["phased"]
    genotypes = decode(classes, phased)
    pops = np.repeat(np.array(populations, dtype=object), n_each)
    ids = np.array([f"SYN_{p}_{i + 1:06d}" for p in populations for i in range(n_each)], dtype=object)
    samples = Samples(ids, pops, {config["label_column"]: pops.copy()}, config["label_column"])
    return Cohort(list(v["contig_id"]), list(v["contig_length"]), np.array(v["contig"], dtype=np.int32),
                  np.array(v["position"], dtype=np.int64), np.array(v["id"], dtype=object),
                  np.array(v["allele"], dtype=object).reshape(-1, 2), genotypes,
                  np.full(genotypes.shape[:2], phased), samples, [], str(model_dir))


def generate(model_dir, output, *, n: int | None = None, populations: list[str] | None = None,
             sample: bool | None = None, hybridize_factor: int | None = None, seed: int | None = None,
             checkpoint: str = "best", workers: int | None = None, scheduler: str | None = None,
             synchronous: bool = False, show_progress: bool = False) -> GenerateSummary:
    """Write ``n`` synthetic people per population as VCF/BCF/PLINK (+panel) or .h5.

    A windowed model (windowed.py) draws every window as a Dask task (``workers``/``scheduler``/
    ``synchronous``, see ``parallel.Engine``), stitches neighbours in their overlap and joins the parts.
    """
    from .io import write_output
    from .io.vcf import output_kind
    from .windowed import is_windowed_model

    output_kind(output)
    if is_windowed_model(model_dir):
        return _generate_windowed(model_dir, Path(output), n=n, populations=populations, sample=sample,
                                  hybridize_factor=hybridize_factor, seed=seed, checkpoint=checkpoint,
                                  workers=workers, scheduler=scheduler, synchronous=synchronous,
                                  show_progress=show_progress)
    cohort, epoch, seed = synthesize(model_dir, n=n, populations=populations, sample=sample,
                                     hybridize_factor=hybridize_factor, seed=seed, checkpoint=checkpoint)
    config = read_config(model_dir)
    record = provenance_record("generate", {"model_dir": str(model_dir), "model": config["model"],
                                            "preset": config["preset"]["name"], "epoch": epoch,
                                            "checkpoint": checkpoint, "n": n, "sample": sample,
                                            "hybridize_factor": hybridize_factor,
                                            "membership_budget": config["preset"].get("membership_budget")},
                               seed=seed)
    paths = write_output(output, cohort, provenance=[record], show_progress=show_progress)
    return GenerateSummary(paths, cohort.samples.population_counts(), epoch, seed, hybridize_factor)


def _generate_windowed(model_dir, output: Path, *, n, populations, sample, hybridize_factor, seed, checkpoint, workers,
                       scheduler, synchronous, show_progress) -> GenerateSummary:
    from .model import require_tensorflow
    from .parallel import Engine
    from .windowed import read_done, synthesize_windowed, window_dir
    from .windows import core_ranges, windows_from_table

    require_tensorflow()
    config = read_config(model_dir)
    populations, n, _ = _checked_request(config, n, populations, checkpoint, hybridize_factor)
    seed = secrets.randbits(31) if seed is None else int(seed)
    windows = windows_from_table(config["windows"])
    cores = core_ranges(windows, config["contig_id"],
                        [np.asarray(read_config(window_dir(model_dir, w))["variants"]["position"])
                         [w.core_start - w.start:w.core_stop - w.start] for w in windows])
    epochs = sorted({(read_done(model_dir, w) or {}).get("best_epoch") for w in windows} - {None})
    record = provenance_record("generate", {"model_dir": str(model_dir), "model": config["model"],
                                            "preset": config["preset"]["name"], "checkpoint": checkpoint, "n": n,
                                            "sample": sample, "hybridize_factor": hybridize_factor,
                                            "membership_budget": config["preset"].get("membership_budget"),
                                            "windows": cores}, seed=seed)
    with Engine(workers, scheduler, synchronous) as engine:
        paths = synthesize_windowed(model_dir, output, n=n, populations=populations, sample=sample,
                                    factor=hybridize_factor, seed=seed, checkpoint=checkpoint, engine=engine,
                                    provenance=[record], show_progress=show_progress)
    epoch = epochs[0] if len(epochs) == 1 else (f"{epochs[0]}-{epochs[-1]}" if epochs else 0)
    return GenerateSummary(paths, {p: n for p in populations}, epoch, seed, hybridize_factor)
