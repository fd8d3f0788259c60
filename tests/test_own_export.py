"""Bring your own export: the user's columns come back as given, columns are found, absent KPIs are one line."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import pandas as pd
import pyarrow.parquet as pq
import pytest

from feedback.clean import redact_pii
from feedback.schema import ANALYZE_COLUMNS


def feedback(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "feedback", *args], capture_output=True, text=True, input=stdin, timeout=300
    )


#: an airline export as it comes: ids too long for a float, date-times with zone offsets, a formula-looking text,
#: a blank cell, leading zeros, and a column named like one analyze adds
EXPORT = pd.DataFrame(
    {
        "tweet_id": ["570306133677760513", "570301130888122368", "570301083672813571", "570300817074462722"],
        "text": [
            "@united my bag is lost since 2015-02-24 11:35, call me at +1 555 010 0199",
            "=SUM(A1) the flight was fine",
            "-1 star, the gate agent was rude",
            "@delta thanks, great crew!",
        ],
        "tweet_created": [
            "2015-02-24 11:35:52 -0800",
            "2015-02-24T11:15:59+01:00",
            "2015-02-24 11:15:48 -0800",
            "Sat Jun 20 07:27:15 2015",
        ],
        "airline": ["United", "Delta", "United", "Delta"],
        "negativereason_confidence": ["0.6", "", "1.0", "0012"],
        "sentiment": ["negative", "neutral", "negative", "positive"],
    }
)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "airline.csv"
    EXPORT.to_csv(path, index=False)
    return path


def _read_back(path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if path.suffix == ".jsonl":
        return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    return pq.read_table(path).to_pandas()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_analyze_gives_every_input_column_back_with_its_name_and_values(export, tmp_path, suffix):
    out = tmp_path / f"scored{suffix}"
    run = feedback("analyze", str(export), "--id-column", "tweet_id", "--out", str(out), "--quiet")
    assert run.returncode == 0, run.stderr
    back = _read_back(out)
    assert list(back.columns[: len(EXPORT.columns)]) == list(EXPORT.columns)
    for column in EXPORT.columns:
        assert back[column].tolist() == EXPORT[column].tolist(), column
    added = list(back.columns[len(EXPORT.columns) :])
    # the product's sentiment never replaces the user's; the ids are the user's, so no feedback_id is added;
    # no empty standard column (customer_id, created_at, csat...) is added
    assert "feedback_sentiment" in added and "feedback_id" not in added
    assert [c.removeprefix("feedback_") for c in added] == [c for c in ANALYZE_COLUMNS if c != "feedback_id"]
    assert back["feedback_sentiment"].astype(float).between(-1, 1).all()
    # what analyze adds from the text is redacted; a date-time is not a phone number
    assert "555 010 0199" not in back["clean_text"].str.cat() and "[PHONE]" in back["clean_text"][0]
    assert "2015-02-24 11:35" in back["clean_text"][0]


def test_csv_safe_guards_cells_only_when_asked(export, tmp_path):
    plain, safe = tmp_path / "plain.csv", tmp_path / "safe.csv"
    assert feedback("analyze", str(export), "--out", str(plain), "--quiet").returncode == 0
    assert feedback("analyze", str(export), "--out", str(safe), "--quiet", "--csv-safe").returncode == 0
    assert _read_back(plain)["text"].tolist() == EXPORT["text"].tolist()
    guarded = _read_back(safe)
    assert guarded["text"].tolist() == ["'" + t for t in EXPORT["text"]]  # @, =, - and @ start the four texts
    assert guarded["feedback_id"].tolist() == ["row1", "row2", "row3", "row4"]  # no id column: row numbers
    help_text = " ".join(feedback("analyze", "--help").stdout.split())
    assert "--csv-safe" in help_text and "Never applied to JSON or Parquet" in help_text


def test_json_lines_and_parquet_keep_their_types(tmp_path):
    records = [
        {"id": 7, "body": "The app logs me out every hour.", "stars": 2, "verified": True},
        {"id": 8, "body": "Love the new dashboard, thanks!", "stars": 5, "verified": False},
    ]
    source = tmp_path / "reviews.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert feedback("analyze", str(source), "--text-column", "body", "--out", str(out), "--quiet").returncode == 0
    back = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [{k: row[k] for k in records[0]} for row in back] == records

    zoned = pd.DataFrame(
        {
            "text": ["Refund still not here after two weeks.", "Quick answer, thank you."],
            "opened": pd.to_datetime(["2026-03-01 09:30:00+01:00", "2026-03-02 17:05:00-05:00"], utc=True).tz_convert(
                "Europe/Paris"
            ),
            "amount": [12.5, 80.0],
        }
    )
    zoned.to_parquet(tmp_path / "zoned.parquet")
    out = tmp_path / "zoned_out.parquet"
    assert feedback("analyze", str(tmp_path / "zoned.parquet"), "--out", str(out), "--quiet").returncode == 0
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back[list(zoned.columns)], zoned)


NOT_PHONES = [
    "2015-02-24 11:35:52 -0800",
    "My flight on 2015-02-24 11:35 was cancelled",
    "[Sat Jun 20 07:27:15 2026] kernel: eth0 down",
    "2026-09-14T07:27:15+02:00",
    "at 11:35 on 24/02/2015",
    "2026-09-14T07:27:15.123Z",
    "upgraded to version 10.15.7",
    "v2.13.0 broke it",
    "build 4.2.1029",
    "server 192.168.100.200 timed out",
    "2001:db8::ff00:42:8329",
    "between 2019-2021",
    "1.250.000 users",
    "12/25/2026 10:30:15 PM",
]
PHONES = [
    "+1 555 010 0199",
    "(555) 123-4567",
    "07700 900123",
    "+33 6 12 34 56 78",
    "555.010.0199",
    "06.12.34.56.78",
    "call 555-010-0199 at 11:35",
    "on 2015-02-24 call +44 7700 900123",
    "call 555 010 0199 before 2026-01-01",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_dates_times_versions_and_addresses_are_not_phone_numbers(text):
    assert redact_pii(text) == text


@pytest.mark.parametrize("text", PHONES)
def test_phone_numbers_next_to_dates_are_still_redacted(text):
    redacted = redact_pii(text)
    assert "[PHONE]" in redacted
    assert not any(
        ch.isdigit() for ch in redacted.replace("2015-02-24", "").replace("11:35", "").replace("2026-01-01", "")
    )


def test_score_keeps_a_timestamp_in_free_text():
    run = feedback("score", "--json", stdin="My flight on 2015-02-24 11:35 was cancelled and nobody helped.")
    assert run.returncode == 0, run.stderr
    assert "[PHONE]" not in run.stdout and "2015-02-24 11:35" in run.stdout


class _Tiles(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tiles, self.absent, self._in_absent = [], "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li" and "data-kpi" in attrs:
            self.tiles.append(attrs["data-kpi"])
        self._in_absent = self._in_absent or attrs.get("id") == "kpis-absent"

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_absent = False

    def handle_data(self, data):
        if self._in_absent:
            self.absent += data


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """A review export as a store gives it: no 'text', a 1-5 rating, dates like 31-Jul-18, a product variant."""
    folder = tmp_path_factory.mktemp("reviews")
    good = [
        "Love my Echo, it plays music all day long.",
        "Great sound and really easy to set up.",
        "Alexa answers every question, the kids love it.",
    ]
    bad = [
        "Stopped working after two weeks, very disappointed.",
        "The speaker crackles at high volume.",
        "Keeps dropping the wifi connection every single night.",
    ]
    rows = [
        {
            "rating": str(1 + i % 5),
            "date": f"{1 + i % 28}-Jul-18",
            "variation": ["Charcoal Fabric", "Black Dot"][i % 2],
            "verified_reviews": f"{(bad if i % 5 < 2 else good)[i % 3]} Bought it on day {i}.",
            "feedback": str(int(i % 5 >= 2)),
        }
        for i in range(60)
    ]
    path = folder / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_report_finds_the_columns_of_a_review_export_and_lists_absent_kpis(reviews, tmp_path):
    out = tmp_path / "report.html"
    run = feedback("report", str(reviews), "--out", str(out), "--quiet")
    assert run.returncode == 0, run.stderr
    assert (
        "columns found: text = 'verified_reviews' (the longest free text), created_at = 'date' (dates, format "
        "%d-%b-%y), csat = 'rating' (ratings 1-5)"
    ) in run.stderr
    assert "--rating-column KIND:NAME" in run.stderr
    page = _Tiles()
    page.feed(out.read_text(encoding="utf-8"))
    assert page.tiles == ["csat"]
    assert "NPS, CES: add an nps column (0-10) or a ces column (1-7)" in page.absent
    assert "Churn rate, Retention rate, CLV, CAC, CLV:CAC: put customers.csv" in page.absent
    assert "First-contact resolution" in page.absent and "tickets.csv" in page.absent
    html = out.read_text(encoding="utf-8")  # no customers table: "What hurts most" leaves out churn and money
    glance = html[html.index("What hurts most") : html.index("Worse than the")]
    assert "customers" in glance and "churn ×" not in glance and "revenue at risk" not in glance


def test_kpis_say_what_is_not_in_the_data(reviews):
    run = feedback("kpis", str(reviews))
    assert run.returncode == 0, run.stderr
    assert "not in the data: NPS, CES: add" in run.stdout
    result = json.loads(feedback("kpis", str(reviews), "--json").stdout)
    assert [g["kpis"] for g in result["absent"]] == [
        ["nps", "ces"],
        ["churn_rate", "retention_rate", "clv", "cac", "clv_cac"],
        ["fcr", "aht_minutes", "resolution_hours", "first_response_hours"],
    ]


def test_rating_and_date_columns_can_be_named(reviews, tmp_path):
    out = tmp_path / "named.csv"
    run = feedback(
        "analyze",
        str(reviews),
        "--text-column",
        "verified_reviews",
        "--rating-column",
        "nps:rating",
        "--date-column",
        "date",
        "--out",
        str(out),
        "--quiet",
    )
    assert run.returncode == 0, run.stderr
    assert "columns found" not in run.stderr  # nothing guessed: the user named the text
    bad = feedback("analyze", str(reviews), "--rating-column", "stars", "--out", str(out))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "csat:rating" in bad.stderr
    missing = feedback("analyze", str(reviews), "--rating-column", "csat:stars", "--out", str(out))
    assert missing.returncode == 2 and "no column 'stars'" in missing.stderr


def test_found_columns_are_kept_across_chunks(tmp_path, monkeypatch):
    from feedback.ingest import iter_feedback_chunks

    rows = [
        {
            "Ticket ID": f"T{i}",
            "Opened": f"2026-03-{1 + i % 28:02d}",
            "Customer": f"C{i % 7}",
            "What went wrong": f"The invoice export failed again, attempt {i}",
        }
        for i in range(30)
    ]
    path = tmp_path / "tickets.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    chunks = list(iter_feedback_chunks(path, chunksize=7))
    assert len(chunks) == 5
    assert all(c["text"].str.startswith("The invoice export failed").all() for c in chunks)
    assert all(c["created_at"].notna().all() for c in chunks)
    assert chunks[-1]["feedback_id"].tolist() == [f"T{i}" for i in range(28, 30)]
    assert chunks[0].attrs["found_columns"].mapping == {
        "text": "What went wrong",
        "created_at": "Opened",
        "feedback_id": "Ticket ID",
        "customer_id": "Customer",
    }


def _write(path, header: list[str], rows: list[list]) -> None:
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)


def test_day_first_dates_are_judged_on_every_value(tmp_path):
    """A UK export sorted by date starts with days up to 12: month first reads those, only all values decide."""
    from feedback.ingest import load_feedback

    days = sorted([1 + i % 28 for i in range(200)])
    path = tmp_path / "uk.csv"
    _write(
        path,
        ["Date", "Comment"],
        [[f"{d:02d}/05/2018 10:00", f"Refund {i} still missing, very slow"] for i, d in enumerate(days)],
    )
    frame, _ = load_feedback(path)
    assert frame["quality_issue"].eq("").all()
    assert frame["created_at"].dt.month.eq(5).all() and frame["created_at"].dt.day.tolist() == days
    assert "format %d/%m/%Y %H:%M" in frame.attrs["found_columns"].line()


def test_ambiguous_dates_warn_and_date_format_decides(tmp_path):
    path = tmp_path / "week.csv"
    _write(path, ["created_at", "text"], [[f"0{d}/07/2026", f"the export failed again, day {d}"] for d in range(1, 8)])
    run = feedback("kpis", str(path))
    assert run.returncode == 0 and "every day is 12 or less" in run.stderr and "--date-format %d/%m/%Y" in run.stderr
    run = feedback("kpis", str(path), "--date-format", "%d/%m/%Y", "--json")
    assert [p["period"] for p in json.loads(run.stdout)["periods"]] == ["2026-W27", "2026-W28"]


def test_epoch_seconds_and_a_date_hint(tmp_path):
    from feedback.ingest import load_feedback, read_summary

    path = tmp_path / "social.csv"
    _write(path, ["created_time", "message"], [[1424805336 + 86400 * i, f"my bag is lost, day {i}"] for i in range(5)])
    frame, _ = load_feedback(path)
    assert frame["created_at"].dt.strftime("%Y-%m-%d").tolist()[0] == "2015-02-24"
    standard = tmp_path / "standard.csv"
    _write(standard, ["text", "tweet_created"], [["my bag is lost", "2015-02-24 11:35:52 -0800"]] * 3)
    frame, _ = load_feedback(standard)
    assert frame["created_at"].isna().all()  # a file with a text column is read as it is ...
    assert "To use it: --date-column tweet_created" in read_summary(frame, "utf-8")[-1]  # ... and says what it saw


def test_headers_that_name_something_else_are_not_ratings():
    from feedback.columns import find_columns

    frame = pd.DataFrame(
        {
            "Priority score": ["1", "3", "5", "2"],
            "Agent effort (hours)": ["1", "2", "7", "3"],
            "Lead score": ["0", "9", "10", "4"],
            "Customer rating": ["4 stars", "2 stars", "5 stars", "1 star"],
            "Comment": ["The app logs me out", "Slow export again", "Great support team", "Refund is late"],
        }
    )
    found = find_columns(frame)
    assert found.mapping == {"text": "Comment"}


def test_add_refuses_repeated_ids(tmp_path):
    path = tmp_path / "orders.csv"
    _write(
        path, ["Order ID", "Comment"], [[f"O{i % 30}", f"Late delivery number {i}, still waiting"] for i in range(40)]
    )
    run = feedback(
        "add",
        str(path),
        "--db",
        str(tmp_path / "w.sqlite"),
        "--text-column",
        "Comment",
        "--config",
        str(_config(tmp_path, 'feedback_id = "Order ID"')),
    )
    assert run.returncode == 2 and "repeats 10 value(s) over 20 rows" in run.stderr and "Traceback" not in run.stderr
    run = feedback("add", str(path), "--db", str(tmp_path / "w.sqlite"))  # found: text, no unique id
    assert "columns found: text = 'Comment'" in run.stderr and run.returncode == 2


def _config(tmp_path, line: str):
    path = tmp_path / "columns.toml"
    path.write_text(f"[columns]\n{line}\n", encoding="utf-8")
    return path


def test_a_named_column_of_the_wrong_kind_is_one_error(reviews, tmp_path):
    out = str(tmp_path / "o.csv")
    run = feedback("analyze", str(reviews), "--date-column", "variation", "--out", out)
    assert run.returncode == 2 and "column 'variation'" in run.stderr and "are not dates" in run.stderr
    run = feedback("analyze", str(reviews), "--date-column", "verified_reviews", "--out", out)
    assert run.returncode == 2 and "found 'rating', 'date', 'variation', 'verified_reviews'" in run.stderr


def test_json_keeps_every_digit_and_parquet_has_no_warning(tmp_path):
    source = tmp_path / "f.parquet"
    pd.DataFrame(
        {
            "text": ["Refund still not here after two weeks.", "Quick answer, thanks."],
            "amount": [29.359398427187912, None],
        }
    ).to_parquet(source)
    for suffix in (".jsonl", ".parquet"):
        run = feedback("analyze", str(source), "--out", str(tmp_path / f"o{suffix}"), "--quiet")
        assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["amount"] for r in rows] == [29.359398427187912, None]


def test_report_says_how_the_columns_were_read(reviews, tmp_path):
    out = tmp_path / "r.html"
    assert feedback("report", str(reviews), "--out", str(out), "--quiet").returncode == 0
    page = out.read_text(encoding="utf-8")
    assert '<p class="columns-read">Columns found: text = &#39;verified_reviews&#39;' in page


def test_a_found_rating_can_be_turned_off(reviews, tmp_path):
    run = feedback("kpis", str(reviews), "--rating-column", "csat:none", "--json")
    assert run.returncode == 0, run.stderr
    assert "csat = " not in run.stderr and json.loads(run.stdout)["overall"]["csat"]["n"] == 0
