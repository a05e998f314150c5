"""``ogan train``: balance a cohort with the hybridizer, fit the conditional GAN, keep checkpoints.

A model directory (see ``model.store``) holds ``config.json``, Keras checkpoints ``last``
and ``best`` (the whole GAN: networks, optimizers, seed generators) and ``history.csv``.
The quality score is the mean over populations of (MAF r + LD r) / 2 between genomes
generated at that epoch (as ``ogan generate`` would draw them) and the training cohort.

Each epoch visits the training genomes in an order that depends only on (seed, epoch),
and every random state is in the checkpoint, so a run stopped and resumed gives the same
weights as one that was not stopped. A Ctrl-C keeps the last checkpoint (written at the
end of an evaluated epoch) and drops the partial epoch.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import secrets
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .cohort import Cohort, software_versions
from .errors import InputError
from .hybridizer import BlockSpec
from .model.encoding import dosage, draw_classes, encode, n_classes
from .model.presets import UNPHASED_TEMPLATES, Preset, make_preset, preset_from_dict
from .model.store import (MODEL_FORMAT, build_gan, has_checkpoint, load_checkpoint, read_config,
                          link_checkpoint, save_checkpoint, write_config)


@dataclass
class TrainSummary:
    model_dir: str
    model: str
    preset: str
    epochs: int
    steps: int
    best_epoch: int
    best_quality: float | None
    seconds: float
    n_training: dict[str, int]
    interrupted: bool = False
    windows: int = 1  # >1: a windowed run (see windowed.py), figures summed or averaged over windows
    windows_trained: int = 0
    windows_skipped: int = 0
    window_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    window_digests: dict[str, str] = dataclasses.field(default_factory=dict)
    engine: str = ""
    switch_rates: dict[str, float] = dataclasses.field(default_factory=dict)  # the copying start's, per population


def training_cohort(cohort: Cohort, model: str, blocks: BlockSpec, seed: int) -> Cohort:
    """What the GAN sees: offspring-balanced (offspring), offspring only (ppo), as is (pgcgan).

    Phased cohorts get mosaic offspring (per-haplotype switch points); unphased ones, or a fixed
    ``blocks.size`` (the paper's 1000-SNP blocks), genotype blocks."""
    from .hybridizer import default_unit, hybridize

    if model == "pgcgan":
        return cohort
    return hybridize(cohort, balance=True, mode="offspring" if model == "offspring" else "ppo",
                     blocks=blocks, unit=default_unit(cohort, blocks), seed=seed).cohort


class Quality:
    """Scores generated genomes against the training data, per population (fixed noise).

    LD pairs are SNPs within 50 kb on one contig (never across contigs).
    """

    def __init__(self, classes, labels, label_names, phased, contig, positions, n_samples, seed, sample):
        from .reporting import metrics as m

        self.m, self.phased, self.names = m, phased, label_names
        rng = np.random.default_rng(seed)
        self.reference = [dosage(classes[labels == k], phased) for k in range(len(label_names))]
        self.pairs = m.near_pairs(np.asarray(contig), np.asarray(positions), 50_000, 2_000, rng)
        self.ref_r = [m.pair_r(m.standardize(d), *self.pairs) for d in self.reference]
        self.labels = np.repeat(np.arange(len(label_names)), n_samples).astype(np.int32)
        self.seed, self.sample = seed, sample

    def __call__(self, generator, noise_dim: int, n_snps: int) -> dict:
        from .model.networks import run_generator

        noise = np.random.default_rng(self.seed).normal(size=(len(self.labels), noise_dim))
        logits = run_generator(generator, noise.astype("float32"), self.labels, n_snps)
        classes = draw_classes(logits, self.sample, np.random.default_rng(self.seed))
        scores = {}
        for k, name in enumerate(self.names):
            d = dosage(classes[self.labels == k], self.phased)
            maf_r = self.m.pearson(*self.m.maf_pair(self.reference[k], d))
            ld_r = self.m.pearson(self.ref_r[k], self.m.pair_r(self.m.standardize(d), *self.pairs))
            scores[f"maf_r_{name}"], scores[f"ld_r_{name}"] = maf_r, ld_r
        values = [((scores[f"maf_r_{n}"] or 0) + (scores[f"ld_r_{n}"] or 0)) / 2 for n in self.names]
        scores["quality"] = float(np.mean(values))
        return scores


def _resumed_config(model_dir: Path, model, preset, seed, jit_compile, blocks, overrides) -> tuple[dict, Preset]:
    """The recorded config and preset of a run to continue; only the epoch total may change."""
    config = read_config(model_dir)
    chosen = preset_from_dict(config["preset"])
    recorded = {"model": (model, config["model"]), "preset": (preset, chosen.name),
                "seed": (seed, config["seed"]), "jit_compile": (jit_compile or None, config.get("jit_compile") or None),
                "blocks": (blocks.describe() if blocks else None, config.get("hybridizer_blocks"))}
    changed = sorted(k for k, v in (overrides or {}).items()
                     if v is not None and k != "epochs" and v != getattr(chosen, k, None))
    changed += [name for name, (given, stored) in recorded.items() if given is not None and given != stored]
    if changed:
        raise InputError(f"resuming continues {model_dir} as configured; only the number of epochs may change "
                         f"(got other {', '.join(changed)})")
    epochs = (overrides or {}).get("epochs")
    if epochs is not None and epochs != chosen.epochs:  # extend (or shorten) the run
        if epochs < 1:
            raise InputError(f"epochs must be at least 1, got {epochs}")
        chosen = dataclasses.replace(chosen, epochs=int(epochs))
        config["preset"] = chosen.to_dict()
        write_config(model_dir, config)
    return config, chosen


def train(input, model_dir, *, panel=None, label_column=None, model: str | None = None, preset: str | None = None,
          overrides: dict | None = None, blocks: BlockSpec | None = None, seed: int | None = None,
          resume: bool = False, jit_compile: bool | None = None, window_snps: int | None = None,
          overlap_snps: int | None = None, cut: str | None = None, workers: int | None = None,
          scheduler: str | None = None, synchronous: bool = False, show_progress: bool = False) -> TrainSummary:
    """Train a conditional GAN on ``input`` and write (or continue) ``model_dir``.

    ``model`` defaults to offspring and ``preset`` to cpu. With ``resume`` the run continues
    from its last checkpoint as its config.json says; only ``overrides["epochs"]`` may change
    it (the new total), and any other option that disagrees with the config is refused.

    A cohort of more than 1.5 x ``window_snps`` SNPs (default ``windows.DEFAULT_WINDOW_SNPS``) is
    cut into windows (``cut``: see ``windows.plan_windows``), one model each, trained as Dask tasks (``workers``/``scheduler``/``synchronous``,
    see ``parallel.Engine``); a resumed windowed run keeps every finished window (windowed.py).
    ``input`` may also be an in-memory Cohort (always one model).
    """
    from .model import require_tensorflow

    require_tensorflow()
    if not isinstance(input, Cohort):
        windowed = _windowed_run(input, Path(model_dir), panel=panel, label_column=label_column, model=model,
                                 preset=preset, overrides=overrides, blocks=blocks, seed=seed, resume=resume,
                                 jit_compile=jit_compile, window_snps=window_snps, overlap_snps=overlap_snps,
                                 cut=cut, workers=workers, scheduler=scheduler, synchronous=synchronous,
                                 show_progress=show_progress)
        if isinstance(windowed, TrainSummary):
            return windowed
        input = windowed  # one window: the cohort, already read
    import keras
    import tensorflow as tf

    from .io import read_cohort

    model_dir = Path(model_dir)
    if resume:
        config, chosen = _resumed_config(model_dir, model, preset, seed, jit_compile, blocks, overrides)
        seed, model = config["seed"], config["model"]
        stored = config.get("hybridizer_block_size")  # the hybridizer blocks the run started with
        blocks = BlockSpec(size=stored, genetic_map=config.get("hybridizer_map"))
    else:
        model, preset = model or "offspring", preset or "cpu"
        chosen = make_preset(preset, model, **(overrides or {}))
        seed = secrets.randbits(31) if seed is None else int(seed)
    cohort = input if isinstance(input, Cohort) else read_cohort(input, panel=panel, label_column=label_column,
                                                                  show_progress=show_progress)
    phase = cohort.phase_state  # of the called calls: a missing call has no phase
    phased = phase == "phased"
    if chosen.architecture == "haplotypes" and not phased:  # copying haplotypes needs phase: genotype blocks
        chosen = replace(chosen, architecture="templates", codebook="shared",
                         templates=min(chosen.templates, UNPHASED_TEMPLATES))
    real_classes = encode(cohort.genotypes, phased, source=str(input))  # refuses missing calls first
    if phase == "partly":
        raise InputError(f"{input}: partly phased; phase every call (e.g. Beagle) or none before training")
    keras.utils.set_random_seed(seed)
    gpu = bool(tf.config.list_physical_devices("GPU"))
    mixed = config.get("mixed_precision", False) if resume else gpu  # a resumed run keeps its optimizer form
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")  # logits cast to float32
    if not gpu and not (config.get("jit_compile") if resume else jit_compile):
        tf.config.experimental.enable_op_determinism()  # same seed, same weights (XLA on CPU gives this up)
    data = training_cohort(cohort, model, blocks or BlockSpec(), seed)
    labels_names = list(cohort.samples.population_counts())
    classes = encode(data.genotypes, phased)
    labels = np.array([labels_names.index(p) for p in data.samples.populations], dtype=np.int32)
    if not resume and chosen.architecture == "haplotypes" and chosen.codebook == "real":
        # a codebook of every distinct real haplotype, up to ``templates`` (then each population's fair share)
        counts = distinct_haplotype_counts(data.genotypes, labels, len(labels_names),
                                           np.isin(data.samples.ids, cohort.samples.ids))
        chosen = replace(chosen, templates=int(max(len(labels_names), min(chosen.templates, counts.sum()))))
    if not resume:
        config = _new_config(cohort, model, chosen, labels_names, phased, seed, data, jit_compile)
        config.update(mixed_precision=mixed, hybridizer_blocks=(blocks or BlockSpec()).describe(),
                      hybridizer_block_size=blocks.size if blocks else None,
                      hybridizer_map=blocks.genetic_map if blocks else None)
        if chosen.architecture in ("templates", "haplotypes"):
            from .hybridizer.blocks import ld_blocks

            spec = BlockSpec(min_snps=max(1, chosen.block_snps // 4), max_snps=chosen.block_snps)
            config["network_blocks"] = ld_blocks(data.genotypes, data.variant_contig, spec).tolist()
        model_dir.mkdir(parents=True, exist_ok=True)
        write_config(model_dir, config)
    gan = build_gan(config, chosen)
    state = {"epoch": 0, "best_quality": None, "best_epoch": 0}
    if resume and has_checkpoint(model_dir, "last"):
        state = load_checkpoint(gan, model_dir, "last")
    elif chosen.architecture == "templates":
        init_templates(gan.generator, classes, labels, len(labels_names), chosen.templates, seed,
                       chosen.codebook)
    elif chosen.architecture == "haplotypes":
        from .hybridizer.blocks import read_genetic_map
        from .hybridizer.mosaic import genetic_positions
        from .model.networks import switch_middles

        genetic_map = read_genetic_map(blocks.genetic_map) if blocks and blocks.genetic_map else None
        cm = genetic_positions(data.variant_contig, data.variant_position, data.contig_id, genetic_map)
        rates = None
        if chosen.membership_budget:
            middles = switch_middles(config["network_blocks"]) if chosen.switch_inside else None
            rates, config["switch_rates"] = population_switch_rates(cohort, cm, chosen.membership_budget, seed,
                                                                    middles, chosen.match_window)
            write_config(model_dir, config)
        init_haplotypes(gan.generator, data.genotypes, labels, len(labels_names), chosen.templates, seed,
                        chosen.codebook, data.variant_contig, cm * 1e6,  # bp at 1 cM per Mb
                        generations=None if rates is None else np.array([rates[p] for p in labels_names]),
                        real=np.isin(data.samples.ids, cohort.samples.ids))
    quality = Quality(real_classes, np.array([labels_names.index(p) for p in cohort.samples.populations]),
                      labels_names, phased, cohort.variant_contig, cohort.variant_position,
                      chosen.eval_samples, seed, chosen.samples)
    return _fit(gan, chosen, config, classes, labels, quality, state, model_dir, seed, show_progress)


def _windowed_run(input, model_dir: Path, *, panel, label_column, model, preset, overrides, blocks, seed, resume,
                  jit_compile, window_snps, overlap_snps, cut, workers, scheduler, synchronous, show_progress):
    """A windowed run's TrainSummary, or (one window) the cohort for the ordinary path."""
    from .cohort import is_cohort_path, write_cohort
    from .io import open_source
    from .model.store import read_config
    from .parallel import Engine
    from .windowed import LAYOUT, is_windowed_model, train_windowed
    from .windows import DEFAULT_OVERLAP_SNPS, DEFAULT_WINDOW_SNPS, window_table, windows_from_table

    stored = model_dir / "training.h5"  # a VCF/PLINK input, ingested once for every window
    if resume and is_windowed_model(model_dir):
        config = read_config(model_dir)
        recorded = {"model": (model, config["model"]), "preset": (preset, config["preset"]["name"]),
                    "seed": (seed, config["seed"]), "window_snps": (window_snps, config["window_snps"]),
                    "overlap_snps": (overlap_snps, config["overlap_snps"]), "cut": (cut, config["cut"]),
                    "blocks": (blocks.describe() if blocks else None, config.get("hybridizer_blocks"))}
        changed = [k for k, (given, kept) in recorded.items() if given is not None and given != kept]
        changed += sorted(k for k, v in (overrides or {}).items() if v is not None and k != "epochs"
                          and v != config["preset"].get(k))
        if changed:
            raise InputError(f"resuming continues {model_dir} as configured; only the number of epochs may change "
                             f"(got other {', '.join(changed)})")
        cohort_path = Path(config["cohort"])
        if not cohort_path.is_file():
            raise InputError(f"{model_dir}: its training cohort {cohort_path} is gone; train afresh")
        windows = windows_from_table(config["windows"])
        model, preset, seed = config["model"], config["preset"]["name"], config["seed"]
        size, genetic_map = config.get("hybridizer_block_size"), config.get("hybridizer_map")
        blocks = BlockSpec(size=size, genetic_map=genetic_map) if size or genetic_map else None  # as first given
        label_column = config["label_column"]
        epochs = (overrides or {}).get("epochs") or config["preset"]["epochs"]
        if epochs < 1:
            raise InputError(f"epochs must be at least 1, got {epochs}")
        chosen = replace(preset_from_dict(config["preset"]), epochs=int(epochs))
        config["preset"] = chosen.to_dict()
    else:
        model, preset = model or "offspring", preset or "cpu"
        chosen = make_preset(preset, model, **(overrides or {}))  # bad options before any work
        staged = None
        if is_cohort_path(input) and panel is None:
            cohort_path = Path(input)
        else:  # ingested beside the model directory; moved into it only if the run is windowed
            model_dir.parent.mkdir(parents=True, exist_ok=True)
            staged = model_dir.parent / f".{model_dir.name}.{os.getpid()}.training.h5"
            write_cohort(staged, open_source(input, panel=panel, label_column=label_column),
                         show_progress=show_progress)
            cohort_path, label_column = staged, None
        seed = secrets.randbits(31) if seed is None else int(seed)
        try:
            plan = _plan_run(cohort_path, input, label_column, blocks, window_snps, overlap_snps, cut)
        except BaseException:
            if staged:
                staged.unlink(missing_ok=True)
            raise
        if isinstance(plan, Cohort):  # one window: the ordinary path
            if staged:
                staged.unlink(missing_ok=True)
            return plan
        windows, samples, contig_id, contig_length, phased, n_variants = plan
        if label_column and label_column != samples.label_column:
            samples = samples.relabel(label_column, str(input))
        if model_dir.exists():  # a fresh run: what was there is replaced
            for old in (model_dir / "windows", model_dir / "checkpoints", model_dir / "history.csv"):
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        if staged:
            model_dir.mkdir(parents=True, exist_ok=True)
            os.replace(staged, stored)
            cohort_path = stored
        config = {"format": MODEL_FORMAT, "layout": LAYOUT, "model": model, "preset": chosen.to_dict(),
                  "labels": list(samples.population_counts()), "label_column": samples.label_column,
                  "phased": phased, "seed": seed, "software": software_versions(), "source": str(input),
                  "cohort": str(cohort_path.resolve()), "n_variants": n_variants, "contig_id": list(contig_id),
                  "contig_length": list(contig_length), "window_snps": window_snps or DEFAULT_WINDOW_SNPS,
                  "overlap_snps": DEFAULT_OVERLAP_SNPS if overlap_snps is None else overlap_snps,
                  "cut": cut or "even", "windows": window_table(windows), "jit_compile": bool(jit_compile),
                  "hybridizer_blocks": (blocks or BlockSpec()).describe(),
                  "hybridizer_block_size": blocks.size if blocks else None,
                  "hybridizer_map": blocks.genetic_map if blocks else None}
    options = {"model": model, "preset": preset, "overrides": {k: v for k, v in (overrides or {}).items() if k != "epochs"},
               "epochs": chosen.epochs, "blocks": blocks, "seed": seed, "jit_compile": config["jit_compile"]}
    start = time.perf_counter()
    with Engine(workers, scheduler, synchronous) as engine:
        try:
            run = train_windowed(cohort_path, model_dir, windows, config=config, options=options,
                                 label_column=label_column, engine=engine, show_progress=show_progress)
        except KeyboardInterrupt:
            return TrainSummary(str(model_dir), model, preset, chosen.epochs, 0, 0, None, time.perf_counter() - start,
                                {}, interrupted=True, windows=len(windows), engine=engine.describe())
    from .windowed import read_done

    records = [read_done(model_dir, w) for w in windows]
    config["training_sizes"] = records[0]["n_training"]
    write_config(model_dir, config)
    qualities = [r["best_quality"] for r in records if r.get("best_quality") is not None]
    return TrainSummary(str(model_dir), model, preset, chosen.epochs, sum(r["steps"] for r in records),
                        min(r["best_epoch"] for r in records), float(np.mean(qualities)) if qualities else None,
                        time.perf_counter() - start, config["training_sizes"], windows=len(windows),
                        windows_trained=run.trained, windows_skipped=run.skipped, window_seconds=run.seconds,
                        window_digests=run.digests, engine=run.engine)


def _plan_run(cohort_path: Path, input, label_column, blocks, window_snps, overlap_snps, cut):
    """The cohort itself (one window) or (windows, samples, contig ids, lengths, phased, n variants),
    with the input's phase and missing calls checked for a windowed run."""
    from .cohort import CohortFile
    from .windows import DEFAULT_OVERLAP_SNPS, DEFAULT_WINDOW_SNPS, plan_windows

    with CohortFile(cohort_path) as f:
        genetic_cm = None
        if cut == "map" and blocks and blocks.genetic_map:
            from .hybridizer.blocks import read_genetic_map, variants_cm

            genetic_cm = variants_cm(f.variant_contig, f.variant_position, f.contig_id,
                                     read_genetic_map(blocks.genetic_map))
        windows = plan_windows(f.variant_contig, window_snps=window_snps or DEFAULT_WINDOW_SNPS,
                               overlap_snps=DEFAULT_OVERLAP_SNPS if overlap_snps is None else overlap_snps,
                               cut=cut or "even", genotypes=f.genotype_dataset, genetic_cm=genetic_cm)
        if len(windows) == 1:
            cohort = f.load()
            if label_column and label_column != cohort.samples.label_column:
                cohort.samples = cohort.samples.relabel(label_column, str(input))
            cohort.path = str(input)
            return cohort
        called = f.n_variants * len(f.samples) - f.n_missing_calls
        if f.n_missing_calls:
            raise InputError(f"{input}: {f.n_missing_calls} missing calls cannot be used for training; impute "
                             "them first (e.g. Beagle), or drop those sites")
        if 0 < f.n_unphased_calls < called:
            raise InputError(f"{input}: partly phased; phase every call (e.g. Beagle) or none before training")
        return windows, f.samples, f.contig_id, f.contig_length, f.n_unphased_calls == 0, f.n_variants


CODEBOOKS = ("shared", "per_population", "real")


def template_owners(k: int, counts: np.ndarray, codebook: str) -> np.ndarray:
    """Which population each of the ``k`` templates starts from: shares proportional to the
    training counts ("shared", largest remainder, at least one each), equal ("per_population"),
    or ("real") each population as many as it has (``counts``: its distinct real haplotypes) where
    they fit, the rest shared equally among the populations that have more (``water_fill``)."""
    counts = np.asarray(counts, dtype=np.float64)
    if k < len(counts):
        raise InputError(f"{k} templates cannot cover {len(counts)} populations; use a preset with more templates")
    if codebook == "per_population":
        return np.arange(k) % len(counts)
    if codebook == "real":
        return np.repeat(np.arange(len(counts)), water_fill(k, counts.astype(np.int64)))
    if codebook != "shared":
        raise InputError(f"codebook must be one of {', '.join(CODEBOOKS)}, got {codebook!r}")
    return np.repeat(np.arange(len(counts)), 1 + _largest_remainder(k - len(counts), counts))


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` whole slots (int) in proportion to ``weights``: floors, then the largest remainders."""
    quota = total * np.asarray(weights, dtype=np.float64) / np.sum(weights)
    share = np.floor(quota).astype(np.int64)
    share[np.argsort(share - quota, kind="stable")[: total - share.sum()]] += 1
    return share


def water_fill(k: int, counts: np.ndarray) -> np.ndarray:
    """Shares (int, summing to ``k``) of ``k`` slots: min(count, level) each, the level as high as ``k``
    allows (at least one each; the slots left over by a level between two integers go to the
    populations with the most). Past sum(counts), the extra slots follow the counts' proportions."""
    counts = np.maximum(np.asarray(counts, dtype=np.int64), 1)
    if k >= counts.sum():
        return counts + _largest_remainder(k - counts.sum(), counts)
    level = 1
    while np.minimum(counts, level + 1).sum() <= k:  # the highest whole level that fits
        level += 1
    share = np.minimum(counts, level)
    left = k - share.sum()
    share[np.argsort(-counts * (counts > level), kind="stable")[:left]] += 1  # above the level: one more each
    return share


def distinct_haplotype_counts(genotypes: np.ndarray, labels: np.ndarray, n_labels: int,
                              real: np.ndarray | None = None) -> np.ndarray:
    """Per label, how many distinct haplotypes its real training genomes carry (all its genomes where it
    has no real one: PPO trains on offspring only): the "real" codebook's counts (``template_owners``)."""
    real = np.ones(len(labels), dtype=bool) if real is None else np.asarray(real, dtype=bool)
    out = np.zeros(n_labels, dtype=np.int64)
    for label in range(n_labels):
        own = labels == label
        use = own & real if (own & real).any() else own
        alleles = genotypes[:, use].transpose(1, 2, 0).reshape(-1, genotypes.shape[0])
        out[label] = len(np.unique(alleles, axis=0)) if len(alleles) else 0
    return out


def init_templates(generator, classes: np.ndarray, labels: np.ndarray, n_labels: int, k: int, seed: int,
                   codebook: str = "shared") -> None:
    """Codebook start: each population's templates are blocks of its own training genomes, drawn
    afresh for every block, and its prior picks among them uniformly (so step 0 draws
    hybridizer-like genomes). How many templates a population gets follows ``codebook``."""
    rng = np.random.default_rng(seed)
    owner = template_owners(k, np.bincount(labels, minlength=n_labels), codebook)
    layer = generator.get_layer("logits")
    n_blocks = len(layer.starts) - 1
    rows = np.empty((n_blocks, k), dtype=np.int64)
    for label in range(n_labels):
        members = np.flatnonzero(labels == label)
        per = int((owner == label).sum())
        rows[:, owner == label] = [rng.choice(members, per, replace=len(members) < per) for _ in range(n_blocks)]
    layer.set_templates(classes, rows)
    _own_population_prior(generator, owner, n_labels, n_blocks)


def _own_population_prior(generator, owner: np.ndarray, n_labels: int, n_blocks: int) -> None:
    """The template prior of each label: uniform over the templates its population owns, -8 elsewhere."""
    table = np.where(owner[None, :] == np.arange(n_labels)[:, None], 0.0, -8.0).astype("float32")
    generator.get_layer("template_prior").embeddings.assign(np.tile(table, (1, n_blocks)))


def population_switch_rates(cohort, position_cm: np.ndarray, budget: float, seed: int,
                            middles: np.ndarray | None = None, match_window: int = 0) -> tuple[dict, dict]:
    """Each population's mosaic switch rate chosen to a membership ``budget`` on its real training
    genomes (``hybridizer.calibrate``), for as many synthetic genomes as the largest population has
    (what ``ogan generate`` and the pipeline release by default): (population -> rate, the record).
    ``middles`` (the network blocks' middle SNPs): audit the copying generator's own switch process,
    at most one switch between consecutive middles, instead of the mosaic's Poisson switches;
    ``match_window``: its switches' agreement window (``mosaic.match_sources``; 0: to any source)."""
    from .hybridizer import DEFAULT_GENERATIONS
    from .hybridizer.calibrate import calibrate_generations
    from .hybridizer.mosaic import switch_intervals

    counts = cohort.samples.population_counts()
    largest = max(counts.values())
    intervals = None if middles is None else switch_intervals(middles, position_cm, cohort.variant_contig)
    rates, record = {}, {}
    for pop, n in counts.items():
        members = np.ascontiguousarray(cohort.genotypes[:, cohort.samples.populations == pop])
        found = calibrate_generations(members, position_cm, cohort.variant_contig, budget=budget,
                                      per_member=largest / n, seed=seed, intervals=intervals,
                                      match_window=match_window)
        rates[pop] = found.generations or DEFAULT_GENERATIONS
        record[pop] = {**found.to_dict(), "switches": "mosaic" if middles is None else "between block middles",
                       "match_window": match_window}
    return rates, record


def init_haplotypes(generator, genotypes: np.ndarray, labels: np.ndarray, n_labels: int, k: int, seed: int,
                    codebook: str, variant_contig: np.ndarray, variant_position: np.ndarray,
                    generations: float | np.ndarray | None = None, real: np.ndarray | None = None) -> None:
    """Copying-model start: each population's codebook holds distinct haplotypes of its own training
    genomes (whole, every block), its prior picks among them uniformly, and the stay bonus at each
    block edge makes a switch as likely as the mosaic hybridizer's: 1 - exp(-g x distance), g =
    ``generations`` (default the hybridizer's; or one rate per label) per Morgan, the distance between
    the blocks' middles at 1 cM per Mb of ``variant_position`` (pass cM x 1e6 to use a map; a switch
    falls between those middles with ``switch_inside``, else at the edge), and a fresh draw at a contig
    start. So step 0 draws mosaic-hybridizer-like genomes. ``real`` (bool per genome) marks real
    training genomes: their haplotypes enter the codebook first (an offspring haplotype is already a
    mosaic of them: copying it again would switch twice as often)."""
    from .hybridizer import DEFAULT_GENERATIONS
    from .model.networks import switch_middles

    generations = np.broadcast_to(np.asarray(DEFAULT_GENERATIONS if generations is None else generations,
                                             dtype=np.float64), (n_labels,))
    rng = np.random.default_rng(seed)
    counts = (distinct_haplotype_counts(genotypes, labels, n_labels, real) if codebook == "real"
              else np.bincount(labels, minlength=n_labels))
    owner = template_owners(k, counts, codebook)
    alleles = np.ascontiguousarray(genotypes.transpose(1, 2, 0).reshape(-1, genotypes.shape[0]))  # (2S, V)
    haplotype_label = np.repeat(labels, 2)
    haplotype_real = np.repeat(np.ones(len(labels), dtype=bool) if real is None else np.asarray(real, bool), 2)
    rows = np.empty(k, dtype=np.int64)
    for label in range(n_labels):
        own = np.flatnonzero(haplotype_label == label)
        per = int((owner == label).sum())
        order = own[np.lexsort((rng.random(len(own)), ~haplotype_real[own]))]  # real first, random within
        _, first = np.unique(alleles[order], axis=0, return_index=True)
        distinct = order[np.sort(first)]  # distinct haplotypes, in that order
        pick = distinct[:per]
        rows[owner == label] = np.concatenate([pick, rng.choice(own, per - len(pick))]) if per > len(pick) else pick
    layer = generator.get_layer("logits")
    layer.set_haplotypes(alleles, rows)
    starts = np.asarray(layer.starts)
    _own_population_prior(generator, owner, n_labels, len(starts) - 1)
    if layer.switch_inside:  # a switch between blocks b-1 and b falls between their middle SNPs
        middle = np.asarray(variant_position, dtype=np.float64)[switch_middles(starts)]
    else:  # at the edge, with the probability of the distance between the blocks' midpoints
        middle = (variant_position[starts[:-1]] + variant_position[starts[1:] - 1]) / 2.0
    switch = 1.0 - np.exp(-generations[owner][None, :] * np.diff(middle)[:, None] / 1e8)  # 1 cM per Mb
    new_contig = variant_contig[starts[1:-1]] != variant_contig[starts[1:-1] - 1]
    layer.set_switch_points(variant_position, new_contig)
    choice = generator.get_layer("template_choice")
    if hasattr(choice, "set_codebook"):  # matched switches (``MatchedMarkovChoice``)
        choice.set_codebook(alleles[rows], owner, variant_contig)
        choice.set_switch_points(variant_position, new_contig)
    own_count = np.bincount(owner, minlength=n_labels)[owner].astype(np.float64)  # K_p of each template
    stay_p = np.clip(1.0 - switch, 1e-6, 1 - 1e-6)
    bonus = np.log(stay_p / (1.0 - stay_p) * np.maximum(own_count - 1.0, 1.0)[None, :])
    bonus[new_contig] = 0.0
    choice.stay.assign(bonus.astype("float32") if len(bonus) else np.zeros(choice.stay.shape, "float32"))


def _new_config(cohort, model, preset, labels, phased, seed, data, jit_compile) -> dict:
    return {
        "format": MODEL_FORMAT, "model": model, "preset": preset.to_dict(), "labels": labels,
        "label_column": cohort.samples.label_column, "phased": phased, "n_classes": n_classes(phased),
        "seed": seed, "software": software_versions(), "source": cohort.path,
        "training_sizes": data.samples.population_counts(),
        "jit_compile": bool(jit_compile) if jit_compile is not None else False,
        "variants": {"contig_id": list(cohort.contig_id), "contig_length": list(cohort.contig_length),
                     "contig": cohort.variant_contig.tolist(), "position": cohort.variant_position.tolist(),
                     "id": list(cohort.variant_id), "allele": cohort.variant_allele.tolist()},
    }


def epoch_batches(classes: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, first: int, last: int,
                  steps: int | None = None):
    """tf.data batches of epochs ``first``..``last - 1``: each epoch a permutation that depends only
    on (seed, epoch), cut to whole batches (at most ``steps`` of them), so a resumed run sees what an
    unbroken one would."""
    import tensorflow as tf

    n = len(labels)
    used = min(n // batch_size, steps or n) * batch_size
    classes, labels = tf.constant(classes), tf.constant(labels)

    def one_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64),
                                                         seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order[:used])

    return (tf.data.Dataset.range(first, last).flat_map(one_epoch).batch(batch_size, drop_remainder=True)
            .map(lambda rows: (tf.gather(classes, rows), tf.gather(labels, rows))).prefetch(tf.data.AUTOTUNE))


def _fit(gan, preset, config, classes, labels, quality, state, model_dir, seed, show_progress) -> TrainSummary:
    import keras

    from ._progress import progress_bar
    from .model.networks import padded_length

    n_snps = classes.shape[1]
    pad = padded_length(n_snps, preset) - n_snps
    padded = np.pad(classes, ((0, 0), (0, pad))) if pad else classes
    steps_per_epoch = len(labels) // preset.batch_size
    if steps_per_epoch < 1:
        raise InputError(f"{len(labels)} training genomes are fewer than one batch ({preset.batch_size}); "
                         "use a smaller batch size")
    steps_per_epoch = min(steps_per_epoch, preset.steps_per_epoch or steps_per_epoch)
    t0 = state["epoch"]
    dataset = epoch_batches(padded, labels, preset.batch_size, seed, t0, preset.epochs, preset.steps_per_epoch)
    history_path = Path(model_dir) / "history.csv"
    fields = ["epoch", "seconds", "d_loss", "g_loss", "quality",
              *(f"{kind}_{name}" for name in config["labels"] for kind in ("maf_r", "ld_r"))]
    _truncate_history(history_path, t0)  # rows past the checkpoint belong to a dropped partial run
    start, interrupted = time.perf_counter(), False
    pending_first = [True] if t0 == 0 else []

    class Monitor(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            bar.advance(1)

        def on_epoch_end(self, epoch, logs=None):
            done = epoch + 1
            row = {"epoch": done, "seconds": round(time.perf_counter() - start, 1),
                   "d_loss": float(logs["d_loss"]), "g_loss": float(logs["g_loss"])}
            evaluate = done % preset.eval_every == 0 or done == preset.epochs
            if evaluate:
                row.update(quality(gan.generator, preset.noise_dim, n_snps))
            _append_history(history_path, row, fields)  # before the checkpoint: a resume truncates, never lacks
            if evaluate:
                saved = []  # this epoch's checkpoints so far: the later ones link to the first's weights

                def checkpoint(which, record):
                    if saved:
                        link_checkpoint(model_dir, saved[0], which, record)
                    else:
                        save_checkpoint(gan, model_dir, which, record)
                    saved.append(which)

                if pending_first:  # the first evaluated epoch of a run from scratch: the baseline of "best"
                    checkpoint("first", {**state, "epoch": done})
                    pending_first.clear()
                if state["best_quality"] is None or row["quality"] > state["best_quality"]:
                    state.update(best_quality=row["quality"], best_epoch=done)
                    checkpoint("best", {**state, "epoch": done})
                state["epoch"] = done
                checkpoint("last", state)
            bar.describe(f"{config['model']} epoch {done}/{preset.epochs} d {row['d_loss']:.3f} "
                         f"g {row['g_loss']:.3f}" + (f" q {row['quality']:.3f}" if "quality" in row else ""))

    with progress_bar(f"training {config['model']}", steps_per_epoch * (preset.epochs - t0), show=show_progress) as bar:
        try:
            gan.fit(dataset, epochs=preset.epochs, initial_epoch=t0, steps_per_epoch=steps_per_epoch, verbose=0,
                    shuffle=False, callbacks=[Monitor()])
        except KeyboardInterrupt:  # the last checkpoint stands; the partial epoch is dropped
            interrupted = True
    return TrainSummary(str(model_dir), config["model"], preset.name, state["epoch"],
                        state["epoch"] * steps_per_epoch, state["best_epoch"], state["best_quality"],
                        time.perf_counter() - start, config["training_sizes"], interrupted,
                        switch_rates={p: r["generations"] for p, r in config.get("switch_rates", {}).items()
                                      if r["generations"]})


def _truncate_history(path: Path, epochs: int) -> None:
    """Keep the header and the rows of the first ``epochs`` epochs."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if int(line.split(",", 1)[0]) <= epochs]
    if len(kept) < len(lines):
        path.write_text("".join(kept))


def _append_history(path: Path, row: dict, fields: list[str]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)
