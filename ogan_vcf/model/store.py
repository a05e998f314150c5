"""A model directory: its config, its checkpoints in Keras's own format, and the GAN they describe.

::

    MODEL/config.json                  model, preset, labels, encoding, variant table, seed, versions
    MODEL/checkpoints/last.weights.h5  the ConditionalGAN's whole state, saved by Keras (``save_weights``):
                                       generator, critic, both optimizers and every seed generator
    MODEL/checkpoints/last.json        epoch, best epoch and best quality at that checkpoint
    MODEL/checkpoints/best.*           the same, at the best quality so far
    MODEL/checkpoints/first.*          the same, at the first evaluated epoch (a baseline for "best")
                                       (checkpoints of the same epoch share one weights file: hard links)
    MODEL/history.csv                  losses and quality per evaluated epoch

Keras stores each variable under the path of the object that owns it, so a checkpoint
loads by name, not by variable order. Reading a config needs no TensorFlow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..cohort import atomic_path
from ..errors import InputError
from .presets import Preset

MODEL_FORMAT = 2  # 1: npz checkpoints matched by variable order (before 0.1.0's issue 11)
CHECKPOINTS = ("best", "last", "first")


def read_config(model_dir: str | os.PathLike) -> dict:
    """config.json of a model directory, checked for presence and format version."""
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        raise InputError(f"{model_dir}: not a model directory (no config.json); train one with `ogan train`")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: damaged model config ({e})") from None
    if config.get("format") == 1:
        raise InputError(f"{model_dir}: an older model directory (format 1, .npz checkpoints) that this ogan_vcf "
                         "cannot load safely; retrain it, or convert it with the ogan_vcf version that wrote it")
    if config.get("format") != MODEL_FORMAT:
        raise InputError(f"{path}: model format {config.get('format')!r} is not supported (this ogan_vcf "
                         f"reads format {MODEL_FORMAT}); retrain it")
    return config


def write_config(model_dir: str | os.PathLike, config: dict) -> None:
    with atomic_path(Path(model_dir) / "config.json") as tmp:
        tmp.write_text(json.dumps(config, indent=1))


def checkpoint_files(model_dir: str | os.PathLike, which: str) -> tuple[Path, Path]:
    """(weights, state) paths of checkpoint ``which`` (one of CHECKPOINTS)."""
    folder = Path(model_dir) / "checkpoints"
    return folder / f"{which}.weights.h5", folder / f"{which}.json"


def has_checkpoint(model_dir: str | os.PathLike, which: str) -> bool:
    return all(p.is_file() for p in checkpoint_files(model_dir, which))


def build_gan(config: dict, preset: Preset, *, training: bool = True):
    """Generator, critic and the compiled ConditionalGAN for a model config.

    ``training`` False leaves the optimizers' slot variables unbuilt (generation never reads them, and
    Adam's slots are three copies of the generator: most of its memory).
    """
    from .gan import ConditionalGAN, make_optimizers
    from .networks import build_critic, build_generator

    n_labels, k, n_snps = len(config["labels"]), config["n_classes"], len(config["variants"]["position"])
    generator = build_generator(preset, n_snps, n_labels, k, starts=config.get("network_blocks"),
                                seed=config["seed"])
    critic = build_critic(preset, n_snps, n_labels, k)
    gan = ConditionalGAN(generator, critic, preset, n_classes=k, seed=config["seed"])
    d_opt, g_opt = make_optimizers(preset)
    gan.compile(d_opt, g_opt, jit_compile=config.get("jit_compile", False))
    if training:
        gan.d_optimizer.build(critic.trainable_weights)  # so that their variables exist to save and load
        gan.g_optimizer.build(generator.trainable_weights)
    return gan


def save_checkpoint(gan, model_dir: str | os.PathLike, which: str, state: dict) -> None:
    """Write checkpoint ``which``: the GAN's whole state (Keras), then its state record."""
    weights, record = checkpoint_files(model_dir, which)
    weights.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(weights, suffix=".weights.h5") as tmp:
        gan.save_weights(tmp)
    with atomic_path(record) as tmp:
        tmp.write_text(json.dumps(state))


def link_checkpoint(model_dir: str | os.PathLike, source: str, which: str, state: dict) -> None:
    """Checkpoint ``which`` as the same weights as checkpoint ``source`` (a hard link where the file
    system has them, else a copy), with its own state record: one epoch's weights are stored once."""
    import shutil

    src, _ = checkpoint_files(model_dir, source)
    weights, record = checkpoint_files(model_dir, which)
    with atomic_path(weights, suffix=".weights.h5") as tmp:
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
    with atomic_path(record) as tmp:
        tmp.write_text(json.dumps(state))


def load_checkpoint(gan, model_dir: str | os.PathLike, which: str, *, training: bool = True) -> dict:
    """Restore checkpoint ``which`` into ``gan`` and return its state record.

    ``training`` False restores only the generator (and its seed state): what generation
    needs, on any device and under any precision policy.
    """
    weights, record = checkpoint_files(model_dir, which)
    if not (weights.is_file() and record.is_file()):
        raise InputError(f"{model_dir}: no {which} checkpoint yet (train first, or use the last checkpoint)")
    skip = [] if training else [gan.critic, gan.d_optimizer, gan.g_optimizer]
    try:
        gan.load_weights(weights, objects_to_skip=skip)
    except (ValueError, KeyError, OSError) as e:
        raise InputError(f"{weights}: cannot load this checkpoint into the configured networks "
                         f"({' '.join(str(e).split())[:200]}); retrain the model") from None
    return json.loads(record.read_text())
