"""The privacy audit within one population: its training members, held-out people and synthetic genomes.

Pooled over populations, the audit compares training genomes (mostly the majority populations)
with held-out genomes (mostly the minorities), so a leak within a minority can hide behind the
difference between populations. ``population_audit`` compares like with like: for one population
p, members = the training genomes of p, non-members = the held-out real genomes of p, synthetic =
the synthetic genomes labelled p. Definitions and keys: docs/metrics.md (``privacy.per_population``).

Equal-sized random subsets of n genomes (n = the smallest of the three sets, at most
``LIMITS["audit_genomes"]``) enter the adversarial accuracy and the scored sides of the membership
attacks. Intervals are 95% percentile bootstraps over genomes (``LIMITS["audit_resamples"]``
resamples): each genome's nearest-neighbour indicator or attack score is computed once against
the whole subsets, and resampling redraws which genomes are counted (the released synthetic set
is fixed, as the attacker sees it).
"""

from __future__ import annotations

import numpy as np

from . import metrics as m

Interval = list[float] | None


def population_audit(members: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, *,
                     haplotypes: tuple[np.ndarray, np.ndarray, np.ndarray] | None, limits: dict,
                     rng: np.random.Generator, contig: np.ndarray | None = None) -> dict | None:
    """The audit of one population, or None when a set has fewer than 2 genomes.

    members, holdout, synthetic : int8 (rows, V) ALT dosages, -1 missing, over the shared SNPs.
    haplotypes : the same three sets as int8 (2 rows, V) alleles (``split_haplotypes``), or None
        for unphased cohorts (``shared_segment_snps`` is then None).
    contig : int (V,) contig of each SNP; shared segments never span two runs of one contig.
    """
    n = min(len(members), len(holdout), len(synthetic), limits["audit_genomes"])
    if n < 2:
        return None
    order = [rng.permutation(len(x)) for x in (members, holdout, synthetic)]  # random subsets: the first rows
    members, holdout, synthetic = (x[o] for x, o in zip((members, holdout, synthetic), order))
    mem, held, syn = members[:n], holdout[:n], synthetic[:n]
    resamples = limits["audit_resamples"]
    out = {"n": n, "n_members": len(members), "n_holdout": len(holdout), "n_synthetic": len(synthetic)}
    out.update(_adversarial_accuracy(mem, held, syn, resamples, rng))
    attack_set = synthetic[:limits["mia_synthetic"]]
    out.update(_membership(mem, held, holdout[n:n + limits["mia_synthetic"]], attack_set, resamples, rng))
    dcr_syn, dcr_held = m.nearest_distances(syn, members), m.nearest_distances(held, members)
    out["dcr_ratio"] = _ratio(_median(dcr_syn), _median(dcr_held))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = _medians(dcr_syn, _draws(rng, n, resamples)) / _medians(dcr_held, _draws(rng, n, resamples))
    out["dcr_ratio_interval"] = _interval(boot)
    out["exact_copy_fraction"] = m.contained_fraction(synthetic, members)
    out.update(_runs_and_kinship(mem, held, syn, members, limits))
    out["shared_segment_snps"] = None
    if haplotypes is not None:
        hm, hh, hs = (h[_haplotype_rows(o)] for h, o in zip(haplotypes, order))
        k = 2 * min(n, limits["segment_genomes"])  # haplotypes of as many genomes on each side
        panel = hm[:2 * limits["run_training"]]
        out["shared_segment_snps"] = {"synthetic": shared_segments(hs[:k], panel, contig),
                                      "holdout": shared_segments(hh[:k], panel, contig)}
    return out


