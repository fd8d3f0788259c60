"""Sentiment: VADER sentence scores plus a support-language layer, combined into a document score.

VADER is wrapped by :class:`SentimentScorer`; each sentence keeps VADER's own compound, unchanged
(``SentenceScore.vader``). On top:

* a support layer from ``models/sentiment_rules.toml`` (lexicon entries and rules: delays, unresolved repeats,
  unresponsiveness, cancellation intent, escalation, sarcasm, complaint questions, courtesy, slowness and speed
  regressions, praise of outcomes) that adjusts the sentence's raw VADER sum and raises flags such as
  ``churn_intent``;
* a document score built from sentence scores, so a long e-mail does not saturate at ±1 the way one compound
  over all its words does; courtesy sentences are down-weighted and contrast ("But …", "However, …") weighs the
  way VADER weighs "but" inside a sentence;
* a question's positive score is halved (a question asks rather than judges), and gratitude words wrapped around a
  complaint ("Thanks, my parcel is three weeks late") lose their VADER valence;
* extra outputs: churn intent with its phrase, urgency, escalation, an anger score, the driving sentences;
* a spaCy component, ``nlp.add_pipe("feedback_sentiment")``, with the same scores on ``Doc._``/``Span._``;
* :func:`aspect_sentiment`: the mean sentiment of the sentences that speak about each theme.

Rules are applied with compiled regular expressions, not spaCy's Matcher: the default path scores raw strings
without a spaCy tokenizer, and ``benchmarks/sentiment.py`` measures regexes several times faster than
tokenizing plus Matcher for the same patterns.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Protocol

import pandas as pd
from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

from .resources import MODELS_DIR
from .errors import ModelError
from .schema import is_missing
from .vader import VaderCompound

#: Label thresholds on the document score. VADER's README uses ±0.05; VADER is known to lean positive, and on
#: support text courtesy words add to that. These were chosen by a grid search (step 0.05) maximising the mean
#: 3-class macro-F1 (human mean rating ≥ 0.5 positive, ≤ -0.5 negative) of this scorer over the four
#: ../shared/data/vader_ground_truth files (tweets, amazon_reviews, movie_reviews, nyt_editorials), never on the
#: airline tweets, which stay the held-out evaluation (benchmarks/sentiment.py).
NEGATIVE_AT_OR_BELOW = -0.05
POSITIVE_AT_OR_ABOVE = 0.25
#: VADER's own thresholds, kept for reference and for `label_for(score, vader=True)`
VADER_NEGATIVE_AT_OR_BELOW = -0.05
VADER_POSITIVE_AT_OR_ABOVE = 0.05
#: VADER's normalisation constant: compound = x / sqrt(x² + alpha) (vaderSentiment.normalize, alpha=15)
VADER_ALPHA = 15.0
#: VADER's negation factor (vaderSentiment.N_SCALAR). VADER looks back three words; for the support lexicon we look
#: back two, so "not delayed" / "wasn't really delayed" flip but "I don't think the outage is over" does not
VADER_NEGATION = -0.74
NEGATION_WINDOW = 2
#: weight of a sentence in the document score is BASE + |score|: strong sentences dominate, flat ones still count a
#: little, so one complaint in a long factual e-mail is not averaged away. 0.1 was the best of {0.05, 0.1, 0.25} on
#: the vader_ground_truth files (same grid as the thresholds; the differences there are under 0.002 macro-F1)
SENTENCE_BASE_WEIGHT = 0.1
#: weight factor of a sentence that is only courtesy ("Thanks in advance!", "Please advise."); a complaint
#: wrapped in politeness stays a complaint
COURTESY_WEIGHT = 0.2
#: a sentence opening with a contrast word weighs x1.5 and the one before it x0.5: VADER's own factors for
#: "but" inside a sentence (Hutto & Gilbert 2014, rule 4), carried across the sentence boundary
CONTRAST_AFTER_WEIGHT = 1.5
CONTRAST_BEFORE_WEIGHT = 0.5
#: a question asks rather than judges: the positive words of "Can you help me get a good seat?" or "Any chance
#: of a nicer room?" are a wish, and VADER even amplifies them for the "?" (its rule for question marks). A
#: positive score of a question sentence is multiplied by this factor; negative questions keep their score
QUESTION_POSITIVE_FACTOR = 0.5
#: how many driving sentences are returned per document
MAX_DRIVERS = 3
#: anger (0..1) of a negative text: each anger word adds ANGER_WORD, each shouted word (all caps, 3+ letters)
#: ANGER_CAPS up to ANGER_CAPS_MAX, each "!!"/"?!" run ANGER_BANG; plus the depth of the negative score
ANGER_WORD = 0.35
ANGER_CAPS = 0.1
ANGER_CAPS_MAX = 0.3
ANGER_BANG = 0.15
ANGER_NEGATIVITY = 0.3

DEFAULT_RULES = MODELS_DIR / "sentiment_rules.toml"

#: a sentence ends at . ! ? … or an emoji, then space, then what starts a sentence: a capital or digit, a handle or a
#: link (tweets: "Still waiting. @delta you lost my bag"), or after . ! ? a lowercase word (chat: "my refund never
#: came. the app crashes too"); line breaks always end one. Abbreviations ("e.g. the") are joined back.
_EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf"
_SENTENCE_END = re.compile(rf"(?<=[.!?…{_EMOJI}])\s+(?=[\"'(\[]?(?:[A-Z0-9@#]|https?://))|(?<=[.!?])\s+(?=[a-z])|\n+")
#: words ending in a period after which a lowercase word goes on the same sentence
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs approx appr incl excl esp dept est min max no nr mr mrs ms dr st ave "
    "inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec a.m p.m am pm cf ca "
    "resp ref fig vol mon tue tues wed thu thur thurs fri sat sun".split()
)
#: a part that is only links or handles stays with the sentence before it (a sentence of its own would score 0
#: and weigh in the document's mean)
_ONLY_LINKS = re.compile(r"(?:(?:https?://|www\.)\S+|@\w+)(?:\s+(?:(?:https?://|www\.)\S+|@\w+))*")
#: VADER lexicon words that, in support mail, are courtesy rather than opinion ("Please fix it.",
#: "Hope you are well.", "Thanks in advance!"): a sentence whose only sentiment words are these is courtesy
COURTESY_WORDS = frozenset(
    {
        "please",
        "thanks",
        "thank",
        "thx",
        "hope",
        "hoping",
        "well",
        "appreciate",
        "appreciated",
        "kindly",
        "welcome",
        "hello",
        "dear",
        "regards",
        "best",
        "kind",
        "cheers",
        "help",
        "sincerely",
        "ok",
        "okay",
        "yes",
        "great",
        "good",
        "nice",
        "day",
        "warm",
    }
)
_COURTESY_HINT = re.compile(
    r"\b(?:please|thanks?|thx|hope|hoping|appreciated?|kindly|welcome|hello|dear|regards|cheers|"
    r"help|sincerely|ok|okay|have a)\b"
)  # searched in lowercased text (guarded below)
_WORDS = re.compile(r"[a-z']+")
#: a sentence that is a question: it ends with "?" (possibly followed by emoticons, emoji or closing punctuation)
_QUESTION = re.compile(r"\?[\W_]*$")
#: gratitude words: in a sentence that is a complaint without them ("Thanks, my parcel is 3 weeks late") they are
#: politeness, and their VADER valence is removed; in a sentence that is not a complaint they count as praise
GRATITUDE_WORDS = frozenset({"thanks", "thank", "thx", "appreciate", "appreciated"})
#: ... "a complaint without them" means: the rest of the sentence sums to at most this raw VADER valence, about one
#: mild negative word (VADER rates "problem" -1.7, "delayed" -0.9); so "Thanks for the refund" (refund -0.8 in the
#: support lexicon) stays thanks
COMPLAINT_WITHOUT_THANKS = -1.0
_CONTRAST = re.compile(r"^(?:but|however|unfortunately|sadly|that said|yet|although|though)\b", re.I)
#: words of anger (not just displeasure): NRC-style anger terms common in complaints
ANGER_WORDS = frozenset(
    {
        "angry",
        "furious",
        "livid",
        "outraged",
        "outrageous",
        "disgusted",
        "disgusting",
        "fuming",
        "pissed",
        "infuriating",
        "infuriated",
        "unacceptable",
        "ridiculous",
        "pathetic",
        "joke",
        "wtf",
        "ffs",
        "hate",
        "worst",
        "disgrace",
        "disgraceful",
        "scam",
        "rip-off",
        "ripoff",
        "incompetent",
        "useless",
        "appalling",
        "shameful",
        "insane",
        "absurd",
        "sick",
    }
)
_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
_BANGS = re.compile(r"[!?]*![!?]+")
_NEGATE = frozenset(NEGATE)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at end punctuation (see ``_SENTENCE_END``) and at line breaks.

    >>> split_sentences("Still broken. Thanks!\\nSent twice")
    ['Still broken.', 'Thanks!', 'Sent twice']
    >>> split_sentences("my refund never came. the app crashes too, e.g. on login 😡 @delta help")
    ['my refund never came.', 'the app crashes too, e.g. on login 😡', '@delta help']
    """
    sentences: list[str] = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if not part:
            continue
        if sentences and (
            _ONLY_LINKS.fullmatch(part)
            or part[0].islower()
            and sentences[-1].endswith(".")
            and sentences[-1].rsplit(None, 1)[-1].lower().rstrip(".") in _ABBREVIATIONS
        ):
            sentences[-1] += " " + part
        else:
            sentences.append(part)
    return sentences


