"""Numba kernels of the hybridizer: pure functions of typed, contiguous arrays.

No randomness and no I/O here: the caller draws the permutations and passes them in.
"""

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def gather_blocks(rows, variant_block, sources, out):
    """out[v, c*n + j] = rows[v, sources[c, variant_block[v], j]].

    rows : (V, n) any dtype, one item per (variant, member), e.g. an int16 view of
        int8 (V, n, 2) genotypes so that a diploid call moves as one item.
    variant_block : int64 (V,), the block of each variant.
    sources : int32 (C, B, n), the member that gives block b of offspring j in copy c.
    out : (V, C*n), same dtype as rows.
    """
    n_copies, _, n = sources.shape
    for v in numba.prange(rows.shape[0]):
        b = variant_block[v]
        for c in range(n_copies):
            src = sources[c, b]
            base = c * n
            for j in range(n):
                out[v, base + j] = rows[v, src[j]]


@numba.njit(cache=True, parallel=True)
def cross_haplotype_blocks(genotypes, variant_block, mothers, fathers, mother_hap, father_hap, out):
    """Offspring haplotype 0 from a mother's haplotype, 1 from a father's, block by block.

    genotypes : int8 (V, n, 2), phased.
    mothers, fathers : int32 (C, B, n) members; mother_hap, father_hap : uint8 (C, B, n) in {0, 1}.
    out : int8 (V, C*n, 2).
    """
    n_copies, _, n = mothers.shape
    for v in numba.prange(genotypes.shape[0]):
        b = variant_block[v]
        for c in range(n_copies):
            base = c * n
            for j in range(n):
                out[v, base + j, 0] = genotypes[v, mothers[c, b, j], mother_hap[c, b, j]]
                out[v, base + j, 1] = genotypes[v, fathers[c, b, j], father_hap[c, b, j]]


@numba.njit(cache=True)
def column_hashes(rows):
    """A 62-bit hash of each column of rows (V, m): two polynomial hashes modulo primes
    below 2^31, in int64 arithmetic that never overflows. Equal columns, equal hashes."""
    m = rows.shape[1]
    h1 = np.zeros(m, dtype=np.int64)
    h2 = np.zeros(m, dtype=np.int64)
    for v in range(rows.shape[0]):
        for j in range(m):
            x = np.int64(rows[v, j]) + 32769
            h1[j] = (h1[j] * 1000003 + x) % 2147483647
            h2[j] = (h2[j] * 999983 + x) % 2147483629
    return h1 * 2147483648 + h2


@numba.njit(cache=True)
def crossing_ld(band):
    """score[c] = the largest r^2 of a banded pair (i < c <= j): the linkage a cut before c breaks."""
    n_snps, width = band.shape
    score = np.zeros(n_snps + 1, dtype=np.float32)
    for c in range(1, n_snps):
        best = np.float32(0.0)
        for i in range(max(0, c - width), c):
            for d in range(c - i - 1, width):
                if band[i, d] > best:
                    best = band[i, d]
        score[c] = best
    return score


@numba.njit(cache=True, parallel=True)
def copy_segments(haplotypes, seg_ptr, seg_start, seg_stop, seg_source, out):
    """Mosaic haplotypes: out[v, h] = haplotypes[v, seg_source[s]] for v in segment s of h.

    haplotypes : int8 (V, H_in), one column per input haplotype (member*2 + copy).
    seg_ptr : int64 (H_out+1,), segments of output haplotype h are seg_ptr[h]:seg_ptr[h+1].
    seg_start, seg_stop : int64 (S,) variant ranges; seg_source : int32 (S,) input columns.
    out : int8 (V, H_out); every variant of every output haplotype lies in one segment.
    """
    for h in numba.prange(seg_ptr.shape[0] - 1):
        for s in range(seg_ptr[h], seg_ptr[h + 1]):
            src = seg_source[s]
            for v in range(seg_start[s], seg_stop[s]):
                out[v, h] = haplotypes[v, src]


