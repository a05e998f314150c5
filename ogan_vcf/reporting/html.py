"""The report page: one self-contained HTML file (inline CSS and images, no network), and metrics.json.

Card and cell colours follow simple thresholds, stated on every card (``_METRICS``): green is
what a faithful, private generator gives, amber is worth a look, red is a problem. The privacy
thresholds are those of ``docs/metrics.md``.
"""

from __future__ import annotations

import base64
import html
import json
import math
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics as m

_FIDELITY_CARDS = ("maf_r", "ld_r", "label_accuracy", "diversity_ratio", "heterozygosity_ratio",
                   "duplicate_fraction")
_PRIVACY_CARDS = ("exact_copy_fraction", "dcr_ratio", "aa_ts", "membership_auc", "max_kinship",
                  "longest_shared_run_snps")
_PRIVACY_FIGURES = ("dcr", "kinship")
_WIDE_FIGURES = ("maf_scatter", "maf_hist", "pca")  # a full row each; the others two to a row


def _first_degree_concern(max_kinship: float, row: dict) -> bool:
    """The report's kinship concern (report.CONCERNS), so the card and the verdict agree."""
    if max_kinship < m.FIRST_DEGREE:
        return False
    held, share = row.get("first_degree_fraction_holdout"), row.get("first_degree_fraction")
    return held is None or share is None or share > held + 0.05


def _band(good: bool, warn: bool) -> str:
    return "good" if good else "warn" if warn else "bad"


def _label_accuracy_rating(value: float, row: dict) -> str:
    reference = row.get("label_accuracy_real")
    gap = (1.0 if reference is None else reference) - value
    return _band(gap <= 0.05, gap <= 0.15)


@dataclass(frozen=True)
class _Metric:
    """How one metric is named, explained, formatted and rated."""

    label: str
    explain: str
    ideal: str = ""  # the ideal value and the colour thresholds, as shown
    percent: bool = False
    rate: Callable[[float, dict], str] | None = None  # (value, its dict) -> good | warn | bad
    compare: str = ""  # a key whose value the card shows alongside
    short: str = ""  # column header, when shorter than ``label``


def _near_one(value: float, _) -> str:
    return _band(abs(value - 1) <= 0.1, abs(value - 1) <= 0.25)


def _zero(value: float, _) -> str:
    return _band(value == 0, False)


