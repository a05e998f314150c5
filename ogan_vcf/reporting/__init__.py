"""``ogan report``: compare a synthetic cohort with a real one, per population and overall.

``compute_metrics`` turns three cohorts (real, synthetic, optionally the training set)
into the metrics dict (docs/metrics.md) and the arrays behind the figures;
``report`` reads the inputs, computes, and writes report.html, metrics.json and figures/.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..cohort import Cohort
from ..errors import InputError
from . import metrics as m
from .data import PlotData
from .sites import describe, flip_alleles, match_sites

SCHEMA_VERSION = 1
CONCERNS = {  # key: (is it a concern, given every privacy number; what to say)
    "exact_copy_fraction": (lambda p: p["exact_copy_fraction"] > 0,
                            "{exact_copy_fraction:.1%} of synthetic genomes are exact copies of a training genome"),
    "dcr_ratio": (lambda p: p["dcr_ratio"] < 0.8, "synthetic genomes sit closer to training genomes than fresh real "
                                                  "genomes do (DCR ratio {dcr_ratio:.2f} < 0.8): a sign of memorisation"),
    "aa_ts": (lambda p: p["aa_ts"] < 0.4, "nearest-neighbour adversarial accuracy {aa_ts:.2f} < 0.4: synthetic genomes "
                                          "are nearer to training genomes than training genomes are to each other"),
    "membership_auc": (lambda p: p["membership_auc"] > 0.6,
                       "training genomes can be told from held-out genomes by their distance to the synthetic set "
                       "(AUC {membership_auc:.2f} > 0.6): membership leaks"),
    "max_kinship": (lambda p: p["max_kinship"] >= m.FIRST_DEGREE and (
        p.get("first_degree_fraction_holdout") is None
        or p["first_degree_fraction"] > p["first_degree_fraction_holdout"] + 0.05),
        "{first_degree_fraction:.1%} of synthetic genomes are first-degree relatives or closer of a training genome "
        "(KING kinship >= {first_degree}, max {max_kinship:.3f}), more than held-out real genomes are"),
}

POPULATION_MEMBERSHIP = 0.6  # a population's membership AUC above this, by any attack, is a concern
POPULATION_ATTACKS = {"mia_nearest_auc": "distance to the nearest synthetic genome",
                      "mia_frequency_lr_auc": "allele-frequency likelihood ratio"}


@dataclass
class Genomes:
    """One cohort over the shared sites: ALT counts and genotype codes, (samples, SNPs)."""

    dosage: np.ndarray  # int8, -1 missing
    codes: np.ndarray  # int8: phased 4-class codes or dosage
    labels: np.ndarray  # str
    ids: np.ndarray  # str

    def take(self, rows: np.ndarray) -> Genomes:
        return Genomes(self.dosage[rows], self.codes[rows], self.labels[rows], self.ids[rows])


def genomes(cohort: Cohort, sites: np.ndarray, phased_codes: bool, flip: np.ndarray | None = None) -> Genomes:
    """The cohort at ``sites`` (int64 indices), REF/ALT swapped where ``flip`` (bool, same length)."""
    g = cohort.genotypes[sites] if flip is None else flip_alleles(cohort.genotypes[sites], flip)
    missing = np.minimum(g[:, :, 0], g[:, :, 1]) < 0
    dosage = np.where(missing, -1, g[:, :, 0] + g[:, :, 1]).astype(np.int8).T
    codes = np.where(missing, -1, 2 * g[:, :, 0] + g[:, :, 1]).astype(np.int8).T if phased_codes else dosage
    return Genomes(np.ascontiguousarray(dosage), np.ascontiguousarray(codes), cohort.samples.populations,
                   cohort.samples.ids)


def _population_metrics(real: Genomes, synth: Genomes, pairs, limits, rng):
    """The per-population keys, the MAF pair (for figures) and the pairs' r (real, synthetic)."""
    maf_real, maf_synth = m.maf_pair(real.dosage, synth.dosage)
    i, j = pairs
    r_real, r_synth = m.pair_r(m.standardize(real.dosage), i, j), m.pair_r(m.standardize(synth.dosage), i, j)
    het_real = m.heterozygosity(real.dosage)
    div_real = m.mean_pairwise_distance(real.dosage[m.sample_rows(len(real.dosage), limits["diversity_samples"], rng)])
    div_synth = m.mean_pairwise_distance(
        synth.dosage[m.sample_rows(len(synth.dosage), limits["diversity_samples"], rng)])
    return {
        "n_real": len(real.dosage), "n_synthetic": len(synth.dosage),
        "maf_r": m.pearson(maf_real, maf_synth),
        "maf_rmse": float(np.sqrt(np.mean((maf_real - maf_synth) ** 2))) if len(maf_real) else None,
        "ld_r": m.pearson(r_real, r_synth),
        "diversity_ratio": div_synth / div_real if div_real and div_synth is not None else None,
        "heterozygosity_ratio": m.heterozygosity(synth.dosage) / het_real if het_real else None,
        "duplicate_fraction": m.duplicate_fraction(synth.dosage),
    }, (maf_real, maf_synth), (r_real, r_synth)


