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

from ..errors import InputError
from . import metrics as m
from .data import PlotData
from .sampling import find_windows, plan_sites, run_ids
from .sites import describe, match_sites
from .store import Genomes, SiteTables, Store, as_store, gather, open_store

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


def _population_metrics(real: Genomes, synth: Genomes, maf: tuple, het: tuple, digest: np.ndarray,
                        ld: tuple[Genomes, Genomes], r_pairs, limits, rng):
    """The keys of one row of ``per_population`` (or ``overall``), and the pairs' r (real, synthetic).

    real, synth : the genomes at the genome-wide sites; maf : (real, synthetic) frequencies of the
    real minor allele at every shared site; het : their heterozygosity; digest : the synthetic
    genomes' digests (every site); ld : the genomes at the LD sites; r_pairs : (pairs, run ids or None).
    """
    maf_real, maf_synth = maf
    (i, j), run = r_pairs
    r_real, r_synth = (_pair_r(g.dosage, i, j, run) for g in ld)
    div_real = m.mean_pairwise_distance(real.dosage[m.sample_rows(len(real.dosage), limits["diversity_samples"], rng)])
    div_synth = m.mean_pairwise_distance(
        synth.dosage[m.sample_rows(len(synth.dosage), limits["diversity_samples"], rng)])
    return {
        "n_real": len(real.dosage), "n_synthetic": len(synth.dosage),
        "maf_r": m.pearson(maf_real, maf_synth),
        "maf_rmse": float(np.sqrt(np.mean((maf_real - maf_synth) ** 2))) if len(maf_real) else None,
        "ld_r": m.pearson(r_real, r_synth),
        "diversity_ratio": div_synth / div_real if div_real and div_synth is not None else None,
        "heterozygosity_ratio": het[1] / het[0] if het[0] else None,
        "duplicate_fraction": 1.0 - len(set(digest.tolist())) / len(digest) if len(digest) else 0.0,
    }, (r_real, r_synth)


def _pair_r(dosage: np.ndarray, i: np.ndarray, j: np.ndarray, run: np.ndarray | None) -> np.ndarray:
    """Pairwise r of SNP pairs: over the whole matrix (``run`` None), or one run of sites at a time."""
    return m.pair_r(m.standardize(dosage), i, j) if run is None else m.run_pair_r(dosage, i, j, run)


@dataclass
class _Side:
    """One cohort at the report's sites (``store.gather``): genomes per site set, and the per-site tables."""

    genomes: dict[str, Genomes]
    tables: SiteTables

    def rows(self, labels: np.ndarray | None = None) -> np.ndarray:
        pops = self.genomes["ld"].labels
        return np.arange(len(pops)) if labels is None else np.flatnonzero(np.isin(pops, labels))


