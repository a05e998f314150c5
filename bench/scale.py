"""The whole-chromosome benchmark (issue 13): a 30 Mb, 150k-SNP, 2,500-person study on 2 cores.

Simulates (msprime, seeded, written under --out, never committed) two contigs of --contig-mb each
with bench/second_cohort.py's 5-population demography (AFR, EUR, EAS, SAS, AMR; 500 people each)
and a variable recombination map (regional rates times a gamma(2) factor per ~500 kb, plus 2 kb
hotspots carrying 60% of it; 1 cM per Mb on average), keeps biallelic SNPs with MAC >= 5 and
writes cohort.vcf.gz (+ .tbi), cohort.panel and cohort.map (PLINK .map at every SNP). Then,
each stage measured as a subprocess (wall time and peak RSS summed over its process tree, Dask
workers included, sampled every 0.2 s):

  ingest    ogan ingest of the whole VCF
  study     ogan pipeline --keep EAS=0.2,AFR=0.2,SAS=0.2 --model offspring --preset cpu --map
            --workers W (W = the largest of --workers-list): end to end, and per step (the step
            its log says is running); again with each of --study-workers if given
  speedup   ogan train alone on --speedup-region (biased like the study, --speedup-window-snps) with
            each W of --workers-list
  generate  ogan generate of the study's model, --n 500, to .vcf.gz and .h5; bgzip -@1 of the
            same VCF text (the floor for VCF output); HAPNEST's published rate beside them
  window    the same study on one 3 Mb window (--window-region, --window-snps set to its SNP count)
  quality   per minority population: MAF r, LD r (within windows / across junctions), LD breaks
            per Mb, exact copies, DCR ratio, and the distance to the single-window study

Measured commands are pinned to --cores CPUs (default 2, the issue's machine) where there are more.
Prints one markdown table and writes scale.json under --out (results of earlier runs are kept, so
stages can run one at a time). How to run it and what it measured: docs/scale.md.

    python bench/scale.py [--stages sim,ingest,study,speedup,generate,window,quality] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "example_data")]
from second_cohort import POPS, demography  # noqa: E402  (the 5-population demography)

STAGES = ("sim", "ingest", "study", "speedup", "generate", "window", "quality")
KEEP = "EAS=0.2,AFR=0.2,SAS=0.2"
MINORITY = ("EAS", "AFR", "SAS")
# HAPNEST (published): 1,000,000 people x 6.8M variants in < 12 h on 8 threads, in genotypes/s per thread
HAPNEST = 1_000_000 * 6_800_000 / (12 * 3600) / 8
GIB = 1 << 30
CORES = 2  # the issue's machine: measured commands are pinned to 2 CPUs where there are more
STEP = r"pipeline: (.+?): (?:running|resuming)"  # the pipeline's log line as a step starts


# --- simulation ------------------------------------------------------------------------------------

def recombination_map(rng: np.random.Generator, length: int, *, mean: float = 1e-8, hot_frac: float = 0.6,
                      hot_spacing: int = 50_000, hot_width: int = 2_000, segment: int = 500_000):
    """A msprime.RateMap averaging ``mean``: regional rates x gamma(2, 0.5) per ~``segment`` bp,
    plus ``hot_width`` hotspots (one per ``hot_spacing`` bp, exponential weights) carrying ``hot_frac``."""
    import msprime

    cuts = np.sort(rng.uniform(0, length, max(0, round(length / segment) - 1))).astype(np.int64)
    regions = np.unique(np.concatenate([[0], cuts, [length]]))
    regional = rng.gamma(2.0, 0.5, len(regions) - 1)
    starts = np.sort(rng.uniform(0, length - hot_width, length // hot_spacing)).astype(np.int64)
    starts = starts[np.concatenate([[True], np.diff(starts) > hot_width])]  # no overlapping hotspots
    weight = rng.exponential(size=len(starts))
    edges = np.unique(np.concatenate([regions, starts, starts + hot_width]))
    mid, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    background = regional[np.searchsorted(regions, mid, side="right") - 1]
    h = np.searchsorted(starts, mid, side="right") - 1
    hot = np.where((h >= 0) & (mid < starts[np.maximum(h, 0)] + hot_width), weight[np.maximum(h, 0)], 0.0)
    total = mean * length
    rate = ((1 - hot_frac) * total * background / np.sum(background * width)
            + hot_frac * total * hot / np.sum(hot * width))
    return msprime.RateMap(position=edges, rate=rate)


def scale_demography():
    """bench/second_cohort.py's demography with EUR active from time 0: as the ancestral population
    of the SAS split, msprime leaves it inactive until generation 500 unless told, and a lineage
    migrating into it then stops the simulation ("Attempt to move a lineage into an inactive
    population"; seed-dependent)."""
    d = demography()
    d["EUR"].initially_active = True
    return d


def _seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1)[0]) % (2**31 - 2) + 1


