"""Imputation: do synthetic genomes in a biased reference panel help Beagle impute minorities?

Targets are up to --targets held-out genomes per held-out (minority) population, chosen by
--seed. All but every --keep-every-th SNP are masked in them (array-like density; written
unphased, as array calls are), and Beagle 5 imputes them from each reference panel:

    a  the biased training cohort
    b  a + the synthetic genomes (bcftools merge, sample-wise)
    c  the full real cohort minus the targets (the ceiling)
    s  the synthetic genomes alone, as ogan wrote them
    d  a + the synthetic genomes of another model (ppo, pgcgan), or of the hybridizer baseline
       (hybridizer.vcf.gz, written by `ogan pipeline`), when found beside --synthetic
    h  the hybridizer baseline alone (PPO offspring of the training set), when found

Beagle runs with `nthreads` and `seed`, and with `map=` when --map names a PLINK-format genetic map
(without one it assumes 1 cM = 1 Mb). Only
masked SNPs are scored, per population and MAF bin (MAF in that population of the full
cohort): aggregate dosage r^2 (squared Pearson between the true ALT dosage and Beagle's DS
over every target genotype in the bin) and the concordance of Beagle's GT with the truth.
b - a gets a 95% bootstrap interval over the target genomes. Prints the table, the Beagle
wall time per panel and, to explain them, how the synthetic haplotypes relate to the training
haplotypes in 20-SNP windows (new ones; training ones kept), with held-out real genomes for
scale. Writes imputation.json, the panels, targets and Beagle output under --out.

    python bench/imputation.py --study STUDY          # the layout `ogan pipeline` writes
    python bench/imputation.py --full full.h5 --train train.h5 --heldout train.heldout.h5 \\
        --synthetic offspring.h5 [--synthetic-panel synth.panel] [--targets 100] [--keep-every 10] \\
        [--panels a,b,c,s,h,d] [--seed 1] [--beagle-seed N] [--nthreads 2] [--out bench/out/imputation]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

BINS = ((0.01, 0.05), (0.05, 0.2), (0.2, 0.5))
OTHER_MODELS = ("offspring", "ppo", "pgcgan", "hybridizer")  # hybridizer: the pipeline's baseline
N_BOOT = 1000
WINDOW = 20  # SNPs per window in haplotype_windows


# ---------------------------------------------------------------- inputs

def resolve_inputs(args) -> dict[str, Path]:
    """The four inputs: ``--study`` layout first, explicit options override it."""
    paths = {}
    if args.study:
        study = Path(args.study)
        paths = {"full": study / "cohort.h5", "train": study / "train.h5", "heldout": study / "heldout.h5",
                 "synthetic": study / "synthetic" / "offspring.vcf.gz"}
    for name in ("full", "train", "heldout", "synthetic"):
        if getattr(args, name):
            paths[name] = Path(getattr(args, name))
    missing = [f"--{n}" for n in ("full", "train", "heldout", "synthetic") if n not in paths]
    if missing:
        sys.exit("give --study DIR or all of --full --train --heldout --synthetic "
                 f"(missing {', '.join(missing)})")
    for name, path in paths.items():
        if not path.exists():
            sys.exit(f"{path}: no such file (the {name} input)")
    return paths


def synthetic_models(synthetic: Path, panel: Path | None) -> dict[str, tuple[Path, Path | None]]:
    """{model: (file, panel)}: --synthetic first, then ppo/pgcgan files of the same type beside it."""
    main, _, suffix = synthetic.name.partition(".")
    found = {main: (synthetic, panel)}
    for model in OTHER_MODELS:
        other = synthetic.with_name(f"{model}.{suffix}")
        if model != main and other.exists():
            found[model] = (other, None)
    return found


def load(path: Path, panel: Path | None = None):
    """A cohort from .h5, or from VCF/BCF/PLINK with its panel (beside it by default)."""
    from ogan_vcf.io import panel_path_for, read_cohort

    if path.suffix != ".h5" and panel is None:
        panel = panel_path_for(path)
        if not panel.exists():
            sys.exit(f"{path}: no panel beside it ({panel}); write one, or give --synthetic-panel")
    return read_cohort(path, panel=panel)


def on_training_sites(train, other, name: str):
    """``other`` on the training cohort's SNPs, with train's REF/ALT (a PLINK-derived file may swap them).

    Returns (cohort, whether it differs from ``other`` as read: reordered, flipped or trimmed).
    """
    from ogan_vcf.reporting.sites import align

    aligned, match = align(train, other, names=("train", "other"))
    if match.counts["shared"] != train.n_variants:
        sys.exit(f"{name}: has {match.counts['shared']} of the training cohort's {train.n_variants} SNPs; a merged "
                 "panel would hold missing calls, which Beagle refuses in a reference")
    unchanged = np.array_equal(match.b, np.arange(other.n_variants)) and not match.flip.any()
    if not unchanged:
        print(f"{name}: {match.counts['flipped']} SNPs flipped to the training cohort's REF/ALT, "
              f"{other.n_variants - train.n_variants} SNPs not in training left out", file=sys.stderr)
    return aligned, not unchanged


def choose_targets(heldout, n: int, seed: int) -> dict[str, np.ndarray]:
    """{population: sorted indices into ``heldout``}: up to ``n`` each, one seeded stream per population."""
    counts = heldout.samples.population_counts()
    pops = sorted(counts)
    streams = dict(zip(pops, np.random.SeedSequence(seed).spawn(len(pops))))
    targets = {}
    for pop in pops:
        members = np.flatnonzero(heldout.samples.populations == pop)
        chosen = np.random.default_rng(streams[pop]).choice(members, size=min(n, len(members)), replace=False)
        targets[pop] = np.sort(chosen)
    return targets


def masked_targets(heldout, index: np.ndarray, keep_every: int):
    """The target genomes with only every ``keep_every``-th SNP, unphased (array-like)."""
    t = heldout.take_samples(index).take_variants(np.arange(0, heldout.n_variants, keep_every))
    return replace(t, phased=np.zeros_like(t.phased))


# ---------------------------------------------------------------- tools

def write_vcf(path: Path, cohort) -> Path:
    """Write with ogan's own writer (what `ogan export` / `ogan generate` write)."""
    from ogan_vcf.io import write_output

    write_output(path, cohort)
    return path


