"""What the report's figures and page are drawn from (filled by ``report.metrics``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PlotData:
    """Arrays behind the figures. Keys of ``maf``: "overall" and each population."""

    populations: list[str]
    maf: dict[str, tuple[np.ndarray, np.ndarray]]  # key -> (maf_real, maf_synthetic), per shared SNP
    ld_real: np.ndarray | None = None  # (w, w) Pearson r of the LD window, real
    ld_synthetic: np.ndarray | None = None  # (w, w) the same, synthetic
    ld_window: str = ""  # e.g. "6:29700594-30100000, 1000 SNPs"
    ld_decay: dict = field(default_factory=dict)  # bin_centers_kb, real, synthetic: mean r^2 per bin
    pca_real: np.ndarray | None = None  # (n_real, 3) PCs 1-3
    pca_real_labels: np.ndarray | None = None  # (n_real,) str
    pca_synthetic: np.ndarray | None = None  # (n_synth, 3) projected into the real PCA
    pca_synthetic_labels: np.ndarray | None = None
    pca_variance: np.ndarray | None = None  # (3,) explained variance ratio
    dcr_synthetic: np.ndarray | None = None  # distance of synthetic genomes to closest training genome
    dcr_holdout: np.ndarray | None = None  # the same for held-out real genomes
    kinship: np.ndarray | None = None  # max KING-robust kinship of each (sampled) synthetic genome
