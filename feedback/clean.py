"""Clean: turn raw message bodies into the customer's own words, with personal data redacted.

``clean_feedback(df)`` adds ``clean_text`` (what the analysis reads), ``removed_text`` (quoted replies,
signatures and disclaimers that were cut, kept rather than thrown away) and ``language``; it flags
empty and non-English rows in ``quality_issue``. It is regular expressions over strings, plus py3langid's small
model for the few texts that look foreign, so it costs far less per document than sentiment scoring.
"""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from .schema import NOTE_REASONS

# ------------------------------------------------------------------------------------------- HTML to text

_LOOKS_LIKE_HTML = re.compile(r"<(?:p|br|div|html|body|span|table|td|li|ul|b|i|a|font|strong)\b[^>]*>", re.I)
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "blockquote", "ul", "ol", "hr"}


class _TextExtractor(HTMLParser):
    """Collects visible text; block elements become line breaks; scripts and styles are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote_depth = 0

    def _line_break(self) -> str:
        # every line of a blockquote is quoted, as a plain-text client would mark it, so a reply written
        # between quoted paragraphs is told from them
        return "\n" + "> " * self._quote_depth

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag == "blockquote":
            self._quote_depth += 1
            self.parts.append(self._line_break())
        elif tag in _BLOCK_TAGS:
            self.parts.append(self._line_break())

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append(self._line_break())

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data.replace("\n", self._line_break()) if self._quote_depth else data)


def html_to_text(text: str) -> str:
    """Visible text of an HTML fragment; plain text is returned with entities decoded.

    >>> html_to_text("<p>Hi &amp; thanks</p><p>Still broken</p>")
    'Hi & thanks\\n\\nStill broken'
    >>> html_to_text("I paid &pound;20 <3")
    'I paid £20 <3'
    """
    if "<" not in text or not _LOOKS_LIKE_HTML.search(text):
        return html.unescape(text)
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


# ------------------------------------------------------------------------------------------- replies, signatures

#: the verbs of an attribution line ("... wrote:"), in the languages customers most often write; never after "I" or
#: "we" ("On 3 August I wrote:" is the customer quoting themselves). German, Dutch, Swedish and Polish name the
#: sender after the verb, so the line may wrap there
_WROTE = (
    r"(?<!\bI )(?<!\bwe )(?:wrote|writes|a\s+écrit|escribió|ha\s+scritto|escreveu"
    r"|(?:schrieb|schreef|skrev|napisał)[^\n]*(?:\n[^\n]{0,200}?)?)\s*:[ \t]*$"
)
#: the attribution line of a quoted reply ("On <date>, <name> wrote:"). Mail clients always put the date in, and
#: set the sender off with a comma or give an address, so both are required ("On Monday I wrote:", "On 3 Aug 2026
#: your system wrote:" are a customer's sentences); they wrap long ones over up to three lines, and a wrapped line
#: never ends a sentence, so "On 3 Aug I called.\nYour agent wrote:" is not one
_ATTRIBUTION = (
    r"(?:On|Am|Le|El|Il|Op|Em|Den|W dniu)\s(?=[^\n]*\d)(?=[^\n]*[,<@]|[^\n]*\n[^\n]*[<@])"
    r"[^\n]{4,200}?(?:(?<![.!?])\n[^\n]{0,200}?){0,2}" + _WROTE
)
#: an attribution without a date ("Jane Doe <jane@x.example> wrote:", "Quoting Jane:", mutt's
#: "* Jane <j@x.example> [2026-08-03 10:00]:"): one only when quoted lines follow it
_NAMED_ATTRIBUTION = re.compile(
    r"^(?:"
    + _ATTRIBUTION
    + r"|(?![ \t]*>)[^\n]{1,120}?"
    + _WROTE
    + r"|Quoting [^\n]{1,120}:[ \t]*$|\* [^\n]{1,120}\[[^\n]*\d[^\n]*\]:[ \t]*$)",
    re.I | re.M,
)
#: where a quoted earlier message starts: everything from here on is the thread, not the new message
_QUOTE_START = re.compile(
    r"^(?:"
    r"(?P<attribution>" + _ATTRIBUTION + r")"  # Gmail / Apple Mail / Thunderbird
    r"|-{2,}\s*Original Message\s*-{2,}"  # Outlook (old)
    r"|-{2,}\s*Forwarded message\s*-{2,}"  # Gmail forward
    r"|Begin forwarded message:"  # Apple Mail forward
    r"|(?:From|Von|De|Van|Da) ?:\s.+\n(?:.*\n){0,2}?"  # Outlook header block, as localised
    r"(?:Sent|Date|Gesendet|Datum|Envoyé|Verzonden|Enviado|Inviato|Data) ?:\s"
    r"|_{10,}\s*$"  # Outlook separator line
    r")",
    re.I | re.M,
)
#: a quoted line: ">" then a space, another ">" or the end of the line (so ">50% of the time" is not a quote)
_QUOTED_LINE = re.compile(r"^[ \t]*>(?:[ \t>].*)?$\n?", re.M)
#: a line quoted without a space (">Did it work?"): a quote only beside another quoted line or under an
#: attribution, as a lone ">Settings" or ">5s" line may be the customer's own; digits, "=", "<" and "-" after the
#: ">" read as a comparison or an arrow
_LOOSE_QUOTED_LINE = re.compile(r"[ \t]*>[^\s\d=<>-]")
#: a mailing list's footer, which the list server appends below every message: Apache/ezmlm ("To unsubscribe,
#: e-mail: ...-unsubscribe@..."), majordomo, Mailman 2 and 3, Google Groups, Groups.io, Discourse. Each start needs
#: the list software's wording and an address or a link, so "To unsubscribe I wrote to help@x.example" stays; the
#: separator line above it goes with it
_LIST_FOOTER = re.compile(
    r"^(?:_{10,}[ \t]*\n[^\n]{1,80} mailing list\b"
    r"|(?:(?:-- ?|[-_=*~]{3,}|(?:-=){3,}-?)[ \t]*\n(?:[ \t]*\n)?)?"
    r"(?:To unsubscribe(?: from (?:this|these) (?:group|list|e-?mails|messages|notifications)[^\n,:]{0,60})?[,:]?\s+"
    r"(?:e-?mail|send|\[?click)\b[^\n]*(?:\n[^\n]*)?(?:@|https?://|mailto:)"
    r"|\[?Visit Topic\]?\(?https?://[^\n]*reply to this email"
    r"|For additional commands, e-?mail:"
    r"|You received this (?:message|topic) because you are subscribed to the Google Groups"
    r"|[^\n]{1,80} mailing list -- [^\s@]+@\S+[ \t]*$"
    r"|[^\n]*/mailman/listinfo/"
    r"|Unsubscribe:[ \t]*<?(?:https?://|mailto:)"
    r"|Groups\.io Links:))",
    re.I | re.M,
)
#: words one of the footers above has, looked for first so a text without any is not searched line by line
_LIST_FOOTER_HINTS = (
    "nsubscribe",
    "dditional commands",
    "oogle Groups",
    "ailing list",
    "/mailman/",
    "roups.io",
    "Visit Topic",
)
#: a list footer is a few lines at the very end: one that starts further up is the customer quoting a footer
FOOTER_MAX_LINES = 12
#: a mail client's footer: these lines are never the customer's words
_CLIENT_FOOTER = (
    r"(?:Sent (?:from|via|with) (?:my |the )?(?:iPhone|iPad|Android|Galaxy|Samsung|BlackBerry|Huawei|Pixel|"
    r"Xiaomi|mobile|phone|smartphone|tablet|Yahoo Mail|Mail for Windows|Outlook|AOL|Gmail|Proton ?Mail|\w+ device)\b"
    r"|Sent from my \w+|Get Outlook for \w+)"
)
#: unmistakable signature starts: may stand anywhere in the last lines, even first ("--" lines: _signature_start)
_SIGNATURE_MARK = re.compile(_CLIENT_FOOTER, re.I)
#: sign-offs: a signature only after some message text, so a lone "Thanks," is not cut
_SIGNATURE_START = re.compile(
    r"^(?:(?:Best|Kind|Warm|Warmest|Many)?\s*regards[,.!]?\s*$"
    r"|(?:Many |Big )?thanks(?: in advance| again| so much| a lot)?[,.!]*\s*$"
    r"|Thank you(?: in advance| again| so much)?[,.!]*\s*$"
    r"|Cheers[,.!]?\s*$|Best[,.!]?\s*$|All the best[,.!]?\s*$|Sincerely(?: yours)?[,.]?\s*$|Yours "
    r"(?:truly|sincerely)[,.]?\s*$"
    r"|Regards[,.]?\s*$|Mit freundlichen Grüßen[,.]?\s*$|Cordialement[,.]?\s*$|Saludos[,.]?\s*$"
    r")",
    re.I,
)
#: lines after a sign-off are a signature block only when each is at most this long (a name, a title, a phone)
SIGNATURE_LINE_MAX = 80
#: a postscript below a sign-off is more of the customer's message, not a signature
_POSTSCRIPT = re.compile(r"\s*P\.? ?S\.?\b", re.I)
_DISCLAIMER = re.compile(
    r"^(?:CONFIDENTIALITY|DISCLAIMER|IMPORTANT NOTICE|LEGAL NOTICE"
    r"|(?:This|The information in this|The information contained in this) (?:e-?mail|message|communication)"
    r"(?: and any (?:attachments?|files?)[^\n.]{0,40}?)?\s(?:is|are|may be|may contain|contains|is "
    r"intended)\b[^\n]{0,40}?"
    r"(?:confidential|privileged|intended (?:solely|only)))"
    r".*",
    re.I | re.M | re.S,
)
#: a warning banner a mail gateway puts above the message ("CAUTION: This email originated from outside ...")
_BANNER = re.compile(
    r"\A\s*(?:\[?EXTERNAL(?: E-?MAIL)?\]?:?|CAUTION:|WARNING:)[^\n]*(?:\n[^\n]+)*\n\s*\n"
    r"|\A\s*\[EXTERNAL\]\s*",
    re.I,
)
#: a signature is only looked for this close to the end, so "thanks," in the middle of a message survives
SIGNATURE_TAIL_LINES = 8
#: a bare "--" line further up starts a signature when at most this many short lines follow it (a name, a title,
#: an address, phones: corporate blocks run to a dozen lines); "--" above paragraphs is the customer's divider
SIGNATURE_MAX_LINES = 15


def _list_footer_start(text: str) -> int | None:
    """Where a mailing list's footer starts, when one ends the text."""
    for match in _LIST_FOOTER.finditer(text):
        if text.count("\n", match.start()) <= FOOTER_MAX_LINES:
            return match.start()
    return None