@dataclass(frozen=True)
class Rule:
    """One support-language rule: a pattern, the valence it adds to a sentence, an optional flag."""

    name: str
    pattern: re.Pattern
    valence: float
    flag: str | None = None
    courtesy: bool = False
    #: the matched words' own valences are taken off too, so the sentence scores alike whichever praise word the
    #: phrase holds ("would be nice to", "would be great to")
    cancels: bool = False


@dataclass(frozen=True)
class SupportLayer:
    """The support-language data: rules and lexicon valences (VADER units)."""

    rules: tuple[Rule, ...]
    lexicon: dict[str, float]


def load_support_layer(path: str | Path = DEFAULT_RULES) -> SupportLayer:
    """Read rules and lexicon entries from a TOML file (see ``models/sentiment_rules.toml`` for the format)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(
            f"{path}: cannot read sentiment rules ({exc})", fix="restore the file from the package"
        ) from None
    rules = []
    for i, entry in enumerate(data.get("rule", []), start=1):
        try:
            rules.append(
                Rule(
                    entry["name"],
                    re.compile(entry["pattern"], re.I),
                    float(entry["valence"]),
                    entry.get("flag"),
                    bool(entry.get("courtesy", False)),
                    bool(entry.get("cancels", False)),
                )
            )
        except (KeyError, re.error, ValueError, TypeError) as exc:
            raise ModelError(
                f"{path}: rule {i} is invalid ({exc!r})", fix="each [[rule]] needs name, pattern, valence"
            ) from None
    lexicon = {}
    for word, value in data.get("lexicon", {}).items():
        if not isinstance(value, (int, float)) or not -4 <= value <= 4:
            raise ModelError(
                f"{path}: lexicon entry {word!r} = {value!r} is invalid",
                fix="use a number from -4 to 4 (VADER's valence scale)",
            )
        lexicon[word.lower()] = float(value)
    return SupportLayer(tuple(rules), lexicon)


def load_rules(path: str | Path = DEFAULT_RULES) -> tuple[Rule, ...]:
    """The rules of a support-layer file."""
    return load_support_layer(path).rules


def label_for(score: float, vader: bool = False) -> str:
    """Label of a document score with feedback's thresholds (or VADER's own with ``vader=True``).

    >>> label_for(-0.3), label_for(0.0), label_for(0.6)
    ('negative', 'neutral', 'positive')
    """
    lo, hi = (
        (VADER_NEGATIVE_AT_OR_BELOW, VADER_POSITIVE_AT_OR_ABOVE)
        if vader
        else (NEGATIVE_AT_OR_BELOW, POSITIVE_AT_OR_ABOVE)
    )
    if score <= lo:
        return "negative"
    if score >= hi:
        return "positive"
    return "neutral"


def _lowercase_pattern(pattern: str) -> str:
    r"""The pattern with its letters lowercased, escapes such as ``\S``, ``\B``, ``\W`` left alone.

    >>> print(_lowercase_pattern(r"\bBBB\S+"))
    \bbbb\S+
    """
    return re.sub(r"\\.|[A-Z]", lambda m: m.group(0) if m.group(0).startswith("\\") else m.group(0).lower(), pattern)


def _first_chars(items) -> set[str] | None:
    """The characters a parsed regex sequence can start with (``\\d`` for any digit), or None when unknown."""
    from re import _constants as c

    for op, av in items:
        if op is c.AT and av is c.AT_BOUNDARY:
            continue  # zero-width: the next op consumes the first character
        if op in (c.ASSERT, c.ASSERT_NOT) and av[0] == -1:
            continue  # a look-behind is zero-width and reads only what lies before: the same holds
        if op is c.LITERAL:
            return {re.escape(chr(av))}
        if op is c.IN:
            out = set()
            for o, a in av:
                if o is c.LITERAL:
                    out.add(re.escape(chr(a)))
                elif o is c.RANGE:
                    out.add(f"{re.escape(chr(a[0]))}-{re.escape(chr(a[1]))}")
                elif o is c.CATEGORY and a is c.CATEGORY_DIGIT:
                    out.add(r"\d")
                else:
                    return None
            return out
        if op is c.BRANCH:
            out = set()
            for branch in av[1]:
                chars = _first_chars(branch.data)
                if chars is None:
                    return None
                out |= chars
            return out
        if op is c.SUBPATTERN:
            return None if (av[1] or av[2]) else _first_chars(av[3].data)  # no inline flags such as (?i:...)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            return _first_chars(av[2].data)
        return None  # anything that may match empty or is not a plain character set
    return None


def _guarded(pattern: str) -> str:
    r"""The same regex, faster to search: ``\b(?=[first characters])(?:pattern)``.

    When every top-level alternative of ``pattern`` starts with ``\b`` and the character each then consumes first
    is known, the leading ``\b`` and the look-ahead are implied by the pattern, so the result matches exactly the
    same strings at the same places; Python's ``re`` then rejects most positions (inside words, after words) with
    two cheap checks instead of trying every alternative (the alternation of all rules searched about 1.5x faster
    on the airline tweets' sentences). Any other pattern is returned unchanged.

    >>> print(_guarded(r"\bwait(?:ed)?\b|\b\d+ days"))
    \b(?=[\dw])(?:\bwait(?:ed)?\b|\b\d+ days)
    """
    try:
        from re import _constants as c, _parser  # CPython's regex parser (3.11+)

        parsed = _parser.parse(pattern)
    except (ImportError, re.error):
        return pattern
    if parsed.state.flags != _parser.parse("").state.flags or not parsed.data:
        return pattern  # inline flags such as (?i) change what characters match

    def starts_with_boundary(items) -> bool:
        if not items:
            return False
        op, av = items[0]
        if op is c.AT:
            return av is c.AT_BOUNDARY
        if op is c.SUBPATTERN:
            return not (av[1] or av[2]) and starts_with_boundary(av[3].data)
        if op is c.BRANCH:
            return all(starts_with_boundary(branch.data) for branch in av[1])
        return False

    chars = _first_chars(parsed.data)
    if chars is None or not starts_with_boundary(parsed.data):
        return pattern
    return r"\b(?=[" + "".join(sorted(chars)) + "])(?:" + pattern + ")"


_LOOKBEHIND = re.compile(r"(?<!\\)\(\?<[!=][^()]*\)")


def _without_lookbehinds(pattern: str) -> str:
    r"""The pattern without its look-behinds (those holding no group), for a pre-check.

    A look-behind only ever rejects a match, so the result matches wherever ``pattern`` does, and possibly more.
    Python's ``re`` runs each look-behind at every position where its branch is tried, before the words that
    follow: with the rules' exclusions ("to pay faster", "only takes 5 minutes") the one search of all rules
    runs about 1.5x slower on the airline tweets' sentences than without them, while only about 12% of
    sentences get past it to the per-rule searches, which keep the look-behinds.

    >>> print(_without_lookbehinds(r"\b(?<!to )(?<!n't )pay faster|\(?<!x\)"))
    \bpay faster|\(?<!x\)
    """
    return _LOOKBEHIND.sub("", pattern)


#: the courtesy hint, guarded the same way (it matches the same strings)
_COURTESY_HINT = re.compile(_guarded(_COURTESY_HINT.pattern))


def _vader_raw(compound: float) -> float:
    """Invert VADER's normalisation: the raw valence sum behind a compound score."""
    c = max(-0.9999, min(0.9999, compound))
    return c * math.sqrt(VADER_ALPHA) / math.sqrt(1.0 - c * c)


def _vader_normalize(raw: float) -> float:
    # VADER rounds its compound to 4 decimals, so a raw sum recovered from one is exact to ~1e-3 only: a sum
    # nearer zero than that is zero ("I contacted support", +1.7 for "support" taken off, gave -0.0)
    if abs(raw) < 1e-3:
        return 0.0
    return max(-1.0, min(1.0, raw / math.sqrt(raw * raw + VADER_ALPHA)))


@dataclass
class SentenceScore:
    """A sentence, VADER's compound for it (unchanged), the score after the support layer, what fired."""

    text: str
    vader: float
    score: float
    rules: tuple[str, ...] = ()
    courtesy: bool = False
    lexicon: tuple[str, ...] = ()


@dataclass
class DocumentScore:
    """The sentiment of one text."""

    compound: float
    label: str
    sentences: list[SentenceScore] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)
    anger: float = 0.0
    probabilities: dict[str, float] | None = None

    @property
    def drivers(self) -> list[str]:
        """Sentences that push the score in its direction, strongest first."""
        sign = -1 if self.label == "negative" else 1
        ranked = sorted((s for s in self.sentences if s.score * sign > 0), key=lambda s: -abs(s.score))
        return [s.text for s in ranked[:MAX_DRIVERS]]

    @property
    def churn_intent(self) -> bool:
        return "churn_intent" in self.flags

    def to_dict(self) -> dict:
        out = {
            "label": self.label,
            "compound": round(self.compound, 4),
            "churn_intent": "churn_intent" in self.flags,
            "churn_phrase": self.flags.get("churn_intent", ""),
            "escalation": "escalation" in self.flags,
            "urgency": "urgency" in self.flags,
            "anger": round(self.anger, 3),
            "drivers": self.drivers,
            "sentences": [
                {
                    "text": s.text,
                    "score": round(s.score, 4),
                    "vader": round(s.vader, 4),
                    "rules": list(s.rules) + [f"lexicon:{w}" for w in s.lexicon],
                }
                for s in self.sentences
            ],
        }
        if self.probabilities is not None:
            out["probabilities"] = {k: round(v, 4) for k, v in self.probabilities.items()}
        return out


