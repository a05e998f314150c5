"""The utility-privacy curve: imputation r^2 (synthetic panel alone) against within-population membership AUC.

For one study (the layout `ogan pipeline` writes), every candidate synthetic set of the same
size is scored two ways per minority population:
  - privacy: the report's own audit (``compute_metrics`` -> privacy.per_population): nearest-synthetic
    membership AUC of training members against held-out people of the population, AA_TS, copies;
  - utility: Beagle 5 imputes held-out targets (every --keep-every-th SNP typed) from the synthetic
    set alone (panel s of bench/imputation.py); aggregate dosage r^2 over masked SNPs;
  - fidelity: per-population MAF r, LD r and LD breaks per Mb from the same report (docs/metrics.md).
Candidates: the hybridizer alone (PPO offspring of the training set, --n per population) with
genotype blocks at several LD-aware scales, and the mosaic unit at several generations (for each
--match-windows: 10, a switch moves to a source that agrees around it, the default; 0, to any); plus every
model file in STUDY/synthetic (offspring, offspring.first, ppo, pgcgan ...), at its own size.
Prints one table and writes tradeoff.json and tradeoff.png (one panel per population) under --out.

    python bench/tradeoff.py --study demo_out [--generations 30,100,300,1000,3000] [--match-windows 10,0]
        [--block-scales 25-200,50-400,100-800,200-1600] [--n 500] [--targets 100] [--keep-every 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import imputation as imp  # noqa: E402  (bench/imputation.py: targets, panels, Beagle, scores)

def candidates(train, study: Path, *, generations, block_scales, n: int, seed: int, out: Path,
               genetic_map: Path | None = None, match_windows=(10,)) -> dict[str, dict]:
    """{name: {"path": VCF, "kind": ..., "knob": ...}}: hybridizer sets written under ``out``, model files found."""
    from ogan_vcf import hybridize
    from ogan_vcf.hybridizer import BlockSpec

    found = {}
    sizes = {p: n for p in train.samples.population_counts()}
    for scale in block_scales:
        lo, hi = (int(x) for x in scale.split("-"))
        found[f"blocks {scale}"] = {"kind": "hybridizer, genotype blocks", "knob": hi,
                                    "make": dict(unit="genotype", blocks=BlockSpec(min_snps=lo, max_snps=hi))}
    for w in match_windows:
        for g in generations:
            name = f"mosaic g={g:g}" + (f" w={w}" if w != 10 else "")
            found[name] = {"kind": "hybridizer, mosaic" + (f" (match window {w})" if w != 10 else ""), "knob": g,
                           "make": dict(unit="mosaic", generations=g, match_window=w,
                                        blocks=BlockSpec(genetic_map=str(genetic_map) if genetic_map else None))}
    for name, spec in found.items():
        path = out / "vcf" / f"{name.replace(' ', '_').replace('=', '')}.vcf.gz"
        t0 = time.perf_counter()
        cohort = hybridize(train, sizes=sizes, mode="ppo", seed=seed, **spec.pop("make")).cohort
        spec["hybridize_s"] = time.perf_counter() - t0
        spec["path"] = imp.write_vcf(path, cohort)
        spec["n_ref"] = cohort.n_samples
    for vcf in sorted((study / "synthetic").glob("*.vcf.gz")):
        name = vcf.name.removesuffix(".vcf.gz")
        panel = vcf.with_name(f"{name}.panel")
        if panel.exists():  # the models' files, and the pipeline's hybridizer baseline (its own switch rates)
            kind = "hybridizer, the pipeline's baseline" if name == "hybridizer" else "model"
            found[name] = {"kind": kind, "knob": None, "path": vcf, "panel": panel,
                           "n_ref": len(panel.read_text().splitlines()) - 1}
    return found


def evaluate(study: Path, out: Path, *, generations, block_scales, n: int, n_targets: int, keep_every: int,
             seed: int, nthreads: int, genetic_map: Path | None = None, match_windows=(10,)) -> dict:
    from ogan_vcf.reporting import compute_metrics
    from ogan_vcf.reporting.metrics import ld_breaks_per_mb

    (out / "vcf").mkdir(parents=True, exist_ok=True)
    (out / "beagle").mkdir(parents=True, exist_ok=True)
    train = imp.load(study / "train.h5")
    full, _ = imp.on_training_sites(train, imp.load(study / "cohort.h5"), "cohort.h5")
    heldout, _ = imp.on_training_sites(train, imp.load(study / "heldout.h5"), "heldout.h5")
    targets = imp.choose_targets(heldout, n_targets, seed)
    index = np.concatenate(list(targets.values()))
    target_ids = [str(s) for s in heldout.samples.ids[index]]
    truth = heldout.genotypes[:, index].sum(axis=2).astype(np.int8)
    gt_vcf = imp.write_vcf(out / "vcf" / "targets.vcf.gz", imp.masked_targets(heldout, index, keep_every))
    masked = np.arange(full.n_variants) % keep_every != 0
    maf = imp.maf_by_population(full)
    sets = candidates(train, study, generations=generations, block_scales=block_scales, n=n, seed=seed, out=out,
                      genetic_map=genetic_map, match_windows=match_windows)
    refs = {"a": imp.write_vcf(out / "vcf" / "train.vcf.gz", train)}
    info = {"a": {"name": "real training panel", "n_ref": train.n_samples}}
    for i, (name, spec) in enumerate(sets.items()):
        refs[f"p{i}"] = spec["path"]
        info[f"p{i}"] = {"name": name, "n_ref": spec["n_ref"]}
    imputed = imp.impute_all(refs, info, gt_vcf, full, target_ids, masked, out / "beagle", nthreads=nthreads,
                             seed=seed, genetic_map=genetic_map)
    scores = imp.score_all(truth, imputed, targets, maf, masked, seed)
    rows = {"real training panel (a)": {"kind": "real", "knob": None, "populations": {}}}
    for pop in targets:
        rows["real training panel (a)"]["populations"][pop] = _imputation(scores[pop], "a")
    for i, (name, spec) in enumerate(sets.items()):
        synthetic = imp.load(spec["path"], spec.get("panel"))
        t0 = time.perf_counter()
        metrics = compute_metrics(full, synthetic, train, seed=seed)[0]
        row = {"kind": spec["kind"], "knob": spec["knob"], "path": str(spec["path"]),
               "n_synthetic": synthetic.samples.population_counts(), "report_s": time.perf_counter() - t0,
               "beagle_s": info[f"p{i}"]["wall_s"], "populations": {}}
        for pop in targets:
            audit = metrics["privacy"]["per_population"].get(pop, {})
            quality = metrics["per_population"].get(pop, {})
            row["populations"][pop] = {
                **_imputation(scores[pop], f"p{i}"),
                "membership_auc": audit.get("mia_nearest_auc"), "membership_auc_interval":
                    audit.get("mia_nearest_auc_interval"), "frequency_lr_auc": audit.get("mia_frequency_lr_auc"),
                "aa_ts_train": audit.get("aa_ts_train"), "aa_ts_holdout": audit.get("aa_ts_holdout"),
                "exact_copy_fraction": audit.get("exact_copy_fraction"),
                "maf_r": quality.get("maf_r"), "ld_r": quality.get("ld_r"),
                "ld_breaks_per_mb": quality.get("ld_breaks_per_mb"),
            }
        rows[name] = row
        print(f"scored {name}", file=sys.stderr, flush=True)
    heldout_row = {"kind": "real", "knob": None, "populations": {}}
    for pop in targets:
        real_pop = full.genotypes[:, full.samples.populations == pop].sum(axis=2).T
        half = np.random.default_rng(seed).permutation(len(real_pop))
        a, b = real_pop[half[: len(half) // 2]], real_pop[half[len(half) // 2:]]
        heldout_row["populations"][pop] = {"ld_breaks_per_mb": ld_breaks_per_mb(a, b, full.variant_position,
                                                                                 full.variant_contig)}
    rows["real, one half vs the other (LD breaks)"] = heldout_row
    result = {"study": str(study), "seed": seed, "n_per_population": n, "targets": {p: len(i) for p, i in
                                                                                 targets.items()},
              "keep_every": keep_every, "genetic_map": str(genetic_map) if genetic_map else None, "rows": rows}
    (out / "tradeoff.json").write_text(json.dumps(result, indent=1, default=str))
    plot(result, out / "tradeoff.png")
    return result


def _imputation(bins: dict, key: str) -> dict:
    common = bins["all >= 0.01"]
    rare = bins["[0.01, 0.05)"]
    return {"r2": common[key]["r2"], "r2_rare": rare[key]["r2"] if key in rare else None}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pops = list(result["targets"])
    fig, axes = plt.subplots(1, len(pops), figsize=(5 * len(pops), 4.2), squeeze=False)
    for ax, pop in zip(axes[0], pops):
        real = result["rows"]["real training panel (a)"]["populations"][pop]["r2"]
        ax.axhline(real, color="k", lw=1, ls="--", label="real training panel (a)")
        ax.axhline(real - 0.06, color="grey", lw=1, ls=":", label="a - 0.06")
        ax.axvline(0.62, color="grey", lw=1, ls=":")
        kinds = sorted({r["kind"] for r in result["rows"].values() if r["kind"].startswith("hybridizer, mosaic")})
        for kind, style in (("hybridizer, genotype blocks", "o-"), *((k, "s-" if k == "hybridizer, mosaic" else "d--")
                                                                      for k in kinds)):
            pts = sorted((r["knob"], r["populations"][pop]["membership_auc"], r["populations"][pop]["r2"])
                         for r in result["rows"].values() if r["kind"] == kind)
            if pts:
                ax.plot([p[1] for p in pts], [p[2] for p in pts], style, label=kind)
                for knob, x, y in pts:
                    ax.annotate(f"{knob:g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        for name, r in result["rows"].items():
            if r["kind"] in ("model", "hybridizer, the pipeline's baseline"):
                ax.plot(r["populations"][pop]["membership_auc"], r["populations"][pop]["r2"], "*", ms=11, label=name)
        ax.set(title=pop, xlabel="membership AUC within the population (nearest synthetic)",
               ylabel="imputation r^2, synthetic panel alone")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(result: dict) -> str:
    pops = list(result["targets"])
    head = ["set", *(f"{p} {k}" for p in pops for k in ("r2", "AUC", "MAF r", "LD r", "breaks/Mb"))]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]

    def fmt(x, spec=".3f"):
        return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)

    for name, row in result["rows"].items():
        cells = [name]
        for p in pops:
            v = row["populations"].get(p, {})
            cells += [fmt(v.get("r2")), fmt(v.get("membership_auc")), fmt(v.get("maf_r")), fmt(v.get("ld_r")),
                      fmt(v.get("ld_breaks_per_mb"), ".1f")]
        lines.append(" | ".join(cells))
    lines.append(f"r2: Beagle, synthetic panel alone, masked SNPs with MAF >= 0.01, {result['targets']} targets, "
                 f"every {result['keep_every']}th SNP typed; AUC: nearest-synthetic membership within the population; "
                 f"hybridizer sets: PPO, {result['n_per_population']} per population; seed {result['seed']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, required=True, help="a study directory written by `ogan pipeline`")
    parser.add_argument("--generations", default="30,100,300,1000,3000", help="mosaic unit switch rates")
    parser.add_argument("--match-windows", default="10", help="mosaic match windows (10: the default; 0: a "
                        "switch to any source, Li & Stephens)")
    parser.add_argument("--block-scales", default="25-200,50-400,100-800,200-1600",
                        help="LD-aware genotype block bounds MIN-MAX SNPs")
    parser.add_argument("--n", type=int, default=500, help="hybridizer genomes per population")
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--keep-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nthreads", type=int, default=2)
    parser.add_argument("--map", type=Path, help="PLINK-format genetic map: Beagle's map= and the mosaic sets' "
                        "switch distances (default none: 1 cM per Mb for both)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "tradeoff")
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = evaluate(args.study, args.out, generations=[float(g) for g in args.generations.split(",") if g],
                      block_scales=[s for s in args.block_scales.split(",") if s], n=args.n,
                      n_targets=args.targets, keep_every=args.keep_every, seed=args.seed, nthreads=args.nthreads,
                      genetic_map=args.map, match_windows=[int(w) for w in args.match_windows.split(",") if w])
    print(table(result))
    print(f"total {time.perf_counter() - t0:.0f} s; {args.out / 'tradeoff.png'}")


if __name__ == "__main__":
    main()
