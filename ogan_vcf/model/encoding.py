"""Genotypes <-> network classes, and drawing classes from logits, without TensorFlow.

Phased calls become 4 classes (0|0 -> 0, 0|1 -> 1, 1|0 -> 2, 1|1 -> 3: 2*h0 + h1, the
paper's encoding); unphased calls 3 classes (ALT count). Missing calls cannot be encoded.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def n_classes(phased: bool) -> int:
    return 4 if phased else 3


def encode(genotypes: np.ndarray, phased: bool, *, source: str = "cohort") -> np.ndarray:
    """int8 (V, S, 2) genotypes -> int8 (S, V) classes; InputError on missing calls."""
    if (genotypes < 0).any():
        v, s = np.argwhere((genotypes < 0).any(axis=2))[0]
        raise InputError(f"{source}: missing calls (first at variant {v + 1}, sample {s + 1}) cannot be "
                         "used for training; impute and phase first (e.g. Beagle)")
    h0, h1 = genotypes[:, :, 0], genotypes[:, :, 1]
    classes = 2 * h0 + h1 if phased else h0 + h1
    return np.ascontiguousarray(classes.T.astype(np.int8))


def decode(classes: np.ndarray, phased: bool) -> np.ndarray:
    """int (S, V) classes -> int8 (V, S, 2) genotypes (unphased heterozygotes as 0/1)."""
    c = np.asarray(classes, dtype=np.int8).T
    if phased:
        return np.ascontiguousarray(np.stack([c // 2, c % 2], axis=2).astype(np.int8))
    return np.ascontiguousarray(np.stack([(c == 2), (c >= 1)], axis=2).astype(np.int8))


def dosage(classes: np.ndarray, phased: bool) -> np.ndarray:
    """int (S, V) classes -> int8 (S, V) ALT counts (the dosage of ``decode``'s genotypes)."""
    c = np.asarray(classes, dtype=np.int8)
    return (c // 2 + c % 2).astype(np.int8) if phased else c.astype(np.int8, copy=True)


def draw_classes(logits: np.ndarray, sample: bool, rng: np.random.Generator) -> np.ndarray:
    """float (n, V, k) logits -> int8 (n, V) classes: the argmax (the paper), or a draw from the softmax."""
    if not sample:
        return logits.argmax(axis=-1).astype(np.int8)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cumulative = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    u = rng.random(cumulative.shape[:2] + (1,))
    return (u > cumulative).sum(axis=-1).clip(0, logits.shape[-1] - 1).astype(np.int8)
