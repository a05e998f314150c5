"""``ogan pipeline``: the study and the production run end to end (tiny preset), resumability."""

import json
import re
import signal

import pytest
from typer.testing import CliRunner

from ogan_vcf.cli import app

pytest.importorskip("tensorflow")
runner = CliRunner()
TINY = ["--preset", "tiny", "--epochs", "1", "--batch-size", "20", "--block-size", "50", "--seed", "5", "--no-progress"]
STEPS = 17  # ingest, bias, per model (train, generate, report, generate first, report first), hybridizer x2, heldout x2, compare


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def vcf_samples(path) -> list[str]:
    import cyvcf2

    return list(cyvcf2.VCF(str(path)).samples)


@pytest.fixture(scope="module")
def study(tmp_path_factory, sim_files):
    out = tmp_path_factory.mktemp("study") / "study"
    r = run("pipeline", sim_files["vcf_gz"], "-p", sim_files["panel"], "--keep", "EAS=0.5", "--model",
            "offspring,pgcgan", "--n", "12", "-o", out, *TINY)
    assert r.exit_code == 0, r.output + r.stderr
    return out, r


def steps(out):
    return json.loads((out / "pipeline.json").read_text())["steps"]


def test_study_writes_every_artefact(study):
    out, r = study
    for path in ("cohort.h5", "train.h5", "heldout.h5", "summary.md", "comparison.html"):
        assert (out / path).is_file(), path
    from ogan_vcf.cohort import CohortFile

    with CohortFile(out / "train.h5") as train, CohortFile(out / "cohort.h5") as full:
        assert train.samples.population_counts() == {"AFR": 20, "EUR": 20, "EAS": 10}
        assert len(full.samples) == 60
    for model in ("offspring", "pgcgan"):
        vcf = out / "synthetic" / f"{model}.vcf.gz"
        names = vcf_samples(vcf)
        assert len(names) == 36 and names[0] == "SYN_AFR_000001"  # 12 per population, 3 populations
        assert (out / "synthetic" / f"{model}.panel").is_file()
        metrics = json.loads((out / "reports" / model / "metrics.json").read_text())
        assert metrics["privacy"]["n_holdout"] == 10  # the held-out EAS genomes
        assert (out / "models" / model / "checkpoints" / "best.weights.h5").is_file()
    summary = (out / "summary.md").read_text()
    assert "| offspring |" in summary and "| pgcgan |" in summary and "MAF r EAS" in summary
    assert "headline" in r.output and "summary.md" in r.output


def test_baselines_sit_beside_every_model(study):
    """The hybridizer alone (PPO offspring of the training set), held-out real genomes, each model at epoch 1."""
    from ogan_vcf.cohort import load

    from ogan_vcf.io import read_cohort

    out, _ = study
    hybrid = read_cohort(out / "synthetic" / "hybridizer.vcf.gz", panel=out / "synthetic" / "hybridizer.panel")
    train = load(out / "train.h5")
    assert hybrid.samples.population_counts() == {"AFR": 12, "EUR": 12, "EAS": 12}
    assert not set(hybrid.samples.ids) & set(train.samples.ids)  # offspring only: no real genome
    heldout = json.loads((out / "reports" / "heldout" / "metrics.json").read_text())
    assert heldout["per_population"]["EAS"]["n_synthetic"] == 5 and set(heldout["per_population"]) == {"EAS"}
    assert heldout["privacy"]["n_holdout"] == 5  # the other half of the held-out EAS genomes
    hybrid_metrics = json.loads((out / "reports" / "hybridizer" / "metrics.json").read_text())
    assert hybrid_metrics["privacy"]["exact_copy_fraction"] == 0  # PPO redraws parent copies
    for model in ("offspring", "pgcgan"):
        first = json.loads((out / "models" / model / "checkpoints" / "first.json").read_text())
        assert first["epoch"] == 1
        assert (out / "reports" / f"{model}.first" / "metrics.json").is_file()
    page = (out / "comparison.html").read_text()
    headline = page[page.index('id="headline"'):page.index('id="gmm"')]
    for label in ("offspring", "offspring (first epoch)", "pgcgan (first epoch)", "hybridizer only (baseline)",
                  "held-out real (baseline)"):
        assert f"<td>{label}</td>" in headline, label
    summary = (out / "summary.md").read_text()
    assert "| hybridizer only (baseline) |" in summary and "reports/heldout/report.html" in summary