def simulate_contig(length: int, sizes: dict[str, int], seed: np.random.SeedSequence, *, mu: float,
                    min_mac: int):
    """One contig: (haplotypes int8 (V, 2n), 0-based positions (V,), RateMap, facts dict)."""
    import msprime
    from make_example import derived_counts  # per-site derived allele counts from the trees

    map_ss, anc_ss, mut_ss = seed.spawn(3)
    rate_map = recombination_map(np.random.default_rng(map_ss), length)
    t0 = time.perf_counter()
    ts = msprime.sim_ancestry(sizes, demography=scale_demography(), sequence_length=length,
                              recombination_rate=rate_map, random_seed=_seed(anc_ss))
    t1 = time.perf_counter()
    ts = msprime.sim_mutations(ts, rate=mu, model=msprime.BinaryMutationModel(), random_seed=_seed(mut_ss))
    t2 = time.perf_counter()
    one_hit = np.bincount(ts.tables.mutations.site, minlength=ts.num_sites) == 1
    derived = derived_counts(ts)
    keep = one_hit & (np.minimum(derived, ts.num_samples - derived) >= min_mac)
    sub = ts.delete_sites(np.flatnonzero(~keep))
    hap = np.empty((sub.num_sites, sub.num_samples), dtype=np.int8)
    for var in sub.variants(copy=False):
        hap[var.site.id] = var.genotypes
    position = sub.tables.sites.position.astype(np.int64)
    facts = {"trees": ts.num_trees, "sites": ts.num_sites, "snps": len(position),
             "cM": rate_map.total_mass * 100, "ancestry_s": t1 - t0, "mutations_s": t2 - t1,
             "select_s": time.perf_counter() - t2}
    return hap, position, rate_map, facts