def compute_metrics(real, synthetic, train=None, *, ld_distance: int = 50_000,
                    ld_window: tuple[int, int] | None = None, seed: int = 0, limits: dict | None = None,
                    show_progress: bool = False, progress_label: str = "report") -> tuple[dict, PlotData, list[str]]:
    """The metrics dict, the figure data, and notes, for real vs synthetic (and training).

    Each cohort is a Cohort, an open CohortFile or a ``store.Store``; genotypes are read only at the
    sites ``sampling.plan_sites`` picks (every site up to the limits ``metrics.LIMITS``).
    """
    from .._progress import progress_bar

    limits = {**m.LIMITS, **(limits or {})}
    real, synthetic = as_store(real), as_store(synthetic)
    train = None if train is None else as_store(train)
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    match = match_sites(real, synthetic, names=("real", "synthetic"))
    ia = match.a
    if len(ia) < 2:
        raise InputError(f"{synthetic.path}: shares {len(ia)} sites (CHROM:POS:REF:ALT, either allele order) "
                         f"with {real.path}; a report needs at least 2")
    notes.extend(describe(match.counts, ("real", "synthetic")))
    phased = real.phase_state == synthetic.phase_state == "phased"  # missing calls have no phase
    contig, position = real.variant_contig[ia], real.variant_position[ia]
    windows = find_windows(synthetic.provenance)
    plan = plan_sites(contig, position, real.contig_id, limits=limits, ld_distance=ld_distance, ld_window=ld_window,
                      windows=windows)
    subsets = {"ld": plan.ld, "heatmap": plan.heatmap, "genome": plan.genome,
               **({"privacy": plan.privacy} if train is not None else {})}
    codes = ("genome", "privacy")
    R = _Side(*gather(real, ia, None, subsets, phased_codes=phased, codes_for=codes, digests=False))
    S = _Side(*gather(synthetic, match.b, match.flip, subsets, phased_codes=phased, codes_for=codes))
    synth_labels = S.genomes["ld"].labels
    populations = [p for p in real.samples.population_counts() if p in set(synth_labels)]
    missing = sorted(set(synth_labels) - set(real.samples.populations))
    if missing:
        notes.append(f"synthetic populations not in the real cohort are only counted overall: {', '.join(missing)}")
    result = {"schema_version": SCHEMA_VERSION,
              "sites": {"real": real.n_variants, "synthetic": synthetic.n_variants, **match.counts},
              "encoding": "phased-4" if phased else "dosage-3", "sampling": {}, "per_population": {}}
    plot = PlotData(populations=populations, maf={})
    steps = 6 + len(populations) + (train is not None)
    ld_cols = np.flatnonzero(plan.ld_sample)  # the LD sample among the LD sites
    whole = len(ld_cols) == len(plan.ld) == len(ia)
    sample_run = plan.ld_run if len(ld_cols) == len(plan.ld) else run_ids(plan.ld[ld_cols], contig)
    sample_pos = position[plan.ld[ld_cols]]
    r_run = None if whole else plan.ld_run
    with progress_bar(progress_label, steps, show=show_progress) as bar:
        i, j = m.near_pairs(sample_run, sample_pos, ld_distance, limits["ld_pairs"], rng)
        pairs = (ld_cols[i], ld_cols[j])
        maf = m.minor_pair(R.tables.frequency(), S.tables.frequency())
        het = (R.tables.heterozygosity(), S.tables.heterozygosity())
        result["overall"], r_pairs = _population_metrics(
            R.genomes["genome"], S.genomes["genome"], maf, het, S.tables.digest,
            (R.genomes["ld"], S.genomes["ld"]), (pairs, r_run), limits, rng)
        plot.maf["overall"] = maf
        _ld_figures(R, S, pairs, r_pairs, real.contig_id, contig, position, plan, ld_distance, plot)
        bar.advance()
        i, j = m.near_pairs(sample_run, sample_pos, ld_distance, limits["ld_pairs_population"], rng)
        sub_pairs = (ld_cols[i], ld_cols[j])
        for pop in populations:
            rows_r, rows_s = R.rows([pop]), S.rows([pop])
            maf = m.minor_pair(R.tables.frequency([pop]), S.tables.frequency([pop]))
            het = (R.tables.heterozygosity([pop]), S.tables.heterozygosity([pop]))
            result["per_population"][pop], _ = _population_metrics(
                R.genomes["genome"].take(rows_r), S.genomes["genome"].take(rows_s), maf, het,
                S.tables.digest[rows_s], (R.genomes["ld"].take(rows_r), S.genomes["ld"].take(rows_s)),
                (sub_pairs, r_run), limits, rng)
            plot.maf[pop] = maf
            ld_r, ld_s = (side.genomes["ld"].dosage[rows] for side, rows in ((R, rows_r), (S, rows_s)))
            if len(ld_cols) < len(plan.ld):
                ld_r, ld_s = ld_r[:, ld_cols], ld_s[:, ld_cols]
            result["per_population"][pop]["ld_breaks_per_mb"] = m.ld_breaks_per_mb(ld_r, ld_s, sample_pos,
                                                                                    sample_run)
            bar.advance()
        _classify(R.genomes["genome"], S.genomes["genome"], populations, result, plot, limits, rng, seed)
        bar.advance()
        code_range = 3.0 if phased else 2.0
        r_codes, s_codes = R.genomes["genome"].codes, S.genomes["genome"].codes
        result["gmm"] = m.gmm_tables(np.where(r_codes < 0, 0, r_codes), np.where(s_codes < 0, 0, s_codes),
                                     code_range, max_samples=limits["gmm_samples"], rng=rng, seed=seed)
        bar.advance(4)
        if train is not None:
            result["privacy"] = _privacy(R, S, real, train, ia, phased, plan, plot, limits, rng, notes)
            bar.advance()
    if windows is not None:
        result["junctions"] = _junctions(R, S, populations, plan, position, windows, ld_distance, limits, seed)
    result["sampling"] = {**_sampling_note(result, limits, len(pairs[0])), **plan.sampling}
    return result, plot, notes


