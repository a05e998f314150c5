"""``ogan pipeline``: the whole study (or the production run) in one resumable command.

Study (``keep`` given, the paper's design)::

    IN -> cohort.h5 -> bias -> train.h5 + heldout.h5 -> models/M/ -> synthetic/M.vcf.gz
       -> reports/M/ (against the FULL cohort, train.h5 for the privacy audit)

Production (no ``keep``): the cohort is trained on as it is and every population gets the
largest population's size, i.e. a balanced synthetic cohort.

Every step records a digest of its options and of the steps it depends on in
``STUDY/pipeline.json``. A re-run skips a step whose digest and outputs are unchanged,
re-runs it (and what follows) when an option or an input changed, and resumes a training
run that was stopped part-way from its last checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .baselines import ROW_LABELS
from .cohort import atomic_path
from .errors import InputError, Interrupted
from .model.presets import MODELS

MANIFEST_FORMAT = 1


@dataclass
class StepResult:
    """One step: whether it ran or was skipped, its seconds and outputs."""

    name: str
    ran: bool
    seconds: float
    outputs: list[str]


@dataclass
class PipelineSummary:
    """What ``pipeline`` did and where everything is."""

    out_dir: str
    design: str  # "study" or "production"
    models: list[str]
    seed: int
    steps: list[StepResult] = field(default_factory=list)
    headline: dict = field(default_factory=dict)  # model -> population -> {maf_r, ld_r}
    summary_path: str = ""
    comparison_path: str | None = None


def parse_models(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """'all' | 'offspring,ppo' | list -> model names in the canonical order, checked."""
    names = [m.strip() for m in (text.split(",") if isinstance(text, str) else text) if m.strip()]
    if names == ["all"]:
        return list(MODELS)
    unknown = [m for m in names if m not in MODELS]
    if unknown or not names:
        got = ",".join(names) or "nothing"
        raise InputError(f"model must be 'all' or among {', '.join(MODELS)}, got {got!r}")
    return [m for m in MODELS if m in names]


def fingerprint(path) -> dict | None:
    """Identity of an input file (PLINK: its .bed/.bim/.fam) for the step digests."""
    if path is None:
        return None
    path = Path(path)
    from .io.plink import plink_prefix

    prefix = plink_prefix(path) if path.suffix in (".bed", ".bim", ".fam") or not path.exists() else None
    files = [Path(f"{prefix}{ext}") for ext in (".bed", ".bim", ".fam")] if prefix else [path]
    return {"path": str(path.resolve()),
            "files": [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files if f.exists()]}


def _digest(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Manifest:
    """``pipeline.json``: per step, the digest it ran with, its outputs, and whether it finished."""

    def __init__(self, path: Path):
        self.path = path
        self.data = {"format": MANIFEST_FORMAT, "steps": {}}
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError as e:
                raise InputError(f"{path}: damaged pipeline record ({e}); delete it to start over") from None
            if data.get("format") == MANIFEST_FORMAT:
                self.data = data

    @property
    def seed(self) -> int | None:
        return self.data.get("seed")

    def entry(self, name: str) -> dict:
        return self.data["steps"].get(name, {})

    def is_done(self, name: str, digest: str) -> bool:
        entry = self.entry(name)
        return (entry.get("digest") == digest and entry.get("finished", False)
                and all((self.path.parent / p).exists() for p in entry.get("outputs", [])))

    def mark(self, name: str, digest: str, params: dict, *, finished: bool, outputs=(), seconds=0.0) -> None:
        """Record a step; outputs inside the study directory are kept relative (the study can move)."""
        root = self.path.parent.resolve()
        relative = [str(Path(p).resolve().relative_to(root)) if Path(p).resolve().is_relative_to(root) else str(p)
                    for p in outputs]
        self.data["steps"][name] = {"digest": digest, "params": params, "finished": finished,
                                    "outputs": relative, "seconds": round(seconds, 1)}
        self.save()

    def save(self) -> None:
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.data, indent=1, default=str))


class _Runner:
    """Runs named steps in order, skipping those already done with the same digest."""

    def __init__(self, manifest: Manifest, log: Callable[[str], None]):
        self.manifest, self.log, self.results = manifest, log, []
        self.digests: dict[str, str] = {}

    def step(self, name: str, params: dict, after: list[str], outputs: list[Path], work: Callable) -> str:
        params = {**params, "after": {a: self.digests[a] for a in after}}
        digest = _digest(params)
        self.digests[name] = digest
        if self.manifest.is_done(name, digest) and all(Path(p).exists() for p in outputs):  # recorded + expected
            self.log(f"{name}: up to date, skipped")
            self.results.append(StepResult(name, False, 0.0, [str(p) for p in outputs]))
            return digest
        previous = self.manifest.entry(name)
        resume = previous.get("digest") == digest and not previous.get("finished", False)
        self.log(f"{name}: {'resuming' if resume else 'running'}")
        self.manifest.mark(name, digest, params, finished=False)
        start = time.perf_counter()
        written = work(resume) or outputs
        seconds = time.perf_counter() - start
        from .parallel import release_memory

        release_memory()  # the next step starts from a small process (e.g. train beside its Dask workers)
        self.manifest.mark(name, digest, params, finished=True, outputs=written, seconds=seconds)
        self.results.append(StepResult(name, True, seconds, [str(p) for p in written]))
        return digest


def pipeline(input, out_dir, *, panel=None, label_column: str | None = None, keep: str | None = None,
             models="offspring", preset: str = "cpu", overrides: dict | None = None, block_size: int | None = None,
             genetic_map: str | None = None,
             n: int | None = None, hybridize_factor: int | None = None, seed: int | None = None,
             baselines: bool = True, window_snps: int | None = None, overlap_snps: int | None = None,
             cut: str | None = None,
             workers: int | None = None, scheduler: str | None = None, synchronous: bool = False,
             show_progress: bool = False,
             log: Callable[[str], None] = lambda _: None) -> PipelineSummary:
    """Run (or continue) the study or production pipeline into ``out_dir``; see the module docstring.

    With ``baselines``, every model is also generated and reported at its first evaluated epoch
    (``M.first``: the generator's start), and two baselines are reported beside the models: the
    hybridizer alone on the same training data (``hybridizer``: PPO offspring, as many people per
    population as the models make) and, in the study design, the held-out real genomes scored as if
    synthetic (``heldout``: what a perfect generator gets).

    A cohort larger than a window (``window_snps``) trains and generates window by window on Dask
    (``workers``, ``scheduler``, ``synchronous``: see ``parallel.Engine``); a re-run after a stop keeps
    every finished window, and pipeline.json records each window's digest under ``windows``.
    """
    from .bias import parse_keep
    from .model.presets import make_preset

    models = parse_models(models)
    for model in models:  # refuse bad options before any work
        make_preset(preset, model, **(overrides or {}))
    fractions = parse_keep(keep) if keep else None
    if n is not None:
        from .generation import check_count

        n = check_count(n)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out / "pipeline.json")
    seed = int(seed) if seed is not None else manifest.seed if manifest.seed is not None else secrets.randbits(31)
    manifest.data["seed"] = seed
    manifest.save()
    runner = _Runner(manifest, log)
    design = "study" if fractions else "production"
    cohort_h5, train_h5, heldout_h5 = out / "cohort.h5", out / "train.h5", out / "heldout.h5"

    def ingest_step(_resume):
        from .convert import ingest

        ingest(input, cohort_h5, panel=panel, label_column=label_column, show_progress=show_progress)

    runner.step("ingest", {"input": fingerprint(input), "panel": fingerprint(panel), "label_column": label_column},
                [], [cohort_h5], ingest_step)
    training = cohort_h5
    if fractions:
        def bias_step(_resume):
            from .bias import bias_file

            bias_file(cohort_h5, train_h5, keep=keep, heldout=heldout_h5, seed=seed, show_progress=show_progress)

        runner.step("bias", {"keep": fractions, "seed": seed}, ["ingest"], [train_h5, heldout_h5], bias_step)
        training = train_h5
    from .cohort import CohortFile

    with CohortFile(cohort_h5) as full:
        full_counts = full.samples.population_counts()
    n_each = int(n) if n is not None else max(full_counts.values())
    data_step = "bias" if fractions else "ingest"

    def report_step(name: str, after: str, synth: Path, report_dir: Path) -> None:
        """Report ``synth`` against the full cohort, with the training set for the privacy audit."""
        def work(_resume):
            from .io import panel_path_for
            from .reporting import report

            synth_panel = None if synth.suffix == ".h5" else panel_path_for(synth)
            return report(cohort_h5, synth, report_dir, synth_panel=synth_panel, train=training, seed=seed,
                          baselines=False, show_progress=show_progress).paths  # the pipeline reports its own

        runner.step(name, {"seed": seed}, [after, data_step], [report_dir / "metrics.json",
                                                              report_dir / "report.html"], work)
    for model in models:
        model_dir = out / "models" / model
        synth = out / "synthetic" / f"{model}.vcf.gz"
        report_dir = out / "reports" / model

        def train_step(resume, model=model, model_dir=model_dir):
            from .hybridizer import BlockSpec
            from .training import train

            from .model.store import has_checkpoint

            from .windowed import is_windowed_model

            resumable = resume and (has_checkpoint(model_dir, "last") or is_windowed_model(model_dir))
            if not resumable and model_dir.exists():
                shutil.rmtree(model_dir)  # another configuration's run: start clean
            result = train(training, model_dir, model=model, preset=preset, overrides=overrides,
                           blocks=BlockSpec(size=block_size, genetic_map=genetic_map)
                           if block_size or genetic_map else None, seed=seed, resume=resumable,
                           window_snps=window_snps, overlap_snps=overlap_snps, cut=cut, workers=workers,
                           scheduler=scheduler, synchronous=synchronous, show_progress=show_progress)
            if result.window_digests:  # which windows are done, and from what
                manifest.data.setdefault("windows", {})[model] = result.window_digests
                manifest.save()
                log(f"train {model}: {result.windows} windows, {result.windows_trained} trained, "
                    f"{result.windows_skipped} kept")
            if result.interrupted:
                raise Interrupted(f"interrupted while training {model}; its last checkpoint (epoch {result.epochs}) "
                                  "stands: run the same command again to resume")
            if result.windows > 1:
                return [model_dir / "config.json",
                        *(model_dir / "windows" / name / "done.json" for name in result.window_digests)]
            return [model_dir / "config.json", model_dir / "checkpoints" / "best.weights.h5"]

        runner.step(f"train {model}", {"model": model, "preset": preset, "overrides": overrides or {},
                                       # its fields, not only its name: a new version of a preset retrains
                                       "preset_fields": make_preset(preset, model, **(overrides or {})).to_dict(),
                                       "block_size": block_size, "seed": seed,
                                       **({"window_snps": window_snps} if window_snps else {}),
                                       **({"overlap_snps": overlap_snps} if overlap_snps is not None else {}),
                                       **({"cut": cut} if cut else {}),
                                       **({"map": str(genetic_map)} if genetic_map else {})},
                    [data_step], [model_dir / "config.json"], train_step)  # + what train_step returns

        def generate_step(_resume, model_dir=model_dir, synth=synth):
            from .generation import generate

            synth.parent.mkdir(exist_ok=True)
            return generate(model_dir, synth, n=n_each, hybridize_factor=hybridize_factor, seed=seed,
                            workers=workers, scheduler=scheduler, synchronous=synchronous,
                            show_progress=show_progress).paths

        runner.step(f"generate {model}", {"n": n_each, "hybridize_factor": hybridize_factor, "seed": seed},
                    [f"train {model}"], [synth], generate_step)

        report_step(f"report {model}", f"generate {model}", synth, report_dir)
        if baselines:  # the same model at its first evaluated epoch
            first = out / "synthetic" / f"{model}.first.vcf.gz"

            def generate_first(_resume, model_dir=model_dir, first=first):
                from .generation import generate

                return generate(model_dir, first, n=n_each, hybridize_factor=hybridize_factor, seed=seed,
                                checkpoint="first", workers=workers, scheduler=scheduler, synchronous=synchronous,
                                show_progress=show_progress).paths

            runner.step(f"generate {model} first", {"n": n_each, "hybridize_factor": hybridize_factor, "seed": seed},
                        [f"train {model}"], [first], generate_first)
            report_step(f"report {model} first", f"generate {model} first", first,
                        out / "reports" / f"{model}.first")
    rows = list(models)
    if baselines:
        rows = [row for m in models for row in (m, f"{m}.first")]
        hybrid = out / "synthetic" / "hybridizer.vcf.gz"
        budget = make_preset(preset, models[0], **(overrides or {})).membership_budget  # the models' start

        def hybridizer_step(_resume):
            try:
                return write_hybridizer_baseline(training, hybrid, n=n_each, block_size=block_size, seed=seed,
                                                 genetic_map=genetic_map, membership_budget=budget,
                                                 show_progress=show_progress)
            except InputError as e:  # e.g. one block per population: PPO offspring impossible
                log(f"baseline hybridizer: skipped ({e})")
                return []

        runner.step("baseline hybridizer", {"n": n_each, "block_size": block_size, "seed": seed,
                                            "unit": "mosaic when phased", "membership_budget": budget,
                                            **({"map": str(genetic_map)} if genetic_map else {})}, [data_step],
                    [hybrid], hybridizer_step)
        if hybrid.exists():
            report_step("report hybridizer", "baseline hybridizer", hybrid, out / "reports" / "hybridizer")
            rows.append("hybridizer")
        if fractions:
            half = out / "synthetic" / "heldout_half.h5"

            def heldout_step(_resume):
                return write_heldout_half(heldout_h5, half, seed=seed)

            runner.step("baseline heldout", {"seed": seed}, ["bias"], [half], heldout_step)
            report_step("report heldout", "baseline heldout", half, out / "reports" / "heldout")
            rows.append("heldout")
    metrics = {m: json.loads((out / "reports" / m / "metrics.json").read_text()) for m in rows}
    focus = list(fractions) if fractions else list(full_counts)
    labelled = {ROW_LABELS.get(r, r.replace(".first", " (first epoch)")): metrics[r] for r in rows}
    summary = PipelineSummary(str(out), design, models, seed, runner.results,
                              headline=headline(labelled, focus))
    if len(rows) > 1:
        def compare_step(_resume):
            from .reporting.html import write_comparison

            figures = {label: out / "reports" / r / "figures" for label, r in zip(labelled, rows)}
            write_comparison(out / "comparison.html", labelled, figures, focus=focus,
                             title=f"ogan pipeline: {', '.join(models)}" + (" with baselines" if baselines else ""))

        runner.step("compare", {"focus": focus, "rows": rows}, [f"report {r.replace('.', ' ')}" for r in rows],
                    [out / "comparison.html"], compare_step)
        summary.comparison_path = str(out / "comparison.html")
    summary.summary_path = str(write_summary(out, summary, metrics, focus, fractions, full_counts, preset))
    return summary


def write_hybridizer_baseline(training, output: Path, *, n: int, block_size: int | None, seed: int,
                              genetic_map: str | None = None, membership_budget: float | None = None,
                              show_progress: bool = False) -> list[str]:
    """The hybridizer alone on the training data: ``n`` PPO offspring per population (no real genome).
    With ``membership_budget`` (the models' preset field) each population's mosaic switch rate is chosen
    to it, as the copying generator's start is; else the hybridizer's default rate."""
    from .baselines import hybridizer_only
    from .cohort import load, provenance_record
    from .hybridizer import BlockSpec
    from .io import write_output

    cohort = load(training)
    spec = BlockSpec(size=block_size, genetic_map=str(genetic_map) if genetic_map else None)
    result = hybridizer_only(cohort, dict.fromkeys(cohort.samples.population_counts(), n), blocks=spec, seed=seed,
                             membership_budget=membership_budget)
    record = provenance_record("pipeline baseline hybridizer", {
        "training": str(training), "n": n, "mode": "ppo", "blocks": spec.describe(),
        "generations": result.generations, "membership_budget": membership_budget,
        "calibration": {p.population: p.calibration for p in result.populations if p.calibration}}, seed=seed)
    output.parent.mkdir(exist_ok=True)
    return write_output(output, result.cohort, provenance=[*cohort.provenance, record], show_progress=show_progress)


def write_heldout_half(heldout, output: Path, *, seed: int) -> list[str]:
    """A random half of each population's held-out real genomes (at least one): scored as if synthetic,
    while the report keeps the other half as the held-out yardstick of the privacy audit."""
    from .baselines import heldout_half
    from .cohort import load, save

    half = heldout_half(load(heldout), seed=seed)
    output.parent.mkdir(exist_ok=True)
    save(half, output)
    return [str(output)]


def headline(metrics: dict[str, dict], populations: list[str]) -> dict:
    """model -> population -> {maf_r, ld_r}, plus the overall label accuracy and privacy figures."""
    table = {}
    for model, met in metrics.items():
        per = met.get("per_population", {})
        row = {pop: {"maf_r": per.get(pop, {}).get("maf_r"), "ld_r": per.get(pop, {}).get("ld_r")}
               for pop in populations}
        privacy = met.get("privacy") or {}
        row["overall"] = {"label_accuracy": met["overall"].get("label_accuracy"),
                          "label_accuracy_real": met["overall"].get("label_accuracy_real"),
                          "duplicate_fraction": met["overall"].get("duplicate_fraction"),
                          "exact_copy_fraction": privacy.get("exact_copy_fraction"),
                          "dcr_ratio": privacy.get("dcr_ratio"), "aa_ts": privacy.get("aa_ts"),
                          "concerns": len(privacy.get("concerns", []))}
        table[model] = row
    return table


def _cell(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def write_summary(out: Path, summary: PipelineSummary, metrics: dict, focus: list[str], fractions,
                  full_counts: dict, preset: str) -> Path:
    """``summary.md``: the design, the headline table, and links to every artefact."""
    lines = [f"# ogan pipeline: {summary.design}", ""]
    if fractions:
        kept = ", ".join(f"{p} {f:g}" for p, f in fractions.items())
        lines += [f"Study design: the cohort ({', '.join(f'{p} {c}' for p, c in full_counts.items())}) was "
                  f"biased by keeping a fraction of {kept}; each model was trained on `train.h5` and its "
                  "synthetic cohort compared with the FULL cohort (`cohort.h5`), with `train.h5` for the "
                  "privacy audit.", ""]
    else:
        lines += ["Production run: trained on the cohort as it is; every population was generated at the "
                  "largest population's size (a balanced synthetic cohort).", ""]
    lines += [f"Preset `{preset}`, seed {summary.seed}.", "", "## Headline", ""]
    head = ["model", *(f"MAF r {p}" for p in focus), *(f"LD r {p}" for p in focus),
            "label acc. (real)", "duplicates", "copies", "DCR ratio", "AA_TS", "privacy concerns"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, row in summary.headline.items():
        o = row["overall"]
        cells = [model, *(_cell(row[p]["maf_r"]) for p in focus), *(_cell(row[p]["ld_r"]) for p in focus),
                 f"{_cell(o['label_accuracy'])} ({_cell(o['label_accuracy_real'])})", _cell(o["duplicate_fraction"]),
                 _cell(o["exact_copy_fraction"]), _cell(o["dcr_ratio"]), _cell(o["aa_ts"]), str(o["concerns"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "MAF r and LD r per population against the full real cohort; definitions in the ogan_vcf "
              "docs (`docs/metrics.md`).", "", "## Files", ""]
    files = [("cohort.h5", "the full cohort")]
    if fractions:
        files += [("train.h5", "the biased training set"), ("heldout.h5", "the genomes left out of training")]
    if summary.comparison_path:
        files.append(("comparison.html", "models and baselines side by side (GMM tables 2-4, figures 5-7)"))
    if (out / "reports" / "hybridizer").is_dir():
        files += [("reports/hybridizer/report.html", "baseline: the hybridizer alone on the training data "
                   "(synthetic/hybridizer.vcf.gz)")]
    if (out / "reports" / "heldout").is_dir():
        files += [("reports/heldout/report.html", "baseline: half the held-out real genomes scored as if synthetic")]
    for model in summary.models:
        if (out / "reports" / f"{model}.first").is_dir():
            files += [(f"reports/{model}.first/report.html", f"{model} at its first evaluated epoch "
                       f"(synthetic/{model}.first.vcf.gz)")]
        files += [(f"reports/{model}/report.html", f"{model}: the report (metrics.json beside it)"),
                  (f"synthetic/{model}.vcf.gz", f"{model}: the synthetic cohort (+ .tbi, .panel)"),
                  (f"models/{model}/", f"{model}: the model (config.json, checkpoints, history.csv)")]
    lines += [f"- [{name}]({name}): {what}" for name, what in files]
    lines += ["", "## Steps", "", "| step | ran | seconds |", "|---|---|---|"]
    lines += [f"| {s.name} | {'yes' if s.ran else 'skipped (up to date)'} | {s.seconds:.1f} |" for s in summary.steps]
    path = out / "summary.md"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path
