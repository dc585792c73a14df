"""Errors that archscape raises for bad input.

Every error a user can cause derives from :class:`ArchscapeError`; its message
is one line that names what was wrong and what is accepted.  The CLI prints
exactly that line and exits with status 2, never a traceback.
"""

from __future__ import annotations


class ArchscapeError(ValueError):
    """Base class: a one-line, user-facing problem with the input."""


class InvalidArchitecture(ArchscapeError):
    """A genotype or architecture string that the search space rejects."""


class UnknownName(ArchscapeError, KeyError):
    """An unknown benchmark, space, dataset, operation, metric or encoding."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnsupportedOperation(ArchscapeError):
    """The space or benchmark does not offer what was asked (e.g. enumeration)."""


class NotInTable(ArchscapeError):
    """A valid architecture that the tabular benchmark has no entry for."""


class DataError(ArchscapeError):
    """A data file that is missing, corrupt, truncated or of the wrong format."""


class MissingExtra(ArchscapeError, ImportError):
    """An optional dependency is not installed; the message names the extra."""


def unknown(kind: str, got: object, accepted) -> UnknownName:
    """Build the standard 'unknown X' error listing what is accepted."""
    accepted = list(accepted)
    shown = ", ".join(map(str, accepted[:20])) + (", ..." if len(accepted) > 20 else "")
    return UnknownName(f"unknown {kind} {got!r}; accepted: {shown}")
