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
KEPT_FUNCTION_WORDS = frozenset({"not", "no", "never", "nothing", "again", "twice", "without", "cannot", "down",
                                 "off", "empty", "over"})
#: words that open, close or pad support messages in any company: they say nothing about the problem
BOILERPLATE = frozenset("""
hi hello hey dear thanks thank thx regards best kind cheers sincerely please pls team support guys folks
hope hoping iphone outlook morning afternoon evening help helpful advance appreciate
appreciated asap just really also still get got would could like know let want need anyone someone
""".split())
STOP = frozenset((set(STOP_WORDS) | BOILERPLATE) - KEPT_FUNCTION_WORDS)
#: lemmas the lookup table gets wrong for support text ("data" is not "datum" here)
LEMMA_EXCEPTIONS = {"data": "data", "media": "media", "was": "be", "charges": "charge", "logging": "log", "login": "log",
                    "logins": "log", "signin": "sign", "pdfs": "pdf", "csvs": "csv", "ios": "ios", "sms": "sms"}

#: a word holds a letter: "2fa" and "ios16" are words, "2026" is not
_TOKEN = re.compile(r"[0-9]*[a-z][a-z0-9]*(?:'[a-z]+)?")
#: punctuation that ends a phrase: no label spans it ("in a minute. Fantastic" is not the phrase "minute fantastic")
PHRASE_BREAKS = frozenset(".!?;:,()[]\"\n")
_TOKEN_OR_BREAK = re.compile(r"[0-9]*[a-z][a-z0-9]*(?:'[a-z]+)?|[.!?;:,()\[\]\"\n]")
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


def words_and_content(text: str) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Every word and phrase break of a text, and (position, surface, lemma) of its content words.

    >>> words_and_content("I can't log in.")
    (['i', "can't", 'log', 'in', '.'], [(1, 'not', 'not'), (2, 'log', 'log')])
    """
    words = _TOKEN_OR_BREAK.findall(_PLACEHOLDER.sub(" ", text).lower().replace("’", "'"))
    content = []
    for position, word in enumerate(words):
        if word in PHRASE_BREAKS:
            continue
        if word.endswith("n't"):
            content.append((position, "not", "not"))
            continue
        if "'" in word:
            word = word.split("'")[0]
        if word in STOP or len(word) < 2:
            continue
        lem = lemma(word)
        if lem in STOP:
            continue
        content.append((position, word, lem))
    return words, content


def content_tokens(text: str) -> list[tuple[str, str]]:
    """(surface, lemma) pairs of the content words of a text; negated contractions become 'not'.

    >>> content_tokens("Hi team, I was charged twice and can't log in!")
    [('charged', 'charge'), ('twice', 'twice'), ('not', 'not'), ('log', 'log')]
    """
    return [(word, lem) for _, word, lem in words_and_content(text)[1]]


def lemma_string(text: str) -> str:
    """Content lemmas joined by spaces: the input of the theme vectorizer.

    >>> lemma_string("The invoices were not sent!")
    'invoice not send'
    """
    return " ".join(lem for _, lem in content_tokens(text))
