"""Bad input: one clear line on stderr naming the file and problem, exit 1, no output file."""

import gzip
import shutil

import pytest
from typer.testing import CliRunner

from ogan_vcf.cli import app

runner = CliRunner()


def run_ingest(tmp_path, vcf, panel):
    out = tmp_path / "out.h5"
    result = runner.invoke(app, ["ingest", str(vcf), "--panel", str(panel), "-o", str(out), "--no-progress"])
    return result, out


def assert_one_line_error(result, out, *fragments):
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ogan: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}*")), "temporary file left behind"


def _bgzip(tmp_path, src):
    import pysam

    out = tmp_path / (src.name + ".gz")
    pysam.tabix_compress(str(src), str(out), force=True)
    return out


def make_missing(tmp_path, sim_files):
    return tmp_path / "nope.vcf.gz"


def make_empty(tmp_path, sim_files):
    (tmp_path / "empty.vcf").write_bytes(b"")
    return tmp_path / "empty.vcf"


def make_truncated_bgzf(tmp_path, sim_files):
    data = sim_files["vcf_gz"].read_bytes()
    (tmp_path / "cut.vcf.gz").write_bytes(data[: len(data) * 2 // 3])
    return tmp_path / "cut.vcf.gz"


def make_cut_at_block(tmp_path, sim_files):
    data = sim_files["vcf_gz"].read_bytes()
    (tmp_path / "cut.vcf.gz").write_bytes(data[:-28])  # drop only the EOF block
    return tmp_path / "cut.vcf.gz"


def make_corrupt_bgzf(tmp_path, sim_files):
    import pysam

    lines = sim_files["vcf"].read_text().splitlines(keepends=True)
    n_header = sum(line.startswith("#") for line in lines)
    path = tmp_path / "bad.vcf.gz"
    with pysam.BGZFile(str(path), "wb") as fh:  # header and records in separate blocks
        fh.write("".join(lines[:n_header]).encode())
        fh.flush()
        fh.write("".join(lines[n_header:]).encode())
    data = bytearray(path.read_bytes())
    middle = len(data) * 3 // 4
    data[middle:middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


def make_truncated_gzip(tmp_path, sim_files):
    data = gzip.compress(sim_files["vcf"].read_bytes())
    (tmp_path / "cut.vcf.gz").write_bytes(data[: len(data) * 2 // 3])
    return tmp_path / "cut.vcf.gz"


CASES = {
    "missing path": (make_missing, None, ["nope.vcf.gz", "no such file"]),
    "empty file": (make_empty, None, ["empty.vcf", "file is empty"]),
    "not a VCF": ("not_a_vcf.txt", None, ["not_a_vcf.txt", "not a VCF or BCF"]),
    "truncated BGZF": (make_truncated_bgzf, None, ["cut.vcf.gz", "truncated"]),
    "BGZF cut at a block boundary": (make_cut_at_block, None, ["cut.vcf.gz", "no EOF block"]),
    "corrupt BGZF": (make_corrupt_bgzf, None, ["bad.vcf.gz", "corrupt or truncated"]),
    "truncated plain gzip": (make_truncated_gzip, None, ["cut.vcf.gz", "corrupt or truncated"]),
    "header only": ("header_only.vcf", "three.panel", ["header_only.vcf", "no variant records"]),
    "sites only": ("sites_only.vcf", "three.panel", ["sites_only.vcf", "no samples"]),
    "no GT field": ("no_gt.vcf", "three.panel", ["no_gt.vcf", "no GT FORMAT field"]),
    "haploid call": ("haploid.vcf", "three.panel", ["haploid.vcf", "haploid call at 1:200", "'s2'"]),
    "allele beyond ALT": ("beyond_alt.vcf", "three.panel", ["beyond_alt.vcf", "allele index 2 at 1:200", "'s2'"]),
    "duplicate site": ("duplicate_site.vcf", "three.panel", ["duplicate site 1:100:A:G", "bcftools norm -d exact"]),
    "duplicate sample": ("duplicate_sample.vcf", "three.panel", ["duplicate_sample.vcf", "duplicate sample name 's1'"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_vcf_input(tmp_path, data_dir, sim_files, case):
    make, panel, fragments = CASES[case]
    vcf = make(tmp_path, sim_files) if callable(make) else data_dir / make
    panel = data_dir / panel if panel else sim_files["panel"]
    result, out = run_ingest(tmp_path, vcf, panel)
    assert_one_line_error(result, out, *fragments)


def test_truncated_plink_bed(tmp_path, sim_files):
    for ext in (".bim", ".fam"):
        shutil.copy(sim_files["bed"].with_suffix(ext), tmp_path / f"p{ext}")
    data = sim_files["bed"].read_bytes()
    (tmp_path / "p.bed").write_bytes(data[:-100])
    result, out = run_ingest(tmp_path, tmp_path / "p.bed", sim_files["panel"])
    assert_one_line_error(result, out, "p.bed", "truncated", "200 variants x 60 samples")


PANELS = {
    "no header": ("s1\tGBR\tEUR\n", ["must start with a 'sample' column"]),
    "too few columns": ("sample\tpop\tsuper_pop\ns1\tGBR\tEUR\ns2\tYRI\n", ["line 3", "2 columns, the header has 3"]),
    "empty population": ("sample\tpop\tsuper_pop\ns1\tGBR\t \ns2\tYRI\tAFR\n", ["line 2", "empty 'super_pop'"]),
    "sample twice": ("sample\tsuper_pop\ns1\tEUR\ns1\tAFR\n", ["line 3", "'s1' is listed twice"]),
    "empty panel": ("", ["panel is empty"]),
    "header only": ("sample\tpop\tsuper_pop\n", ["no samples"]),
    "VCF sample not in panel": ("sample\tsuper_pop\ns1\tEUR\ns2\tAFR\n", ["'s3'", "not in the panel"]),
}


@pytest.mark.parametrize("case", list(PANELS))
def test_bad_panel(tmp_path, data_dir, case):
    text, fragments = PANELS[case]
    panel = tmp_path / "bad.panel"
    panel.write_text(text)
    result, out = run_ingest(tmp_path, data_dir / "unphased.vcf", panel)
    assert_one_line_error(result, out, "bad.panel", *fragments)


def test_debug_shows_the_traceback(tmp_path, data_dir):
    from ogan_vcf import cli

    cli._state["debug"] = True
    try:
        result, out = run_ingest(tmp_path, data_dir / "haploid.vcf", data_dir / "three.panel")
    finally:
        cli._state["debug"] = False
    assert result.exit_code != 0 and result.exception is not None
    assert type(result.exception).__name__ == "InputError"


def test_export_refuses_an_unknown_suffix_and_a_non_cohort(tmp_path, data_dir):
    result = runner.invoke(app, ["export", str(data_dir / "unphased.vcf"), "-o", str(tmp_path / "x.vcf.gz")])
    assert result.exit_code == 1 and "not an HDF5 cohort" in result.stderr
    (tmp_path / "fake.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"0" * 100)
    result = runner.invoke(app, ["export", str(tmp_path / "fake.h5"), "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 1 and "fake.h5" in result.stderr
    assert not (tmp_path / "x.txt").exists()