def _junctions(R: _Side, S: _Side, populations, plan, position, windows, ld_distance, limits, seed) -> dict:
    """Junction LD (``metrics.junction_ld``) over all genomes and per population, on its own random stream."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 13]))
    pos = position[plan.ld]
    out = {"windows": len(windows), "junctions": plan.junctions, "per_population": {}}
    out["overall"] = m.junction_ld(R.genomes["ld"].dosage, S.genomes["ld"].dosage, pos, plan.ld_run, plan.window,
                                   max_distance=ld_distance, max_pairs=limits["ld_pairs"], rng=rng)
    for pop in populations:
        out["per_population"][pop] = m.junction_ld(
            R.genomes["ld"].dosage[R.rows([pop])], S.genomes["ld"].dosage[S.rows([pop])], pos, plan.ld_run,
            plan.window, max_distance=ld_distance, max_pairs=limits["ld_pairs_population"], rng=rng)
    return out


def _ld_figures(R, S, pairs, r_pairs, contig_id, contig, position, plan, ld_distance, plot) -> None:
    """LD decay over the sampled pairs (columns of the LD sites), and the heatmap window (at most 1000
    SNPs, on one contig)."""
    i, j = pairs
    distance = position[plan.ld[j]] - position[plan.ld[i]]
    real_decay = m.ld_decay(r_pairs[0], distance, ld_distance)
    plot.ld_decay = {"bin_centers_kb": real_decay["bin_centers_kb"], "real": real_decay["mean_r2"],
                     "synthetic": m.ld_decay(r_pairs[1], distance, ld_distance)["mean_r2"]}
    start, stop = plan.heatmap_range
    zr, zs = m.standardize(R.genomes["heatmap"].dosage), m.standardize(S.genomes["heatmap"].dosage)
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


def _training_genomes(real: Store, train: Store, ia: np.ndarray, phased: bool, plan, notes: list[str]
                      ) -> tuple[Genomes, np.ndarray]:
    """The training cohort at the privacy sites of the real cohort's shared sites ``ia``, in real's allele
    order, and its genomes' digests over every shared site."""
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
    genomes, tables = gather(train, match.b[k], match.flip[k], {"privacy": plan.privacy}, phased_codes=phased,
                             codes_for=("privacy",), tables=False)
    return genomes["privacy"], tables.digest


def _privacy(R: _Side, S: _Side, real, train, ia, phased, plan, plot, limits, rng, notes) -> dict:
    """Copies, distance to closest record, adversarial accuracy, runs, membership and kinship.

    A genome with no comparable genome (no site called in both) has a NaN distance and is left
    out of the medians, the adversarial accuracy and the membership test. Exact copies compare
    every shared site (digests); the rest reads the privacy sites (``SitePlan.privacy``).
    """
    T, t_digest = _training_genomes(real, train, ia, phased, plan, notes)
    s_digest = S.tables.digest
    S, R = S.genomes["privacy"], R.genomes["privacy"]
    # held-out: real genomes neither trained on nor in the synthetic set (real genomes scored as synthetic)
    holdout = R.take(np.flatnonzero(~np.isin(R.ids, T.ids) & ~np.isin(R.ids, S.ids)))
    n = limits["distance_samples"]
    s_rows, t_rows = m.sample_rows(len(S.dosage), n, rng), m.sample_rows(len(T.dosage), n, rng)
    dcr_synth = m.nearest_distances(S.dosage[s_rows], T.dosage)
    out = {"exact_copy_fraction": _copies(s_digest, t_digest), "n_holdout": len(holdout.dosage)}
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
    out.update(_runs_and_kinship(S, T, holdout, plan, plot, limits, rng))
    haplotypes = phased and train.phase_state == "phased"
    digests = (t_digest, s_digest)
    out["per_population"] = _per_population(S, T, holdout, haplotypes, plan.privacy_run, digests, limits, rng, notes)
    out["concerns"] = concerns(out)
    return out


