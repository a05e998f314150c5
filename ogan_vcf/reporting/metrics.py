"""How close, diverse and private a synthetic cohort is: pure numpy/scikit-learn -> dict.

Genomes are rows of int8 ALT-allele counts (samples, SNPs), -1 missing, over the sites
both cohorts share. Quadratic measures use chunked BLAS products and, past a size,
random samples of genomes (recorded in ``sampling``), so memory and time stay bounded.
The schema of the result is documented in docs/metrics.md.
"""

from __future__ import annotations

import numpy as np

FIRST_DEGREE = 0.177  # KING kinship at or above this: first-degree relatives or closer
SECOND_DEGREE = 0.0884  # ... second-degree relatives or closer
KING_DUPLICATE = 0.354  # ... duplicates or monozygotic twins
LIMITS = {"ld_pairs": 200_000, "ld_pairs_population": 20_000, "pca_snps": 5_000, "gmm_samples": 3_000,
          "classifier_samples": 5_000, "distance_samples": 1_000, "diversity_samples": 400,
          "run_synthetic": 200, "run_training": 1_000, "kinship_synthetic": 500, "mia_synthetic": 2_000,
          "audit_genomes": 500, "audit_resamples": 200, "segment_genomes": 100,
          # sites (sampling.plan_sites): every shared site up to each size, then a sample
          "ld_sites": 20_000, "ld_window_snps": 500, "genome_sites": 20_000, "privacy_sites": 20_000,
          "privacy_run_snps": 1_000, "junctions": 100, "junction_snps": 100}


# ---------------------------------------------------------------- basic statistics

def pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson r, or None when either side is constant or there are fewer than 2 values."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def allele_frequency(dosage: np.ndarray) -> np.ndarray:
    """ALT allele frequency per SNP of (samples, SNPs) counts, ignoring missing calls."""
    called = dosage >= 0
    return np.where(called, dosage, 0).sum(axis=0) / np.maximum(1, 2 * called.sum(axis=0))