def _quoted_reply_follows(lines: list[str], start: int) -> bool:
    """Whether the first non-blank line from ``start`` on (at most one blank line skipped) is quoted."""
    for line in lines[start : start + 2]:
        if line.strip():
            return bool(_QUOTED_LINE.match(line) or _LOOSE_QUOTED_LINE.match(line))
    return False


def _is_interleaved(after_attribution: str) -> bool:
    """Whether the text after an attribution answers it inline: quoted lines with the customer's own lines
    among or after them, rather than a quoted history that runs to the end."""
    lines = after_attribution.split("\n")[1:]
    if not _quoted_reply_follows(lines, 0):
        return False
    return any(line.strip() and not _QUOTED_LINE.match(line) and not _LOOSE_QUOTED_LINE.match(line) for line in lines)


def _cut_quoted_lines(text: str) -> tuple[str, str]:
    """Remove ``>`` quoted lines and the attribution lines above them: the text left and the lines removed."""
    lines = text.split("\n")
    drop = [bool(_QUOTED_LINE.match(line)) for line in lines]
    under_attribution = set()
    for match in _NAMED_ATTRIBUTION.finditer(text):
        first = text.count("\n", 0, match.start())
        last = first + match.group().count("\n")
        if _quoted_reply_follows(lines, last + 1):
            drop[first : last + 1] = [True] * (last + 1 - first)
            under_attribution.update((last + 1, last + 2))
    loose = [not drop[i] and bool(_LOOSE_QUOTED_LINE.match(line)) for i, line in enumerate(lines)]
    for i, is_loose in enumerate(loose):
        if is_loose:
            beside = [j for j in (i - 1, i + 1) if 0 <= j < len(lines)]
            # a neighbour counts when it is itself quoted, not when it is an attribution line
            drop[i] = i in under_attribution or any(loose[j] or _QUOTED_LINE.match(lines[j]) for j in beside)
    if not any(drop):
        return text, ""
    kept = "\n".join(line for line, dropped in zip(lines, drop) if not dropped)
    removed = "\n".join(line for line, dropped in zip(lines, drop) if dropped)
    return kept, removed.strip()


