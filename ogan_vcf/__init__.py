"""ogan_vcf: augment population-biased genotype cohorts with the Offspring GAN method.

The public API is imported lazily so that ``ogan --help`` starts fast.
"""

__version__ = "0.1.0"

_API = {
    "Cohort": "cohort", "CohortFile": "cohort", "Samples": "cohort", "load": "cohort", "save": "cohort",
    "write_cohort": "cohort", "ingest": "convert", "export": "convert", "describe": "convert",
    "open_source": "io", "write_output": "io", "read_panel": "io", "write_vcf": "io",
    "write_plink": "io",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
