"""Score single messages: the one function behind ``feedback score`` and the HTTP service.

It runs the batch pipeline's per-row steps, unchanged, on one message (or a short list):
:func:`feedback.clean.clean_text` (what ``clean_feedback`` runs per row), :func:`feedback.clean.detect_language`,
:meth:`feedback.sentiment.SentimentScorer.score` (what ``score_sentiment`` runs per row) and
:meth:`feedback.themes.ThemeModel.transform` (what ``tag_themes`` runs). A message scored here gets the same
compound, label and flags as the same text in ``feedback analyze``; on top it returns every sentence's score
and the redacted text, which an agent reads and a table does not need.

The subject line is not part of the score (the batch pipeline does not read it either); it is redacted and
its flags (``urgency``, ``escalation``, ``churn_intent``: "URGENT: cancel my account") are added to the body's.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .clean import clean_text, detect_language, redact_pii
from .config import Config
from .sentiment import SentimentScorer, default_scorer, label_for, theme_sentiment_values
from .schema import OTHER_THEME_LABEL

if TYPE_CHECKING:  # scoring without a theme model needs neither scikit-learn nor the embeddings
    from .themes import ThemeModel

#: flags a subject line can raise on its own (names of ``flag`` in ``models/sentiment_rules.toml``)
SUBJECT_FLAGS = ("churn_intent", "escalation", "urgency")
#: headers of which at least one must open a text/plain body for it to be read as an RFC 822 message
#: rather than as the customer's words (RFC 5322 section 3.6: From and Date are required, the rest common)
RFC822_HEADERS = frozenset(
    {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "received",
        "return-path",
        "reply-to",
        "cc",
        "in-reply-to",
        "references",
    }
)


def score_message(
    text: str,
    subject: str | None = None,
    theme_model: ThemeModel | None = None,
    *,
    scorer: SentimentScorer | None = None,
    config: Config | None = None,
) -> dict:
    """Score one message: label, compound, sentence scores, flags, themes (each with the sentiment of the
    sentences about it) and the redacted text.

    >>> result = score_message("I have been waiting 3 weeks for my refund. I want to cancel my account.")
    >>> result["label"], result["churn_intent"], result["themes"]
    ('negative', True, [])
    >>> score_message("Call me on +44 20 7946 0958, it still crashes.")["redacted_text"]
    'Call me on [PHONE], it still crashes.'
    """
    return score_messages([text], [subject], theme_model, scorer=scorer, config=config)[0]


def score_messages(
    texts: Sequence[str],
    subjects: Sequence[str | None] | None = None,
    theme_model: ThemeModel | None = None,
    *,
    scorer: SentimentScorer | None = None,
    config: Config | None = None,
) -> list[dict]:
    """Score several messages; themes are assigned in one ``transform`` call. Same fields as :func:`score_message`.

    >>> [r["label"] for r in score_messages(["Love the new dashboard!", "Still broken. Nobody replies."])]
    ['positive', 'negative']
    """
    config = config or Config()
    scorer = scorer or default_scorer()
    subjects = list(subjects) if subjects is not None else [None] * len(texts)
    results, cleaned_texts = [], []
    for text, subject in zip(texts, subjects, strict=True):
        raw = text or ""
        cleaned, _ = clean_text(raw, redact=config.redact_pii, max_chars=config.max_text_chars)
        cleaned_texts.append(cleaned)
        language = detect_language(cleaned)
        quality = (
            "empty_text"
            if not cleaned.strip()
            else "non_english"
            if language not in ("en", "unknown")
            else "truncated"
            if len(raw) > config.max_text_chars
            else ""
        )
        result = scorer.score(cleaned).to_dict()
        subject_text = " ".join((subject or "").split())
        if subject_text:
            subject_flags = scorer.score(subject_text).flags
            for flag in SUBJECT_FLAGS:
                if flag in subject_flags and not result[flag]:
                    result[flag] = True
                    if flag == "churn_intent":
                        result["churn_phrase"] = (
                            redact_pii(subject_flags[flag]) if config.redact_pii else subject_flags[flag]
                        )
        result["subject"] = redact_pii(subject_text) if config.redact_pii else subject_text
        result["language"] = language
        result["quality_issue"] = quality
        result["themes"] = []
        result["theme_ids"] = []
        result["theme_sentiment"] = []
        result["subtheme_id"] = result["subtheme"] = ""
        result["redacted_text"] = cleaned
        results.append(result)
    if theme_model is not None and results:
        usable = [i for i, r in enumerate(results) if r["quality_issue"] not in ("empty_text", "non_english")]
        if usable:
            from .themes import tag_with_parts

            tagged, parts = tag_with_parts(theme_model, [cleaned_texts[i] for i in usable])
            names = {t.theme_id: t.label for t in theme_model.themes_}  # a label may itself contain "; "
            # a theme model of another make may not give sub-themes
            none = [""] * len(tagged)
            for i, ids, sub, sub_label in zip(
                usable,
                tagged["theme_ids"].tolist(),
                tagged.get("subtheme_id", none),
                tagged.get("subtheme_label", none),
            ):
                results[i]["theme_ids"] = [int(t) for t in ids]
                results[i]["themes"] = [names.get(int(t), OTHER_THEME_LABEL) for t in ids]
                results[i]["subtheme_id"], results[i]["subtheme"] = str(sub), str(sub_label)
            _add_theme_sentiment(
                [results[i] for i in usable], [cleaned_texts[i] for i in usable], theme_model, scorer, parts
            )
    return results


def _add_theme_sentiment(
    results: list[dict],
    texts: list[str],
    theme_model: ThemeModel,
    scorer: SentimentScorer | None = None,
    parts: list | None = None,
) -> None:
    """Per-theme (aspect) sentiment of each message, as ``tag_themes`` gives it (the ``theme_sentiment`` column).

    "The app is lovely. You charged me twice." is negative about billing and positive about the app, where the
    document's compound says only "a bit negative" for both.
    """
    values = theme_sentiment_values(
        texts, [r["theme_ids"] for r in results], [r["compound"] for r in results], theme_model, scorer, parts
    )
    for result, scores in zip(results, values):
        result["theme_sentiment"] = [
            {"theme_id": t, "theme": label, "sentiment": value, "label": label_for(value)}
            for t, label, value in zip(result["theme_ids"], result["themes"], scores)
        ]


def parse_message(raw: bytes, charset: str = "utf-8", force_rfc822: bool = False) -> tuple[str, str]:
    """Body and subject of a raw message: an RFC 822 e-mail, or plain text when it has no mail headers.

    Multipart mail gives its text/plain part (else its HTML, converted by the cleaner later), exactly as
    ``feedback.ingest.read_email`` reads an .eml file.

    >>> parse_message(b"Subject: Refund\\r\\nFrom: a@example.com\\r\\n\\r\\nStill waiting.")
    ('Still waiting.', 'Refund')
    >>> parse_message(b"Note: the app crashes on login.")
    ('Note: the app crashes on login.', '')
    """
    from .ingest import _email_body

    message = email.message_from_bytes(raw, policy=email.policy.default)
    keys = {k.lower() for k in message.keys()}
    if not force_rfc822 and not keys & RFC822_HEADERS:
        try:
            return raw.decode(charset, errors="replace"), ""
        except LookupError:  # an unknown charset name in the Content-Type
            return raw.decode("utf-8", errors="replace"), ""
    body, _ = _email_body(message)
    return body, str(message.get("Subject", "") or "")
