"""The cohort file: names, dtypes, chunking, version check, provenance."""

import h5py
import numpy as np
import pytest

from ogan_vcf import cohort as cohort_mod
from ogan_vcf.convert import export, ingest
from ogan_vcf.errors import CohortFormatError


@pytest.fixture
def cohort_h5(tmp_path, sim_files):
    ingest(sim_files["vcf_gz"], tmp_path / "c.h5", panel=sim_files["panel"])
    return tmp_path / "c.h5"


def test_arrays_carry_vcf_zarr_names_and_dtypes(cohort_h5):
    with h5py.File(cohort_h5) as f:
        assert f.attrs["ogan_cohort_version"] == cohort_mod.COHORT_VERSION
        assert f["call_genotype"].dtype == np.int8 and f["call_genotype"].shape == (200, 60, 2)
        assert f["call_genotype"].compression == "gzip" and f["call_genotype"].chunks is not None
        assert f["call_genotype_phased"].dtype == bool
        for name in ("variant_contig", "variant_position", "variant_id", "variant_allele", "sample_id",
                     "sample_population", "contig_id", "contig_length", "provenance"):
            assert name in f
        assert f["variant_allele"].shape == (200, 2)
        assert set(f["sample_panel"]) == {"pop", "super_pop", "gender"}


def test_wrong_version_is_refused_with_a_hint(cohort_h5):
    with h5py.File(cohort_h5, "a") as f:
        f.attrs["ogan_cohort_version"] = "9.0"
    with pytest.raises(CohortFormatError, match=r"cohort format 9.0 is not supported.*re-ingest"):
        cohort_mod.load(cohort_h5)


def test_plain_hdf5_is_not_a_cohort(tmp_path):
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["a"] = [1]
    with pytest.raises(CohortFormatError, match="no ogan_cohort_version"):
        cohort_mod.load(tmp_path / "x.h5")


def test_provenance_is_appended_by_each_command(cohort_h5, tmp_path):
    export(cohort_h5, tmp_path / "copy.h5")
    records = cohort_mod.load(tmp_path / "copy.h5").provenance
    assert [r["command"] for r in records] == ["ingest", "export"]
    assert records[0]["parameters"]["label_column"] == "super_pop"
    assert "ogan_vcf" in records[0]["software"] and "time" in records[0]


def test_save_and_load_an_in_memory_cohort(cohort_h5, tmp_path):
    c = cohort_mod.load(cohort_h5)
    sub = c.take_samples(np.flatnonzero(c.samples.populations == "EUR"))
    cohort_mod.save(sub, tmp_path / "eur.h5")
    back = cohort_mod.load(tmp_path / "eur.h5")
    assert back.n_samples == 20 and set(back.samples.populations) == {"EUR"}
    np.testing.assert_array_equal(back.genotypes, sub.genotypes)
    assert list(back.samples.panel["gender"]) == list(sub.samples.panel["gender"])


def test_a_failed_write_leaves_nothing(tmp_path, cohort_h5):
    c = cohort_mod.load(cohort_h5)

    class Exploding:
        path, samples, contig_id, contig_length, n_variants, provenance = "x", c.samples, ["1"], [-1], None, []

        def chunks(self):
            yield next(c.chunks(50))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cohort_mod.write_cohort(tmp_path / "out.h5", Exploding())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.h5"]