def merge(out: Path, *vcfs: Path) -> Path:
    """Merge VCFs sample-wise (same sites) with bcftools."""
    args = ["merge", "--no-version", "-Oz", "-o", str(out), *map(str, vcfs)]
    if shutil.which("bcftools"):
        run = subprocess.run(["bcftools", *args], capture_output=True, text=True)
        if run.returncode:
            sys.exit(f"bcftools {' '.join(args)} failed:\n{run.stderr.strip()}")
    else:
        import pysam.bcftools

        pysam.bcftools.merge(*args, catch_stdout=False)
    return out


def beagle(ref: Path, gt: Path, out: Path, *, nthreads: int, seed: int, genetic_map: Path | None = None) -> dict:
    """Run Beagle 5 (with ``map=`` when a PLINK-format genetic map is given); the exact message on
    failure, warnings and the wall time on success."""
    exe = shutil.which("beagle")
    if exe is None:
        sys.exit("beagle is not on PATH (Debian: apt-get install beagle)")
    command = [exe, f"ref={ref}", f"gt={gt}", f"out={out}", f"nthreads={nthreads}", f"seed={seed}"]
    command += [f"map={genetic_map}"] if genetic_map else []
    t = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - t
    text = run.stdout + run.stderr
    if run.returncode != 0 or not Path(f"{out}.vcf.gz").exists():
        sys.exit(f"Beagle failed (exit {run.returncode}) with ref={ref} gt={gt}; it said:\n{text.strip()}")
    version = re.search(r"^(beagle\.\S+ \(version [^)]*\))", run.stdout, re.MULTILINE)
    return {"command": " ".join(command), "wall_s": wall, "version": version.group(1) if version else None,
            "warnings": [line for line in text.splitlines() if "warn" in line.lower()]}