def compute_metrics(real: Cohort, synthetic: Cohort, train: Cohort | None = None, *, ld_distance: int = 50_000,
                    ld_window: tuple[int, int] | None = None, seed: int = 0, limits: dict | None = None,
                    show_progress: bool = False, progress_label: str = "report") -> tuple[dict, PlotData, list[str]]:
    """The metrics dict, the figure data, and notes, for real vs synthetic (and training)."""
    from .._progress import progress_bar

    limits = {**m.LIMITS, **(limits or {})}
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    match = match_sites(real, synthetic, names=("real", "synthetic"))
    ia = match.a
    if len(ia) < 2:
        raise InputError(f"{synthetic.path}: shares {len(ia)} sites (CHROM:POS:REF:ALT, either allele order) "
                         f"with {real.path}; a report needs at least 2")
    notes.extend(describe(match.counts, ("real", "synthetic")))
    phased = real.phase_state == synthetic.phase_state == "phased"  # missing calls have no phase
    R, S = genomes(real, ia, phased), genomes(synthetic, match.b, phased, match.flip)
    populations = [p for p in real.samples.population_counts() if p in set(S.labels)]
    missing = sorted(set(S.labels) - set(R.labels))
    if missing:
        notes.append(f"synthetic populations not in the real cohort are only counted overall: {', '.join(missing)}")
    contig, position = real.variant_contig[ia], real.variant_position[ia]
    result = {"schema_version": SCHEMA_VERSION,
              "sites": {"real": real.n_variants, "synthetic": synthetic.n_variants, **match.counts},
              "encoding": "phased-4" if phased else "dosage-3", "sampling": {}, "per_population": {}}
    plot = PlotData(populations=populations, maf={})
    steps = 6 + len(populations) + (train is not None)
    with progress_bar(progress_label, steps, show=show_progress) as bar:
        pairs = m.near_pairs(contig, position, ld_distance, limits["ld_pairs"], rng)
        result["overall"], plot.maf["overall"], r_pairs = _population_metrics(R, S, pairs, limits, rng)
        _ld_figures(R, S, pairs, r_pairs, real.contig_id, contig, position, ld_distance, ld_window, plot)
        bar.advance()
        sub_pairs = m.near_pairs(contig, position, ld_distance, limits["ld_pairs_population"], rng)
        for pop in populations:
            rows_r, rows_s = np.flatnonzero(R.labels == pop), np.flatnonzero(S.labels == pop)
            result["per_population"][pop], plot.maf[pop], _ = _population_metrics(
                R.take(rows_r), S.take(rows_s), sub_pairs, limits, rng)
            result["per_population"][pop]["ld_breaks_per_mb"] = m.ld_breaks_per_mb(
                R.dosage[rows_r], S.dosage[rows_s], position, contig)
            bar.advance()
        _classify(R, S, populations, result, plot, limits, rng, seed)
        bar.advance()
        code_range = 3.0 if phased else 2.0
        result["gmm"] = m.gmm_tables(np.where(R.codes < 0, 0, R.codes), np.where(S.codes < 0, 0, S.codes),
                                     code_range, max_samples=limits["gmm_samples"], rng=rng, seed=seed)
        bar.advance(4)
        if train is not None:
            result["privacy"] = _privacy(R, S, real, train, ia, phased, plot, limits, rng, notes)
            bar.advance()
    result["sampling"] = _sampling_note(result, limits, len(pairs[0]))
    return result, plot, notes


