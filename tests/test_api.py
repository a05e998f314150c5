"""The library API: the steps of the data flow as functions on the package, imported lazily."""

import subprocess
import sys

import pytest

import ogan_vcf
from ogan_vcf.errors import InputError


def test_the_steps_are_functions_even_after_their_modules_are_imported():
    import ogan_vcf.generation
    import ogan_vcf.hybridizer
    import ogan_vcf.reporting
    import ogan_vcf.training  # noqa: F401  (a module named like its function would shadow it here)

    for name in ("read_vcf", "read_plink", "hybridize", "train", "generate", "report"):
        assert callable(getattr(ogan_vcf, name)) and getattr(ogan_vcf, name).__name__ == name, name
    assert set(ogan_vcf.__all__) <= set(dir(ogan_vcf))


def test_importing_the_package_loads_neither_tensorflow_nor_numba():
    code = "import sys, ogan_vcf; print('tensorflow' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_read_vcf_and_read_plink_read_the_same_people(sim_files, sim):
    a = ogan_vcf.read_vcf(sim_files["vcf_gz"], panel=sim_files["panel"])
    b = ogan_vcf.read_plink(sim_files["bed"], panel=sim_files["panel"])
    assert a.n_variants == b.n_variants == len(sim.positions) and list(a.samples.ids) == list(b.samples.ids)
    assert ((a.genotypes.sum(axis=2)) == (b.genotypes.sum(axis=2))).all()
    with pytest.raises(InputError, match="not a VCF/BCF file"):
        ogan_vcf.read_vcf(sim_files["bed"], panel=sim_files["panel"])
    with pytest.raises(InputError, match="not a PLINK .bed/.bim/.fam set"):
        ogan_vcf.read_plink(sim_files["vcf_gz"], panel=sim_files["panel"])


def test_hybridize_through_the_package(sim_cohort):
    result = ogan_vcf.hybridize(sim_cohort, factor=2, populations=["EAS"], seed=1)
    assert result.cohort.samples.population_counts() == {"EAS": 40}