def _adversarial_accuracy(mem, held, syn, resamples, rng) -> dict:
    """AA_TS (Yelmen et al. 2021) of synthetic vs members and vs held-out genomes, and privacy loss."""
    own_s = m.nearest_distances(syn, syn, same=True)
    parts = {}
    for name, real in (("train", mem), ("holdout", held)):
        own_r = m.nearest_distances(real, real, same=True)
        parts[name] = (_farther(m.nearest_distances(real, syn), own_r),  # real genome nearer its own set
                       _farther(m.nearest_distances(syn, real), own_s))  # synthetic genome nearer its own
    n = len(syn)
    draw_s = _draws(rng, n, resamples)
    boot = {name: 0.5 * (_mean_rows(r[_draws(rng, n, resamples)]) + _mean_rows(s[draw_s]))
            for name, (r, s) in parts.items()}  # the synthetic draws are shared: a paired difference
    out = {}
    for name, (r, s) in parts.items():
        out[f"aa_ts_{name}"] = _value(0.5 * (_mean_rows(r[None])[0] + _mean_rows(s[None])[0]))
        out[f"aa_ts_{name}_interval"] = _interval(boot[name])
    defined = out["aa_ts_train"] is not None and out["aa_ts_holdout"] is not None
    out["privacy_loss"] = out["aa_ts_holdout"] - out["aa_ts_train"] if defined else None
    out["privacy_loss_interval"] = _interval(boot["holdout"] - boot["train"])
    return out


