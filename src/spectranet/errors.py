"""The spectranet exception family.

Every error raised on bad user input derives from :class:`SpectranetError`, so the command line
can catch one family and print a single line. Subclasses also derive from the matching builtin,
so ``except ValueError`` keeps working for Python users.
"""

from __future__ import annotations

__all__ = [
    "SpectranetError",
    "DataError",
    "DataNotFoundError",
    "ChecksumError",
    "ConfigError",
    "NotFittedError",
]


class SpectranetError(Exception):
    """Base class of every error spectranet raises on purpose."""


class DataError(SpectranetError, ValueError):
    """Input data exist but are unusable (wrong shape, NaN, no labels, undecodable, ...)."""


class DataNotFoundError(SpectranetError, FileNotFoundError):
    """A file, folder, variable or dataset that was asked for is missing."""


class ChecksumError(SpectranetError, ValueError):
    """A file's sha256 differs from the registered one."""


class ConfigError(SpectranetError, ValueError):
    """An option or configuration value is invalid."""


class NotFittedError(SpectranetError, AttributeError):
    """A stateful transform was used before ``fit``."""
