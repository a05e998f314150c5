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
