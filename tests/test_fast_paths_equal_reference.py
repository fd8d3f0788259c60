"""The fast paths of cleaning and theme tagging give exactly what the plain versions gave.

Each reference below is the code as it was before the pre-checks and caches went in (every regex run on every
text, lemmas looked up word by word, taxonomy seeds searched with regexes, tags sorted row by row); the texts are
the bundled sample data plus generated messages full of the things the pre-checks look for (digits, "@", "://",
tabs, runs of spaces, line breaks, non-ASCII letters, HTML, quotes).
"""

import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feedback import clean, text as text_module
from feedback.themes import GuideTheme, _guide_patterns, _match_seeds, load_taxonomy

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "feedback.csv"
PIECES = [
    "Refund please",
    "call +44 7700 900123",
    "card 4111 1111 1111 1111",
    "IBAN DE89 3704 0044 0532 0130 00",
    "mail jane.doe@example.com",
    "@united flight 1234",
    "https://x.example/a?token=abc123",
    "http://t.co/xyz",
    "order 1234567890123",
    "on 2026-09-14",
    "0612345678",
    "tel 555-0199",
    "  two  spaces",
    "tab\there",
    "İstanbul ŞEHİR",
    "Ünïcödé wörds",
    "١٢٣٤٥٦٧٨٩",
    "<p>Hi &amp; thanks</p>",
    "I paid &pound;20 <3",
    "> quoted line",
    "Hi team,",
    "Thanks,",
    "Sent from my iPhone",
    "--",
    "No puedo entrar a mi cuenta",
    "Die Rechnung ist nicht korrekt",
    "can't log in",
    "the app’s login isn't working",
    "[PHONE] [EMAIL]",
    "AB12 CDEF GHIJ",
    "12 34 56 78 90 12 34",
    "\r\n",
    "\n",
    "\n\n\n",
    " ",
    "ok",
    "1.250.000",
    "(555) 123-4567",
]


def _texts() -> list[str]:
    rng = random.Random(7)
    texts = pd.read_csv(SAMPLE)["text"].dropna().astype(str).tolist()
    for _ in range(3000):
        texts.append(rng.choice([" ", "\n", ". ", ""]).join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))))
    return texts


TEXTS = _texts()


# ------------------------------------------------------------------------------------------ references


def reference_redact(text: str) -> str:
    if not text:
        return text
    text = clean._URL_WITH_TOKEN.sub("[URL]", text)
    text = clean._EMAIL.sub("[EMAIL]", text)
    text = clean._IBAN.sub("[IBAN]", text)
    text = clean._CARD_CANDIDATE.sub(clean._redact_card, text)
    parts, last = [], 0  # phone numbers between dates, times, versions and addresses, every text split
    for span in clean._NOT_PHONE_SPAN.finditer(text):
        parts += [clean._PHONE.sub(clean._redact_phone, text[last : span.start()]), span.group()]
        last = span.end()
    return "".join(parts + [clean._PHONE.sub(clean._redact_phone, text[last:])])


def reference_language(text: str) -> str:
    """detect_language without its pre-checks: every text cleaned of handles and links, each word lowered alone."""
    head = text[: clean.LANGUAGE_HEAD_CHARS]
    if not head.isascii():
        script_language = clean._script_language(head)
        if script_language:
            return script_language
    lower_words = [w.lower() for w in clean._WORD.findall(head)]
    if not lower_words:
        return "unknown"
    only_english = sum(w in clean._ONLY_ENGLISH for w in lower_words)
    if only_english >= clean.MIN_ENGLISH_WORDS and only_english >= clean.ONLY_ENGLISH_SHARE * len(lower_words):
        return "en"
    head = clean._NOT_LANGUAGE.sub(" ", head)
    if head.isupper():
        head = head.lower()
    words = clean._WORD.findall(head)
    if len(words) < clean.MIN_WORDS:
        return "unknown"
    if not any(w in clean._OTHER_LANGUAGE_WORDS or not w.isascii() for w in words):
        return "en"
    language, probability = clean._language_model().classify(head)
    if language in clean._ENGLISH_CLASSES:
        return "en"
    return language if probability >= clean.MIN_LANGUAGE_PROBABILITY and language != "zxx" else "unknown"


def reference_whitespace(body: str) -> str:
    body = re.sub(r"[ \t]+", " ", body)
    body = "\n".join(line.strip() for line in body.split("\n"))
    return re.sub(r"\n\s*\n+", "\n\n", body).strip()