def read_imputed(path: Path, keys: dict[str, int], samples: list[str]) -> tuple[np.ndarray, ...]:
    """Beagle's DS and GT ALT count as float32/int8 (V, S) on the cohort's SNPs (NaN/-1 when absent)."""
    import cyvcf2

    from ogan_vcf.io.vcf import _quiet_htslib

    _quiet_htslib()  # Beagle writes no ##contig lines; htslib would warn once per file
    vcf = cyvcf2.VCF(str(path), gts012=True, samples=samples)
    order = [vcf.samples.index(s) for s in samples]
    ds = np.full((len(keys), len(samples)), np.nan, dtype=np.float32)
    gt = np.full((len(keys), len(samples)), -1, dtype=np.int8)
    imputed = np.zeros(len(keys), dtype=bool)
    for v in vcf:
        i = keys.get(f"{v.CHROM}:{v.POS}:{v.REF}:{v.ALT[0]}")
        if i is None:
            continue
        ds[i] = np.array(v.format("DS"))[order, 0]
        calls = np.array(v.gt_types)[order]
        gt[i] = np.where(calls == 3, -1, calls)
        imputed[i] = bool(v.INFO.get("IMP"))
    vcf.close()
    return ds, gt, imputed


# ---------------------------------------------------------------- scores

def haplotype_windows(train, other, populations, width: int = WINDOW) -> dict[str, dict[str, float]]:
    """Per population, over non-overlapping ``width``-SNP windows (means over windows):

    novel: the fraction of ``other``'s haplotypes that no training haplotype of the population carries;
    kept: the fraction of the training haplotypes' distinct window haplotypes found in ``other``.
    Held-out real genomes set the scale for both.
    """
    out = {}
    for pop in populations:
        ref = train.genotypes[:, train.samples.populations == pop]
        new = other.genotypes[:, other.samples.populations == pop]
        if not ref.size or not new.size:
            continue
        ref, new = ref.reshape(len(ref), -1).T, new.reshape(len(new), -1).T  # (haplotypes, V)
        novel, kept = [], []
        for start in range(0, ref.shape[1] - width + 1, width):
            seen = set(map(bytes, ref[:, start:start + width]))
            window = [bytes(h) for h in new[:, start:start + width]]
            novel.append(np.mean([h not in seen for h in window]))
            kept.append(len(seen & set(window)) / len(seen))
        out[pop] = {"novel": float(np.mean(novel)), "kept": float(np.mean(kept))}
    return out


def maf_by_population(full) -> dict[str, np.ndarray]:
    """Per population: the minor allele frequency of each SNP in the full cohort, float64 (V,)."""
    out = {}
    for pop in sorted(full.samples.population_counts()):
        g = full.genotypes[:, full.samples.populations == pop]
        af = g.mean(axis=(1, 2), dtype=np.float64)
        out[pop] = np.minimum(af, 1 - af)
    return out


def per_target_sums(truth: np.ndarray, ds: np.ndarray) -> np.ndarray:
    """Per target: n, sum x, sum y, sum x^2, sum y^2, sum xy over the rows given; (S, 6)."""
    x, y = truth.astype(np.float64), ds.astype(np.float64)
    return np.stack([np.full(x.shape[1], x.shape[0], np.float64), x.sum(0), y.sum(0), (x * x).sum(0),
                     (y * y).sum(0), (x * y).sum(0)], axis=1)


def r2_from_sums(s: np.ndarray) -> np.ndarray:
    n, sx, sy, sxx, syy, sxy = np.moveaxis(s, -1, 0)
    cov = sxy - sx * sy / n
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((vx > 0) & (vy > 0), cov * cov / (vx * vy), np.nan)