def _signature_start(lines: list[str], has_separator: bool = True) -> int | None:
    """Index of the line a signature starts at, if the message ends with one.

    The standard separator ("-- " alone on a line, RFC 3676 section 4.3) starts one however far up it stands:
    only a signature follows it; a bare "--" does when a short block follows (SIGNATURE_MAX_LINES). Sign-offs and
    client footers count only near the end; the earliest start wins ("Kind regards,\nJane\n-- \nAcme").
    ``has_separator``: False when no line can start with "--", which spares a scan of every line.
    """
    starts = []
    separators = (
        [i for i, line in enumerate(lines) if line.startswith("--") and line.strip() == "--"] if has_separator else []
    )
    for i in separators:
        block = lines[i + 1 :]
        if lines[i] == "-- " or (
            len(block) <= SIGNATURE_MAX_LINES and all(len(rest.strip()) <= SIGNATURE_LINE_MAX for rest in block)
        ):
            starts.append(i)
            break
    for i in range(max(0, len(lines) - SIGNATURE_TAIL_LINES), len(lines)):
        line = lines[i].strip()
        if _SIGNATURE_MARK.match(line) or (
            _SIGNATURE_START.match(line)
            and any(previous.strip() for previous in lines[:i])
            and all(len(rest.strip()) <= SIGNATURE_LINE_MAX and not _POSTSCRIPT.match(rest) for rest in lines[i + 1 :])
        ):
            starts.append(i)
            break
    return min(starts, default=None)


