"""Round trips are exact: VCF/BCF/PLINK -> cohort -> VCF/BCF/PLINK keep every genotype."""

import subprocess

import cyvcf2
import numpy as np
import pytest
from bed_reader import open_bed
from util import query_vcf

from ogan_vcf import cohort as cohort_mod
from ogan_vcf.convert import export, ingest


@pytest.fixture(scope="module")
def cohort_h5(tmp_path_factory, sim_files):
    out = tmp_path_factory.mktemp("rt") / "sim.h5"
    ingest(sim_files["vcf_gz"], out, panel=sim_files["panel"])
    return out


def test_cohort_holds_the_simulated_genotypes(cohort_h5, sim):
    c = cohort_mod.load(cohort_h5)
    np.testing.assert_array_equal(c.genotypes, sim.genotypes)
    assert c.phased.all()
    assert list(c.samples.ids) == sim.samples
    assert list(c.samples.populations) == sim.populations
    np.testing.assert_array_equal(c.variant_position, sim.positions)
    assert list(c.variant_allele[:, 0]) == sim.ref and list(c.variant_allele[:, 1]) == sim.alt
    assert list(c.variant_id) == sim.ids
    assert c.genotypes.dtype == np.int8 and c.genotypes.shape == (200, 60, 2)


@pytest.mark.parametrize("kind", ["vcf", "vcf_gz", "bcf"])
def test_vcf_and_bcf_inputs_give_the_same_cohort(tmp_path, sim_files, sim, kind):
    out = tmp_path / "c.h5"
    summary = ingest(sim_files[kind], out, panel=sim_files["panel"])
    assert summary.n_snps == 200 and summary.phased and summary.missing_calls == 0
    np.testing.assert_array_equal(cohort_mod.load(out).genotypes, sim.genotypes)


def test_plain_gzip_input_is_read(tmp_path, sim_files, sim):
    import gzip

    plain = tmp_path / "plain.vcf.gz"
    plain.write_bytes(gzip.compress(sim_files["vcf"].read_bytes()))
    ingest(plain, tmp_path / "c.h5", panel=sim_files["panel"])
    np.testing.assert_array_equal(cohort_mod.load(tmp_path / "c.h5").genotypes, sim.genotypes)


@pytest.mark.parametrize("suffix", ["vcf.gz", "bcf", "vcf"])
def test_export_round_trip_is_exact(tmp_path, cohort_h5, sim_files, suffix):
    out = tmp_path / f"out.{suffix}"
    summary = export(cohort_h5, out)
    assert query_vcf(out) == query_vcf(sim_files["vcf_gz"])
    assert cyvcf2.VCF(str(out)).samples == cyvcf2.VCF(str(sim_files["vcf_gz"])).samples
    assert (tmp_path / "out.panel").read_text() == sim_files["panel"].read_text()
    index = {"vcf.gz": ".tbi", "bcf": ".csi"}.get(suffix)
    if index:
        assert (tmp_path / f"out.{suffix}{index}").exists()
        assert summary.paths[1].endswith(index)


def test_export_header_has_contigs_gt_source_and_provenance(tmp_path, cohort_h5):
    export(cohort_h5, tmp_path / "out.vcf")
    header = [line for line in (tmp_path / "out.vcf").read_text().splitlines() if line.startswith("##")]
    assert header[0] == "##fileformat=VCFv4.2"
    assert "##contig=<ID=1,length=10000000>" in header
    assert any(line.startswith("##FORMAT=<ID=GT") for line in header)
    assert any(line.startswith("##source=ogan_vcf") for line in header)
    commands = [line for line in header if line.startswith("##ogan_provenance=")]
    assert ['"command": "ingest"' in commands[0], '"command": "export"' in commands[1]] == [True, True]


def test_region_query_uses_the_index_and_matches_a_filter(tmp_path, sim_files, sim):
    lo, hi = int(sim.positions[50]), int(sim.positions[99])
    indexed = ingest(sim_files["vcf_gz"], tmp_path / "a.h5", panel=sim_files["panel"], region=f"1:{lo}-{hi}")
    unindexed = ingest(sim_files["vcf"], tmp_path / "b.h5", panel=sim_files["panel"], region=f"1:{lo}-{hi}")
    assert indexed.n_snps == unindexed.n_snps == 50
    assert not indexed.notes and any("no index" in n for n in unindexed.notes)
    np.testing.assert_array_equal(cohort_mod.load(tmp_path / "a.h5").genotypes, sim.genotypes[50:100])