class Scorer(Protocol):
    """What score_sentiment and the spaCy component need: the default scorer and a calibrated one both fit."""

    def score(self, text: str) -> DocumentScore: ...

    def score_many(self, texts: Iterable[str]) -> list[DocumentScore]: ...


class SentimentScorer:
    """The single adapter around VADER. Create once per process; scoring is pure (sentences are cached).

    >>> scorer = SentimentScorer()
    >>> scorer.score("I have been waiting 3 weeks for my refund.").label
    'negative'
    >>> scorer.score("The app is great").compound == scorer.vader("The app is great")
    True
    """

    def __init__(
        self,
        rules: tuple[Rule, ...] | None = None,
        lexicon: dict[str, float] | None = None,
        rules_path: str | Path | None = None,
    ) -> None:
        layer = load_support_layer(rules_path or DEFAULT_RULES) if (rules is None or lexicon is None) else None
        self.rules = layer.rules if rules is None else tuple(rules)
        self.lexicon = layer.lexicon if lexicon is None else dict(lexicon)
        self._analyzer = SentimentIntensityAnalyzer()
        self._compound = VaderCompound(self._analyzer).compound
        # Patterns run on the lowercased sentence without re.IGNORECASE: Python's re then uses its literal-prefix
        # optimisations, about 3x faster (benchmarks/sentiment.py). One alternation of every rule comes first: most
        # sentences match none, so one search skips the per-rule searches. That pre-check leaves out the rules'
        # look-behinds (_without_lookbehinds): it then matches wherever a rule does, and a little more.
        # Each is guarded by a look-ahead on its possible first characters (_guarded), which matches the same.
        lowered = [_lowercase_pattern(rule.pattern.pattern) for rule in self.rules]
        self._rule_res = [(rule, re.compile(_guarded(p))) for rule, p in zip(self.rules, lowered)]
        self._any_rule = (
            re.compile(_guarded("|".join(f"(?:{_without_lookbehinds(p)})" for p in lowered))) if self.rules else None
        )
        words = sorted(self.lexicon, key=len, reverse=True)
        self._lexicon_re = (
            re.compile(r"(?<![\w'])(?:" + "|".join(map(re.escape, words)) + r")(?![\w'])") if words else None
        )
        # valence change of each lexicon word relative to VADER's own lexicon
        self._delta = {w: v - self._analyzer.lexicon.get(w, 0.0) for w, v in self.lexicon.items()}
        self._cached_sentence = lru_cache(maxsize=100_000)(self._score_sentence)

    def vader(self, text: str) -> float:
        """VADER's compound score of a text, unchanged."""
        return self._analyzer.polarity_scores(text)["compound"]

    def polarity(self, text: str) -> dict[str, float]:
        """VADER's neg/neu/pos/compound of a text, unchanged."""
        return self._analyzer.polarity_scores(text)

    def _vader_compound(self, sentence: str) -> float:
        """VADER's compound of a sentence, identical to ``polarity_scores(sentence)["compound"]``, faster.

        :class:`feedback.vader.VaderCompound` is a port of VADER's compound computation that lowercases the words
        once per text and skips the work VADER repeats per word; a sentence without a lexicon word scores 0.0
        at once. tests/test_vader.py and tests/test_scale.py check equality with polarity_scores on thousands of
        texts.
        """
        return self._compound(sentence)

    def _valence(self, word: str) -> float:
        """A lowercase word's valence in the support layer's lexicon, else in VADER's (0 for neither)."""
        return self.lexicon.get(word, self._analyzer.lexicon.get(word, 0.0))

    def sentence(self, sentence: str) -> SentenceScore:
        """Score one sentence (cached)."""
        return self._cached_sentence(sentence)

    def _score_sentence(self, sentence: str) -> SentenceScore:
        base = self._vader_compound(sentence)
        low = sentence.lower()
        delta, fired, words, courtesy_rule = 0.0, [], [], False
        if self._lexicon_re is not None:
            for match in self._lexicon_re.finditer(low):
                word = match.group(0)
                d = self._delta[word]
                if d:
                    before = low[: match.start()].replace("n't", " not").split()[-NEGATION_WINDOW:]
                    if any(w.strip(".,!?;:\"'()") in _NEGATE for w in before):
                        d *= VADER_NEGATION
                    delta += d
                    words.append(word)
        if self._any_rule is not None and self._any_rule.search(low):
            for rule, compiled in self._rule_res:
                match = compiled.search(low)
                if match:
                    delta += rule.valence
                    if rule.cancels:
                        delta -= sum(self._valence(w) for w in _WORDS.findall(match.group(0)))
                    fired.append(rule.name)
                    courtesy_rule = courtesy_rule or rule.courtesy
        courtesy = courtesy_rule
        if _COURTESY_HINT.search(low):
            opinion = [w for w in _WORDS.findall(low) if w in self._analyzer.lexicon]
            courtesy = courtesy or (bool(opinion) and all(w in COURTESY_WORDS for w in opinion))
            thanks = sum(self._analyzer.lexicon[w] for w in opinion if w in GRATITUDE_WORDS)
            if thanks > 0 and _vader_raw(base) + delta - thanks <= COMPLAINT_WITHOUT_THANKS:  # thanks + complaint
                delta -= thanks
                fired.append("thanks_in_complaint")
        score = _vader_normalize(_vader_raw(base) + delta) if (fired or words) else base
        if score > 0 and "?" in sentence and _QUESTION.search(low):
            score *= QUESTION_POSITIVE_FACTOR
        return SentenceScore(sentence, base, score, tuple(fired), courtesy, tuple(words))

    def score(self, text: str) -> DocumentScore:
        """Score one text: sentence scores, their weighted mean, the label, the flags and anger."""
        sentences = [self._cached_sentence(s) for s in split_sentences(text or "")]
        if not sentences:
            return DocumentScore(0.0, "neutral")
        flags: dict[str, str] = {}
        for s in sentences:
            if s.rules:
                for rule in self.rules:
                    if rule.flag and rule.flag not in flags and rule.name in s.rules:
                        flags[rule.flag] = rule.pattern.search(s.text).group(0)
        if len(sentences) == 1:
            compound = sentences[0].score
        else:
            weights = [
                (SENTENCE_BASE_WEIGHT + abs(s.score)) * (COURTESY_WEIGHT if s.courtesy else 1.0) for s in sentences
            ]
            for i in range(1, len(sentences)):
                if _CONTRAST.match(sentences[i].text):
                    weights[i] *= CONTRAST_AFTER_WEIGHT
                    weights[i - 1] *= CONTRAST_BEFORE_WEIGHT
            compound = sum(w * s.score for w, s in zip(weights, sentences)) / sum(weights)
        label = label_for(compound)
        anger = anger_score(text, compound) if label == "negative" else 0.0
        return DocumentScore(compound, label, sentences, flags, anger)

    def score_many(self, texts: Iterable[str]) -> list[DocumentScore]:
        """Score many texts (the same as calling :meth:`score` on each)."""
        return [self.score(t) for t in texts]