def _copies(digest: np.ndarray, reference: np.ndarray) -> float:
    """Share of genomes (by digest) equal to some genome of ``reference`` at every shared site."""
    known = set(reference.tolist())
    return float(np.mean([d in known for d in digest.tolist()])) if len(digest) else 0.0


def _per_population(S, T, holdout, haplotypes, contig, digests, limits, rng, notes) -> dict:
    """The audit within each population with held-out genomes (``audit.population_audit``), each
    population with its own random stream; ``haplotypes``: the codes are phased in all three cohorts;
    ``contig``: the run of each privacy site; ``digests``: (training, synthetic) genome digests, for
    exact copies over every shared site."""
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
            result["exact_copy_fraction"] = _copies(digests[1][S.labels == pop], digests[0][T.labels == pop])
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


def _runs_and_kinship(S, T, holdout, plan, plot, limits, rng) -> dict:
    s_rows = m.sample_rows(len(S.dosage), limits["run_synthetic"], rng)
    t_rows = m.sample_rows(len(T.dosage), limits["run_training"], rng)
    training = T.dosage[t_rows]
    runs = _longest_runs(S.dosage[s_rows], training, plan)
    out = {"longest_shared_run_snps": int(runs.max()) if len(runs) else 0}
    if len(holdout.dosage):
        h_rows = m.sample_rows(len(holdout.dosage), limits["run_synthetic"], rng)
        out["longest_shared_run_holdout"] = int(_longest_runs(holdout.dosage[h_rows], training, plan).max())
    k_rows = m.sample_rows(len(S.dosage), limits["kinship_synthetic"], rng)
    plot.kinship = m.king_robust_max(S.dosage[k_rows], T.dosage)
    out["max_kinship"], out["first_degree_fraction"] = m.kinship_summary(plot.kinship)
    if len(holdout.dosage):  # the yardstick: unrelated real people, scored the same way
        h_rows = m.sample_rows(len(holdout.dosage), limits["kinship_synthetic"], rng)
        held = m.king_robust_max(holdout.dosage[h_rows], T.dosage)
        out["max_kinship_holdout"], out["first_degree_fraction_holdout"] = m.kinship_summary(held)
    return out


def _longest_runs(a: np.ndarray, b: np.ndarray, plan) -> np.ndarray:
    """``kernels.longest_shared_runs`` of the rows of ``a`` against ``b``: over all sites when every site
    is read, else the longest within one run of consecutive privacy sites."""
    from .kernels import longest_shared_runs

    if not plan.privacy_thinned:
        return longest_shared_runs(np.ascontiguousarray(a), np.ascontiguousarray(b))[0]
    starts = np.flatnonzero(np.diff(plan.privacy_run, prepend=-1) != 0)
    best = np.zeros(len(a), dtype=np.int64)
    for lo, hi in zip(starts, np.r_[starts[1:], len(plan.privacy_run)]):
        runs, _ = longest_shared_runs(np.ascontiguousarray(a[:, lo:hi]), np.ascontiguousarray(b[:, lo:hi]))
        best = np.maximum(best, runs)
    return best


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