def score(truth: np.ndarray, imputed: dict[str, tuple[np.ndarray, np.ndarray]], rows: np.ndarray,
          rng: np.random.Generator) -> dict:
    """Aggregate r^2 and GT concordance per panel over ``rows``, and b - a with a bootstrap CI."""
    result = {"n_snps": int(rows.sum())}
    if not rows.any():
        return result
    x = truth[rows]
    sums = {}
    for panel, (ds, gt) in imputed.items():
        sums[panel] = per_target_sums(x, ds[rows])
        result[panel] = {"r2": float(r2_from_sums(sums[panel].sum(0))),
                         "concordance": float(np.mean(gt[rows] == x))}
    if "a" in sums and "b" in sums:
        n_t = x.shape[1]
        weights = rng.multinomial(n_t, np.full(n_t, 1 / n_t), size=N_BOOT).astype(np.float64)
        delta = r2_from_sums(weights @ sums["b"]) - r2_from_sums(weights @ sums["a"])
        lo, hi = np.nanpercentile(delta, [2.5, 97.5])
        result["b_minus_a"] = {"r2": result["b"]["r2"] - result["a"]["r2"], "ci95": [float(lo), float(hi)]}
    return result


# ---------------------------------------------------------------- the run

def build_panels(train, full, target_ids: list[str], models: dict, vcf_dir: Path,
                 minorities: list[str]) -> tuple[dict, dict]:
    """Reference VCFs a, b, c, s, d_* and what each holds: ({key: path}, {key: info})."""
    in_targets = np.isin(full.samples.ids, target_ids)
    if in_targets.sum() != len(target_ids):
        sys.exit(f"{full.path}: does not hold every target genome (is it the full cohort of this study?)")
    rest = full.take_samples(np.flatnonzero(~in_targets))
    refs = {"a": write_vcf(vcf_dir / "a_train.vcf.gz", train),
            "c": write_vcf(vcf_dir / "c_full_minus_targets.vcf.gz", rest)}
    info = {"a": {"name": "train", "n_ref": train.n_samples},
            "c": {"name": "full - targets", "n_ref": int((~in_targets).sum())}}
    for i, (name, (path, panel)) in enumerate(models.items()):
        synth, changed = on_training_sites(train, load(path, panel), str(path))
        # a VCF is used exactly as ogan wrote it, unless its sites had to be aligned to training's;
        # a cohort .h5 goes through ogan's own writer
        keep = path.suffix not in (".h5", ".bed") and not changed
        synth_vcf = path if keep else write_vcf(vcf_dir / f"synthetic_{name}.vcf.gz", synth)
        key = "b" if i == 0 else f"d_{name}"
        refs[key] = merge(vcf_dir / f"{key}_train+{name}.vcf.gz", refs["a"], synth_vcf)
        info[key] = {"name": f"train + {name}", "n_ref": train.n_samples + synth.n_samples,
                     "synthetic": str(path), "synthetic_counts": synth.samples.population_counts(),
                     "haplotype_windows": haplotype_windows(train, synth, minorities)}
        if i == 0 or name == "hybridizer":
            alone = "s" if i == 0 else "h"
            refs[alone] = synth_vcf
            info[alone] = {"name": f"{name} only", "n_ref": synth.n_samples, "synthetic": str(path)}
    order = [k for k in ("a", "b", "c", "s", "h") if k in refs] + sorted(k for k in refs if k.startswith("d_"))
    return {k: refs[k] for k in order}, {k: info[k] for k in order}


