import shutil

import numpy as np
import pytest

from util import bgzip_and_index, simulate_cohort, write_panel_text, write_vcf_text

DATA = __import__("pathlib").Path(__file__).parent / "data"


DEBIAN_PACKAGE = {"bcftools": "bcftools", "tabix": "tabix", "plink2": "plink2", "beagle": "beagle",
                  "chromium": "chromium"}


def pytest_collection_modifyitems(config, items):
    """Skip a test marked ``tools("bcftools", ...)`` (no names: bcftools and plink2) when one of the
    tools is not on PATH, naming its Debian package; .ci/run installs them all."""
    for item in items:
        for marker in item.iter_markers("tools"):
            missing = [t for t in (marker.args or ("bcftools", "plink2")) if shutil.which(t) is None]
            if missing:
                packages = ", ".join(DEBIAN_PACKAGE.get(t, t) for t in missing)
                item.add_marker(pytest.mark.skip(reason=f"needs {', '.join(missing)} on PATH (Debian package "
                                                        f"{packages}; .ci/run installs it)"))


@pytest.fixture(scope="session")
def data_dir():
    return DATA


@pytest.fixture(scope="session")
def sim():
    return simulate_cohort()


@pytest.fixture(scope="session")
def sim_files(tmp_path_factory, sim):
    """The simulated cohort as plain VCF, bgzipped+indexed VCF, BCF, PLINK, and its panel."""
    import pysam.bcftools
    from bed_reader import to_bed

    d = tmp_path_factory.mktemp("sim")
    vcf = write_vcf_text(d / "sim.vcf", sim)
    files = {"vcf": vcf, "vcf_gz": bgzip_and_index(write_vcf_text(d / "sim2.vcf", sim))}
    files["bcf"] = d / "sim.bcf"
    pysam.bcftools.view("--no-version", "-Ob", "-o", str(files["bcf"]), str(vcf), catch_stdout=False)
    pysam.bcftools.index(str(files["bcf"]))
    files["panel"] = write_panel_text(d / "sim.panel", sim.samples, sim.populations)
    counts = sim.genotypes.sum(axis=2).T.astype(np.float32)  # ALT copies, (S, V)
    files["bed"] = d / "sim.bed"
    to_bed(files["bed"], counts, properties={
        "iid": sim.samples, "sid": sim.ids, "chromosome": [sim.contig] * len(sim.ids),
        "bp_position": sim.positions, "allele_1": sim.alt, "allele_2": sim.ref,
    })
    return files


@pytest.fixture(scope="session")
def sim_h5(tmp_path_factory, sim_files):
    """The simulated cohort ingested into a cohort file."""
    from ogan_vcf.convert import ingest

    out = tmp_path_factory.mktemp("cohort") / "sim.h5"
    ingest(sim_files["vcf_gz"], out, panel=sim_files["panel"])
    return out


@pytest.fixture(scope="session")
def sim_cohort(sim_h5):
    """The simulated cohort in memory (tests must not modify it in place)."""
    from ogan_vcf.cohort import load

    return load(sim_h5)
