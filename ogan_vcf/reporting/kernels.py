"""Numba kernels of the report: pure functions of typed, contiguous arrays."""

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def longest_shared_runs(a, b):
    """For each row of ``a``, the longest run of consecutive columns equal to one row of ``b``.

    a : int8 (m, V), b : int8 (k, V) genotype codes, -1 missing (a missing call ends a run).
    Returns int64 (m,) run lengths and int64 (m,) the row of ``b`` that gives the run.
    """
    m, n_snps = a.shape
    best = np.zeros(m, dtype=np.int64)
    partner = np.zeros(m, dtype=np.int64)
    for i in numba.prange(m):
        for k in range(b.shape[0]):
            run = 0
            for v in range(n_snps):
                if a[i, v] == b[k, v] and a[i, v] >= 0:
                    run += 1
                    if run > best[i]:
                        best[i] = run
                        partner[i] = k
                else:
                    run = 0
    return best, partner


@numba.njit(cache=True, parallel=True)
def greedy_segments(a, b):
    """Tile each row of ``a``, left to right, by the longest runs it shares verbatim with one row of ``b``.

    a : int8 (m, V), b : int8 (k, V) alleles, -1 missing (a missing allele matches nothing).
    From a start SNP, the segment is the longest run of consecutive SNPs over which some row of
    ``b`` equals the row of ``a``; the next segment starts where it stops. A SNP that no row of
    ``b`` matches is skipped. Returns int32 (m, V): each segment's length at its first SNP, 0 elsewhere.
    """
    m, n_snps = a.shape
    out = np.zeros((m, n_snps), dtype=np.int32)
    for i in numba.prange(m):
        v = 0
        while v < n_snps:
            best = 0
            for k in range(b.shape[0]):
                run = 0
                while v + run < n_snps and a[i, v + run] == b[k, v + run] and a[i, v + run] >= 0:
                    run += 1
                best = max(best, run)
                if v + best == n_snps:
                    break
            out[i, v] = best
            v += max(best, 1)
    return out