def split_message(text: str) -> tuple[str, str]:
    """Split a message body into the customer's new words and what was removed (quotes, signature, disclaimer,
    a mailing list's footer).

    Removed parts are returned in the order they appeared; quoted text (a reply's history) goes entirely,
    so a thread's earlier messages are not counted again in each reply. A reply written between the quoted
    lines keeps its own lines.

    >>> split_message("Still broken.\\n\\nOn Mon, 3 Aug 2026, Support <s@x.example> wrote:\\n> Did it work?")
    ('Still broken.', 'On Mon, 3 Aug 2026, Support <s@x.example> wrote:\\n> Did it work?')
    >>> split_message("Refund please.\\n--\\nJane Doe\\nAcme Ltd")
    ('Refund please.', '--\\nJane Doe\\nAcme Ltd')
    >>> split_message("On 3 Aug 2026, Support <s@x.example> wrote:\\n>Did it work?\\n>Any error?\\nNo, same error.")
    ('No, same error.', 'On 3 Aug 2026, Support <s@x.example> wrote:\\n>Did it work?\\n>Any error?')
    """
    removed: list[str] = []
    banner = _BANNER.match(text)
    if banner and text[banner.end() :].strip():
        removed.append(banner.group().strip())
        text = text[banner.end() :]
    footer = None
    footer_at = _list_footer_start(text) if "\n" in text and any(hint in text for hint in _LIST_FOOTER_HINTS) else None
    if footer_at is not None and text[:footer_at].strip():
        footer = text[footer_at:].strip()
        text = text[:footer_at]
    signature_at = len(removed)
    for match in _QUOTE_START.finditer(text):
        # the first start below some text, unless it is an attribution answered inline
        if text[: match.start()].strip() and not (match.group("attribution") and _is_interleaved(text[match.end() :])):
            removed.append(text[match.start() :].strip())
            text = text[: match.start()]
            break
    if ">" in text:
        text, quoted = _cut_quoted_lines(text)
        removed.append(quoted)
    match = _DISCLAIMER.search(text)
    if match and text[: match.start()].strip():
        removed.append(text[match.start() :].strip())
        text = text[: match.start()]
    lines = text.rstrip().split("\n")
    start = _signature_start(lines, "--" in text)
    if start is not None:
        removed.insert(signature_at, "\n".join(lines[start:]).strip())
        lines = lines[:start]
    if footer:
        removed.append(footer)
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
#: a phone-number candidate: optional "+"/"00" and area code in brackets, then 1-5 digit groups joined by
#: spaces, dots or dashes (national formats differ: "07700 900123", "+33 6 12 34 56 78", "(555) 123-4567")
_PHONE = re.compile(r"(?<![\w/+.-])(?:\+|\b00)?\(?\d{1,5}\)?(?:[ .-]?\(?\d{1,5}\)?){0,6}(?![\w/]|[.-]\d)")
#: separated digits that are not phone numbers: ISO and day-month dates, year ranges, IP addresses, amounts
#: grouped in thousands ("1.250.000", "2,400,000")
_NOT_PHONE = re.compile(
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,2} \d{1,2} \d{4}|\d{4} ?- ?\d{4}"
    r"|\d{1,3}(?:\.\d{1,3}){3}|\d{1,3}(?:[.,]\d{3})+"
)
#: digits inside a date, a time of day (with seconds, fraction and zone offset), a version number or an IP address:
#: a phone candidate never runs into them ("2015-02-24 11:35:52 -0800" is a timestamp, not "[PHONE]:35:52").
#: A version starts with 1-2 digits and has 3-4 parts, so dotted phone formats ("555.010.0199",
#: "06.12.34.56.78") stay phone numbers.
_NOT_PHONE_SPAN = re.compile(
    r"(?<![\d.])(?:"
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
    r"|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
    r"|\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"|\d{1,3}(?:\.\d{1,3}){3}"
    r"|[vV]?\d{1,2}(?:\.\d{1,5}){2,3}"
    r")(?:\s?(?:Z|UTC|GMT)?[+-]\d{2}:?\d{2}\b|Z\b)?(?![\d]|\.\d)"
)


