"""Sentiment: VADER sentence scores plus support-language rules, combined into a document score.

VADER is wrapped by :class:`SentimentScorer`; its sentence scores are VADER's own, unchanged. On top:

* a document score built from sentence scores, so a long e-mail does not saturate at ±1 the way one
  compound over all its words does, and polite boilerplate ("Thanks in advance!") does not outweigh a complaint;
* rules from ``models/sentiment_rules.toml`` (delays, unresolved repeats, cancellation intent, escalation,
  sarcasm) that shift the sentences they match and raise flags such as ``churn_intent``;
* the sentences that drive the score, for the agent to read.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from .errors import ModelError

#: VADER's own label thresholds on the compound score (Hutto & Gilbert 2014, the vaderSentiment README)
NEGATIVE_AT_OR_BELOW = -0.05
POSITIVE_AT_OR_ABOVE = 0.05
#: weight of a sentence in the document score is BASE + |score|: strong sentences dominate, flat ones still count
SENTENCE_BASE_WEIGHT = 0.25
#: weight factor of a sentence that is only courtesy ("Thanks in advance!", "Please advise."); a complaint
#: wrapped in politeness stays a complaint
COURTESY_WEIGHT = 0.2
#: how many driving sentences are returned per document
MAX_DRIVERS = 3

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "models" / "sentiment_rules.toml"

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
#: VADER lexicon words that, in support mail, are courtesy rather than opinion ("Please fix it.",
#: "Hope you are well.", "Thanks in advance!"): a sentence whose only sentiment words are these is courtesy
COURTESY_WORDS = frozenset({"please", "thanks", "thank", "thx", "hope", "hoping", "well", "appreciate", "appreciated",
                            "kindly", "welcome", "hello", "dear", "regards", "best", "kind", "cheers", "help", "sincerely"})
_WORDS = re.compile(r"[a-z']+")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at end punctuation followed by a capital or digit, and at line breaks.

    >>> split_sentences("Still broken. Thanks!\\nSent twice")
    ['Still broken.', 'Thanks!', 'Sent twice']
    """
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


@dataclass(frozen=True)
class Rule:
    """One support-language rule: a pattern, the shift it adds to a sentence score, an optional flag."""

    name: str
    pattern: re.Pattern
    shift: float
    flag: str | None = None


def load_rules(path: str | Path = DEFAULT_RULES) -> tuple[Rule, ...]:
    """Read rules from a TOML file (see ``models/sentiment_rules.toml`` for the format)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path}: cannot read sentiment rules ({exc}). Fix: restore the file from the package") from None
    rules = []
    for i, entry in enumerate(data.get("rule", []), start=1):
        try:
            rules.append(Rule(entry["name"], re.compile(entry["pattern"], re.I), float(entry["shift"]), entry.get("flag")))
        except (KeyError, re.error, ValueError) as exc:
            raise ModelError(f"{path}: rule {i} is invalid ({exc}). Fix: each [[rule]] needs name, pattern, shift") from None
    return tuple(rules)


def label_for(score: float) -> str:
    """Label of a compound score with VADER's thresholds.

    >>> label_for(-0.3), label_for(0.0), label_for(0.6)
    ('negative', 'neutral', 'positive')
    """
    if score <= NEGATIVE_AT_OR_BELOW:
        return "negative"
    if score >= POSITIVE_AT_OR_ABOVE:
        return "positive"
    return "neutral"


@dataclass
class SentenceScore:
    """A sentence, VADER's compound for it, the score after rules, and the rules that fired."""

    text: str
    vader: float
    score: float
    rules: tuple[str, ...] = ()
    courtesy: bool = False


@dataclass
class DocumentScore:
    """The sentiment of one text."""

    compound: float
    label: str
    sentences: list[SentenceScore] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)

    @property
    def drivers(self) -> list[str]:
        """Sentences that push the score in its direction, strongest first."""
        sign = -1 if self.label == "negative" else 1
        ranked = sorted((s for s in self.sentences if s.score * sign > 0), key=lambda s: -abs(s.score))
        return [s.text for s in ranked[:MAX_DRIVERS]]

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "compound": round(self.compound, 4),
            "churn_intent": "churn_intent" in self.flags,
            "churn_phrase": self.flags.get("churn_intent", ""),
            "escalation": "escalation" in self.flags,
            "urgency": "urgency" in self.flags,
            "drivers": self.drivers,
            "sentences": [{"text": s.text, "score": round(s.score, 4), "vader": round(s.vader, 4), "rules": list(s.rules)}
                          for s in self.sentences],
        }


