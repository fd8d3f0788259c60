"""feedback.vader: the fast port of VADER's compound equals ``polarity_scores(text)["compound"]`` exactly, on
hand-written cases for each of VADER's rules and on thousands of generated texts."""

from __future__ import annotations

import numpy as np
import pytest
from vaderSentiment.vaderSentiment import SPECIAL_CASES, SentimentIntensityAnalyzer

from feedback.vader import VaderCompound, compound


@pytest.fixture(scope="module")
def reference():
    return SentimentIntensityAnalyzer()


@pytest.fixture(scope="module")
def port(reference):
    return VaderCompound(reference)


CASES = [
    # empty, whitespace, no sentiment word
    "",
    " ",
    "   \t\n ",
    "\u00a0",
    "the invoice number is 12345",
    "ok",
    "OK",
    "no",
    "No.",
    "!!!",
    "???",
    # VADER's own examples
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Without a doubt, an excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    # negation: NEGATE words, n't, one to three words back, "never so/this", "without doubt"
    "it is not good",
    "it isn't very good",
    "it wasn't really that good",
    "never so good",
    "never this bad",
    "never really so good",
    "so good",
    "this good",
    "without doubt great",
    "without any doubt great",
    "without a doubt good",
    "without good",
    "nothing good",
    "couldn't care less",
    "uh-uh good",
    "uhuh nice",
    "it ain't great",
    "the app isnt good",
    "rarely happy",
    "seldom good, despite great support",
    # "no": as negation of the next lexicon word, two and three words back, "no ... or/nor"
    "no good",
    "no problem",
    "no, good",
    "no way this is good",
    "no love or hate",
    "no joy nor fun",
    "no no no",
    "good no",
    "no",
    "NO GOOD",
    "no really good",
    "no very very good",
    # "least"
    "the least good",
    "at least good",
    "very least good",
    "least good",
    "LEAST good",
    "at least",
    # boosters, dampeners, caps emphasis, "kind of" / "sort of"
    "very good",
    "VERY good",
    "VERY GOOD",
    "very VERY good",
    "extremely bad",
    "EXTREMELY bad day",
    "kind of good",
    "kind of bad",
    "KIND OF good",
    "sort of good",
    "sort of bad really",
    "kinda good",
    "kind",
    "kind of",
    "so kind of you",
    "it was kind",
    "a kind person",
    "just enough good",
    "barely good",
    "slightly bad",
    "almost perfect",
    "marginally BAD indeed",
    "the most AMAZING day",
    "quite bad ass",
    # SPECIAL_CASES and booster n-grams
    "the shit",
    "this is the shit",
    "the bomb",
    "this party is the bomb",
    "bad ass",
    "what a bad ass movie",
    "bus stop",
    "the bus stop was dirty",
    "yeah right",
    "oh yeah right great",
    "kiss of death",
    "it was the kiss of death for us",
    "to die for",
    "a cake to die for",
    "beating heart",
    "my beating heart",
    "cut the mustard",
    "hand to mouth",
    "under the weather",
    "in the red",
    "blow smoke",
    "upper hand great",
    "it does not cut the mustard",
    "it was good kind of",
    "sort of good great",
    "this is kind of great",
    # "but" with equal valences (VADER's index quirk), several "but"s, "but" first or last
    "good but good",
    "good good but good",
    "good but good good bad bad",
    "bad but bad",
    "but good",
    "good but",
    "good but bad but good",
    "GOOD but good",
    "nice nice nice but nice",
    "BUT it is good",
    "great, but terrible and great but great",
    "love love but hate hate love",
    # punctuation emphasis
    "good!",
    "good!!",
    "good!!!!",
    "good!!!!!!!!",
    "bad!!!",
    "good?",
    "good??",
    "good???",
    "good????????",
    "bad?!?!",
    "good ! ! ! ? ?",
    "what?? no!!",
    "ok??",
    "nice.!?",
    # emoticons, emoji (with and without spaces around), non-ASCII
    ":)",
    ":(",
    ":-)",
    ":D",
    "<3",
    ":'(",
    "good :)",
    "bad :(",
    "love it<3",
    "😡",
    "👍",
    "great👍",
    "👍great",
    "so 😡😡 angry",
    "x😡y",
    "😡 ",
    " 😡",
    "thanks🔛",
    "🔛!",
    "café good",
    "naïve but lovely",
    "İ love it",
    "ÇOK GÜZEL good",
    "très bien",
    "很好 good",
    "No puedo entrar a mi cuenta",
    "good\u00a0bad",
    "good\u2003bad",
    # tokens whose stripped form is short (kept with punctuation) and punctuation around words
    "ok.",
    "(good)",
    "'bad'",
    '"great"',
    "--no--",
    "a,b",
    "hmm... good...",
    "*love*",
    "#fail",
    "@user good",
    # all caps text (no caps differential), mixed
    "THIS IS BAD",
    "THIS IS BAD but GOOD",
    "This Is Bad",
    "I HATE it",
    "i hate IT",
]


