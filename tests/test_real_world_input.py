"""Real-world input that pipelines write: missing calls in phased VCFs, maps that end early,
damaged indexes. Each is handled deliberately and said in the summary, or refused in one line."""

from pathlib import Path

import numpy as np
import pytest

from ogan_vcf.cohort import load, phase_state
from ogan_vcf.convert import describe, ingest
from ogan_vcf.errors import InputError
from ogan_vcf.hybridizer import BlockSpec, hybridize
from ogan_vcf.io import read_cohort, write_output
from util import write_panel_text

# ---------------------------------------------------------------- missing calls in a phased VCF


def write_phased_with_missing(path: Path, sim, missing: np.ndarray, lone: np.ndarray) -> Path:
    """A phased VCF whose missing calls are written ``./.`` (or a lone ``.`` where ``lone``)."""
    header = ["##fileformat=VCFv4.2", "##contig=<ID=1,length=10000000>",
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *sim.samples])]
    lines = []
    for v in range(len(sim.positions)):
        calls = ["." if lone[v, s] else "./." if missing[v, s] else f"{a}|{b}"
                 for s, (a, b) in enumerate(sim.genotypes[v])]
        lines.append("\t".join(["1", str(sim.positions[v]), sim.ids[v], sim.ref[v], sim.alt[v],
                                ".", "PASS", ".", "GT", *calls]))
    path.write_text("\n".join(header + lines) + "\n")
    return path


@pytest.fixture(scope="module")
def phased_with_missing(tmp_path_factory, sim):
    """The simulated cohort, phased, with about 3% of calls missing (a tenth of them a lone '.')."""
    rng = np.random.default_rng(5)
    missing = rng.random(sim.genotypes.shape[:2]) < 0.03
    lone = missing & (rng.random(missing.shape) < 0.1)
    d = tmp_path_factory.mktemp("missing")
    vcf = write_phased_with_missing(d / "phased_missing.vcf", sim, missing, lone)
    panel = write_panel_text(d / "p.panel", sim.samples, sim.populations)
    return vcf, panel, missing, lone


def test_phase_state_ignores_missing_calls():
    g = np.array([[[0, 1], [-1, -1]], [[1, 1], [-1, 0]]], dtype=np.int8)  # (2 variants, 2 samples, 2)
    assert phase_state(g, np.array([[True, False], [True, False]])) == "phased"
    assert phase_state(g, np.array([[False, True], [False, True]])) == "unphased"
    assert phase_state(np.zeros((2, 2, 2), np.int8), np.array([[True, False], [True, True]])) == "partly"
    assert phase_state(np.full((2, 2, 2), -1, np.int8), np.zeros((2, 2), bool)) == "phased"  # nothing called


def test_phased_vcf_with_missing_calls_ingests_as_phased(tmp_path, phased_with_missing):
    vcf, panel, missing, lone = phased_with_missing
    s = ingest(vcf, tmp_path / "c.h5", panel=panel)
    assert s.phased and s.unphased_calls == 0
    assert s.missing_calls == missing.sum() > 0
    assert not any("unphased" in n for n in s.notes)
    assert any(f"{missing.sum()} missing calls kept" in n for n in s.notes)
    for d in (describe(vcf, panel=panel), describe(tmp_path / "c.h5")):
        assert d.unphased_calls == 0 and d.missing_calls == missing.sum()
    c = load(tmp_path / "c.h5")
    assert c.phase_state == "phased" and not c.phased[missing].any() and c.phased[~missing].all()


