"""``ogan train``: balance a cohort with the hybridizer, fit the conditional GAN, keep checkpoints.

A model directory holds ``config.json`` (model, preset, labels, encoding, the variant
table, seed, versions), ``checkpoints/last.npz`` and ``checkpoints/best.npz`` (networks
and optimizer state), and ``history.csv`` (losses and quality per evaluated epoch).
The quality score is the mean over populations of (MAF r + LD r) / 2 between genomes
generated at that epoch (as ``ogan generate`` would draw them) and the training cohort.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cohort import Cohort, atomic_path, software_versions
from .errors import InputError
from .hybridize import BlockSpec
from .model.encoding import class_frequencies, encode, n_classes
from .model.presets import Preset, make_preset, preset_from_dict

MODEL_FORMAT = 1


@dataclass
class TrainSummary:
    model_dir: str
    model: str
    preset: str
    epochs: int
    steps: int
    best_epoch: int
    best_quality: float | None
    seconds: float
    n_training: dict[str, int]
    interrupted: bool = False


def training_cohort(cohort: Cohort, model: str, blocks: BlockSpec, seed: int) -> Cohort:
    """What the GAN sees: offspring-balanced (offspring), offspring only (ppo), as is (pgcgan)."""
    from .hybridize import hybridize

    if model == "pgcgan":
        return cohort
    return hybridize(cohort, balance=True, mode="offspring" if model == "offspring" else "ppo",
                     blocks=blocks, seed=seed).cohort


def dosage_from_classes(classes: np.ndarray, phased: bool) -> np.ndarray:
    """ALT counts (S, V) from network classes."""
    return (classes // 2 + classes % 2) if phased else classes


class Quality:
    """Scores generated genomes against the training data, per population (fixed noise)."""

    def __init__(self, classes, labels, label_names, phased, positions, n_samples, seed, sample):
        from .report import metrics as m

        self.m, self.phased, self.names = m, phased, label_names
        rng = np.random.default_rng(seed)
        self.reference = [dosage_from_classes(classes[labels == k], phased) for k in range(len(label_names))]
        self.pairs = m.near_pairs(np.zeros(len(positions), np.int32), positions, 50_000, 2_000, rng)
        self.ref_r = [m.pair_r(m.standardize(d), *self.pairs) for d in self.reference]
        self.n = n_samples
        self.labels = np.repeat(np.arange(len(label_names)), n_samples).astype(np.int32)
        self.noise_rng_seed = seed
        self.sample = sample

    def __call__(self, generator, noise_dim: int, n_snps: int) -> dict:
        noise = np.random.default_rng(self.noise_rng_seed).normal(size=(len(self.labels), noise_dim))
        from .generate import draw_classes, run_generator

        logits = run_generator(generator, noise.astype("float32"), self.labels, n_snps)
        classes = draw_classes(logits, self.sample, np.random.default_rng(self.noise_rng_seed))
        scores = {}
        for k, name in enumerate(self.names):
            d = dosage_from_classes(classes[self.labels == k], self.phased).astype(np.int8)
            maf_r = self.m.pearson(*self.m.maf_pair(self.reference[k], d))
            ld_r = self.m.pearson(self.ref_r[k], self.m.pair_r(self.m.standardize(d), *self.pairs))
            scores[f"maf_r_{name}"], scores[f"ld_r_{name}"] = maf_r, ld_r
        values = [((scores[f"maf_r_{n}"] or 0) + (scores[f"ld_r_{n}"] or 0)) / 2 for n in self.names]
        scores["quality"] = float(np.mean(values))
        return scores


def _save_state(path: Path, gan, epoch: int, best: dict) -> None:
    arrays = {f"g{i}": w for i, w in enumerate(gan.generator.get_weights())}
    arrays |= {f"c{i}": w for i, w in enumerate(gan.critic.get_weights())}
    arrays |= {f"og{i}": np.asarray(v) for i, v in enumerate(gan.g_optimizer.variables)}
    arrays |= {f"oc{i}": np.asarray(v) for i, v in enumerate(gan.d_optimizer.variables)}
    arrays["state"] = np.array(json.dumps({**best, "epoch": epoch}))
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def _load_state(path: Path, gan, *, optimizers: bool = True) -> dict:
    """Networks (and optimizer state unless ``optimizers`` is False) from a checkpoint; its state dict."""
    data = np.load(path)

    def group(prefix):
        return [data[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) and k[len(prefix):].isdigit()
                                                        for k in data.files))]

    gan.generator.set_weights(group("g"))
    gan.critic.set_weights(group("c"))
    for optimizer, key, model in ((gan.g_optimizer, "og", gan.generator), (gan.d_optimizer, "oc", gan.critic)):
        if not optimizers:
            break
        optimizer.build(model.trainable_weights)
        for variable, value in zip(optimizer.variables, group(key)):
            variable.assign(value)
    return json.loads(str(data["state"]))


def build_gan(config: dict, preset: Preset, freq: np.ndarray | None):
    """Generator, critic and the compiled ConditionalGAN for a model config."""
    from .model.gan import ConditionalGAN, make_optimizers
    from .model.networks import build_critic, build_generator

    n_labels, k, n_snps = len(config["labels"]), config["n_classes"], len(config["variants"]["position"])
    generator = build_generator(preset, n_snps, n_labels, k, freq, starts=config.get("network_blocks"),
                                seed=config["seed"])
    critic = build_critic(preset, n_snps, n_labels, k)
    gan = ConditionalGAN(generator, critic, preset, n_classes=k, seed=config["seed"])
    d_opt, g_opt = make_optimizers(preset)
    gan.compile(d_opt, g_opt, jit_compile=config.get("jit_compile", False))
    return gan


def samples_by_default(preset: Preset) -> bool:
    """Networks trained on straight-through Gumbel samples are sampled; the paper's take the argmax."""
    return preset.output == "gumbel"


