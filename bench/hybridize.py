"""Hybridizer speed against the paper's NumPy procedure and a plain memory copy.

2,000 samples x 100k SNPs x factor 5, genotype unit, fixed 1000-SNP blocks. Three
timings in the same run (best of --repeats, JIT warmed up first):
- ogan: ``hybridize(array, factor=5, blocks=1000)`` (permutations drawn, numba gather,
  parents prepended): int8 (V, 5n, 2) out.
- paper: the notebook procedure on float codes (samples x SNPs): for each extra copy,
  shuffle the rows of every 1000-SNP block (``np.random.shuffle``), ``np.hstack`` the
  blocks, then ``np.vstack`` the copies. float32 codes so that it fits in 24 GiB
  (float64, as pandas would give, moves twice the bytes).
- copy: ``ndarray.copy()`` of an int8 array the size of ogan's output.
Also prints the cost of the default LD-aware blocks for the same population.

    python bench/hybridize.py [--samples 2000] [--snps 100000] [--factor 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ogan_vcf.hybridizer import BlockSpec, hybridize
from ogan_vcf.hybridizer.blocks import ld_blocks


def paper_procedure(codes: np.ndarray, factor: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """The authors' hybridizer: row-shuffle each block per copy, hstack blocks, vstack copies."""
    copies = [codes]
    for _ in range(factor - 1):
        blocks = []
        for start in range(0, codes.shape[1], block):
            part = codes[:, start:start + block].copy()
            rng.shuffle(part)  # shuffles rows: a permutation of the members
            blocks.append(part)
        copies.append(np.hstack(blocks))
    return np.vstack(copies)


def best_of(repeats: int, func) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t)
        del result
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--snps", type=int, default=100_000)
    parser.add_argument("--factor", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    freq = rng.beta(0.3, 0.3, size=(args.snps, 1, 1))
    genotypes = (rng.random((args.snps, args.samples, 2)) < freq).astype(np.int8)
    codes = (2 * genotypes[:, :, 0] + genotypes[:, :, 1]).T.astype(np.float32)  # 4-class codes, samples x SNPs
    out_shape = (args.snps, args.factor * args.samples, 2)
    print(f"{args.samples} samples x {args.snps} SNPs x factor {args.factor}, fixed 1000-SNP blocks "
          f"(output {np.prod(out_shape) / 2**30:.2f} GiB int8)")

    hybridize(genotypes[:2000, :50], factor=2, blocks=100, seed=0)  # JIT warm-up (and cache)
    ours = best_of(args.repeats, lambda: hybridize(genotypes, factor=args.factor, blocks=1000, seed=1))
    big = np.ones(out_shape, dtype=np.int8)
    copy = best_of(args.repeats, big.copy)
    del big
    paper = best_of(args.repeats, lambda: paper_procedure(codes, args.factor, 1000, rng))

    print(f"ogan hybridize       : {ours:7.2f} s")
    print(f"paper NumPy procedure: {paper:7.2f} s")
    print(f"memory copy (output) : {copy:7.2f} s")
    print(f"speed-up vs paper    : {paper / ours:7.1f}x  (goal >= 50x)")
    print(f"ogan / copy          : {ours / copy:7.2f}x  (goal <= 3x)")

    t = time.perf_counter()
    starts = ld_blocks(genotypes, np.zeros(args.snps, dtype=np.int32), BlockSpec())
    print(f"default LD-aware blocks for this population: {time.perf_counter() - t:.2f} s "
          f"({len(starts) - 1} blocks)")


if __name__ == "__main__":
    main()
