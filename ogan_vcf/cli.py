"""The ``ogan`` command line: parse options, call one library function, print a summary.

Library errors become one line on stderr and exit code 1; ``--debug`` (anywhere on
the command line) shows the traceback instead.
"""

from __future__ import annotations

import functools
import statistics
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import __version__

app = typer.Typer(
    name="ogan",
    help="Augment population-biased genotype cohorts with the Offspring GAN.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
_state = {"debug": False}

# ---------------------------------------------------------------- shared options
InputArg = Annotated[Path, typer.Argument(help="VCF/BCF (.vcf, .vcf.gz, .bcf), PLINK prefix or .bed, or cohort .h5.",
                                          show_default=False)]
PanelOpt = Annotated[Optional[Path], typer.Option("--panel", "-p", help="Population panel, tab-separated: "
                                                  "sample pop super_pop gender (1000 Genomes form).")]
LabelOpt = Annotated[Optional[str], typer.Option("--label-column", help="Panel column holding the labels "
                                                 "\\[default: super_pop if present, else pop].")]
RegionOpt = Annotated[Optional[str], typer.Option("--region", "-r", help="Only this region, CHR or CHR:START-END "
                                                  "(1-based, inclusive).")]
OutputFileOpt = Annotated[Path, typer.Option("--output", "-o", help="out.vcf.gz | .bcf | .vcf | .bed (PLINK) | "
                                             ".h5 (cohort); a .panel is written beside VCF/BCF/PLINK.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]


def _fail(message: str, code: int = 1) -> None:
    print(f"ogan: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def handle_errors(func):
    """Turn library errors into one stderr line and a non-zero exit (traceback with --debug)."""
    from .errors import OganError

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            if _state["debug"]:
                raise
            _fail("interrupted; no output was written", 130)
        except Exception as e:
            if _state["debug"]:
                raise
            if isinstance(e, OganError):
                _fail(str(e), getattr(e, "exit_code", 1))
            if isinstance(e, OSError) and e.filename:
                _fail(f"{e.filename}: {e.strerror}")
            if isinstance(e, MemoryError):
                _fail("out of memory; try a smaller --region or chunk size")
            _fail(f"internal error ({type(e).__name__}: {' '.join(str(e).split())}); rerun with --debug "
                  "for the traceback and report it", 2)

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"ogan_vcf {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    """ogan: VCF/BCF/PLINK + panel -> cohort -> hybridize -> train -> generate -> report."""
    _state["debug"] = _state["debug"] or debug


# ---------------------------------------------------------------- summaries

def _table(title: str, rows: list[tuple[str, object]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
    table.add_column(style="cyan")
    table.add_column()
    for key, value in rows:
        table.add_row(key, str(value))
    return table


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


# ---------------------------------------------------------------- commands

@app.command()
@handle_errors
def ingest(
    input: InputArg,
    panel: Annotated[Path, typer.Option("--panel", "-p", help="Population panel (sample pop super_pop gender).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Cohort file to write (.h5).")],
    region: RegionOpt = None,
    label_column: LabelOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Read a VCF/BCF or PLINK set plus a panel into one cohort .h5 (biallelic SNPs).

    Example: [bold]ogan ingest data.vcf.gz --panel data.panel -o cohort.h5 --region 6:29000000-33000000[/]
    """
    from .convert import ingest as run

    s = run(input, output, panel=panel, label_column=label_column, region=region, show_progress=progress)
    console.print(_table(f"ingest: {s.output}", [
        ("input", s.input), ("samples", s.n_samples), ("populations", _counts(s.populations)),
        ("SNPs", s.n_snps), ("SNPs per contig", _counts(s.snps_per_contig)),
        ("skipped", _counts(s.skipped)), ("phased", "yes" if s.phased else f"no ({s.unphased_calls} unphased calls)"),
        ("missing calls", s.missing_calls), ("re-sorted", "yes" if s.resorted else "no"),
    ]))
    _print_notes(s.notes)


@app.command()
@handle_errors
def export(
    cohort: Annotated[Path, typer.Argument(help="Cohort file (.h5).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="out.vcf.gz | out.bcf | out.vcf | out.bed "
                                         "(PLINK 1 set); a .panel is written beside it.")],
    progress: ProgressOpt = True,
) -> None:
    """Write a cohort as bgzipped+indexed VCF, BCF, plain VCF or PLINK 1, plus its panel.

    Example: [bold]ogan export cohort.h5 -o cohort.vcf.gz[/]  (also writes cohort.vcf.gz.tbi, cohort.panel)
    """
    from .convert import export as run

    s = run(cohort, output, show_progress=progress)
    console.print(_table(f"export: {output}", [
        ("cohort", s.input), ("samples", s.n_samples), ("SNPs", s.n_snps),
        ("phased", "yes" if s.phased else "no"), ("files", "\n".join(s.paths)),
    ]))


@app.command()
@handle_errors
def info(
    file: InputArg,
    panel: PanelOpt = None,
    label_column: LabelOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Describe a cohort, VCF/BCF or PLINK set: samples, populations, SNPs, phasing, provenance.

    Example: [bold]ogan info cohort.h5[/]   or   [bold]ogan info data.vcf.gz --panel data.panel[/]
    """
    from .convert import describe

    d = describe(file, panel=panel, label_column=label_column, show_progress=progress)
    n_snps = sum(d.snps_per_contig.values())
    phased = "yes" if d.unphased_calls == 0 else f"no ({d.unphased_calls} of {d.total_calls} calls unphased)"
    rows = [("kind", d.kind), ("samples", d.n_samples)]
    if d.populations:
        rows.append((f"populations ({d.label_column})", _counts(d.populations)))
    rows += [("SNPs", n_snps), ("SNPs per contig", _counts(d.snps_per_contig)), ("phased", phased),
             ("missing calls", d.missing_calls)]
    if d.skipped:
        rows.append(("skipped records", _counts(d.skipped)))
    console.print(_table(f"info: {d.path}", rows))
    if d.provenance:
        table = Table(title="provenance", title_justify="left", title_style="bold")
        for column in ("time", "command", "parameters", "ogan_vcf"):
            table.add_column(column)
        for p in d.provenance:
            params = ", ".join(f"{k}={v}" for k, v in p.get("parameters", {}).items() if v is not None)
            table.add_row(p.get("time", ""), p.get("command", ""), params, p.get("software", {}).get("ogan_vcf", ""))
        console.print(table)
    _print_notes(d.notes)


SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Random seed; the same seed gives the same "
                                               "output \\[default: drawn, and recorded in provenance].")]


# training options shared by train and pipeline
EpochsOpt = Annotated[Optional[int], typer.Option("--epochs", help="Training epochs \\[default: the preset's].")]
BatchSizeOpt = Annotated[Optional[int], typer.Option("--batch-size", help="Genomes per batch \\[default: the "
                                                     "preset's].")]
LrOpt = Annotated[Optional[float], typer.Option("--lr", help="Learning rate of the generator (and of the critic "
                                               "unless the preset sets its own, as cpu does).")]
DStepsOpt = Annotated[Optional[int], typer.Option("--d-steps", help="Critic updates per generator update.")]
BlockSizeOpt = Annotated[Optional[int], typer.Option("--block-size", help="Hybridizer: fixed blocks of N SNPs "
                                                     "instead of LD-aware blocks.")]
TrainMapOpt = Annotated[Optional[Path], typer.Option("--map", help="Genetic map (PLINK .map or HapMap format): "
                                                     "the mosaic hybridizer's switch points and the copying "
                                                     "generator's start follow it \\[default: 1 cM per Mb].")]

StepsOpt = Annotated[Optional[int], typer.Option("--steps-per-epoch", help="At most this many batches per epoch "
                                                 "\\[default: one pass over the training genomes].")]
WindowSnpsOpt = Annotated[Optional[int], typer.Option("--window-snps", help="Cohorts of more than 1.5x this many "
                                                      "SNPs are cut into windows of about this many SNPs (see "
                                                      "--cut; never across contigs), one model each, trained in "
                                                      "parallel \\[default: 6000].")]
OverlapOpt = Annotated[Optional[int], typer.Option("--overlap-snps", help="SNPs each window reaches past its core "
                                                   "on either side, where neighbours are stitched \\[default: 250].")]
CutOpt = Annotated[Optional[str], typer.Option("--cut", help="Where windows are cut: even (equal SNP counts), ld "
                                             "(moved to the weakest LD nearby) or map (to the largest --map step) "
                                             "\\[default: even].")]
WorkersOpt = Annotated[Optional[int], typer.Option("--workers", help="Windows in parallel: worker processes of "
                                                   "a Dask LocalCluster on this machine \\[default: the cores].")]
SchedulerOpt = Annotated[Optional[str], typer.Option("--scheduler", envvar="DASK_SCHEDULER_ADDRESS",
                                                     help="Run the windows on an existing Dask cluster at this "
                                                     "address (e.g. tcp://host:8786; docs/cluster.md).")]
SynchronousOpt = Annotated[bool, typer.Option("--synchronous", help="Run every window in this process, one "
                                              "after another (debugging).")]


def _switch_rates(text: str | None):
    from .hybridizer.mosaic import parse_generations

    return parse_generations(text)


def _split(values: list[str] | None) -> list[str] | None:
    return [v.strip() for value in values for v in value.split(",") if v.strip()] if values else None


@app.command()
@handle_errors
def hybridize(
    input: InputArg,
    output: OutputFileOpt,
    panel: PanelOpt = None,
    pop: Annotated[Optional[list[str]], typer.Option("--pop", help="Population(s) to hybridize: the output "
                                                     "holds these only (repeat or comma-separate).")] = None,
    factor: Annotated[Optional[str], typer.Option("--factor", "-f", help="n samples -> factor*n (a whole "
                                                  "number >= 1).")] = None,
    balance: Annotated[bool, typer.Option("--balance", help="Bring every population up to the size of the "
                                          "largest; write the whole cohort (with --mode ppo the largest is "
                                          "replaced by offspring too).")] = False,
    mode: Annotated[str, typer.Option("--mode", help="offspring: real parents + offspring; ppo: offspring "
                                      "only, none equal to a parent (privacy).")] = "offspring",
    unit: Annotated[str, typer.Option("--unit", help="genotype: whole diploid blocks (the paper); "
                                      "haplotype: one haplotype from each of two members (needs phased); "
                                      "mosaic: each haplotype copies members' haplotypes and switches at its "
                                      "own points along --map (needs phased; no shared blocks).")] = "genotype",
    generations: Annotated[Optional[str], typer.Option("--generations", help="Mosaic unit: switches per "
                                                       "Morgan (default 1000; fewer: longer copied segments, "
                                                       "better imputation, more to recognise a member by): a "
                                                       "number, POP=N,... per population, or 'auto': each "
                                                       "population's rate chosen to --membership-budget.")
                           ] = None,
    membership_budget: Annotated[Optional[float], typer.Option("--membership-budget", help="With --generations "
                                                               "auto: the within-population membership AUC each "
                                                               "population's rate may reach, measured on its own "
                                                               "members \\[default: 0.62].")] = None,
    match_window: Annotated[int, typer.Option("--match-window", help="Mosaic unit: a switch moves to a source "
                                              "that agrees with the previous one on N variants each side of "
                                              "it, when one does (0: to any source, as Li & Stephens).")] = 10,
    block_size: Annotated[Optional[int], typer.Option("--block-size", help="Fixed blocks of N SNPs (the "
                                                      "paper: 1000) instead of LD-aware blocks.")] = None,
    min_block: Annotated[int, typer.Option("--min-block", help="LD-aware blocks: fewest SNPs.")] = 50,
    max_block: Annotated[int, typer.Option("--max-block", help="LD-aware blocks: most SNPs.")] = 400,
    ld_window: Annotated[int, typer.Option("--ld-window", help="LD-aware blocks: SNPs on each side "
                                           "of a cut whose r^2 counts.")] = 20,
    genetic_map: Annotated[Optional[Path], typer.Option("--map", help="Genetic map (PLINK .map or "
                                                        "HapMap format): cut every --cm centimorgans.")] = None,
    cm: Annotated[float, typer.Option("--cm", help="Block length in cM with --map.")] = 1.0,
    seed: SeedOpt = None,
    label_column: LabelOpt = None,
    region: RegionOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Make offspring by reshuffling SNP blocks among a population's members (Mendel's assortment).

    Example: [bold]ogan hybridize cohort.h5 --pop EAS --factor 5 -o eas5.vcf.gz --seed 1[/]
    or [bold]ogan hybridize data.vcf.gz -p data.panel --balance -o balanced.h5[/]
    """
    from .hybridizer import BlockSpec, hybridize_file

    spec = BlockSpec(size=block_size, min_snps=min_block, max_snps=max_block, window=ld_window,
                     genetic_map=str(genetic_map) if genetic_map else None, cm=cm)
    result, paths = hybridize_file(input, output, panel=panel, label_column=label_column, region=region,
                                   factor=factor, populations=_split(pop), balance=balance, mode=mode,
                                   unit=unit, blocks=spec, seed=seed, generations=_switch_rates(generations),
                                   budget=membership_budget, match_window=match_window,
                                   show_progress=progress)
    rates = result.generations
    how = (f"{rates:g} switches per Morgan" if isinstance(rates, float) else "switches per Morgan per population"
           ) + f", match window {match_window}" if unit == "mosaic" else f"blocks {spec.describe()}"
    table = Table(title=f"hybridize: {output}  (mode {mode}, unit {unit}, {how}, seed {result.seed})",
                  title_justify="left", title_style="bold")
    calibrated = any(p.calibration for p in result.populations)
    columns = ["population", "in", "out", "real kept", "blocks", "block SNPs", "redraws"]
    columns += ["switches/M"] * (unit == "mosaic") + ["internal AUC"] * calibrated
    for column in columns:
        table.add_column(column, justify="left" if column == "population" else "right")
    for p in result.populations:
        sizes = p.block_sizes
        blocks = (str(len(sizes)), f"{sizes.min()}-{sizes.max()}") if len(sizes) else ("-", "passed through")
        if p.segment_snps is not None:
            blocks = ("per haplotype", f"~{p.segment_snps:.0f} per segment")
        extra = [f"{p.generations:g}" if p.generations else "-"] * (unit == "mosaic")
        if calibrated:
            measured = (p.calibration or {}).get("fitted", {})
            extra.append(f"{measured[f'{p.generations:g}']:.3f}" if f"{p.generations:g}" in measured else "-")
        table.add_row(p.population, str(p.n_in), str(p.n_out), str(p.n_real), *blocks, str(p.redraws), *extra)
    console.print(table)
    console.print("files: " + ", ".join(paths), highlight=False)
    _print_notes(result.notes)


@app.command()
@handle_errors
def bias(
    input: InputArg,
    keep: Annotated[str, typer.Option("--keep", help="POP=FRACTION,... to keep of those populations; all "
                                      "other populations are kept whole.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Training cohort: .vcf.gz | .bcf | .vcf | "
                                         ".bed | .h5")],
    heldout: Annotated[Optional[Path], typer.Option("--heldout", help="Where the held-out rest goes "
                                                    "\\[default: OUTPUT with .heldout before the suffix].")] = None,
    panel: PanelOpt = None,
    seed: SeedOpt = None,
    label_column: LabelOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """The paper's study design: keep a fraction of some populations, all of the others.

    Example: [bold]ogan bias cohort.h5 --keep EAS=0.2,AFR=0.2,SAS=0.2 --seed 1 -o train.vcf.gz[/]
    (also writes train.heldout.vcf.gz and both panels)
    """
    from .bias import bias_file

    result, paths = bias_file(input, output, keep=keep, panel=panel, label_column=label_column,
                              heldout=heldout, seed=seed, show_progress=progress)
    table = Table(title=f"bias: {output}  (seed {result.seed})", title_justify="left", title_style="bold")
    for column in ("population", "before", "train", "held out", "kept"):
        table.add_column(column, justify="left" if column == "population" else "right")
    for pop, (before, kept) in result.table.items():
        table.add_row(pop, str(before), str(kept), str(before - kept), f"{kept / before:.0%}")
    console.print(table)
    console.print("files: " + ", ".join(paths), highlight=False)


@app.command()
@handle_errors
def report(
    real: Annotated[Path, typer.Argument(help="The real cohort (VCF/BCF/PLINK + --panel, or .h5).",
                                         show_default=False)],
    synthetic: Annotated[Path, typer.Argument(help="The synthetic cohort (+ --synth-panel, or .h5).",
                                              show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for report.html, metrics.json, "
                                         "figures/.")],
    panel: PanelOpt = None,
    synth_panel: Annotated[Optional[Path], typer.Option("--synth-panel", help="Panel of the synthetic "
                                                        "cohort.")] = None,
    train: Annotated[Optional[Path], typer.Option("--train", help="The data the generator saw: enables the "
                                                  "privacy audit.")] = None,
    train_panel: Annotated[Optional[Path], typer.Option("--train-panel", help="Panel of --train.")] = None,
    ld_region: Annotated[Optional[str], typer.Option("--ld-region", help="Window for the LD heatmap, "
                                                     "CHR:START-END (at most 1000 SNPs are drawn).")] = None,
    ld_distance: Annotated[int, typer.Option("--ld-distance", help="SNP pairs within this many bp count "
                                             "for LD correlation and decay.")] = 50_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the samples drawn for pairwise measures.")] = 0,
    baselines: Annotated[Optional[bool], typer.Option("--baselines/--no-baselines", help="Also score, in the same "
                                                      "tables, the hybridizer alone on --train and half the "
                                                      "held-out real genomes \\[default: on with --train when "
                                                      "some real genomes are not in it].",
                                                      show_default=False)] = None,
    progress: ProgressOpt = True,
) -> None:
    """Compare a synthetic cohort with a real one: closeness, diversity and privacy, per population.

    Example: [bold]ogan report full.h5 synth.vcf.gz --synth-panel synth.panel --train train.h5 -o report/[/]
    """
    from .baselines import SYNTHETIC_LABEL
    from .reporting import report as run

    result = run(real, synthetic, output, panel=panel, synth_panel=synth_panel, train=train,
                 train_panel=train_panel, ld_region=ld_region, ld_distance=ld_distance, seed=seed,
                 baselines=baselines, show_progress=progress)
    met = result.metrics
    sets = [(label.split(" (")[0], m) for label, m in  # short labels: "synthetic", "hybridizer only", ...
            [(SYNTHETIC_LABEL, met), *((b["label"], b) for b in met.get("baselines", {}).values())]]
    grouped = len(sets) > 1  # one row per set, the population named on its first

    def set_rows(table, groups, get, cells):
        """Rows of ``table``: per group (population), ``cells(get(metrics, group))`` of each set that has it."""
        for group in groups:
            present = [(label, get(m, group)) for label, m in sets if get(m, group)]
            for i, (label, row) in enumerate(present):
                table.add_row(group if i == 0 else "", *([label] if grouped else []), *cells(row),
                              end_section=grouped and i == len(present) - 1)

    sites = met["sites"]
    table = Table(title=f"report: {output}/report.html  (shared sites {sites['shared']} of {sites['real']} real, "
                        f"{sites.get('flipped', 0)} with REF/ALT flipped)", title_justify="left", title_style="bold")
    keys = ("maf_r", "ld_r", "label_accuracy", "diversity_ratio", "heterozygosity_ratio", "duplicate_fraction")
    table.add_column("population")
    if grouped:
        table.add_column("set")
    for header in ("n", "MAF r", "LD r", "label acc.", "diversity", "het.", "duplicates"):
        table.add_column(header, justify="right")
    set_rows(table, [*met["per_population"], "overall"],
             lambda m, group: m["overall"] if group == "overall" else m["per_population"].get(group),
             lambda values: (str(values["n_synthetic"]), *(_fmt(values.get(k)) for k in keys)))
    if grouped:
        table.caption = ("baselines, scored the same way: hybridizer only = PPO offspring of --train; held-out "
                         "real = half the real genomes not in --train, scored as if synthetic")
    console.print(table)
    if "privacy" in met:
        p = met["privacy"]
        pooled = ("exact_copy_fraction", "dcr_ratio", "aa_ts", "membership_auc", "max_kinship",
                  "longest_shared_run_snps", "n_holdout")
        if grouped:
            privacy = Table(title="privacy audit (pooled over populations)", title_justify="left", title_style="bold")
            privacy.add_column("")
            for label, _ in sets:
                privacy.add_column(label, justify="right")
            for k in pooled:
                privacy.add_row(k, *(_fmt((m.get("privacy") or {}).get(k)) for _, m in sets))
            console.print(privacy)
        else:
            console.print(_table("privacy audit (pooled over populations)", [(k, _fmt(p.get(k))) for k in pooled]))
        if p.get("per_population"):
            def with_interval(row, key):
                value, interval = row.get(key), row.get(f"{key}_interval")
                return "n/a" if value is None else f"{value:.2f}" + (
                    f" [{interval[0]:.2f},{interval[1]:.2f}]" if interval else "")

            audit = Table(title="privacy audit within each population (95% intervals)", title_justify="left",
                          title_style="bold")
            audit.add_column("population")
            if grouped:
                audit.add_column("set")
            for header in ("n", "privacy loss", "MIA nearest AUC", "MIA allele-freq. AUC"):
                audit.add_column(header, justify="right")
            set_rows(audit, p["per_population"],
                     lambda m, pop: ((m.get("privacy") or {}).get("per_population") or {}).get(pop),
                     lambda row: (str(row["n"]), *(with_interval(row, k) for k in (
                         "privacy_loss", "mia_nearest_auc", "mia_frequency_lr_auc"))))
            console.print(audit)
        for concern in p["concerns"]:
            console.print(f"[bold red]privacy concern:[/] {concern}", highlight=False)
    _print_notes(result.notes)


@app.command()
@handle_errors
def train(
    input: InputArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")],
    panel: PanelOpt = None,
    model: Annotated[Optional[str], typer.Option("--model", help="offspring (real + offspring), ppo (offspring "
                                                 "only: privacy), pgcgan (the baseline, no hybridizer) "
                                                 "\\[default: offspring].")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="cpu (minutes on a laptop), paper (the "
                                                  "notebook architecture, for GPUs), tiny (the cpu architecture "
                                                  "in a size for tests) \\[default: cpu].")] = None,
    epochs: EpochsOpt = None,
    batch_size: BatchSizeOpt = None,
    lr: LrOpt = None,
    d_steps: DStepsOpt = None,
    block_size: BlockSizeOpt = None,
    genetic_map: TrainMapOpt = None,
    seed: SeedOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in OUTPUT as configured "
                                         "(only --epochs may change: the new total).")] = False,
    xla: Annotated[bool, typer.Option("--xla/--no-xla", help="Compile the train step with XLA (on CPU this "
                                      "gives up bit-identical reruns).")] = False,
    steps_per_epoch: StepsOpt = None,
    window_snps: WindowSnpsOpt = None,
    overlap_snps: OverlapOpt = None,
    cut: CutOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    synchronous: SynchronousOpt = False,
    label_column: LabelOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Train a conditional GAN (Offspring GAN, PPO-GAN or PG-cGAN) on a cohort.

    Example: [bold]ogan train train.h5 --model offspring --preset cpu -o model/ --seed 1[/]
    """
    from .hybridizer import BlockSpec
    from .training import train as run

    blocks = BlockSpec(size=block_size, genetic_map=str(genetic_map) if genetic_map else None) \
        if block_size or genetic_map else None
    s = run(input, output, panel=panel, label_column=label_column, model=model, preset=preset,
            overrides={"epochs": epochs, "batch_size": batch_size, "lr": lr, "d_steps": d_steps,
                       "steps_per_epoch": steps_per_epoch}, blocks=blocks,
            seed=seed, resume=resume, jit_compile=xla, window_snps=window_snps, overlap_snps=overlap_snps, cut=cut,
            workers=workers, scheduler=scheduler, synchronous=synchronous, show_progress=progress)
    rows = [("model", s.model), ("preset", s.preset), ("training genomes", _counts(s.n_training)),
            ("epochs", s.epochs), ("generator steps", s.steps), ("best epoch", s.best_epoch),
            ("best quality", _fmt(s.best_quality)), ("time", f"{s.seconds:.0f} s")]
    if s.switch_rates:
        rows.append(("start: switches per Morgan", ", ".join(f"{p} {g:g}" for p, g in s.switch_rates.items())))
    if s.windows > 1:
        rows[6] = ("best quality", f"{_fmt(s.best_quality)} (mean over windows)")
        rows += _window_rows(s)
    console.print(_table(f"train: {s.model_dir}", rows))
    if s.interrupted:
        console.print(f"[yellow]interrupted:[/] the last checkpoint (epoch {s.epochs}) stands; continue with "
                      "--resume", highlight=False)
        raise typer.Exit(130)


def _window_rows(s) -> list[tuple[str, object]]:
    """Summary rows of a windowed run: windows, engine, time per window, the slowest."""
    rows = [("windows", f"{s.windows}: {s.windows_trained} trained, {s.windows_skipped} already done (kept)"),
            ("engine", s.engine)]
    if s.window_seconds:
        times = sorted(s.window_seconds.items(), key=lambda kv: -kv[1])
        rows += [("time per window", f"median {statistics.median(t for _, t in times):.0f} s"),
                 ("slowest windows", ", ".join(f"{k} {t:.0f} s" for k, t in times[:3]))]
    return rows


@app.command()
@handle_errors
def generate(
    model_dir: Annotated[Path, typer.Argument(help="A model directory from `ogan train`.", show_default=False)],
    output: OutputFileOpt,
    n: Annotated[Optional[int], typer.Option("--n", help="People per population \\[default: the largest "
                                             "training population].")] = None,
    pop: Annotated[Optional[list[str]], typer.Option("--pop", help="Only these populations.")] = None,
    hybridize_factor: Annotated[Optional[int], typer.Option("--hybridize-factor", help="Generate ceil(N/F) "
                                                            "with the network, multiply by F with the "
                                                            "hybridizer (the paper: 4).")] = None,
    sample: Annotated[Optional[bool], typer.Option("--sample/--argmax", help="Draw each genotype from the "
                                                   "softmax, or take its argmax (the paper) \\[default: "
                                                   "sample for models trained on Gumbel samples (cpu "
                                                   "preset), argmax otherwise].")] = None,
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="best (highest quality score), last, or "
                                            "first (the first evaluated epoch: the generator's start).")] = "best",
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    synchronous: SynchronousOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Write N synthetic people per population as VCF/BCF/PLINK (+ panel) or .h5; phased when the model was.

    Example: [bold]ogan generate model/ --n 500 --pop EAS,AFR -o synth.vcf.gz --seed 1[/]
    """
    from .generation import generate as run

    s = run(model_dir, output, n=n, populations=_split(pop), sample=sample, hybridize_factor=hybridize_factor,
            seed=seed, checkpoint=checkpoint, workers=workers, scheduler=scheduler, synchronous=synchronous,
            show_progress=progress)
    console.print(_table(f"generate: {output}", [
        ("people", _counts(s.counts)), ("model epoch", s.epoch), ("seed", s.seed),
        ("hybridize factor", s.hybridize_factor or "-"), ("files", "\n".join(s.paths)),
    ]))


@app.command()
@handle_errors
def pipeline(
    input: InputArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Study directory (created; re-running "
                                         "continues it).")],
    panel: PanelOpt = None,
    keep: Annotated[Optional[str], typer.Option("--keep", help="The paper's study: keep these fractions, "
                                                "e.g. EAS=0.2,AFR=0.2,SAS=0.2, train on that and compare with "
                                                "the full cohort. Without it: train on the cohort as it is "
                                                "and write a balanced synthetic cohort.")] = None,
    model: Annotated[str, typer.Option("--model", help="offspring, ppo, pgcgan, a comma list, or all "
                                       "(adds comparison.html).")] = "offspring",
    preset: Annotated[str, typer.Option("--preset", help="cpu, paper (GPU) or tiny (tests).")] = "cpu",
    epochs: EpochsOpt = None,
    batch_size: BatchSizeOpt = None,
    lr: LrOpt = None,
    d_steps: DStepsOpt = None,
    block_size: BlockSizeOpt = None,
    genetic_map: TrainMapOpt = None,
    n: Annotated[Optional[int], typer.Option("--n", help="Synthetic people per population \\[default: the "
                                             "largest population of the full cohort].")] = None,
    hybridize_factor: Annotated[Optional[int], typer.Option("--hybridize-factor", help="The second "
                                                            "hybridizer's factor (the paper: 4).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of every step \\[default: the study's "
                                                "seed when continuing, else random].")] = None,
    baselines: Annotated[bool, typer.Option("--baselines/--no-baselines", help="Also report each model at its "
                                            "first epoch, the hybridizer alone and (study) the held-out real "
                                            "genomes, side by side in comparison.html.")] = True,
    steps_per_epoch: StepsOpt = None,
    window_snps: WindowSnpsOpt = None,
    overlap_snps: OverlapOpt = None,
    cut: CutOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    synchronous: SynchronousOpt = False,
    label_column: LabelOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Run the whole study (bias, train, generate, report) or the production use in one command.

    Re-running skips finished steps, re-runs what a changed option affects, and resumes a stopped
    training run from its last checkpoint.

    Example: [bold]ogan pipeline cohort.vcf.gz -p cohort.panel --keep EAS=0.2,AFR=0.2,SAS=0.2 --model all -o study/[/]
    """
    from .pipeline import pipeline as run

    overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "d_steps": d_steps,
                 "steps_per_epoch": steps_per_epoch}
    s = run(input, output, panel=panel, label_column=label_column, keep=keep, models=model, preset=preset,
            overrides={k: v for k, v in overrides.items() if v is not None}, block_size=block_size,
            genetic_map=str(genetic_map) if genetic_map else None, n=n,
            hybridize_factor=hybridize_factor, seed=seed, baselines=baselines, window_snps=window_snps,
            overlap_snps=overlap_snps, cut=cut, workers=workers, scheduler=scheduler, synchronous=synchronous,
            show_progress=progress,
            log=lambda text: console.print(f"[dim]pipeline:[/] {text}", highlight=False))
    steps = Table(title=f"pipeline ({s.design}, seed {s.seed}): {s.out_dir}", title_justify="left",
                  title_style="bold")
    for header in ("step", "ran", "seconds"):
        steps.add_column(header, justify="right" if header == "seconds" else "left")
    for step in s.steps:
        steps.add_row(step.name, "yes" if step.ran else "up to date", f"{step.seconds:.0f}")
    console.print(steps)
    focus = [p for p in next(iter(s.headline.values())) if p != "overall"]
    table = Table(title="headline: synthetic vs the full real cohort", title_justify="left", title_style="bold")
    table.add_column("measure")
    for name in s.headline:
        table.add_column(name, justify="right")
    rows = [(f"{label} {pop}", lambda row, pop=pop, key=key: row[pop][key])
            for key, label in (("maf_r", "MAF r"), ("ld_r", "LD r")) for pop in focus]
    rows += [(label, lambda row, key=key: row["overall"][key]) for key, label in (
        ("label_accuracy", "label accuracy"), ("duplicate_fraction", "duplicates"),
        ("exact_copy_fraction", "exact copies"), ("dcr_ratio", "DCR ratio"), ("aa_ts", "AA_TS"),
        ("concerns", "privacy concerns"))]
    for label, get in rows:
        table.add_row(label, *(_fmt(get(row)) for row in s.headline.values()))
    console.print(table)
    where = [s.summary_path, *([s.comparison_path] if s.comparison_path else []),
             *(str(Path(s.out_dir) / "reports" / m / "report.html") for m in s.models)]
    console.print("open: " + "\n      ".join(where), highlight=False)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> None:
    """Console entry point; accepts --debug anywhere on the command line."""
    args = sys.argv[1:]
    if "--debug" in args[: args.index("--") if "--" in args else None]:
        _state["debug"] = True
        args.remove("--debug")
    app(args=args, prog_name="ogan")