@numba.njit(cache=True)
def window_labels(haplotypes, lo, hi, owner, labels):
    """labels[h] == labels[g] iff haplotypes h and g (columns of int8 (V, H)) have the same owner and the same
    alleles on variants lo:hi, except that each owner's haplotypes that agree with none of its others share
    one label (H + owner): a switch may move among them (see ``match_switch_sources``).

    Two polynomial hashes modulo primes below 2^31 tell windows apart: a false match needs both to collide.
    owner : int64 (H,); labels : int64 (H,), written.
    """
    n = haplotypes.shape[1]
    keys = np.empty(n, dtype=np.int64)
    for h in range(n):
        h1 = np.int64(owner[h] + 1)
        h2 = np.int64(owner[h] + 7)
        for v in range(lo, hi):
            x = np.int64(haplotypes[v, h]) + 3
            h1 = (h1 * 1000003 + x) % 2147483647
            h2 = (h2 * 999983 + x) % 2147483629
        keys[h] = h1 * 2147483648 + h2
    order = np.argsort(keys)
    i = 0
    while i < n:
        k = i
        while k + 1 < n and keys[order[k + 1]] == keys[order[i]]:
            k += 1
        if k == i:
            labels[order[i]] = n + owner[order[i]]
        else:
            for t in range(i, k + 1):
                labels[order[t]] = i
        i = k + 1


@numba.njit(cache=True)
def match_switch_sources(haplotypes, seg_start, seg_source, switches, window_lo, window_hi, pick):
    """Re-choose the source of every switch among the sources in the same window class as the one before it.

    ``switches``: the switch segments (each continues the haplotype of segment s-1 on one contig), in
    order of ``seg_start`` (so a haplotype's earlier switches come first). At a switch at variant j the
    classes are ``window_labels`` on ``window_lo[s]:window_hi[s]`` (around j, inside its contig): the
    new source is the ``floor(pick[s] * m)``-th of the m other sources in the previous source's class;
    with none, the drawn source stays unless it is the previous one (then the ``pick``-th other).
    Sources that agree with another move among those (no allele combination at the junction that
    neither carries); the others move among themselves. Each class is a set whose members switch
    uniformly among one another, so every source is copied as often as under switches to any source.

    haplotypes : int8 (V, H_in); seg_start int64 (S,); seg_source int32 (S,), changed in place;
    switches int64 (m,); window_lo, window_hi int64 (S,); pick float64 (S,) in [0, 1).
    """
    n_sources = haplotypes.shape[1]
    owner = np.zeros(n_sources, dtype=np.int64)
    labels = np.empty(n_sources, dtype=np.int64)
    at = -1
    for s in switches:
        if seg_start[s] != at:
            at = seg_start[s]
            window_labels(haplotypes, window_lo[s], window_hi[s], owner, labels)
        previous = seg_source[s - 1]
        m = 0
        for k in range(n_sources):
            if k != previous and labels[k] == labels[previous]:
                m += 1
        if m:
            target = int(pick[s] * m)
            for k in range(n_sources):
                if k != previous and labels[k] == labels[previous]:
                    if target == 0:
                        seg_source[s] = k
                        break
                    target -= 1
        elif seg_source[s] == previous:
            seg_source[s] = (previous + 1 + int(pick[s] * (n_sources - 1))) % n_sources


@numba.njit(cache=True, parallel=True)
def window_classes_kernel(haplotypes, owner, window_lo, window_hi, out):
    """out[j] = ``window_labels`` of the haplotypes (columns of int8 (V, K)) on window_lo[j]:window_hi[j]."""
    for j in numba.prange(out.shape[0]):
        labels = np.empty(haplotypes.shape[1], dtype=np.int64)
        window_labels(haplotypes, window_lo[j], window_hi[j], owner, labels)
        for k in range(haplotypes.shape[1]):
            out[j, k] = labels[k]