def test_plink_round_trip_keeps_genotypes_unphased(tmp_path, sim_files, sim):
    summary = ingest(sim_files["bed"], tmp_path / "p.h5", panel=sim_files["panel"])
    assert summary.n_snps == 200 and not summary.phased
    c = cohort_mod.load(tmp_path / "p.h5")
    np.testing.assert_array_equal(c.genotypes.sum(axis=2), sim.genotypes.sum(axis=2))
    assert list(c.variant_allele[:, 0]) == sim.ref and list(c.variant_allele[:, 1]) == sim.alt
    export(tmp_path / "p.h5", tmp_path / "p.vcf.gz")
    assert all("|" not in row for row in query_vcf(tmp_path / "p.vcf.gz"))
    ingest(tmp_path / "p.vcf.gz", tmp_path / "back.h5", panel=sim_files["panel"])
    back = cohort_mod.load(tmp_path / "back.h5")
    assert not back.phased.any()
    np.testing.assert_array_equal(back.genotypes.sum(axis=2), sim.genotypes.sum(axis=2))
    assert (back.genotypes[..., 0] <= back.genotypes[..., 1]).all()  # heterozygotes written 0/1


def test_export_to_plink_is_read_back_by_bed_reader(tmp_path, cohort_h5, sim):
    export(cohort_h5, tmp_path / "out.bed")
    bed = open_bed(tmp_path / "out.bed")
    np.testing.assert_array_equal(bed.read(dtype="int8").T, sim.genotypes.sum(axis=2))
    assert list(bed.iid) == sim.samples and list(bed.allele_1) == sim.alt and list(bed.allele_2) == sim.ref
    assert set(bed.sex.tolist()) == {1, 2}


def test_small_chunks_and_sorting_give_identical_cohorts(tmp_path, sim_files, sim, monkeypatch):
    from ogan_vcf.io.vcf import VcfSource

    monkeypatch.setattr(cohort_mod, "GENOTYPE_CHUNK_VARIANTS", 16)
    source = VcfSource(sim_files["vcf_gz"])
    source.chunk_variants = 7
    cohort_mod.write_cohort(tmp_path / "c.h5", source)
    with cohort_mod.CohortFile(tmp_path / "c.h5") as f:
        parts = [c.genotypes for c in f.chunks(size=33)]
    assert [len(p) for p in parts][:2] == [33, 33]
    np.testing.assert_array_equal(np.concatenate(parts), sim.genotypes)


@pytest.mark.tools("bcftools", "plink2")
def test_bcftools_and_plink2_read_the_export(tmp_path, cohort_h5, sim):
    out = tmp_path / "out.vcf.gz"
    export(cohort_h5, out)
    view = subprocess.run(["bcftools", "view", "-H", str(out)], capture_output=True, text=True, check=True)
    assert len(view.stdout.splitlines()) == 200
    query = subprocess.run(["bcftools", "query", "-f", "%POS[\t%GT]\n", str(out)],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    first = query[0].split("\t")
    assert int(first[0]) == sim.positions[0]
    assert first[1:] == [f"{a}|{b}" for a, b in sim.genotypes[0]]
    region = subprocess.run(["bcftools", "view", "-H", "-r", f"1:1-{sim.positions[9]}", str(out)],
                            capture_output=True, text=True, check=True)
    assert len(region.stdout.splitlines()) == 10
    subprocess.run(["plink2", "--vcf", str(out), "--freq", "--out", str(tmp_path / "freq")],
                   capture_output=True, check=True)
    header, *freq = (tmp_path / "freq.afreq").read_text().splitlines()
    column = header.split("\t").index("ALT_FREQS")
    alt_freq = np.array([float(line.split("\t")[column]) for line in freq])
    np.testing.assert_allclose(alt_freq, sim.genotypes.mean(axis=(1, 2)), atol=1e-4)


@pytest.mark.tools("bcftools")
def test_bcftools_query_round_trip_of_bcf(tmp_path, cohort_h5, sim_files):
    export(cohort_h5, tmp_path / "out.bcf")
    fmt = "%CHROM %POS %ID %REF %ALT [%GT ]\n"
    ours = subprocess.run(["bcftools", "query", "-f", fmt, str(tmp_path / "out.bcf")], capture_output=True,
                          text=True, check=True).stdout
    theirs = subprocess.run(["bcftools", "query", "-f", fmt, str(sim_files["vcf_gz"])], capture_output=True,
                            text=True, check=True).stdout
    assert ours == theirs
