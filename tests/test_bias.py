"""`ogan bias`: the paper's study design, reproducible by seed."""

import pytest
from typer.testing import CliRunner

from ogan_vcf.bias import bias, parse_keep
from ogan_vcf.cli import app
from ogan_vcf.errors import InputError

runner = CliRunner()




def test_keeps_fractions_and_partitions_the_cohort(sim_cohort):
    cohort = sim_cohort
    r = bias(cohort, {"EAS": 0.2, "AFR": 0.5}, seed=1)
    assert r.table == {"AFR": (20, 10), "EUR": (20, 20), "EAS": (20, 4)}
    assert r.train.samples.population_counts() == {"AFR": 10, "EUR": 20, "EAS": 4}
    assert r.heldout.samples.population_counts() == {"AFR": 10, "EAS": 16}
    ids = list(cohort.samples.ids)
    train, held = list(r.train.samples.ids), list(r.heldout.samples.ids)
    assert sorted(train + held) == sorted(ids) and not set(train) & set(held)
    assert train == [i for i in ids if i in set(train)]  # order preserved
    again = bias(cohort, {"EAS": 0.2, "AFR": 0.5}, seed=1)
    other = bias(cohort, {"EAS": 0.2, "AFR": 0.5}, seed=2)
    assert list(again.train.samples.ids) == train and list(other.train.samples.ids) != train


def test_parse_keep_rejects_bad_text():
    assert parse_keep("EAS=0.2, AFR=1") == {"EAS": 0.2, "AFR": 1.0}
    for text in ("EAS", "EAS=0", "EAS=1.5", "=0.2", "EAS=x"):
        with pytest.raises(InputError) as e:
            parse_keep(text)
        assert str(e.value) == (f"keep {text!r}: expected POP=FRACTION pairs with 0 < FRACTION <= 1, "
                                "e.g. EAS=0.2,AFR=0.2,SAS=0.2")
    for text in ("", " , "):
        with pytest.raises(InputError) as e:
            parse_keep(text)
        assert str(e.value) == "keep is empty; give POP=FRACTION pairs, e.g. EAS=0.2,AFR=0.2,SAS=0.2"


def test_cli_writes_train_heldout_and_panels(tmp_path, sim_h5):
    r = runner.invoke(app, ["bias", str(sim_h5), "--keep", "EAS=0.2,AFR=0.2", "--seed", "3",
                            "-o", str(tmp_path / "train.vcf.gz"), "--no-progress"])
    assert r.exit_code == 0, r.output
    for name in ("train.vcf.gz", "train.vcf.gz.tbi", "train.panel", "train.heldout.vcf.gz", "train.heldout.panel"):
        assert (tmp_path / name).exists(), name
    assert "EAS" in r.stdout and "20%" in r.stdout
    panel = (tmp_path / "train.heldout.panel").read_text().splitlines()
    assert len(panel) == 1 + 16 + 16


def test_cli_unknown_population_is_one_line_and_no_output(tmp_path, sim_h5):
    r = runner.invoke(app, ["bias", str(sim_h5), "--keep", "XYZ=0.2", "-o", str(tmp_path / "t.h5")])
    assert r.exit_code == 1
    assert r.stderr.strip() == "ogan: error: unknown population 'XYZ'; the cohort has AFR, EUR, EAS"
    assert not list(tmp_path.iterdir())


def test_bias_file_streams_the_same_split_as_bias(tmp_path, sim_h5):
    from ogan_vcf.bias import bias_file
    from ogan_vcf.cohort import load

    cohort = load(sim_h5)
    split, paths = bias_file(sim_h5, tmp_path / "train.h5", keep="EAS=0.2,AFR=0.5", seed=4)
    expected = bias(cohort, {"EAS": 0.2, "AFR": 0.5}, seed=4)
    assert split.table == expected.table and split.seed == 4
    assert (split.n_train, split.n_heldout) == (expected.train.n_samples, expected.heldout.n_samples)
    for path, want in ((tmp_path / "train.h5", expected.train), (tmp_path / "train.heldout.h5", expected.heldout)):
        got = load(path)
        assert list(got.samples.ids) == list(want.samples.ids)
        assert (got.genotypes == want.genotypes).all() and (got.phased == want.phased).all()
        assert got.provenance[-1]["command"] == "bias"
    assert sorted(paths) == sorted([str(tmp_path / "train.h5"), str(tmp_path / "train.heldout.h5")])


def test_bias_file_reads_vcf_with_a_panel_and_refuses_one_without(tmp_path, sim_h5):
    from ogan_vcf.bias import bias_file
    from ogan_vcf.cohort import load
    from ogan_vcf.convert import export

    export(sim_h5, tmp_path / "in.vcf.gz")
    split, _ = bias_file(tmp_path / "in.vcf.gz", tmp_path / "t.h5", keep="EAS=0.5", panel=tmp_path / "in.panel",
                         seed=2)
    assert split.table["EAS"] == (20, 10)
    want = bias(load(sim_h5), {"EAS": 0.5}, seed=2).train
    got = load(tmp_path / "t.h5")
    assert list(got.samples.ids) == list(want.samples.ids) and (got.genotypes == want.genotypes).all()
    with pytest.raises(InputError, match="needs a panel"):
        bias_file(tmp_path / "in.vcf.gz", tmp_path / "u.h5", keep="EAS=0.5")
    assert not (tmp_path / "u.h5").exists()