def anger_score(text: str, compound: float) -> float:
    """Anger of a negative text, 0..1: anger words, shouting (all-caps words), "!!" runs and how negative it is.

    >>> anger_score("This is UNACCEPTABLE!!! I am furious", -0.8) > anger_score("This is not great", -0.3)
    True
    """
    words = _WORDS.findall(text.lower())
    angry = sum(w in ANGER_WORDS for w in words)
    shout = (
        min(ANGER_CAPS_MAX, ANGER_CAPS * len(_SHOUT.findall(text))) if text != text.upper() or len(words) > 3 else 0.0
    )
    bangs = len(_BANGS.findall(text))
    value = ANGER_WORD * angry + shout + ANGER_BANG * bangs + ANGER_NEGATIVITY * max(0.0, -compound)
    return round(min(1.0, value), 3)


#: bump when a change to the scoring code (not to the rules file, which is hashed) changes scores, so that
#: workspaces see their stored rows were scored otherwise and offer `feedback db rescore`
SCORING_VERSION = 2


def scorer_identity(scorer) -> str:
    """What gave a sentiment score, as a short stable string stored with each workspace row: the scoring code's
    version and a hash of the rules and lexicon, and for a calibrated scorer also a hash of its saved model."""
    if isinstance(scorer, SentimentScorer):
        layer = [[r.name, r.pattern.pattern, r.valence, r.flag, r.courtesy, r.cancels] for r in scorer.rules]
        payload = json.dumps([layer, sorted(scorer.lexicon.items())]).encode("utf-8")
        return f"rules-{SCORING_VERSION}-{hashlib.sha256(payload).hexdigest()[:12]}"
    model, base = getattr(scorer, "model_hash", None), getattr(scorer, "base", None)
    if model and base is not None:
        return f"calibrated-{model}+{scorer_identity(base)}"
    return type(scorer).__name__