def simulate(out: Path, seed: int, contig_mb: float = 15, n_people: int = 2500, *, mu: float = 1.25e-8,
             min_mac: int = 5, force: bool = False) -> dict:
    """Write cohort.vcf.gz (+ .tbi), cohort.panel and cohort.map under ``out``; return the facts.

    Skipped when simulation.json beside them records the same parameters (``force`` redoes it).
    """
    from ogan_vcf.cohort import Cohort, Samples
    from ogan_vcf.io import write_output

    params = {"seed": seed, "contig_mb": contig_mb, "n_people": n_people, "mu": mu, "min_mac": min_mac,
              "demography": "bench/second_cohort.py, EUR initially active",
              "map": "regional gamma(2) x 500 kb + 60% in 2 kb hotspots"}
    record = out / "simulation.json"
    files = [out / f for f in ("cohort.vcf.gz", "cohort.vcf.gz.tbi", "cohort.panel", "cohort.map")]
    if not force and record.exists() and all(f.exists() for f in files):
        cached = json.loads(record.read_text())
        if cached.get("params") == params:
            return {**cached, "cached": True}
    t0 = time.perf_counter()
    sizes = {p: n_people // len(POPS) + (i < n_people % len(POPS)) for i, p in enumerate(POPS)}
    length = int(round(contig_mb * 1e6))
    rng = np.random.default_rng(seed)
    contigs, haps, positions, maps, facts = ["1", "2"], [], [], [], {}
    for name, ss in zip(contigs, np.random.SeedSequence(seed).spawn(2)):
        hap, position, rate_map, facts[name] = simulate_contig(length, sizes, ss, mu=mu, min_mac=min_mac)
        haps.append(hap), positions.append(position), maps.append(rate_map)
        f = facts[name]
        print(f"contig {name}: {f['snps']} SNPs at MAC >= {min_mac} (of {f['sites']} sites), "
              f"{f['cM']:.1f} cM, {f['ancestry_s'] + f['mutations_s']:.0f} s")
    hap = np.concatenate(haps)
    n_snps, n = hap.shape[0], hap.shape[1] // 2
    contig = np.repeat(np.arange(2, dtype=np.int32), [len(p) for p in positions])
    pos1 = np.concatenate(positions) + 1  # VCF is 1-based
    pops = np.repeat(np.array(POPS, dtype=object), [sizes[p] for p in POPS])
    ids = np.array([f"{p}{i + 1:04d}" for i, p in enumerate(pops)], dtype=object)
    gender = rng.choice(np.array(["male", "female"], dtype=object), size=n)
    bases = np.array(list("ACGT"), dtype=object)
    ref = rng.integers(4, size=n_snps)
    alleles = np.stack([bases[ref], bases[(ref + rng.integers(1, 4, size=n_snps)) % 4]], axis=1)
    panel = {"pop": pops.copy(), "super_pop": pops.copy(), "gender": gender}
    samples = Samples(ids, pops, panel, "super_pop")
    names = np.array(contigs, dtype=object)[contig]
    cohort = Cohort(contigs, [length, length], contig, pos1,
                    np.array([f"{c}:{p}" for c, p in zip(names, pos1)], dtype=object), alleles,
                    np.ascontiguousarray(hap.reshape(n_snps, n, 2)), np.ones((n_snps, n), dtype=bool),
                    samples,
                    [{"command": "bench/scale.py simulate", "parameters": params}], "scale")
    del hap, haps
    out.mkdir(parents=True, exist_ok=True)
    t1 = time.perf_counter()
    write_output(out / "cohort.vcf.gz", cohort)
    cm = np.concatenate([m.get_cumulative_mass(p) * 100 for m, p in zip(maps, positions)])
    rows = (f"{c}\t{c}:{p}\t{x:.6f}\t{p}\n" for c, p, x in zip(names, pos1, cm))
    (out / "cohort.map").write_text("".join(rows))
    result = {"params": params, "contigs": facts, "snps": int(n_snps),
              "people": {p: int(sizes[p]) for p in POPS},
              "map_cM": float(sum(f["cM"] for f in facts.values())), "write_s": time.perf_counter() - t1,
              "seconds": time.perf_counter() - t0, "files": [str(f) for f in files]}
    record.write_text(json.dumps(result, indent=1))
    return {**result, "cached": False}


# --- measuring ---------------------------------------------------------------------------------------

def tree_rss(pid: int) -> tuple[int, int]:
    """(RSS bytes summed over ``pid`` and all its descendants, number of processes); shared pages
    count once per process, so this is an upper bound on the memory the tree holds."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total, len(procs)


def measure(cmd: list, log_path: Path, *, step_pattern: str | None = None, interval: float = 0.2,
            cores: int | None = None) -> dict:
    """Run ``cmd``, its stdout and stderr into ``log_path``: {seconds, peak_rss_gib, rc, max_processes}.

    ``cores`` (default CORES, --cores): pin the command (and so its children) to the first ``cores``
    CPUs where the machine has more; 0 does not pin. The load average at the start is recorded
    (other jobs on the machine slow it down).

    With ``step_pattern`` (a regex whose group 1 names a step), each log line that matches starts a
    new step, and the result has ``steps``: {name: {seconds, peak_rss_gib}} in the order they ran.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cores = CORES if cores is None else cores
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "160"}
    state = {"peak": 0, "procs": 0, "step": None, "steps": {}}
    lock = threading.Lock()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(map(str, cmd)) + "\n")
        log.flush()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, env=env, preexec_fn=_pin(cores))

        def sample():
            while proc.poll() is None:
                rss, n = tree_rss(proc.pid)
                with lock:
                    state["peak"], state["procs"] = max(state["peak"], rss), max(state["procs"], n)
                    if state["step"] is not None:
                        step = state["steps"][state["step"]]
                        step["peak"] = max(step["peak"], rss)
                time.sleep(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for line in proc.stdout:
            log.write(line)
            found = re.search(step_pattern, line) if step_pattern else None
            if found:
                with lock:
                    now = time.perf_counter() - start
                    if state["step"] is not None:
                        state["steps"][state["step"]]["end"] = now
                    state["step"] = found.group(1)
                    state["steps"][state["step"]] = {"start": now, "end": None, "peak": 0}
        rc = proc.wait()
        sampler.join()
    seconds = time.perf_counter() - start
    result = {"cmd": " ".join(map(str, cmd)), "seconds": seconds, "peak_rss_gib": state["peak"] / GIB,
              "rc": rc, "max_processes": state["procs"], "log": str(log_path), "cores": cores,
              "load_avg_start": load}
    if step_pattern:
        result["steps"] = {name: {"seconds": (s["end"] if s["end"] is not None else seconds) - s["start"],
                                  "peak_rss_gib": s["peak"] / GIB} for name, s in state["steps"].items()}
    status = "ok" if rc == 0 else f"FAILED rc={rc}, see {log_path}"
    print(f"  {Path(str(cmd[0])).name} {cmd[1]}: {seconds:.1f} s, "
          f"peak RSS {state['peak'] / GIB:.2f} GiB ({status})")
    return result


def _pin(cores: int | None):
    if not cores or cores >= (os.cpu_count() or 1):
        return None
    return lambda: os.sched_setaffinity(0, range(cores))


def ogan() -> str:
    here = Path(sys.executable).parent / "ogan"
    return str(here) if here.exists() else shutil.which("ogan") or "ogan"


def has_option(command: str, option: str) -> bool:
    help_text = subprocess.run([ogan(), command, "--help"], capture_output=True, text=True,
                               env={**os.environ, "COLUMNS": "200"}).stdout
    return re.search(rf"{re.escape(option)}\b", help_text) is not None


def require_workers(*commands: str) -> None:
    missing = [c for c in commands if not has_option(c, "--workers")]
    if missing:
        sys.exit(f"scale.py: `ogan {'/'.join(missing)}` has no --workers option yet (the windowed commands); "
                 "this stage needs it")


def n_variants(path: Path) -> int:
    from ogan_vcf.cohort import CohortFile

    with CohortFile(path) as f:
        return f.n_variants


def check(result: dict) -> dict:
    if result["rc"] != 0:
        sys.exit(f"scale.py: `{result['cmd']}` failed (rc {result['rc']}); its log: {result['log']}")
    return result


# --- stages -----------------------------------------------------------------------------------------

def stage_ingest(args, data: Path) -> dict:
    out = args.out / "ingest" / "cohort.h5"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    r = check(measure([ogan(), "ingest", data / "cohort.vcf.gz", "-p", data / "cohort.panel", "-o", out,
                       "--no-progress"], args.out / "logs" / "ingest.log"))
    return {**r, "snps": n_variants(out)}


def pipeline_cmd(args, data: Path, source: Path, study: Path, workers: int, *extra) -> list:
    """The issue's study: ``ogan pipeline`` biased as the paper does, offspring model, cpu preset, --map."""
    return [ogan(), "pipeline", source, "--keep", KEEP, "--model", "offspring", "--preset", "cpu",
            "--seed", "1", "--map", data / "cohort.map", "--workers", workers, *extra, "-o", study,
            "--no-progress", *_epochs(args), *(["--no-baselines"] if args.no_baselines else [])]


def _epochs(args) -> list[str]:
    return ((["--epochs", str(args.epochs)] if args.epochs else [])
            + (["--steps-per-epoch", str(args.steps_per_epoch)] if args.steps_per_epoch else []))


def stage_study(args, data: Path) -> dict:
    """The study with the most workers of --workers-list into OUT/study (the one the later stages
    use), then, with --study-workers, end to end again with each other count into OUT/study_wN."""
    require_workers("pipeline")
    most = max(args.workers_list)
    result = run_study(args, data, args.out / "study", most)
    others = sorted(set(args.study_workers or []) - {most})
    if others:
        result["other_workers"] = {str(w): run_study(args, data, args.out / f"study_w{w}", w) for w in others}
    return result


def run_study(args, data: Path, study: Path, workers: int) -> dict:
    shutil.rmtree(study, ignore_errors=True)  # a fresh study: the pipeline would skip finished steps
    cmd = pipeline_cmd(args, data, data / "cohort.vcf.gz", study, workers, "--panel", data / "cohort.panel")
    r = check(measure(cmd, args.out / "logs" / f"{study.name}.log", step_pattern=STEP))
    manifest = json.loads((study / "pipeline.json").read_text())["steps"]
    for name, step in r["steps"].items():  # the pipeline's own step timer where it has one
        step["seconds"] = manifest.get(name, {}).get("seconds", step["seconds"])
    snps = n_variants(study / "train.h5")
    train_s = r["steps"].get("train offspring", {}).get("seconds")
    return {**r, "workers": workers, "snps": snps,
            "train_s_per_10k_snps": train_s / (snps / 1e4) if train_s else None}


def stage_speedup(args, data: Path) -> dict:
    require_workers("train")
    base = args.out / "speedup"
    base.mkdir(parents=True, exist_ok=True)
    if args.speedup_region == "all":
        train_h5 = args.out / "study" / "train.h5"
        if not train_h5.exists():
            sys.exit(f"scale.py: {train_h5} missing: run the study stage first, or give --speedup-region")
    else:
        region_h5, train_h5 = base / "region.h5", base / "train.h5"
        for p in (region_h5, train_h5, base / "train.heldout.h5"):
            p.unlink(missing_ok=True)
        check(measure([ogan(), "ingest", data / "cohort.vcf.gz", "-p", data / "cohort.panel", "--region",
                       args.speedup_region, "-o", region_h5, "--no-progress"],
                      args.out / "logs" / "speedup_ingest.log"))
        check(measure([ogan(), "bias", region_h5, "--keep", KEEP, "--seed", "1", "-o", train_h5,
                       "--no-progress"], args.out / "logs" / "speedup_bias.log"))
    snps, runs = n_variants(train_h5), {}
    window = ["--window-snps", args.speedup_window_snps] if args.speedup_window_snps else []
    for w in args.workers_list:
        model = base / f"model_w{w}"
        shutil.rmtree(model, ignore_errors=True)
        r = check(measure([ogan(), "train", train_h5, "-o", model, "--preset", "cpu", "--seed", "1", "--map",
                           data / "cohort.map", "--workers", w, "--no-progress", *_epochs(args),
                           *window],
                          args.out / "logs" / f"train_w{w}.log"))
        runs[str(w)] = {**r, "s_per_10k_snps": r["seconds"] / (snps / 1e4)}
    one, most = runs.get(str(min(args.workers_list))), runs[str(max(args.workers_list))]
    return {"region": args.speedup_region, "snps": snps, "window_snps": args.speedup_window_snps,
            "runs": runs,
            "speedup": one["seconds"] / most["seconds"] if one and most is not one else None}


def stage_generate(args, data: Path) -> dict:
    from ogan_vcf.io import panel_path_for

    require_workers("generate")
    model, base = args.out / "study" / "models" / "offspring", args.out / "generate"
    workers = max(args.workers_list)
    if not (model / "config.json").exists():
        sys.exit(f"scale.py: {model} missing: run the study stage first")
    base.mkdir(parents=True, exist_ok=True)
    snps = n_variants(args.out / "study" / "train.h5")
    result = {"workers": workers, "snps": snps, "n_per_population": args.generate_n}
    for kind in ("vcf.gz", "h5"):
        target = base / f"synthetic.{kind}"
        r = check(measure([ogan(), "generate", model, "-o", target, "--n", args.generate_n, "--seed", "1",
                           "--workers", workers, "--no-progress"],
                          args.out / "logs" / f"generate_{kind}.log"))
        people = (len(panel_path_for(target).read_text().splitlines()) - 1 if kind == "vcf.gz"
                  else len(_samples(target)))
        result[kind] = {**r, "people": people,
                        "genotypes_per_s_per_core": people * snps / r["seconds"] / workers}
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        text = Path(tmp) / "synthetic.vcf"
        with open(text, "wb") as fh:
            subprocess.run(["bgzip", "-dc", base / "synthetic.vcf.gz"], stdout=fh, check=True)
        r = check(measure(["bgzip", "-@1", "-f", "-k", text], args.out / "logs" / "bgzip.log"))
        result["bgzip"] = {**r, "text_gib": text.stat().st_size / GIB,
                           "genotypes_per_s_per_core": result["vcf.gz"]["people"] * snps / r["seconds"]}
    rate = result["vcf.gz"]["genotypes_per_s_per_core"]
    result["vs_bgzip"] = rate / result["bgzip"]["genotypes_per_s_per_core"]
    result["vs_hapnest"] = rate / HAPNEST
    return result


def _samples(path: Path):
    from ogan_vcf.cohort import CohortFile

    with CohortFile(path) as f:
        return f.samples.ids


def stage_window(args, data: Path) -> dict:
    require_workers("pipeline")
    base = args.out / "window"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    window_h5 = base / "window.h5"
    check(measure([ogan(), "ingest", data / "cohort.vcf.gz", "-p", data / "cohort.panel", "--region",
                   args.window_region, "-o", window_h5, "--no-progress"],
                  args.out / "logs" / "window_ingest.log"))
    snps = n_variants(window_h5)
    one_window = ["--window-snps", str(snps)] if has_option("pipeline", "--window-snps") else []
    r = check(measure(pipeline_cmd(args, data, window_h5, base / "study", 1, *one_window),
                      args.out / "logs" / "window.log", step_pattern=STEP))
    return {**r, "region": args.window_region, "snps": snps, "single_window": bool(one_window)}


def population_quality(metrics_path: Path) -> dict:
    """{pop: fidelity and privacy figures} of the minority populations from one report's metrics.json."""
    metrics = json.loads(metrics_path.read_text())
    audit = (metrics.get("privacy") or {}).get("per_population") or {}
    junctions = (metrics.get("junctions") or {}).get("per_population") or {}  # windowed cohorts only
    out = {}
    for pop in MINORITY:
        p, a = metrics["per_population"].get(pop, {}), audit.get(pop) or {}
        j = {**p, **(junctions.get(pop) or {})}  # ld_r_within, ld_r_junction, ld_breaks_per_mb_junction ...
        copies = a.get("exact_copy_fraction")
        out[pop] = {"maf_r": p.get("maf_r"), "ld_r": p.get("ld_r"), "ld_r_within": j.get("ld_r_within"),
                    "ld_r_junction": j.get("ld_r_junction"), "ld_junction_ratio": j.get("ld_junction_ratio"),
                    "ld_r_midpoint": j.get("ld_r_midpoint"),
                    "ld_junction_ratio_matched": j.get("ld_junction_ratio_matched"),
                    "ld_breaks_per_mb": p.get("ld_breaks_per_mb"),
                    "ld_breaks_per_mb_inside": j.get("ld_breaks_per_mb_inside"),
                    "ld_breaks_per_mb_junction": j.get("ld_breaks_per_mb_junction"),
                    "exact_copy_fraction": copies, "exact_copies": round(copies * a["n_synthetic"])
                    if copies is not None and a.get("n_synthetic") is not None else None,
                    "dcr_ratio": a.get("dcr_ratio")}
    out["windows"] = (metrics.get("junctions") or {}).get("windows")
    return out


def stage_quality(args, _data: Path) -> dict:
    found = {}
    for name, path in (("study", args.out / "study"), ("window", args.out / "window" / "study")):
        metrics = path / "reports" / "offspring" / "metrics.json"
        if metrics.exists():
            found[name] = population_quality(metrics)
    if "study" not in found:
        missing = args.out / "study" / "reports" / "offspring" / "metrics.json"
        sys.exit(f"scale.py: no {missing}: run the study stage")
    window = args.out / "window" / "study"
    synthetic = args.out / "study" / "synthetic" / "offspring.vcf.gz"
    if "window" in found and synthetic.exists():  # like for like: the study's synthetic on the window's SNPs
        base = args.out / "window" / "study_region"
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        check(measure([ogan(), "ingest", synthetic, "-p", synthetic.with_name("offspring.panel"), "--region",
                       args.window_region, "-o", base / "synthetic.h5", "--no-progress"],
                      args.out / "logs" / "region_ingest.log"))
        check(measure([ogan(), "report", window / "cohort.h5", base / "synthetic.h5", "--train", window / "train.h5",
                       "-o", base / "report", "--seed", "1", "--no-progress"], args.out / "logs" / "region_report.log"))
        found["study_region"] = population_quality(base / "report" / "metrics.json")
    return found


# --- summary ----------------------------------------------------------------------------------------

def _f(x, spec: str = ".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def musts(res: dict) -> dict:
    """The issue's musts: {name: True/False/None (not measured)}."""
    study, quality = res.get("study"), res.get("quality", {})
    out = {"study <= 60 min on 2 cores": study and study["seconds"] <= 3600,
           "study peak RSS <= 6 GiB": study and study["peak_rss_gib"] <= 6}
    for pop in MINORITY:
        q = quality.get("study", {}).get(pop)
        if not q:
            continue
        within, junction = q.get("ld_r_within"), q.get("ld_r_junction")
        out[f"{pop} junction LD r >= 0.8 x within"] = (junction >= 0.8 * within
                                                       if None not in (within, junction) else None)
        ref = quality.get("window", {}).get(pop)
        same = quality.get("study_region", {}).get(pop) or q  # the study on the window's own SNPs, if scored
        for key in ("maf_r", "ld_r"):
            out[f"{pop} {key} within 0.02 of one 3 Mb window (same SNPs)"] = (
                abs(same[key] - ref[key]) <= 0.02 if ref and None not in (same[key], ref[key]) else None)
    return {k: (None if v is None else bool(v)) for k, v in out.items()}


def summary(res: dict) -> str:
    rows = []
    sim = res.get("sim")
    if sim:
        rows.append(("simulated SNPs (contig 1 / 2), map length",
                     f"{sim['snps']} ({' / '.join(str(c['snps']) for c in sim['contigs'].values())}), "
                     f"{sim['map_cM']:.1f} cM", "~150k"))
        rows.append(("simulation seconds", f"{sim['seconds']:.0f}", ""))
    if "ingest" in res:
        r = res["ingest"]
        rows.append(("ogan ingest: seconds, peak RSS", f"{r['seconds']:.0f} s, {r['peak_rss_gib']:.2f} GiB",
                     ""))
    if "study" in res:
        r = res["study"]
        rows.append((f"study end to end, {r['workers']} workers", f"{r['seconds'] / 60:.1f} min",
                     "<= 60 min"))
        rows.append(("study peak RSS (process tree)", f"{r['peak_rss_gib']:.2f} GiB", "<= 6 GiB"))
        for w, other in r.get("other_workers", {}).items():
            rows.append((f"study end to end, {w} worker(s): minutes, peak RSS, train s per 10k SNPs",
                         f"{other['seconds'] / 60:.1f} min, {other['peak_rss_gib']:.2f} GiB, "
                         f"{_f(other.get('train_s_per_10k_snps'), '.0f')}", ""))
        rows.append(("study train s per 10k SNPs", _f(r.get("train_s_per_10k_snps"), ".0f"), ""))
        for name, step in r.get("steps", {}).items():
            rows.append((f"step {name}: seconds, peak RSS",
                         f"{step['seconds']:.0f} s, {step['peak_rss_gib']:.2f} GiB", ""))
    if "speedup" in res:
        r = res["speedup"]
        for w, run in r["runs"].items():
            rows.append((f"train alone ({r['region']}, {r['snps']} SNPs, windows of "
                         f"{r.get('window_snps') or 'default'}), {w} worker(s)",
                         f"{run['seconds']:.0f} s = {run['s_per_10k_snps']:.0f} s per 10k SNPs, "
                         f"{run['peak_rss_gib']:.2f} GiB", ""))
        rows.append(("train speed-up", _f(r.get("speedup"), ".2f") + "x", ""))
    if "generate" in res:
        r = res["generate"]
        for kind in ("vcf.gz", "h5"):
            g = r[kind]
            rows.append((f"generate {g['people']} people -> .{kind}, {r['workers']} workers",
                         f"{g['seconds']:.0f} s, {g['genotypes_per_s_per_core']:.2e} genotypes/s per core, "
                         f"{g['peak_rss_gib']:.2f} GiB", ""))
        b = r["bgzip"]
        rows.append(("bgzip -@1 of the same VCF text",
                     f"{b['seconds']:.0f} s, {b['genotypes_per_s_per_core']:.2e} genotypes/s "
                     f"({b['text_gib']:.2f} GiB text)", "floor"))
        rows.append((f"ogan VCF per core / bgzip, / HAPNEST ({HAPNEST:.1e} per thread)",
                     f"{r['vs_bgzip']:.2f}, {r['vs_hapnest']:.2f}", ""))
    if "window" in res:
        r = res["window"]
        rows.append((f"single-window study {r['region']} ({r['snps']} SNPs)",
                     f"{r['seconds'] / 60:.1f} min, {r['peak_rss_gib']:.2f} GiB"
                     + ("" if r["single_window"] else " (no --window-snps: default windows)"), ""))
    quality = res.get("quality", {})
    if quality.get("study", {}).get("windows"):
        rows.append(("generation windows in the study", str(quality["study"]["windows"]), ""))
    lines = ["| measure | value | target |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    if quality.get("study"):
        ref = quality.get("window", {})
        region = quality.get("study_region", {})
        lines += ["", "| population | MAF r | LD r | LD r within / junction (window middles) | LD breaks per Mb | "
                  "exact copies | DCR ratio | 3 Mb window MAF r / LD r | study on its SNPs |", "|" + "---|" * 9]
        for pop in MINORITY:
            q = quality["study"].get(pop)
            if not q:
                continue
            w = ref.get(pop, {})
            copies = ("n/a" if q["exact_copies"] is None
                      else f"{q['exact_copies']} ({q['exact_copy_fraction']:.1%})")
            lines.append(f"| {pop} | {_f(q['maf_r'])} | {_f(q['ld_r'])} | {_f(q['ld_r_within'])} / "
                         f"{_f(q['ld_r_junction'])} ({_f(q.get('ld_r_midpoint'))}) | "
                         f"{_f(q['ld_breaks_per_mb'], '.2f')} (junction "
                         f"{_f(q.get('ld_breaks_per_mb_junction'), '.2f')}) | {copies} | "
                         f"{_f(q['dcr_ratio'], '.2f')} | {_f(w.get('maf_r'))} / {_f(w.get('ld_r'))} | "
                         f"{_f(region.get(pop, {}).get('maf_r'))} / {_f(region.get(pop, {}).get('ld_r'))} |")
    checks = musts(res)
    lines += ["", "| must | met |", "|---|---|",
              *(f"| {k} | {'n/a' if v is None else 'yes' if v else 'NO'} |" for k, v in checks.items())]
    return "\n".join(lines)


def main() -> None:
    global CORES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "scale")
    parser.add_argument("--seed", type=int, default=13, help="simulation seed (the ogan steps use --seed 1)")
    parser.add_argument("--contig-mb", type=float, default=15.0, help="length of each of the 2 contigs")
    parser.add_argument("--people", type=int, default=2500, help="people, split evenly over 5 populations")
    parser.add_argument("--mu", type=float, default=1.25e-8,
                        help="mutation rate (1.25e-8: ~150k SNPs at MAC >= 5)")
    parser.add_argument("--workers-list", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2],
                        help="worker counts of the speed-up; the study and generation use the largest")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs [default: the cpu preset's]")
    parser.add_argument("--steps-per-epoch", type=int, default=None,
                        help="passed to train/pipeline: at most this many batches per epoch (default: a full pass)")
    parser.add_argument("--study-workers", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="also run the whole study with these worker counts (e.g. 1) [default: only "
                             "the largest of --workers-list]")
    parser.add_argument("--no-baselines", action="store_true", help="pass --no-baselines to the pipelines")
    parser.add_argument("--speedup-region", default="1:1-4000000",
                        help="region trained alone for the speed-up, or 'all' (the study's train.h5)")
    parser.add_argument("--speedup-window-snps", type=int, default=5000,
                        help="--window-snps of the speed-up runs (5000: 4 windows in the default region, "
                             "2 per worker); 0: ogan's default")
    parser.add_argument("--window-region", default="1:1-3000000", help="the single-window reference study")
    parser.add_argument("--generate-n", type=int, default=500, help="people per population generated")
    parser.add_argument("--skip-sim", action="store_true", help="use the data under OUT/data as it is")
    parser.add_argument("--stages", type=lambda s: s.split(","), default=list(STAGES),
                        help=f"comma list of {','.join(STAGES)} [default: all]")
    parser.add_argument("--cores", type=int, default=2,
                        help="pin every measured command to this many CPUs (0: no pinning)")
    args = parser.parse_args()
    CORES = args.cores
    if unknown := set(args.stages) - set(STAGES):
        parser.error(f"unknown stages {sorted(unknown)}; choose from {','.join(STAGES)}")
    data = args.out / "data"
    results_path = args.out / "scale.json"
    res = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.skip_sim:
        if not (data / "simulation.json").exists():
            sys.exit(f"scale.py: --skip-sim, but no {data / 'simulation.json'}")
        res["sim"] = json.loads((data / "simulation.json").read_text())
    elif "sim" in args.stages or not (data / "simulation.json").exists():
        print(f"simulating into {data}")
        res["sim"] = simulate(data, args.seed, args.contig_mb, args.people, mu=args.mu)
        print(f"  {res['sim']['snps']} SNPs, {res['sim']['seconds']:.0f} s"
              + (" (cached: same parameters)" if res["sim"]["cached"] else ""))
    else:  # the data on disk, whatever an earlier scale.json says
        res["sim"] = json.loads((data / "simulation.json").read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(res, indent=1, default=str))
    runners = {"ingest": stage_ingest, "study": stage_study, "speedup": stage_speedup,
               "generate": stage_generate, "window": stage_window, "quality": stage_quality}
    for name in [s for s in STAGES if s in args.stages and s in runners]:
        print(f"stage {name}")
        res[name] = runners[name](args, data)
        res["musts"] = musts(res)
        results_path.write_text(json.dumps(res, indent=1, default=str))
    results_path.write_text(json.dumps({**res, "musts": musts(res)}, indent=1, default=str))
    print(summary(res))
    print(f"\nresults: {results_path}")


if __name__ == "__main__":
    main()