def test_hand_written_cases_equal_polarity_scores(reference, port):
    for text in CASES:
        assert port(text) == reference.polarity_scores(text)["compound"], text
    assert port("") == 0.0 and port("good") > 0 > port("bad")


def test_every_special_case_idiom_in_context_equals_polarity_scores(reference, port):
    frames = [
        "{}",
        "it is {}",
        "it was not {} at all",
        "this {} is good",
        "GREAT {} but bad",
        "very {} !!",
        "no {} really",
        "they said {} kind of",
    ]
    texts = [f.format(idiom) for idiom in SPECIAL_CASES for f in frames]
    assert [port(t) for t in texts] == [reference.polarity_scores(t)["compound"] for t in texts]


#: a vocabulary that hits every rule of VADER often: lexicon words (also in caps and with punctuation), boosters,
#: negations, "no", "least", "never so", "without doubt", idiom words, "but", emoticons, emoji, non-ASCII
VOCABULARY = [
    "good",
    "bad",
    "great",
    "terrible",
    "love",
    "hate",
    "nice",
    "awful",
    "happy",
    "sad",
    "fine",
    "ok",
    "like",
    "kind",
    "doubt",
    "death",
    "heart",
    "shit",
    "bomb",
    "ass",
    "die",
    "right",
    "yeah",
    "problem",
    "help",
    "thanks",
    "GOOD",
    "BAD",
    "Great",
    "HATE",
    "good!",
    "bad,",
    "(great)",
    "'nice'",
    "love.",
    "sux",
    "lol",
    "wtf",
    "very",
    "VERY",
    "extremely",
    "really",
    "so",
    "SO",
    "kinda",
    "sort",
    "of",
    "just",
    "enough",
    "barely",
    "most",
    "not",
    "isn't",
    "never",
    "without",
    "nor",
    "or",
    "no",
    "NO",
    "No",
    "nothing",
    "uh-uh",
    "ain't",
    "couldn't",
    "cant",
    "least",
    "at",
    "this",
    "the",
    "a",
    "it",
    "is",
    "was",
    "my",
    "refund",
    "order",
    "app",
    "to",
    "for",
    "bus",
    "stop",
    "kiss",
    "beating",
    "cut",
    "mustard",
    "but",
    "BUT",
    "But",
    "but,",
    ":)",
    ":(",
    ":D",
    "<3",
    "😡",
    "👍",
    "💘",
    "😁",
    "🔛",
    "café",
    "İ",
    "très",
]
ENDINGS = ["", ".", "!", "!!", "!!!!!", "?", "??", "???", "????", "?!", " :)", "👍", "!?!?"]


def _generated_texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = []
    for k in range(n):
        length = int(rng.integers(0, 16)) if k % 50 else int(rng.integers(100, 400))  # some very long texts
        words = [VOCABULARY[i] for i in rng.integers(0, len(VOCABULARY), length)]
        if k % 7 == 0:
            words = [w.upper() for w in words]  # all caps: no caps differential
        gaps = [[" ", " ", " ", "  ", "", "\t"][int(i)] for i in rng.integers(0, 6, max(0, length - 1))]
        text = "".join(w + g for w, g in zip(words, gaps + [""]))
        texts.append(text + ENDINGS[int(rng.integers(len(ENDINGS)))])
    return texts


