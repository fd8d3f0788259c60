"""Find the columns of an export that names none of them as feedback expects.

A review site, a survey tool or a spreadsheet gives ``verified_reviews``, ``rating`` and ``date``, not ``text``,
``csat`` and ``created_at``. When a file has no ``text`` column and no preset fits its headers,
:func:`find_columns` looks at the values and picks:

* the text: the column of longest free text (words that vary from row to row: not numbers, dates or categories);
* the date: a column whose values parse as dates (the format is found and printed);
* a rating: whole numbers 1-5 are CSAT, 0-10 NPS, 1-7 CES only when the header says effort or CES; the header
  must name a rating (rating, stars, score, satisfaction, recommend, ...), so a quantity is never read as one;
* an id (unique values, a header naming an id) and a customer (a header naming a customer, user or author).

Every choice is said in one line, with the way to choose otherwise: ``--text-column``, ``--date-column``,
``--rating-column KIND:NAME`` or ``[columns]`` in a config file. What the user names always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from .schema import SCORE_RANGES

#: rows whose values the choice is made on: the first of the file (or of its first chunk)
SAMPLE_ROWS = 500
#: share of the non-blank values that must parse as dates (or as ratings in range) for the column to be chosen;
#: below it, a column is something else that happens to hold a few dates or numbers
MIN_PARSED_SHARE = 0.95
#: a text column's values average this many characters or more, and most hold a space (words, not codes)
MIN_TEXT_CHARS = 10
MIN_TEXT_SPACED_SHARE = 0.5
#: and they vary: this share of them distinct, or this many distinct values. A category ("Electronic check",
#: "Late Flight") repeats a few values; what customers write hardly repeats.
MIN_TEXT_DISTINCT_SHARE, MIN_TEXT_DISTINCT = 0.3, 50

#: header words that say a column is a rating, and of which kind
CSAT_WORDS = {"rating", "ratings", "rated", "stars", "star", "score", "csat", "satisfaction", "satisfied", "overall"}
#: header words that say a number is something else than the customer's rating ("Priority score", "Agent effort
#: (hours)", "Lead score", "Stars given by agent QA")
NOT_RATING_WORDS = {
    "priority",
    "lead",
    "leads",
    "risk",
    "credit",
    "hours",
    "hour",
    "minutes",
    "mins",
    "days",
    "seconds",
    "time",
    "price",
    "cost",
    "amount",
    "qty",
    "quantity",
    "count",
    "agent",
    "internal",
    "qa",
    "sla",
    "weight",
    "size",
    "age",
    "order",
    "id",
    "number",
    "level",
    "severity",
    "urgency",
    "sentiment",
    "confidence",
    "probability",
    "spam",
    "fraud",
    "health",
}
NPS_WORDS = {"nps", "recommend", "recommendation", "likelihood", "likely", "promoter"}
CES_WORDS = {"ces", "effort"}
DATE_WORDS = {
    "date",
    "time",
    "created",
    "timestamp",
    "submitted",
    "posted",
    "received",
    "at",
    "when",
    "day",
    "datetime",
    "updated",
    "sent",
}
ID_WORDS = {"id", "uuid", "key", "guid", "ref", "reference", "number", "no"}
CUSTOMER_WORDS = {
    "customer",
    "user",
    "author",
    "requester",
    "reviewer",
    "client",
    "account",
    "member",
    "contact",
    "sender",
    "username",
    "handle",
    "respondent",
    "submitter",
    "reporter",
}

#: date formats tried, most specific first; the first that reads every sampled value is the one printed and used
DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%a %b %d %H:%M:%S %Y",
    "%a, %d %b %Y %H:%M:%S %z",
)
_DIGITS_ONLY = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_HAS_DATE_SHAPE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}[- ][A-Za-z]{3}|[A-Za-z]{3}[a-z]* \d{1,2}")


@dataclass
class FoundColumns:
    """The columns :func:`find_columns` chose: ``{standard name: header}``, why each, and the date format."""

    mapping: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None

    def line(self) -> str:
        """One line for the run summary: what was chosen and how to choose otherwise."""
        chosen = ", ".join(
            f"{standard} = {header!r} ({self.reasons[standard]})" for standard, header in self.mapping.items()
        )
        return (
            f"columns found: {chosen}. To choose others: --text-column, --date-column, --rating-column "
            "KIND:NAME (KIND csat, nps or ces), or [columns] in a config file"
        )


def header_words(header: str) -> set[str]:
    """The lower-case words of a header: "verified_reviews" → {verified, reviews}; "ReviewID" → {review, id}.

    >>> sorted(header_words("Customer ID")), sorted(header_words("tweetCreatedAt"))
    (['customer', 'id'], ['at', 'created', 'tweet'])
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(header))
    return {w.lower() for w in re.findall(r"[A-Za-z]+", spaced)}


