"""Clean: turn raw message bodies into the customer's own words, with personal data redacted.

``clean_feedback(df)`` adds ``clean_text`` (what the analysis reads), ``removed_text`` (quoted replies,
signatures and disclaimers that were cut, kept rather than thrown away) and ``language``; it flags
empty and non-English rows in ``quality_issue``. All of it is regular expressions over strings, so it
costs far less per document than sentiment scoring.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pandas as pd

# ------------------------------------------------------------------------------------------- HTML to text

_LOOKS_LIKE_HTML = re.compile(r"<(?:p|br|div|html|body|span|table|td|li|ul|b|i|a|font|strong)\b[^>]*>", re.I)
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "blockquote", "ul", "ol", "hr"}


class _TextExtractor(HTMLParser):
    """Collects visible text; block elements become line breaks; scripts and styles are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag == "blockquote":
            self.parts.append("\n> ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    """Visible text of an HTML fragment; plain text is returned with entities decoded.

    >>> html_to_text("<p>Hi &amp; thanks</p><p>Still broken</p>")
    'Hi & thanks\\n\\nStill broken'
    >>> html_to_text("I paid &pound;20 <3")
    'I paid £20 <3'
    """
    if not _LOOKS_LIKE_HTML.search(text):
        return html.unescape(text)
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


# ------------------------------------------------------------------------------------------- replies, signatures

#: where a quoted earlier message starts: everything from here on is the thread, not the new message
_QUOTE_START = re.compile(
    r"^(?:"
    r"On .{4,200}?wrote:\s*$"                                   # Gmail / Apple Mail
    r"|-{2,}\s*Original Message\s*-{2,}"                        # Outlook (old)
    r"|-{2,}\s*Forwarded message\s*-{2,}"
    r"|From:\s.+\n(?:.*\n){0,2}?(?:Sent|Date):\s"               # Outlook header block
    r"|_{10,}\s*$"
    r")",
    re.I | re.M,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.M)
#: unmistakable signature starts: may stand anywhere in the last lines, even first
_SIGNATURE_MARK = re.compile(r"^(?:--\s*$|Sent from my \w+|Get Outlook for \w+)", re.I)
#: sign-offs: a signature only after some message text, so a lone "Thanks," is not cut
_SIGNATURE_START = re.compile(
    r"^(?:--\s*$"
    r"|Sent from my \w+"
    r"|Get Outlook for \w+"
    r"|(?:Best|Kind|Warm)?\s*regards,?\s*$"
    r"|(?:Many )?thanks(?: in advance)?,\s*$"
    r"|Cheers,?\s*$|Best,?\s*$|Sincerely,?\s*$|Thank you,\s*$"
    r")",
    re.I | re.M,
)
_DISCLAIMER = re.compile(r"^(?:CONFIDENTIALITY|DISCLAIMER|This e-?mail (?:and any attachments )?(?:is|may be) confidential).*",
                         re.I | re.M | re.S)
#: a signature is only looked for this close to the end, so "thanks," in the middle of a message survives
SIGNATURE_TAIL_LINES = 8


def split_message(text: str) -> tuple[str, str]:
    """Split a message body into the customer's new words and what was removed (quotes, signature, disclaimer).

    >>> split_message("Still broken.\\n\\nOn Mon, 3 Aug 2026, Support <s@x.example> wrote:\\n> Did it work?")
    ('Still broken.', 'On Mon, 3 Aug 2026, Support <s@x.example> wrote:\\n> Did it work?')
    >>> split_message("Refund please.\\n--\\nJane Doe\\nAcme Ltd")
    ('Refund please.', '--\\nJane Doe\\nAcme Ltd')
    """
    removed: list[str] = []
    match = _QUOTE_START.search(text)
    if match and match.start() > 0:
        removed.append(text[match.start():].strip())
        text = text[:match.start()]
    quoted = _QUOTED_LINE.findall(text)
    if quoted and len(quoted) < len(text.splitlines()):
        removed.append("".join(quoted).strip())
        text = _QUOTED_LINE.sub("", text)
    match = _DISCLAIMER.search(text)
    if match and match.start() > 0:
        removed.append(text[match.start():].strip())
        text = text[:match.start()]
    lines = text.rstrip().split("\n")
    tail_start = max(0, len(lines) - SIGNATURE_TAIL_LINES)
    for i in range(tail_start, len(lines)):
        line = lines[i].strip()
        if _SIGNATURE_MARK.match(line) or (i > 0 and _SIGNATURE_START.match(line)):
            removed.insert(0, "\n".join(lines[i:]).strip())
            lines = lines[:i]
            break
    return "\n".join(lines).strip(), "\n\n".join(r for r in removed if r)


_GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^\n]{0,40}?[,!:]?\s*\n", re.I)


def strip_greeting(text: str) -> str:
    """Remove a salutation line such as 'Hi team,' so it does not become a theme.

    >>> strip_greeting("Hi team,\\nMy invoice is wrong.")
    'My invoice is wrong.'
    """
    return _GREETING.sub("", text, count=1)


# ------------------------------------------------------------------------------------------- PII

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL_WITH_TOKEN = re.compile(r"\bhttps?://\S+?[?&](?:token|key|code|session|sig|auth|access_token|password)=\S+", re.I)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD_CANDIDATE = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(r"(?<![\w/])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}(?:[ .-]\d{2,4})?(?![\w/])")


def luhn_valid(digits: str) -> bool:
    """True when a digit string passes the Luhn checksum that every payment card number carries.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _redact_card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def _redact_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    # Fewer than 7 digits is a date, a price or an order reference, not a phone number.
    return "[PHONE]" if len(digits) >= 7 else match.group()


def redact_pii(text: str) -> str:
    """Replace e-mail addresses, URLs carrying tokens, IBANs, card numbers (Luhn-checked) and phone numbers.

    >>> redact_pii("Mail jane.doe@example.com or call +1 555 010 0199; card 4111 1111 1111 1111, order 1234567890123")
    'Mail [EMAIL] or call [PHONE]; card [CARD], order 1234567890123'
    """
    if not text:
        return text
    text = _URL_WITH_TOKEN.sub("[URL]", text)
    text = _EMAIL.sub("[EMAIL]", text)
    text = _IBAN.sub("[IBAN]", text)
    text = _CARD_CANDIDATE.sub(_redact_card, text)
    return _PHONE.sub(_redact_phone, text)


# ------------------------------------------------------------------------------------------- language

#: frequent function words per language; a text is English when English words dominate
_FUNCTION_WORDS = {
    "en": "the and is to it my i you not was for of on have with this that are but can".split(),
    "es": "el la los las que de y no es por para con mi una un pero muy esta está".split(),
    "de": "der die das und ist nicht ich ein eine mit für zu auf mein aber sehr es".split(),
    "fr": "le la les et est pas je un une des pour avec mon mais très que ne".split(),
    "pt": "o a os as que de e não é um uma para com meu mas muito está".split(),
    "it": "il la che di e non è un una per con mio ma molto sono".split(),
    "nl": "de het een en is niet ik met voor op mijn maar zeer dat".split(),
}
_WORD = re.compile(r"[^\W\d_]+", re.U)
#: fewer recognised function words than this and the language is left unknown (and analysed as English)
MIN_LANGUAGE_EVIDENCE = 2


def detect_language(text: str) -> str:
    """A cheap language guess from function words: 'en', 'es', 'de', 'fr', 'pt', 'it', 'nl' or 'unknown'.

    >>> detect_language("The invoice is wrong and I want my money back")
    'en'
    >>> detect_language("No puedo entrar a mi cuenta y la factura está mal")
    'es'
    >>> detect_language("ok")
    'unknown'
    """
    words = [w.lower() for w in _WORD.findall(text[:2000])]
    if not words:
        return "unknown"
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS_SETS.items()}
    best = max(scores, key=lambda k: (scores[k], k == "en"))
    if scores[best] < MIN_LANGUAGE_EVIDENCE:
        return "unknown"
    if scores["en"] == scores[best]:
        return "en"
    return best


