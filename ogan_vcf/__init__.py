"""ogan_vcf: augment population-biased genotype cohorts with the Offspring GAN method.

The public API, along the data flow::

    cohort = ogan_vcf.read_vcf("cohort.vcf.gz", panel="cohort.panel")  # or read_plink, load
    balanced = ogan_vcf.hybridize(cohort, balance=True, seed=1).cohort
    summary = ogan_vcf.train("train.h5", "model/", model="offspring", preset="cpu", seed=1)
    ogan_vcf.generate("model/", "synthetic.vcf.gz", n=500, seed=1)
    ogan_vcf.report("cohort.h5", "synthetic.vcf.gz", "report/", train="train.h5")

Names are imported lazily (TensorFlow only where a network is built), so ``ogan --help`` starts fast.
"""

__version__ = "0.1.0"

_API = {
    # read and write
    "read_vcf": "io", "read_plink": "io", "read_cohort": "io", "read_panel": "io", "write_vcf": "io",
    "write_plink": "io", "write_output": "io", "open_source": "io",
    "Cohort": "cohort", "CohortFile": "cohort", "Samples": "cohort", "load": "cohort", "save": "cohort",
    "write_cohort": "cohort", "ingest": "convert", "export": "convert", "describe": "convert",
    # the steps
    "hybridize": "hybridizer", "BlockSpec": "hybridizer", "train": "training", "generate": "generation",
    "synthesize": "generation", "report": "reporting", "compute_metrics": "reporting",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