_DIGIT = re.compile(r"\d")
#: fewest digits each pattern can replace: an IBAN has its 2 check digits, a card 13 digits (``_redact_card``),
#: a phone 7 (``_redact_phone``); a text with fewer digits is left as it is by that pattern
IBAN_MIN_DIGITS, CARD_MIN_DIGITS, PHONE_MIN_DIGITS = 2, 13, 7


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
    candidate = match.group()
    digits = re.sub(r"\D", "", candidate)
    # E.164 numbers have at most 15 digits; fewer than 7 is a date, a price or an order reference
    if not 7 <= len(digits) <= 15 or _NOT_PHONE.fullmatch(candidate.strip()):
        return candidate
    international = candidate.startswith(("+", "00", "("))
    if digits == candidate and not international:
        # an unbroken run of digits is an order or account number unless it has a national trunk prefix
        # ("07700900123", "0612345678"): those are phone numbers in most of Europe, Africa and Asia
        return "[PHONE]" if candidate.startswith("0") and 10 <= len(digits) <= 11 else candidate
    return "[PHONE]"


def redact_pii(text: str) -> str:
    """Replace e-mail addresses, URLs carrying tokens, IBANs, card numbers (Luhn-checked) and phone numbers.

    >>> redact_pii("Mail jane.doe@example.com or call +1 555 010 0199; card 4111 1111 1111 1111, order 1234567890123")
    'Mail [EMAIL] or call [PHONE]; card [CARD], order 1234567890123'
    >>> redact_pii("Call 07700 900123, +44 7700 900123, 0151 23456789 or +33 6 12 34 56 78 before 2026-09-14")
    'Call [PHONE], [PHONE], [PHONE] or [PHONE] before 2026-09-14'
    """
    if not text:
        return text
    # Cheap pre-checks skip a pattern that cannot match (each needs a character the text lacks); the result is
    # the same as running every substitution. The substitutions only ever remove digits, so counting them once
    # up front bounds what the later patterns can find.
    if "://" in text:
        text = _URL_WITH_TOKEN.sub("[URL]", text)
    if "@" in text:
        text = _EMAIL.sub("[EMAIL]", text)
    digits = len(_DIGIT.findall(text))
    if digits >= IBAN_MIN_DIGITS:
        text = _IBAN.sub("[IBAN]", text)
    if digits >= CARD_MIN_DIGITS:
        text = _CARD_CANDIDATE.sub(_redact_card, text)
    if digits >= PHONE_MIN_DIGITS:
        text = _redact_phones(text)
    return text


def _redact_phones(text: str) -> str:
    """Phone numbers in the stretches of ``text`` between dates, times, versions and IP addresses."""
    if ":" not in text and "." not in text and "-" not in text and "/" not in text:
        return _PHONE.sub(_redact_phone, text)
    parts, last = [], 0
    for span in _NOT_PHONE_SPAN.finditer(text):
        parts += [_PHONE.sub(_redact_phone, text[last : span.start()]), span.group()]
        last = span.end()
    parts.append(_PHONE.sub(_redact_phone, text[last:]))
    return "".join(parts)


#: columns that hold identifiers, not prose: never rewritten by :func:`redact_columns`
ID_COLUMNS = ("feedback_id", "customer_id", "ticket_id", "thread_id", "duplicate_of")
#: columns the pipeline derives from ``clean_text`` after redaction, or fills with its own vocabulary: already free
#: of PII when ``clean_feedback`` redacted, so :func:`redact_columns` skips them with ``derived_are_clean=True``
DERIVED_COLUMNS = (
    "clean_text",
    "language",
    "quality_issue",
    "sentiment_label",
    "sentiment_drivers",
    "churn_phrase",
    "theme_label",
    "themes",
)


def redact_columns(
    frame: pd.DataFrame, columns: list[str] | None = None, derived_are_clean: bool = False
) -> pd.DataFrame:
    """A copy with :func:`redact_pii` applied to text columns (default: every string column but the ids).

    Used before an export is written, so a pass-through column ("Requester email", the raw ``text``) does not
    carry personal data out.

    >>> redact_columns(pd.DataFrame({"text": ["mail a@b.example"], "customer_id": ["C1"]}))["text"].tolist()
    ['mail [EMAIL]']
    """
    out = frame.copy()
    if columns is None:
        skipped = ID_COLUMNS + (DERIVED_COLUMNS if derived_are_clean else ())
        columns = [
            c
            for c in out.columns
            if c not in skipped and (out[c].dtype == object or pd.api.types.is_string_dtype(out[c]))
        ]
    for column in columns:
        out[column] = _redact_values(out[column].to_numpy(dtype=object))
    return out


def _redact_values(values: np.ndarray) -> list:
    """:func:`redact_pii` of every string, each distinct string once (pass-through columns repeat: a channel, a
    subject line, a resent message); every other value exactly as it is."""
    strings = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    out = values.copy()
    if strings.any():
        codes, distinct = pd.factorize(values[strings])
        out[strings] = np.array([redact_pii(v) for v in distinct], dtype=object)[codes]
    return out.tolist()