def _ld_figures(R, S, pairs, r_pairs, contig_id, contig, position, ld_distance, ld_window, plot) -> None:
    """LD decay over the sampled pairs, and the heatmap window (at most 1000 SNPs, on one contig)."""
    i, j = pairs
    distance = position[j] - position[i]
    real_decay = m.ld_decay(r_pairs[0], distance, ld_distance)
    plot.ld_decay = {"bin_centers_kb": real_decay["bin_centers_kb"], "real": real_decay["mean_r2"],
                     "synthetic": m.ld_decay(r_pairs[1], distance, ld_distance)["mean_r2"]}
    start, stop = ld_window or (0, len(position))
    same = contig[start:min(stop, start + 1000)] == contig[start]
    stop = start + (len(same) if same.all() else int(np.argmin(same)))
    zr, zs = m.standardize(R.dosage[:, start:stop]), m.standardize(S.dosage[:, start:stop])
    plot.ld_real, plot.ld_synthetic = zr @ zr.T, zs @ zs.T
    plot.ld_window = (f"SNPs {start + 1}-{stop} of the shared sites "
                      f"({contig_id[contig[start]]}:{position[start]}-{position[stop - 1]})")


def _classify(R, S, populations, result, plot, limits, rng, seed) -> None:
    """PCA (fitted on real) for the figures and the label classifier."""
    pcs_real, pcs_synth, variance = m.patterson_pca(R.dosage, S.dosage, n_components=10,
                                                    max_snps=limits["pca_snps"], rng=rng)
    plot.pca_real, plot.pca_synthetic, plot.pca_variance = pcs_real[:, :3], pcs_synth[:, :3], variance[:3]
    plot.pca_real_labels, plot.pca_synthetic_labels = R.labels, S.labels
    known = np.isin(S.labels, populations)
    cv, correct = m.label_accuracy(pcs_real, R.labels, pcs_synth[known], S.labels[known],
                                   max_samples=limits["classifier_samples"], rng=rng, seed=seed)
    result["overall"]["label_accuracy"] = float(correct.mean()) if len(correct) else None
    result["overall"]["label_accuracy_real"] = cv
    for pop in populations:
        hits = correct[S.labels[known] == pop]
        result["per_population"][pop]["label_accuracy"] = float(hits.mean()) if len(hits) else None


def _training_genomes(real: Cohort, train: Cohort, ia: np.ndarray, phased: bool, notes: list[str]) -> Genomes:
    """The training cohort on the real cohort's shared sites ``ia``, in real's allele order."""
    match = match_sites(real, train, names=("real", "train"))
    where = np.full(real.n_variants, -1, dtype=np.int64)
    where[match.a] = np.arange(len(match.a))
    k = where[ia]
    if (k < 0).any():
        raise InputError(f"{train.path}: the training cohort lacks {int((k < 0).sum())} of the report's "
                         "shared sites; it must cover the real cohort's sites")
    if match.flip[k].any():
        notes.append(f"{int(match.flip[k].sum())} shared sites have REF and ALT swapped in the training cohort: "
                     "matched, their genotypes flipped to the real cohort's alleles")
    return genomes(train, match.b[k], phased, match.flip[k])


def _privacy(R, S, real, train, ia, phased, plot, limits, rng, notes) -> dict:
    """Copies, distance to closest record, adversarial accuracy, runs, membership and kinship.

    A genome with no comparable genome (no site called in both) has a NaN distance and is left
    out of the medians, the adversarial accuracy and the membership test.
    """
    T = _training_genomes(real, train, ia, phased, notes)
    # held-out: real genomes neither trained on nor in the synthetic set (real genomes scored as synthetic)
    holdout = R.take(np.flatnonzero(~np.isin(R.ids, T.ids) & ~np.isin(R.ids, S.ids)))
    n = limits["distance_samples"]
    s_rows, t_rows = m.sample_rows(len(S.dosage), n, rng), m.sample_rows(len(T.dosage), n, rng)
    dcr_synth = m.nearest_distances(S.dosage[s_rows], T.dosage)
    out = {"exact_copy_fraction": m.contained_fraction(S.dosage, T.dosage), "n_holdout": len(holdout.dosage)}
    s_sample, t_sample = S.dosage[s_rows], T.dosage[t_rows]
    d_ts, d_tt = m.nearest_distances(t_sample, s_sample), m.nearest_distances(t_sample, t_sample, same=True)
    d_st, d_ss = m.nearest_distances(s_sample, t_sample), m.nearest_distances(s_sample, s_sample, same=True)
    aa_ts = 0.5 * (_farther(d_ts, d_tt) + _farther(d_st, d_ss))
    out["aa_ts"] = None if np.isnan(aa_ts) else aa_ts
    plot.dcr_synthetic = dcr_synth
    if len(holdout.dosage):
        h_rows = m.sample_rows(len(holdout.dosage), n, rng)
        dcr_hold = m.nearest_distances(holdout.dosage[h_rows], T.dosage)
        plot.dcr_holdout = dcr_hold
        median_hold, median_synth = _median(dcr_hold), _median(dcr_synth)
        out["dcr_ratio"] = median_synth / median_hold if median_hold and median_synth is not None else None
        out["membership_auc"] = _membership_auc(T.dosage[t_rows], holdout.dosage[h_rows], S.dosage, limits, rng)
    else:
        out["dcr_ratio"] = out["membership_auc"] = None
        notes.append("every real genome was in training: no held-out genomes, so no DCR ratio or membership test")
    out.update(_runs_and_kinship(R, S, T, holdout, plot, limits, rng))
    haplotypes = phased and train.phase_state == "phased"
    out["per_population"] = _per_population(S, T, holdout, haplotypes, real.variant_contig[ia], limits, rng, notes)
    out["concerns"] = concerns(out)
    return out


