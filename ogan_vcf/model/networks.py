"""Generator and critic builders (Keras 3). Every size comes from a Preset.

Both generators return logits (batch, L, classes); the GAN applies the softmax (the
paper's last layer) or a straight-through Gumbel-softmax sample. ``L`` here is the
padded length: a multiple of 4 (paper) or of the critic's two strided stages (templates).

- "paper": the notebook's networks (see docs and PAPER_NOTES): a dense layer of L/4*256
  units, two upsampling conv stages; critic on the label-weighted one-hot input.
- "templates": LD-aware blocks (never across contigs), each drawn from a codebook of learned
  block templates by a straight-through Gumbel choice (see docs/gan.md); any encoding.
- "haplotypes" (the cpu preset on phased data): a copying model. Each population owns a
  codebook of whole training haplotypes; each of a genome's two haplotypes picks a codebook
  haplotype block by block, and the choice at block b adds a learned bonus to staying on the
  haplotype chosen at b-1 (a Markov chain: Li & Stephens copying with learned switch rates; a
  switch falls anywhere between the two blocks' middles, or at the block edge in older models).
  With ``match_window`` a switch moves only to a codebook haplotype that agrees with the one it
  leaves around the switch point, as the mosaic hybridizer's do (``MatchedMarkovChoice``).
  The codebook is fixed: every stretch is a real haplotype's.
  Both template critics read non-overlapping patches (conv with stride = kernel), then a
  second strided conv, and are conditioned by projection (Miyato & Koyama 2018).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .presets import Preset


def padded_length(n_snps: int, preset: Preset) -> int:
    """SNPs padded to what the networks need: a multiple of 4 (paper) or of the critic's stages (templates)."""
    multiple = 4 if preset.architecture == "paper" else preset.critic_patch * 4
    return -(-n_snps // multiple) * multiple


def straight_through_gumbel(logits, temperature: float, seed_generator):
    """A one-hot Gumbel-softmax draw over the last axis forward, the softmax's gradient back.

    Computed in float32 whatever the precision policy (float16 logits would round the noise).
    """
    logits = ops.cast(logits, "float32")
    uniform = keras.random.uniform(ops.shape(logits), 1e-6, 1.0 - 1e-6, dtype="float32", seed=seed_generator)
    soft = ops.softmax((logits - ops.log(-ops.log(uniform))) / temperature, axis=-1)
    hard = ops.one_hot(ops.argmax(soft, axis=-1), ops.shape(logits)[-1], dtype=soft.dtype)
    return hard + soft - ops.stop_gradient(soft)


class GumbelChoice(layers.Layer):
    """The template choice of every block: ``straight_through_gumbel`` as a layer (own seed state)."""

    def __init__(self, temperature: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.temperature = temperature
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, logits):
        return straight_through_gumbel(logits, self.temperature, self.seed_generator)


def _block_index(starts) -> tuple[int, np.ndarray]:
    """The longest block and, for a (blocks x longest) table flattened, the int32 positions of the real SNPs."""
    sizes = np.diff(starts)
    longest = int(sizes.max())
    return longest, np.concatenate([b * longest + np.arange(n) for b, n in enumerate(sizes)]).astype("int32")


def _pad_with_class_zero(x, pad: int, n_classes: int):
    """(batch, V, classes) logits + ``pad`` padding SNPs of class 0 for sure, as in the padded real data."""
    if not pad:
        return x
    fill = ops.one_hot(ops.zeros((ops.shape(x)[0], pad), "int32"), n_classes) * 16.0
    return ops.concatenate([x, ops.cast(fill, x.dtype)], axis=1)


class BlockTemplates(layers.Layer):
    """(batch, blocks, K) template choices -> (batch, L_padded, classes) logits.

    Block b of the genome is the chosen mix of its K learned templates (logits over the
    classes of each SNP of the block); blocks have their own lengths (``starts``), so a
    template table is (blocks, K, longest block * classes) and ``index`` picks the real SNPs.
    """

    def __init__(self, starts, n_templates: int, n_classes: int, length: int, **kwargs):
        super().__init__(**kwargs)
        self.starts = [int(x) for x in starts]
        self.n_templates, self.n_classes, self.length = n_templates, n_classes, length
        self.longest, self.index = _block_index(self.starts)

    def build(self, input_shape):
        shape = (len(self.starts) - 1, self.n_templates, self.longest * self.n_classes)
        self.templates = self.add_weight(shape=shape, initializer="zeros", name="templates")

    def call(self, choice):
        x = ops.einsum("bnk,nko->bno", choice, self.templates)
        x = ops.reshape(x, (-1, (len(self.starts) - 1) * self.longest, self.n_classes))
        x = ops.take(x, self.index, axis=1)
        return _pad_with_class_zero(x, self.length - self.starts[-1], self.n_classes)

    def set_templates(self, classes: np.ndarray, rows: np.ndarray, sharpness: float = 8.0) -> None:
        """Initialise template k of block b as block b of training genome ``rows[b, k]``
        (classes: (S, V)); rows differ between blocks, so an index names no one person."""
        table = np.zeros(self.templates.shape, dtype="float32")
        for b, (a, z) in enumerate(zip(self.starts[:-1], self.starts[1:])):
            block = np.eye(self.n_classes, dtype="float32")[classes[rows[b], a:z]] * sharpness  # (K, n, C)
            table[b, :, : (z - a) * self.n_classes] = block.reshape(rows.shape[1], -1)
        self.templates.assign(table)

    def get_config(self):
        return {**super().get_config(), "starts": self.starts, "n_templates": self.n_templates,
                "n_classes": self.n_classes, "length": self.length}


class LowRankChoice(layers.Layer):
    """(batch, heads, blocks, rank) codes -> (batch, heads, blocks, K) choice logits: each block's
    logits are its code dotted with that block's ``keys`` (blocks, rank, K), one key per template.

    A rank-r factorisation of the dense (hidden -> heads x blocks x K) choice layer: r x (hidden x
    heads x blocks + blocks x K) weights instead of hidden x heads x blocks x K (at 50 blocks of
    1,000 templates and r = 16, 1.3M instead of 26M, with their gradients and optimizer slots).
    """

    def __init__(self, n_templates: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_templates, self.seed = n_templates, seed

    def build(self, input_shape):
        blocks, rank = input_shape[2], input_shape[3]
        self.keys = self.add_weight(shape=(blocks, rank, self.n_templates), name="keys",
                                    initializer=keras.initializers.RandomNormal(stddev=rank ** -0.5, seed=self.seed))

    def call(self, codes):
        return ops.einsum("bhnr,nrk->bhnk", codes, ops.cast(self.keys, codes.dtype))

    def get_config(self):
        return {**super().get_config(), "n_templates": self.n_templates, "seed": self.seed}


def _choice_logits(x, heads: int, blocks: int, preset: Preset, seed: int | None):
    """(batch, hidden) -> (batch, heads, blocks, K) template-choice logits, zero at the start (the prior
    and stay bonus alone decide step 0): one dense layer, or its rank-``choice_rank`` factorisation."""
    k, rank = preset.templates, preset.choice_rank
    if not rank:
        return layers.Reshape((heads, blocks, k))(layers.Dense(heads * blocks * k, kernel_initializer="zeros")(x))
    codes = layers.Reshape((heads, blocks, rank))(layers.Dense(heads * blocks * rank, kernel_initializer="zeros")(x))
    return LowRankChoice(k, seed, name="choice_keys")(codes)


class MarkovChoice(layers.Layer):
    """(batch, 2, blocks, K) choice logits -> straight-through one-hot choices, block by block.

    Block b's logits get ``stay[b-1, k]`` added for the template k chosen at block b-1 (of the
    same haplotype), so a haplotype keeps copying one codebook haplotype across a block edge
    with a probability the network learns. Draws are straight-through Gumbel (own seed state).
    """

    def __init__(self, n_blocks: int, n_templates: int, temperature: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_blocks, self.n_templates, self.temperature = n_blocks, n_templates, temperature
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.stay = self.add_weight(shape=(max(1, self.n_blocks - 1), self.n_templates), initializer="zeros",
                                    name="stay")

    def call(self, logits):
        choices, previous = [], None
        for b in range(self.n_blocks):
            x = ops.cast(logits[:, :, b], "float32")
            if previous is not None:
                x = x + previous * ops.cast(self.stay[b - 1], "float32")
            previous = straight_through_gumbel(x, self.temperature, self.seed_generator)
            choices.append(previous)
        return ops.stack(choices, axis=2)

    def get_config(self):
        return {**super().get_config(), "n_blocks": self.n_blocks, "n_templates": self.n_templates,
                "temperature": self.temperature}


NEVER = -1e9  # the logit of a codebook haplotype a matched switch may not move to


class MatchedMarkovChoice(MarkovChoice):
    """MarkovChoice whose switches move only to codebook haplotypes that agree with the one left.

    It draws each edge's switch point itself (uniform in the edge's interval between block middles,
    as ``HaplotypeTemplates`` would) and returns [choices, points] for ``HaplotypeTemplates``. At
    edge b, where the point falls before SNP j, the codebook haplotypes in the class of the one chosen at
    b-1 on SNPs j - window .. j + window - 1 (``window_class``: (SNPs, K) int16; the haplotypes of its
    population that carry its alleles there or, where none does, its population's others that no other
    matches) keep the switch's whole probability, shared in proportion to what the network gives them;
    the others get none. With no other in the class the draw is unchanged. So the chance to stay is the
    network's, and a switch follows the mosaic's ``match_sources``.
    """

    def __init__(self, starts, n_templates: int, temperature: float, window: int, seed: int | None = None,
                 switch_seed: int | None = None, **kwargs):
        super().__init__(len(starts) - 1, n_templates, temperature, seed, **kwargs)
        if n_templates > np.iinfo(np.int16).max:
            raise ValueError(f"a matched copying model holds at most {np.iinfo(np.int16).max} codebook haplotypes")
        self.starts, self.window = [int(x) for x in starts], int(window)
        self.first = [int(x) for x in switch_middles(self.starts)[:-1]]  # edge b's interval starts at first[b-1]
        self.switch_seed_generator = keras.random.SeedGenerator(switch_seed)

    def build(self, input_shape):
        super().build(input_shape)
        edges = max(1, self.n_blocks - 1)
        span = max(1, int(np.diff(switch_middles(self.starts)).max())) if self.n_blocks > 1 else 1
        self.window_class = self.add_weight(shape=(self.starts[-1], self.n_templates), dtype="int16",
                                            initializer="zeros", trainable=False, name="window_class")
        self.switch_place = self.add_weight(shape=(edges, span), initializer=keras.initializers.Constant(2.0),
                                            trainable=False, name="switch_place")
        self.edge_open = self.add_weight(shape=(edges,), initializer="zeros", trainable=False, name="edge_open")

    def call(self, logits):
        at = keras.random.uniform((ops.shape(logits)[0], 2, self.n_blocks), dtype="float32",
                                  seed=self.switch_seed_generator)
        choices, previous = [], None
        for b in range(self.n_blocks):
            x = ops.cast(logits[:, :, b], "float32")
            if previous is not None:
                x = self._matched(x + previous * ops.cast(self.stay[b - 1], "float32"), previous, at[:, :, b], b)
            previous = straight_through_gumbel(x, self.temperature, self.seed_generator)
            choices.append(previous)
        return [ops.stack(choices, axis=2), at]

    def _matched(self, x, previous, at, b: int):
        """(batch, 2, K) logits at edge b with the switch restricted to haplotypes matching block b-1's."""
        snp = self.first[b - 1] + ops.sum(ops.cast(self.switch_place[b - 1][None, None, :] < at[..., None], "int32"),
                                          axis=-1)  # the first SNP copied from block b's choice
        classes = ops.cast(ops.take(self.window_class, ops.minimum(snp, self.starts[-1] - 1), axis=0), "int32")
        left = ops.cast(ops.argmax(previous, axis=-1), "int32")[..., None]
        others = ops.stop_gradient(previous) < 0.5
        match = ops.logical_and(ops.equal(classes, ops.take_along_axis(classes, left, axis=-1)), others)
        shift = ops.stop_gradient(ops.logsumexp(ops.where(others, x, NEVER), axis=-1, keepdims=True)
                                  - ops.logsumexp(ops.where(match, x, NEVER), axis=-1, keepdims=True))
        matched = ops.where(match, x + shift, ops.where(others, NEVER, x))
        use = ops.logical_and(ops.any(match, axis=-1, keepdims=True), self.edge_open[b - 1] > 0.5)
        return ops.where(use, matched, x)

    def set_codebook(self, alleles: np.ndarray, owner: np.ndarray, variant_contig: np.ndarray) -> None:
        """``window_class`` from the codebook haplotypes' alleles (int8 (K, V)), their populations (K,) and
        each SNP's contig (``hybridizer.mosaic.window_classes``)."""
        from ..hybridizer.mosaic import window_classes

        self.window_class.assign(window_classes(alleles, owner, variant_contig, self.window))

    def set_switch_points(self, position: np.ndarray, new_contig: np.ndarray) -> None:
        """The edges' switch intervals (``switch_places``), as ``HaplotypeTemplates.set_switch_points``."""
        places, opened = switch_places(self.starts, position, new_contig)
        self.switch_place.assign(places)
        self.edge_open.assign(opened.astype("float32"))

    def get_config(self):
        config = {**super().get_config(), "starts": self.starts, "window": self.window}
        config.pop("n_blocks")
        return config


class HaplotypeTemplates(layers.Layer):
    """(batch, 2, blocks, K) choices -> (batch, L_padded, 4) logits of the phased classes 2*h0 + h1.

    ``templates`` (blocks, K, longest block) holds ALT logits of each codebook haplotype's
    block; a genome's two haplotypes are independent given their choices, so the logit of
    class (a0, a1) is log p(a0) + log p(a1). Fixed (not trained): the codebook is data.

    ``switch_inside``: a haplotype that changes codebook haplotype between blocks b-1 and b does so
    at a point drawn uniformly (in cM) between the two blocks' middle SNPs, not at the block edge, as
    a mosaic's switch points fall anywhere. ``after_previous`` / ``before_next`` (blocks, longest;
    fixed, set by ``set_switch_points``) hold each SNP's place in its edge interval. The forward
    values are exact; the straight-through gradient is that of the block-edge layout.
    """

    def __init__(self, starts, n_templates: int, length: int, switch_inside: bool = False,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.starts = [int(x) for x in starts]
        self.n_templates, self.length, self.switch_inside = n_templates, length, bool(switch_inside)
        self.longest, self.index = _block_index(self.starts)
        if self.switch_inside:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        n_blocks = len(self.starts) - 1
        shape = (n_blocks, self.n_templates, self.longest)
        self.templates = self.add_weight(shape=shape, initializer="zeros", name="templates", trainable=False)
        if self.switch_inside:  # until set: every switch at the block edge
            self.after_previous = self.add_weight(shape=(n_blocks, self.longest), name="after_previous",
                                                  initializer=keras.initializers.Constant(2.0), trainable=False)
            self.before_next = self.add_weight(shape=(n_blocks, self.longest), name="before_next",
                                               initializer=keras.initializers.Constant(-1.0), trainable=False)

    def call(self, choice, training=None):
        """``choice``: the one-hot choices, or [choices, switch points] (``MatchedMarkovChoice`` draws them)."""
        choice, at = choice if isinstance(choice, (list, tuple)) else (choice, None)
        n_blocks = len(self.starts) - 1
        flat = ops.reshape(self.templates, (n_blocks * self.n_templates, self.longest))
        block_rows = ops.arange(n_blocks, dtype="int32") * self.n_templates
        rows = ops.cast(ops.argmax(choice, axis=-1), "int32")  # (batch, 2, blocks); choices are one-hot forward
        if training:  # straight-through choices: the product carries their gradients
            t = ops.einsum("bhnk,nko->bhno", ops.cast(choice, self.templates.dtype), self.templates)
        else:  # the choices are one-hot: gather the chosen haplotypes' blocks (same values, ~K x less work)
            t = ops.take(flat, rows + block_rows, axis=0)
        if self.switch_inside and n_blocks > 1:
            previous = ops.concatenate([rows[:, :, :1], rows[:, :, :-1]], axis=2)
            following = ops.concatenate([rows[:, :, 1:], rows[:, :, -1:]], axis=2)
            if at is None:  # edge b (between blocks b-1 and b) switches at at[..., b]
                at = keras.random.uniform(ops.shape(rows), dtype="float32", seed=self.seed_generator)
            at_next = ops.concatenate([at[:, :, 1:], ops.ones_like(at[:, :, :1])], axis=2)
            use_previous = self.after_previous[None, None] < at[..., None]
            use_next = self.before_next[None, None] >= at_next[..., None]
            mixed = ops.where(use_previous, ops.take(flat, previous + block_rows, axis=0),
                              ops.where(use_next, ops.take(flat, following + block_rows, axis=0), t))
            t = t + ops.stop_gradient(mixed - t) if training else mixed
        t = ops.take(ops.reshape(t, (-1, 2, n_blocks * self.longest)), self.index, axis=2)
        one, zero = ops.log_sigmoid(t), ops.log_sigmoid(-t)  # (batch, 2, V)
        x = ops.stack([zero[:, 0] + zero[:, 1], zero[:, 0] + one[:, 1], one[:, 0] + zero[:, 1],
                       one[:, 0] + one[:, 1]], axis=-1)
        return _pad_with_class_zero(x, self.length - self.starts[-1], 4)

    def set_haplotypes(self, alleles: np.ndarray, rows: np.ndarray, sharpness: float = 8.0) -> None:
        """Codebook haplotype k = training haplotype ``rows[k]`` (alleles: int8 (H, V), 0/1), in every block."""
        table = np.zeros(self.templates.shape, dtype="float32")
        for b, (a, z) in enumerate(zip(self.starts[:-1], self.starts[1:])):
            table[b, :, : z - a] = (2.0 * alleles[rows, a:z] - 1.0) * sharpness
        self.templates.assign(table)

    def set_switch_points(self, position: np.ndarray, new_contig: np.ndarray) -> None:
        """Where a switch between blocks may fall: ``position`` (V, float; cM or bp at a fixed rate) of
        every SNP, ``new_contig`` (blocks - 1, bool) the edges where a contig starts (switch at the
        edge). Edge b spans ``switch_middles``' SNPs b-1 to b; a SNP's value is its place in it (0-1)."""
        if not self.switch_inside:
            return
        middle = switch_middles(self.starts)
        places, opened = switch_places(self.starts, position, new_contig)  # edge b's places: places[b - 1]
        after = np.full((len(self.starts) - 1, self.longest), 2.0, dtype="float32")  # 2: never the previous
        before = np.full_like(after, -1.0)  # -1: never the next
        for b, (a, z) in enumerate(zip(self.starts[:-1], self.starts[1:])):
            if b > 0 and opened[b - 1]:  # first half: on edge b's interval, after block b-1's second half
                after[b, : middle[b] - a] = places[b - 1, a - middle[b - 1]: middle[b] - middle[b - 1]]
            if b < len(self.starts) - 2 and opened[b]:  # second half: the start of edge b+1's interval
                before[b, middle[b] - a: z - a] = places[b, : z - middle[b]]
        self.after_previous.assign(after)
        self.before_next.assign(before)

    def get_config(self):
        return {**super().get_config(), "starts": self.starts, "n_templates": self.n_templates, "length": self.length,
                "switch_inside": self.switch_inside}


def switch_middles(starts) -> np.ndarray:
    """The SNP at the middle of each block (int, blocks): a copying switch between blocks b-1 and b
    falls between the middles of the two (``HaplotypeTemplates`` with ``switch_inside``)."""
    starts = np.asarray(starts)
    return starts[:-1] + np.diff(starts) // 2


def switch_places(starts, position: np.ndarray, new_contig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's switch interval (``switch_middles`` b-1 to b, edge b = 1..B-1, index b-1): the
    place (0-1, as ``HaplotypeTemplates.set_switch_points`` gives it) of each of its SNPs, padded with 2
    (float32 (B-1, longest interval)), and whether the edge switches inside (bool (B-1,); not where a
    contig starts). SNP ``middle[b-1] + i`` copies block b-1's haplotype iff its place is < the point."""
    middle = switch_middles(starts)
    span = max(1, int(np.diff(middle).max())) if len(middle) > 1 else 1
    places = np.full((max(1, len(middle) - 1), span), 2.0, dtype="float32")
    for e in range(len(middle) - 1):
        lo, hi = middle[e], middle[e + 1]
        places[e, : hi - lo] = _place(np.asarray(position[lo:hi], dtype=np.float64), position[lo], position[hi])
    opened = ~np.asarray(new_contig, dtype=bool) if len(middle) > 1 else np.zeros(1, dtype=bool)
    return places, opened


def _place(position: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Each position's place in [lo, hi) as a fraction (0.5 throughout when the interval has no length)."""
    if hi <= lo:
        return np.full(len(position), 0.5)
    return np.clip((position - lo) / (hi - lo), 0.0, 1.0)


def build_generator(preset: Preset, n_snps: int, n_labels: int, n_classes: int, *, starts=None,
                    seed: int | None = None) -> keras.Model:
    """noise (noise_dim,), label () -> logits (L_padded, n_classes). ``starts``: the
    templates architecture's block starts (int, B+1), which never cross a contig."""
    length = padded_length(n_snps, preset)
    noise = keras.Input((preset.noise_dim,), name="noise")
    label = keras.Input((), dtype="int32", name="label")
    if preset.architecture == "haplotypes":
        blocks = len(starts) - 1
        embedded = layers.Flatten()(layers.Embedding(n_labels, preset.label_dim)(label))
        x = layers.LeakyReLU(0.2)(layers.Dense(preset.hidden)(layers.Concatenate()([noise, embedded])))
        x = _choice_logits(x, 2, blocks, preset, seed)
        prior = layers.Embedding(n_labels, blocks * preset.templates, name="template_prior")(label)
        prior = layers.Reshape((1, blocks, preset.templates))(prior)  # both haplotypes share it
        switch_seed = None if seed is None else seed + 1  # its own stream, apart from the choices' draws
        if preset.match_window and preset.switch_inside:  # the choice draws the switch points it matches at
            choice = MatchedMarkovChoice(starts, preset.templates, preset.temperature, preset.match_window, seed,
                                         switch_seed, name="template_choice")(layers.Add()([x, prior]))
        else:
            choice = MarkovChoice(blocks, preset.templates, preset.temperature, seed, name="template_choice")(
                layers.Add()([x, prior]))
        logits = HaplotypeTemplates(starts, preset.templates, length, preset.switch_inside, switch_seed,
                                    name="logits")(choice)
        return keras.Model([noise, label], logits, name="generator")
    if preset.architecture == "templates":
        blocks = len(starts) - 1
        embedded = layers.Flatten()(layers.Embedding(n_labels, preset.label_dim)(label))
        x = layers.LeakyReLU(0.2)(layers.Dense(preset.hidden)(layers.Concatenate()([noise, embedded])))
        x = layers.Reshape((blocks, preset.templates))(_choice_logits(x, 1, blocks, preset, seed))
        prior = layers.Reshape((blocks, preset.templates))(
            layers.Embedding(n_labels, blocks * preset.templates, name="template_prior")(label))
        choice_logits = layers.Add()([x, prior])
        choice = GumbelChoice(preset.temperature, seed, name="template_choice")(choice_logits)
        logits = BlockTemplates(starts, preset.templates, n_classes, length, name="logits")(choice)
        return keras.Model([noise, label], logits, name="generator")
    if preset.architecture == "paper":
        embedded = layers.Flatten()(layers.Embedding(n_labels, preset.noise_dim)(label))
        x = layers.Multiply()([noise, embedded])
        x = layers.Dense(length // 4 * 256, use_bias=False)(x)
        x = layers.Reshape((length // 4, 256))(x)
        for filters, kernel in ((256, 7), (128, 5)):
            x = layers.BatchNormalization(epsilon=2e-5, momentum=0.9)(x)
            x = layers.LeakyReLU(0.2)(x)
            x = layers.Dropout(preset.dropout)(x) if preset.dropout else x
            x = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(x)
            x = layers.UpSampling1D(2)(x)
        x = layers.BatchNormalization(epsilon=2e-5, momentum=0.9)(x)
        x = layers.LeakyReLU(0.2)(x)
        logits = layers.Conv1D(n_classes, 5, padding="same", name="logits")(x)
        return keras.Model([noise, label], logits, name="generator")
    raise ValueError(f"unknown architecture {preset.architecture!r}")


def run_generator(generator, noise: np.ndarray, labels: np.ndarray, n_snps: int, batch: int = 256) -> np.ndarray:
    """float32 (n, n_snps, classes) generator logits, in batches, through one compiled inference graph
    per generator (eager calls dispatch the copying model's per-block ops one by one: ~20x slower)."""
    infer = _inference_function(generator)
    parts = [np.asarray(infer(noise[i:i + batch], labels[i:i + batch]))[:, :n_snps]
             for i in range(0, len(labels), batch)]
    return np.concatenate(parts).astype(np.float32, copy=False)


def _inference_function(generator):
    """``generator(noise, label, training=False)`` as a tf.function, kept on the model: traced once, for
    any batch size (a trace of the cpu preset's generator takes seconds: one per window, not two)."""
    infer = getattr(generator, "_ogan_inference", None)
    if infer is None:
        import tensorflow as tf

        noise_dim = generator.inputs[0].shape[-1]
        infer = tf.function(lambda noise, label: generator([noise, label], training=False),
                            input_signature=[tf.TensorSpec((None, noise_dim), tf.float32),
                                             tf.TensorSpec((None,), tf.int32)])
        generator._ogan_inference = infer
    return infer


def build_critic(preset: Preset, n_snps: int, n_labels: int, n_classes: int) -> keras.Model:
    """genotypes (L_padded, n_classes), label () -> score ()."""
    length = padded_length(n_snps, preset)
    x_in = keras.Input((length, n_classes), name="genotypes")
    label = keras.Input((), dtype="int32", name="label")
    wrap = layers.SpectralNormalization if preset.spectral_norm else (lambda layer: layer)
    if preset.architecture == "paper":
        weights = layers.Embedding(n_labels, length * n_classes)(label)
        x = layers.Multiply()([layers.Flatten()(x_in), layers.Flatten()(weights)])
        x = layers.Reshape((length, n_classes))(x)
        x = layers.Dropout(preset.dropout)(layers.LeakyReLU(0.2)(x))
        for filters, kernel in ((64, 5), (128, 7)):
            x = wrap(layers.Conv1D(filters, kernel, strides=2, padding="same"))(x)
            x = layers.Dropout(preset.dropout)(layers.LeakyReLU(0.2)(x))
        x = layers.Dropout(preset.dropout)(layers.Flatten()(x))
        x = layers.LeakyReLU(0.2)(wrap(layers.Dense(512))(x))
        return keras.Model([x_in, label], layers.Flatten()(wrap(layers.Dense(1))(x)), name="critic")
    f1, f2 = preset.critic_filters
    x = wrap(layers.Conv1D(f1, preset.critic_patch, strides=preset.critic_patch))(x_in)
    x = layers.LeakyReLU(0.2)(x)
    x = wrap(layers.Conv1D(f2, 4, strides=4))(x)
    features = layers.Flatten()(layers.LeakyReLU(0.2)(x))
    features = layers.Dropout(preset.dropout)(features) if preset.dropout else features
    score = wrap(layers.Dense(1))(features)
    projection = layers.Embedding(n_labels, features.shape[-1], name="label_projection",  # bounded like SN
                                  embeddings_constraint=keras.constraints.UnitNorm(axis=-1))(label)
    projected = layers.Dot(axes=1)([layers.Flatten()(projection), features])
    return keras.Model([x_in, label], layers.Flatten()(layers.Add()([score, projected])), name="critic")


def clipped_kernels(critic: keras.Model) -> list:
    """The critic's conv kernels (what the paper clips)."""
    return [w for layer in critic.layers for w in getattr(layer, "weights", [])
            if isinstance(layer, layers.Conv1D) and w.path.endswith("kernel")]