@lru_cache(maxsize=1)
def default_scorer() -> SentimentScorer:
    """The process-wide scorer with the shipped rules (VADER's lexicon loads once)."""
    return SentimentScorer()


def score_sentiment(df: pd.DataFrame, text_column: str = "clean_text", scorer: Scorer | None = None) -> pd.DataFrame:
    """Add ``sentiment``, ``sentiment_label``, ``sentiment_drivers``, ``churn_intent``, ``churn_phrase``,
    ``escalation``, ``urgency`` and ``anger``.

    Rows whose ``quality_issue`` keeps them out of the analysis (empty, non-English) get no score
    (NaN and an empty label) rather than a misleading neutral.
    """
    from .schema import SKIP_REASONS

    scorer = scorer or default_scorer()
    out = df.copy()
    skip = (
        out["quality_issue"].isin(SKIP_REASONS) if "quality_issue" in out.columns else pd.Series(False, index=out.index)
    )
    texts = out[text_column].astype(str).tolist()
    keep = [i for i, s in enumerate(skip.tolist()) if not s]
    scored = scorer.score_many([texts[i] for i in keep])
    results: list[DocumentScore | None] = [None] * len(texts)
    for i, r in zip(keep, scored):
        results[i] = r
    out["sentiment"] = [r.compound if r else float("nan") for r in results]
    out["sentiment_label"] = [r.label if r else "" for r in results]
    out["sentiment_drivers"] = [r.drivers if r else [] for r in results]
    out["churn_intent"] = [bool(r and "churn_intent" in r.flags) for r in results]
    out["churn_phrase"] = [r.flags.get("churn_intent", "") if r else "" for r in results]
    out["escalation"] = [bool(r and "escalation" in r.flags) for r in results]
    out["urgency"] = [bool(r and "urgency" in r.flags) for r in results]
    out["anger"] = [r.anger if r else float("nan") for r in results]
    return out