def test_thousands_of_generated_texts_equal_polarity_scores(reference, port):
    texts = _generated_texts(6000, seed=11)
    expected = [reference.polarity_scores(t)["compound"] for t in texts]
    got = [port(t) for t in texts]
    mismatches = [(t, g, e) for t, g, e in zip(texts, got, expected) if g != e]
    assert not mismatches, mismatches[:5]
    # the generator exercises what it should: non-zero scores of both signs, "but", emoji, long texts
    assert sum(e > 0 for e in expected) > 1000 and sum(e < 0 for e in expected) > 1000
    assert sum(" but " in t.lower() for t in texts) > 500 and sum("😡" in t for t in texts) > 300
    assert sum(len(t.split()) >= 100 for t in texts) >= 100


def test_module_level_compound_and_non_string_input(reference):
    assert compound("I love it!") == reference.polarity_scores("I love it!")["compound"]
    for bad in (42, None):  # VADER fails on non-strings; so does the port, the same way
        with pytest.raises(TypeError):
            reference.polarity_scores(bad)
        with pytest.raises(TypeError):
            compound(bad)


def test_lexicon_is_read_from_the_analyzer_live(reference):
    analyzer = SentimentIntensityAnalyzer()
    port = VaderCompound(analyzer)
    assert port("blorp") == 0.0
    analyzer.lexicon["blorp"] = 2.0
    assert port("blorp") == analyzer.polarity_scores("blorp")["compound"] > 0


def test_guarded_rule_regexes_of_the_scorer_match_exactly_what_the_rules_match():
    """The sentiment hot path searches the rules with a first-character guard (sentiment._guarded): same matches."""
    import re

    from feedback.sentiment import SentimentScorer, _guarded, _lowercase_pattern

    scorer = SentimentScorer()
    texts = [t.lower() for t in CASES + _generated_texts(500, seed=5)] + [
        "i have been waiting 3 weeks",
        "still not working!",
        "i want to cancel my subscription",
        "call my lawyer",
        "why is it so slow?",
        "thanks for nothing",
        "i'd like a refund",
        "can't wait",
        "they didn't reply",
        "charged me twice",
        "٣ days late",
        "third time i call",
        "urgent: on hold for 2 hours",
        "i'm leaving",
        "it would be nice to have dark mode",
        "nothing could be better",
        "could be a lot better",
        "wish you had a better app",
        "i wish i had never signed up",
        "couldn't be easier",
        "searching takes 56 seconds",
        "it only takes 5 minutes",
        "my clients pay faster now",
        "i want clients to pay faster",
        "it used to be instant",
        "not slower than before",
    ]
    guarded = 0
    for rule, compiled in scorer._rule_res:
        plain = re.compile(_lowercase_pattern(rule.pattern.pattern))
        guarded += compiled.pattern != plain.pattern
        for text in texts:
            a, b = compiled.search(text), plain.search(text)
            assert (a and a.span()) == (b and b.span()), (rule.name, text)
    assert guarded == len(scorer._rule_res)  # every shipped rule gets the guard
    # the one pre-check search of all rules (without their look-behinds) lets through every text a rule matches
    assert all(bool(scorer._any_rule.search(t)) for t in texts if any(c.search(t) for _, c in scorer._rule_res))
    assert sum(bool(scorer._any_rule.search(t)) for t in texts) >= 14
    for pattern in (r"(?i)\bfoo", r"\ba?b", r"foo|\bbar", r"\b\w+", r"\b(?=x)x"):  # left alone: not provably equal
        assert _guarded(pattern) == pattern
    # a look-behind reads only what lies before: the first character consumed is still known
    assert _guarded(r"\b(?<!to )pay") == r"\b(?=[p])(?:\b(?<!to )pay)"