_METRICS = {
    "n_real": _Metric("Real genomes", "Real genomes compared.", short="n\u00a0real"),
    "n_synthetic": _Metric("Synthetic genomes", "Synthetic genomes compared.", short="n\u00a0synthetic"),
    "maf_r": _Metric(
        "MAF correlation", "Pearson r of per-SNP minor allele frequency, real vs synthetic.",
        "ideal 1 · green ≥ 0.97 · amber ≥ 0.9", rate=lambda v, _: _band(v >= 0.97, v >= 0.9),
        short="MAF\u00a0r"),
    "maf_rmse": _Metric("MAF RMSE", "Root-mean-square difference of per-SNP MAF.", "ideal 0",
                        short="MAF\u00a0RMSE"),
    "ld_r": _Metric(
        "LD correlation", "Pearson r of pairwise SNP correlations (LD), real vs synthetic.",
        "ideal 1 · green ≥ 0.9 · amber ≥ 0.7", rate=lambda v, _: _band(v >= 0.9, v >= 0.7),
        short="LD\u00a0r"),
    "ld_breaks_per_mb": _Metric(
        "LD breaks per Mb", "Common SNPs (MAF >= 0.05 in the population) whose mean r^2 with the next 5 "
        "common SNPs is at least 0.2 lower in synthetic than in real genomes, per Mb; junctions of copied "
        "segments show here (real genomes against other real genomes: about 0-1).",
        "ideal 0 · green <= 1 · amber <= 5", rate=lambda v, _: _band(v <= 1, v <= 5), short="LD\u00a0breaks/Mb"),
    "label_accuracy": _Metric(
        "Label accuracy", "Share of synthetic genomes that a classifier trained on real genomes "
        "assigns to their own population.", "ideal = real accuracy · green within 5 points · "
        "amber within 15", percent=True, rate=_label_accuracy_rating, compare="label_accuracy_real",
        short="label\u00a0acc."),
    "label_accuracy_real": _Metric(
        "Label accuracy (real)", "The same classifier's 5-fold cross-validated accuracy on real genomes.",
        percent=True, short="label acc. (real)"),
    "diversity_ratio": _Metric(
        "Diversity ratio", "Mean pairwise genotype distance, synthetic / real; near 0 means mode "
        "collapse.", "ideal 1 · green within 0.1 · amber within 0.25", rate=_near_one, short="diversity"),
    "heterozygosity_ratio": _Metric(
        "Heterozygosity ratio", "Mean heterozygosity, synthetic / real.",
        "ideal 1 · green within 0.1 · amber within 0.25", rate=_near_one, short="heterozygosity"),
    "duplicate_fraction": _Metric(
        "Duplicates", "Share of synthetic genomes identical to another synthetic genome.",
        "ideal 0 · amber < 1%", percent=True, rate=lambda v, _: _band(v == 0, v < 0.01),
        short="duplicates"),
    "exact_copy_fraction": _Metric(
        "Exact copies", "Share of synthetic genomes identical to a training genome.",
        "ideal 0 · red above 0", percent=True, rate=_zero),
    "dcr_ratio": _Metric(
        "DCR ratio", "Median distance to the closest training genome, synthetic / held-out real.",
        "ideal ≥ 1 · green ≥ 0.9 · red < 0.8", rate=lambda v, _: _band(v >= 0.9, v >= 0.8)),
    "aa_ts": _Metric(
        "Adversarial accuracy", "Nearest-neighbour adversarial accuracy, training vs synthetic; "
        "low means synthetic genomes sit on top of training ones.", "ideal 0.5 · red < 0.4 · amber > 0.6",
        rate=lambda v, _: "bad" if v < 0.4 else _band(v <= 0.6, True)),
    "membership_auc": _Metric(
        "Membership AUC", "How well distance to the synthetic set tells training genomes from "
        "held-out ones.", "ideal 0.5 · amber > 0.55 · red > 0.6",
        rate=lambda v, _: _band(v <= 0.55, v <= 0.6)),
    "max_kinship": _Metric(
        "Max kinship", "Highest KING kinship of a synthetic genome to a training genome.",
        f"ideal < {m.SECOND_DEGREE} · amber ≥ {m.SECOND_DEGREE} (2nd degree) · red ≥ {m.FIRST_DEGREE} (1st "
        "degree) when the first-degree share exceeds the held-out one by 5 points (the privacy concern)",
        rate=lambda v, row: _band(v < m.SECOND_DEGREE, not _first_degree_concern(v, row))),
    "first_degree_fraction": _Metric(
        "First-degree share", f"Share of synthetic genomes with kinship ≥ {m.FIRST_DEGREE} to a training genome.",
        "ideal 0 · red above the held-out share + 5 points", percent=True,
        rate=lambda v, row: "good" if v == 0 else _band(False, v <= row.get("first_degree_fraction_holdout", -1)
                                                         + 0.05)),
    "max_kinship_holdout": _Metric(
        "Max kinship (held-out)", "The same for held-out real genomes: what unrelated people score on this "
        "region (the yardstick).", "reference"),
    "first_degree_fraction_holdout": _Metric(
        "First-degree share (held-out)", f"Share of held-out real genomes with kinship ≥ {m.FIRST_DEGREE} to a "
        "training genome.", "reference", percent=True),
    "longest_shared_run_snps": _Metric(
        "Longest shared run", "Longest run of consecutive SNPs one synthetic genome shares verbatim "
        "with one training genome (sampled pairs).", "lower is better; compare the held-out run"),
    "longest_shared_run_holdout": _Metric(
        "Longest shared run (held-out)", "The same for held-out real genomes: what genomes never seen "
        "in training share by chance."),
    "n_holdout": _Metric(
        "Held-out genomes", "Real genomes not in training: the reference for the DCR ratio and "
        "membership AUC."),
    "aa_ts_train": _Metric(
        "AA_TS vs training", "Nearest-neighbour adversarial accuracy of synthetic vs training genomes of the "
        "population (equal n).", "ideal 0.5 · red < 0.4 · amber > 0.6",
        rate=lambda v, _: "bad" if v < 0.4 else _band(v <= 0.6, True), short="AA_TS train"),
    "aa_ts_holdout": _Metric(
        "AA_TS vs held-out", "The same against held-out genomes of the population: what the synthetic set "
        "scores against people it never saw.", "reference", short="AA_TS held-out"),
    "privacy_loss": _Metric(
        "Privacy loss", "AA_TS vs held-out minus AA_TS vs training (Yelmen et al.).",
        "ideal 0 · amber > 0.05 · red > 0.1", rate=lambda v, _: _band(v <= 0.05, v <= 0.1)),
    "mia_nearest_auc": _Metric(
        "Membership AUC (nearest)", "Training vs held-out genomes of the population, told apart by "
        "distance to the nearest synthetic genome.", "ideal 0.5 · amber > 0.55 · red > 0.6",
        rate=lambda v, _: _band(v <= 0.55, v <= 0.6), short="MIA nearest"),
    "mia_frequency_lr_auc": _Metric(
        "Membership AUC (allele frequencies)", "The same, told apart by the likelihood ratio of the "
        "genome's alleles under synthetic vs reference allele frequencies.", "ideal 0.5 · amber > 0.55 · red > 0.6",
        rate=lambda v, _: _band(v <= 0.55, v <= 0.6), short="MIA allele freq."),
}

_FIGURES = {
    "maf_scatter": ("Minor allele frequency", "Per-SNP MAF, synthetic vs real, over all samples and per "
                    "population. The dashed line is x = y; r is the Pearson correlation."),
    "maf_hist": ("MAF spectrum", "Share of SNPs per MAF bin of width 0.1, real vs synthetic."),
    "ld_heatmap": ("Linkage disequilibrium", "Pairwise Pearson r between the SNPs of one window: real "
                   "genomes above the diagonal, synthetic below."),
    "ld_decay": ("LD decay", "Mean r² between SNPs by their distance."),
    "pca": ("Population structure", "PCA of the real genomes, with the synthetic genomes projected into "
            "it; one colour per population. Filled circles: real; crosses: synthetic."),
    "dcr": ("Distance to closest record", "Distance from each synthetic and each held-out real genome to "
            "its closest training genome. Synthetic genomes much closer than held-out ones suggest copying."),
    "kinship": ("Kinship to training", "Each synthetic genome's highest KING kinship to a training genome; "
                f"{m.FIRST_DEGREE} marks first-degree relatives, {m.KING_DUPLICATE} duplicates or identical twins."),
}

