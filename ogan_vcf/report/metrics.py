"""How close, diverse and private a synthetic cohort is: pure numpy/scikit-learn -> dict.

Genomes are rows of int8 ALT-allele counts (samples, SNPs), -1 missing, over the sites
both cohorts share. Quadratic measures use chunked BLAS products and, past a size,
random samples of genomes (recorded in ``sampling``), so memory and time stay bounded.
The schema of the result is documented in docs/metrics.md.
"""

from __future__ import annotations

import numpy as np

FIRST_DEGREE = 0.177  # KING kinship at or above this: first-degree relatives or closer
LIMITS = {"ld_pairs": 200_000, "ld_pairs_population": 20_000, "pca_snps": 5_000, "gmm_samples": 3_000,
          "classifier_samples": 5_000, "distance_samples": 1_000, "diversity_samples": 400,
          "run_synthetic": 200, "run_training": 1_000, "kinship_synthetic": 500, "mia_synthetic": 2_000}


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
    p_real, p_synth = allele_frequency(real), allele_frequency(synthetic)
    alt_minor = p_real <= 0.5
    return np.where(alt_minor, p_real, 1 - p_real), np.where(alt_minor, p_synth, 1 - p_synth)


def heterozygosity(dosage: np.ndarray) -> float:
    """Share of called genotypes that are heterozygous."""
    called = dosage >= 0
    return float((dosage == 1).sum() / max(1, called.sum()))


def duplicate_fraction(dosage: np.ndarray) -> float:
    """Share of genomes identical to another genome of the same set (counted once per copy)."""
    if len(dosage) == 0:
        return 0.0
    rows = np.ascontiguousarray(dosage).view(np.dtype((np.void, dosage.shape[1])))
    return 1.0 - len(np.unique(rows)) / len(dosage)


def contained_fraction(dosage: np.ndarray, reference: np.ndarray) -> float:
    """Share of rows of ``dosage`` that equal some row of ``reference``."""
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


def near_pairs(contig: np.ndarray, position: np.ndarray, max_distance: int, max_pairs: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """SNP index pairs (i < j) on one contig within ``max_distance`` bp; a uniform sample past ``max_pairs``."""
    key = contig.astype(np.int64) * (1 << 40) + position
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

def _allele_features(dosage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indicators (d >= 1, d >= 2) per SNP, so that L1(dosage) = |a| + |b| - 2 a.b; and |a|."""
    f = np.concatenate([dosage >= 1, dosage >= 2], axis=1).astype(np.float32)
    return f, f.sum(axis=1)


def nearest_distances(a: np.ndarray, b: np.ndarray, *, same: bool = False, chunk_bytes: int = 256 << 20):
    """Distance (allele mismatch fraction) from each row of ``a`` to its nearest row of ``b``.

    ``same``: a and b are the same set; a row is not its own neighbour.
    """
    fa, na = _allele_features(a)
    n_snps = max(1, a.shape[1])
    best = np.full(len(a), np.inf, dtype=np.float64)
    step = max(1, chunk_bytes // max(1, 8 * b.shape[1] + 4 * len(a)))
    for s in range(0, len(b), step):
        fb, nb = _allele_features(b[s:s + step])
        d = (na[:, None] + nb[None, :] - 2 * (fa @ fb.T)) / (2 * n_snps)
        if same:
            rows = np.arange(s, min(len(b), s + step))
            d[rows, rows - s] = np.inf
        best = np.minimum(best, d.min(axis=1))
    return np.maximum(best, 0.0)


def mean_pairwise_distance(dosage: np.ndarray) -> float | None:
    """Mean allele mismatch fraction over distinct pairs."""
    if len(dosage) < 2:
        return None
    f, n = _allele_features(dosage)
    d = (n[:, None] + n[None, :] - 2 * (f @ f.T)) / (2 * max(1, dosage.shape[1]))
    return float(d[np.triu_indices(len(dosage), 1)].mean())


def sample_rows(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """All row indices, or a sorted random ``limit`` of them."""
    return np.arange(n) if n <= limit else np.sort(rng.choice(n, limit, replace=False))


def king_robust_max(synthetic: np.ndarray, training: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """Largest KING-robust kinship of each synthetic genome to any training genome.

    phi = (N_het,het - 2 N_opposite_hom) / (N_het(i) + N_het(j)) over SNPs called in both.
    """
    def parts(d):
        return [(d == 1).astype(np.float32), (d == 0).astype(np.float32), (d == 2).astype(np.float32)]

    hs, r0s, r2s = parts(synthetic)
    best = np.full(len(synthetic), -np.inf)
    for s in range(0, len(training), chunk):
        ht, r0t, r2t = parts(training[s:s + chunk])
        numerator = hs @ ht.T - 2 * (r0s @ r2t.T + r2s @ r0t.T)
        denominator = hs.sum(axis=1)[:, None] + ht.sum(axis=1)[None, :]
        phi = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
        best = np.maximum(best, phi.max(axis=1))
    return best


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

