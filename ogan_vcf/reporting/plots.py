"""The report's figures (matplotlib, imported on first use so that importing this module is fast).

Each ``plot_*`` function draws on ``ax`` (a new figure when omitted) and returns it, in the
style of scikit-allel. :func:`save_figures` draws every figure the data allows into PNG files.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .metrics import FIRST_DEGREE, KING_DUPLICATE

REAL_COLOR = "#1f77b4"
SYNTHETIC_COLOR = "#ff7f0e"
SCATTER_MAX_POINTS = 20_000  # MAF scatter draws a fixed (seeded) sample of SNPs beyond this
DPI = 110
_STYLE = {
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 11,
    "axes.labelsize": 10, "legend.fontsize": 8, "legend.frameon": False, "font.size": 9,
}


def _pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes(ax, figsize=(5, 4)):
    return ax if ax is not None else _pyplot().subplots(figsize=figsize)[1]


def _pearson(x, y) -> float:
    """Pearson r over the pairs where both are finite; NaN when undefined."""
    from .metrics import pearson

    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    r = pearson(x[ok], y[ok])
    return math.nan if r is None else r


def _r_text(r: float) -> str:
    return "r = n/a" if math.isnan(r) else f"r = {r:.3f}"


def plot_maf_scatter(maf_real, maf_synthetic, ax=None, title=""):
    """Per-SNP frequency of the real minor allele, synthetic vs real, with the x=y line and Pearson r.

    The y axis goes past 0.5 only when a synthetic frequency does (the real minor allele can be
    the synthetic major one).
    """
    ax = _axes(ax, (4, 4))
    x, y = np.asarray(maf_real, float), np.asarray(maf_synthetic, float)
    r = _pearson(x, y)
    if len(x) > SCATTER_MAX_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(len(x), SCATTER_MAX_POINTS, replace=False))
        x, y = x[keep], y[keep]
    alpha = float(np.clip(1000 / max(len(x), 1), 0.08, 0.6))  # dense clouds stay readable
    ax.scatter(x, y, s=6, alpha=alpha, color=REAL_COLOR, linewidths=0, rasterized=True)
    ax.plot([0, 0.5], [0, 0.5], color="0.3", lw=1, ls="--")
    top = max(0.5, math.ceil(10 * np.nanmax(y, initial=0)) / 10)
    ax.set(xlim=(0, 0.5), ylim=(0, top), xlabel="MAF real", ylabel="MAF synthetic")
    ax.set_title(f"{title} ({_r_text(r)})" if title else _r_text(r))
    return ax


def plot_maf_hist(maf_real, maf_synthetic, ax=None, title=""):
    """Share of SNPs per MAF bin of width 0.1, real and synthetic side by side (each folded to <= 0.5)."""
    ax = _axes(ax)
    edges = np.linspace(0, 0.5, 6)
    width = 0.04
    for offset, maf, label, color in ((-width / 2, maf_real, "real", REAL_COLOR),
                                      (width / 2, maf_synthetic, "synthetic", SYNTHETIC_COLOR)):
        maf = np.asarray(maf, float)
        maf = np.minimum(maf, 1 - maf)
        counts = np.histogram(maf[np.isfinite(maf)], bins=edges)[0]
        share = counts / max(counts.sum(), 1)
        ax.bar(edges[:-1] + 0.05 + offset, share, width=width, color=color, label=label)
    ax.set(xticks=edges, xlim=(0, 0.5), xlabel="MAF", ylabel="share of SNPs", title=title)
    ax.set_ylim(top=ax.get_ylim()[1] * 1.2)  # room for the legend
    ax.legend(loc="upper center", ncols=2)
    return ax


def _ld_combined(ld_real, ld_synthetic) -> np.ndarray:
    """Upper triangle from ``ld_real``, lower from ``ld_synthetic``, NaN diagonal."""
    real, synthetic = np.asarray(ld_real, float), np.asarray(ld_synthetic, float)
    combined = np.full(real.shape, np.nan)
    upper = np.triu_indices_from(real, k=1)
    lower = np.tril_indices_from(real, k=-1)
    combined[upper], combined[lower] = real[upper], synthetic[lower]
    return combined


def plot_ld_heatmap(ld_real, ld_synthetic, ax=None, title=""):
    """Pairwise Pearson r in one square: real above the diagonal, synthetic below."""
    import matplotlib

    ax = _axes(ax, (6, 5.2))
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")
    image = ax.imshow(_ld_combined(ld_real, ld_synthetic), cmap=cmap, vmin=-1, vmax=1)
    ax.figure.colorbar(image, ax=ax, shrink=0.85, label="Pearson r")
    text = {"fontsize": 9, "bbox": {"facecolor": "white", "edgecolor": "0.7", "alpha": 0.85}}
    ax.text(0.98, 0.98, "real (upper)", transform=ax.transAxes, ha="right", va="top", **text)
    ax.text(0.02, 0.02, "synthetic (lower)", transform=ax.transAxes, ha="left", va="bottom", **text)
    ax.set(xlabel="SNP index", ylabel="SNP index", title=title)
    ax.spines[:].set_visible(True)
    return ax


def plot_ld_decay(bin_centers_kb, real, synthetic, ax=None):
    """Mean r² against distance between SNPs, real and synthetic."""
    ax = _axes(ax, (5.5, 4))
    ax.plot(bin_centers_kb, real, marker="o", ms=4, color=REAL_COLOR, label="real")
    ax.plot(bin_centers_kb, synthetic, marker="s", ms=4, color=SYNTHETIC_COLOR, label="synthetic")
    ax.set(xlabel="distance (kb)", ylabel="mean r²", title="LD decay")
    ax.set_ylim(bottom=0)
    ax.legend()
    return ax


def _population_colors(*label_arrays) -> dict[str, tuple]:
    """One colour per population (sorted names), shared by every panel."""
    import matplotlib

    names = sorted({str(x) for labels in label_arrays for x in labels})
    cmap = matplotlib.colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def _pca_panel(ax, groups, colors, pcs):
    """Scatter ``groups`` [(coords, labels, synthetic?)] on the PCs ``pcs`` (0-based pair)."""
    for coords, labels, synthetic in groups:
        for name, color in colors.items():
            at = labels == name
            if at.any():
                style = ({"marker": "x", "color": color, "linewidths": 0.8} if synthetic
                         else {"marker": "o", "color": color, "edgecolors": "none", "alpha": 0.7})
                ax.scatter(coords[at, pcs[0]], coords[at, pcs[1]], s=12, **style)


def plot_pca(coords_real, labels_real, coords_synth, labels_synth, variance, fig=None):
    """PC1/PC2 and PC2/PC3 of real, synthetic and both; one colour per population.

    Returns the figure; a ``fig`` given should use constrained layout (the legend sits outside).
    """
    from matplotlib.lines import Line2D

    fig = fig if fig is not None else _pyplot().figure(figsize=(10.5, 6.8), layout="constrained")
    axes = fig.subplots(2, 3, sharex="row", sharey="row", squeeze=False)
    real = (np.asarray(coords_real, float), np.asarray(labels_real).astype(str), False)
    synth = (np.asarray(coords_synth, float), np.asarray(labels_synth).astype(str), True)
    colors = _population_colors(real[1], synth[1])
    pct = [f" ({100 * v:.1f}%)" for v in variance] if variance is not None else [""] * 3
    for row, pcs in enumerate(((0, 1), (1, 2))):
        for col, (name, groups) in enumerate((("real", [real]), ("synthetic", [synth]),
                                               ("real and synthetic", [real, synth]))):
            ax = axes[row, col]
            _pca_panel(ax, groups, colors, pcs)
            ax.set_title(name)
            ax.set_xlabel(f"PC{pcs[0] + 1}{pct[pcs[0]]}")
            ax.set_ylabel(f"PC{pcs[1] + 1}{pct[pcs[1]]}")
            ax.tick_params(labelleft=True, labelbottom=True)
    handles = [Line2D([], [], ls="", marker="o", color=c, label=n) for n, c in colors.items()]
    handles += [Line2D([], [], ls="", marker="o", color="0.4", label="real"),
                Line2D([], [], ls="", marker="x", color="0.4", label="synthetic")]
    fig.legend(handles=handles, loc="outside right center")
    return fig


def plot_dcr(dcr_synthetic, dcr_holdout, ax=None):
    """Distance to the closest training genome: synthetic vs held-out real, medians marked.

    NaN distances (a genome with no comparable training genome) are left out.
    """
    ax = _axes(ax, (5.5, 4))
    finite = [np.asarray(d, float)[np.isfinite(d)] if d is not None else np.zeros(0)
              for d in (dcr_synthetic, dcr_holdout)]
    series = [(d, label, color) for d, label, color in zip(finite, ("synthetic", "held-out real"),
                                                          (SYNTHETIC_COLOR, REAL_COLOR)) if len(d)]
    bins = np.histogram_bin_edges(np.concatenate([np.zeros(0), *finite]), bins=40)
    for values, label, color in series:
        median = float(np.median(values))
        ax.hist(values, bins=bins, density=True, histtype="stepfilled", alpha=0.2, color=color)
        ax.hist(values, bins=bins, density=True, histtype="step", lw=1.2, color=color,
                label=f"{label} (median {median:.3f})")
        ax.axvline(median, color=color, lw=1.5, ls="--")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.2)
    ax.set(xlabel="distance to closest training genome (mismatch fraction)", ylabel="density",
           title="Distance to closest record")
    ax.legend()
    return ax


def plot_kinship(kinship, ax=None):
    """Each synthetic genome's highest KING kinship to training, with relatedness thresholds."""
    ax = _axes(ax, (5.5, 4))
    kinship = np.asarray(kinship, float)
    kinship = kinship[np.isfinite(kinship)]
    bins = np.linspace(kinship.min(initial=0.0), kinship.max(initial=0.4), 41)
    ax.hist(kinship, bins=bins, color=SYNTHETIC_COLOR, alpha=0.8, log=True)
    for x, label, color in ((FIRST_DEGREE, "1st degree", "#cf222e"),
                            (KING_DUPLICATE, "duplicate / MZ twin", "0.2")):
        ax.axvline(x, color=color, ls="--", lw=1.2)
        ax.annotate(f"{label} ({x})", (x, 1), xycoords=("data", "axes fraction"), xytext=(-3, -3),
                    textcoords="offset points", rotation=90, ha="right", va="top", fontsize=8, color=color)
    ax.set(xlabel="max KING kinship to a training genome", ylabel="synthetic genomes (log scale)",
           title="Kinship to training")
    return ax


