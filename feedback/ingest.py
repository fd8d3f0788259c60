"""Ingest: read feedback, customer and ticket exports into the standard tables, losing no row.

Readers accept CSV/TSV (delimiter sniffed, BOM and UTF-16 handled, cp1252 fallback), JSON Lines, JSON arrays,
Parquet, and e-mail (.eml files, folders of them, .mbox). Columns are renamed through ``Config.columns``;
unknown columns pass through. Rows that cannot be used are kept and flagged in ``quality_issue``; the
counts by reason are returned in :class:`Dataset.quality`.
"""
from __future__ import annotations

import csv
import difflib
import email
import email.policy
import hashlib
import io
import mailbox
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .config import Config
from .errors import InputError
from .schema import (CHANNELS, CUSTOMERS_REQUIRED, FEEDBACK_OPTIONAL, SCORE_RANGES, TICKETS_REQUIRED)

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq"}
EMAIL_SUFFIXES = {".eml", ".mbox"}
#: bytes read to guess the encoding and the delimiter
SNIFF_BYTES = 64 * 1024


@dataclass
class Dataset:
    """The tables of one analysis, with where they came from and what was wrong with them."""

    feedback: pd.DataFrame
    customers: pd.DataFrame | None = None
    tickets: pd.DataFrame | None = None
    sources: dict = field(default_factory=dict)
    #: rows read per table
    rows_read: dict = field(default_factory=dict)
    #: encoding used per file
    encodings: dict = field(default_factory=dict)

    @property
    def quality(self) -> dict[str, int]:
        """Count of feedback rows per quality issue (a row may be flagged for one reason, the first found)."""
        issues = self.feedback.get("quality_issue")
        if issues is None:
            return {}
        counts = issues[issues != ""].value_counts()
        return {str(k): int(v) for k, v in sorted(counts.items())}


# --------------------------------------------------------------------------------------------- reading files

def detect_encoding(raw: bytes) -> str:
    """Pick the text encoding of a file's first bytes: BOMs first, then UTF-8, else cp1252.

    >>> detect_encoding("héllo".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("héllo".encode("cp1252"))
    'cp1252'
    >>> detect_encoding("\\ufeffhi".encode("utf-8"))
    'utf-8-sig'
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is still UTF-8.
        if exc.start >= len(raw) - 3:
            return "utf-8"
        return "cp1252"


def _sniff_delimiter(sample: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    first_lines = "\n".join(sample.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(first_lines, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(path: str | Path) -> tuple[pd.DataFrame, str | None]:
    """Read one tabular file as text columns; returns the frame and the encoding used (None for binary formats)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path, fix="check the path, or run `feedback sample --out DIR` for example data")
    suffix = path.suffix.lower()
    if suffix in EMAIL_SUFFIXES or path.is_dir():
        return read_email(path), None
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path), None
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise InputError(f"cannot read Parquet ({exc})", path=path, fix="check that the file is a complete Parquet file") from None
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError("file is empty", path=path, fix="export the data again; the file has no header and no rows")
    encoding = detect_encoding(head)
    try:
        if suffix in (".jsonl", ".ndjson") or (suffix == ".json" and head.lstrip()[:1] == b"{"):
            frame = pd.read_json(path, lines=True, dtype=False, encoding=encoding)
        elif suffix == ".json":
            frame = pd.read_json(path, dtype=False, encoding=encoding)
        else:
            sep = _sniff_delimiter(head.decode(encoding, errors="replace"), path)
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding,
                                encoding_errors="replace", on_bad_lines="error")
    except pd.errors.ParserError as exc:
        raise InputError(f"cannot parse as a table ({exc})", path=path,
                         fix="check the quoting of that line, or save the file again as CSV (UTF-8)") from None
    except ValueError as exc:
        raise InputError(f"cannot parse as JSON ({exc})", path=path,
                         fix="use JSON Lines (one object per line) or a JSON array of objects") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, encoding


def _stable_pseudonym(address: str) -> str:
    """A stable customer id for an e-mail address that does not reveal it."""
    return "E" + hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:12]


