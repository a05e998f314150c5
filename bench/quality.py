"""The paper's study on example_data, with the cpu preset: one table of all three models.

Runs `ogan pipeline example_data/cohort.vcf.gz --keep EAS=0.2,AFR=0.2,SAS=0.2 --model all
--preset cpu --seed 1` (bias -> train offspring, ppo and pgcgan -> generate the full cohort's
size per population -> report against the FULL cohort with the training set as --train;
resumable) and prints, per model: minutes of training, then per minority population MAF r
and LD r, and overall label accuracy (vs the classifier's accuracy on real genomes),
duplicates, exact copies, DCR ratio and AA_TS. The must/goal thresholds of issue #6 are
printed beside them. The study directory is what bench/imputation.py reads.

    python bench/quality.py [--models all|offspring,ppo,pgcgan] [--epochs N] [--out bench/out/study]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "example_data"
MINORITIES = ("EAS", "AFR", "SAS")


def run(models: str, epochs: int | None, out: Path, seed: int) -> dict:
    from ogan_vcf.pipeline import pipeline

    summary = pipeline(EXAMPLE / "cohort.vcf.gz", out, panel=EXAMPLE / "cohort.panel", keep="EAS=0.2,AFR=0.2,SAS=0.2",
                       models=models, preset="cpu", overrides={"epochs": epochs} if epochs else None, seed=seed,
                       log=print)
    manifest = json.loads((out / "pipeline.json").read_text())["steps"]
    results = {}
    for model in summary.models:
        metrics = json.loads((out / "reports" / model / "metrics.json").read_text())
        results[model] = {"minutes": manifest[f"train {model}"]["seconds"] / 60, "metrics": metrics}
    return results


def table(results: dict) -> str:
    head = ["model", "min", *(f"MAF r {p}" for p in MINORITIES), *(f"LD r {p}" for p in MINORITIES),
            "label acc (real)", "dup", "copies", "DCR", "AA_TS"]
    rows = [" | ".join(head), " | ".join("---" for _ in head)]
    for model, r in results.items():
        m, per = r["metrics"], r["metrics"]["per_population"]
        p = m.get("privacy", {})
        cells = [model, f"{r['minutes']:.1f}", *(f"{per[x]['maf_r']:.3f}" for x in MINORITIES),
                 *(f"{per[x]['ld_r']:.3f}" for x in MINORITIES),
                 f"{m['overall']['label_accuracy']:.3f} ({m['overall']['label_accuracy_real']:.3f})",
                 f"{m['overall']['duplicate_fraction']:.3f}", f"{p.get('exact_copy_fraction', 0):.3f}",
                 f"{p.get('dcr_ratio') or 0:.2f}", f"{p.get('aa_ts', 0):.2f}"]
        rows.append(" | ".join(cells))
    rows.append("must: MAF r >= 0.97, LD r >= 0.70, dup 0, copies 0, DCR >= 0.8, <= 30 min; offspring > pgcgan")
    rows.append("goal: <= 15 min, MAF r >= 0.98, LD r >= 0.90, label acc >= 95% of real, AA_TS 0.45-0.60")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="all")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "study")
    args = parser.parse_args()
    print(table(run(args.models, args.epochs, args.out, args.seed)))


if __name__ == "__main__":
    main()
