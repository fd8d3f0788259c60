"""Errors that teach: every user-facing failure names the file, the row or column, the bad value and the fix.

All errors raised for a user's mistake derive from :class:`FeedbackError`; the CLI turns them into a
one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations


class FeedbackError(Exception):
    """Base class for errors caused by input or usage, not by a bug in feedback.

    Every kind carries the parts a user needs to fix it, and its message is built from them: where (``path``,
    ``row``, ``column``), what (``message``, the bad ``value``) and the ``fix``.

    >>> str(InputError("no column 'text'", path="f.csv", column="text", fix="pass --text-column Comment"))
    "f.csv, column 'text': no column 'text'. Fix: pass --text-column Comment"
    >>> str(ModelError("not a theme model folder", path="models/x", fix="create one with `feedback themes fit`"))
    'models/x: not a theme model folder. Fix: create one with `feedback themes fit`'
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: object | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object | None = None,
        fix: str | None = None,
    ) -> None:
        self.path, self.row, self.column, self.value, self.fix = path, row, column, value, fix
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = f"{', '.join(where)}: {message}" if where else message
        if value is not None:
            shown = str(value)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            text += f" (got {shown!r})"
        if fix:
            text += f". Fix: {fix}"
        super().__init__(text)


class InputError(FeedbackError):
    """A data file cannot be used as given."""


class ConfigError(FeedbackError, ValueError):
    """The configuration file, an option or an estimator parameter has an invalid value."""


class ModelError(FeedbackError):
    """A saved model folder is missing, incomplete or from an incompatible version."""


class InputWarning(UserWarning):
    """Input that is used as given but is probably not what the user meant; the CLI prints it as one line."""
