"""The report's figures and self-contained HTML page, from made-up metrics and plot data."""

from __future__ import annotations

import html
import json
import re
import subprocess

import numpy as np
import pytest

from ogan_vcf.reporting.data import PlotData
from ogan_vcf.reporting.html import write_metrics_json, write_report
from ogan_vcf.reporting.plots import plot_maf_scatter, save_figures

POPULATIONS = ["AFR", "EAS", "EUR"]
FIGURE_NAMES = {"maf_scatter", "maf_hist", "ld_heatmap", "ld_decay", "pca", "dcr", "kinship"}
CONCERN = ("a synthetic genome is a first-degree relative or closer of a training genome "
           "(KING kinship 0.210 >= 0.177)")
INPUTS = {"real": "cohort.h5", "synthetic": "synthetic.vcf.gz", "train": "train.h5"}


def make_metrics(*, privacy: bool = True) -> dict:
    """A metrics dict following docs/metrics.md, with numpy scalars and a NaN as metrics.py may give."""
    def block(n_real, maf_r, label_accuracy):
        return {"n_real": n_real, "n_synthetic": 2 * n_real, "maf_r": np.float64(maf_r), "maf_rmse": 0.0123,
                "ld_r": 0.912, "label_accuracy": label_accuracy, "diversity_ratio": 0.874,
                "heterozygosity_ratio": 1.02, "duplicate_fraction": 0.0}

    metrics = {
        "schema_version": 1,
        "sites": {"real": 1200, "synthetic": 1180, "shared": 1150},
        "encoding": "phased-4",
        "sampling": {"ld_pairs": 20000, "diversity_genomes_per_population": 500},
        "per_population": {p: block(60 + 10 * i, 0.95 + 0.01 * i, 0.98 - 0.1 * i)
                           for i, p in enumerate(POPULATIONS)},
        "overall": {**block(210, 0.987, 0.91), "label_accuracy_real": 0.953},
        "gmm": {"real": [{"mean": 0.412, "weight": 0.634}, {"mean": 1.377, "weight": 0.366}],
                "synthetic": [{"mean": 0.398, "weight": 0.651}, {"mean": 1.402, "weight": 0.349}],
                "normalized_emd": [0.0213, 0.0347], "rmse": [0.00451, 0.00612]},
    }
    metrics["per_population"]["EUR"]["ld_r"] = np.nan
    if privacy:
        metrics["privacy"] = {
            "exact_copy_fraction": 0.0, "dcr_ratio": 0.934, "aa_ts": 0.47, "membership_auc": 0.53,
            "longest_shared_run_snps": 312, "longest_shared_run_holdout": 298, "n_holdout": 140,
            "max_kinship": np.float32(0.21), "first_degree_fraction": 0.005, "concerns": [CONCERN],
        }
    return metrics


def make_plot_data(seed: int = 1) -> PlotData:
    """Small random arrays for every figure: 3 populations, 200 SNPs, a 50x50 LD window."""
    rng = np.random.default_rng(seed)

    def maf_pair():
        real = rng.uniform(0, 0.5, 200)
        return real, np.clip(real + rng.normal(0, 0.03, 200), 0, 0.5)

    def ld():
        genotypes = rng.integers(0, 3, (100, 50)).astype(float)
        genotypes += np.cumsum(rng.normal(0, 1, (100, 50)), axis=1)  # neighbours correlate
        return np.corrcoef(genotypes, rowvar=False)

    labels = np.repeat(POPULATIONS, 20)
    centers = {p: rng.normal(0, 5, 3) for p in POPULATIONS}
    pca = np.array([centers[p] for p in labels]) + rng.normal(0, 1, (60, 3))
    return PlotData(
        populations=POPULATIONS,
        maf={key: maf_pair() for key in ["overall", *POPULATIONS]},
        ld_real=ld(), ld_synthetic=ld(), ld_window="6:29700594-29800000, 50 SNPs",
        ld_decay={"bin_centers_kb": np.arange(5, 100, 10.0), "real": np.exp(-np.arange(10) / 3),
                  "synthetic": np.exp(-np.arange(10) / 2.5)},
        pca_real=pca, pca_real_labels=labels,
        pca_synthetic=pca + rng.normal(0, 0.5, pca.shape), pca_synthetic_labels=labels.copy(),
        pca_variance=np.array([0.081, 0.043, 0.012]),
        dcr_synthetic=rng.normal(0.30, 0.03, 300), dcr_holdout=rng.normal(0.31, 0.03, 140),
        kinship=rng.normal(0.02, 0.03, 300),
    )


def build_report(out_dir, figures, *, privacy: bool = True):
    """report.html in ``out_dir`` from ``make_metrics`` and ``figures``; returns (page, figures)."""
    if not privacy:
        figures = {k: v for k, v in figures.items() if k not in ("dcr", "kinship")}
    notes = ["Synthetic genomes were labelled by the generator's conditioning label."]
    page = write_report(out_dir, make_metrics(privacy=privacy), figures, title="ogan report: demo",
                        notes=notes, inputs=INPUTS)
    return page, figures


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("report")
    return build_report(out_dir, save_figures(make_plot_data(), out_dir / "figures"))


