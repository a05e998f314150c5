"""The study on two contigs: example_data split in two, run through `ogan pipeline`, read back by the tools.

example_data's region is cut in the middle; the second half becomes contig "2" with its positions
moved to start where contig "1" starts (so the contigs' positions overlap, the case that broke
training). The pipeline runs the paper's design (`--keep EAS=0.2,AFR=0.2,SAS=0.2`, cpu preset,
offspring model). Then the synthetic VCF is checked: both contigs, every site, in input order;
`bcftools index --stats`, a `bcftools view -r 2` region query, `plink2 --vcf ... --make-pgen`, and
Beagle 5 imputing held-out genomes of contig 2 (every 10th SNP typed) with the synthetic cohort as
the reference panel (each where the tool is installed).

    python bench/two_contigs.py [--epochs N] [--out bench/out/two_contigs]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def split_example(out: Path) -> tuple[Path, Path]:
    """example_data as two contigs with overlapping positions: (vcf.gz, panel)."""
    from ogan_vcf.io import read_cohort, write_output

    cohort = read_cohort(ROOT / "example_data" / "cohort.vcf.gz", panel=ROOT / "example_data" / "cohort.panel")
    half = cohort.n_variants // 2
    contig = np.where(np.arange(cohort.n_variants) < half, 0, 1).astype(np.int32)
    position = cohort.variant_position.copy()
    position[half:] += position[0] - position[half]  # contig 2 starts where contig 1 starts
    two = replace(cohort, contig_id=["1", "2"], contig_length=[-1, -1], variant_contig=contig,
                  variant_position=position)
    vcf = out / "two_contigs.vcf.gz"
    write_output(vcf, two)
    return vcf, out / "two_contigs.panel"


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=True, **kwargs)


def beagle_r2(out: Path, study: Path, vcf: Path, panel: Path) -> float:
    """Mean dosage r^2 of imputing held-out genomes of contig 2 from the synthetic panel."""
    from ogan_vcf.cohort import load
    from ogan_vcf.io import read_cohort, write_output

    held = load(study / "heldout.h5")
    rows = np.arange(min(60, held.n_samples))
    target = held.take_samples(rows)
    on2 = np.flatnonzero(target.variant_contig == 1)
    typed = on2[::10]

    typed_target = target.take_variants(typed)
    write_output(out / "targets.vcf.gz", replace(typed_target, phased=np.zeros_like(typed_target.phased)))
    run(["beagle", f"ref={study / 'synthetic' / 'offspring.vcf.gz'}", f"gt={out / 'targets.vcf.gz'}",
         f"out={out / 'imputed'}", "chrom=2", "nthreads=2", "seed=1"], timeout=1800)
    imputed = read_cohort(out / "imputed.vcf.gz", panel=panel)
    truth = held.take_variants(on2).take_samples(rows)
    where = {p: i for i, p in enumerate(truth.variant_position)}
    idx = np.array([where[p] for p in imputed.variant_position])
    untyped = ~np.isin(truth.variant_position[idx], held.variant_position[typed])
    a = imputed.genotypes.sum(axis=2)[untyped].astype(float)
    b = truth.genotypes.sum(axis=2)[idx[untyped]].astype(float)
    r2 = [np.corrcoef(x, y)[0, 1] ** 2 for x, y in zip(a, b) if x.std() > 0 and y.std() > 0]
    return float(np.mean(r2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="cpu preset epochs (default: the preset's)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "two_contigs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    vcf, panel = split_example(args.out)
    study = args.out / "study"
    cmd = ["ogan", "pipeline", vcf, "-p", panel, "--keep", "EAS=0.2,AFR=0.2,SAS=0.2", "--model", "offspring",
           "--preset", "cpu", "--seed", "1", "-o", study, "--no-progress"]
    if args.epochs:
        cmd += ["--epochs", str(args.epochs)]
    t0 = time.perf_counter()
    run([shutil.which("ogan") or ROOT / ".venv" / "bin" / "ogan", *cmd[1:]])
    minutes = (time.perf_counter() - t0) / 60
    import cyvcf2

    synth = study / "synthetic" / "offspring.vcf.gz"
    source = cyvcf2.VCF(str(vcf))
    want = [(v.CHROM, v.POS) for v in source]
    reader = cyvcf2.VCF(str(synth))
    got = [(v.CHROM, v.POS) for v in reader]
    rows = [("pipeline minutes (cpu preset)", f"{minutes:.1f}"), ("contigs in synthetic VCF", " ".join(reader.seqnames)),
            ("sites: input / synthetic / same order", f"{len(want)} / {len(got)} / {want == got}"),
            ("synthetic people", str(len(reader.samples)))]
    if shutil.which("bcftools"):
        stats = run(["bcftools", "index", "--stats", synth]).stdout.split()
        rows.append(("bcftools index --stats", ", ".join(f"{c}: {n}" for c, n in zip(stats[0::3], stats[2::3]))))
        region = run(["bcftools", "view", "-H", "-r", "2", synth]).stdout.splitlines()
        rows.append(("bcftools view -r 2 records", str(len(region))))
    if shutil.which("plink2"):
        run(["plink2", "--vcf", synth, "--make-pgen", "--out", args.out / "synth"])
        pvar = [x.split("\t")[0] for x in (args.out / "synth.pvar").read_text().splitlines() if x[0] != "#"]
        psam = (args.out / "synth.psam").read_text().splitlines()[1:]
        rows.append(("plink2 --make-pgen: variants per contig, samples",
                     f"{', '.join(f'{c}: {pvar.count(c)}' for c in dict.fromkeys(pvar))}; {len(psam)}"))
    if shutil.which("beagle"):
        rows.append(("Beagle ref=synthetic, contig 2, mean r^2 (untyped)", f"{beagle_r2(args.out, study, vcf, panel):.3f}"))
    import json

    metrics = json.loads((study / "reports" / "offspring" / "metrics.json").read_text())
    for pop in ("EAS", "AFR", "SAS"):
        p = metrics["per_population"][pop]
        rows.append((f"{pop} MAF r / LD r", f"{p['maf_r']:.3f} / {p['ld_r']:.3f}"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