def test_comparison_page_is_self_contained_with_tables_and_figures(study):
    out, _ = study
    page = (out / "comparison.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    table2 = page[page.index("Table 2."):page.index("Table 3.")]
    assert all(f"<td>{name}</td>" in table2 for name in ("Real", "offspring", "pgcgan"))
    for figure in ("Figure 5a", "Figure 6", "Figure 7"):
        section = page[page.index(figure):]
        assert section.count("data:image/png;base64,") >= 2, figure  # one image per model


def test_rerun_skips_every_step_and_changes_nothing(study, sim_files):
    out, _ = study
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "pipeline.json"
              and p.name != "summary.md"}
    r = run("pipeline", sim_files["vcf_gz"], "-p", sim_files["panel"], "--keep", "EAS=0.5", "--model",
            "offspring,pgcgan", "--n", "12", "-o", out, *TINY)
    assert r.exit_code == 0, r.stderr
    assert r.output.count("up to date, skipped") == STEPS and "running" not in r.output
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before


def test_changed_option_reruns_only_what_depends_on_it(tmp_path, study, sim_files):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(study[0], out)
    r = run("pipeline", sim_files["vcf_gz"], "-p", sim_files["panel"], "--keep", "EAS=0.5", "--model",
            "offspring", "--n", "6", "-o", out, *TINY)
    assert r.exit_code == 0, r.stderr
    for name in ("ingest", "bias", "train offspring"):
        assert f"{name}: up to date" in r.output
    for name in ("generate offspring", "report offspring"):
        assert f"{name}: running" in r.output
    names = vcf_samples(out / "synthetic" / "offspring.vcf.gz")
    assert len(names) == 18
    # a different bias fraction re-runs bias and everything after it
    r = run("pipeline", sim_files["vcf_gz"], "-p", sim_files["panel"], "--keep", "EAS=0.25", "--model",
            "offspring", "--n", "6", "-o", out, *TINY)
    assert r.exit_code == 0, r.stderr
    assert "ingest: up to date" in r.output and "bias: running" in r.output and "train offspring: running" in r.output
    from ogan_vcf.cohort import CohortFile

    with CohortFile(out / "train.h5") as train:
        assert train.samples.population_counts()["EAS"] == 5


def test_a_new_version_of_the_preset_retrains(tmp_path, study, sim_files, monkeypatch):
    """The train step's digest holds the preset's fields, not only its name: after an upgrade that changes
    a preset (here the tiny preset's quality sample), a re-run trains again instead of keeping the old model."""
    import shutil
    from dataclasses import replace

    from ogan_vcf.model import presets

    out = tmp_path / "copy"
    shutil.copytree(study[0], out)
    monkeypatch.setitem(presets.PRESETS, "tiny", replace(presets.PRESETS["tiny"], eval_samples=6))
    r = run("pipeline", sim_files["vcf_gz"], "-p", sim_files["panel"], "--keep", "EAS=0.5", "--model",
            "offspring", "--n", "12", "-o", out, *TINY)
    assert r.exit_code == 0, r.stderr
    assert "bias: up to date" in r.output and "train offspring: running" in r.output
    assert json.loads((out / "models" / "offspring" / "config.json").read_text())["preset"]["eval_samples"] == 6


