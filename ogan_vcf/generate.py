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
from .model.encoding import decode
from .model.presets import preset_from_dict
from .train import _load_state, build_gan, read_config, samples_by_default


@dataclass
class GenerateSummary:
    paths: list[str]
    counts: dict[str, int]
    epoch: int
    seed: int
    hybridize_factor: int | None


def check_count(n) -> int:
    """``--n``: a whole number of people per population, at least 1."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or int(n) != n or n < 1:
        raise InputError(f"--n must be a whole number >= 1, got {n}")
    return int(n)


def synthesize(model_dir, *, n: int | None = None, populations: list[str] | None = None, sample: bool | None = None,
               hybridize_factor: int | None = None, seed: int | None = None, checkpoint: str = "best"):
    """A Cohort of ``n`` synthetic people per population, plus the epoch of the weights used."""
    from .model import require_tensorflow

    config = read_config(model_dir)
    require_tensorflow()
    seed = secrets.randbits(31) if seed is None else int(seed)
    labels = config["labels"]
    populations = populations or labels
    unknown = [p for p in populations if p not in labels]
    if unknown:
        raise InputError(f"unknown population {unknown[0]!r}; the model knows {', '.join(labels)}")
    n = check_count(n if n is not None else max(config["training_sizes"].values()))
    path = Path(model_dir) / "checkpoints" / f"{checkpoint}.npz"
    if not path.is_file():
        raise InputError(f"{model_dir}: no {checkpoint} checkpoint yet (train first, or --checkpoint last)")
    preset = preset_from_dict(config["preset"])
    sample = samples_by_default(preset) if sample is None else sample
    import keras

    keras.mixed_precision.set_global_policy("float32")  # generation runs in full precision everywhere
    gan = build_gan(config, preset, None)
    state = _load_state(path, gan, optimizers=False)  # any device, any precision policy
    factor = int(hybridize_factor) if hybridize_factor else 1
    if factor < 1:
        raise InputError(f"--hybridize-factor must be a whole number >= 1, got {hybridize_factor}")
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
        from .hybridize import hybridize

        cohort = hybridize(cohort, factor=factor, populations=populations, seed=seed).cohort
        keep = np.concatenate([np.flatnonzero(cohort.samples.populations == p)[:n] for p in populations])
        cohort = cohort.take_samples(keep)
    cohort.samples.ids[:] = [f"SYN_{p}_{i + 1:06d}" for p in populations for i in range(n)]
    return cohort, state["epoch"], seed


def run_generator(generator, noise: np.ndarray, labels: np.ndarray, n_snps: int, batch: int = 256) -> np.ndarray:
    """Generator logits (n, n_snps, classes) in batches (a direct call: no tf.data pipeline)."""
    parts = [np.asarray(generator([noise[i:i + batch], labels[i:i + batch]], training=False))[:, :n_snps]
             for i in range(0, len(labels), batch)]
    return np.concatenate(parts).astype(np.float32, copy=False)


def draw_classes(logits: np.ndarray, sample: bool, rng: np.random.Generator) -> np.ndarray:
    """argmax of the softmax per SNP (the paper), or a draw from it."""
    if not sample:
        return logits.argmax(axis=-1).astype(np.int8)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cumulative = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    u = rng.random(cumulative.shape[:2] + (1,))
    return (u > cumulative).sum(axis=-1).clip(0, logits.shape[-1] - 1).astype(np.int8)


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
             checkpoint: str = "best", show_progress: bool = False) -> GenerateSummary:
    """Write ``n`` synthetic people per population as VCF/BCF/PLINK (+panel) or .h5."""
    from .io import write_output
    from .io.vcf import output_kind

    output_kind(output)
    cohort, epoch, seed = synthesize(model_dir, n=n, populations=populations, sample=sample,
                                     hybridize_factor=hybridize_factor, seed=seed, checkpoint=checkpoint)
    config = read_config(model_dir)
    record = provenance_record("generate", {"model_dir": str(model_dir), "model": config["model"],
                                            "preset": config["preset"]["name"], "epoch": epoch,
                                            "checkpoint": checkpoint, "n": n, "sample": sample,
                                            "hybridize_factor": hybridize_factor}, seed=seed)
    paths = write_output(output, cohort, provenance=[record], show_progress=show_progress)
    return GenerateSummary(paths, cohort.samples.population_counts(), epoch, seed, hybridize_factor)