def _per_population(S, T, holdout, haplotypes, contig, limits, rng, notes) -> dict:
    """The audit within each population with held-out genomes (``audit.population_audit``), each
    population with its own random stream; ``haplotypes``: the codes are phased in all three cohorts;
    ``contig``: the contig of each shared SNP."""
    from .audit import population_audit, split_haplotypes

    populations = list(dict.fromkeys(holdout.labels.tolist()))
    out = {}
    for pop, stream in zip(populations, rng.spawn(len(populations))):
        sets = [g.take(np.flatnonzero(g.labels == pop)) for g in (T, holdout, S)]
        result = population_audit(*(g.dosage for g in sets), limits=limits, rng=stream, contig=contig,
                                  haplotypes=tuple(split_haplotypes(g.codes) for g in sets) if haplotypes else None)
        if result is None:
            counts = ", ".join(f"{len(g.dosage)} {what}" for g, what in zip(sets, ("training", "held-out",
                                                                                   "synthetic")))
            notes.append(f"{pop}: {counts} genomes: a population needs at least 2 of each for its own audit")
        else:
            out[pop] = result
    if out and not haplotypes:
        notes.append("the cohorts are not all phased: no haplotype-sharing signature (shared_segment_snps is null)")
    return out


def _median(values: np.ndarray) -> float | None:
    """Median of the finite values, None when there are none."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else None


def _farther(cross: np.ndarray, own: np.ndarray) -> float:
    """Share of genomes nearer to their own set than to the other (``cross > own``), over defined pairs."""
    ok = np.isfinite(cross) & np.isfinite(own)
    return float(np.mean(cross[ok] > own[ok])) if ok.any() else np.nan


def concerns(privacy: dict) -> list[str]:
    """The CONCERNS statements whose threshold ``privacy`` (the privacy dict) crosses, pooled ones
    first; then one per population of ``privacy["per_population"]`` where an attack of
    POPULATION_ATTACKS has an AUC above POPULATION_MEMBERSHIP."""
    found = [text.format(**privacy, first_degree=m.FIRST_DEGREE) for key, (flag, text) in CONCERNS.items()
             if privacy.get(key) is not None and flag(privacy)]
    for pop, audit in (privacy.get("per_population") or {}).items():
        over = [f"{how}: AUC {audit[key]:.2f}" for key, how in POPULATION_ATTACKS.items()
                if audit.get(key) is not None and audit[key] > POPULATION_MEMBERSHIP]
        if over:
            found.append(f"{pop}: training genomes can be told from held-out genomes of the same population "
                         f"({'; '.join(over)}; n {audit['n']} each) > {POPULATION_MEMBERSHIP}: membership leaks "
                         "within the population")
    return found


def _membership_auc(members, non_members, synthetic, limits, rng) -> float | None:
    from sklearn.metrics import roc_auc_score

    reference = synthetic[m.sample_rows(len(synthetic), limits["mia_synthetic"], rng)]
    score = -np.concatenate([m.nearest_distances(members, reference), m.nearest_distances(non_members, reference)])
    truth = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    truth, score = truth[np.isfinite(score)], score[np.isfinite(score)]
    return float(roc_auc_score(truth, score)) if 0 < truth.sum() < len(truth) else None


def _runs_and_kinship(R, S, T, holdout, plot, limits, rng) -> dict:
    from .kernels import longest_shared_runs

    s_rows = m.sample_rows(len(S.dosage), limits["run_synthetic"], rng)
    t_rows = m.sample_rows(len(T.dosage), limits["run_training"], rng)
    training = np.ascontiguousarray(T.dosage[t_rows])
    runs, _ = longest_shared_runs(np.ascontiguousarray(S.dosage[s_rows]), training)
    out = {"longest_shared_run_snps": int(runs.max()) if len(runs) else 0}
    if len(holdout.dosage):
        h_rows = m.sample_rows(len(holdout.dosage), limits["run_synthetic"], rng)
        out["longest_shared_run_holdout"] = int(longest_shared_runs(
            np.ascontiguousarray(holdout.dosage[h_rows]), training)[0].max())
    k_rows = m.sample_rows(len(S.dosage), limits["kinship_synthetic"], rng)
    plot.kinship = m.king_robust_max(S.dosage[k_rows], T.dosage)
    out["max_kinship"], out["first_degree_fraction"] = m.kinship_summary(plot.kinship)
    if len(holdout.dosage):  # the yardstick: unrelated real people, scored the same way
        h_rows = m.sample_rows(len(holdout.dosage), limits["kinship_synthetic"], rng)
        held = m.king_robust_max(holdout.dosage[h_rows], T.dosage)
        out["max_kinship_holdout"], out["first_degree_fraction_holdout"] = m.kinship_summary(held)
    return out


def _sampling_note(result: dict, limits: dict, n_pairs: int) -> dict:
    overall = result["overall"]
    note = {"ld_pairs": n_pairs}
    if overall["n_synthetic"] > limits["distance_samples"] or overall["n_real"] > limits["distance_samples"]:
        note["distance_genomes_per_side"] = limits["distance_samples"]
    if "privacy" in result:
        note.update(run_pairs=f"{limits['run_synthetic']} synthetic x {limits['run_training']} training",
                    kinship_synthetic=limits["kinship_synthetic"])
    note["diversity_genomes_per_population"] = limits["diversity_samples"]
    return note


def compute_baselines(real: Cohort, synthetic: Cohort, train: Cohort, *, ld_distance: int = 50_000, seed: int = 0,
                      limits: dict | None = None, shared_notes=(), show_progress: bool = False
                      ) -> tuple[dict, list[str]]:
    """The baselines of ``synthetic`` (``baselines.ROW_LABELS``), each scored by ``compute_metrics`` exactly
    as ``synthetic`` is: against ``real`` and ``train``, with the same seed, on the real sites that
    ``synthetic`` shares.

    - ``hybridizer``: PPO offspring of ``train``, as many per population as ``synthetic`` has (LD-aware
      blocks); skipped, with a note naming the reason, when the hybridizer refuses;
    - ``heldout``: half of each population's real genomes that are not in ``train`` (the other half
      stays the audit's held-out yardstick); skipped when every real genome is in ``train``.

    Returns {key: {"label": ..., **metrics without schema_version}} and notes, each prefixed with
    its set's label; a note already in ``shared_notes`` (the synthetic set's) is not repeated.
    """
    from ..baselines import ROW_LABELS, heldout_half, heldout_rows, hybridizer_only

    shared = match_sites(real, synthetic).a
    notes: list[str] = []
    sets: dict[str, Cohort] = {}
    label = ROW_LABELS["hybridizer"]
    have = train.samples.population_counts()
    wanted = synthetic.samples.population_counts()
    sizes = {p: n for p, n in wanted.items() if p in have}
    if set(wanted) - set(sizes):
        notes.append(f"{label}: no offspring for {', '.join(p for p in wanted if p not in have)} "
                     "(not in the training cohort)")
    try:
        if not sizes:
            raise InputError("no population of the synthetic cohort is in the training cohort")
        hybrid = hybridizer_only(train, sizes, seed=seed)
        sets["hybridizer"] = hybrid.cohort
        notes += [f"{label}: {n}" for n in hybrid.notes]
    except InputError as e:
        notes.append(f"{label}: skipped ({e})")
    rows = heldout_rows(real, train)
    if len(rows):
        sets["heldout"] = heldout_half(real.take_samples(rows), seed=seed)
    else:
        notes.append(f"{ROW_LABELS['heldout']}: skipped (every real genome is in the training cohort)")
    out = {}
    for key, cohort in sets.items():
        met, _, more = compute_metrics(real, _on_sites(real, cohort, shared), train, ld_distance=ld_distance,
                                       seed=seed, limits=limits, show_progress=show_progress,
                                       progress_label=f"baseline {key}")
        met.pop("schema_version")
        out[key] = {"label": ROW_LABELS[key], **met}
        notes += [f"{ROW_LABELS[key]}: {n}" for n in more if n not in shared_notes]
    return out, notes


def _on_sites(real: Cohort, cohort: Cohort, shared: np.ndarray) -> Cohort:
    """``cohort`` at the sites it shares with ``real`` among real's sites ``shared`` (int64 indices)."""
    match = match_sites(real, cohort)
    return cohort.take_variants(np.sort(match.b[np.isin(match.a, shared)]))


