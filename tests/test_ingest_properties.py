"""Ingest under random input: every reader either reads or raises feedback's own error, and never loses a row."""

import csv
import io
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.errors import FeedbackError
from feedback.ingest import iter_feedback_chunks, load_feedback, read_table

#: modest example counts keep the whole file to a few seconds
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEWER = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SUFFIXES = [".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".xlsx", ".eml", ".mbox"]


def _write(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="feedback-prop-"))
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


@FEW
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_read_or_raise_a_feedback_error(data, suffix):
    path = _write(data, suffix)
    try:
        frame, _ = read_table(path)
    except FeedbackError:
        return
    assert isinstance(frame, pd.DataFrame)
    try:
        load_feedback(path)
    except FeedbackError:
        pass


# Text cells: letters, digits, spaces, quotes, line breaks (CR, LF), accents, emoji, right-to-left letters, and the
# delimiters themselves; a proper CSV writer quotes what needs quoting.
CELL = st.text(alphabet=st.sampled_from(list("ab Z09\"'\n\r,;\t|é€😀ש-=@#")), max_size=12)
HEADER = st.lists(
    st.text(alphabet=st.sampled_from(list("abcxyz_ ")), min_size=1, max_size=6),
    min_size=1,
    max_size=5,
    unique_by=lambda s: s.strip(),
)


@st.composite
def csv_tables(draw):
    header = [h for h in draw(HEADER) if h.strip()] or ["col"]
    n_rows = draw(st.integers(0, 25))
    rows = [[draw(CELL) for _ in header] for _ in range(n_rows)]
    # a record with all cells empty in a one-column file would be a blank line; CSV writers quote it as ""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return header, rows, delimiter, encoding, eol


def _csv_bytes(header, rows, delimiter, encoding, eol) -> bytes:
    buffer = io.StringIO()
    # Python's writer only quotes the characters of its own line terminator: with "\n" a bare "\r" in a cell
    # would go out unquoted (ambiguous CSV), so such tables are written fully quoted.
    bare_cr = eol == "\n" and any("\r" in cell for row in [header, *rows] for cell in row)
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=eol, quoting=csv.QUOTE_ALL if bare_cr else csv.QUOTE_MINIMAL
    )
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@FEW
@given(table=csv_tables())
def test_valid_csv_keeps_every_row_and_cell(table):
    header, rows, delimiter, encoding, eol = table
    path = _write(_csv_bytes(*table), ".csv")
    frame, _ = read_table(path)
    assert len(frame) == len(rows)
    assert list(frame.columns) == [h.strip() for h in header]
    for i, row in enumerate(rows):
        assert frame.iloc[i].tolist() == row


@FEWER
@given(table=csv_tables(), chunksize=st.integers(1, 10))
def test_chunked_reading_gives_the_same_rows_as_reading_whole(table, chunksize):
    header, rows, delimiter, encoding, eol = table
    header = ["text"] + header[1:]
    path = _write(_csv_bytes(header, rows, delimiter, encoding, eol), ".csv")
    whole, _ = load_feedback(path)
    chunks = list(iter_feedback_chunks(path, chunksize=chunksize))
    streamed = pd.concat(chunks).reset_index(drop=True) if chunks else whole.iloc[:0]
    assert len(streamed) == len(whole) == len(rows)
    assert streamed["text"].tolist() == whole["text"].tolist() == [r[0] for r in rows]
    assert streamed["feedback_id"].tolist() == whole["feedback_id"].tolist()


@FEW
@given(table=csv_tables(), cut=st.integers(0, 200))
def test_truncated_or_mangled_csv_reads_or_raises_a_feedback_error(table, cut):
    data = _csv_bytes(*table)
    path = _write(data[: len(data) - cut] + b'"', ".csv")
    try:
        frame, _ = read_table(path)
    except FeedbackError:
        return
    assert isinstance(frame, pd.DataFrame)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@FEW
@given(
    records=st.lists(st.dictionaries(st.text(min_size=1, max_size=5), JSON_VALUES, max_size=4), max_size=10),
    lines=st.booleans(),
)
def test_json_records_keep_every_record(records, lines):
    if lines:
        path = _write("\n".join(json.dumps(r) for r in records).encode("utf-8"), ".jsonl")
    else:
        path = _write(json.dumps(records).encode("utf-8"), ".json")
    try:
        frame, _ = read_table(path)
    except FeedbackError as exc:
        # only an empty file may fail: no records at all
        assert not records or "empty" in str(exc), exc
        return
    assert len(frame) == len(records)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_empty_and_whitespace_files_raise_a_feedback_error(tmp_path, suffix):
    for content in (b"", b"   \n\n", b"\xef\xbb\xbf"):
        path = tmp_path / f"f{suffix}"
        path.write_bytes(content)
        with pytest.raises(FeedbackError):
            read_table(path)
