"""Ingest speed and memory: `ogan ingest` against `bcftools view -Ou` on the same VCF.

Makes a 2,504-sample phased VCF (bgzipped, indexed) with 50k SNPs, times the
baseline (bcftools parsing the VCF into uncompressed BCF) and ogan's ingest in the
same run, and prints the ratio. Then measures ingest's peak memory (max RSS of the
child process) at 50k and 200k SNPs: a flat figure shows that memory does not grow
with the number of variants.

    python bench/ingest.py [--samples 2504] [--snps 50000] [--big-snps 200000] [--repeats 3]

Absolute times depend on the machine and its load; the ratio is the figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "out"


def make_vcf(path: Path, n_samples: int, n_snps: int, seed: int = 1) -> Path:
    """A phased VCF with per-SNP allele frequencies from Beta(0.3, 0.3) (cached by name)."""
    import pysam

    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    with pysam.BGZFile(str(tmp), "wb4") as fh:
        names = "\t".join(f"S{i:05d}" for i in range(n_samples))
        fh.write(("##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
                  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
                  f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{names}\n").encode())
        for start in range(0, n_snps, 5000):
            n = min(5000, n_snps - start)
            freq = rng.beta(0.3, 0.3, size=(n, 1, 1))
            alleles = (rng.random((n, n_samples, 2)) < freq).astype(np.uint8) + ord("0")
            cells = np.empty((n, n_samples, 4), np.uint8)
            cells[:, :, 0], cells[:, :, 1], cells[:, :, 2] = alleles[:, :, 0], ord("|"), alleles[:, :, 1]
            cells[:, :, 3] = ord("\t")
            cells[:, -1, 3] = ord("\n")
            for i in range(n):
                pos = 10 * (start + i) + 1
                fh.write(f"1\t{pos}\trs{start + i}\tA\tG\t.\tPASS\t.\tGT\t".encode() + cells[i].tobytes())
    os.replace(tmp, path)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


def make_panel(path: Path, n_samples: int) -> Path:
    pops = ["EUR", "AFR", "EAS", "SAS", "AMR"]
    lines = ["sample\tpop\tsuper_pop\tgender"] + [
        f"S{i:05d}\tP{i % 5}\t{pops[i % 5]}\t{'male' if i % 2 else 'female'}" for i in range(n_samples)]
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(cmd: list[str], **kwargs) -> tuple[float, int]:
    """Wall time and the peak RSS (KiB) of one child process."""
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True, **kwargs)
    seconds, rss = out.stdout.split()
    return float(seconds), int(rss)


def ingest_cmd(vcf: Path, panel: Path, out: Path) -> list[str]:
    ogan = shutil.which("ogan", path=str(Path(sys.executable).parent)) or "ogan"
    return [ogan, "ingest", str(vcf), "--panel", str(panel), "-o", str(out), "--no-progress"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2504)
    parser.add_argument("--snps", type=int, default=50_000)
    parser.add_argument("--big-snps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("bcftools") is None:
        sys.exit("bench/ingest.py needs bcftools on PATH (apt-get install bcftools)")
    OUT.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    vcf = make_vcf(OUT / f"bench_{args.samples}x{args.snps}.vcf.gz", args.samples, args.snps)
    panel = make_panel(OUT / f"bench_{args.samples}.panel", args.samples)
    print(f"input: {vcf.name} ({vcf.stat().st_size / 1e6:.0f} MB, made in {time.perf_counter() - t0:.0f} s)")

    baseline, ours = [], []
    for _ in range(args.repeats):  # interleaved, so load changes hit both alike
        baseline.append(timed(["bcftools", "view", "-Ou", "-o", os.devnull, str(vcf)])[0])
        ours.append(timed(ingest_cmd(vcf, panel, OUT / "bench.h5"))[0])
    b, o = min(baseline), min(ours)
    print(f"bcftools view -Ou : {b:6.2f} s (best of {args.repeats})")
    print(f"ogan ingest       : {o:6.2f} s (best of {args.repeats})")
    print(f"ratio ingest / bcftools view -Ou: {o / b:.2f}x  (goal <= 3x)")

    print("peak memory of ogan ingest (max RSS):")
    for n_snps in (args.snps, args.big_snps):
        path = make_vcf(OUT / f"bench_{args.samples}x{n_snps}.vcf.gz", args.samples, n_snps)
        seconds, rss = timed(ingest_cmd(path, panel, OUT / "bench_mem.h5"))
        print(f"  {n_snps:>7} SNPs: {rss / 1024:7.0f} MiB  ({seconds:.1f} s)")
    (OUT / "bench.h5").unlink(missing_ok=True)
    (OUT / "bench_mem.h5").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