def _membership(mem, held, rest, attack_set, resamples, rng) -> dict:
    """AUCs of telling members from non-members: by distance to the nearest synthetic genome, and by
    the allele-frequency likelihood ratio of synthetic vs reference genomes (``frequency_lr_scores``).

    rest : held-out genomes of the population outside ``held``: the attacker's reference set. When
    they are fewer than half of n, ``held`` is split instead: half reference, half scored (with as
    many members).
    """
    d_mem, d_held = m.nearest_distances(mem, attack_set), m.nearest_distances(held, attack_set)
    out = {"mia_synthetic_n": len(attack_set)}
    out["mia_nearest_auc"], out["mia_nearest_auc_interval"] = _auc_with_interval(-d_mem, -d_held, resamples, rng)
    n = len(held)
    reference, scored = (rest, np.arange(n)) if len(rest) >= max(1, n // 2) else (held[n // 2:], np.arange(n // 2))
    score_mem, score_held = frequency_lr_scores(np.concatenate([mem[scored], held[scored]]), attack_set, reference
                                                ).reshape(2, -1)
    out["mia_frequency_lr_n"], out["mia_reference_n"] = len(scored), len(reference)
    out["mia_frequency_lr_auc"], out["mia_frequency_lr_auc_interval"] = _auc_with_interval(
        score_mem, score_held, resamples, rng)
    return out


def frequency_lr_scores(dosage: np.ndarray, synthetic: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Membership score of each genome: log-likelihood of its alleles under the synthetic set's allele
    frequencies minus that under the reference set's (binomial at each SNP, SNPs independent).

    dosage : int8 (n, V), synthetic : int8 (s, V), reference : int8 (r, V) ALT dosages, -1 missing;
    a missing call adds nothing. Frequencies are (ALT count + 1/2) / (called alleles + 1). This is
    the density ratio of DOMIAS (van Breugel et al. 2023) with a per-SNP binomial density, i.e. the
    likelihood-ratio test of Sankararaman et al. (2009) with the synthetic set as the "pool".
    Returns float64 (n,): higher means "more likely a member".
    """
    def log_frequencies(d):
        called = d >= 0
        p = (np.where(called, d, 0).sum(axis=0) + 0.5) / (2 * called.sum(axis=0) + 1)
        return np.log(p), np.log1p(-p)

    (alt_s, ref_s), (alt_r, ref_r) = log_frequencies(synthetic), log_frequencies(reference)
    called = dosage >= 0
    alt = np.where(called, dosage, 0).astype(np.float64)
    return alt @ (alt_s - alt_r) + (2 * called - alt) @ (ref_s - ref_r)


def _runs_and_kinship(mem, held, syn, members, limits) -> dict:
    """Longest shared run and KING-robust kinship to the population's members: synthetic, and held-out."""
    from .kernels import longest_shared_runs

    panel = np.ascontiguousarray(members[:limits["run_training"]])
    out = {}
    for suffix, rows in (("", syn), ("_holdout", held)):
        runs, _ = longest_shared_runs(np.ascontiguousarray(rows[:limits["run_synthetic"]]), panel)
        out["longest_shared_run_snps" if not suffix else "longest_shared_run_holdout"] = int(runs.max())
        kinship = m.king_robust_max(rows[:limits["kinship_synthetic"]], members)
        out[f"max_kinship{suffix}"], out[f"first_degree_fraction{suffix}"] = m.kinship_summary(kinship)
    return out


def shared_segments(haplotypes: np.ndarray, panel: np.ndarray, contig: np.ndarray | None = None) -> dict:
    """Length distribution (SNPs) of the segments ``haplotypes`` share verbatim with ``panel``.

    haplotypes : int8 (h, V), panel : int8 (k, V) alleles, -1 missing; contig : int (V,) or None.
    Each haplotype is tiled left to right by its longest verbatim matches with one panel haplotype
    (``greedy_segments``), the fewest segments of panel sequence it can be cut into, each run of
    one contig on its own. Returns median, p90, max, mean (over all segments), the segment count and
    the haplotype count.
    """
    from .kernels import greedy_segments

    starts = [0] if contig is None else np.flatnonzero(np.diff(contig, prepend=np.nan) != 0).tolist()
    pieces = [greedy_segments(np.ascontiguousarray(haplotypes[:, a:b]), np.ascontiguousarray(panel[:, a:b]))
              for a, b in zip(starts, [*starts[1:], haplotypes.shape[1]])]
    lengths = np.concatenate([p[p > 0] for p in pieces]).astype(np.float64)
    if not len(lengths):
        return {"median": None, "p90": None, "max": None, "mean": None, "segments": 0,
                "haplotypes": len(haplotypes)}
    return {"median": float(np.median(lengths)), "p90": float(np.percentile(lengths, 90)),
            "max": int(lengths.max()), "mean": float(lengths.mean()), "segments": len(lengths),
            "haplotypes": len(haplotypes)}


def split_haplotypes(codes: np.ndarray) -> np.ndarray:
    """Phased 4-class codes (2 a + b, -1 missing), int8 (n, V) -> int8 (2n, V) alleles; rows 2i, 2i + 1
    are genome i's two haplotypes, -1 where the call is missing."""
    out = np.empty((2 * len(codes), codes.shape[1]), dtype=np.int8)
    out[0::2] = np.where(codes < 0, -1, codes >> 1)
    out[1::2] = np.where(codes < 0, -1, codes & 1)
    return out


def auc(positive: np.ndarray, negative: np.ndarray) -> float | None:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties counting one half.

    NaN scores are left out; None when a side has no score.
    """
    positive, negative = positive[np.isfinite(positive)], np.sort(negative[np.isfinite(negative)])
    if not len(positive) or not len(negative):
        return None
    below = np.searchsorted(negative, positive, side="left")
    ties = np.searchsorted(negative, positive, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(positive) * len(negative)))


def _auc_with_interval(positive, negative, resamples, rng) -> tuple[float | None, Interval]:
    boot = [auc(positive[a], negative[b]) for a, b in zip(_draws(rng, len(positive), resamples),
                                                         _draws(rng, len(negative), resamples))]
    return auc(positive, negative), _interval(np.array([np.nan if v is None else v for v in boot]))


def _haplotype_rows(genomes: np.ndarray) -> np.ndarray:
    """Rows of ``split_haplotypes`` output holding the haplotypes of ``genomes`` (row indices)."""
    return np.stack([2 * genomes, 2 * genomes + 1], axis=1).ravel()


def _farther(cross: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per genome, 1.0 if its nearest genome of the other set is farther than its nearest own, else 0.0;
    NaN where either distance is undefined."""
    ok = np.isfinite(cross) & np.isfinite(own)
    return np.where(ok, (cross > own).astype(np.float64), np.nan)


def _draws(rng: np.random.Generator, n: int, resamples: int) -> np.ndarray:
    """int64 (resamples, n): row indices of ``resamples`` bootstrap resamples of n genomes."""
    return rng.integers(0, n, size=(resamples, n)) if n else np.zeros((resamples, 0), dtype=np.int64)


def _mean_rows(values: np.ndarray) -> np.ndarray:
    """Mean of each row over its defined (non-NaN) values; NaN for a row with none."""
    ok = ~np.isnan(values)
    count = ok.sum(axis=1)
    return np.where(count > 0, np.where(ok, values, 0).sum(axis=1) / np.maximum(count, 1), np.nan)


def _medians(values: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Median of the defined values of each resample (rows of ``draws``); NaN for a row with none."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample of undefined values only
        return np.nanmedian(values[draws], axis=1)


def _median(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _value(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _interval(replicates: np.ndarray) -> Interval:
    """The 2.5% and 97.5% percentiles of the defined replicates; None when none is."""
    finite = replicates[np.isfinite(replicates)]
    return [float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))] if len(finite) else None
