"""Report time and memory at 2,500 x 7,500 and 10,000 x 10,000 (people x SNPs).

Each size runs in a child process (so that its peak memory is its own): it builds a
real cohort (5 populations with their own allele frequencies, phased), a synthetic one
of the same size drawn from the same frequencies, and a training set of 60% of the
real people, then times ``compute_metrics`` (every metric, privacy audit included) plus
the figures and the page. Baseline in the same run: one ``np.corrcoef`` over 1,000 SNPs
of the real cohort (the paper's heatmap), to give the time a scale on this machine.

    python bench/report.py [--sizes 2500x7500,10000x10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
import numpy as np
sys.path.insert(0, sys.argv[3])
from report import make_cohort
from ogan_vcf.reporting import compute_metrics
from ogan_vcf.reporting.html import write_metrics_json, write_report
from ogan_vcf.reporting.plots import save_figures
people, snps = int(sys.argv[1]), int(sys.argv[2])
real = make_cohort(people, snps, seed=1)
synth = make_cohort(people, snps, seed=2, frequencies_seed=1)
train = real.take_samples(np.sort(np.random.default_rng(3).choice(people, int(0.6 * people), replace=False)))
t = time.perf_counter()
baseline = np.corrcoef(real.genotypes[:1000].sum(axis=2))
baseline_s = time.perf_counter() - t
t = time.perf_counter()
metrics, plot, notes = compute_metrics(real, synth, train, seed=0)
compute_s = time.perf_counter() - t
with tempfile.TemporaryDirectory() as out:
    figures = save_figures(plot, Path(out))
    write_report(Path(out), metrics, figures, title="bench", notes=notes, inputs={})
    write_metrics_json(Path(out), metrics)
total_s = time.perf_counter() - t
print(json.dumps({"compute_s": compute_s, "total_s": total_s, "baseline_s": baseline_s,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "maf_r": metrics["overall"]["maf_r"]}))
"""


def make_cohort(people: int, snps: int, *, seed: int, frequencies_seed: int | None = None):
    """A phased 5-population cohort; frequencies from ``frequencies_seed`` (default ``seed``)."""
    from ogan_vcf.cohort import Cohort, Samples

    pops = np.array(["AFR", "EUR", "EAS", "SAS", "AMR"], dtype=object)
    base = np.random.default_rng(frequencies_seed if frequencies_seed is not None else seed)
    shared = base.beta(0.4, 0.4, size=snps)
    freq = np.clip(shared[:, None] + base.normal(0, 0.08, size=(snps, 5)), 0.001, 0.999)
    rng = np.random.default_rng(seed)
    labels = pops[np.arange(people) % 5]
    genotypes = (rng.random((snps, people, 2), dtype=np.float32) < freq[:, np.arange(people) % 5, None]).astype(np.int8)
    ids = np.array([f"S{seed}_{i:06d}" for i in range(people)], dtype=object)
    return Cohort(["1"], [-1], np.zeros(snps, np.int32), np.arange(1, snps + 1, dtype=np.int64) * 300,
                  np.full(snps, ".", dtype=object), np.tile(np.array(["A", "G"], dtype=object), (snps, 1)),
                  genotypes, np.ones((snps, people), bool), Samples(ids, labels), [], f"bench{seed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500x7500,10000x10000")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        people, snps = size.split("x")
        out = subprocess.run([sys.executable, "-c", CHILD, people, snps, str(Path(__file__).parent)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{people:>6} people x {snps:>6} SNPs: metrics {r['compute_s']:6.1f} s, with figures and page "
              f"{r['total_s']:6.1f} s, peak memory {r['rss_mib']:6.0f} MiB; "
              f"= {r['total_s'] / r['baseline_s']:.0f}x one 1000-SNP np.corrcoef ({r['baseline_s']:.2f} s)")


if __name__ == "__main__":
    main()