_SCRIPT = """window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  document.body.dataset.figuresLoaded = loaded.length;
  document.body.dataset.figuresTotal = images.length;
});"""

_CSS = """
:root { --good: #1a7f37; --warn: #9a6700; --bad: #cf222e; --na: #8c959f;
        --line: #d0d7de; --muted: #57606a; --zebra: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f4; color: #1f2328; line-height: 1.45;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 36px 56px; background: #fff; min-height: 100vh; }
h1 { font-size: 1.75rem; margin: 0 0 .6rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .8rem; padding-bottom: .35rem;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.2rem 0 .6rem; color: var(--muted); }
nav { font-size: .9rem; margin: .8rem 0 0; }
nav a { color: #0969da; text-decoration: none; margin-right: 1rem; }
.muted, .legend { color: var(--muted); font-size: .88rem; }
.meta th { text-align: left; color: var(--muted); font-weight: 500; padding-right: 1.2rem; }
.meta td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem;
           text-align: left; word-break: break-all; }
.meta th, .meta td { border: 0; padding: 2px 12px 2px 0; }
.meta tr, .meta tr:nth-child(even) { background: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--na); border-radius: 8px;
        padding: 10px 14px 12px; }
.card .label { font-size: .78rem; font-weight: 600; letter-spacing: .04em; text-transform: uppercase;
               color: var(--muted); }
.card .value { font-size: 1.7rem; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .value small { font-size: .85rem; font-weight: 400; color: var(--muted); }
.card .explain { font-size: .86rem; }
.card .ideal { font-size: .78rem; color: var(--muted); margin-top: 4px; }
.card.good { border-left-color: var(--good); } .card.good .value, td.good { color: var(--good); }
.card.warn { border-left-color: var(--warn); } .card.warn .value, td.warn { color: var(--warn); }
.card.bad { border-left-color: var(--bad); } .card.bad .value, td.bad { color: var(--bad); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; white-space: nowrap; }
thead th { background: #eaeef2; font-weight: 600; }
tbody tr:nth-child(even) { background: var(--zebra); }
td.good, td.warn, td.bad { font-weight: 600; }
td.text, th.text { text-align: left; }
td.text { color: var(--muted); }
td.set { white-space: nowrap; }
tr.overall td { font-weight: 600; border-top: 2px solid var(--line); }
tr.group td { border-top: 2px solid var(--line); }
tr.overall.baseline td { border-top: 1px solid var(--line); }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 6px; white-space: nowrap; }
.tables { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0 28px; }
figure { margin: 1.4rem 0; }
figure.wide { grid-column: 1 / -1; }
figure h3 { margin-top: 0; color: #1f2328; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
             border-radius: 6px; }
figcaption { font-size: .88rem; color: var(--muted); margin-top: .4rem; }
.verdict { border-radius: 8px; padding: 12px 18px; margin: .6rem 0 1.2rem; font-weight: 600; }
.verdict ul { margin: .4rem 0 0; padding-left: 1.3rem; }
.verdict.bad { background: #ffebe9; border: 1px solid #ff8182; color: var(--bad); }
.verdict.good { background: #dafbe1; border: 1px solid #4ac26b; color: var(--good); }
.alert { color: var(--bad); font-weight: 600; }
.alert a { color: inherit; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float | np.floating) and not math.isfinite(value))


def _fmt(key: str, value) -> str:
    """A value as shown: percentages for fractions, 3 decimals otherwise, "n/a" when missing."""
    if _missing(value):
        return "n/a"
    if isinstance(value, bool | np.bool_ | str):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    spec = _METRICS.get(key)
    if spec is not None and spec.percent:
        return "0%" if value == 0 else f"{100 * value:.3g}%"
    return f"{value:.3f}" if value == 0 or abs(value) >= 0.01 else f"{value:.3g}"


def _rating(key: str, value, row: dict) -> str:
    spec = _METRICS.get(key)
    if spec is None or spec.rate is None or _missing(value) or isinstance(value, str):
        return ""
    return spec.rate(float(value), row)


def _card(key: str, row: dict) -> str:
    spec, value = _METRICS[key], row.get(key)
    extra = ""
    if spec.compare:
        extra = f" <small>vs {_e(_fmt(spec.compare, row.get(spec.compare)))} real</small>"
    return (f'<div class="card {_rating(key, value, row)}"><div class="label">{_e(spec.label)}</div>'
            f'<div class="value">{_e(_fmt(key, value))}{extra}</div>'
            f'<div class="explain">{_e(spec.explain)}</div><div class="ideal">{_e(spec.ideal)}</div></div>')


def _header(title: str, inputs: dict[str, str], metrics: dict) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in inputs.items())
    sites = metrics.get("sites") or {}
    counts = " · ".join(f"{_e(_fmt(k, sites.get(k)))} {k}" for k in ("real", "synthetic", "shared"))
    if sites.get("flipped"):
        counts += f" ({_e(_fmt('flipped', sites['flipped']))} with REF/ALT flipped)"
    overall = metrics.get("overall") or {}
    genomes = (f"{_e(_fmt('n_real', overall.get('n_real')))} real and "
               f"{_e(_fmt('n_synthetic', overall.get('n_synthetic')))} synthetic genomes")
    encoding = f" · genotype encoding {_e(metrics['encoding'])}" if metrics.get("encoding") else ""
    sections = (("headline", "Headline"), ("populations", "Populations"),
                *((("junctions", "Windows and junctions"),) if metrics.get("junctions") else ()),
                ("gmm", "GMM tables"), ("figures", "Figures"), ("privacy", "Privacy audit"),
                ("sampling", "Sampling and notes"))
    links = "".join(f'<a href="#{a}">{t}</a>' for a, t in sections)
    return (f"<header><h1>{_e(title)}</h1><table class=\"meta\">{rows}</table>"
            f'<p class="muted">SNPs: {counts} · {genomes}{encoding}</p><nav>{links}</nav></header>')


def _headline(metrics: dict) -> str:
    overall = metrics.get("overall") or {}
    parts = ['<section id="headline"><h2>Headline</h2><p class="legend">Overall numbers. Green: as '
             "expected of a faithful generator; amber: worth a look; red: a problem. Each card states "
             "its ideal and thresholds."
             + (' The cards show the synthetic cohort; the baselines stand beside it in the <a href="#populations">'
                "tables</a>." if metrics.get("baselines") else "")
             + "</p><h3>Fidelity</h3><div class=\"cards\">",
             "".join(_card(k, overall) for k in _FIDELITY_CARDS), "</div>"]
    privacy = metrics.get("privacy")
    if privacy is not None:
        within = ('<p class="legend">Pooled over all populations; see the <a href="#privacy-populations">audit '
                  "within each population</a>.</p>") if privacy.get("per_population") else ""
        parts += ['<h3>Privacy (pooled)</h3>', within, '<div class="cards">',
                  "".join(_card(k, privacy) for k in _PRIVACY_CARDS), "</div>"]
        concerns = privacy.get("concerns") or []
        if concerns:
            what = "1 privacy concern" if len(concerns) == 1 else f"{len(concerns)} privacy concerns"
            parts.append(f'<p class="alert">{what} flagged: see the '
                         '<a href="#privacy">privacy audit</a>.</p>')
    return "".join(parts) + "</section>"


def _column(key: str) -> str:
    spec = _METRICS.get(key, _Metric(key, ""))
    return spec.short or spec.label


def _sets(metrics: dict) -> list[tuple[str, dict]]:
    """(label, metrics) of the report's synthetic set, then of each baseline (metrics.json ``baselines``)."""
    from ..baselines import SYNTHETIC_LABEL

    baselines = metrics.get("baselines") or {}
    return [(SYNTHETIC_LABEL, metrics), *((b.get("label", key), b) for key, b in baselines.items())]