def _email_body(message: email.message.EmailMessage) -> tuple[str, int]:
    """Plain-text body of a message (HTML converted later by the cleaner) and the number of attachments."""
    attachments = 0
    plain, html = None, None
    for part in message.walk() if message.is_multipart() else [message]:
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            attachments += 1
            continue
        ctype = part.get_content_type()
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            content = part.get_payload(decode=True).decode("utf-8", errors="replace")
        if ctype == "text/plain" and plain is None:
            plain = content
        elif ctype == "text/html" and html is None:
            html = content
    return (plain if plain is not None else html or ""), attachments


def read_email(path: str | Path) -> pd.DataFrame:
    """Read a .eml file, a folder of .eml files or an .mbox file: one row per message."""
    path = Path(path)
    if path.is_dir():
        messages = [(p, email.message_from_bytes(p.read_bytes(), policy=email.policy.default))
                    for p in sorted(path.glob("*.eml"))]
    elif path.suffix.lower() == ".mbox":
        box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default))
        messages = [(path, m) for m in box]
    else:
        messages = [(path, email.message_from_bytes(path.read_bytes(), policy=email.policy.default))]
    rows = []
    for index, (source, msg) in enumerate(messages):
        body, attachments = _email_body(msg)
        sender = email.utils.parseaddr(str(msg.get("From", "")))[1]
        try:
            created = parsedate_to_datetime(str(msg["Date"])).astimezone(None).replace(tzinfo=None) if msg["Date"] else None
        except (TypeError, ValueError):
            created = None
        refs = str(msg.get("References", "")).split()
        thread = refs[0] if refs else str(msg.get("In-Reply-To") or msg.get("Message-ID") or "")
        rows.append({
            "feedback_id": str(msg.get("Message-ID") or f"{source.name}#{index + 1}").strip("<>"),
            "customer_id": _stable_pseudonym(sender) if sender else "",
            "created_at": created,
            "channel": "email",
            "subject": str(msg.get("Subject", "")),
            "text": body,
            "thread_id": thread.strip("<>"),
            "attachments": attachments,
        })
    return pd.DataFrame(rows, columns=["feedback_id", "customer_id", "created_at", "channel", "subject", "text",
                                       "thread_id", "attachments"])


# --------------------------------------------------------------------------------------------- columns

def _apply_mapping(frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    renames = {source: standard for standard, source in mapping.items() if source in frame.columns}
    return frame.rename(columns=renames)


def _longest_text_column(frame: pd.DataFrame) -> list[str]:
    """The column whose values are longest on average: in a feedback export, almost always the message."""
    sample = frame.head(200)
    lengths = {c: sample[c].astype(str).str.len().mean() for c in sample.columns}
    best = max(lengths, key=lengths.get, default=None)
    return [best] if best is not None and lengths[best] >= 10 else []


def require_columns(frame: pd.DataFrame, required: tuple[str, ...], path: Path | str, option_hint: str = "") -> None:
    """Raise an error naming the missing column, the columns found and the closest match."""
    for name in required:
        if name in frame.columns:
            continue
        found = ", ".join(repr(c) for c in list(frame.columns)[:12])
        close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1, cutoff=0.5)
        if not close:
            close = [c for c in frame.columns if name.replace("_", "") in str(c).lower().replace("_", "").replace(" ", "")][:1]
        if not close and name == "text":
            close = _longest_text_column(frame)
        if close and option_hint:
            fix = f"did you mean {option_hint} {close[0]!r}?"
        elif close:
            fix = f"did you mean {close[0]!r}? Map it in the config file: [columns] {name} = {close[0]!r}"
        else:
            fix = f"add a column {name!r}, or map one in the config file: [columns] {name} = \"Your column\""
        raise InputError(f"no column {name!r}; found {found}", path=path, column=name, fix=fix)