def compute_baselines(real, synthetic, train, *, ld_distance: int = 50_000, seed: int = 0,
                      limits: dict | None = None, shared_notes=(), show_progress: bool = False
                      ) -> tuple[dict, list[str]]:
    """The baselines of ``synthetic`` (``baselines.ROW_LABELS``), each scored by ``compute_metrics`` exactly
    as ``synthetic`` is: against ``real`` and ``train``, with the same seed, on the real sites that
    ``synthetic`` shares.

    - ``hybridizer``: PPO offspring of ``train``, as many per population as ``synthetic`` has (LD-aware
      blocks; mosaic switch rates chosen to the membership budget ``synthetic``'s generator recorded,
      ``baselines.recorded_budget``, as the pipeline's baseline; else the default rate); skipped, with a
      note naming the reason, when the hybridizer refuses. Past
      ``LIMITS["genome_sites"]`` shared sites it is made piece by piece (``_hybridize_in_pieces``);
    - ``heldout``: half of each population's real genomes that are not in ``train`` (the other half
      stays the audit's held-out yardstick); skipped when every real genome is in ``train``.

    Each cohort is a Cohort, CohortFile or Store. Returns {key: {"label": ..., **metrics without
    schema_version}} and notes, each prefixed with its set's label; a note already in
    ``shared_notes`` (the synthetic set's) is not repeated.
    """
    import contextlib
    import tempfile

    from ..baselines import ROW_LABELS, heldout_half, heldout_rows, hybridizer_only, recorded_budget

    real, synthetic, train = as_store(real), as_store(synthetic), as_store(train)
    budget = recorded_budget(synthetic.provenance)
    all_limits = {**m.LIMITS, **(limits or {})}
    shared = match_sites(real, synthetic).a
    notes: list[str] = []
    sets = {}
    label = ROW_LABELS["hybridizer"]
    have = train.samples.population_counts()
    wanted = synthetic.samples.population_counts()
    sizes = {p: n for p, n in wanted.items() if p in have}
    if set(wanted) - set(sizes):
        notes.append(f"{label}: no offspring for {', '.join(p for p in wanted if p not in have)} "
                     "(not in the training cohort)")
    with contextlib.ExitStack() as stack:
        try:
            if not sizes:
                raise InputError("no population of the synthetic cohort is in the training cohort")
            if len(shared) > all_limits["genome_sites"]:
                tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ogan-baseline-")))
                sets["hybridizer"], more = _hybridize_in_pieces(real, train, shared, sizes, seed=seed,
                                                                piece=all_limits["genome_sites"],
                                                                path=tmp / "hybridizer.h5", budget=budget)
                stack.callback(sets["hybridizer"].source.close)
            else:
                hybrid = hybridizer_only(train.load(), sizes, seed=seed, membership_budget=budget)
                sets["hybridizer"], more = _on_sites(real, hybrid.cohort, shared), hybrid.notes
                rates = {r.population: r.generations for r in hybrid.populations if r.generations}
                if budget is not None and rates:
                    more = [*more, f"switch rates chosen to the generator's membership budget {budget:g}: "
                            + ", ".join(f"{p} {g:g}" for p, g in rates.items()) + " per Morgan"]
            notes += [f"{label}: {n}" for n in more]
        except InputError as e:
            notes.append(f"{label}: skipped ({e})")
        rows = heldout_rows(real, train)
        if len(rows):
            sets["heldout"] = heldout_half(real.take_samples(rows), seed=seed)
        else:
            notes.append(f"{ROW_LABELS['heldout']}: skipped (every real genome is in the training cohort)")
        out = {}
        for key, cohort in sets.items():
            if key == "heldout":
                cohort = _on_sites(real, cohort, shared)
            met, _, more = compute_metrics(real, cohort, train, ld_distance=ld_distance, seed=seed, limits=limits,
                                           show_progress=show_progress, progress_label=f"baseline {key}")
            met.pop("schema_version")
            out[key] = {"label": ROW_LABELS[key], **met}
            notes += [f"{ROW_LABELS[key]}: {n}" for n in more if n not in shared_notes]
    return out, notes


def _on_sites(real, cohort, shared: np.ndarray):
    """``cohort`` (a Cohort or Store) at the sites it shares with ``real`` among real's sites ``shared``
    (int64 indices)."""
    match = match_sites(real, cohort)
    return cohort.take_variants(np.sort(match.b[np.isin(match.a, shared)]))


