"""The data model: the columns each table must or may have, and the columns each stage adds.

Other tools read these names; they are a contract. Unknown extra columns are kept and passed through; ``feedback
analyze`` gives every input column back under its own name, byte for byte, with ``ANALYZE_COLUMNS`` beside them.
"""

from __future__ import annotations

from collections.abc import Mapping

CHANNELS = ("email", "chat", "survey", "review", "social")

#: feedback rows: one message, survey answer or review
FEEDBACK_REQUIRED = ("feedback_id", "customer_id", "created_at", "channel", "text")
FEEDBACK_OPTIONAL = ("csat", "nps", "ces", "ticket_id", "subject")

#: customers: one row per customer
CUSTOMERS_REQUIRED = (
    "customer_id",
    "segment",
    "plan",
    "signup_date",
    "churned",
    "churn_date",
    "monthly_revenue",
    "acquisition_cost",
)
CUSTOMERS_OPTIONAL = ("region",)

#: tickets: one row per support ticket
TICKETS_REQUIRED = (
    "ticket_id",
    "customer_id",
    "channel",
    "opened_at",
    "first_response_at",
    "resolved_at",
    "handle_time_minutes",
    "contacts_to_resolve",
)

#: score ranges: (low, high) inclusive
SCORE_RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}

#: columns added by the stages
CLEAN_COLUMNS = ("clean_text", "removed_text", "language", "quality_issue")
SENTIMENT_COLUMNS = ("sentiment", "sentiment_label", "sentiment_drivers", "churn_intent")
THEME_COLUMNS = (
    "theme_id",
    "theme_label",
    "themes",
    "theme_ids",
    "theme_score",
    "theme_sentiment",
    "subtheme_id",
    "subtheme_label",
)
#: ``subtheme_id`` and ``subtheme_label``: the row's sub-theme within its ``theme_id`` ("t.k", its k-th from 1;
#: "" when that theme has no sub-themes), see ``feedback.themes.Theme.subthemes``
#: ``theme_sentiment`` (present when the sentiment stage ran first): one number per entry of ``theme_ids``, the
#: sentiment that theme gets from the row (the row's score, or with several themes the mean of its sentences
#: about each)

#: prefix of the copies of the input's own columns that ``feedback analyze`` carries through the pipeline and
#: writes back under their own names (see ``feedback.scale.export_frame``)
INPUT_PREFIX = "input\x1f"
#: the columns ``feedback analyze`` adds beside the input's own, in this order; one whose name the input already
#: uses is written as ``feedback_NAME`` (``feedback_id`` only when the input has no id column: the row numbers
#: that ``duplicate_of`` refers to)
ANALYZE_COLUMNS = (
    "feedback_id",
    "clean_text",
    "removed_text",
    "language",
    "quality_issue",
    "duplicate_of",
    "sentiment",
    "sentiment_label",
    "sentiment_drivers",
    "churn_intent",
    "churn_phrase",
    "escalation",
    "urgency",
    "anger",
    "theme_id",
    "theme_label",
    "theme_ids",
    "themes",
    "theme_score",
    "theme_sentiment",
    "subtheme_id",
    "subtheme_label",
)

#: theme id and label of texts that match no theme
OTHER_THEME_ID = -1
OTHER_THEME_LABEL = "other"

#: quality issues that keep a row out of the analysis (it is still kept, counted and shown);
#: "duplicate": the same customer sent the same text again within a day (see clean.find_duplicates)
SKIP_REASONS = ("empty_text", "non_english", "outside_period", "duplicate")
#: quality issues that are reported but leave the row usable (e.g. a bad score is blanked, the text is used)
NOTE_REASONS = ("bad_date", "missing_date", "bad_csat", "bad_nps", "bad_ces", "truncated")


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' NA.

    >>> [is_missing(v) for v in (None, float("nan"), 0, "", "x")]
    [True, True, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, (str, bytes, Mapping, list, tuple)) or hasattr(value, "__len__"):
        return False
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pd.NA: bool(NA) raises TypeError
        return True