def _parse_dates(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values.replace("", None), errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_convert(None)


def _parse_scores(frame: pd.DataFrame, name: str, issues: pd.Series) -> pd.Series:
    raw = frame[name]
    text = raw.astype(str).str.strip()
    blank = raw.isna() | text.isin(["", "nan", "None", "NaN", "NA", "N/A"])
    numbers = pd.to_numeric(text.where(~blank), errors="coerce")
    low, high = SCORE_RANGES[name]
    bad = ~blank & (numbers.isna() | (numbers < low) | (numbers > high))
    issues[bad & (issues == "")] = f"bad_{name}"
    return numbers.where(~bad)


# --------------------------------------------------------------------------------------------- tables

def prepare_feedback(frame: pd.DataFrame, path: Path | str = "<data>", config: Config | None = None,
                     text_column: str | None = None, id_column: str | None = None) -> pd.DataFrame:
    """Turn a raw feedback export into the standard feedback table; every input row is kept.

    Missing optional columns are added empty; rows with empty text, a bad date or an out-of-range score are
    flagged in ``quality_issue`` (the first reason found) instead of being dropped.
    """
    config = config or Config()
    mapping = dict(config.columns)
    if text_column:
        mapping["text"] = text_column
    if id_column:
        mapping["feedback_id"] = id_column
    frame = _apply_mapping(frame.copy(), mapping)
    require_columns(frame, ("text",), path, option_hint="--text-column")
    if id_column and "feedback_id" not in frame.columns:
        require_columns(frame, ("feedback_id",), path, option_hint="--id-column")

    n = len(frame)
    issues = pd.Series([""] * n, index=frame.index, dtype=object)
    text = frame["text"].astype(object).where(frame["text"].notna(), "").astype(str)
    frame["text"] = text
    if "feedback_id" not in frame.columns:
        frame["feedback_id"] = [f"row{i + 1}" for i in range(n)]
    frame["feedback_id"] = frame["feedback_id"].astype(str)
    if "customer_id" not in frame.columns:
        # Without a customer column each row stands for its own (anonymous) customer.
        frame["customer_id"] = "anon-" + frame["feedback_id"]
    frame["customer_id"] = frame["customer_id"].astype(str)
    if "created_at" in frame.columns:
        created = _parse_dates(frame["created_at"])
        issues[created.isna() & (frame["created_at"].astype(str).str.strip() != "")] = "bad_date"
        issues[created.isna() & (issues == "")] = "missing_date"
        frame["created_at"] = created
    else:
        frame["created_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if "channel" not in frame.columns:
        frame["channel"] = "unknown"
    frame["channel"] = frame["channel"].astype(str).str.strip().str.lower().replace("", "unknown")
    for name in ("csat", "nps", "ces"):
        if name in frame.columns:
            frame[name] = _parse_scores(frame, name, issues)
        else:
            frame[name] = np.nan
    for name in ("ticket_id", "subject"):
        if name not in frame.columns:
            frame[name] = ""
        frame[name] = frame[name].astype(object).where(frame[name].notna(), "").astype(str)
    issues[(frame["text"].str.strip() == "") & (issues == "")] = "empty_text"
    frame["quality_issue"] = issues
    return frame


def prepare_customers(frame: pd.DataFrame, path: Path | str, config: Config | None = None) -> pd.DataFrame:
    """Standard customers table: ids as text, dates parsed, churned as bool, money as float."""
    config = config or Config()
    frame = _apply_mapping(frame.copy(), config.columns)
    require_columns(frame, ("customer_id",), path)
    frame["customer_id"] = frame["customer_id"].astype(str)
    for name in ("segment", "plan"):
        if name not in frame.columns:
            frame[name] = "all"
        frame[name] = frame[name].astype(str).replace("", "unknown")
    for name in ("signup_date", "churn_date"):
        frame[name] = _parse_dates(frame[name]) if name in frame.columns else pd.NaT
    if "churned" in frame.columns:
        frame["churned"] = _parse_bool(frame["churned"], path)
    else:
        frame["churned"] = frame["churn_date"].notna()
    for name in ("monthly_revenue", "acquisition_cost"):
        if name in frame.columns:
            frame[name] = pd.to_numeric(frame[name].replace("", None), errors="coerce")
        else:
            frame[name] = np.nan
    return frame


TRUE_WORDS = {"true", "yes", "y", "1", "t", "churned"}
FALSE_WORDS = {"false", "no", "n", "0", "f", "", "active"}


def _parse_bool(values: pd.Series, path: Path | str) -> pd.Series:
    words = values.astype(str).str.strip().str.lower()
    bad = ~words.isin(TRUE_WORDS | FALSE_WORDS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("not a yes/no value", path=path, row=row + 2, column="churned", value=values.iloc[row],
                         fix="use true/false, yes/no or 1/0")
    return words.isin(TRUE_WORDS)


def prepare_tickets(frame: pd.DataFrame, path: Path | str, config: Config | None = None) -> pd.DataFrame:
    """Standard tickets table: timestamps parsed, durations and contact counts numeric."""
    config = config or Config()
    frame = _apply_mapping(frame.copy(), config.columns)
    require_columns(frame, ("ticket_id",), path)
    frame["ticket_id"] = frame["ticket_id"].astype(str)
    for name in ("opened_at", "first_response_at", "resolved_at"):
        frame[name] = _parse_dates(frame[name]) if name in frame.columns else pd.NaT
    for name in ("handle_time_minutes", "contacts_to_resolve"):
        frame[name] = pd.to_numeric(frame[name].replace("", None), errors="coerce") if name in frame.columns else np.nan
    for name in ("customer_id", "channel"):
        if name not in frame.columns:
            frame[name] = ""
        frame[name] = frame[name].astype(str)
    return frame


def load_feedback(path: str | Path, config: Config | None = None, text_column: str | None = None,
                  id_column: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Read and standardise one feedback file; returns the table and the encoding used."""
    raw, encoding = read_table(path)
    return prepare_feedback(raw, path, config, text_column=text_column, id_column=id_column), encoding


def load_dataset(data: str | Path, config: Config | None = None) -> Dataset:
    """Load a data folder (``feedback.csv`` plus optional ``customers.csv``/``tickets.csv``) or one feedback file.

    Files may be any supported format: ``feedback.jsonl`` or ``feedback.parquet`` are found too.
    Feedback outside ``config.since``/``config.until`` is left out of the analysis and counted.
    """
    config = config or Config()
    data = Path(data)
    if not data.exists():
        raise InputError("no such file or folder", path=data,
                         fix="pass a folder holding feedback.csv, or one feedback file")
    sources: dict[str, Path] = {}
    if data.is_dir():
        for table in ("feedback", "customers", "tickets"):
            found = sorted(p for p in data.iterdir() if p.stem == table and p.suffix.lower() in TABLE_SUFFIXES)
            if found:
                sources[table] = found[0]
        if "feedback" not in sources:
            emails = sorted(p for p in data.iterdir() if p.suffix.lower() in EMAIL_SUFFIXES)
            if emails:
                sources["feedback"] = emails[0] if len(emails) == 1 or emails[0].suffix == ".mbox" else data
            else:
                listed = ", ".join(sorted(p.name for p in data.iterdir())[:10]) or "nothing"
                raise InputError(f"no feedback.csv (or .jsonl/.parquet/.mbox) in the folder; found {listed}",
                                 path=data, fix="name the feedback export feedback.csv, or pass the file itself")
    else:
        sources["feedback"] = data
    feedback, encoding = load_feedback(sources["feedback"], config)
    dataset = Dataset(feedback=feedback, sources=sources, rows_read={"feedback": len(feedback)},
                      encodings={"feedback": encoding})
    if "customers" in sources:
        raw, enc = read_table(sources["customers"])
        dataset.customers = prepare_customers(raw, sources["customers"], config)
        dataset.rows_read["customers"], dataset.encodings["customers"] = len(raw), enc
    if "tickets" in sources:
        raw, enc = read_table(sources["tickets"])
        dataset.tickets = prepare_tickets(raw, sources["tickets"], config)
        dataset.rows_read["tickets"], dataset.encodings["tickets"] = len(raw), enc
    _apply_date_window(dataset, config)
    return dataset


def _apply_date_window(dataset: Dataset, config: Config) -> None:
    created = dataset.feedback["created_at"]
    issues = dataset.feedback["quality_issue"]
    for bound, outside in ((config.since, lambda t, b: t < b), (config.until, lambda t, b: t >= b + pd.Timedelta(days=1))):
        if bound is None:
            continue
        try:
            stamp = pd.Timestamp(bound)
        except ValueError:
            raise InputError(f"not a date: {bound!r}", fix="use YYYY-MM-DD for --since and --until") from None
        mask = outside(created, stamp) & (issues == "")
        issues[mask] = "outside_period"
    dataset.feedback["quality_issue"] = issues