def reference_words_and_content(text: str):
    words = text_module._TOKEN_OR_BREAK.findall(text_module._PLACEHOLDER.sub(" ", text).lower().replace("’", "'"))
    content = []
    for position, word in enumerate(words):
        if word in text_module.PHRASE_BREAKS:
            continue
        if word.endswith("n't"):
            content.append((position, "not", "not"))
            continue
        if "'" in word:
            word = word.split("'")[0]
        if word in text_module.STOP or len(word) < 2:
            continue
        lem = text_module.lemma(word)
        if lem in text_module.STOP:
            continue
        content.append((position, word, lem))
    return words, content


# ------------------------------------------------------------------------------------------ cleaning


def test_redact_pii_equals_every_pattern_run():
    for text in TEXTS:
        assert clean.redact_pii(text) == reference_redact(text), text


def test_detect_language_equals_the_plain_version():
    cleaned = [clean.clean_text(t)[0] for t in TEXTS]
    for text in TEXTS + cleaned:
        assert clean.detect_language(text) == reference_language(text), text


def test_whitespace_steps_equal_the_unconditional_ones(monkeypatch):
    seen = []
    real = clean.split_message

    def spy(body):
        out = real(body)
        seen.append(out)
        return out

    monkeypatch.setattr(clean, "split_message", spy)
    for text in TEXTS:
        seen.clear()
        body, _ = clean.clean_text(text, redact=False, max_chars=None)
        if seen:
            raw = seen[0][0]
            greeting = clean._GREETING.match(raw)
            expected = reference_whitespace(raw[greeting.end() :] if greeting else raw)
            assert body == expected, text


def test_html_and_quote_prechecks():
    for text in TEXTS:
        if "<" not in text:
            assert not clean._LOOKS_LIKE_HTML.search(text)
        if ">" not in text:
            assert not clean._QUOTED_LINE.findall(text)


# ------------------------------------------------------------------------------------------ tagging


def test_cached_tokens_equal_word_by_word_lemmas():
    for text in TEXTS:
        expected = reference_words_and_content(text)
        assert text_module.words_and_content(text) == expected, text
        assert text_module.lemma_string(text) == " ".join(lem for _, _, lem in expected[1])


def test_content_cache_clears_when_full(monkeypatch):
    monkeypatch.setattr(text_module, "CONTENT_CACHE_SIZE", 3)
    text_module._CONTENT.clear()
    assert text_module.lemma_string("invoices charged twice again refunds") == "invoice charge twice again refund"
    assert len(text_module._CONTENT) <= 3


@pytest.mark.parametrize(
    "guide",
    [
        load_taxonomy(),
        (
            GuideTheme("a", ("refund", "money back", "not receive refund")),
            GuideTheme("b", ("log", "refund")),
            GuideTheme("c", ("a.b", "x+y")),
        ),
    ],
)
def test_seed_lookup_equals_the_regex_search(guide):
    docs = [text_module.lemma_string(t) for t in TEXTS]
    docs += [
        "refund",
        "money back",
        "not receive refund now",
        "moneyback",
        "a.b",
        "aXb",
        "x+y z",
        "refund  log",
        " refund",
        "refund\tlog",
        "money\u00a0back",
        "",
    ]
    patterns = _guide_patterns(guide)
    expected = np.array([[bool(p.search(d)) for p in patterns] for d in docs], dtype=bool)
    assert expected.any()
    np.testing.assert_array_equal(_match_seeds(docs, guide), expected)


def test_whole_phrase_seeds_match_as_their_definition():
    """A whole-phrase seed (taxonomy seed with function words) matches iff the lemma doc holds its content lemmas
    and phrase_lemmas(text) holds the phrase: the pre-filter on the function words changes nothing."""
    import re

    guide = load_taxonomy()
    texts = TEXTS + [
        "It’s timed out again",
        "it's TIMED OUT",
        "the upload timed\nout",
        "I want my money back!",
        "money. back",
        "money back",
        "my plan price is going up",
        "PRICES ARE GOING UP",
        "time out",
        "outside of time",
        "we lost my data",
        "keeps closing",
        "two-factor code",
        "extra time",
    ]
    docs = [text_module.lemma_string(t) for t in texts]
    patterns = _guide_patterns(guide)
    expected = np.zeros((len(texts), len(guide)), dtype=bool)
    for i, (doc, text) in enumerate(zip(docs, texts)):
        whole = f" {text_module.phrase_lemmas(text)} "
        for j, theme in enumerate(guide):
            expected[i, j] = (
                bool(theme.seeds)
                and bool(patterns[j].search(doc))
                or any(
                    re.search(r"(?<!\S)" + re.escape(content) + r"(?!\S)", doc) and f" {phrase} " in whole
                    for content, phrase in theme.phrases
                )
            )
    assert expected[len(TEXTS) :].any()
    np.testing.assert_array_equal(_match_seeds(docs, guide, texts), expected)