# ------------------------------------------------------------------------------------------- language

_WORD = re.compile(r"[^\W\d_]+", re.U)
#: letters of a non-Latin script -> the language its text is most likely in (a guess, but never English)
_SCRIPTS = (
    (0x3040, 0x30FF, "ja"),
    (0xAC00, 0xD7AF, "ko"),
    (0x1100, 0x11FF, "ko"),
    (0x4E00, 0x9FFF, "zh"),
    (0x0400, 0x04FF, "ru"),
    (0x0600, 0x06FF, "ar"),
    (0x0590, 0x05FF, "he"),
    (0x0370, 0x03FF, "el"),
    (0x0E00, 0x0E7F, "th"),
    (0x0900, 0x097F, "hi"),
)


def _script_language(text: str) -> str | None:
    """The language of a text written mostly in a non-Latin script, or None (Latin script, or too mixed)."""
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        code = ord(ch)
        if code < 0x0370:
            continue
        for low, high, lang in _SCRIPTS:
            if low <= code <= high:
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not counts or sum(counts.values()) * 2 < letters:
        return None
    if counts.get("ja") and counts.get("zh"):  # Japanese mixes kana with kanji (Han characters)
        return "ja"
    return max(counts, key=counts.get)


#: frequent English words that are not also common words of the languages customers write in: "a", "as" and "no"
#: (Portuguese, Spanish), "is", "of" (Dutch), "die", "was", "in", "so" (German), "on", "me" (French), "i" (Italian),
#: "to" (Polish), "for" (Danish) are left out, so they never make a foreign text look English
_ONLY_ENGLISH = frozenset(
    """the and you your my it its this that these those with have has had are were but not be
been can will would should could they them their we our us what when where why how which who just from there here if
or at about only very still again please thanks thank get got any some than then because into over after before does
did she her him his yes""".split()
)
#: a text is English at once when at least MIN_ENGLISH_WORDS of its words, and this share of them, are _ONLY_ENGLISH:
#: true of about half of the English dev rows (benchmarks/language.py), and of no foreign sentence seen
ONLY_ENGLISH_SHARE = 0.2
MIN_ENGLISH_WORDS = 2
#: function words of other Latin-script languages that are not English words, nor parts of English ("non-stop",
#: "I've", "y'all", "c'mon", "'em"): the model is only asked about a text with one of them in lower case, or with a
#: non-ASCII letter. Lower case, so "LA", "LAS" and "Los Angeles" are no evidence; a foreign text with none of them
#: stays English, a miss that is rare in support messages of a sentence or more
_OTHER_LANGUAGE_WORDS = frozenset(
    """
el la los las que de por para una un pero muy esta mi del al se lo su le les et est pas je une des pour avec
mais ne dans sur vous nous ce qui du au os uma com meu mas muito eu na pela pelo dos das ao foi
der das und ist nicht ich ein eine zu auf mit sie wir aber sehr auch kann dem mein meine
il che di sono mio ma molto della nel gli questo het een en niet ik voor op mijn maar zijn ook
och att jag det som inte har ikke og jeg er nie jest bir bu ile yang dan tidak ini itu saya si nu este pe cu
""".split()
)
#: what is not language for the model: handles, hashtags, links, redaction marks ([PHONE], CFPB's XXXX), entities
_NOT_LANGUAGE = re.compile(r"[@#]\w+|https?://\S+|www\.\S+|\[[A-Z]+\]|\bX{2,}\b|&#?\w+;")
_NOT_LANGUAGE_HINT = re.compile(r"[@#\[&]|://|www\.|XX")
#: fewer words than this, once the above is removed, and a text is too short to tell: 'unknown' (analysed as English)
MIN_WORDS = 3
#: the model's probability (py3langid's, scaled by the text's length) a language needs to be reported; below it the
#: text is 'unknown'. English dev rows that reached the model scored at most 0.26 for another language (one French
#: "Merci pour le movie." aside), foreign support messages 0.73 and more (benchmarks/language.py, tests/test_clean.py)
MIN_LANGUAGE_PROBABILITY = 0.5
#: the model's classes read as English: Nigerian Pidgin is English-lexified and takes plain short English questions
#: ("how do i get a pin for my card"); "zxx" (no language: numbers, codes) is 'unknown'
_ENGLISH_CLASSES = frozenset({"en", "pcm"})
#: only this much of a text is read: a language shows in its first sentences, and long complaints cost no more
LANGUAGE_HEAD_CHARS = 1000


def _other_language_sign(words: list[str], ascii_only: bool) -> bool:
    """Whether a Latin-script text's words show another language: a foreign function word, or a non-ASCII letter."""
    return not _OTHER_LANGUAGE_WORDS.isdisjoint(words) or (not ascii_only and not all(w.isascii() for w in words))


