"""The command line: a smoke test end to end, options passed through, fast start."""

import shutil
import subprocess
import sys

from typer.testing import CliRunner

from ogan_vcf import __version__
from ogan_vcf.cli import app

runner = CliRunner()


def test_ingest_info_export_end_to_end(tmp_path, sim_files):
    h5, vcf = tmp_path / "c.h5", tmp_path / "out.vcf.gz"
    r = runner.invoke(app, ["ingest", str(sim_files["vcf_gz"]), "-p", str(sim_files["panel"]), "-o", str(h5)])
    assert r.exit_code == 0, r.output
    assert "SNPs" in r.stdout and "200" in r.stdout and "AFR 20, EUR 20, EAS 20" in r.stdout
    r = runner.invoke(app, ["info", str(h5)])
    assert r.exit_code == 0 and "cohort" in r.stdout and "provenance" in r.stdout
    r = runner.invoke(app, ["export", str(h5), "-o", str(vcf)])
    assert r.exit_code == 0 and vcf.exists() and (tmp_path / "out.vcf.gz.tbi").exists()
    r = runner.invoke(app, ["info", str(vcf), "--panel", str(tmp_path / "out.panel")])
    assert r.exit_code == 0 and "AFR 20" in r.stdout


def test_ingest_passes_its_options_to_the_library(tmp_path, monkeypatch):
    import ogan_vcf.convert as convert

    seen = {}

    def fake_ingest(input, output, **kwargs):
        seen.update(kwargs, input=input, output=output)
        raise convert.InputError("stop here")

    monkeypatch.setattr(convert, "ingest", fake_ingest)
    r = runner.invoke(app, ["ingest", "in.vcf.gz", "-p", "x.panel", "-o", "c.h5", "--region", "6:1-100",
                            "--label-column", "pop", "--no-progress"])
    assert r.exit_code == 1 and r.stderr.strip() == "ogan: error: stop here"
    assert str(seen.pop("input")) == "in.vcf.gz" and str(seen.pop("output")) == "c.h5"
    assert {k: str(v) for k, v in seen.items()} == {"panel": "x.panel", "label_column": "pop",
                                                    "region": "6:1-100", "show_progress": "False"}


def test_version_and_help():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.stdout
    for command in ("ingest", "export", "info"):
        r = runner.invoke(app, [command, "--help"])
        assert r.exit_code == 0 and "Example" in r.stdout


