"""Column-mapping presets for common exports: which of an export's headers is the text, the date, the customer.

A preset maps each standard column name to the headers that tool uses for it (first one present wins) and
names the headers that identify the tool (``signature``). ``detect_preset`` picks the preset whose signature
headers are all present; ``preset_mapping`` turns a preset into a ``{standard: header}`` mapping for one
file. The user's own mapping (``[columns]`` in the config file, ``--text-column``) always wins over a preset,
and columns a preset does not name pass through unchanged.

The header names come from the public documentation and sample exports of each tool (Zendesk "Export
tickets as CSV", Typeform "Download responses as CSV", SurveyMonkey "Export all responses: All
individual responses, CSV"); the NPS preset covers any survey with a 0–10 "recommend" question and a
free-text reason.

>>> detect_preset(["Id", "Subject", "Requester", "Created at", "Description", "Via"])
'zendesk'
>>> preset_mapping("nps", ["Respondent", "How likely are you to recommend us? (0-10)", "Why?"])
{'customer_id': 'Respondent', 'nps': 'How likely are you to recommend us? (0-10)', 'text': 'Why?'}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ConfigError


@dataclass(frozen=True)
class Preset:
    """One export format: candidate headers per standard column, and the headers that identify it."""

    name: str
    help: str
    #: standard column -> candidate headers (case-insensitive, first present wins) or regular expressions (``re:``)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: headers that must all be present (case-insensitive) for auto-detection
    signature: tuple[str, ...] = ()
    #: channel given to every row when the export has no channel column
    channel: str | None = None


PRESETS: dict[str, Preset] = {
    "zendesk": Preset(
        name="zendesk",
        help="Zendesk tickets export (Id, Subject, Requester, Created at, Description, Via).",
        columns={
            "feedback_id": ("Id", "Ticket ID", "ID"),
            "ticket_id": ("Id", "Ticket ID", "ID"),
            "customer_id": ("Requester id", "Requester ID", "Requester", "Requester email"),
            "created_at": ("Created at", "Created", "Created At"),
            "text": ("Description", "Comment", "Latest comment", "Body"),
            "subject": ("Subject",),
            "channel": ("Via", "Channel"),
        },
        signature=("Subject", "Requester", "Created at"),
        channel="email",
    ),
    "typeform": Preset(
        name="typeform",
        help="Typeform responses export (#, question columns, Start Date (UTC), Submit Date (UTC), Network ID).",
        columns={
            "feedback_id": ("#", "Response ID", "Token"),
            "customer_id": ("Network ID", "email", "Email"),
            "created_at": ("Submit Date (UTC)", "Submitted At", "Start Date (UTC)"),
            "nps": (r"re:recommend", r"re:\bnps\b"),
            "csat": (r"re:satisf",),
            "text": (r"re:\b(?:why|comments?|feedback|tell us|anything else|improve|reason)",),
        },
        signature=("Network ID",),
        channel="survey",
    ),
    "surveymonkey": Preset(
        name="surveymonkey",
        help="SurveyMonkey 'all individual responses' CSV (Respondent ID, Collector ID, Start Date, End Date, ...).",
        columns={
            "feedback_id": ("Respondent ID",),
            "customer_id": ("Respondent ID", "Custom Data 1"),
            "created_at": ("End Date", "Start Date"),
            "nps": (r"re:recommend", r"re:\bnps\b"),
            "csat": (r"re:satisf",),
            "text": (r"re:\b(?:why|comments?|feedback|tell us|anything else|improve|reason)", "Open-Ended Response"),
        },
        signature=("Respondent ID", "Collector ID"),
        channel="survey",
    ),
    "nps": Preset(
        name="nps",
        help="Any NPS survey: a 0-10 'recommend' score column plus a free-text reason.",
        columns={
            "feedback_id": ("Response ID", "response_id", "ID", "Id"),
            "customer_id": ("Customer ID", "customer", "Respondent", "User ID", "user_id", "Account"),
            "created_at": ("Date", "Submitted", "Submitted at", "Responded at", "Created at", "Timestamp"),
            "nps": (r"re:recommend", r"re:^(?:nps|nps score|score|rating)$"),
            "text": (r"re:\b(?:why|comments?|feedback|reason|tell us|verbatim)",),
        },
        # detected only by a "recommend"/"NPS" header (a bare "Score" may be a 1-5 CSAT: pass --preset nps for it)
        signature=(r"re:recommend|^nps\b", r"re:\b(?:why|comments?|feedback|reason|verbatim)"),
        channel="survey",
    ),
}

#: the order auto-detection tries presets in: specific tools first, the generic NPS survey last
DETECT_ORDER = ("zendesk", "surveymonkey", "typeform", "nps")


def _find(candidates: tuple[str, ...], headers: list[str], taken: set[str]) -> str | None:
    lowered = {h.lower().strip(): h for h in headers}
    for candidate in candidates:
        if candidate.startswith("re:"):
            pattern = re.compile(candidate[3:], re.I)
            for header in headers:
                if header not in taken and pattern.search(header):
                    return header
        elif candidate.lower() in lowered and lowered[candidate.lower()] not in taken:
            return lowered[candidate.lower()]
    return None


def get_preset(name: str) -> Preset:
    """The preset called ``name``, or a ConfigError listing the valid names."""
    try:
        return PRESETS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}. Valid presets: {', '.join(sorted(PRESETS))}") from None


def detect_preset(headers: list[str]) -> str | None:
    """Name of the preset whose signature headers are all present, or None."""
    headers = [str(h) for h in headers]
    for name in DETECT_ORDER:
        signature = PRESETS[name].signature
        if signature and all(_find((s,), headers, set()) for s in signature):
            return name
    return None


def preset_mapping(name: str, headers: list[str]) -> dict[str, str]:
    """``{standard column: header}`` for the headers of one file under a preset (only columns found)."""
    preset = get_preset(name)
    headers = [str(h) for h in headers]
    mapping: dict[str, str] = {}
    # The text column is found last so a score question is not mistaken for the free-text one.
    order = sorted(preset.columns, key=lambda k: k == "text")
    used: set[str] = set()
    for standard in order:
        if standard in headers:  # the file already has the standard name
            continue
        header = _find(preset.columns[standard], headers, used if standard == "text" else set())
        if header is not None:
            mapping[standard] = header
            used.add(header)
    return {k: mapping[k] for k in preset.columns if k in mapping}
