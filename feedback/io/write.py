"""Every file feedback writes, in one place: analyzed rows (CSV, TSV, JSON Lines, JSON, Parquet), the report's CSV
downloads and whole text files (the report, the digest).

Customer text is untrusted: :func:`csv_safe` guards a spreadsheet cell against formula injection (the report's CSV
downloads always, analyzed rows with ``--csv-safe``). A file appears under its name only when complete.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import is_missing

#: the formats analyzed rows are written in, by suffix
WRITERS = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
#: a cell starting with one of these is a formula to a spreadsheet
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formula injection: a string starting with = + - @ tab or CR gets a leading '.

    Numbers are returned unchanged; missing values become "".

    >>> csv_safe("=HYPERLINK(\\"x\\")"), csv_safe("+1"), csv_safe("-2"), csv_safe("@x"), csv_safe("ok")
    ('\\'=HYPERLINK("x")', "'+1", "'-2", "'@x", 'ok')
    >>> csv_safe(-0.5), csv_safe(None)
    (-0.5, '')
    """
    if is_missing(value):
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


#: list columns a CSV holds as JSON arrays: numbers that may be negative, which "a; b" would start with "-" (and
#: the formula guard would turn into text with a leading ')
CSV_JSON_COLUMNS = ("theme_sentiment",)


def csv_frame(frame: pd.DataFrame, guard: bool = False) -> pd.DataFrame:
    """The frame as CSV cells: list columns joined ("a; b", numbers as JSON arrays); ``guard``: every text cell
    through :func:`csv_safe`, for a file meant for a spreadsheet."""
    safe = csv_safe if guard else (lambda v: v)
    out = frame.copy()
    for column in out.columns:
        if column in CSV_JSON_COLUMNS or column.removeprefix("feedback_") in CSV_JSON_COLUMNS:
            out[column] = [
                json.dumps(list(v)) if isinstance(v, (list, tuple, np.ndarray)) else safe(v) for v in out[column]
            ]
        elif out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            if guard or any(isinstance(v, list) for v in out[column]):
                out[column] = [safe("; ".join(map(str, v)) if isinstance(v, list) else v) for v in out[column]]
    return out


def json_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with dates as ISO text (with their UTC offset when they have a zone), as JSON holds them."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not pd.api.types.is_datetime64_any_dtype(values):
            continue
        text = (
            values.map(lambda t: t.isoformat()) if values.dt.tz is not None else values.dt.strftime("%Y-%m-%dT%H:%M:%S")
        )
        out[column] = text.astype(object).where(values.notna(), None)
    return out


def _json_value(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def json_records(frame: pd.DataFrame) -> list[str]:
    """Each row as one JSON object: numbers as Python writes them (every digit of a float, as read), missing
    values as null, dates as ISO text (:func:`json_frame`)."""
    out = json_frame(frame).astype(object)
    out = out.where(out.notna(), None)
    return [
        json.dumps(row, ensure_ascii=False, default=_json_value, allow_nan=False)
        for row in out.to_dict(orient="records")
    ]


def write_chunks(chunks: Iterable[pd.DataFrame], out: str | Path, stats=None, csv_safe: bool = False) -> Path:
    """Write analyzed chunks as one file in the format ``out``'s suffix names, one chunk in memory at a time:
    dates as ISO text in JSON, values as they are in Parquet; ``csv_safe`` guards CSV/TSV cells against formula
    injection (:func:`csv_frame`).

    ``stats`` (a :class:`feedback.scale.RunStats`) adds the seconds spent writing. The file appears under its
    name only when complete (written to ``OUT.part`` first).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    suffix = out.suffix.lower()
    writer, first = None, True
    try:
        with open(part, "wb") as fh:
            try:
                for chunk in chunks:
                    start = time.perf_counter()
                    if suffix in (".csv", ".tsv"):
                        text = csv_frame(chunk, csv_safe).to_csv(
                            index=False, header=first, sep="\t" if suffix == ".tsv" else ","
                        )
                        fh.write(text.encode("utf-8"))
                    elif suffix == ".jsonl":
                        fh.write("".join(line + "\n" for line in json_records(chunk)).encode("utf-8"))
                    elif suffix == ".json":
                        body = ",\n".join(json_records(chunk))
                        if body:
                            fh.write((("[\n" if first else ",\n") + body).encode("utf-8"))
                    elif suffix == ".parquet":
                        writer = _write_parquet(chunk, fh, writer)
                    else:
                        raise InputError(
                            f"cannot write {suffix or 'a file without suffix'}",
                            path=out,
                            fix=f"end the output name with {', '.join(WRITERS)}",
                        )
                    if suffix != ".json" or body:
                        first = False
                    if stats is not None:
                        stats.add({"write": time.perf_counter() - start})
                if suffix == ".json":
                    fh.write(b"[]" if first else b"\n]")
            finally:
                # the writer closes before its file, also on an error: else pyarrow's finalizer reports "write to
                # closed file" on top of the real error
                if writer is not None:
                    writer.close()
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return out


#: element type of the list columns analyze writes, for a first chunk where every list is empty (no usable text)
LIST_COLUMN_TYPES = {"theme_ids": "int64", "theme_sentiment": "float64", "sentiment_drivers": "string"}


def _write_parquet(chunk: pd.DataFrame, fh, writer):
    """Append a chunk to a Parquet file; the schema is the first chunk's, with all-empty columns widened
    (an all-missing column becomes text, an all-empty list column a list of its known type, else of text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunk = chunk.copy(deep=False)
    chunk.attrs = {}  # the reader's notes (found columns, encoding) are not data; pandas cannot store them anyway
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    if writer is None:
        fields = []
        for f in table.schema:
            if pa.types.is_null(f.type):
                f = f.with_type(pa.string())
            elif pa.types.is_list(f.type) and pa.types.is_null(f.type.value_type):
                f = f.with_type(pa.list_(pa.type_for_alias(LIST_COLUMN_TYPES.get(f.name, "string"))))
            fields.append(f)
        schema = pa.schema(fields, metadata=table.schema.metadata)
        writer = pq.ParquetWriter(fh, schema)
    writer.write_table(table.cast(writer.schema))
    return writer


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV table (CRLF line ends) with every cell through :func:`csv_safe`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return buffer.getvalue()


def write_text(text: str, out: str | Path) -> Path:
    """Write a whole text file as UTF-8 with LF line ends, creating its folder; it appears under its name only
    when complete (written to ``OUT.part`` first)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    try:
        part.write_text(text, encoding="utf-8", newline="\n")
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return out
