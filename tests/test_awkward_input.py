"""Awkward but legal input is accepted, handled deliberately and counted in the summary."""

import numpy as np
import pytest

from ogan_vcf import cohort as cohort_mod
from ogan_vcf.convert import describe, export, ingest
from ogan_vcf.io import read_panel
from util import query_vcf


def test_unphased_is_stored_unphased_with_a_hint(tmp_path, data_dir):
    s = ingest(data_dir / "unphased.vcf", tmp_path / "c.h5", panel=data_dir / "three.panel")
    assert not s.phased and s.unphased_calls == 9
    assert any("phase before training" in n for n in s.notes)
    c = cohort_mod.load(tmp_path / "c.h5")
    assert not c.phased.any()
    export(tmp_path / "c.h5", tmp_path / "out.vcf")
    assert query_vcf(tmp_path / "out.vcf") == query_vcf(data_dir / "unphased.vcf")


def test_missing_calls_are_kept_and_counted(tmp_path, data_dir):
    s = ingest(data_dir / "missing.vcf", tmp_path / "c.h5", panel=data_dir / "three.panel")
    assert s.missing_calls == 4  # ./.  .|1  0|.  and a lone "."
    g = cohort_mod.load(tmp_path / "c.h5").genotypes
    np.testing.assert_array_equal(g[0, 1], [-1, -1])
    np.testing.assert_array_equal(g[1, 0], [-1, 1])
    np.testing.assert_array_equal(g[1, 1], [0, -1])
    np.testing.assert_array_equal(g[2, 0], [-1, -1])
    export(tmp_path / "c.h5", tmp_path / "out.vcf")
    text = (tmp_path / "out.vcf").read_text().splitlines()
    assert text[-2].endswith("GT\t.|1\t0|.\t1|1") and text[-3].endswith("GT\t0|1\t./.\t0|0")


def test_multiallelic_indels_and_no_alt_are_skipped_and_counted(tmp_path, data_dir):
    s = ingest(data_dir / "multiallelic.vcf", tmp_path / "c.h5", panel=data_dir / "three.panel")
    assert s.n_snps == 2
    assert s.skipped == {"multiallelic": 1, "not_snp": 2, "no_alt": 1}
    assert any("bcftools norm -m-" in n for n in s.notes)
    assert list(cohort_mod.load(tmp_path / "c.h5").variant_id) == ["rs1", "rs6"]


def test_unsorted_records_are_sorted_with_a_note(tmp_path, data_dir):
    s = ingest(data_dir / "unsorted.vcf", tmp_path / "c.h5", panel=data_dir / "three.panel")
    assert s.resorted and any("not sorted" in n for n in s.notes)
    c = cohort_mod.load(tmp_path / "c.h5")
    assert list(c.variant_id) == ["a", "b", "d", "c"]  # header contig order 1, 2
    np.testing.assert_array_equal(c.genotypes[0], [[0, 1], [1, 0], [0, 0]])
    np.testing.assert_array_equal(c.genotypes[3], [[1, 0], [0, 1], [1, 1]])
    assert s.snps_per_contig == {"1": 2, "2": 2}


def test_sorting_many_chunks_matches_a_sorted_reference(tmp_path, sim, monkeypatch):
    """Shuffled records over many chunks come back in order with their genotypes."""
    from util import write_panel_text, write_vcf_text

    order = np.random.default_rng(3).permutation(len(sim.positions))
    shuffled = type(sim)(sim.genotypes[order], sim.positions[order], [sim.ref[i] for i in order],
                         [sim.alt[i] for i in order], [sim.ids[i] for i in order], sim.samples, sim.populations)
    vcf = write_vcf_text(tmp_path / "shuffled.vcf", shuffled)
    panel = write_panel_text(tmp_path / "p.panel", sim.samples, sim.populations)
    monkeypatch.setattr(cohort_mod, "variants_per_chunk", lambda n_samples: 17)
    s = ingest(vcf, tmp_path / "c.h5", panel=panel)
    assert s.resorted
    c = cohort_mod.load(tmp_path / "c.h5")
    np.testing.assert_array_equal(c.genotypes, sim.genotypes)
    assert list(c.variant_id) == sim.ids