def read_config(model_dir: str | os.PathLike) -> dict:
    """config.json of a model directory, checked for presence and format version."""
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        raise InputError(f"{model_dir}: not a model directory (no config.json); train one with `ogan train`")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: damaged model config ({e})") from None
    if config.get("format") != MODEL_FORMAT:
        raise InputError(f"{path}: model format {config.get('format')!r} is not supported (this ogan_vcf "
                         f"reads format {MODEL_FORMAT}); retrain it")
    return config


def train(input, model_dir, *, panel=None, label_column=None, model: str | None = None, preset: str | None = None,
          overrides: dict | None = None, blocks: BlockSpec | None = None, seed: int | None = None,
          resume: bool = False, jit_compile: bool | None = None, show_progress: bool = False) -> TrainSummary:
    """Train a conditional GAN on ``input`` and write (or continue) ``model_dir``.

    ``model`` defaults to offspring and ``preset`` to cpu. With ``resume`` the run continues as
    its config.json says; only ``overrides["epochs"]`` may change it (the new total), and any
    other option that disagrees with the config is refused.
    """
    from .model import require_tensorflow

    require_tensorflow()
    import keras
    import tensorflow as tf

    from .io import read_cohort

    model_dir = Path(model_dir)
    if resume:
        config = read_config(model_dir)
        chosen = preset_from_dict(config["preset"])
        recorded = {"--model": (model, config["model"]), "--preset": (preset, chosen.name),
                    "--seed": (seed, config["seed"]), "--xla": (jit_compile or None, config.get("jit_compile") or None),
                    "--block-size": (blocks.describe() if blocks else None, config.get("hybridizer_blocks"))}
        seed = config["seed"]
        changed = sorted(k for k, v in (overrides or {}).items()
                         if v is not None and k != "epochs" and v != getattr(chosen, k, None))
        changed = [f"--{k.replace('_', '-')}" for k in changed]
        changed += [name for name, (given, stored) in recorded.items() if given is not None and given != stored]
        if changed:
            raise InputError(f"--resume continues {model_dir} as configured; only --epochs may change "
                             f"(got {', '.join(changed)})")
        epochs = (overrides or {}).get("epochs")
        if epochs is not None and epochs != chosen.epochs:  # extend (or shorten) the run
            if epochs < 1:
                raise InputError("--epochs must be at least 1")
            chosen = dataclasses.replace(chosen, epochs=int(epochs))
            config["preset"] = chosen.to_dict()
            with atomic_path(model_dir / "config.json") as tmp:
                tmp.write_text(json.dumps(config, indent=1))
    else:
        model, preset = model or "offspring", preset or "cpu"
        chosen = make_preset(preset, model, **(overrides or {}))
        seed = secrets.randbits(31) if seed is None else int(seed)
    cohort = read_cohort(input, panel=panel, label_column=label_column, show_progress=show_progress)
    phased = bool(cohort.phased.all())
    real_classes = encode(cohort.genotypes, phased, source=str(input))  # refuses missing calls first
    if not phased and cohort.phased.any():
        raise InputError(f"{input}: partly phased; phase every call (e.g. Beagle) or none before training")
    keras.utils.set_random_seed(seed)
    gpu = bool(tf.config.list_physical_devices("GPU"))
    mixed = config.get("mixed_precision", False) if resume else gpu  # a resumed run keeps its optimizer form
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")  # logits cast to float32
    if not gpu and not (config.get("jit_compile") if resume else jit_compile):
        tf.config.experimental.enable_op_determinism()  # same seed, same weights (XLA on CPU gives this up)
    if resume:  # the hybridizer blocks the run started with
        stored = config.get("hybridizer_block_size")
        blocks = BlockSpec(size=stored) if stored else BlockSpec()
    data = training_cohort(cohort, model if not resume else config["model"], blocks or BlockSpec(), seed)
    labels_names = list(cohort.samples.population_counts())
    classes = encode(data.genotypes, phased)
    labels = np.array([labels_names.index(p) for p in data.samples.populations], dtype=np.int32)
    k = n_classes(phased)
    if not resume:
        config = _new_config(cohort, model, chosen, labels_names, phased, seed, data, jit_compile)
        config["mixed_precision"] = mixed
        config["hybridizer_blocks"] = (blocks or BlockSpec()).describe()
        config["hybridizer_block_size"] = blocks.size if blocks else None
        if chosen.architecture == "templates":
            from .hybridize.blocks import ld_blocks

            spec = BlockSpec(min_snps=max(1, chosen.block_snps // 4), max_snps=chosen.block_snps)
            config["network_blocks"] = ld_blocks(data.genotypes, data.variant_contig, spec).tolist()
        model_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(model_dir / "config.json") as tmp:
            tmp.write_text(json.dumps(config, indent=1))
    freq = class_frequencies(classes, labels, len(labels_names), k)
    gan = build_gan(config, chosen, freq)
    state = {"epoch": 0, "best_quality": None, "best_epoch": 0}
    if chosen.architecture == "templates" and not resume:
        init_templates(gan.generator, classes, labels, len(labels_names), chosen.templates, seed,
                       chosen.codebook)
    if resume:
        state = _load_state(model_dir / "checkpoints" / "last.npz", gan)
    quality = Quality(real_classes, np.array([labels_names.index(p) for p in
                      cohort.samples.populations]), labels_names, phased, cohort.variant_position,
                      chosen.eval_samples, seed, samples_by_default(chosen))
    return _fit(gan, chosen, config, classes, labels, quality, state, model_dir, seed, show_progress)


def template_owners(k: int, counts: np.ndarray, codebook: str) -> np.ndarray:
    """Which population each of the ``k`` templates starts from: shares proportional to the
    training counts ("shared", largest remainder, at least one each) or equal ("per_population")."""
    counts = np.asarray(counts, dtype=np.float64)
    if k < len(counts):
        raise InputError(f"{k} templates cannot cover {len(counts)} populations; use a preset with more templates")
    if codebook == "per_population":
        return np.arange(k) % len(counts)
    if codebook != "shared":
        raise InputError(f"codebook must be 'shared' or 'per_population', got {codebook!r}")
    quota = 1 + (k - len(counts)) * counts / counts.sum()
    share = np.floor(quota).astype(np.int64)
    share[np.argsort(share - quota, kind="stable")[: k - share.sum()]] += 1
    return np.repeat(np.arange(len(counts)), share)


def init_templates(generator, classes: np.ndarray, labels: np.ndarray, n_labels: int, k: int, seed: int,
                   codebook: str = "shared") -> None:
    """Codebook start: each population's templates are blocks of its own training genomes, drawn
    afresh for every block, and its prior picks among them uniformly (so step 0 draws
    hybridizer-like genomes). How many templates a population gets follows ``codebook``."""
    rng = np.random.default_rng(seed)
    owner = template_owners(k, np.bincount(labels, minlength=n_labels), codebook)
    layer = generator.get_layer("logits")
    n_blocks = len(layer.starts) - 1
    rows = np.empty((n_blocks, k), dtype=np.int64)
    for label in range(n_labels):
        members = np.flatnonzero(labels == label)
        per = int((owner == label).sum())
        rows[:, owner == label] = [rng.choice(members, per, replace=len(members) < per) for _ in range(n_blocks)]
    layer.set_templates(classes, rows)
    table = np.where(owner[None, :] == np.arange(n_labels)[:, None], 0.0, -8.0).astype("float32")
    generator.get_layer("template_prior").embeddings.assign(np.tile(table, (1, n_blocks)))


def _new_config(cohort, model, preset, labels, phased, seed, data, jit_compile) -> dict:
    return {
        "format": MODEL_FORMAT, "model": model, "preset": preset.to_dict(), "labels": labels,
        "label_column": cohort.samples.label_column, "phased": phased, "n_classes": n_classes(phased),
        "seed": seed, "software": software_versions(), "source": cohort.path,
        "training_sizes": data.samples.population_counts(),
        "jit_compile": bool(jit_compile) if jit_compile is not None else False,
        "variants": {"contig_id": list(cohort.contig_id), "contig_length": list(cohort.contig_length),
                     "contig": cohort.variant_contig.tolist(), "position": cohort.variant_position.tolist(),
                     "id": list(cohort.variant_id), "allele": cohort.variant_allele.tolist()},
    }


def _fit(gan, preset, config, classes, labels, quality, state, model_dir, seed, show_progress) -> TrainSummary:
    import keras
    import tensorflow as tf

    from ._progress import progress_bar
    from .model.networks import padded_length

    n_snps = classes.shape[1]
    pad = padded_length(n_snps, preset) - n_snps
    padded = np.pad(classes, ((0, 0), (0, pad))) if pad else classes
    dataset = (tf.data.Dataset.from_tensor_slices((padded, labels))
               .shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
               .batch(preset.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    steps_per_epoch = len(labels) // preset.batch_size
    if steps_per_epoch < 1:
        raise InputError(f"{len(labels)} training genomes are fewer than one batch ({preset.batch_size}); "
                         "use a smaller --batch-size")
    history_path = Path(model_dir) / "history.csv"
    (Path(model_dir) / "checkpoints").mkdir(exist_ok=True)
    start, t0, interrupted = time.perf_counter(), state["epoch"], False
    fields = ["epoch", "seconds", "d_loss", "g_loss", "quality",
              *(f"{kind}_{name}" for name in config["labels"] for kind in ("maf_r", "ld_r"))]

    class Monitor(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            bar.advance(1)

        def on_epoch_end(self, epoch, logs=None):
            done = epoch + 1
            row = {"epoch": done, "seconds": round(time.perf_counter() - start, 1),
                   "d_loss": float(logs["d_loss"]), "g_loss": float(logs["g_loss"])}
            if done % preset.eval_every == 0 or done == preset.epochs:
                row.update(quality(gan.generator, preset.noise_dim, n_snps))
                if state["best_quality"] is None or row["quality"] > state["best_quality"]:
                    state.update(best_quality=row["quality"], best_epoch=done)
                    _save_state(Path(model_dir) / "checkpoints" / "best.npz", gan, done, state)
                _save_state(Path(model_dir) / "checkpoints" / "last.npz", gan, done, state)
            state["epoch"] = done
            _append_history(history_path, row, fields)
            bar.describe(f"{config['model']} epoch {done}/{preset.epochs} d {row['d_loss']:.3f} "
                         f"g {row['g_loss']:.3f}" + (f" q {row['quality']:.3f}" if "quality" in row else ""))

    with progress_bar(f"training {config['model']}", steps_per_epoch * (preset.epochs - t0), show=show_progress) as bar:
        try:
            gan.fit(dataset, epochs=preset.epochs, initial_epoch=t0, verbose=0, shuffle=False, callbacks=[Monitor()])
        except KeyboardInterrupt:
            interrupted = True
            _save_state(Path(model_dir) / "checkpoints" / "last.npz", gan, state["epoch"], state)
    return TrainSummary(str(model_dir), config["model"], preset.name, state["epoch"],
                        int(gan.g_optimizer.iterations.numpy()), state["best_epoch"], state["best_quality"],
                        time.perf_counter() - start, config["training_sizes"], interrupted)


def _append_history(path: Path, row: dict, fields: list[str]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)