def _values(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column].head(SAMPLE_ROWS)
    values = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    return values[values != ""]


#: leading values a format must read before all values are tried with it (a quick filter, not the judge)
FORMAT_PROBE_VALUES = 20
_EPOCH = re.compile(r"^\d{9,10}(?:\.\d+)?$|^\d{12,13}$")


def find_date_format(values: pd.Series) -> str | None:
    """The first of ``DATE_FORMATS`` that reads (nearly) every one of ``values``, judged on all of them: an export
    sorted by date can start with a week of days up to 12, which a month-first format reads too. "epoch" for Unix
    timestamps in seconds or milliseconds; "mixed" when pandas reads them all only value by value; None when they
    are not dates.

    >>> find_date_format(pd.Series(["31-Jul-18", "1-Aug-18"])), find_date_format(pd.Series(["18/03/2020"]))
    ('%d-%b-%y', '%d/%m/%Y')
    >>> find_date_format(pd.Series(["01/05/2018", "02/05/2018", "13/05/2018"]))
    '%d/%m/%Y'
    >>> find_date_format(pd.Series(["1424805336"]))
    'epoch'
    """
    values = values.astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        return None
    if values.head(200).str.match(_EPOCH).all() and values.str.match(_EPOCH).mean() >= MIN_PARSED_SHARE:
        return "epoch"
    if not values.head(200).str.contains(_HAS_DATE_SHAPE).mean() >= MIN_PARSED_SHARE:
        return None
    probe = values.head(FORMAT_PROBE_VALUES).tolist()
    for fmt in DATE_FORMATS:
        try:
            for value in probe:
                datetime.strptime(value, fmt)
        except ValueError:
            continue
        if pd.to_datetime(values, format=fmt, errors="coerce", utc=True).notna().mean() >= MIN_PARSED_SHARE:
            return fmt
    parsed = pd.to_datetime(values, format="mixed", errors="coerce", utc=True)
    return "mixed" if parsed.notna().mean() >= MIN_PARSED_SHARE else None


def swap_day_month(fmt: str) -> str:
    """The format with day and month the other way round.

    >>> swap_day_month("%m/%d/%Y %H:%M")
    '%d/%m/%Y %H:%M'
    """
    return fmt.replace("%m", "\0").replace("%d", "%m").replace("\0", "%d")


def day_month_ambiguous(values: pd.Series, fmt: str | None) -> bool:
    """True when ``fmt`` reads day and month in one order and the swapped format reads the same values too: every
    day is 12 or less, and nothing in the data says which comes first.

    >>> day_month_ambiguous(pd.Series(["01/05/2018", "07/05/2018"]), "%m/%d/%Y")
    True
    >>> day_month_ambiguous(pd.Series(["01/05/2018", "13/05/2018"]), "%d/%m/%Y")
    False
    """
    if not fmt or "%m" not in fmt or "%d" not in fmt or fmt.startswith("%Y"):  # year first is ISO: month next
        return False
    values = values.astype(str).str.strip()
    values = values[values != ""]
    return bool(len(values)) and bool(pd.to_datetime(values, format=swap_day_month(fmt), errors="coerce").notna().all())


def _rating_kind(header: str, values: pd.Series) -> str | None:
    words = header_words(header)
    if words & NOT_RATING_WORDS:
        return None
    named = "nps" if words & NPS_WORDS else "ces" if words & CES_WORDS else "csat" if words & CSAT_WORDS else None
    if named is None or values.empty:
        return None
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().mean() > 1 - MIN_PARSED_SHARE or numbers.nunique() < 2:
        return None
    numbers = numbers.dropna()
    if not (numbers == numbers.round()).all():
        return None
    low, high = numbers.min(), numbers.max()
    in_range = {kind: SCORE_RANGES[kind][0] <= low and high <= SCORE_RANGES[kind][1] for kind in SCORE_RANGES}
    if named == "ces":
        return "ces" if in_range["ces"] else None
    if named == "nps":
        return "nps" if in_range["nps"] else None
    return "csat" if in_range["csat"] else "nps" if in_range["nps"] else None