def _grid(n: int, cell=(2.7, 2.8), max_cols=4):
    """A figure with at least ``n`` axes in a grid; unused axes hidden."""
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    fig, axes = _pyplot().subplots(rows, cols, figsize=(cell[0] * cols, cell[1] * rows), squeeze=False,
                                   layout="constrained")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()[:n]


def _present(*arrays) -> bool:
    return all(a is not None and np.size(a) > 0 for a in arrays)


def _draw_figures(data) -> dict:
    """Figure name -> a function that draws it and returns its figure, for the data present."""
    keys = [k for k in dict.fromkeys(["overall", *data.populations])
            if k in data.maf and _present(*data.maf[k])]
    draw = {}

    def maf_grid(plot):
        fig, axes = _grid(len(keys))
        for ax, key in zip(axes, keys):
            plot(*data.maf[key], ax=ax, title=key)
        return fig

    if keys:
        draw["maf_scatter"] = lambda: maf_grid(plot_maf_scatter)
        draw["maf_hist"] = lambda: maf_grid(plot_maf_hist)
    if _present(data.ld_real, data.ld_synthetic):
        draw["ld_heatmap"] = lambda: plot_ld_heatmap(data.ld_real, data.ld_synthetic,
                                                     title=data.ld_window).figure
    decay = data.ld_decay or {}
    if _present(decay.get("bin_centers_kb"), decay.get("real"), decay.get("synthetic")):
        draw["ld_decay"] = lambda: plot_ld_decay(decay["bin_centers_kb"], decay["real"],
                                                 decay["synthetic"]).figure
    if _present(data.pca_real, data.pca_real_labels, data.pca_synthetic, data.pca_synthetic_labels):
        draw["pca"] = lambda: plot_pca(data.pca_real, data.pca_real_labels, data.pca_synthetic,
                                       data.pca_synthetic_labels, data.pca_variance)
    if _present(data.dcr_synthetic):
        draw["dcr"] = lambda: plot_dcr(data.dcr_synthetic, data.dcr_holdout).figure
    if _present(data.kinship):
        draw["kinship"] = lambda: plot_kinship(data.kinship).figure
    return draw


def save_figures(data, fig_dir: Path) -> dict[str, Path]:
    """Draw every figure ``data`` (a :class:`PlotData`) has arrays for into ``fig_dir``/NAME.png."""
    plt = _pyplot()
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    saved = {}
    with plt.rc_context(_STYLE):
        for name, draw in _draw_figures(data).items():
            fig = draw()
            try:
                path = fig_dir / f"{name}.png"
                fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
                saved[name] = path
            finally:
                plt.close(fig)
    return saved