def impute_all(refs: dict, info: dict, gt_vcf: Path, full, target_ids: list[str], masked: np.ndarray,
               beagle_dir: Path, *, nthreads: int, seed: int, genetic_map: Path | None = None
               ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Beagle with each panel; {key: (DS, GT ALT count)}, both (V, T) on the full cohort's SNPs."""
    from ogan_vcf.reporting.sites import site_keys

    keys = {k: i for i, k in enumerate(site_keys(full))}  # full is on training's sites and alleles
    imputed = {}
    for key, ref in refs.items():
        print(f"beagle: panel {key} ({info[key]['name']}, {info[key]['n_ref']} genomes)", file=sys.stderr,
              flush=True)
        info[key] |= beagle(ref, gt_vcf, beagle_dir / key, nthreads=nthreads, seed=seed, genetic_map=genetic_map)
        info[key]["ref"] = str(ref)
        ds, gt, imp = read_imputed(beagle_dir / f"{key}.vcf.gz", keys, target_ids)
        present = ~np.isnan(ds[:, 0])
        if np.any(masked & ~present):
            sys.exit(f"Beagle output {beagle_dir / key}.vcf.gz lacks {np.sum(masked & ~present)} masked SNPs")
        info[key]["markers_out"] = int(present.sum())
        info[key]["masked_without_IMP"] = int(np.sum(masked & ~imp))
        imputed[key] = (ds, gt)
    return imputed


def score_all(truth: np.ndarray, imputed: dict, targets: dict[str, np.ndarray], maf: dict[str, np.ndarray],
              masked: np.ndarray, seed: int) -> dict:
    """{population: {MAF bin: score()}}; columns of ``truth`` and ``imputed`` follow ``targets``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    scores, start = {}, 0
    for pop, idx in targets.items():
        cols = slice(start, start + len(idx))
        start += len(idx)
        per = {k: (ds[:, cols], gt[:, cols]) for k, (ds, gt) in imputed.items()}
        m = maf[pop]
        bins = {f"[{lo}, {hi}{']' if hi == 0.5 else ')'}": (m >= lo) & ((m < hi) | (hi == 0.5))
                for lo, hi in BINS}
        bins["all >= 0.01"] = m >= BINS[0][0]
        scores[pop] = {b: score(truth[:, cols], per, masked & rows, rng) for b, rows in bins.items()}
    return scores


def run(paths: dict[str, Path], *, synthetic_panel: Path | None, n_targets: int, keep_every: int, out: Path,
        seed: int, beagle_seed: int, nthreads: int, panels: str = "a,b,c,s,h,d", genetic_map: Path | None = None
        ) -> dict:
    """Choose and mask the targets, build the panels, impute with each, score; writes imputation.json."""
    vcf_dir, beagle_dir = out / "vcf", out / "beagle"
    vcf_dir.mkdir(parents=True, exist_ok=True)
    beagle_dir.mkdir(parents=True, exist_ok=True)
    train = load(paths["train"])
    full, _ = on_training_sites(train, load(paths["full"]), str(paths["full"]))
    heldout, _ = on_training_sites(train, load(paths["heldout"]), str(paths["heldout"]))

    targets = choose_targets(heldout, n_targets, seed)
    index = np.concatenate(list(targets.values()))
    target_ids = [str(s) for s in heldout.samples.ids[index]]
    truth = heldout.genotypes[:, index].sum(axis=2).astype(np.int8)  # (V, T) ALT dosage
    gt_vcf = write_vcf(vcf_dir / "targets.vcf.gz", masked_targets(heldout, index, keep_every))
    refs, info = build_panels(train, full, target_ids, synthetic_models(paths["synthetic"], synthetic_panel),
                              vcf_dir, list(targets))
    wanted = panels.split(",")
    refs = {k: v for k, v in refs.items() if k.split("_")[0] in wanted}
    info = {k: info[k] for k in refs}
    masked = np.arange(full.n_variants) % keep_every != 0
    imputed = impute_all(refs, info, gt_vcf, full, target_ids, masked, beagle_dir, nthreads=nthreads,
                         seed=beagle_seed, genetic_map=genetic_map)
    result = {
        "inputs": {k: str(v) for k, v in paths.items()}, "seed": seed, "beagle_seed": beagle_seed,
        "keep_every": keep_every,
        "n_snps": int(full.n_variants), "n_typed": int((~masked).sum()), "n_masked": int(masked.sum()),
        "targets": {p: [str(s) for s in heldout.samples.ids[i]] for p, i in targets.items()},
        "heldout_haplotype_windows": haplotype_windows(train, heldout, list(targets)),
        "panels": info, "scores": score_all(truth, imputed, targets, maf_by_population(full), masked, seed),
        "genetic_map": str(genetic_map) if genetic_map else None,
        "note": ("Beagle map=" + str(genetic_map) if genetic_map else "no genetic map: Beagle assumes 1 cM = 1 Mb")
                + "; r2 is aggregate dosage r^2 over masked SNPs",
    }
    (out / "imputation.json").write_text(json.dumps(result, indent=1))
    return result


def table(result: dict) -> str:
    """The score table, the panel table (Beagle wall time) and the haplotype-window table."""
    panels = result["panels"]
    head = ["population", "MAF bin", "SNPs", *(f"{k} {p['name']}" for k, p in panels.items()),
            "b - a [95% CI]"]
    rows = [" | ".join(head), " | ".join("---" for _ in head)]
    for pop, bins in result["scores"].items():
        for name, s in bins.items():
            cells = [pop, name, str(s["n_snps"])]
            for k in panels:
                cells.append(f"{s[k]['r2']:.3f} ({s[k]['concordance']:.3f})" if k in s else "-")
            d = s.get("b_minus_a")
            cells.append(f"{d['r2']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]" if d else "-")
            rows.append(" | ".join(cells))
    rows.append("cells: aggregate dosage r^2 (GT concordance) over masked SNPs of the targets")
    rows += ["", "panel | reference genomes | Beagle wall s", "--- | --- | ---"]
    rows += [f"{k} {p['name']} | {p['n_ref']} | {p['wall_s']:.1f}" for k, p in panels.items()]
    rows += ["", *window_table(result)]
    n_targets = {p: len(ids) for p, ids in result["targets"].items()}
    rows.append(f"targets {n_targets}; typed {result['n_typed']} of {result['n_snps']} SNPs; "
                f"seed {result['seed']}, Beagle seed {result['beagle_seed']}")
    return "\n".join(rows)


def window_table(result: dict) -> list[str]:
    pops = list(result["targets"])
    rows = [f"{WINDOW}-SNP haplotype windows vs the population's training haplotypes: novel = share of the "
            "genomes' window haplotypes absent from training; kept = share of training's found in them",
            " | ".join(["genomes", *(f"novel {p}" for p in pops), *(f"kept {p}" for p in pops)]),
            " | ".join("---" for _ in range(2 * len(pops) + 1))]
    sets = {"held-out real": result["heldout_haplotype_windows"]}
    sets |= {p["name"].removeprefix("train + "): p["haplotype_windows"] for p in result["panels"].values()
             if "haplotype_windows" in p}
    for name, stats in sets.items():
        cells = [f"{stats[p][k]:.4f}" if p in stats else "-" for k in ("novel", "kept") for p in pops]
        rows.append(" | ".join([name, *cells]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, help="a study directory written by `ogan pipeline`")
    parser.add_argument("--full", type=Path, help="the full real cohort [STUDY/cohort.h5]")
    parser.add_argument("--train", type=Path, help="the biased training cohort [STUDY/train.h5]")
    parser.add_argument("--heldout", type=Path, help="the held-out minority genomes [STUDY/heldout.h5]")
    parser.add_argument("--synthetic", type=Path, help="synthetic genomes, VCF or .h5 "
                        "[STUDY/synthetic/offspring.vcf.gz]; ppo/pgcgan files beside it are panels d")
    parser.add_argument("--synthetic-panel", type=Path, help="its panel [beside it]")
    parser.add_argument("--targets", type=int, default=100, help="target genomes per minority population")
    parser.add_argument("--keep-every", type=int, default=10,
                        help="targets keep every Nth SNP; the rest is masked")
    parser.add_argument("--panels", default="a,b,c,s,h,d", help="which panels to impute with")
    parser.add_argument("--nthreads", type=int, default=2)
    parser.add_argument("--map", type=Path, help="PLINK-format genetic map for Beagle's map= (default: none, "
                        "Beagle assumes 1 cM = 1 Mb)")
    parser.add_argument("--seed", type=int, default=1, help="chooses the targets; Beagle's seed by default")
    parser.add_argument("--beagle-seed", type=int, default=None, help="Beagle's seed= [--seed]")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "imputation")
    args = parser.parse_args()
    paths = resolve_inputs(args)
    print(table(run(paths, synthetic_panel=args.synthetic_panel, n_targets=args.targets,
                    keep_every=args.keep_every, out=args.out, seed=args.seed,
                    beagle_seed=args.seed if args.beagle_seed is None else args.beagle_seed,
                    nthreads=args.nthreads, panels=args.panels, genetic_map=args.map)))


if __name__ == "__main__":
    main()