class SentimentScorer:
    """The single adapter around VADER. Create once per process; scoring is thread-safe and pure.

    >>> scorer = SentimentScorer()
    >>> scorer.score("I have been waiting 3 weeks for my refund.").label
    'negative'
    >>> round(scorer.score("The app is great").compound, 4) == round(scorer.vader("The app is great"), 4)
    True
    """

    def __init__(self, rules: tuple[Rule, ...] | None = None) -> None:
        self._analyzer = SentimentIntensityAnalyzer()
        self.rules = load_rules() if rules is None else rules
        self._cached_sentence = lru_cache(maxsize=100_000)(self._score_sentence)

    def vader(self, text: str) -> float:
        """VADER's compound score of a text, unchanged."""
        return self._analyzer.polarity_scores(text)["compound"]

    def _score_sentence(self, sentence: str) -> SentenceScore:
        base = self._analyzer.polarity_scores(sentence)["compound"]
        shift, fired = 0.0, []
        for rule in self.rules:
            if rule.pattern.search(sentence):
                shift += rule.shift
                fired.append(rule.name)
        score = max(-1.0, min(1.0, base + shift)) if fired else base
        opinion_words = [w for w in _WORDS.findall(sentence.lower()) if w in self._analyzer.lexicon]
        courtesy = bool(opinion_words) and all(w in COURTESY_WORDS for w in opinion_words)
        return SentenceScore(sentence, base, score, tuple(fired), courtesy)

    def score(self, text: str) -> DocumentScore:
        """Score one text: sentence scores, their weighted mean, the label and the flags."""
        sentences = [self._cached_sentence(s) for s in split_sentences(text or "")]
        if not sentences:
            return DocumentScore(0.0, "neutral")
        flags: dict[str, str] = {}
        for s in sentences:
            for rule in self.rules:
                if rule.flag and rule.name in s.rules and rule.flag not in flags:
                    flags[rule.flag] = rule.pattern.search(s.text).group(0)
        if len(sentences) == 1:
            compound = sentences[0].score
        else:
            weights = [(SENTENCE_BASE_WEIGHT + abs(s.score)) * (COURTESY_WEIGHT if s.courtesy else 1.0)
                       for s in sentences]
            compound = sum(w * s.score for w, s in zip(weights, sentences)) / sum(weights)
        return DocumentScore(compound, label_for(compound), sentences, flags)


@lru_cache(maxsize=1)
def default_scorer() -> SentimentScorer:
    """The process-wide scorer with the shipped rules (VADER's lexicon loads once)."""
    return SentimentScorer()


def score_sentiment(df: pd.DataFrame, text_column: str = "clean_text", scorer: SentimentScorer | None = None) -> pd.DataFrame:
    """Add ``sentiment``, ``sentiment_label``, ``sentiment_drivers``, ``churn_intent`` and ``escalation``.

    Rows whose ``quality_issue`` keeps them out of the analysis (empty, non-English) get no score
    (NaN and an empty label) rather than a misleading neutral.
    """
    from .schema import SKIP_REASONS

    scorer = scorer or default_scorer()
    out = df.copy()
    skip = out["quality_issue"].isin(SKIP_REASONS) if "quality_issue" in out.columns else pd.Series(False, index=out.index)
    results = [None if s else scorer.score(t) for t, s in zip(out[text_column].astype(str).tolist(), skip.tolist())]
    out["sentiment"] = [r.compound if r else float("nan") for r in results]
    out["sentiment_label"] = [r.label if r else "" for r in results]
    out["sentiment_drivers"] = [r.drivers if r else [] for r in results]
    out["churn_intent"] = [bool(r and "churn_intent" in r.flags) for r in results]
    out["escalation"] = [bool(r and "escalation" in r.flags) for r in results]
    return out