def test_cli_ingest_and_info_say_phased_when_only_missing_calls_lack_phase(tmp_path, phased_with_missing):
    from typer.testing import CliRunner

    from ogan_vcf.cli import app

    vcf, panel, missing, _ = phased_with_missing
    runner = CliRunner()
    for args in (["ingest", str(vcf), "-p", str(panel), "-o", str(tmp_path / "c.h5")], ["info", str(tmp_path / "c.h5")]):
        r = runner.invoke(app, [*args, "--no-progress"], env={"COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        row = next(line for line in r.stdout.splitlines() if " phased " in line)
        assert "yes" in row and "unphased" not in r.stdout


def called_allele_counts(g: np.ndarray) -> np.ndarray:
    """ALT alleles and called alleles per variant, int (V, 2), for genotypes (V, n, 2)."""
    return np.stack([(g == 1).sum(axis=(1, 2)), (g >= 0).sum(axis=(1, 2))], axis=1)


def test_phased_vcf_with_missing_calls_hybridizes(tmp_path, phased_with_missing):
    vcf, panel, missing, lone = phased_with_missing
    cohort = read_cohort(vcf, panel=panel)
    r = hybridize(cohort, factor=3, populations=["AFR"], blocks=BlockSpec(size=40), seed=4)
    members = np.flatnonzero(cohort.samples.populations == "AFR")
    parents, parent_phase = cohort.genotypes[:, members], cohort.phased[:, members]
    n = len(members)
    out, flags = r.cohort.genotypes, r.cohort.phased
    np.testing.assert_array_equal(out[:, :n], parents)
    np.testing.assert_array_equal(flags[:, :n], parent_phase)
    starts = r.populations[0].blocks
    for c in range(1, 3):
        copy, copy_flags = out[:, c * n:(c + 1) * n], flags[:, c * n:(c + 1) * n]
        np.testing.assert_array_equal(called_allele_counts(copy), called_allele_counts(parents))
        assert (copy < 0).sum() == (parents < 0).sum()  # missing calls move, none appear
        called = (copy >= 0).all(axis=2)
        assert copy_flags[called].all() and not copy_flags[~called].any()
        for a, b in zip(starts[:-1], starts[1:]):
            given = {(parents[a:b, j].tobytes(), parent_phase[a:b, j].tobytes()) for j in range(n)}
            assert all((copy[a:b, j].tobytes(), copy_flags[a:b, j].tobytes()) in given for j in range(n))
    paths = write_output(tmp_path / "h.vcf.gz", r.cohort)
    back = read_cohort(paths[0], panel=paths[-1])
    np.testing.assert_array_equal(back.genotypes, out)
    np.testing.assert_array_equal(back.phased, flags)
    assert back.phase_state == "phased"


def test_haplotype_crosses_of_missing_calls_are_written_unphased(tmp_path, phased_with_missing):
    vcf, panel, _, _ = phased_with_missing
    cohort = read_cohort(vcf, panel=panel)
    r = hybridize(cohort, factor=2, populations=["EUR"], unit="haplotype", blocks=BlockSpec(size=50), seed=2)
    off = r.cohort.genotypes[:, 20:]
    both_missing = (off < 0).all(axis=2)
    assert both_missing.any() and ((off < 0).sum(axis=2) == 1).any()  # whole and half missing calls
    np.testing.assert_array_equal(r.cohort.phased[:, 20:], ~both_missing)


def test_partly_phased_called_calls_are_still_refused(phased_with_missing):
    vcf, panel, missing, _ = phased_with_missing
    cohort = read_cohort(vcf, panel=panel)
    afr = np.flatnonzero(cohort.samples.populations == "AFR")
    v, s = np.argwhere(~missing[:, afr])[0]
    cohort.phased[v, afr[s]] = False  # one called 0/1 among 0|1
    with pytest.raises(InputError, match="population AFR is partly phased"):
        hybridize(cohort, factor=2, populations=["AFR"], blocks=BlockSpec(size=40), seed=1)


# ---------------------------------------------------------------- genetic maps that end early


@pytest.fixture
def grid_cohort(sim_cohort):
    """The simulated cohort moved onto positions 500, 1500, ..., 199500 of contig 1."""
    from dataclasses import replace

    return replace(sim_cohort, variant_position=np.arange(200, dtype=np.int64) * 1000 + 500)


def write_map(path: Path, points) -> Path:
    """A PLINK .map (chr id cM bp) of (bp, cM) points on contig 1."""
    path.write_text("".join(f"1\tm{i}\t{cm}\t{bp}\n" for i, (bp, cm) in enumerate(points)))
    return path


def test_snps_beyond_both_ends_of_a_map_get_blocks_at_the_end_rates(tmp_path, grid_cohort):
    # 20 cM/Mb from 50 kb to 100 kb, 40 cM/Mb from 100 kb to 150 kb; SNPs run from 0.5 kb to 199.5 kb
    gmap = write_map(tmp_path / "short.map", [(50_000, 1.0), (100_000, 2.0), (150_000, 4.0)])
    r = hybridize(grid_cohort, factor=2, populations=["EUR"], blocks=BlockSpec(genetic_map=str(gmap), cm=0.99),
                  seed=1)
    # 0.02 cM per SNP before 100 kb (the first rate, extrapolated below 50 kb), 0.04 after (the last rate)
    assert r.populations[0].blocks.tolist() == [0, 50, 100, 125, 150, 175, 200]
    assert r.notes == ["100 SNPs lie outside the genetic map's range on contig 1; extrapolated at the end rates"]


def test_cli_hybridize_prints_the_map_range_note(tmp_path, grid_cohort):
    from typer.testing import CliRunner

    from ogan_vcf.cli import app
    from ogan_vcf.cohort import save

    save(grid_cohort, tmp_path / "c.h5")
    gmap = write_map(tmp_path / "short.map", [(50_000, 1.0), (100_000, 2.0), (150_000, 4.0)])
    r = CliRunner().invoke(app, ["hybridize", str(tmp_path / "c.h5"), "--pop", "EUR", "--factor", "2", "--map",
                                 str(gmap), "--cm", "0.99", "-o", str(tmp_path / "o.h5"), "--no-progress"],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "note: 100 SNPs lie outside the genetic map's range on contig 1" in r.stdout


def test_a_one_point_map_is_refused_in_one_line(tmp_path, grid_cohort):
    from typer.testing import CliRunner

    from ogan_vcf.cli import app
    from ogan_vcf.cohort import save

    gmap = write_map(tmp_path / "one.map", [(50_000, 1.0)])
    with pytest.raises(InputError, match="contig '1' has one map point"):
        hybridize(grid_cohort, factor=2, populations=["EUR"], blocks=BlockSpec(genetic_map=str(gmap)), seed=1)
    save(grid_cohort, tmp_path / "c.h5")
    r = CliRunner().invoke(app, ["hybridize", str(tmp_path / "c.h5"), "--pop", "EUR", "--factor", "2", "--map",
                                 str(gmap), "-o", str(tmp_path / "o.h5"), "--no-progress"])
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ogan: error: ") and str(gmap) in lines[0], r.stderr
    assert "Traceback" not in r.output and not (tmp_path / "o.h5").exists()


def test_map_rows_unsorted_repeated_or_contradictory(tmp_path):
    from ogan_vcf.hybridizer.blocks import read_genetic_map

    notes = []
    gmap = read_genetic_map(write_map(tmp_path / "a.map", [(300, 3.0), (100, 1.0), (200, 2.0), (200, 2.0)]),
                            notes=notes)
    assert gmap["1"][0].tolist() == [100, 200, 300] and gmap["1"][1].tolist() == [1.0, 2.0, 3.0]
    assert len(notes) == 2 and "not sorted" in notes[0] and "1 repeated map rows dropped" in notes[1]
    with pytest.raises(InputError, match=r"position 200 on contig '1' has two cM values \(2 and 2.5\)"):
        read_genetic_map(write_map(tmp_path / "b.map", [(100, 1.0), (200, 2.0), (200, 2.5)]))
    with pytest.raises(InputError, match="cM decreases on contig '1', from 2 at 200 to 1.5 at 300"):
        read_genetic_map(write_map(tmp_path / "c.map", [(100, 1.0), (200, 2.0), (300, 1.5)]))
    with pytest.raises(InputError, match="not a number"):
        read_genetic_map(write_map(tmp_path / "d.map", [(100, 1.0), (200, "nan")]))


# ---------------------------------------------------------------- indexes: absent, damaged, stale


@pytest.fixture
def indexed(tmp_path, sim_files):
    """A private copy of the bgzipped simulated VCF and its .tbi, and the panel."""
    import shutil

    vcf = tmp_path / "sim.vcf.gz"
    shutil.copy(sim_files["vcf_gz"], vcf)
    shutil.copy(f"{sim_files['vcf_gz']}.tbi", f"{vcf}.tbi")
    return vcf, sim_files["panel"]


def region_of(sim, a=50, b=99):
    return f"1:{sim.positions[a]}-{sim.positions[b]}"


def test_a_garbage_index_is_refused_not_read_around(tmp_path, indexed, sim):
    vcf, panel = indexed
    Path(f"{vcf}.tbi").write_bytes(np.random.default_rng(0).bytes(120))
    with pytest.raises(InputError) as e:
        ingest(vcf, tmp_path / "c.h5", panel=panel, region=region_of(sim))
    message = str(e.value)
    assert message.startswith(f"{vcf}: the region query") and f"{vcf}.tbi" in message
    assert "[E::hts_idx_load3] Could not load local index file" in message  # htslib's own words
    assert "\n" not in message and not (tmp_path / "c.h5").exists()


def test_a_garbage_csi_beside_a_bcf_is_refused(tmp_path, sim_files, sim):
    import shutil

    bcf = tmp_path / "sim.bcf"
    shutil.copy(sim_files["bcf"], bcf)
    Path(f"{bcf}.csi").write_bytes(b"not an index at all")
    with pytest.raises(InputError, match=r"sim\.bcf\.csi failed \(\[E::"):
        ingest(bcf, tmp_path / "c.h5", panel=sim_files["panel"], region=region_of(sim))


def test_cli_prints_one_line_for_a_damaged_index(tmp_path, indexed, sim):
    from typer.testing import CliRunner

    from ogan_vcf.cli import app

    vcf, panel = indexed
    data = bytearray(Path(f"{vcf}.tbi").read_bytes())
    Path(f"{vcf}.tbi").write_bytes(bytes(data[: len(data) // 2]))  # cut short
    out = tmp_path / "c.h5"
    r = CliRunner().invoke(app, ["ingest", str(vcf), "-p", str(panel), "-o", str(out), "--region", region_of(sim),
                                 "--no-progress"])
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"ogan: error: {vcf}: the region query") and "[E::" in lines[0]
    assert "Traceback" not in r.output and not out.exists()


def test_without_an_index_the_file_is_read_whole_with_a_note(tmp_path, indexed, sim):
    vcf, panel = indexed
    Path(f"{vcf}.tbi").unlink()
    s = ingest(vcf, tmp_path / "c.h5", panel=panel, region=region_of(sim))
    assert s.n_snps == 50 and s.notes == [f"{vcf} has no index: read it whole to select {region_of(sim)}"]
    np.testing.assert_array_equal(load(tmp_path / "c.h5").genotypes, sim.genotypes[50:100])


def test_htslib_alternative_index_names_are_used(tmp_path, indexed, sim):
    vcf, panel = indexed
    Path(f"{vcf}.tbi").rename(tmp_path / "sim.vcf.tbi")  # x.vcf.tbi: htslib's replaced-suffix name
    s = ingest(vcf, tmp_path / "c.h5", panel=panel, region=region_of(sim))
    assert s.n_snps == 50 and not s.notes


def test_an_index_older_than_the_file_is_noted(tmp_path, indexed, sim):
    import os

    vcf, panel = indexed
    os.utime(f"{vcf}.tbi", (1_000_000_000, 1_000_000_000))
    s = ingest(vcf, tmp_path / "c.h5", panel=panel, region=region_of(sim))
    assert s.n_snps == 50
    assert any("[W::hts_idx_load3] The index file is older than the data file" in n for n in s.notes)
    assert any("re-index with `bcftools index -t" in n for n in s.notes)


def test_a_contig_the_index_lacks_is_no_records_without_a_warning(tmp_path, indexed):
    import warnings

    from typer.testing import CliRunner

    from ogan_vcf.cli import app

    vcf, panel = indexed
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(InputError, match=r"no variant records in 7:1- \(its contigs: 1\)$"):
            ingest(vcf, tmp_path / "c.h5", panel=panel, region="7")
    assert not seen  # cyvcf2's "no intervals found" would be a second stderr line
    r = CliRunner().invoke(app, ["ingest", str(vcf), "-p", str(panel), "-o", str(tmp_path / "c.h5"),
                                 "--region", "7", "--no-progress"])
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_htslib_messages_are_captured_and_other_stderr_passes_through(capfd):
    import os

    from ogan_vcf.io.vcf import _htslib_messages

    with _htslib_messages() as lines:
        os.write(2, b"[E::demo] broken index\nprogress 50%\n[W::demo] old index\n")
    assert lines == ["[E::demo] broken index", "[W::demo] old index"]
    assert capfd.readouterr().err == "progress 50%\n"


def test_a_bad_header_error_carries_htslib_text(tmp_path, data_dir):
    with pytest.raises(InputError, match=r"duplicate sample name 's1'.*\[E::bcf_hdr_add_sample_len\]"):
        ingest(data_dir / "duplicate_sample.vcf", tmp_path / "c.h5", panel=data_dir / "three.panel")


def test_input_errors_name_the_missing_panel_and_a_region_on_a_cohort(tmp_path, sim_files, sim_h5):
    from ogan_vcf.io import Region, open_source

    vcf = sim_files["vcf_gz"]
    with pytest.raises(InputError) as e:
        read_cohort(vcf)
    assert str(e.value) == f"{vcf}: a VCF/BCF/PLINK input needs a panel to label its samples"
    with pytest.raises(InputError) as e:
        read_cohort(sim_files["bcf"], panel_role="the synthetic cohort's panel")
    assert str(e.value) == (f"{sim_files['bcf']}: a VCF/BCF/PLINK input needs a panel to label its samples "
                            f"(the synthetic cohort's panel, e.g. {sim_files['panel']})")  # sim.panel is beside
    with pytest.raises(InputError) as e:
        open_source(sim_h5, region=Region.parse("1:1-1000"))
    assert str(e.value) == f"{sim_h5}: a region applies to VCF/BCF/PLINK input, not to a cohort"