def maf_pair(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-SNP frequency of the real cohort's minor allele, in real and in synthetic."""
    return minor_pair(allele_frequency(real), allele_frequency(synthetic))


def minor_pair(p_real: np.ndarray, p_synth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ALT frequencies per SNP -> the frequency of the real cohort's minor allele, in real and in synthetic."""
    alt_minor = p_real <= 0.5
    return np.where(alt_minor, p_real, 1 - p_real), np.where(alt_minor, p_synth, 1 - p_synth)


def heterozygosity(dosage: np.ndarray) -> float:
    """Share of called genotypes that are heterozygous."""
    called = dosage >= 0
    return float((dosage == 1).sum() / max(1, called.sum()))


def duplicate_fraction(dosage: np.ndarray) -> float:
    """Share of genomes identical to another genome of the same set (counted once per copy).

    Identical: the same int8 dosage at every SNP, missing calls (-1) included.
    """
    if len(dosage) == 0:
        return 0.0
    rows = np.ascontiguousarray(dosage).view(np.dtype((np.void, dosage.shape[1])))
    return 1.0 - len(np.unique(rows)) / len(dosage)


def contained_fraction(dosage: np.ndarray, reference: np.ndarray) -> float:
    """Share of rows of ``dosage`` that equal some row of ``reference``, missing calls (-1) included."""
    ref = {row.tobytes() for row in np.ascontiguousarray(reference)}
    return float(np.mean([row.tobytes() in ref for row in np.ascontiguousarray(dosage)])) if len(dosage) else 0.0


# ---------------------------------------------------------------- linkage

def standardize(dosage: np.ndarray) -> np.ndarray:
    """float32 (SNPs, samples): per SNP centred, unit norm, missing at the mean (0 when constant)."""
    x = dosage.T.astype(np.float32)
    called = dosage.T >= 0
    mean = np.where(called, x, 0).sum(axis=1, keepdims=True) / np.maximum(1, called.sum(axis=1, keepdims=True))
    x = np.where(called, x - mean, 0)
    norm = np.sqrt((x * x).sum(axis=1, keepdims=True))
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def ld_breaks_per_mb(real: np.ndarray, synthetic: np.ndarray, position: np.ndarray, contig: np.ndarray, *,
                     next_snps: int = 5, drop: float = 0.2, min_maf: float = 0.05) -> float | None:
    """LD breaks per Mb: common SNPs (MAF >= ``min_maf`` in ``real``) whose mean r^2 with the next
    ``next_snps`` common SNPs of the same contig run is at least ``drop`` lower in ``synthetic`` than in
    ``real``, per Mb spanned by the SNPs (each contig run from its first to its last SNP).

    real, synthetic : int8 (genomes, V) ALT dosages, -1 missing; None when no SNP has its next SNPs.
    """
    flags = ld_break_flags(real, synthetic, contig, next_snps=next_snps, drop=drop, min_maf=min_maf)
    if flags is None:
        return None
    _, broken, ok = flags
    run = np.concatenate([[0], np.cumsum(np.diff(contig) != 0)])  # runs of one contig
    span = sum(float(position[run == k].max() - position[run == k].min()) for k in np.unique(run)) / 1e6
    if not ok.any() or span <= 0:
        return None
    return float(np.sum(broken & ok) / span)


def ld_break_flags(real: np.ndarray, synthetic: np.ndarray, contig: np.ndarray, *, next_snps: int = 5,
                   drop: float = 0.2, min_maf: float = 0.05):
    """The SNP-level test behind ``ld_breaks_per_mb``: (common, broken, ok), or None with too few common SNPs.

    common : int64 indices of the common SNPs (MAF >= ``min_maf`` in ``real``); broken : bool, per common
    SNP, its mean r^2 with the next ``next_snps`` common SNPs is at least ``drop`` lower in ``synthetic``;
    ok : bool, those next SNPs exist in the same run of ``contig``.
    """
    maf = allele_frequency(real)
    common = np.flatnonzero(np.minimum(maf, 1 - maf) >= min_maf)
    run = np.concatenate([[0], np.cumsum(np.diff(contig) != 0)])  # runs of one contig
    if len(common) <= next_snps:
        return None

    def mean_r2(dosage):
        z = standardize(dosage[:, common])  # (c, genomes)
        total, valid = np.zeros(len(common)), np.ones(len(common), dtype=bool)
        for d in range(1, next_snps + 1):
            r2 = np.zeros(len(common))
            r2[:-d] = np.einsum("ij,ij->i", z[:-d], z[d:]) ** 2
            total += r2
            valid[-d:] = False
            valid[:-d] &= run[common[:-d]] == run[common[d:]]
        return total / next_snps, valid

    (r_real, ok), (r_synth, _) = mean_r2(real), mean_r2(synthetic)
    return common, r_real - r_synth >= drop, ok


def near_pairs(contig: np.ndarray, position: np.ndarray, max_distance: int, max_pairs: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """SNP index pairs (i < j) on one contig within ``max_distance`` bp; a uniform sample past ``max_pairs``.

    contig : int (V,) contig index, position : int64 (V,) ascending within each run of one contig.
    Pairs never join two runs, whatever order the contig indices come in.
    """
    run = np.cumsum(np.diff(contig, prepend=contig[:1]) != 0).astype(np.int64)
    key = run * (1 << 40) + position
    hi = np.searchsorted(key, key + max_distance, side="right")
    count = hi - np.arange(len(key)) - 1
    total = int(count.sum())
    if total <= max_pairs:
        i = np.repeat(np.arange(len(key)), count)
        j = i + 1 + (np.arange(total) - np.repeat(np.cumsum(count) - count, count))
        return i, j
    i = rng.choice(len(key), size=max_pairs, p=count / total)
    j = i + 1 + (rng.random(max_pairs) * count[i]).astype(np.int64)
    return i, j


def pair_r(z: np.ndarray, i: np.ndarray, j: np.ndarray, tile: int = 64) -> np.ndarray:
    """Pearson r for near SNP pairs (i < j) from standardized rows ``z``.

    Pairs are grouped by tiles of ``i``; each tile is one BLAS product of its rows with
    the rows up to its farthest ``j``, so nothing is gathered row by row.
    """
    order = np.argsort(i, kind="stable")
    si, sj = i[order], j[order]
    out = np.empty(len(i), dtype=np.float32)
    for start in range(0, len(z), tile):
        lo, hi = np.searchsorted(si, [start, start + tile])
        if lo == hi:
            continue
        last = int(sj[lo:hi].max()) + 1
        block = z[start:start + tile] @ z[start:last].T
        out[order[lo:hi]] = block[si[lo:hi] - start, sj[lo:hi] - start]
    return out


def run_pair_r(dosage: np.ndarray, i: np.ndarray, j: np.ndarray, run: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Pearson r for SNP pairs (i < j) that each lie in one run, standardizing one run at a time.

    dosage : int8 (genomes, V); run : int (V,) run ids (consecutive SNPs of a run share one).
    Each pair is one dot product of its two standardized SNPs (``chunk`` pairs at a time), so the
    cost follows the pairs, not the runs' sizes; memory: one run's float32 copy.
    """
    starts = np.flatnonzero(np.diff(run, prepend=np.nan) != 0)
    stops = np.r_[starts[1:], len(run)]
    which = np.searchsorted(starts, i, side="right") - 1
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(len(starts) + 1))
    out = np.empty(len(i), dtype=np.float32)
    for k in np.flatnonzero(np.diff(bounds)).tolist():
        a, b = int(starts[k]), int(stops[k])
        z = np.ascontiguousarray(standardize(dosage[:, a:b]))
        sel = order[bounds[k]:bounds[k + 1]]
        for c in range(0, len(sel), chunk):
            part = sel[c:c + chunk]
            out[part] = np.einsum("ij,ij->i", z[i[part] - a], z[j[part] - a])
    return out


def pairs_in_ranges(lo: np.ndarray, hi: np.ndarray, max_pairs: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with lo[i] <= j < hi[i]: all of them, or a uniform sample of ``max_pairs``."""
    count = np.maximum(hi - lo, 0)
    total = int(count.sum())
    if total <= max_pairs:
        i = np.repeat(np.arange(len(lo)), count)
        return i, lo[i] + (np.arange(total) - np.repeat(np.cumsum(count) - count, count))
    i = rng.choice(len(lo), size=max_pairs, p=count / total)
    return i, lo[i] + (rng.random(max_pairs) * count[i]).astype(np.int64)


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b, None unless both are known and b > 0."""
    return a / b if a is not None and b is not None and b > 0 else None


def junction_ld(real: np.ndarray, synthetic: np.ndarray, position: np.ndarray, run: np.ndarray,
                window: np.ndarray, *, max_distance: int, max_pairs: int, rng: np.random.Generator,
                next_snps: int = 5) -> dict:
    """LD fidelity inside the windows of a windowed synthetic cohort and across their junctions.

    real, synthetic : int8 (genomes, V) ALT dosages, -1 missing; position : int64 (V,) ascending in
    each run; run : int (V,) runs of consecutive SNPs of one contig (pairs never join two runs);
    window : int64 (V,) index (file order) of the generation window whose core holds each SNP, -1
    none. Windows k and k + 1 of one run meet at a junction.

    Returns ``ld_r_within`` and ``ld_r_junction``: Pearson r between real and synthetic pairwise r
    (``ld_r``) over SNP pairs at most ``max_distance`` bp apart, both SNPs in one window, or one in
    window k and one in window k + 1 (each set a uniform sample of ``max_pairs`` past that many);
    ``ld_pairs_within``, ``ld_pairs_junction`` (the pairs used); ``ld_junction_ratio``
    (junction / within, None unless within > 0); ``ld_r_midpoint`` / ``ld_pairs_midpoint``, the
    like-for-like control: pairs that straddle the middle of each window's stretch (one SNP each side,
    at most ``max_distance`` apart), spread in distance as junction pairs are, where pairs inside a
    window are closer on average; ``ld_junction_ratio_matched`` (junction / midpoint); and
    ``ld_breaks_per_mb_inside`` /
    ``ld_breaks_per_mb_junction``: the common SNPs that ``ld_break_flags`` finds broken, among those
    whose next ``next_snps`` common SNPs lie in their own window / in the next window, per Mb, each tested
    SNP counting for the median spacing of common SNPs (so gaps in the SNPs or between sampled pieces
    do not dilute the rate).
    """
    rid = np.concatenate([[0], np.cumsum(np.diff(run) != 0)]).astype(np.int64)
    seg = np.concatenate([[0], np.cumsum((np.diff(rid) != 0) | (np.diff(window) != 0))]).astype(np.int64)
    seg_start = np.flatnonzero(np.diff(seg, prepend=-1) != 0)
    seg_stop = np.r_[seg_start[1:], len(seg)]
    seg_run, seg_window = rid[seg_start], window[seg_start]
    following = np.full(len(seg_start), -1, dtype=np.int64)  # the next segment in a window, same run
    for s in range(len(seg_start) - 2, -1, -1):
        if seg_run[s + 1] == seg_run[s]:
            following[s] = s + 1 if seg_window[s + 1] >= 0 else following[s + 1]
    key = rid * (1 << 40) + position
    reach = np.searchsorted(key, key + max_distance, side="right")
    inside = window >= 0
    nxt = following[seg]
    at_junction = inside & (nxt >= 0) & (seg_window[np.maximum(nxt, 0)] == window + 1)
    pairs = {"within": pairs_in_ranges(np.arange(len(seg)) + 1, np.where(inside, np.minimum(seg_stop[seg], reach), 0),
                                       max_pairs, rng),
             "junction": pairs_in_ranges(np.where(at_junction, seg_start[nxt], 0),
                                         np.where(at_junction, np.minimum(seg_stop[nxt], reach), 0), max_pairs, rng)}
    middle = (seg_start + seg_stop) // 2  # the like-for-like control: pairs straddling a point inside a window
    left = inside & (np.arange(len(seg)) < middle[seg])
    pairs["midpoint"] = pairs_in_ranges(np.where(left, middle[seg], 0),
                                        np.where(left, np.minimum(seg_stop[seg], reach), 0), max_pairs, rng)
    out = {}
    for name, (i, j) in pairs.items():
        r_real, r_synth = run_pair_r(real, i, j, rid), run_pair_r(synthetic, i, j, rid)
        out[f"ld_r_{name}"], out[f"ld_pairs_{name}"] = pearson(r_real, r_synth), len(i)
    within, junction = out["ld_r_within"], out["ld_r_junction"]
    out["ld_junction_ratio"] = _ratio(junction, within)
    out["ld_junction_ratio_matched"] = _ratio(junction, out["ld_r_midpoint"])
    out["ld_breaks_per_mb_inside"] = out["ld_breaks_per_mb_junction"] = None
    flags = ld_break_flags(real, synthetic, rid, next_snps=next_snps)
    if flags is not None:
        common, broken, ok = flags
        last = np.r_[common[next_snps:], np.zeros(next_snps, dtype=np.int64)]  # the next_snps-th next SNP
        gap = np.diff(position[common])[rid[common[1:]] == rid[common[:-1]]]
        spacing = float(np.median(gap)) / 1e6 if len(gap) else 0.0  # Mb per common SNP (robust to gaps)
        first, end = window[common], window[last]
        for name, member in (("inside", ok & (first >= 0) & (end == first)),
                             ("junction", ok & (first >= 0) & (end >= 0) & (end != first))):
            span = member.sum() * spacing
            out[f"ld_breaks_per_mb_{name}"] = float(np.sum(broken & member) / span) if span > 0 else None
    return out


def ld_decay(r: np.ndarray, distance: np.ndarray, max_distance: int, bins: int = 10) -> dict:
    """Mean r^2 by distance bin."""
    edges = np.linspace(0, max_distance, bins + 1)
    which = np.clip(np.digitize(distance, edges[1:-1]), 0, bins - 1)
    r2 = r.astype(np.float64) ** 2
    sums, counts = np.bincount(which, r2, bins), np.bincount(which, minlength=bins)
    return {"bin_centers_kb": ((edges[:-1] + edges[1:]) / 2000).tolist(),
            "mean_r2": np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).tolist()}


# ---------------------------------------------------------------- PCA and classifier

def patterson_pca(real: np.ndarray, synthetic: np.ndarray, *, n_components: int, max_snps: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA fitted on real genomes (Patterson scaling), synthetic projected: coords and variance ratio."""
    from sklearn.utils.extmath import randomized_svd

    p = allele_frequency(real)
    usable = np.flatnonzero((p >= 0.01) & (p <= 0.99))
    if len(usable) > max_snps:
        usable = np.sort(rng.choice(usable, max_snps, replace=False))
    p = p[usable]
    scale = np.sqrt(2 * p * (1 - p)).astype(np.float32)

    def scaled(d):
        x = d[:, usable].astype(np.float32)
        return np.where(d[:, usable] >= 0, (x - 2 * p) / scale, 0).astype(np.float32)

    x_real = scaled(real)
    k = max(1, min(n_components, *x_real.shape))
    u, s, vt = randomized_svd(x_real, k, random_state=int(rng.integers(2**31)))
    variance = s**2 / max(float((x_real**2).sum()), 1e-12)
    return u * s, scaled(synthetic) @ vt.T, variance


def label_accuracy(pcs_real, labels_real, pcs_synth, labels_synth, *, max_samples: int, rng, seed: int):
    """Classifier (logistic regression on real PCs): CV accuracy on real, accuracy on synthetic."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    idx = np.arange(len(labels_real))
    if len(idx) > max_samples:
        idx = np.sort(rng.choice(idx, max_samples, replace=False))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    _, counts = np.unique(labels_real[idx], return_counts=True)
    folds = int(min(5, counts.min()))
    cv = None
    if folds >= 2 and len(counts) >= 2:
        split = StratifiedKFold(folds, shuffle=True, random_state=seed)
        cv = float(cross_val_score(model, pcs_real[idx], labels_real[idx], cv=split).mean())
    if len(counts) < 2:
        return cv, np.ones(len(labels_synth), dtype=bool)
    model.fit(pcs_real[idx], labels_real[idx])
    return cv, model.predict(pcs_synth) == labels_synth


# ---------------------------------------------------------------- distances

def _distance_parts(dosage: np.ndarray, complete: bool) -> tuple[np.ndarray, ...]:
    """float32 factors of the allele mismatch products, for (n, V) dosages.

    f = [d >= 1, d >= 2] (n, 2V), 0 at missing calls, so that sum |d_a - d_b| = sum f_a + f_b - 2 f_a f_b.
    ``complete`` (no missing call): (f, |f|). Otherwise (f, max(d, 0), called), both (n, V).
    """
    f = np.concatenate([dosage >= 1, dosage >= 2], axis=1).astype(np.float32)
    if complete:
        return f, f.sum(axis=1)
    return f, np.maximum(dosage, 0).astype(np.float32), (dosage >= 0).astype(np.float32)


def _mismatch(pa: tuple, pb: tuple, n_snps: int) -> np.ndarray:
    """float64 (len a, len b) allele mismatch fraction over the SNPs called in both; NaN where none."""
    if len(pa) == 2:  # no missing call: every SNP counts
        (fa, na), (fb, nb) = pa, pb
        l1, n = na[:, None] + nb[None, :] - 2 * (fa @ fb.T), np.float32(n_snps)
    else:  # L1 = d_a . c_b + c_a . d_b - 2 f_a . f_b over both-called SNPs, whose count is c_a . c_b
        (fa, da, ca), (fb, db, cb) = pa, pb
        l1, n = da @ cb.T + ca @ db.T - 2 * (fa @ fb.T), ca @ cb.T
    n = np.broadcast_to(n, l1.shape).astype(np.float64)
    return np.divide(np.maximum(l1, 0), 2 * n, out=np.full(l1.shape, np.nan), where=n > 0)


def _mismatch_blocks(a: np.ndarray, b: np.ndarray, chunk_bytes: int):
    """Yield (row, column, block): mismatch fractions of rows of ``a`` from ``row`` on vs rows of ``b``
    from ``column`` on, in blocks that keep the working memory near ``chunk_bytes``."""
    complete = bool((a >= 0).all() and (b >= 0).all())
    per_genome = 4 * a.shape[1] * (2 if complete else 4)  # bytes of one genome's float32 parts
    step_a = max(1, chunk_bytes // 2 // max(1, per_genome))
    for row in range(0, len(a), step_a):
        pa = _distance_parts(a[row:row + step_a], complete)
        step_b = max(1, chunk_bytes // 2 // (per_genome + 24 * len(pa[0])))
        for column in range(0, len(b), step_b):
            yield row, column, _mismatch(pa, _distance_parts(b[column:column + step_b], complete), a.shape[1])


def nearest_distances(a: np.ndarray, b: np.ndarray, *, same: bool = False, chunk_bytes: int = 256 << 20):
    """Distance (allele mismatch fraction) from each row of ``a`` to its nearest row of ``b``.

    a : int8 (m, V), b : int8 (k, V) dosages, -1 missing. Each pair is compared over the SNPs
    called in both; a pair with none has no distance. Returns float64 (m,), NaN for a row with
    no comparable row of ``b``. ``same``: a and b are the same set; a row is not its own neighbour.
    """
    best = np.full(len(a), np.inf)
    for row, column, d in _mismatch_blocks(a, b, chunk_bytes):
        if same:
            k = np.arange(max(row, column), min(row + d.shape[0], column + d.shape[1]))
            d[k - row, k - column] = np.nan
        d[np.isnan(d)] = np.inf
        best[row:row + len(d)] = np.minimum(best[row:row + len(d)], d.min(axis=1))
    return np.where(np.isinf(best), np.nan, best)


def mean_pairwise_distance(dosage: np.ndarray, chunk_bytes: int = 256 << 20) -> float | None:
    """Mean allele mismatch fraction over distinct pairs of rows of int8 (n, V) dosages.

    Each pair is compared over the SNPs called in both; pairs with none are left out. None when
    no pair is comparable.
    """
    total, count = 0.0, 0
    for row, column, d in _mismatch_blocks(dosage, dosage, chunk_bytes):
        upper = np.arange(column, column + d.shape[1])[None, :] > np.arange(row, row + d.shape[0])[:, None]
        keep = upper & ~np.isnan(d)
        total, count = total + float(d[keep].sum()), count + int(keep.sum())
    return total / count if count else None


def sample_rows(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """All row indices, or a sorted random ``limit`` of them."""
    return np.arange(n) if n <= limit else np.sort(rng.choice(n, limit, replace=False))


def king_robust(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """KING-robust kinship of each row of ``a`` with each row of ``b``, as ``plink2 --make-king`` gives it.

    a : int8 (m, V), b : int8 (k, V) dosages, -1 missing. Per pair, over the SNPs called in both
    (KING's between-family estimator): phi = 1/2 - (4 N_opposite_hom + N_het(i) + N_het(j)
    - 2 N_het,het) / (4 min(N_het(i), N_het(j))). Returns float64 (m, k); NaN where either genome
    has no heterozygous call among the SNPs both have called.
    """
    def parts(d):
        return [(d == v).astype(np.float32) for v in (1, 0, 2)] + [(d >= 0).astype(np.float32)]

    (ha, r0a, r2a, ca), (hb, r0b, r2b, cb) = parts(a), parts(b)
    hethet = ha @ hb.T
    opposite = r0a @ r2b.T + r2a @ r0b.T
    if ca.all() and cb.all():
        het_a, het_b = ha.sum(axis=1)[:, None], hb.sum(axis=1)[None, :]
    else:
        het_a, het_b = ha @ cb.T, ca @ hb.T
    squared = 4 * opposite + het_a + het_b - 2 * hethet  # float32 counts: exact below 2**24
    smaller = np.minimum(het_a, het_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = 0.5 - squared.astype(np.float64) / (4 * smaller)
    return np.where(smaller > 0, phi, np.nan)


def kinship_summary(kinship: np.ndarray) -> tuple[float | None, float | None]:
    """Max and first-degree share (>= ``FIRST_DEGREE``) of the defined (finite) kinships; None when none."""
    finite = kinship[np.isfinite(kinship)]
    if not len(finite):
        return None, None
    return float(finite.max()), float(np.mean(finite >= FIRST_DEGREE))


def king_robust_max(synthetic: np.ndarray, training: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """Largest KING-robust kinship (``king_robust``) of each synthetic genome to any training genome.

    synthetic : int8 (m, V), training : int8 (k, V) dosages. Returns float64 (m,); NaN for a
    synthetic genome with no defined kinship to any training genome.
    """
    best = np.full(len(synthetic), -np.inf)
    for s in range(0, len(training), chunk):
        phi = king_robust(synthetic, training[s:s + chunk])
        best = np.maximum(best, np.where(np.isnan(phi), -np.inf, phi).max(axis=1, initial=-np.inf))
    return np.where(np.isneginf(best), np.nan, best)


# ---------------------------------------------------------------- GMM (the paper's Tables 2-4)

def gmm_tables(real_codes: np.ndarray, synth_codes: np.ndarray, code_range: float, *, max_samples: int,
               rng: np.random.Generator, seed: int) -> dict:
    """2-component diagonal GMMs on real and synthetic codes; synthetic components matched to real."""
    from scipy.stats import wasserstein_distance
    from sklearn.mixture import GaussianMixture

    def fit(codes):
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        rows = codes[sample_rows(len(codes), max_samples, rng)].astype(np.float64)
        with warnings.catch_warnings():  # a collapsed cohort has fewer than 2 clusters: fine here
            warnings.simplefilter("ignore", ConvergenceWarning)
            gmm = GaussianMixture(2, covariance_type="diag", random_state=seed, reg_covar=1e-3).fit(rows)
        return gmm.means_, gmm.weights_

    real_means, real_weights = fit(real_codes)
    order = np.argsort(real_weights)  # component 1: the smaller one
    real_means, real_weights = real_means[order], real_weights[order]
    synth_means, synth_weights = fit(synth_codes)
    cost = [np.abs(real_means - synth_means[list(p)]).sum() for p in ((0, 1), (1, 0))]
    match = [0, 1] if cost[0] <= cost[1] else [1, 0]
    synth_means, synth_weights = synth_means[match], synth_weights[match]
    return {
        "real": [{"mean": float(m.mean()), "weight": float(w)} for m, w in zip(real_means, real_weights)],
        "synthetic": [{"mean": float(m.mean()), "weight": float(w)} for m, w in zip(synth_means, synth_weights)],
        "normalized_emd": [float(wasserstein_distance(r, s) / code_range) for r, s in zip(real_means, synth_means)],
        "rmse": [float(np.sqrt(np.mean((r - s) ** 2)) / code_range) for r, s in zip(real_means, synth_means)],
    }

