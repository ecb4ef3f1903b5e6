"""Errors that mean the user's input or configuration is wrong: reported in one line, exit code 2."""

from __future__ import annotations

from pipeline.audit.errors import UnknownDocument
from pipeline.params import ParamsError
from pipeline.rules import RuleError


class AccountingError(RuntimeError):
    """Inputs and outputs do not add up: a dataset with holes must not be written."""


class UnsafePathError(ValueError):
    """The raw and output folders overlap, so a run would read back or overwrite its own files."""


class MissingExtra(RuntimeError):
    """An option needs an optional extra that is not installed (e.g. `--engine ray` without Ray)."""


USER_ERRORS: tuple[type[Exception], ...] = (ParamsError, RuleError, AccountingError, UnsafePathError,
                                             FileNotFoundError, UnknownDocument, MissingExtra)
