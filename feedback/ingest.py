"""Ingest: read feedback, customer and ticket exports into the standard tables, losing no row.

Readers accept CSV/TSV (delimiter sniffed, quoted multi-line fields, BOM, UTF-16, cp1252), JSON Lines, JSON
arrays, Parquet, Excel ``.xlsx`` (optional extra ``feedback[excel]``) and e-mail (.eml files, folders of them,
.mbox). Text is decoded strictly where possible, a stray cp1252 byte in a UTF-8 file is decoded as cp1252
rather than lost, and mojibake (UTF-8 read as cp1252, "CafÃ©") is repaired with ``ftfy``; the encoding used is
reported.

Columns are renamed through ``Config.columns`` (the user's mapping always wins), then through a preset
(``feedback.presets``: Zendesk, Typeform, SurveyMonkey, NPS survey) chosen by name or detected from the
headers; a file with neither a ``text`` column nor a preset has its columns found from the values
(:mod:`feedback.columns`). Unknown columns pass through; ``keep_input`` keeps every input column as read, for
``feedback analyze`` to give back. Rows that cannot be used are kept and flagged in ``quality_issue``;
``strict=True`` turns the first bad row into an :class:`~feedback.errors.InputError` instead. Large CSV and
JSON Lines files can be read in chunks with :func:`iter_feedback_chunks`.

Row numbers in errors count records, not physical lines: in CSV and Excel files the header is row 1 and the
first data row is row 2; in JSON Lines and JSON arrays the first record is row 1; in mail the first message is 1.
A blank line in a CSV file is a record (an empty answer in a one-column export): it is kept and flagged
``empty_text``, never skipped, so rows in always equal rows out.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import email
import email.policy
import hashlib
import io
import json
import mailbox
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .config import Config
from .columns import FoundColumns, day_month_ambiguous, find_columns, find_date_format, swap_day_month
from .errors import InputError, InputWarning
from .presets import PRESETS, detect_preset, get_preset, preset_mapping
from .schema import FEEDBACK_OPTIONAL, FEEDBACK_REQUIRED, INPUT_PREFIX, SCORE_RANGES

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".xlsx"}
EMAIL_SUFFIXES = {".eml", ".mbox"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
#: bytes read to guess the encoding and the delimiter
SNIFF_BYTES = 64 * 1024
#: records of the sniff window parsed per candidate delimiter
SNIFF_RECORDS = 50
#: candidate delimiters, in order of preference when several fit
DELIMITERS = (",", "\t", ";", "|")
#: the separator used for a one-column file (ASCII "unit separator"; never found in text), so commas stay text
ONE_COLUMN_SEP = "\x1f"
#: rows per chunk of :func:`iter_feedback_chunks` (about 50 MB of frame for short texts)
DEFAULT_CHUNKSIZE = 100_000
#: codec error handler: an undecodable byte in a UTF-8 file is read as cp1252 (Windows tools mix the two)
CP1252_FALLBACK = "feedback-cp1252-fallback"
#: ingest quality issues that ``strict=True`` turns into errors, with the fix each one needs
STRICT_FIXES = {
    "bad_date": "write the date as YYYY-MM-DD or YYYY-MM-DD HH:MM, or leave the cell empty",
    "missing_date": "fill in the date, or run without --strict to keep the row with no date",
    "empty_text": "fill in the text or delete the row, or run without --strict to keep it flagged",
}
STRICT_FIXES.update(
    {
        f"bad_{name}": f"use a number from {low} to {high}, or leave the cell empty"
        for name, (low, high) in SCORE_RANGES.items()
    }
)
#: what each ingest issue means, for error messages
ISSUE_MESSAGES = {"bad_date": "not a date", "missing_date": "no date", "empty_text": "empty text"}
ISSUE_MESSAGES.update(
    {
        f"bad_{name}": f"{name.upper()} score not a number from {low} to {high}"
        for name, (low, high) in SCORE_RANGES.items()
    }
)


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return bytes(bad).decode("cp1252", errors="replace"), exc.end


codecs.register_error(CP1252_FALLBACK, _cp1252_fallback)


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
    #: rows whose text was repaired from mojibake, per table
    repaired: dict = field(default_factory=dict)
    #: preset used per table (None when no preset applied)
    presets: dict = field(default_factory=dict)

    @property
    def quality(self) -> dict[str, int]:
        """Count of feedback rows per quality issue (a row may be flagged for one reason, the first found)."""
        issues = self.feedback.get("quality_issue")
        if issues is None:
            return {}
        counts = issues[issues != ""].value_counts()
        return {str(k): int(v) for k, v in sorted(counts.items())}


# --------------------------------------------------------------------------------------------- encodings


def detect_encoding(raw: bytes) -> str:
    """Pick the text encoding of a file's first bytes: BOMs first, then UTF-16 without BOM, UTF-8, else cp1252.

    >>> detect_encoding("héllo".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("héllo".encode("cp1252"))
    'cp1252'
    >>> detect_encoding("\\ufeffhi".encode("utf-8"))
    'utf-8-sig'
    >>> detect_encoding("text,id".encode("utf-16-le"))
    'utf-16-le'
    >>> detect_encoding("déjà ".encode("utf-8") + "vu é".encode("cp1252"))  # mixed: UTF-8, cp1252 bytes kept
    'utf-8'
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = raw[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 4:
        # ASCII text in UTF-16 has a zero byte in every other position; which side tells the byte order.
        odd, even = sample[1::2].count(b"\x00"), sample[0::2].count(b"\x00")
        if odd > 3 * max(even, 1):
            return "utf-16-le"
        if even > 3 * max(odd, 1):
            return "utf-16-be"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is still UTF-8.
        if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    # Valid multi-byte UTF-8 next to invalid bytes: a UTF-8 file with a few cp1252 bytes pasted in. It is read as
    # UTF-8 with the cp1252 fallback handler, which keeps both; a pure cp1252 file has no such sequences.
    return "utf-8" if _UTF8_MULTIBYTE.search(raw) else "cp1252"


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


#: control bytes that text does not use: C0 controls other than tab, line feed, form feed and carriage return; DEL
_CONTROL_BYTES = bytes(c for c in range(32) if c not in b"\t\n\f\r") + b"\x7f"


def looks_binary(head: bytes) -> bool:
    r"""True for a file's first bytes when they are not text: a NUL byte that UTF-16 does not explain, among
    control bytes (about 11% of random or compressed data; a text export with one stray NUL is still text).

    Read as text, such a file gives a table of mojibake column names, or a parse error about quoting.

    >>> looks_binary(b"text\nhello\n"), looks_binary("text\nhi\n".encode("utf-16")), looks_binary(b"\x7fELF\x00\x01")
    (False, False, True)
    >>> looks_binary(b"id,text\n1,a cell with a stray NUL\x00 from a broken export\n")
    False
    """
    head = head[:8192]
    if b"\x00" not in head or detect_encoding(head).startswith("utf-16"):
        return False
    return len(head) - len(head.translate(None, _CONTROL_BYTES)) > 0.05 * len(head)


def _refuse_binary(path: Path, head: bytes) -> None:
    if looks_binary(head):
        raise InputError(
            "a binary file, not a text table",
            path=path,
            fix="export the data as CSV (UTF-8), JSON Lines, Parquet or .xlsx, named with the suffix of its format",
        )


def _decode_errors(encoding: str) -> str:
    """The codec error handler for an encoding: UTF-8 falls back to cp1252 byte by byte; others replace."""
    return CP1252_FALLBACK if encoding in ("utf-8", "utf-8-sig") else "replace"


#: a UTF-8 lead byte read as cp1252/latin-1 followed by a continuation byte read the same way: likely mojibake
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def repair_mojibake(values: pd.Series) -> tuple[pd.Series, int]:
    """Repair UTF-8 text that was decoded as cp1252 somewhere upstream ("CafÃ©" → "Café"); count the rows fixed.

    Only cells with a mojibake-looking pair are given to ``ftfy.fix_encoding``, which changes nothing else
    (quotes, ligatures and width are left as written).

    >>> fixed, n = repair_mojibake(pd.Series(["CafÃ© â€” ok", "naïve “quotes”"]))
    >>> fixed.tolist(), n
    (['Café — ok', 'naïve “quotes”'], 1)
    """
    import ftfy

    text = values.astype(object).where(values.notna(), "").astype(str)
    suspect = text.str.contains(_MOJIBAKE_HINT, regex=True)
    if not suspect.any():
        return values, 0
    fixed = text[suspect].map(ftfy.fix_encoding)
    changed = fixed != text[suspect]
    out = values.astype(object).copy()
    out[fixed.index] = fixed
    return out, int(changed.sum())


# --------------------------------------------------------------------------------------------- CSV options


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        base, n = name, seen.get(name, 0)
        while name in seen:
            n += 1
            name = f"{base}.{n}"
        seen[base] = n
        seen[name] = 0
        out.append(name)
    return out


def sniff_delimiter(sample: str, truncated: bool = False) -> str:
    """The delimiter that splits the first records into the same number (> 1) of fields.

    Quoted fields are honoured, so a comma inside quotes does not count. When no delimiter splits the header,
    the file has one column and :data:`ONE_COLUMN_SEP` is returned (commas in the text stay text).

    >>> sniff_delimiter('text;score\\n"a, b";3\\nc;4\\n')
    ';'
    >>> sniff_delimiter("text\\nhello, world\\n") == ONE_COLUMN_SEP
    True
    """
    best, best_fields, header_splits = None, 1, False
    for delimiter in DELIMITERS:
        try:
            records = []
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if record:
                    records.append(len(record))
                if len(records) > SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if truncated and len(records) > 1:
            records = records[:-1]
        if not records:
            continue
        header_splits = header_splits or records[0] > 1
        if len(set(records)) == 1 and records[0] > best_fields:
            best, best_fields = delimiter, records[0]
    if best is not None:
        return best
    return "," if header_splits else ONE_COLUMN_SEP


def _csv_options(path: Path, head: bytes) -> dict:
    encoding = detect_encoding(head)
    if path.suffix.lower() == ".tsv":
        sep = "\t"
    else:
        sample = head.decode(encoding, errors=_decode_errors(encoding))
        sep = sniff_delimiter(sample, truncated=len(head) >= SNIFF_BYTES)
    return {
        "sep": sep,
        "encoding": encoding,
        "encoding_errors": _decode_errors(encoding),
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
        "on_bad_lines": "error",
        # a blank or whitespace-only line is a record (an empty answer), kept and flagged, never skipped
        "skip_blank_lines": False,
    }


def _parser_error(exc: Exception, path: Path) -> InputError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    row = None
    found = re.search(r"line (\d+)", message)
    if found:
        row = int(found.group(1))
    return InputError(
        f"cannot parse as a table ({message})",
        path=path,
        row=row,
        fix="check the quoting of that row (a field holding the delimiter or a line break must be in "
        "double quotes), or save the file again as CSV (UTF-8)",
    )


def _check_columns(frame: pd.DataFrame, path: Path, row_offset: int = 0) -> pd.DataFrame:
    """Reject rows pandas would silently shift, and give columns clean unique names."""
    if not isinstance(frame.index, pd.RangeIndex):
        # Every data row had one field more than the header: pandas would turn the first into an index.
        raise InputError(
            "the data rows have more fields than the header",
            path=path,
            row=row_offset + 2,
            fix="add the missing column name to the header, or quote fields that contain the delimiter",
        )
    frame.columns = _dedupe([str(c).strip() for c in frame.columns])
    return frame


# --------------------------------------------------------------------------------------------- JSON


def _json_records(items: list, path: Path, first_row: int = 1) -> pd.DataFrame:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(
                "not a JSON object",
                path=path,
                row=first_row + i,
                value=json.dumps(item)[:60],
                fix='each record must be an object such as {"text": "..."}',
            )
    rows = [
        {
            str(k): (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else ("" if v is None else v))
            for k, v in item.items()
        }
        for item in items
    ]
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    if rows and not len(frame.columns):  # records without keys are still records
        frame = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    frame.columns = _dedupe([str(c).strip() for c in frame.columns])
    return frame.astype(object).where(frame.notna(), "") if len(frame.columns) else frame


def _iter_jsonl(path: Path, encoding: str, chunksize: int) -> Iterator[tuple[pd.DataFrame, int]]:
    """JSON Lines in chunks of records; yields (frame, number of the chunk's first record)."""
    items, first, number = [], 1, 0
    with open(path, encoding=encoding, errors=_decode_errors(encoding), newline="") as fh:
        for line in fh:
            if not line.strip():
                continue
            number += 1
            try:
                items.append(json.loads(line))
            except (ValueError, RecursionError) as exc:
                raise InputError(
                    f"not valid JSON ({exc})",
                    path=path,
                    row=number,
                    fix="each line must be one JSON object; check quotes and commas",
                ) from None
            if len(items) == chunksize:
                yield _json_records(items, path, first), first
                items, first = [], number + 1
    if first == 1 and not items:
        raise InputError("no JSON records in the file", path=path, fix="write one JSON object per line")
    if items:
        yield _json_records(items, path, first), first


def _read_json(path: Path, encoding: str) -> pd.DataFrame:
    try:
        with open(path, encoding=encoding, errors=_decode_errors(encoding)) as fh:
            data = json.load(fh)
    except (ValueError, RecursionError) as exc:
        raise InputError(
            f"cannot parse as JSON ({exc})",
            path=path,
            fix="use JSON Lines (one object per line) or a JSON array of objects",
        ) from None
    if isinstance(data, dict):
        # {"records": [...]} or {"data": [...]}: the one list of objects inside
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else [data]
    if not isinstance(data, list):
        raise InputError(
            "JSON is not a list of records",
            path=path,
            value=json.dumps(data)[:60],
            fix="use a JSON array of objects, or JSON Lines (one object per line)",
        )
    return _json_records(data, path)


# --------------------------------------------------------------------------------------------- reading files


def _read_excel(path: Path) -> pd.DataFrame:
    try:
        import openpyxl  # noqa: F401  (pandas needs it for .xlsx)
    except ImportError:
        raise InputError(
            "reading .xlsx needs the optional Excel support",
            path=path,
            fix="install it with: pip install 'feedback[excel]' (adds openpyxl), or save the sheet as CSV",
        ) from None
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, na_filter=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError... for a broken workbook
        raise InputError(
            f"cannot read the Excel workbook ({type(exc).__name__}: {exc})",
            path=path,
            fix="open it in Excel and save it again as .xlsx, or save the first sheet as CSV",
        ) from None
    frame.columns = _dedupe([str(c).strip() for c in frame.columns])
    return frame


def read_table(path: str | Path) -> tuple[pd.DataFrame, str | None]:
    """Read one tabular file as text columns; returns the frame and the encoding used (None for binary formats).

    Mojibake is not repaired here (see :func:`repair_mojibake`, applied to text columns by ``prepare_feedback``).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            "file not found", path=path, fix="check the path, or run `feedback sample --out DIR` for example data"
        )
    suffix = path.suffix.lower()
    if suffix in EMAIL_SUFFIXES or path.is_dir():
        return read_email(path), None
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise InputError(
                f"cannot read Parquet ({exc})", path=path, fix="check that the file is a complete Parquet file"
            ) from None
        frame.columns = _dedupe([str(c).strip() for c in frame.columns])
        return frame, None
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path), None
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError("file is empty", path=path, fix="export the data again; the file has no header and no rows")
    _refuse_binary(path, head)
    encoding = detect_encoding(head)
    if suffix in JSONL_SUFFIXES or (suffix == ".json" and head.lstrip()[:1] == b"{" and b"\n{" in head):
        frames = [chunk for chunk, _ in _iter_jsonl(path, encoding, chunksize=10**12)]
        return frames[0], encoding
    if suffix == ".json":
        return _read_json(path, encoding), encoding
    options = _csv_options(path, head)
    try:
        frame = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError:
        raise InputError(
            "file has no header row", path=path, fix="export the data again with column names in the first row"
        ) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise _parser_error(exc, path) from None
    return _check_columns(frame, path), encoding


def _stable_pseudonym(address: str) -> str:
    """A stable customer id for an e-mail address that does not show it (the first 12 hex digits of its SHA-256).

    >>> _stable_pseudonym("Ann@Example.com ") == _stable_pseudonym("ann@example.com")
    True
    """
    return "E" + hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:12]


_ADDRESS = re.compile(r"^\s*[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*$")


def pseudonymize_addresses(ids: pd.Series) -> pd.Series:
    """Customer ids that are e-mail addresses become the same stable pseudonyms mail senders get.

    >>> pseudonymize_addresses(pd.Series(["C1", "Ann@example.com"])).tolist()[1] == _stable_pseudonym("ann@example.com")
    True
    """
    looks = ids.str.match(_ADDRESS)
    if not looks.any():
        return ids
    return ids.where(~looks, ids[looks].map(_stable_pseudonym))


def _part_text(part: email.message.Message) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError, AttributeError, TypeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            return payload.decode("utf-8", errors=CP1252_FALLBACK)


def _email_body(message: email.message.EmailMessage) -> tuple[str, int]:
    """Plain-text body of a message (else its HTML, converted by the caller) and the number of attachments.

    An attachment is any part marked ``attachment``, or any non-text part with a file name (inline images).
    """
    attachments = 0
    plain, html = None, None
    for part in message.walk() if message.is_multipart() else [message]:
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        if disposition == "attachment" or (part.get_filename() and not ctype.startswith("text/")):
            attachments += 1
            continue
        if ctype == "text/plain" and plain is None:
            plain = _part_text(part)
        elif ctype == "text/html" and html is None:
            html = _part_text(part)
    return (plain if plain is not None else html or ""), attachments


def _email_date(value: str | None) -> object:
    """A UTC, tz-naive timestamp; the raw header when it cannot be parsed (flagged bad_date later)."""
    if not value:
        return ""
    try:
        stamp = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return value
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return pd.Timestamp(stamp)


def _messages(path: Path) -> Iterator[tuple[str, email.message.Message]]:
    parse = lambda raw: email.message_from_bytes(raw, policy=email.policy.default)  # noqa: E731
    if path.is_dir():
        for item in sorted(p for p in path.iterdir() if p.suffix.lower() in EMAIL_SUFFIXES):
            yield from _messages(item)
    elif path.suffix.lower() == ".mbox":
        box = mailbox.mbox(path, factory=None, create=False)
        for key in box.iterkeys():
            yield path.name, parse(box.get_bytes(key))
    else:
        yield path.name, parse(path.read_bytes())


#: a block of lines that ends this many messages of one source, sent by at least two different senders, is the
#: source's boilerplate (a mailing list's footer, a gateway's notice), not anyone's words: a footer ends every
#: message of its list, while a customer resending the same text is one sender
RECURRING_MIN_MESSAGES = 3
#: ... and ends at least this share of the source's messages, so a phrase a few customers happen to end with does
#: not count in a large mailbox; a list whose messages are a fifth of a mailbox still has its footer found
RECURRING_MIN_SHARE = 0.2
#: a single recurring last line ("Thanks!", "Any ideas?") is more often a habit than boilerplate: it counts only when
#: it ends at least this share of the messages
RECURRING_LINE_MIN_SHARE = 0.5
#: footers are a few lines; only this many last non-blank lines of each message are compared
RECURRING_BLOCK_MAX_LINES = 15
#: parts of a footer line that change from message to message (a link to the message, its number, an address)
_LINK_OR_ADDRESS = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\d+")


def _boilerplate_key(line: str) -> str:
    """A line as footers are compared: case, spacing, links, addresses and numbers folded."""
    line = line.casefold()
    if "@" in line or "://" in line:
        line = _LINK_OR_ADDRESS.sub("0", line)
    return " ".join(_NUMBER.sub("0", line).split())


def strip_recurring_blocks(texts: list[str], senders: list[str]) -> list[str]:
    """The texts without the block of last lines that recurs at the end of many of them (see RECURRING_MIN_MESSAGES).

    Only the messages of one source are compared, so each is read beside its list's other messages. A block is
    cut only where text stays above it, and only when that text differs between the messages; links, numbers and
    addresses in the block may differ.

    >>> footer = "\\n--\\nLedgerly Community\\nSettings: https://community.example/u/{}"
    >>> texts = [f"Message {n}." + footer.format(n) for n in range(3)] + ["Thanks!"]
    >>> strip_recurring_blocks(texts, ["a@x.example", "b@x.example", "a@x.example", "c@x.example"])
    ['Message 0.', 'Message 1.', 'Message 2.', 'Thanks!']
    """
    if len(senders) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(senders)} senders")
    lines_of = [text.split("\n") for text in texts]
    content_of = [[i for i, line in enumerate(lines) if line.strip()] for lines in lines_of]
    # a block must leave a line above it, and is at most RECURRING_BLOCK_MAX_LINES long
    largest = [min(RECURRING_BLOCK_MAX_LINES, len(content) - 1) for content in content_of]
    last_keys: list[list[str]] = [[] for _ in texts]  # each message's compared last lines, the last first

    def block(index: int, size: int) -> tuple[str, ...]:
        keys = last_keys[index]
        while len(keys) < size:
            keys.append(_boilerplate_key(lines_of[index][content_of[index][-len(keys) - 1]]))
        return tuple(keys[:size])

    # each block that ends enough messages: those messages, their senders, and the line above it in each (their
    # own last words). A block of n lines can recur only where its last n-1 lines do, so each size looks only at
    # the messages the size before kept: customers' own last lines drop out at once
    stats: dict[tuple[str, ...], tuple[set[int], set[str], set[str]]] = {}
    active = list(range(len(texts)))
    for size in range(1, RECURRING_BLOCK_MAX_LINES + 1):
        active = [i for i in active if largest[i] >= size]
        counts = Counter(block(i, size) for i in active)
        active = [i for i in active if counts[block(i, size)] >= RECURRING_MIN_MESSAGES]
        for i in active:
            messages, block_senders, above = stats.setdefault(block(i, size), (set(), set(), set()))
            messages.add(i)
            block_senders.add(senders[i])
            above.add(lines_of[i][content_of[i][-size - 1]].strip())

    def recurs(found: tuple[set[int], set[str], set[str]], size: int) -> bool:
        messages, block_senders, above = found
        share = RECURRING_LINE_MIN_SHARE if size == 1 else RECURRING_MIN_SHARE
        # the same text above it in every message is one message copied (a template, a petition), not a footer
        return (
            len(messages) >= RECURRING_MIN_MESSAGES
            and len(block_senders) >= 2
            and len(above) >= 2
            and len(messages) >= share * len(texts)
        )

    out = []
    for index, text in enumerate(texts):
        sizes = [
            size
            for size in range(1, len(last_keys[index]) + 1)
            if (found := stats.get(block(index, size))) and recurs(found, size)
        ]
        out.append("\n".join(lines_of[index][: content_of[index][-max(sizes)]]).rstrip() if sizes else text)
    return out


EMAIL_COLUMNS = ["feedback_id", "customer_id", "created_at", "channel", "subject", "text", "thread_id", "attachments"]


def read_email(path: str | Path, address_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a .eml file, a folder of .eml/.mbox files or an .mbox file: one row per message.

    ``text`` is the body as plain text (HTML converted; quotes and signatures are cut later by the cleaner,
    which keeps them in ``removed_text``), without a block of last lines that recurs across the messages read
    (a mailing list's footer: :func:`strip_recurring_blocks`). ``customer_id`` is ``address_map[sender]`` when given
    (keys are lower-case addresses), else a stable pseudonym of the sender address. ``thread_id`` is the first
    Message-ID in References, else In-Reply-To, else the message's own Message-ID.
    """
    from .clean import html_to_text

    path = Path(path)
    address_map = {k.strip().lower(): str(v) for k, v in (address_map or {}).items()}
    rows, senders = [], []
    for index, (source, msg) in enumerate(_messages(path)):
        body, attachments = _email_body(msg)
        sender = email.utils.parseaddr(str(msg.get("From", "") or ""))[1].strip().lower()
        own_id = str(msg.get("Message-ID", "") or "").strip().strip("<>")
        refs = re.findall(r"<([^<>]+)>", str(msg.get("References", "") or ""))
        reply_to = re.findall(r"<([^<>]+)>", str(msg.get("In-Reply-To", "") or ""))
        feedback_id = own_id or f"{source}#{index + 1}"
        rows.append(
            {
                "feedback_id": feedback_id,
                "customer_id": address_map.get(sender) or (_stable_pseudonym(sender) if sender else ""),
                "created_at": _email_date(str(msg["Date"]) if msg["Date"] else None),
                "channel": "email",
                "subject": str(msg.get("Subject", "") or ""),
                "text": html_to_text(body),
                "thread_id": (refs or reply_to or [feedback_id])[0],
                "attachments": attachments,
            }
        )
        senders.append(sender)
    for row, text in zip(rows, strip_recurring_blocks([row["text"] for row in rows], senders)):
        row["text"] = text
    return pd.DataFrame(rows, columns=EMAIL_COLUMNS)


# --------------------------------------------------------------------------------------------- columns


def _apply_mapping(frame: pd.DataFrame, mapping: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename export columns to standard names; returns the frame and {standard: original header}.

    One header may feed two standard names (a Zendesk ``Id`` is both feedback and ticket id). A column that
    already has the standard name but is not the mapped one is kept as ``NAME.original``.
    """
    renames: dict[str, str] = {}
    copies: list[tuple[str, str]] = []
    origins: dict[str, str] = {}
    for standard, source in mapping.items():
        if source not in frame.columns or standard == source:
            continue
        if source in renames:
            copies.append((standard, renames[source]))
        elif standard not in renames.values():
            renames[source] = standard
        origins[standard] = source
    clashes = {s: f"{s}.original" for s in renames.values() if s in frame.columns and s not in renames}
    frame = frame.rename(columns=clashes).rename(columns=renames)
    for standard, renamed in copies:
        if standard not in frame.columns:
            frame[standard] = frame[renamed]
    return frame, origins


def _longest_text_column(frame: pd.DataFrame) -> list[str]:
    """The column whose values are longest on average: in a feedback export, almost always the message."""
    sample = frame.head(200).astype(str)
    lengths = {
        c: sample[c].str.len().mean() for c in sample.columns if sample[c].str.contains(" ").mean() >= 0.5
    }  # words, not numbers, codes or single tokens
    best = max(lengths, key=lengths.get, default=None)
    return [best] if best is not None and lengths[best] >= 10 else []


#: header names that usually hold the message in an export, for the "did you mean" hint
TEXT_SYNONYMS = {
    "comment",
    "comments",
    "message",
    "body",
    "description",
    "feedback",
    "review",
    "verbatim",
    "response",
    "reason",
    "content",
    "answer",
    "note",
    "notes",
    "remarks",
    "details",
}
#: channel names tools use, mapped to the standard channels (others pass through lower-cased)
CHANNEL_SYNONYMS = {
    "mail": "email",
    "e-mail": "email",
    "web widget": "chat",
    "messaging": "chat",
    "live chat": "chat",
    "whatsapp": "chat",
    "twitter": "social",
    "facebook": "social",
    "instagram": "social",
    "x": "social",
}


def require_columns(frame: pd.DataFrame, required: tuple[str, ...], path: Path | str, option_hint: str = "") -> None:
    """Raise an error naming the missing column, the columns found and the closest match."""
    for name in required:
        if name in frame.columns:
            continue
        found = ", ".join(repr(c) for c in list(frame.columns)[:12]) or "no columns"
        if name == "text":  # a column of words: a header that usually holds the message, else the longest text
            close = [
                c
                for c in frame.columns
                if str(c).strip().lower() in TEXT_SYNONYMS
                and not frame[c].head(200).astype(str).str.fullmatch(r"\s*[-+]?[\d.,]*\s*").all()
            ][:1]
            close = close or _longest_text_column(frame)
        else:
            close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1, cutoff=0.5)
            close = (
                close
                or [
                    c
                    for c in frame.columns
                    if name.replace("_", "") in str(c).lower().replace("_", "").replace(" ", "")
                ][:1]
            )
        if close and option_hint:
            fix = f"did you mean {option_hint} {close[0]!r}?"
        elif close:
            fix = f"did you mean {close[0]!r}? Map it in the config file: [columns] {name} = {close[0]!r}"
        else:
            fix = f'add a column {name!r}, or map one in the config file: [columns] {name} = "Your column"'
        if name == "text":
            fix += f" Or pick a preset with --preset ({', '.join(sorted(PRESETS))})"
        raise InputError(f"no column {name!r}; found {found}", path=path, column=name, fix=fix)


def _check_named_columns(
    frame: pd.DataFrame, path: Path | str, config: Config | None, text_column: str | None, id_column: str | None
) -> None:
    """A column the user named (``--text-column``, ``--id-column``, the config's ``[columns]``) must exist."""
    named = [("--text-column", text_column), ("--id-column", id_column)]
    user = dict(config.columns) if config is not None else {}
    named += [
        (f"[columns] {std} in the config file (or --date-column/--rating-column)", user[std])
        for std in ("text", "feedback_id", "created_at", "csat", "nps", "ces")
        if std in user
    ]
    headers = [str(c) for c in frame.columns]
    for source, header in named:
        if not header or header in headers:
            continue
        found = ", ".join(repr(c) for c in headers[:12]) or "no columns"
        close = [c for c in headers if c.strip().lower() == header.strip().lower()]
        close = close or difflib.get_close_matches(header, headers, n=1, cutoff=0.6)
        fix = (
            f"did you mean {close[0]!r}? Pass it to {source}" if close else f"name one of the columns found in {source}"
        )
        raise InputError(f"no column {header!r} (named by {source}); found {found}", path=path, column=header, fix=fix)


def _parse_dates(values: pd.Series, date_format: str | None = None) -> pd.Series:
    """Dates in UTC without a zone, all read with one format: ``date_format``, else the one
    :func:`feedback.columns.find_date_format` finds in all the values (so "05/04/2018" and "24/04/2018" in one
    column are both day first), else pandas' value-by-value reading."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_convert(None) if values.dt.tz is not None else values
    cleaned = values.astype(object).where(values.notna(), None)
    cleaned = cleaned.where(cleaned.astype(str).str.strip() != "", None)
    date_format = date_format or find_date_format(cleaned.dropna())
    if date_format == "epoch":
        numbers = pd.to_numeric(cleaned, errors="coerce")
        unit = "ms" if numbers.abs().max() >= 1e11 else "s"
        return pd.to_datetime(numbers, unit=unit, errors="coerce", utc=True).dt.tz_convert(None)
    if pd.api.types.is_numeric_dtype(values):  # numbers are not dates (pandas would read them as nanoseconds)
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    parsed = pd.to_datetime(
        cleaned, errors="coerce", utc=True, format=date_format if date_format not in (None, "mixed") else "mixed"
    )
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


def _as_text(values: pd.Series) -> pd.Series:
    """Values as strings, missing as ""; a column that is already text is returned without a copy."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("") if values.hasnans else values
    return values.astype(object).where(values.notna(), "").astype(str)


def warn_if_numbers_only(texts: pd.Series, path: Path | str, column: str, option: str = "--text-column") -> None:
    """Warn (:class:`InputWarning`) when the column read as the feedback text holds only numbers: a score column
    named as the text by mistake would otherwise be analyzed as words, with neutral sentiment and no themes."""

    def filled(values: pd.Series) -> pd.Series:
        values = values.astype(str).str.strip()
        return values[values != ""]

    first = filled(texts.head(1000))
    if len(first) and pd.to_numeric(first, errors="coerce").isna().any():  # words early on: most columns stop here
        return
    every = filled(texts)
    if len(every) and pd.to_numeric(every, errors="coerce").notna().all():
        warnings.warn(
            f"{path}, column {column!r}: holds only numbers, yet it is read as the feedback text. "
            f"Fix: pass {option} with the column that holds the written comments",
            InputWarning,
            stacklevel=2,
        )


# --------------------------------------------------------------------------------------------- tables


def _choose_preset(frame: pd.DataFrame, preset: str | None, user_mapping: dict[str, str]) -> str | None:
    """The preset to apply: the one named, else one detected from the headers when the file lacks 'text'."""
    if preset:
        return get_preset(preset).name
    if "text" in frame.columns or "text" in user_mapping:
        return None
    return detect_preset(list(frame.columns))


def feedback_mapping(
    columns: list[str],
    config: Config | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    preset: str | None = None,
) -> tuple[dict[str, str], str | None]:
    """The ``{standard: header}`` mapping for a feedback file, and the preset used.

    The config's ``[columns]`` wins, then ``--text-column``/``--id-column``, then the preset (named, or
    detected from the headers when the file has no ``text`` column).

    >>> feedback_mapping(["Id", "Subject", "Requester", "Created at", "Description"])[0]["text"]
    'Description'
    >>> feedback_mapping(["Id", "Subject", "Requester", "Created at", "Description", "Notes"],
    ...                  Config(columns={"text": "Notes"}))[0]["text"]
    'Notes'
    """
    config = config or Config()
    user = dict(config.columns)
    if text_column and "text" not in user:
        user["text"] = text_column
    if id_column and "feedback_id" not in user:
        user["feedback_id"] = id_column
    frame_stub = pd.DataFrame(columns=list(columns))
    chosen = _choose_preset(frame_stub, preset, user)
    mapping = {}
    if chosen:
        taken = set(user.values())
        mapping = {k: v for k, v in preset_mapping(chosen, list(columns)).items() if k not in user and v not in taken}
    mapping.update(user)
    return mapping, chosen


def prepare_feedback(
    frame: pd.DataFrame,
    path: Path | str = "<data>",
    config: Config | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    *,
    preset: str | None = None,
    strict: bool = False,
    row_offset: int = 0,
    header_rows: int = 1,
    find: bool = True,
    found: FoundColumns | None = None,
    keep_input: bool = False,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Turn a raw feedback export into the standard feedback table; every input row is kept.

    Missing optional columns are added empty; rows with empty text, a bad date or an out-of-range score are
    flagged in ``quality_issue`` (the first reason found) instead of being dropped. ``strict=True`` raises an
    :class:`InputError` for the first flagged row instead, naming the file, the row (``row_offset`` +
    position + ``header_rows``; with a header the first data row is row 2), the column as the export names it,
    the value and the fix. Mojibake in ``text`` and ``subject`` is repaired (``frame.attrs["mojibake_repaired"]``).

    A file with no ``text`` column that no preset fits has its columns found from its values
    (:func:`feedback.columns.find_columns`, when ``find``; ``found`` reuses an earlier chunk's choice), in
    ``frame.attrs["found_columns"]``. ``keep_input`` keeps a copy of every input column, values untouched,
    as ``INPUT_PREFIX + name``, and only the standard columns beside them (what ``feedback analyze`` writes back).
    """
    mapping, chosen = feedback_mapping(list(frame.columns), config, text_column, id_column, preset)
    hints = None
    if found is None and find and not chosen:
        known = set(mapping) | {c for c in frame.columns if c in FEEDBACK_REQUIRED + FEEDBACK_OPTIONAL}
        if "text" not in known or "text" in mapping:  # the text is to be found, or the user named only the text
            found = find_columns(frame, taken=set(mapping.values()), known=known, need_text="text" not in known)
        elif "created_at" not in known:  # a file in the standard layout is read as it is, with a hint for dates
            hints = find_columns(frame, taken=set(mapping.values()), known=known - {"created_at"}, need_text=False)
    if found is not None and found.mapping:
        mapping = {**found.mapping, **mapping}
    _check_named_columns(frame, path, config, text_column, id_column)
    raw_columns = frame
    inputs = frame.set_axis([INPUT_PREFIX + str(c) for c in frame.columns], axis=1) if keep_input else None
    frame, origins = _apply_mapping(frame.copy(), mapping)
    if "text" not in frame.columns:  # named as the export names its columns, not as they were mapped
        require_columns(raw_columns, ("text",), path, option_hint="--text-column")
    if id_column and "feedback_id" not in frame.columns:
        require_columns(frame, ("feedback_id",), path, option_hint="--id-column")

    n = len(frame)
    positions = np.arange(row_offset + 1, row_offset + n + 1)
    issues = pd.Series([""] * n, index=frame.index, dtype=object)
    frame["text"], repaired = repair_mojibake(_as_text(frame["text"]))
    frame["text"] = _as_text(frame["text"])
    warn_if_numbers_only(frame["text"], path, origins.get("text", "text"))
    if "feedback_id" not in frame.columns:
        frame["feedback_id"] = [f"row{i}" for i in positions]
    frame["feedback_id"] = _as_text(frame["feedback_id"])
    if "customer_id" not in frame.columns:
        # Without a customer column each row stands for its own (anonymous) customer.
        frame["customer_id"] = "anon-" + frame["feedback_id"]
    frame["customer_id"] = pseudonymize_addresses(_as_text(frame["customer_id"]))
    if "created_at" in frame.columns:
        raw_dates = frame["created_at"]
        date_format = (config or Config()).date_format or date_format
        if date_format is None and not pd.api.types.is_datetime64_any_dtype(raw_dates):
            # the column find_columns chose was judged there already, on these same values
            chose_it = (
                found is not None
                and "created_at" in found.mapping
                and found.mapping["created_at"] == origins.get("created_at")
            )
            date_format = found.date_format if chose_it else find_date_format(raw_dates)
            if day_month_ambiguous(raw_dates, date_format):
                warnings.warn(
                    f"{path}, column {origins.get('created_at', 'created_at')!r}: every day is 12 or less, "
                    f"so the dates were read as {date_format} (e.g. {_as_text(raw_dates).iloc[0]!r}). "
                    f"Fix: if they are day first, pass --date-format {swap_day_month(date_format)}",
                    InputWarning,
                    stacklevel=2,
                )
        # a format already searched for and not found: value by value, without searching again
        created = _parse_dates(raw_dates, date_format or "mixed")
        blank = raw_dates.isna() | (_as_text(raw_dates).str.strip() == "")
        issues[created.isna() & ~blank] = "bad_date"
        issues[created.isna() & (issues == "")] = "missing_date"
        frame["created_at"] = created
    else:
        frame["created_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if "channel" not in frame.columns:
        preset_channel = PRESETS[chosen].channel if chosen else None
        frame["channel"] = preset_channel or "unknown"
    channel = _as_text(frame["channel"]).str.strip().str.lower()
    frame["channel"] = channel.map(lambda c: CHANNEL_SYNONYMS.get(c, c or "unknown"))
    for name in ("csat", "nps", "ces"):
        if name in frame.columns:
            frame[name] = _parse_scores(frame, name, issues)
        else:
            frame[name] = np.nan
    for name in ("ticket_id", "subject"):
        if name not in frame.columns:
            frame[name] = ""
        frame[name] = _as_text(frame[name])
    frame["subject"], repaired_subjects = repair_mojibake(frame["subject"])
    frame["subject"] = _as_text(frame["subject"])
    issues[(frame["text"].str.strip() == "") & (issues == "")] = "empty_text"
    _check_named_values(raw_columns, issues, origins, set((config or Config()).columns), path)
    frame["quality_issue"] = issues
    frame.attrs["mojibake_repaired"] = repaired + repaired_subjects
    frame.attrs["preset"] = chosen
    frame.attrs["date_format"] = date_format if "created_at" in origins or "created_at" in raw_columns.columns else None
    frame.attrs["id_column"] = origins.get(
        "feedback_id", "feedback_id" if "feedback_id" in raw_columns.columns else None
    )
    if found is not None and found.mapping:
        frame.attrs["found_columns"] = found
    if hints is not None and "created_at" in hints.mapping:
        frame.attrs["date_hint"] = (
            f"dates: the file has no created_at column; {hints.mapping['created_at']!r} holds "
            f"{hints.reasons['created_at']}. To use it: --date-column "
            f"{hints.mapping['created_at']}"
        )
    if strict:
        _raise_first_issue(frame, raw_columns, origins, path, row_offset, header_rows)
    if keep_input:  # the standard columns the analysis reads, beside the input's own
        inputs.index, attrs = frame.index, dict(frame.attrs)
        standard = [c for c in frame.columns if c in FEEDBACK_REQUIRED + FEEDBACK_OPTIONAL + ("quality_issue",)]
        frame = pd.concat([inputs, frame[standard]], axis=1)
        frame.attrs = attrs
    return frame


#: share of a named column's non-blank values that may be unreadable before the naming is taken for a mistake
MAX_BAD_NAMED_SHARE = 0.5
_NAMED_VALUE_FIX = {
    "created_at": "name the column of dates with --date-column (and their format with --date-format)",
    "csat": "name a column of 1-5 ratings, or give its kind: --rating-column nps:NAME (0-10), ces:NAME (1-7)",
    "nps": "name a column of 0-10 ratings, or give its kind: --rating-column csat:NAME (1-5), ces:NAME (1-7)",
    "ces": "name a column of 1-7 ratings, or give its kind: --rating-column csat:NAME (1-5), nps:NAME (0-10)",
}


def _check_named_values(
    raw: pd.DataFrame, issues: pd.Series, origins: dict[str, str], named: set[str], path: Path | str
) -> None:
    """A date or rating column the user named whose values are mostly unreadable as such is a naming mistake
    (``--date-column variation``, ``--rating-column csat:date``): one error, not every row flagged."""
    for standard, fix in _NAMED_VALUE_FIX.items():
        column = origins.get(standard)
        if standard not in named or column is None or column not in raw.columns:
            continue
        reason = "bad_date" if standard == "created_at" else f"bad_{standard}"
        blank = raw[column].isna().to_numpy() | (_as_text(raw[column]).str.strip() == "").to_numpy()
        bad = (issues == reason).to_numpy()
        if (~blank).sum() and bad.sum() > MAX_BAD_NAMED_SHARE * (~blank).sum():
            example = raw[column].to_numpy()[bad][0]
            what = (
                "dates"
                if standard == "created_at"
                else f"{standard} ratings {SCORE_RANGES[standard][0]}-{SCORE_RANGES[standard][1]}"
            )
            raise InputError(
                f"{bad.sum()} of {(~blank).sum()} values are not {what}",
                path=path,
                column=column,
                value=example,
                fix=fix,
            )


def _raise_first_issue(
    frame: pd.DataFrame, raw: pd.DataFrame, origins: dict[str, str], path: Path | str, row_offset: int, header_rows: int
) -> None:
    flagged = np.flatnonzero(frame["quality_issue"].isin(list(STRICT_FIXES)).to_numpy())
    if not len(flagged):
        return
    i = int(flagged[0])
    reason = frame["quality_issue"].iloc[i]
    standard = "text" if reason == "empty_text" else "created_at" if reason.endswith("date") else reason[4:]
    column = origins.get(standard, standard)
    value = raw[column].iloc[i] if column in raw.columns else None
    counting = "; row numbers count the header as row 1" if header_rows else ""
    raise InputError(
        f"{ISSUE_MESSAGES[reason]} (--strict{counting})",
        path=path,
        row=row_offset + i + 1 + header_rows,
        column=column,
        value=value,
        fix=STRICT_FIXES[reason],
    )


def prepare_customers(frame: pd.DataFrame, path: Path | str, config: Config | None = None) -> pd.DataFrame:
    """Standard customers table: ids as text, dates parsed, churned as bool, money as float."""
    config = config or Config()
    frame, _ = _apply_mapping(frame.copy(), config.columns)
    require_columns(frame, ("customer_id",), path)
    frame["customer_id"] = pseudonymize_addresses(_as_text(frame["customer_id"]))
    for name in ("segment", "plan"):
        if name not in frame.columns:
            frame[name] = "all"
        frame[name] = _as_text(frame[name]).replace("", "unknown")
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
    words = _as_text(values).str.strip().str.lower()
    bad = ~words.isin(TRUE_WORDS | FALSE_WORDS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "not a yes/no value",
            path=path,
            row=row + 2,
            column="churned",
            value=values.iloc[row],
            fix="use true/false, yes/no or 1/0",
        )
    return words.isin(TRUE_WORDS)


def prepare_tickets(frame: pd.DataFrame, path: Path | str, config: Config | None = None) -> pd.DataFrame:
    """Standard tickets table: timestamps parsed, durations and contact counts numeric."""
    config = config or Config()
    frame, _ = _apply_mapping(frame.copy(), config.columns)
    require_columns(frame, ("ticket_id",), path)
    frame["ticket_id"] = _as_text(frame["ticket_id"])
    for name in ("opened_at", "first_response_at", "resolved_at"):
        frame[name] = _parse_dates(frame[name]) if name in frame.columns else pd.NaT
    for name in ("handle_time_minutes", "contacts_to_resolve"):
        frame[name] = pd.to_numeric(frame[name].replace("", None), errors="coerce") if name in frame.columns else np.nan
    for name in ("customer_id", "channel"):
        if name not in frame.columns:
            frame[name] = ""
        frame[name] = _as_text(frame[name])
    return frame


def _header_rows(path: Path) -> int:
    """Rows before the first record, for error row numbers: 1 for CSV/TSV/Excel (the header), else 0."""
    return 1 if path.suffix.lower() in CSV_SUFFIXES | {".xlsx", ".xlsm"} else 0


def load_feedback(
    path: str | Path,
    config: Config | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    *,
    preset: str | None = None,
    strict: bool = False,
    address_map: dict[str, str] | None = None,
    keep_input: bool = False,
) -> tuple[pd.DataFrame, str | None]:
    """Read and standardise one feedback file, or a data folder's feedback (its ``feedback.csv`` or e-mails, as
    :func:`load_dataset` finds it); returns the table and the encoding used. ``keep_input``: as
    :func:`prepare_feedback` has it, for tables (e-mail has no columns of the user's own)."""
    path = Path(path)
    if path.is_dir():  # read_table would read only the folder's .eml/.mbox files: none in a folder of tables
        path = find_sources(path)["feedback"]
    mail = path.exists() and (path.is_dir() or path.suffix.lower() in EMAIL_SUFFIXES)
    if address_map and mail:
        raw, encoding = read_email(path, address_map), None
    else:
        raw, encoding = read_table(path)
    return prepare_feedback(
        raw,
        path,
        config,
        text_column=text_column,
        id_column=id_column,
        preset=preset,
        strict=strict,
        header_rows=_header_rows(path),
        keep_input=keep_input and not mail,
    ), encoding


def iter_feedback_chunks(
    path: str | Path,
    chunksize: int = DEFAULT_CHUNKSIZE,
    config: Config | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    *,
    preset: str | None = None,
    strict: bool = False,
    keep_input: bool = False,
) -> Iterator[pd.DataFrame]:
    """Read a CSV/TSV or JSON Lines feedback file in standardised chunks of ``chunksize`` rows.

    Memory stays bounded by the chunk size, not the file size, so reading a large export starts at once.
    Row ids (``row{N}``) and error row numbers continue across chunks; the encoding and delimiter are
    sniffed once, from the first 64 KB. The preset (named or detected) is chosen from the header.
    ``chunk.attrs["encoding"]`` holds the encoding used. Columns found from the values (see
    :func:`prepare_feedback`) are found in the first chunk and kept for the rest.
    """
    path = Path(path)
    if chunksize < 1:
        raise InputError(f"chunksize must be a whole number >= 1; got {chunksize!r}", fix="pass e.g. chunksize=100_000")
    if not path.exists():
        raise InputError("file not found", path=path, fix="check the path")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | JSONL_SUFFIXES:
        raise InputError(
            f"cannot stream {suffix or 'a file without suffix'} in chunks",
            path=path,
            fix="stream CSV, TSV or JSON Lines; read other formats whole with load_feedback()",
        )
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError("file is empty", path=path, fix="export the data again; the file has no header and no rows")
    _refuse_binary(path, head)
    encoding = detect_encoding(head)
    header_rows = _header_rows(path)
    if suffix in JSONL_SUFFIXES:
        found = date_format = None
        for chunk, first in _iter_jsonl(path, encoding, chunksize):
            out = prepare_feedback(
                chunk,
                path,
                config,
                text_column,
                id_column,
                preset=preset,
                strict=strict,
                row_offset=first - 1,
                header_rows=header_rows,
                found=found,
                find=found is None and first == 1,
                keep_input=keep_input,
                date_format=date_format,
            )
            found, date_format = out.attrs.get("found_columns", found), out.attrs.get("date_format") or date_format
            out.attrs["encoding"] = encoding
            yield out
        return
    options = _csv_options(path, head)
    offset, found, date_format = 0, None, None
    try:
        with pd.read_csv(path, chunksize=chunksize, **options) as reader:
            for chunk in reader:
                chunk = _check_columns(chunk, path, offset)
                chunk.index = pd.RangeIndex(len(chunk))
                out = prepare_feedback(
                    chunk,
                    path,
                    config,
                    text_column,
                    id_column,
                    preset=preset,
                    strict=strict,
                    row_offset=offset,
                    header_rows=header_rows,
                    found=found,
                    find=offset == 0,
                    keep_input=keep_input,
                    date_format=date_format,
                )
                found, date_format = out.attrs.get("found_columns", found), out.attrs.get("date_format") or date_format
                out.index = pd.RangeIndex(offset, offset + len(out))
                out.attrs["encoding"] = encoding
                offset += len(chunk)
                yield out
    except pd.errors.EmptyDataError:
        raise InputError(
            "file has no header row", path=path, fix="export the data again with column names in the first row"
        ) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise _parser_error(exc, path) from None


def read_summary(frame: pd.DataFrame, encoding: str | None) -> list[str]:
    """Lines for the CLI: the encoding used, the preset applied, how many texts were repaired from mojibake."""
    parts = [f"encoding: {encoding or 'n/a (binary format or e-mail)'}"]
    if frame.attrs.get("preset"):
        parts.append(f"preset: {frame.attrs['preset']}")
    if frame.attrs.get("mojibake_repaired"):
        parts.append(f"mojibake repaired in {frame.attrs['mojibake_repaired']} rows")
    found, hint = frame.attrs.get("found_columns"), frame.attrs.get("date_hint")
    return ["; ".join(parts)] + ([found.line()] if found is not None else []) + ([hint] if hint else [])


def load_dataset(
    data: str | Path, config: Config | None = None, *, preset: str | None = None, strict: bool = False
) -> Dataset:
    """Load a data folder (``feedback.csv`` plus optional ``customers.csv``/``tickets.csv``) or one feedback file.

    Files may be any supported format: ``feedback.jsonl``, ``feedback.parquet`` or an ``.mbox`` are found
    too. When the customers table has an ``email`` column, mail senders are mapped to its ``customer_id``
    instead of pseudonyms. Feedback outside ``config.since``/``config.until`` is kept, flagged and counted.
    """
    config = config or Config()
    data = Path(data)
    if not data.exists():
        raise InputError(
            "no such file or folder", path=data, fix="pass a folder holding feedback.csv, or one feedback file"
        )
    sources = find_sources(data)
    dataset = Dataset(feedback=pd.DataFrame(), sources=sources)
    address_map = None
    if "customers" in sources:
        raw, enc = read_table(sources["customers"])
        dataset.customers = prepare_customers(raw, sources["customers"], config)
        dataset.rows_read["customers"], dataset.encodings["customers"] = len(raw), enc
        if "email" in dataset.customers.columns:
            address_map = dict(
                zip(_as_text(dataset.customers["email"]).str.strip().str.lower(), dataset.customers["customer_id"])
            )
            address_map.pop("", None)
    feedback, encoding = load_feedback(
        sources["feedback"], config, preset=preset, strict=strict, address_map=address_map
    )
    dataset.feedback = feedback
    dataset.rows_read["feedback"], dataset.encodings["feedback"] = len(feedback), encoding
    dataset.repaired["feedback"] = feedback.attrs.get("mojibake_repaired", 0)
    dataset.presets["feedback"] = feedback.attrs.get("preset")
    if "tickets" in sources:
        raw, enc = read_table(sources["tickets"])
        dataset.tickets = prepare_tickets(raw, sources["tickets"], config)
        dataset.rows_read["tickets"], dataset.encodings["tickets"] = len(raw), enc
    _apply_date_window(dataset, config)
    return dataset


def find_sources(data: Path) -> dict[str, Path]:
    """The files behind DATA: ``feedback`` (a table, one e-mail file, or the folder when it holds several), and
    ``customers`` and ``tickets`` when a folder has them. A file is the feedback itself."""
    if not data.is_dir():
        return {"feedback": data}
    sources: dict[str, Path] = {}
    for table in ("feedback", "customers", "tickets"):
        found = sorted(p for p in data.iterdir() if p.stem == table and p.suffix.lower() in TABLE_SUFFIXES)
        if found:
            sources[table] = found[0]
    if "feedback" not in sources:
        emails = sorted(p for p in data.iterdir() if p.suffix.lower() in EMAIL_SUFFIXES)
        if not emails:
            listed = ", ".join(sorted(p.name for p in data.iterdir())[:10]) or "nothing"
            raise InputError(
                f"no feedback.csv (or .jsonl/.parquet/.xlsx/.mbox) in the folder; found {listed}",
                path=data,
                fix="name the feedback export feedback.csv, or pass the file itself",
            )
        sources["feedback"] = emails[0] if len(emails) == 1 else data
    return sources


def window_bound(option: str, value) -> pd.Timestamp:
    """The date ``--since`` or ``--until`` gives; an InputError naming the option and the value when it is no date."""
    try:
        bound = pd.Timestamp(value)
    except (TypeError, ValueError):
        bound = pd.NaT
    if pd.isna(bound):
        raise InputError(
            f"{option} is not a date", value=value, fix=f"give the date as YYYY-MM-DD, e.g. {option} 2024-01-31"
        )
    return bound


def _apply_date_window(dataset: Dataset, config: Config) -> None:
    """Flag rows outside ``--since``/``--until`` as ``outside_period``.

    The window wins over any other flag (an empty text written before ``--since`` is outside the report, not an
    empty row of it), so that every count and KPI of the report covers the window only.
    """
    bounds = {
        name: window_bound(name, bound)
        for name, bound in (("--since", config.since), ("--until", config.until))
        if bound is not None
    }
    if len(bounds) == 2 and bounds["--since"] > bounds["--until"]:
        raise InputError(
            f"--since {config.since} is after --until {config.until}: the window holds no day", fix="swap the two dates"
        )
    created = dataset.feedback["created_at"]
    issues = dataset.feedback["quality_issue"].copy()
    if "--since" in bounds:
        issues[created < bounds["--since"]] = "outside_period"
    if "--until" in bounds:
        issues[created >= bounds["--until"] + pd.Timedelta(days=1)] = "outside_period"
    dataset.feedback["quality_issue"] = issues