def test_several_contigs_and_odd_sample_names_are_kept_verbatim(tmp_path, data_dir):
    s = ingest(data_dir / "odd_names.vcf", tmp_path / "c.h5", panel=data_dir / "odd_names.panel")
    assert s.snps_per_contig == {"1": 1, "2": 1, "chrX_alt": 1}
    assert s.populations == {"EUR": 2, "EAS": 1}
    c = cohort_mod.load(tmp_path / "c.h5")
    assert list(c.samples.ids) == ["sample one", "Søren-Ærø", "李雷"]
    export(tmp_path / "c.h5", tmp_path / "out.vcf.gz")
    assert query_vcf(tmp_path / "out.vcf.gz") == query_vcf(data_dir / "odd_names.vcf")
    import cyvcf2

    assert cyvcf2.VCF(str(tmp_path / "out.vcf.gz")).samples == ["sample one", "Søren-Ærø", "李雷"]
    assert (tmp_path / "out.panel").read_text(encoding="utf-8") == (data_dir / "odd_names.panel").read_text(
        encoding="utf-8")


def test_plink_export_refuses_names_with_spaces(tmp_path, data_dir):
    from ogan_vcf.errors import OutputError

    ingest(data_dir / "odd_names.vcf", tmp_path / "c.h5", panel=data_dir / "odd_names.panel")
    with pytest.raises(OutputError, match="'sample one' has whitespace"):
        export(tmp_path / "c.h5", tmp_path / "out.bed")
    assert not list(tmp_path.glob("out.*")) and not list(tmp_path.glob(".out*"))


def test_panel_tolerates_bom_crlf_and_trailing_empty_columns(tmp_path):
    text = "\ufeffsample\tpop\tsuper_pop\tgender\t\t\r\nHG1\tGBR\tEUR\tmale\t\t\r\nHG2\tYRI\tAFR\tfemale\t\t\r\n"
    (tmp_path / "p.panel").write_bytes(text.encode("utf-8"))
    panel = read_panel(tmp_path / "p.panel")
    assert panel.columns == ["sample", "pop", "super_pop", "gender"]
    assert panel.label_column == "super_pop"
    samples, extra = panel.match(["HG2"])
    assert list(samples.populations) == ["AFR"] and extra == ["HG1"]
    assert list(read_panel(tmp_path / "p.panel", label_column="pop").match(["HG1"])[0].populations) == ["GBR"]


def test_panel_without_super_pop_uses_pop(tmp_path):
    (tmp_path / "p.panel").write_text("sample\tpop\nA\tGBR\n")
    assert read_panel(tmp_path / "p.panel").label_column == "pop"


def test_panel_samples_missing_from_the_vcf_are_noted(tmp_path, data_dir):
    panel = tmp_path / "p.panel"
    panel.write_text((data_dir / "three.panel").read_text() + "s9\tGBR\tEUR\tmale\n")
    s = ingest(data_dir / "unphased.vcf", tmp_path / "c.h5", panel=panel)
    assert any("1 panel samples are not in" in n for n in s.notes)


def test_label_column_choice_is_stored(tmp_path, data_dir):
    ingest(data_dir / "unphased.vcf", tmp_path / "c.h5", panel=data_dir / "three.panel", label_column="pop")
    c = cohort_mod.load(tmp_path / "c.h5")
    assert c.samples.label_column == "pop" and list(c.samples.populations) == ["GBR", "YRI", "CHB"]


def test_describe_a_vcf_and_a_cohort_agree(tmp_path, data_dir):
    vcf = describe(data_dir / "missing.vcf", panel=data_dir / "three.panel")
    ingest(data_dir / "missing.vcf", tmp_path / "c.h5", panel=data_dir / "three.panel")
    h5 = describe(tmp_path / "c.h5")
    assert (vcf.n_samples, vcf.missing_calls, vcf.unphased_calls, vcf.snps_per_contig) == \
           (h5.n_samples, h5.missing_calls, h5.unphased_calls, h5.snps_per_contig) == (3, 4, 0, {"1": 3})
    assert vcf.populations == h5.populations == {"EUR": 1, "AFR": 1, "EAS": 1}
    assert [p["command"] for p in h5.provenance] == ["ingest"]
