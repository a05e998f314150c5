"""Training throughput: our compiled train_step against the notebook's loop, same networks.

The `paper` architecture at L = 7,532 SNPs, 5 populations, batch 32. Baseline, as in the
authors' notebook: per batch, four separate ``critic.train_on_batch`` calls (real and
generated genomes stacked, hinge targets +1/-1), then ``stacked.train_on_batch`` on the
generator+frozen critic, with the eager tf.data pipeline rebuilt every epoch. Ours:
``ConditionalGAN.fit`` (one tf.function per step, 4 critic updates inside). Both are
warmed up, then timed over the same number of batches; the ratio is the figure.
Also prints the cpu preset's throughput on the same data.

    python bench/train_step.py [--snps 7532] [--batches 6] [--xla]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ogan_vcf.hybridizer.blocks import fixed_blocks  # noqa: E402
from ogan_vcf.model.gan import ConditionalGAN, make_optimizers  # noqa: E402
from ogan_vcf.model.networks import build_critic, build_generator, padded_length  # noqa: E402
from ogan_vcf.model.presets import make_preset  # noqa: E402

N_LABELS, N_CLASSES = 5, 4


def data(n: int, length: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, N_CLASSES, (n, length)).astype(np.int8), rng.integers(0, N_LABELS, n).astype(np.int32)


def notebook_loop(preset, n_snps, classes, labels, batches: int) -> float:
    """Seconds per batch of the notebook's procedure (after one warm-up batch)."""
    generator = build_generator(preset, n_snps, N_LABELS, N_CLASSES)
    critic = build_critic(preset, n_snps, N_LABELS, N_CLASSES)
    d_opt, g_opt = make_optimizers(preset)
    critic.compile(optimizer=d_opt, loss="hinge")
    critic.trainable = False
    noise, label = keras.Input((preset.noise_dim,)), keras.Input((), dtype="int32")
    probs = keras.layers.Softmax()(generator([noise, label]))
    stacked = keras.Model([noise, label], critic([probs, label]))
    stacked.compile(optimizer=g_opt, loss="hinge")
    critic.trainable = True
    b = preset.batch_size
    dataset = tf.data.Dataset.from_tensor_slices((classes, labels)).shuffle(len(labels)).batch(b)  # rebuilt per epoch
    times = []
    for step, (x, y) in enumerate(dataset.take(batches + 1)):
        t = time.perf_counter()
        real = tf.one_hot(tf.cast(x, tf.int32), N_CLASSES)
        for _ in range(preset.d_steps):
            z = np.random.normal(size=(b, preset.noise_dim)).astype("float32")
            fake = tf.nn.softmax(generator.predict_on_batch([z, y]))
            critic.train_on_batch([tf.concat([real, fake], 0), tf.concat([y, y], 0)],
                                  np.r_[np.ones(b), -np.ones(b)].astype("float32"))
        z = np.random.normal(size=(b, preset.noise_dim)).astype("float32")
        stacked.train_on_batch([z, y], np.ones(b, dtype="float32"))
        if step:
            times.append(time.perf_counter() - t)
    return float(np.mean(times))


def ours(preset, n_snps, classes, labels, batches: int, xla: bool) -> float:
    """Seconds per batch of ConditionalGAN.fit (after a warm-up fit)."""
    starts = fixed_blocks(np.zeros(n_snps, np.int32), preset.block_snps)  # stands in for LD-aware blocks
    generator = build_generator(preset, n_snps, N_LABELS, N_CLASSES, starts=starts, seed=0)
    critic = build_critic(preset, n_snps, N_LABELS, N_CLASSES)
    gan = ConditionalGAN(generator, critic, preset, n_classes=N_CLASSES, seed=0)
    gan.compile(*make_optimizers(preset), jit_compile=xla)
    b = preset.batch_size
    dataset = tf.data.Dataset.from_tensor_slices((classes, labels)).batch(b, drop_remainder=True)
    gan.fit(dataset.take(1), epochs=1, verbose=0)
    t = time.perf_counter()
    gan.fit(dataset.take(batches), epochs=1, verbose=0)
    return (time.perf_counter() - t) / batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snps", type=int, default=7532)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--xla", action="store_true")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    paper = make_preset("paper", "offspring")
    classes, labels = data(paper.batch_size * (args.batches + 1), padded_length(args.snps, paper))
    base = notebook_loop(paper, args.snps, classes, labels, args.batches)
    mine = ours(paper, args.snps, classes, labels, args.batches, args.xla)
    b = paper.batch_size
    print(f"paper architecture, L={args.snps}, batch {b}, {args.batches} batches after warm-up")
    print(f"notebook loop (train_on_batch x4 + stacked): {b / base:7.1f} samples/s")
    print(f"ogan ConditionalGAN.fit{' (XLA)' if args.xla else ''}:          {b / mine:7.1f} samples/s")
    print(f"speed-up: {base / mine:.2f}x  (goal >= 1.5x)")
    cpu = make_preset("cpu", "offspring")
    classes, labels = data(cpu.batch_size * (args.batches + 1), padded_length(args.snps, cpu))
    per_batch = ours(cpu, args.snps, classes, labels, args.batches * 4, args.xla)
    print(f"cpu preset: {cpu.batch_size / per_batch:.0f} samples/s ({1 / per_batch:.1f} generator steps/s)")


if __name__ == "__main__":
    main()