@dataclass
class ReportResult:
    """What ``report`` wrote and measured."""

    metrics: dict
    paths: list[str]
    notes: list[str] = field(default_factory=list)


def report(real, synthetic, out_dir, *, panel=None, synth_panel=None, train=None, train_panel=None,
           ld_region: str | None = None, ld_distance: int = 50_000, seed: int = 0, baselines: bool | None = None,
           show_progress: bool = False) -> ReportResult:
    """Read the inputs, compute the metrics, write report.html, metrics.json and figures/*.png.

    ``baselines`` (``compute_baselines``: the hybridizer alone, held-out real genomes) are scored
    beside the synthetic set; None: when ``train`` is given and some real genomes are not in it.
    """
    from ..baselines import heldout_rows
    from ..io import Region, read_cohort
    from .html import write_metrics_json, write_report
    from .plots import save_figures

    if baselines and not train:
        raise InputError("--baselines needs --train: the baselines are made from the training cohort and "
                         "audited against it")
    out_dir = Path(out_dir)
    real_c = read_cohort(real, panel=panel)
    synth_c = read_cohort(synthetic, panel=synth_panel, panel_role="the synthetic cohort's panel")
    train_c = (read_cohort(train, panel=train_panel, panel_role="the training cohort's panel")
               if train else None)
    window = _window(real_c, synth_c, Region.parse(ld_region)) if ld_region else None
    metrics, plot, notes = compute_metrics(real_c, synth_c, train_c, ld_distance=ld_distance, ld_window=window,
                                           seed=seed, show_progress=show_progress)
    if train_c is None:
        notes.append("no training cohort given: the privacy audit was skipped")
        if baselines is None:
            notes.append("no baselines: they are made from the training cohort (--train)")
    elif baselines is None and not len(heldout_rows(real_c, train_c)):
        notes.append("no baselines: every real genome is in the training cohort, so none is held out to score "
                     "(--baselines scores the hybridizer alone)")
    elif baselines is not False:
        metrics["baselines"], more = compute_baselines(real_c, synth_c, train_c, ld_distance=ld_distance, seed=seed,
                                                       shared_notes=notes, show_progress=show_progress)
        notes.extend(more)
    os.makedirs(out_dir / "figures", exist_ok=True)
    figures = save_figures(plot, out_dir / "figures")
    inputs = {"real": str(real), "synthetic": str(synthetic), **({"train": str(train)} if train else {})}
    page = write_report(out_dir, metrics, figures, title="ogan report", notes=notes, inputs=inputs)
    json_path = write_metrics_json(out_dir, metrics)
    return ReportResult(metrics, [str(page), str(json_path), *map(str, figures.values())], notes)


def _window(real: Cohort, synthetic: Cohort, region) -> tuple[int, int]:
    """Index range, among the shared sites, of the SNPs inside ``region``."""
    ia = match_sites(real, synthetic).a
    contig = np.array(real.contig_id, dtype=object)[real.variant_contig[ia]]
    pos = real.variant_position[ia]
    inside = np.flatnonzero((contig == region.contig) & (pos >= region.start) &
                            (pos <= (region.end or np.iinfo(np.int64).max)))
    if len(inside) < 2:
        raise InputError(f"the LD heatmap region {region}: fewer than 2 shared SNPs inside")
    return int(inside[0]), int(inside[0]) + min(1000, len(inside))
