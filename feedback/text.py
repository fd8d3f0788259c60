"""Shared text processing for themes: tokens, lemmas from spaCy's lookup tables, stop and boilerplate words.

The default path uses spaCy's English resources (stop words, the ``spacy-lookups-data`` lemma table)
without running a pipeline per document: a table look-up per distinct word is all lemmatizing costs, so
tokenizing a text costs a fraction of scoring its sentiment.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS

#: words that carry a complaint's meaning and so stay in, although spaCy lists them as stop words
KEPT_FUNCTION_WORDS = frozenset(
    {"not", "no", "never", "nothing", "again", "twice", "without", "cannot", "down", "off", "empty", "over"}
)
#: words that open, close or pad support messages in any company: they say nothing about the problem
BOILERPLATE = frozenset(
    """
hi hello hey dear thanks thank thx regards best kind cheers sincerely please pls team support guys folks
hope hoping iphone outlook morning afternoon evening help helpful advance appreciate
appreciated asap just really also still get got would could like know let want need anyone someone lot
""".split()
)
STOP = frozenset((set(STOP_WORDS) | BOILERPLATE) - KEPT_FUNCTION_WORDS)
#: lemmas the lookup table gets wrong for support text ("data" is not "datum" here)
LEMMA_EXCEPTIONS = {
    "data": "data",
    "media": "media",
    "was": "be",
    "charges": "charge",
    "logging": "log",
    "login": "log",
    "logins": "log",
    "signin": "sign",
    "pdfs": "pdf",
    "csvs": "csv",
    "ios": "ios",
    "sms": "sms",
}

#: a word holds a letter, of any alphabet ("problème", "straße"): "2fa" and "ios16" are words, "2026" is not
_WORD = r"[0-9]*[^\W\d_][^\W_]*(?:'[^\W\d_]+)?"
_TOKEN = re.compile(_WORD)
#: punctuation that ends a phrase: no label spans it ("in a minute. Fantastic" is not the phrase "minute fantastic")
PHRASE_BREAKS = frozenset('.!?;:,()[]"\n')
_TOKEN_OR_BREAK = re.compile(_WORD + r"|[.!?;:,()\[\]\"\n]")
#: placeholders left by PII redaction are not words of the customer
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|URL)\]")


@lru_cache(maxsize=1)
def _lemma_table():
    import spacy.lookups

    return spacy.lookups.load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Lemma of a lower-case word from spaCy's English lookup table.

    >>> lemma("charged"), lemma("invoices"), lemma("data")
    ('charge', 'invoice', 'data')
    """
    if word in LEMMA_EXCEPTIONS:
        return LEMMA_EXCEPTIONS[word]
    return _lemma_table().get(word, word)


def _content_word(word: str) -> tuple[str, str] | None:
    """(surface, lemma) of one token of ``_TOKEN_OR_BREAK``, or None for a phrase break or a stop word."""
    if word in PHRASE_BREAKS:
        return None
    if word.endswith("n't"):
        return ("not", "not")
    if "'" in word:
        word = word.split("'")[0]
    if word in STOP or len(word) < 2:
        return None
    lem = lemma(word)
    if lem in STOP:
        return None
    return (word, lem)


#: token -> _content_word(token), filled as tokens are met: a text costs one dict look-up per word. Cleared when
#: it holds this many tokens (a vocabulary; support text has far fewer distinct words)
CONTENT_CACHE_SIZE = 500_000
_CONTENT: dict[str, tuple[str, str] | None] = {}


def _words(text: str) -> list[str]:
    if "[" in text:
        text = _PLACEHOLDER.sub(" ", text)
    return _TOKEN_OR_BREAK.findall(text.lower().replace("’", "'"))


def _content_of(words: list[str]) -> list[tuple[str, str] | None]:
    cache = _CONTENT
    out = []
    for word in words:
        try:
            out.append(cache[word])
        except KeyError:
            if len(cache) >= CONTENT_CACHE_SIZE:
                cache.clear()
            out.append(cache.setdefault(word, _content_word(word)))
    return out