def test_stopped_training_resumes_from_its_checkpoint(tmp_path, study, sim_files):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(study[0], out)
    data = json.loads((out / "pipeline.json").read_text())
    data["steps"]["train offspring"]["finished"] = False  # as if the run was killed during training
    (out / "pipeline.json").write_text(json.dumps(data))
    config_mtime = (out / "models" / "offspring" / "config.json").stat().st_mtime_ns
    r = run("pipeline", sim_files["vcf_gz"], "-p", sim_files["panel"], "--keep", "EAS=0.5", "--model",
            "offspring,pgcgan", "--n", "12", "-o", out, *TINY)
    assert r.exit_code == 0, r.stderr
    assert "train offspring: resuming" in r.output and "train pgcgan: up to date" in r.output
    assert (out / "models" / "offspring" / "config.json").stat().st_mtime_ns == config_mtime  # not restarted
    assert steps(out)["train offspring"]["finished"]


def test_production_run_writes_a_balanced_cohort(tmp_path, sim_h5):
    out = tmp_path / "prod"
    r = run("pipeline", sim_h5, "-o", out, *TINY)
    assert r.exit_code == 0, r.stderr
    assert not (out / "train.h5").exists() and not (out / "reports" / "heldout").exists()
    page = (out / "comparison.html").read_text()
    assert "<td>hybridizer only (baseline)</td>" in page and "held-out real" not in page
    metrics = json.loads((out / "reports" / "offspring" / "metrics.json").read_text())
    assert {p: v["n_synthetic"] for p, v in metrics["per_population"].items()} == {"AFR": 20, "EUR": 20, "EAS": 20}
    assert metrics["privacy"]["n_holdout"] == 0
    assert "production" in (out / "summary.md").read_text()


@pytest.mark.parametrize("args, message", [
    (["--model", "gan"], "model must be 'all' or among offspring, ppo, pgcgan, got 'gan'"),
    (["--keep", "EAS"],
     "keep 'EAS': expected POP=FRACTION pairs with 0 < FRACTION <= 1, e.g. EAS=0.2,AFR=0.2,SAS=0.2"),
    (["--preset", "huge"], "preset must be one of paper, cpu, tiny, got 'huge'"),
    (["--n", "0"], "the number of people per population must be a whole number >= 1, got 0"),
])
def test_bad_options_are_one_line_and_write_nothing(tmp_path, sim_h5, args, message):
    out = tmp_path / "bad"
    r = run("pipeline", sim_h5, "-o", out, *args)
    assert r.exit_code == 1 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_ctrl_c_in_training_stops_the_pipeline_resumably(tmp_path, sim_h5, monkeypatch):
    """A real SIGINT inside the fit loop (right after epoch 1's checkpoint) stops the pipeline; a re-run resumes."""
    import ogan_vcf.training as training
    from ogan_vcf.errors import Interrupted
    from ogan_vcf.pipeline import pipeline

    real_save, real_link = training.save_checkpoint, training.link_checkpoint

    def save_then_sigint(gan, model_dir, which, state):
        real_save(gan, model_dir, which, state)
        if which == "last":
            signal.raise_signal(signal.SIGINT)  # Python raises KeyboardInterrupt here, inside gan.fit

    def link_then_sigint(model_dir, source, which, state):  # epoch 1's last links to its first
        real_link(model_dir, source, which, state)
        if which == "last":
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(training, "save_checkpoint", save_then_sigint)
    monkeypatch.setattr(training, "link_checkpoint", link_then_sigint)
    out = tmp_path / "stopped"
    with pytest.raises(Interrupted, match=r"epoch 1\) stands: run the same command again to resume"):
        pipeline(sim_h5, out, preset="tiny", overrides={"epochs": 2, "batch_size": 20}, seed=5)
    assert not steps(out)["train offspring"]["finished"] and not (out / "synthetic").exists()
    monkeypatch.undo()
    r = run("pipeline", sim_h5, "-o", out, "--preset", "tiny", "--epochs", "2", "--batch-size", "20", "--seed", "5",
            "--no-progress")  # the real train again: resumes, then finishes
    assert r.exit_code == 0, r.stderr
    assert "train offspring: resuming" in r.output and steps(out)["report offspring"]["finished"]
