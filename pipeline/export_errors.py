"""Errors that mean the user's input or configuration is wrong: reported in one line, exit code 2."""

from __future__ import annotations

from pipeline.audit.errors import UnknownDocument
from pipeline.params import ParamsError
from pipeline.rules import RuleError
from pipeline.stages.export import AccountingError

USER_ERRORS: tuple[type[Exception], ...] = (ParamsError, RuleError, AccountingError,
                                             FileNotFoundError, UnknownDocument)