def test_help_imports_no_heavy_library():
    code = ("import sys; sys.argv=['ogan','--help']\nfrom ogan_vcf import cli\ntry: cli.main()\n"
            "except SystemExit: pass\nheavy={'h5py','cyvcf2','tensorflow','numba','pysam'} & set(sys.modules)\n"
            "print('HEAVY', sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("HEAVY []")


def test_debug_anywhere_on_the_command_line(tmp_path, data_dir):
    code = ("import sys; from ogan_vcf import cli; sys.argv=['ogan','ingest',sys.argv[1],'-p',sys.argv[2],"
            "'-o',sys.argv[3],'--debug']; cli.main()")
    r = subprocess.run([sys.executable, "-c", code, str(data_dir / "haploid.vcf"), str(data_dir / "three.panel"),
                        str(tmp_path / "o.h5")], capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" in r.stderr and "InputError" in r.stderr


def test_hybridize_end_to_end_writes_vcf_and_panel(tmp_path, sim_files):
    out = tmp_path / "h.vcf.gz"
    r = runner.invoke(app, ["hybridize", str(sim_files["vcf_gz"]), "-p", str(sim_files["panel"]), "--pop", "EAS",
                            "--pop", "AFR", "--factor", "3", "--block-size", "50", "--seed", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "EAS" in r.stdout and "60" in r.stdout and "seed 1" in r.stdout
    panel = (tmp_path / "h.panel").read_text().splitlines()
    assert len(panel) == 121 and panel[21].startswith("EAS_off000001\t")


def test_hybridize_passes_its_options_to_the_library(monkeypatch):
    import ogan_vcf.hybridizer as hyb

    seen = {}

    def fake(input, output, **kwargs):
        seen.update(kwargs)
        raise hyb.InputError("stop")

    monkeypatch.setattr(hyb, "hybridize_file", fake)
    r = runner.invoke(app, ["hybridize", "c.h5", "-o", "o.h5", "--pop", "EAS,AFR", "--factor", "5", "--mode", "ppo",
                            "--unit", "haplotype", "--min-block", "20", "--max-block", "90", "--seed", "9",
                            "--no-progress"])
    assert r.exit_code == 1
    spec = seen.pop("blocks")
    assert (spec.size, spec.min_snps, spec.max_snps, spec.genetic_map) == (None, 20, 90, None)
    assert seen == {"panel": None, "label_column": None, "region": None, "factor": "5",
                    "populations": ["EAS", "AFR"], "balance": False, "mode": "ppo", "unit": "haplotype",
                    "seed": 9, "generations": None, "budget": None, "match_window": 10,
                    "show_progress": False}
    seen.clear()
    r = runner.invoke(app, ["hybridize", "c.h5", "-o", "o.h5", "--balance", "--unit", "mosaic", "--generations",
                            "auto", "--membership-budget", "0.58", "--no-progress"])
    assert (seen["generations"], seen["budget"]) == ("auto", 0.58)
    r = runner.invoke(app, ["hybridize", "c.h5", "-o", "o.h5", "--balance", "--unit", "mosaic", "--generations",
                            "EAS=300,AFR=1000", "--no-progress"])
    assert seen["generations"] == {"EAS": 300.0, "AFR": 1000.0}


def test_hybridize_bad_input_leaves_no_output(tmp_path, sim_files):
    base = ["hybridize", str(sim_files["vcf_gz"]), "-p", str(sim_files["panel"]), "-o", str(tmp_path / "o.vcf.gz")]
    cases = {
        ("--pop", "XYZ", "--factor", "2"): "unknown population 'XYZ'; the cohort has AFR, EUR, EAS",
        ("--pop", "EAS", "--factor", "0"): "the hybridizing factor must be a whole number >= 1, got 0",
        ("--pop", "EAS", "--factor", "2.5"): "the hybridizing factor must be a whole number >= 1, got 2.5",
        ("--pop", "EAS"): "hybridizing populations needs a factor (a whole number >= 1)",
        ("--factor", "2"): "hybridizing needs either populations with a factor, or balance",
        ("--pop", "EAS", "--balance"): "hybridizing needs either populations with a factor, or balance",
        ("--pop", "EAS", "--factor", "2", "--mode", "clone"): "mode must be one of offspring, ppo, got 'clone'",
        ("--pop", "EAS", "--factor", "2", "--unit", "snp"): "unit must be one of genotype, haplotype, mosaic, got 'snp'",
        ("--balance", "--factor", "3"):
            "balance brings every population to the largest's size; give no factor with it",
    }
    for args, message in cases.items():
        r = runner.invoke(app, [*base, *args])
        assert r.exit_code == 1, args
        assert r.stderr.strip() == f"ogan: error: {message}", (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1
        assert not list(tmp_path.iterdir()), args


def test_hybridize_reports_bad_vcf_input_like_ingest(tmp_path, data_dir):
    out = tmp_path / "o.vcf.gz"
    r = runner.invoke(app, ["hybridize", str(data_dir / "haploid.vcf"), "-p", str(data_dir / "three.panel"),
                            "--pop", "EUR", "--factor", "2", "-o", str(out)])
    assert r.exit_code == 1 and "haploid call at 1:200 for sample 's2'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_label_column_relabels_a_cohort_file(tmp_path, sim_h5):
    """A cohort keeps every panel column: --label-column picks another without a panel."""
    from ogan_vcf.cohort import load

    r = runner.invoke(app, ["bias", str(sim_h5), "--label-column", "pop", "--keep", "EASx=0.5", "--seed", "1",
                            "-o", str(tmp_path / "t.h5")])
    assert r.exit_code == 0, r.stderr
    assert load(tmp_path / "t.h5").samples.population_counts() == {"AFRx": 20, "EURx": 20, "EASx": 10}
    r = runner.invoke(app, ["info", str(sim_h5), "--label-column", "nope"])
    assert r.exit_code == 1 and "no panel column 'nope'" in r.stderr


def test_report_names_the_missing_synthetic_panel(tmp_path, sim_h5, sim_files):
    vcf = sim_files["vcf_gz"]
    r = runner.invoke(app, ["report", str(sim_h5), str(vcf), "-o", str(tmp_path / "r")])
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"ogan: error: {vcf}: a VCF/BCF/PLINK input needs a panel to label its samples "
                                "(the synthetic cohort's panel)")
    shutil.copy(vcf, tmp_path / "synth.vcf.gz")
    shutil.copy(sim_files["panel"], tmp_path / "synth.panel")
    r = runner.invoke(app, ["report", str(sim_h5), str(sim_h5), "--train", str(tmp_path / "synth.vcf.gz"),
                            "-o", str(tmp_path / "r")])
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"ogan: error: {tmp_path / 'synth.vcf.gz'}: a VCF/BCF/PLINK input needs a panel "
                                f"to label its samples (the training cohort's panel, e.g. {tmp_path / 'synth.panel'})")
    assert not (tmp_path / "r").exists()