# ------------------------------------------------------------------------------------------ aspect sentiment


def theme_sentences(
    row_sentences: list[list[str]], row_themes: list[list[int]], theme_model
) -> list[dict[int, list[int]]]:
    """For each row, the positions of its sentences that speak about each of the row's themes.

    The sentences of rows with more than one sentence are tagged with ``theme_model.transform`` (one batch); a
    sentence speaks about theme T of its row when it is tagged T itself. A one-sentence row speaks about all its
    themes with that sentence; so does a row none of whose sentences is tagged T (the theme comes from the
    message as a whole).
    """
    flat = [s for sents, tags in zip(row_sentences, row_themes) if tags and len(sents) > 1 for s in sents]
    tagged = iter(theme_model.transform(flat)["theme_ids"].tolist() if flat else [])
    out = []
    for sents, tags in zip(row_sentences, row_themes):
        everything = list(range(len(sents)))
        if not tags or len(sents) <= 1:
            out.append({int(t): everything for t in tags})
            continue
        own = [{int(x) for x in next(tagged)} for _ in sents]
        out.append({int(t): [i for i in everything if t in own[i]] or everything for t in tags})
    return out


def theme_sentiment_values(
    texts: list[str],
    theme_ids: list[list[int]],
    document_scores: list[float],
    theme_model,
    scorer: Scorer | None = None,
    parts: list | None = None,
) -> list[list[float]]:
    """Per row, the sentiment each of its themes gets, in the order of ``theme_ids`` (the ``theme_sentiment`` column).

    A theme gets the row's document score, except in a row with several themes where only some of its parts speak
    about it: then it gets the score of those parts, scored together as one text by ``scorer`` (the scorer that
    gave ``document_scores``, so a calibrated model keeps its own scale). So "The app is lovely. You charged me
    twice." is negative for billing and positive for the app. A row whose score is missing gives missing values.

    The parts are, with ``parts`` (each row's :class:`feedback.themes.MessageParts` from
    ``ThemeModel.transform_with_parts``, or None), the units that chose the row's tags; without, the row's
    sentences, tagged again with ``theme_model.transform`` (:func:`theme_sentences`; only the sentences of
    multi-sentence rows with several themes).
    """
    scorer = scorer or default_scorer()
    out = [
        [float("nan") if is_missing(score) else round(float(score), 4)] * len(tags)
        for score, tags in zip(document_scores, theme_ids)
    ]
    multi = [i for i, tags in enumerate(theme_ids) if len(tags) > 1 and not is_missing(document_scores[i])]
    texts_about, where = [], []

    def add(i: int, k: int, own: list[str], every: int) -> None:
        if 0 < len(own) < every:
            texts_about.append(" ".join(own))
            where.append((i, k))

    if parts is not None:
        for i in multi:
            if parts[i] is not None:
                for k, t in enumerate(theme_ids[i]):
                    add(i, k, parts[i].about(int(t)), len(parts[i].texts))
    else:
        sentences = [split_sentences(texts[i]) for i in multi]
        abouts = theme_sentences(sentences, [list(theme_ids[i]) for i in multi], theme_model)
        for i, sents, about in zip(multi, sentences, abouts):
            for k, t in enumerate(theme_ids[i]):
                add(i, k, [sents[j] for j in about[int(t)]], len(sents))
    for (i, k), doc in zip(where, scorer.score_many(texts_about) if texts_about else []):
        out[i][k] = round(float(doc.compound), 4)
    return out


