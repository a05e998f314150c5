"""The conditional GAN: a keras.Model with its own train_step (TensorFlow backend).

Per batch: ``d_steps`` critic updates (fresh noise each, the same real batch), each
followed by clipping the critic's conv kernels when the preset clips, then one
generator update. Losses: hinge (Offspring GAN, PPO-GAN) or Wasserstein (PG-cGAN).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .networks import clipped_kernels, straight_through_gumbel
from .presets import Preset


def critic_loss(kind: str, real_score, fake_score):
    real_score, fake_score = tf.cast(real_score, tf.float32), tf.cast(fake_score, tf.float32)
    if kind == "hinge":
        return tf.reduce_mean(tf.nn.relu(1.0 - real_score)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_score))
    return tf.reduce_mean(fake_score) - tf.reduce_mean(real_score)


def generator_loss(kind: str, fake_score):
    fake_score = tf.cast(fake_score, tf.float32)
    if kind == "hinge":  # Keras hinge(+1, D(fake)), as in the notebook
        return tf.reduce_mean(tf.nn.relu(1.0 - fake_score))
    return -tf.reduce_mean(fake_score)


class ConditionalGAN(keras.Model):
    """generator(noise, label) -> logits; critic(genotypes, label) -> score."""

    def __init__(self, generator: keras.Model, critic: keras.Model, preset: Preset, *, n_classes: int, seed: int):
        super().__init__()
        self.generator, self.critic, self.preset = generator, critic, preset
        self.n_classes = n_classes
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self._clip = clipped_kernels(critic) if preset.clip else []
        self.built = True  # its parts are built functional models: nothing is created on first call

    def seed_generators(self) -> dict:
        """Every SeedGenerator of the GAN by a stable name: its own noise, and each layer's
        (the template choice's Gumbel draws, dropout masks)."""
        named = {"noise": self.noise_seed}
        for model in (self.generator, self.critic):
            seen: dict[str, int] = {}
            for layer in model.layers:  # named as Keras names layers in a file: class name and count
                kind = type(layer).__name__
                seen[kind] = seen.get(kind, -1) + 1
                for i, generator in enumerate(getattr(layer, "_seed_generators", [])):
                    named[f"{model.name}.{kind}_{seen[kind]}.{i}"] = generator
        return named

    def reseed(self, seed: int) -> None:
        """Every seed state derived from ``seed``: generation's layer draws (the copying model's choices
        and switch points) then follow its ``--seed``, not the stream the checkpoint stopped at."""
        named = self.seed_generators()
        for name, value in zip(sorted(named), np.random.SeedSequence(seed).generate_state(len(named))):
            state = named[name].state
            state.assign(np.array([value, 0]).astype(state.dtype))

    def save_own_variables(self, store):
        """Keras saves the parts' weights and the optimizers; the GAN adds every seed state, by name."""
        for name, generator in self.seed_generators().items():
            store[name] = np.asarray(generator.state.value)

    def load_own_variables(self, store):
        for name, generator in self.seed_generators().items():
            generator.state.assign(store[name])

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    def fake(self, labels, training: bool):
        """What the critic sees: softmax probabilities, or a straight-through Gumbel one-hot sample."""
        noise = keras.random.normal((tf.shape(labels)[0], self.preset.noise_dim), seed=self.noise_seed)
        logits = tf.cast(self.generator([noise, labels], training=training), tf.float32)
        if self.preset.output != "gumbel":
            return tf.nn.softmax(logits)
        return straight_through_gumbel(logits, self.preset.temperature, self.noise_seed)

    def train_step(self, data):
        classes, labels = data
        real = tf.one_hot(tf.cast(classes, tf.int32), self.n_classes)
        kind = self.preset.loss
        for _ in range(self.preset.d_steps):
            fake = tf.stop_gradient(self.fake(labels, training=True))  # outside the tape: not recorded
            with tf.GradientTape() as tape:
                d_loss = critic_loss(kind, self.critic([real, labels], training=True),
                                     self.critic([fake, labels], training=True))
                scaled = self.d_optimizer.scale_loss(d_loss)  # loss scaling under mixed precision
            grads = tape.gradient(scaled, self.critic.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.critic.trainable_weights))
            for kernel in self._clip:
                kernel.assign(tf.clip_by_value(kernel, -self.preset.clip, self.preset.clip))
        with tf.GradientTape() as tape:
            g_loss = generator_loss(kind, self.critic([self.fake(labels, training=True), labels], training=True))
            scaled = self.g_optimizer.scale_loss(g_loss)
        grads = tape.gradient(scaled, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def make_optimizers(preset: Preset):
    """(critic, generator) optimizers: Adam(beta1, beta2, amsgrad) or RMSprop, per the papers;
    wrapped for dynamic loss scaling under a mixed-precision policy (GPU)."""
    rates = (preset.critic_lr or preset.lr, preset.lr)
    if preset.optimizer == "rmsprop":
        optimizers = [keras.optimizers.RMSprop(lr) for lr in rates]
    else:
        optimizers = [keras.optimizers.Adam(lr, beta_1=preset.beta_1, beta_2=preset.beta_2, amsgrad=True)
                      for lr in rates]
    if keras.mixed_precision.global_policy().compute_dtype == "float16":
        optimizers = [keras.optimizers.LossScaleOptimizer(o) for o in optimizers]
    return tuple(optimizers)