@functools.cache
def _language_model() -> LanguageIdentifier:
    """py3langid's model, shipped in its wheel, with probabilities; loaded once per process (about 0.5 s)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str:
    """The text's language as an ISO 639 code ('en', 'es', 'de', ...), or 'unknown' when it is too short or unclear.

    Non-Latin scripts are told by their letters; a Latin-script text is asked of py3langid's model only when it
    shows a sign of another language (a foreign function word, an accented letter) and is not plainly English, so
    most English rows never reach the model and a text too short or unclear stays English or 'unknown'.

    >>> detect_language("The invoice is wrong and I want my money back")
    'en'
    >>> detect_language("No puedo entrar a mi cuenta y la factura está mal")
    'es'
    >>> detect_language("Love it just as good as a new one")
    'en'
    >>> detect_language("ok")
    'unknown'
    >>> detect_language("アプリがクラッシュします。返金してください")
    'ja'
    """
    head = text[:LANGUAGE_HEAD_CHARS]
    ascii_only = head.isascii()
    if not ascii_only:
        script_language = _script_language(head)
        if script_language:
            return script_language
    # lower() keeps an ASCII text's words where they were; elsewhere each word is lowered, as found
    lower_words = _WORD.findall(head.lower()) if ascii_only else [w.lower() for w in _WORD.findall(head)]
    if not lower_words:
        return "unknown"
    only_english = sum(map(_ONLY_ENGLISH.__contains__, lower_words))
    if only_english >= MIN_ENGLISH_WORDS and only_english >= ONLY_ENGLISH_SHARE * len(lower_words):
        return "en"
    if _NOT_LANGUAGE_HINT.search(head):
        head = _NOT_LANGUAGE.sub(" ", head)
    if head.isupper():  # shouting: "NO FUNCIONA" is as Spanish as "no funciona"
        head = head.lower()
    words = _WORD.findall(head)
    if len(words) < MIN_WORDS:
        return "unknown"
    if not _other_language_sign(words, ascii_only):
        return "en"
    language, probability = _language_model().classify(head)
    if language in _ENGLISH_CLASSES:
        return "en"
    return language if probability >= MIN_LANGUAGE_PROBABILITY and language != "zxx" else "unknown"


# ------------------------------------------------------------------------------------------- duplicates

#: two messages from one customer with the same normalized text this close in time are one message sent twice
#: (a resend, a double-submitted form, the same mail exported in two folders). Survey waves and repeated
#: short answers ("Fine.") are days apart, so they stay separate responses: in the bundled sample data the
#: closest same-customer, same-text pair is more than a day apart.
DUPLICATE_WINDOW = pd.Timedelta(hours=24)
_NOT_WORD = re.compile(r"[\W_]+", re.U)


def normalize_for_duplicates(text: str) -> str:
    """Case, punctuation and spacing folded, so near-identical resends compare equal.

    >>> normalize_for_duplicates("Refund   please!!") == normalize_for_duplicates("refund, please")
    True
    """
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def find_duplicates(
    df: pd.DataFrame, text_column: str = "clean_text", window: pd.Timedelta = DUPLICATE_WINDOW, normalized: bool = False
) -> pd.Series:
    """``duplicate_of``: the feedback_id of the earlier message this row repeats, or "".

    A row repeats an earlier one when both have the same customer and the same normalized text and were
    created within ``window`` of it (or either has no date). The earliest of a run is the original; it is
    never flagged. Texts that are empty after normalization are never duplicates. ``normalized``: the column
    already holds ``normalize_for_duplicates`` keys (or stable hashes of them, "" for empty), as the chunked
    pipeline passes it.
    """
    out = np.full(len(df), "", dtype=object)
    if "customer_id" not in df.columns or not len(df):
        return pd.Series(out, index=df.index, dtype=object)
    keys = df[text_column].to_numpy(dtype=object)
    if not normalized:
        keys = np.array([normalize_for_duplicates(str(text)) for text in keys.tolist()], dtype=object)
    customers = df["customer_id"].astype(str).to_numpy(dtype=object)
    group = pd.MultiIndex.from_arrays([customers, keys]).factorize()[0]
    # a row without a customer repeats no one
    candidates = np.flatnonzero(
        (keys != "") & df["customer_id"].notna().to_numpy() & pd.Series(group).duplicated(keep=False).to_numpy()
    )
    if not len(candidates):
        return pd.Series(out, index=df.index, dtype=object)
    times = (
        pd.to_datetime(df["created_at"], errors="coerce")
        if "created_at" in df.columns
        else pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    )
    # ticks since the epoch in the column's own unit (UTC for zone-aware times): a sentinel date such as
    # 9999-12-31 fits in microseconds, not in nanoseconds. NaT is the smallest int64, so it sorts first
    index = pd.DatetimeIndex(times)
    ticks = index.asi8
    ids = (
        df["feedback_id"].astype(str).to_numpy(dtype=object)
        if "feedback_id" in df.columns
        else df.index.astype(str).to_numpy(dtype=object)
    )
    # each (customer, text) group in time order, ties in input order; then one pass: a row within the window
    # of its group's current original repeats it, any other row starts a new run
    order = candidates[np.lexsort((candidates, ticks[candidates], group[candidates]))]
    window_ticks, missing = int(pd.Timedelta(window) / pd.Timedelta(1, index.unit)), int(pd.NaT.value)
    previous_group, anchor_time, anchor_id = -1, missing, ""
    for row, row_group, time in zip(order.tolist(), group[order].tolist(), ticks[order].tolist()):
        if row_group == previous_group and (
            time == missing or anchor_time == missing or time - anchor_time <= window_ticks
        ):
            out[row] = anchor_id
        else:
            previous_group, anchor_time, anchor_id = row_group, time, ids[row]
    return pd.Series(out, index=df.index, dtype=object)


# ------------------------------------------------------------------------------------------- stage

#: control characters no message means (a NUL from a broken export, form feeds): a space, so words stay apart
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_RUN = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str, redact: bool = True, max_chars: int | None = None) -> tuple[str, str]:
    """Cleaned text and removed parts of one message.

    >>> clean_text("<p>Hi team,</p><p>Charged twice, call me on 0201 234 5678</p><p>Sent from my iPhone</p>")
    ('Charged twice, call me on [PHONE]', 'Hi team,\\n\\nSent from my iPhone')
    """
    if not text:
        return "", ""
    body = html_to_text(text).replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(body):
        body = _CONTROL.sub(" ", body)
    body, removed = split_message(body)
    greeting = _GREETING.match(body)
    if greeting:  # kept with the removed parts, like quotes and signatures
        removed = "\n\n".join(part for part in (greeting.group().strip(), removed) if part)
        body = body[greeting.end() :]
    # each step only when it can change something (a run of spaces or a tab; more than one line)
    if "\t" in body or "  " in body:
        body = _SPACE_RUN.sub(" ", body)
    if "\n" in body:
        body = "\n".join(line.strip() for line in body.split("\n"))
        body = _BLANK_LINES.sub("\n\n", body).strip()
    else:
        body = body.strip()
    if max_chars and len(body) > max_chars:
        body = body[:max_chars]
    if redact:
        body, removed = redact_pii(body), redact_pii(removed)
    return body, removed


def clean_feedback(
    df: pd.DataFrame, text_column: str = "text", redact: bool = True, max_chars: int | None = 20_000
) -> pd.DataFrame:
    """Add ``clean_text``, ``removed_text``, ``language`` and ``duplicate_of``; flag empty, non-English and repeated
    rows.

    A row's ``quality_issue`` keeps an earlier reason (from ingest) and is otherwise set to ``empty_text``
    when nothing is left after cleaning, ``non_english`` for another language, or ``truncated``. A row that
    repeats an earlier message of the same customer (see :func:`find_duplicates`) is flagged ``duplicate``, a
    skip reason, so a resent complaint is counted once; its ``duplicate_of`` names the original's feedback_id.
    """
    out = df.copy()
    texts = out[text_column].astype(object).where(out[text_column].notna(), "").astype(str).tolist()
    cleaned = [clean_text(t, redact=redact, max_chars=max_chars) for t in texts]
    out["clean_text"] = [c for c, _ in cleaned]
    out["removed_text"] = [r for _, r in cleaned]
    out["language"] = [detect_language(c) for c, _ in cleaned]
    issues = (
        out["quality_issue"].copy() if "quality_issue" in out.columns else pd.Series("", index=out.index, dtype=object)
    )
    issues = issues.astype(object).where(issues.notna(), "")
    empty = pd.Series([not c.strip() for c, _ in cleaned], index=out.index, dtype=bool)
    issues[empty & (issues == "")] = "empty_text"
    other_language = ~out["language"].isin(["en", "unknown"])
    issues[other_language & (issues == "")] = "non_english"
    if max_chars:
        truncated = pd.Series([len(t) > max_chars for t in texts], index=out.index)
        issues[truncated & (issues == "")] = "truncated"
    # A repeat is skipped even when it carries a note (a blanked score, no date): it is counted once, as its original.
    out["duplicate_of"] = find_duplicates(out)
    issues[(out["duplicate_of"] != "") & issues.isin(["", *NOTE_REASONS])] = "duplicate"
    out["quality_issue"] = issues
    return out