def _baseline_legend(metrics: dict) -> str:
    if not metrics.get("baselines"):
        return ""
    return ('<p class="legend">One row per set, each scored the same way with the same seed: the synthetic '
            "cohort of this report; <em>hybridizer only</em>: PPO offspring of the training set, as many per "
            "population (what the hybridizer gives without a network); <em>held-out real</em>: half of the real "
            "genomes not in the training set, scored as if synthetic (what a perfect generator gets; the other "
            "half is the privacy audit's held-out yardstick).</p>")


def _population_table(metrics: dict) -> str:
    sets = _sets(metrics)
    rows = []  # (population, set label, row, the set's overall row)
    for name in [*(metrics.get("per_population") or {}), "overall"]:
        for label, met in sets:
            overall = met.get("overall") or {}
            row = overall if name == "overall" else (met.get("per_population") or {}).get(name)
            if row is not None:
                rows.append((name, label, row, overall))
    order = list(_METRICS)
    keys = sorted(dict.fromkeys(k for row in rows for k in row[2]),
                  key=lambda k: order.index(k) if k in order else len(order))
    head = "".join(f'<th title="{_e(k)}">{_e(_column(k))}</th>' for k in keys)
    body = []
    for i, (name, label, row, overall) in enumerate(rows):
        context = {"label_accuracy_real": overall.get("label_accuracy_real"), **row}  # when a row lacks its own
        cells = "".join(f'<td class="{_rating(k, row.get(k), context)}">{_e(_fmt(k, row.get(k)))}</td>'
                        for k in keys)
        first = len(sets) > 1 and i > 0 and name != rows[i - 1][0]  # the first row of a population
        css = [c for c, on in (("overall", name == "overall"), ("group", first), ("baseline", label != sets[0][0]))
               if on]
        css = f' class="{" ".join(css)}"' if css else ""
        set_cell = f'<td class="text set">{_e(label)}</td>' if len(sets) > 1 else ""
        body.append(f"<tr{css}><td>{_e(name)}</td>{set_cell}{cells}</tr>")
    set_head = '<th class="text">Set</th>' if len(sets) > 1 else ""
    return (f'<section id="populations"><h2>Per population</h2>{_baseline_legend(metrics)}<div class="table-wrap">'
            f"<table><thead><tr><th>Population</th>{set_head}{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            "</table></div></section>")


def _table(caption: str, header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(_fmt('', c))}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _gmm_tables(metrics: dict) -> str:
    gmm = metrics.get("gmm")
    if not gmm:
        return '<section id="gmm"><h2>GMM tables</h2><p class="muted">Not computed.</p></section>'
    sets = [(label, met.get("gmm") or {}) for label, met in _sets(metrics)]
    names = ["synthetic"] if len(sets) == 1 else [label for label, _ in sets]
    real = gmm.get("real") or []
    table2 = [[f"component {i + 1}", r.get("mean"), r.get("weight"),
               *((_at(g.get("synthetic"), i) or {}).get(k) for _, g in sets for k in ("mean", "weight"))]
              for i, r in enumerate(real)]
    emd = [[f"component {i + 1}", *(_at(g.get("normalized_emd"), i) for _, g in sets)]
           for i in range(len(gmm.get("normalized_emd") or []))]
    rmse = [[f"component {i + 1}", *(_at(g.get("rmse"), i) for _, g in sets)]
            for i in range(len(gmm.get("rmse") or []))]
    header2 = ["", "real mean", "real weight", *(f"{n} {k}" for n in names for k in ("mean", "weight"))]
    return ('<section id="gmm"><h2>GMM tables</h2><p class="muted">A 2-component diagonal Gaussian '
            "mixture fitted to the genotype codes of each cohort, as in the paper; synthetic components "
            'are matched to real ones.</p><div class="tables">'
            + _table("Table 2. Component average mean and weight", header2, table2)
            + _table("Table 3. Normalized EMD", ["", *(["EMD"] if len(sets) == 1 else names)], emd)
            + _table("Table 4. RMSE", ["", *(["RMSE"] if len(sets) == 1 else names)], rmse) + "</div></section>")


def _at(values, i: int):
    """``values[i]``, None when ``values`` is missing or shorter."""
    return values[i] if values and i < len(values) else None


def _image(path: Path, alt: str) -> str:
    """An <img> with the file inlined as a data: URL (the page stays self-contained)."""
    mime = mimetypes.guess_type(Path(path).name)[0] or "image/png"
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:{mime};base64,{data}" alt="{_e(alt)}">'


def _page(title: str, body: str, css: str) -> str:
    """A whole self-contained HTML document around ``body``."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{css}</style><script>{_SCRIPT}</script></head>"
            f"<body><main>{body}</main></body></html>\n")


def _figure(name: str, path: Path) -> str:
    heading, caption = _FIGURES.get(name, (name, ""))
    wide = ' class="wide"' if name in _WIDE_FIGURES else ""
    return (f'<figure id="fig-{_e(name)}"{wide}><h3>{_e(heading)}</h3>{_image(path, heading)}'
            f'<figcaption>{_e(caption)}</figcaption></figure>')


def _privacy(metrics: dict, figures: dict[str, Path]) -> str:
    privacy = metrics.get("privacy")
    if privacy is None:
        return ('<section id="privacy"><h2>Privacy audit</h2><p class="muted">The privacy audit was skipped '
                "because no --train cohort was given.</p></section>")
    concerns = privacy.get("concerns") or []
    if concerns:
        items = "".join(f"<li>{_e(c)}</li>" for c in concerns)
        verdict = f'<div class="verdict bad">Privacy concerns flagged by these tests:<ul>{items}</ul></div>'
    else:
        verdict = '<div class="verdict good">No privacy concern was flagged by these tests.</div>'
    sets = [(label, met["privacy"]) for label, met in _sets(metrics) if met.get("privacy")]
    rows = []
    for key in dict.fromkeys(k for _, p in sets for k in p):
        spec = _METRICS.get(key, _Metric(key, ""))
        if key not in ("concerns", "per_population"):
            values = "".join(f'<td class="{_rating(key, p.get(key), p)}">{_e(_fmt(key, p.get(key)))}</td>'
                             for _, p in sets)
            rows.append(f'<tr><td>{_e(spec.label)}</td>{values}<td class="text">{_e(spec.ideal)}</td>'
                        f'<td class="text">{_e(spec.explain)}</td></tr>')
    columns = "<th>Value</th>" if len(sets) == 1 else "".join(f"<th>{_e(label)}</th>" for label, _ in sets)
    table = (f'<div class="table-wrap"><table><thead><tr><th>Measure</th>{columns}'
             '<th class="text">Ideal</th><th class="text">Meaning</th></tr></thead>'
             f"<tbody>{''.join(rows)}</tbody></table></div>")
    figs = "".join(_figure(n, figures[n]) for n in _PRIVACY_FIGURES if n in figures)
    figs = f'<div class="figures">{figs}</div>' if figs else ""
    pooled = ('<h3>Pooled over all populations</h3><p class="legend">Training genomes of every population '
              "against every held-out genome and every synthetic genome"
              + (" (one column per set; the verdict above is the synthetic cohort's)" if len(sets) > 1 else "")
              + ".</p>")
    return (f'<section id="privacy"><h2>Privacy audit</h2>{verdict}{_population_privacy(metrics)}{pooled}{table}'
            f"{figs}</section>")


def _with_interval(key: str, row: dict) -> str:
    """A rated cell: the value, and its 95% interval (``<key>_interval``) below it."""
    value, interval = row.get(key), row.get(f"{key}_interval")
    text = _e(_fmt(key, value))
    if interval:
        text += (f'<br><small style="white-space: nowrap">{_e(_fmt(key, interval[0]))}–'
                 f"{_e(_fmt(key, interval[1]))}</small>")
    return f'<td class="{_rating(key, value, row)}">{text}</td>'


def _yardstick(key: str, row: dict, held) -> str:
    """A rated cell: the synthetic value, and in parentheses the held-out real genomes' value."""
    return f'<td class="{_rating(key, row.get(key), row)}">{_e(_fmt(key, row.get(key)))} ({_e(_fmt(key, held))})</td>'


def _segment_medians(row: dict) -> str:
    segments = row.get("shared_segment_snps")
    if not segments:
        return "<td>n/a</td>"
    synthetic, held = ("n/a" if v is None else f"{v:,.0f}" for v in (segments["synthetic"]["median"],
                                                                     segments["holdout"]["median"]))
    return f"<td>{synthetic} ({held})</td>"


def _population_privacy(metrics: dict) -> str:
    """The audit within each population with held-out genomes (metrics.json privacy.per_population),
    one row per set (the synthetic cohort, then each baseline) and population."""
    audits = (metrics.get("privacy") or {}).get("per_population")
    if not audits:
        return ""
    sets = [(label, (met.get("privacy") or {}).get("per_population") or {}) for label, met in _sets(metrics)]
    head = ["Population", *(["Set"] if len(sets) > 1 else []), "n", "AA_TS train", "AA_TS held-out", "Privacy loss",
            "MIA nearest AUC", "MIA allele-freq. AUC", "DCR ratio", "Copies", "Max kinship", "First-degree share",
            "Longest shared run", "Shared segment median"]
    body = []
    for pop, label, row in [(pop, label, a[pop]) for pop in audits for label, a in sets if pop in a]:
        cells = [f"<td>{_e(pop)}</td>", *([f'<td class="text set">{_e(label)}</td>'] if len(sets) > 1 else []),
                 f"<td>{_e(_fmt('n', row.get('n')))}</td>",
                 *(_with_interval(k, row) for k in ("aa_ts_train", "aa_ts_holdout", "privacy_loss", "mia_nearest_auc",
                                                    "mia_frequency_lr_auc", "dcr_ratio")),
                 f'<td class="{_rating("exact_copy_fraction", row.get("exact_copy_fraction"), row)}">'
                 f'{_e(_fmt("exact_copy_fraction", row.get("exact_copy_fraction")))}</td>',
                 _yardstick("max_kinship", row, row.get("max_kinship_holdout")),
                 _yardstick("first_degree_fraction", row, row.get("first_degree_fraction_holdout")),
                 _yardstick("longest_shared_run_snps", row, row.get("longest_shared_run_holdout")),
                 _segment_medians(row)]
        css = "" if len(sets) == 1 else ' class="group"' if label == sets[0][0] else ' class="baseline"'
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    header = "".join(f'<th class="text">{_e(h)}</th>' if h == "Set" else f"<th>{_e(h)}</th>" for h in head)
    return ('<h3 id="privacy-populations">Within each population</h3>' + _baseline_legend(metrics)
            + '<p class="legend">For each population with '
            "held-out genomes: its training genomes (members) against its held-out genomes (non-members) and its "
            "synthetic genomes, n of each drawn at random. Below a value: its 95% bootstrap interval. In "
            "parentheses: the same measure for held-out real genomes against the members (the yardstick). "
            "Shared segment median: the median length in SNPs of the segments a synthetic (held-out) haplotype "
            "shares verbatim with training haplotypes of the population; n/a for unphased cohorts. Membership "
            "AUCs: ideal 0.5, amber above 0.55, red above 0.6; privacy loss: ideal 0, amber above 0.05, red above "
            f'0.1.</p><div class="table-wrap"><table><thead><tr>{header}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


_SITE_KEYS = ("ld_sites", "ld_windows", "ld_window_snps", "junction_sites", "junctions_sampled", "genome_sites",
              "privacy_sites", "privacy_runs", "privacy_run_snps")


def _site_sampling(sampling: dict) -> str:
    """What ``sampling.plan_sites`` thinned, in words ("" when every shared site was read)."""
    parts = []
    if "ld_sites" in sampling:
        parts.append(f"LD r, LD decay and LD breaks on {_fmt('', sampling['ld_windows'])} windows of up to "
                     f"{_fmt('', sampling['ld_window_snps'])} consecutive SNPs ({_fmt('', sampling['ld_sites'])} SNPs)")
    if "junction_sites" in sampling:
        parts.append(f"junction LD also on {_fmt('', sampling['junction_sites'])} SNPs beside "
                     f"{_fmt('', sampling['junctions_sampled'])} junctions")
    if "genome_sites" in sampling:
        parts.append(f"PCA, the classifier, the GMM tables and diversity on {_fmt('', sampling['genome_sites'])} "
                     "evenly spaced SNPs")
    if "privacy_sites" in sampling:
        parts.append(f"the privacy audit (distances, kinship, runs, shared segments, membership attacks) on "
                     f"{_fmt('', sampling['privacy_runs'])} evenly spaced runs of "
                     f"{_fmt('', sampling['privacy_run_snps'])} consecutive SNPs; runs and segments are measured "
                     "within a run")
    if not parts:
        return ""
    return ("<p>Not every shared SNP was read: MAF, heterozygosity, duplicates and exact copies use every "
            f"shared SNP; {_e('; '.join(parts))}.</p>")


def _sampling(metrics: dict, notes: list[str]) -> str:
    sampling = {k: v for k, v in (metrics.get("sampling") or {}).items() if k not in _SITE_KEYS}
    if sampling:
        items = "; ".join(f"{_e(k.replace('_', ' '))}: {_e(_fmt(k, v))}" for k, v in sampling.items())
        text = f"Some measures used a sample rather than every genome or SNP pair: {items}."
    else:
        text = "No measure was computed on a sample: every genome was used."
    notes_html = "".join(f"<li>{_e(n)}</li>" for n in notes)
    return (f'<section id="sampling"><h2>Sampling and notes</h2><p>{text}</p>'
            + _site_sampling(metrics.get("sampling") or {})
            + (f"<ul>{notes_html}</ul>" if notes else "") + "</section>")


_JUNCTION_COLUMNS = (("ld_r_within", "LD r inside windows"), ("ld_r_junction", "LD r across junctions"),
                     ("ld_junction_ratio", "ratio"), ("ld_r_midpoint", "LD r across window middles"),
                     ("ld_junction_ratio_matched", "matched ratio"), ("ld_pairs_within", "pairs inside"),
                     ("ld_pairs_junction", "pairs across"), ("ld_breaks_per_mb_inside", "LD breaks/Mb inside"),
                     ("ld_breaks_per_mb_junction", "LD breaks/Mb at junctions"))


def _junctions(metrics: dict) -> str:
    """The "windows and junctions" section of a windowed synthetic cohort ("" for any other)."""
    junctions = metrics.get("junctions")
    if not junctions:
        return ""
    rows = [*((pop, row) for pop, row in (junctions.get("per_population") or {}).items()),
            ("overall", junctions.get("overall") or {})]
    head = "".join(f"<th>{_e(label)}</th>" for _, label in _JUNCTION_COLUMNS)
    body = "".join(("<tr class=\"overall\">" if name == "overall" else "<tr>") + f"<td>{_e(name)}</td>"
                   + "".join(f"<td>{_e(_fmt(k, row.get(k)))}</td>" for k, _ in _JUNCTION_COLUMNS) + "</tr>"
                   for name, row in rows)
    return ('<section id="junctions"><h2>Windows and junctions</h2><p class="legend">The synthetic cohort was '
            f"generated in {_e(_fmt('', junctions.get('windows')))} windows, which meet at "
            f"{_e(_fmt('', junctions.get('junctions')))} junctions. LD r (Pearson r of pairwise SNP r, real vs "
            "synthetic, pairs within --ld-distance) over pairs inside one window, and over pairs that straddle a "
            "junction (one SNP each side); ideal: both near 1, ratio near 1. Pairs that straddle a junction are "
            "farther apart on average than pairs inside a window, so the like-for-like control is pairs that "
            "straddle the middle of each window (matched ratio: junction / middle). LD breaks per Mb: the "
            "LD-break test "
            "for common SNPs whose next 5 common SNPs stay in their window, and for those whose next 5 cross a "
            'junction.</p><div class="table-wrap"><table><thead><tr><th>Population</th>'
            f"{head}</tr></thead><tbody>{body}</tbody></table></div></section>")


def _write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` beside ``path`` under a temporary name, then rename it over ``path``."""
    from ..cohort import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_report(out_dir: Path, metrics: dict, figures: dict[str, Path], *, title: str,
                 notes: list[str], inputs: dict[str, str]) -> Path:
    """Write the self-contained ``out_dir/report.html`` and return its path."""
    figures = {name: Path(path) for name, path in figures.items()}
    placed = _PRIVACY_FIGURES if "privacy" in metrics else ()
    ordered = [n for n in _FIGURES if n in figures] + [n for n in figures if n not in _FIGURES]
    figure_html = "".join(_figure(n, figures[n]) for n in ordered if n not in placed)
    body = "".join([
        _header(title, inputs, metrics), _headline(metrics), _population_table(metrics), _junctions(metrics),
        _gmm_tables(metrics),
        f'<section id="figures"><h2>Figures</h2><div class="figures">{figure_html}</div></section>',
        _privacy(metrics, figures), _sampling(metrics, notes),
    ])
    return _write_atomic(Path(out_dir) / "report.html", _page(title, body, _CSS))


def _plain(value):
    """``value`` with numpy types, tuples and paths made JSON-ready; NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value) if isinstance(value, Path) else value


def write_metrics_json(out_dir: Path, metrics: dict) -> Path:
    """Write ``out_dir/metrics.json`` (indent 2, plain JSON: NaN as null) and return its path."""
    text = json.dumps(_plain(metrics), indent=2, allow_nan=False) + "\n"
    return _write_atomic(Path(out_dir) / "metrics.json", text)


_COMPARED_FIGURES = (("maf_scatter", "Figure 5a"), ("maf_hist", "Figure 5b"), ("ld_heatmap", "Figure 6"),
                     ("pca", "Figure 7"))





def write_comparison(path: Path, metrics: dict[str, dict], figure_dirs: dict[str, Path], *,
                     focus: list[str], title: str) -> Path:
    """One self-contained page with several models' reports side by side: the headline per
    population in ``focus``, the paper's Tables 2-4 and Figures 5-7."""
    models = list(metrics)
    head = ["Model", *(f"MAF r {p}" for p in focus), *(f"LD r {p}" for p in focus), "Label acc.",
            "Duplicates", "Copies", "DCR ratio", "AA_TS", "Concerns"]
    rows = []
    for model, met in metrics.items():
        per, overall, privacy = met.get("per_population", {}), met.get("overall", {}), met.get("privacy") or {}
        cells = [(k, per.get(p, {}).get(k), {**overall, **per.get(p, {})}) for k in ("maf_r", "ld_r") for p in focus]
        cells += [("label_accuracy", overall.get("label_accuracy"), overall),
                  ("duplicate_fraction", overall.get("duplicate_fraction"), overall),
                  ("exact_copy_fraction", privacy.get("exact_copy_fraction"), privacy),
                  ("dcr_ratio", privacy.get("dcr_ratio"), privacy), ("aa_ts", privacy.get("aa_ts"), privacy)]
        tds = "".join(f'<td class="{_rating(k, v, ctx)}">{_e(_fmt(k, v))}</td>' for k, v, ctx in cells)
        concerns = len(privacy.get("concerns", [])) if privacy else "n/a"
        rows.append(f"<tr><td>{_e(model)}</td>{tds}<td>{_e(concerns)}</td></tr>")
    headline = ('<section id="headline"><h2>Headline</h2><p class="muted">Each model\'s synthetic cohort '
                "against the full real cohort; MAF r and LD r per population, the rest over all genomes. "
                "Colours as on each model's report.</p><div class=\"table-wrap\"><table><thead><tr>"
                + "".join(f"<th>{_e(h)}</th>" for h in head) + f"</tr></thead><tbody>{''.join(rows)}"
                "</tbody></table></div></section>")
    gmm = {m: met.get("gmm") or {} for m, met in metrics.items()}
    real = next((g.get("real") for g in gmm.values() if g.get("real")), [])
    n_comp = max([len(real)] + [len(g.get("synthetic") or []) for g in gmm.values()])
    comp_head = [""] + [f"component {i + 1} {k}" for i in range(n_comp) for k in ("mean", "weight")]
    table2 = [["Real"] + [c.get(k) for c in real for k in ("mean", "weight")]]
    table2 += [[m] + [c.get(k) for c in (g.get("synthetic") or []) for k in ("mean", "weight")] for m, g in gmm.items()]
    per_comp = [""] + [f"component {i + 1}" for i in range(n_comp)]
    table3 = [[m, *(g.get("normalized_emd") or [])] for m, g in gmm.items()]
    table4 = [[m, *(g.get("rmse") or [])] for m, g in gmm.items()]
    tables = ('<section id="gmm"><h2>GMM tables (the paper\'s Tables 2-4)</h2><p class="muted">A 2-component '
              "diagonal Gaussian mixture fitted to the genotype codes of each cohort; synthetic components are "
              'matched to real ones (docs/metrics.md). Lower EMD and RMSE are better.</p><div class="tables">'
              + _table("Table 2. Component average mean and weight", comp_head, table2)
              + _table("Table 3. Normalized EMD", per_comp, table3)
              + _table("Table 4. RMSE", per_comp, table4) + "</div></section>")
    figures = []
    for name, label in _COMPARED_FIGURES:
        heading, caption = _FIGURES[name]
        cells = "".join(f'<figure><h3>{_e(m)}</h3>{_image(figure_dirs[m] / f"{name}.png", f"{heading}: {m}")}'
                        "</figure>" for m in models if (Path(figure_dirs[m]) / f"{name}.png").is_file())
        if cells:
            figures.append(f'<h3>{_e(label)}. {_e(heading)}</h3><p class="muted">{_e(caption)}</p>'
                           f'<div class="compare" style="grid-template-columns: repeat({len(models)}, '
                           f'minmax(0, 1fr))">{cells}</div>')
    body = (f"<h1>{_e(title)}</h1>" + headline + tables
            + f'<section id="figures"><h2>Figures 5-7</h2>{"".join(figures)}</section>')
    css = _CSS + ".compare { display: grid; gap: 0 18px; }\n.compare figure { margin: .4rem 0 1rem; }\n"
    return _write_atomic(Path(path), _page(title, body, css))