_FUNCTION_WORDS_SETS = {lang: frozenset(words) for lang, words in _FUNCTION_WORDS.items()}


# ------------------------------------------------------------------------------------------- stage

def clean_text(text: str, redact: bool = True, max_chars: int | None = None) -> tuple[str, str]:
    """Cleaned text and removed parts of one message.

    >>> clean_text("<p>Hi team,</p><p>Charged twice, call me on 0201 234 5678</p><p>Sent from my iPhone</p>")
    ('Charged twice, call me on [PHONE]', 'Sent from my iPhone')
    """
    if not text:
        return "", ""
    body = html_to_text(text).replace("\r\n", "\n").replace("\r", "\n")
    body, removed = split_message(body)
    body = strip_greeting(body)
    body = re.sub(r"[ \t]+", " ", body)
    body = re.sub(r"\n\s*\n+", "\n\n", body).strip()
    if max_chars and len(body) > max_chars:
        body = body[:max_chars]
    if redact:
        body, removed = redact_pii(body), redact_pii(removed)
    return body, removed


def clean_feedback(df: pd.DataFrame, text_column: str = "text", redact: bool = True,
                   max_chars: int | None = 20_000) -> pd.DataFrame:
    """Add ``clean_text``, ``removed_text`` and ``language``; flag empty and non-English rows.

    A row's ``quality_issue`` keeps an earlier reason (from ingest) and is otherwise set to ``empty_text``
    when nothing is left after cleaning, ``non_english`` for another language, or ``truncated``.
    """
    out = df.copy()
    texts = out[text_column].astype(object).where(out[text_column].notna(), "").astype(str).tolist()
    cleaned = [clean_text(t, redact=redact, max_chars=max_chars) for t in texts]
    out["clean_text"] = [c for c, _ in cleaned]
    out["removed_text"] = [r for _, r in cleaned]
    out["language"] = [detect_language(c) for c, _ in cleaned]
    issues = out["quality_issue"].copy() if "quality_issue" in out.columns else pd.Series("", index=out.index, dtype=object)
    issues = issues.astype(object).where(issues.notna(), "")
    empty = out["clean_text"].str.strip() == ""
    issues[empty & (issues == "")] = "empty_text"
    other_language = ~out["language"].isin(["en", "unknown"])
    issues[other_language & (issues == "")] = "non_english"
    if max_chars:
        truncated = pd.Series([len(t) > max_chars for t in texts], index=out.index)
        issues[truncated & (issues == "")] = "truncated"
    out["quality_issue"] = issues
    return out
