"""Errors raised by the library; the CLI turns each into one line on stderr."""


class OganError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(OganError):
    """An input file (VCF, BCF, PLINK, panel) is missing, malformed or unusable."""


class CohortFormatError(OganError):
    """A cohort .h5 file is not one, or was written by an incompatible version."""


class OutputError(OganError):
    """An output path cannot be written as asked."""


class Interrupted(OganError):
    """Work stopped by Ctrl-C after saving what can be resumed (exit status 130)."""

    exit_code = 130