def find_columns(
    frame: pd.DataFrame, taken: set[str] = frozenset(), known: set[str] = frozenset(), need_text: bool = True
) -> FoundColumns:
    """Choose text, date, rating, id and customer columns from the values of ``frame`` (see the module doc).

    ``taken``: headers the user or a preset already mapped, never chosen again; ``known``: standard names already
    mapped, never chosen again. ``need_text``: find nothing unless a text column is found (else the text is known).

    >>> found = find_columns(pd.DataFrame({"rating": ["5", "1", "4"], "date": ["31-Jul-18", "30-Jul-18", "1-Aug-18"],
    ...     "variation": ["Charcoal Fabric", "Walnut Finish", "Charcoal Fabric"],
    ...     "verified_reviews": ["Love my Echo!", "It stopped working after a week.", "Great sound, easy setup."]}))
    >>> found.mapping
    {'text': 'verified_reviews', 'created_at': 'date', 'csat': 'rating'}
    """
    found = FoundColumns()
    free = [c for c in frame.columns if c not in taken and c not in known]
    samples = {c: _values(frame, c) for c in free}

    formats = {c: find_date_format(frame[c]) for c in free}  # judged on every value (see find_date_format)
    for column in free:  # dates first: a date column is never the text
        fmt = formats[column]
        if fmt is None or "created_at" in known or (fmt == "epoch" and not header_words(column) & DATE_WORDS):
            continue
        if "created_at" not in found.mapping or (
            header_words(column) & DATE_WORDS and not header_words(found.mapping["created_at"]) & DATE_WORDS
        ):
            found.mapping["created_at"], found.date_format = column, fmt
            found.reasons["created_at"] = {"mixed": "dates in mixed formats", "epoch": "Unix timestamps"}.get(
                fmt, f"dates, format {fmt}"
            )
            if day_month_ambiguous(frame[column], fmt):
                found.reasons["created_at"] += " (day and month could be either way round: --date-format to say)"
    dates = {c for c in free if formats[c] is not None}

    texts = {}
    for column in free:
        values = samples[column]
        if (
            column in dates
            or values.empty
            or values.str.match(_DIGITS_ONLY).mean() > 0.5
            or values.str.match(r"^\s*[\[{].*[\]}]\s*$").mean() > 0.5
        ):  # a JSON object or list, not words
            continue
        chars, spaced, distinct = values.str.len().mean(), values.str.contains(" ").mean(), values.nunique()
        varied = distinct >= MIN_TEXT_DISTINCT_SHARE * len(values) or distinct >= MIN_TEXT_DISTINCT
        if chars >= MIN_TEXT_CHARS and spaced >= MIN_TEXT_SPACED_SHARE and varied:
            texts[column] = chars
    if texts and "text" not in known:
        text = max(texts, key=texts.get)
        found.mapping["text"], found.reasons["text"] = text, "the longest free text"

    used = set(found.mapping.values())
    for column in free:
        if column in used:
            continue
        kind = _rating_kind(column, samples[column])
        if kind and kind not in found.mapping and kind not in known:
            low, high = SCORE_RANGES[kind]
            found.mapping[kind], found.reasons[kind] = column, f"ratings {low}-{high}"
            used.add(column)

    for column in free:
        if column in used:
            continue
        words, values = header_words(column), samples[column]
        if (
            "customer_id" not in found.mapping
            and "customer_id" not in known
            and words & CUSTOMER_WORDS
            and not words & (CSAT_WORDS | NPS_WORDS | CES_WORDS)
            and not values.empty
        ):
            found.mapping["customer_id"], found.reasons["customer_id"] = column, "names a customer"
            used.add(column)
        elif (
            "feedback_id" not in found.mapping
            and "feedback_id" not in known
            and words & ID_WORDS
            and not values.empty
            and len(values) == min(len(frame), SAMPLE_ROWS)
            and frame[column].is_unique
        ):
            found.mapping["feedback_id"], found.reasons["feedback_id"] = column, "unique ids"
            used.add(column)
    if need_text and "text" not in found.mapping:
        return FoundColumns()
    order = ("text", "created_at", "csat", "nps", "ces", "feedback_id", "customer_id")
    found.mapping = {k: found.mapping[k] for k in order if k in found.mapping}
    return found