def aspect_sentiment(
    df: pd.DataFrame, theme_model, text_column: str = "clean_text", scorer: SentimentScorer | None = None
) -> pd.DataFrame:
    """Per-theme (aspect) sentiment: the mean score of the sentences that speak about each theme.

    ``df`` holds tagged rows (``theme_ids`` from :func:`feedback.themes.tag_themes`). Each sentence of a tagged
    row is tagged again with ``theme_model.transform``; a sentence counts for theme T when its row carries T and
    the sentence itself is tagged T (see :func:`theme_sentences`: a one-sentence row, or a row none of whose
    sentences is tagged T alone, counts all its sentences). So "The app is lovely. Billing charged me twice."
    counts negative for billing and positive for the app, not the same mean for both.

    Returns one row per theme: ``theme_id``, ``theme_label``, ``sentences``, ``aspect_sentiment`` (mean sentence
    score), ``negative_share`` (share of those sentences scoring ≤ the negative threshold) and ``mentions`` (rows).
    """
    scorer = scorer or default_scorer()
    labels = {t.theme_id: t.label for t in theme_model.themes_}
    if "quality_issue" in df.columns:
        from .schema import SKIP_REASONS

        df = df[~df["quality_issue"].isin(SKIP_REASONS)]
    row_themes, row_sentences = [], []
    for text, tags in zip(df[text_column].astype(str), df["theme_ids"]):
        tags = [int(t) for t in (tags if isinstance(tags, (list, tuple)) else list(tags or []))]
        if tags:
            row_themes.append(tags)
            row_sentences.append(split_sentences(text))
    scores: dict[int, list[float]] = {t: [] for t in labels}
    mentions: dict[int, int] = {t: 0 for t in labels}
    for tags, sents, about in zip(row_themes, row_sentences, theme_sentences(row_sentences, row_themes, theme_model)):
        values = [scorer.sentence(sentence).score for sentence in sents]
        for t in tags:
            mentions[t] = mentions.get(t, 0) + 1
            scores.setdefault(t, []).extend(values[i] for i in about[t])
    records = []
    for t in sorted(set(scores) | set(mentions)):
        values = scores.get(t, [])
        records.append(
            {
                "theme_id": t,
                "theme_label": labels.get(t, "other"),
                "mentions": mentions.get(t, 0),
                "sentences": len(values),
                "aspect_sentiment": float(sum(values) / len(values)) if values else float("nan"),
                "negative_share": float(sum(v <= NEGATIVE_AT_OR_BELOW for v in values) / len(values))
                if values
                else float("nan"),
            }
        )
    return pd.DataFrame(
        records, columns=["theme_id", "theme_label", "mentions", "sentences", "aspect_sentiment", "negative_share"]
    )