def words_and_content(text: str) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Every word and phrase break of a text, and (position, surface, lemma) of its content words.

    >>> words_and_content("I can't log in.")
    (['i', "can't", 'log', 'in', '.'], [(1, 'not', 'not'), (2, 'log', 'log')])
    """
    words = _words(text)
    content = [(position, *entry) for position, entry in enumerate(_content_of(words)) if entry is not None]
    return words, content


def phrase_lemmas(text: str) -> str:
    """Every word of a text as its lemma, stop words kept as they are (and phrase breaks kept): where taxonomy
    seeds that hold stop words ("timed out", "sign in") are looked for as whole phrases.

    >>> phrase_lemmas("My request timed out. Signing in fails")
    'my request time out . sign in fail'
    """
    words = _words(text)
    return " ".join(word if entry is None else entry[1] for word, entry in zip(words, _content_of(words)))


def content_tokens(text: str) -> list[tuple[str, str]]:
    """(surface, lemma) pairs of the content words of a text; negated contractions become 'not'.

    >>> content_tokens("Hi team, I was charged twice and can't log in!")
    [('charged', 'charge'), ('twice', 'twice'), ('not', 'not'), ('log', 'log')]
    """
    return [(word, lem) for _, word, lem in words_and_content(text)[1]]


def lemma_string(text: str) -> str:
    """Content lemmas joined by spaces: the input of the theme vectorizer (one dict look-up per word).

    >>> lemma_string("The invoices were not sent!")
    'invoice not send'
    >>> lemma_string("Hi team, I was charged twice and can't log in!")
    'charge twice not log'
    """
    return " ".join([entry[1] for entry in _content_of(_words(text)) if entry is not None])


#: an @handle addresses the company ("@Ledgerly", "@united"), it is not part of the topic
_MENTION = re.compile(r"(?<![\w@])@\w+")
#: a redaction mark an export put in place of what it hid ("XXXX", the parts of "XX/XX/2019"): in redacted
#: complaints, units made mostly of marks were alike only in them, and made the largest theme
REDACTION_MARK = re.compile(r"(?<![^\W\d_])[xX]{2,}(?![^\W\d_])")
#: a link points at the topic (a screenshot, a tracking page) but its parts are not words of it: left in, the
#: "http" and "co" of shortened links made a theme of their own in tweets
#: (a link ends at a space, a comma, a quote, a bracket or a non-ASCII dash, and not on a full stop)
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)[\w\-.~:/?#@!$&*+;=%]*[\w/#=&%]")
_SENTENCE_END = re.compile(r"(?<=[.!?])(\s+)")
#: a customer handing over contact or payment details: "my email is [EMAIL]", "reach me at [PHONE]", "call me back
#: on [PHONE]", "the card I used is [CARD]", "exp 09/28". Only these phrasings count, so "Someone used my card
#: [CARD]!" (a fraud report) or "I keep calling [PHONE]" stay in the topic text
_CONTACT_DETAIL = re.compile(r"""(?ix)
    \b(?:my|our|the)\s+(?:e-?mail|phone|mobile|cell|number|contact)(?:\s+(?:address|number|details?))?\s*(?:is|:)\s*
        \[(?:EMAIL|PHONE)\]
  | \b(?:reach|contact|call|text|e-?mail|ring|phone)\s+(?:me|us)(?:\s+back)?\s+(?:at|on|via|by|to)\s+\[(?:EMAIL|PHONE)\]
  | \b(?:the\s+)?card\s+(?:i|we)\s+used\s+(?:is|was)\s+\[CARD\]
  | \bexp(?:iry|ires)?\.?\s*\d{1,2}/\d{2,4}
""")
#: lemmas that may stay around such a phrase in a sentence that still only hands over details
CONTACT_WORDS = frozenset("email mail phone number call contact card exp expiry detail address mobile".split())


def _only_contact_details(sentence: str) -> bool:
    if not _CONTACT_DETAIL.search(sentence):
        return False
    rest = _CONTACT_DETAIL.sub(" ", sentence)
    return all(lem in CONTACT_WORDS for _, lem in content_tokens(rest))


def topic_text(text: str) -> str:
    """The part of a message that can say what it is about: @handles, links, redaction marks and contact-detail
    sentences removed.

    Themes are discovered and tagged on this text, so "@Ledgerly No complaints so far." joins "No complaints so
    far." and a sign-off with a phone number does not become a theme of its own.

    >>> topic_text("@Ledgerly I was charged twice. You can reach me at [EMAIL] if needed.")
    'I was charged twice.'
    >>> topic_text("Someone used my card [CARD]! My phone is [PHONE].")
    'Someone used my card [CARD]!'
    >>> topic_text("XXXX charged me twice for my XXL coat")
    'charged me twice for my XXL coat'
    """
    if "://" in text or "ww." in text or "WW." in text:  # before handles: a link may hold an "@name" part
        text = _LINK.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if "xx" in text or "XX" in text:
        text = REDACTION_MARK.sub(" ", text)
    if "[" in text and _PLACEHOLDER.search(text):
        parts = _SENTENCE_END.split(text)  # sentence, separator, sentence, …: line breaks stay phrase breaks
        text = "".join(
            sentence + separator
            for sentence, separator in zip(parts[0::2], parts[1::2] + [""])
            if not _only_contact_details(sentence)
        )
    return text.strip()
