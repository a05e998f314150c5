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
def match_switch_sources(haplotypes, seg_start, seg_source, is_switch, window_lo, window_hi, pick):
    """Re-choose the source of every switch among the sources that agree with the one before it.

    At a switch to segment s (``is_switch[s]``: s continues the haplotype of s-1 on the same contig),
    the source becomes the ``floor(pick[s] * m)``-th of the m sources whose alleles on variants
    ``window_lo[s]:window_hi[s]`` (around the switch, inside its contig) equal those of the previous
    segment's source, itself left out; with none (m = 0) the drawn source stays, unless it is the
    previous one (then the ``pick``-th of the others). So a switch changes source where the two agree
    around it: no allele combination at the junction that neither source carries.

    haplotypes : int8 (V, H_in); seg_start int64 (S,); seg_source int32 (S,), changed in place;
    is_switch bool (S,); window_lo, window_hi int64 (S,); pick float64 (S,) in [0, 1).
    """
    n_sources = haplotypes.shape[1]
    agree = np.empty(n_sources, dtype=np.bool_)
    for s in range(seg_start.shape[0]):
        if not is_switch[s]:
            continue
        previous = seg_source[s - 1]
        lo, hi = window_lo[s], window_hi[s]
        m = 0
        for k in range(n_sources):
            same = k != previous
            v = lo
            while same and v < hi:
                same = haplotypes[v, k] == haplotypes[v, previous]
                v += 1
            agree[k] = same
            m += same
        if m:
            target = int(pick[s] * m)
            for k in range(n_sources):
                if agree[k]:
                    if target == 0:
                        seg_source[s] = k
                        break
                    target -= 1
        elif seg_source[s] == previous:
            seg_source[s] = (previous + 1 + int(pick[s] * (n_sources - 1))) % n_sources


@numba.njit(cache=True, parallel=True)
def window_classes_kernel(alleles, window_lo, window_hi, out):
    """out[j, k]: the class of haplotype k's alleles on variants window_lo[j]:window_hi[j], numbered by
    sorted hash from 0, so out[j, k] == out[j, l] iff k and l carry the same alleles there (two
    polynomial hashes modulo primes below 2^31: a false match needs both to collide).

    alleles : int8 (K, V); window_lo, window_hi : int64 (V,); out : int16 or wider (V, K).
    """
    n_haplotypes = alleles.shape[0]
    for j in numba.prange(out.shape[0]):
        hashes = np.empty(n_haplotypes, dtype=np.int64)
        for k in range(n_haplotypes):
            h1 = np.int64(0)
            h2 = np.int64(0)
            for v in range(window_lo[j], window_hi[j]):
                x = np.int64(alleles[k, v]) + 3
                h1 = (h1 * 1000003 + x) % 2147483647
                h2 = (h2 * 999983 + x) % 2147483629
            hashes[k] = h1 * 2147483648 + h2
        order = np.argsort(hashes)
        label = 0
        for i in range(n_haplotypes):
            if i and hashes[order[i]] != hashes[order[i - 1]]:
                label += 1
            out[j, order[i]] = label