def _hybridize_in_pieces(real: Store, train: Store, shared: np.ndarray, sizes: dict[str, int], *, seed: int,
                         piece: int, path: Path, budget: float | None = None) -> tuple[Store, list[str]]:
    """The hybridizer-only baseline of a large cohort, written to ``path``: the training cohort at the
    shared sites, each contig in pieces of at most ``piece`` SNPs, each piece hybridized on its own
    (``baselines.hybridizer_only``, seed drawn from ``SeedSequence([seed, 14, piece index])``), so one
    piece is in memory at a time. Returns the cohort as a Store and the hybridizer's notes."""
    from ..baselines import hybridizer_only
    from ..cohort import CohortFile, write_cohort

    match = match_sites(real, train)
    keep = np.sort(match.b[np.isin(match.a, shared)])
    contig = train.variant_contig[keep]
    cuts = np.flatnonzero(np.diff(contig) != 0) + 1
    pieces = [p for run in np.split(keep, cuts) for p in np.array_split(run, max(1, -(-len(run) // piece)))]
    notes: list[str] = []

    def hybridize(k: int):
        cohort = train.take_variants(pieces[k]).load()
        result = hybridizer_only(cohort, sizes, seed=int(np.random.SeedSequence([seed, 14, k]).generate_state(1)[0]),
                                 membership_budget=budget)
        notes.extend(n for n in result.notes if n not in notes)
        return result.cohort

    first = hybridize(0)

    class Pieces:
        """The pieces' offspring as one VariantSource (every piece has the same samples)."""

        path, samples, provenance = train.path, first.samples, []
        contig_id, contig_length, n_variants = train.contig_id, train.contig_length, len(keep)

        def chunks(self):
            yield from first.chunks()
            for k in range(1, len(pieces)):
                yield from hybridize(k).chunks()

    write_cohort(path, Pieces())
    return Store(CohortFile(path), path=f"{train.path} (hybridizer baseline)"), notes


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

    The inputs are read site by site (``store.open_store``: a VCF/BCF/PLINK input is ingested to a
    temporary cohort file first), never whole. ``baselines`` (``compute_baselines``: the hybridizer
    alone, held-out real genomes) are scored beside the synthetic set; None: when ``train`` is given
    and some real genomes are not in it.
    """
    import contextlib

    from ..baselines import heldout_rows
    from ..io import Region
    from .html import write_metrics_json, write_report
    from .plots import save_figures

    if baselines and not train:
        raise InputError("--baselines needs --train: the baselines are made from the training cohort and "
                         "audited against it")
    out_dir = Path(out_dir)
    with contextlib.ExitStack() as stack:
        real_c = stack.enter_context(open_store(real, panel=panel))
        synth_c = stack.enter_context(open_store(synthetic, panel=synth_panel,
                                                 panel_role="the synthetic cohort's panel"))
        train_c = (stack.enter_context(open_store(train, panel=train_panel, panel_role="the training cohort's panel"))
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
            metrics["baselines"], more = compute_baselines(real_c, synth_c, train_c, ld_distance=ld_distance,
                                                           seed=seed, shared_notes=notes, show_progress=show_progress)
            notes.extend(more)
    os.makedirs(out_dir / "figures", exist_ok=True)
    figures = save_figures(plot, out_dir / "figures")
    inputs = {"real": str(real), "synthetic": str(synthetic), **({"train": str(train)} if train else {})}
    page = write_report(out_dir, metrics, figures, title="ogan report", notes=notes, inputs=inputs)
    json_path = write_metrics_json(out_dir, metrics)
    return ReportResult(metrics, [str(page), str(json_path), *map(str, figures.values())], notes)


def _window(real, synthetic, region) -> tuple[int, int]:
    """Index range, among the shared sites, of the SNPs inside ``region``."""
    ia = match_sites(real, synthetic).a
    contig = np.array(real.contig_id, dtype=object)[real.variant_contig[ia]]
    pos = real.variant_position[ia]
    inside = np.flatnonzero((contig == region.contig) & (pos >= region.start) &
                            (pos <= (region.end or np.iinfo(np.int64).max)))
    if len(inside) < 2:
        raise InputError(f"the LD heatmap region {region}: fewer than 2 shared SNPs inside")
    return int(inside[0]), int(inside[0]) + min(1000, len(inside))