def test_every_figure_is_a_png(report):
    _, figures = report
    assert set(figures) == FIGURE_NAMES
    for path in figures.values():
        assert path.name.endswith(".png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_are_deterministic_and_skip_missing_data(report, tmp_path):
    _, figures = report
    data = make_plot_data()
    data.ld_real = data.pca_real = data.kinship = None
    data.dcr_synthetic = np.array([])
    again = save_figures(data, tmp_path)
    assert set(again) == {"maf_scatter", "maf_hist", "ld_decay"}
    for name, path in again.items():
        assert path.read_bytes() == figures[name].read_bytes(), name


def test_plot_functions_draw_on_the_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        assert plot_maf_scatter([0.1, 0.2, 0.4], [0.12, 0.18, 0.41], ax=ax, title="AFR") is ax
        assert ax.get_title().startswith("AFR (r = 0.99")
        plot_maf_scatter([0.1, 0.45], [0.1, 0.62], ax=ax)  # the real minor allele, common in synthetic
        assert ax.get_ylim()[1] >= 0.62
    finally:
        plt.close(fig)


def test_page_is_self_contained(report):
    page, figures = report
    text = page.read_text(encoding="utf-8")
    assert page.name == "report.html"
    assert "http://" not in text and "https://" not in text
    assert "<link" not in text and "src=\"data:image/png;base64," in text
    assert text.count("data:image/png;base64,") == len(figures)
    assert [p.name for p in page.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_page_shows_headline_tables_and_concerns(report):
    text = report[0].read_text(encoding="utf-8")
    for value in ("0.987", "0.912", "91%", "95.3%", "0.874", "1.020", "0%",  # fidelity
                  "0.5%", "0.934", "0.470", "0.530", "0.210", "312"):  # privacy
        assert f">{value}" in text, value
    for population in [*POPULATIONS, "overall"]:
        assert f"<td>{population}</td>" in text
    assert '<td class="warn">88%</td>' in text and '<td class="bad">78%</td>' in text  # vs overall's 95.3%
    for table in ("Table 2", "Table 3", "Table 4"):
        assert table in text
    assert "0.412" in text and "0.021" in text and "0.00451" in text
    assert "n/a" in text  # EUR's ld_r is NaN
    assert html.escape(CONCERN) in text and "verdict bad" in text
    assert "ld pairs: 20,000" in text and "conditioning label" in text
    assert "skipped" not in text


def test_page_without_privacy_or_concerns(report, tmp_path):
    page, _ = build_report(tmp_path, report[1], privacy=False)
    text = page.read_text(encoding="utf-8")
    assert "skipped" in text and "--train" in text
    assert text.count("data:image/png;base64,") == 5

    metrics = make_metrics()
    metrics["privacy"]["concerns"] = []
    text = write_report(tmp_path, metrics, {}, title="t", notes=[], inputs={}).read_text(encoding="utf-8")
    assert "No privacy concern was flagged by these tests" in text


def test_text_is_escaped(tmp_path):
    metrics = make_metrics()
    metrics["privacy"]["concerns"] = ["<b>copied</b> & more"]
    page = write_report(tmp_path, metrics, {}, title="<script>x</script>", notes=["a < b"],
                        inputs={"real": "<r>.h5"})
    text = page.read_text(encoding="utf-8")
    assert "&lt;b&gt;copied&lt;/b&gt; &amp; more" in text and "<script>x</script>" not in text
    assert "a &lt; b" in text and "&lt;r&gt;.h5" in text


def test_metrics_json_round_trips_without_nan(tmp_path):
    metrics = make_metrics()
    metrics["overall"]["kinship_hist"] = np.array([1.5, np.inf])
    path = write_metrics_json(tmp_path, metrics)
    assert path == tmp_path / "metrics.json"

    def reject(constant):
        raise AssertionError(f"{constant} in metrics.json")

    with path.open() as f:
        loaded = json.load(f, parse_constant=reject)
    assert loaded["per_population"]["EUR"]["ld_r"] is None
    assert loaded["overall"]["kinship_hist"] == [1.5, None]
    assert loaded["privacy"]["max_kinship"] == pytest.approx(0.21)
    assert loaded["privacy"]["concerns"] == [CONCERN]
    assert loaded["sites"] == metrics["sites"]


def _chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.tools("chromium")
def test_page_renders_in_headless_chromium(report, tmp_path):
    page = report[0]
    dom = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()).stdout
    loaded = re.search(r'data-figures-loaded="(\d+)"', dom)
    total = re.search(r'data-figures-total="(\d+)"', dom)
    assert loaded and total, dom[:500]
    assert int(total.group(1)) == len(report[1]) > 0
    assert loaded.group(1) == total.group(1)

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
