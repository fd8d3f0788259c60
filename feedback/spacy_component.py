"""The spaCy pipeline component ``feedback_sentiment``: :mod:`feedback.sentiment`'s scores on ``Doc._`` and
``Span._``.

The factory is registered under spaCy's ``spacy_factories`` entry point (see pyproject.toml), so
``nlp.add_pipe("feedback_sentiment")`` works in any program where feedback is installed, without importing it;
importing this module registers it too.
"""

from __future__ import annotations

from pathlib import Path

from spacy.language import Language

from .sentiment import DocumentScore, Scorer, SentimentScorer, default_scorer

_DOC_ATTRS = (
    "sentiment",
    "sentiment_label",
    "sentiment_drivers",
    "churn_intent",
    "churn_phrase",
    "escalation",
    "urgency",
    "anger",
    "sentiment_result",
)


def _register_extensions() -> None:
    from spacy.tokens import Doc, Span

    for name in _DOC_ATTRS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    for name in ("sentiment", "sentiment_vader", "sentiment_rules"):
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


class SentimentComponent:
    """spaCy pipeline component: the same scores as :func:`score_sentiment`, on ``Doc._`` and ``Span._``.

    ``Doc._.sentiment`` (document score), ``sentiment_label``, ``sentiment_drivers``, ``churn_intent``,
    ``churn_phrase``, ``escalation``, ``urgency``, ``anger``, ``sentiment_result`` (the :class:`DocumentScore`);
    on each sentence span of ``doc.sents`` (when a sentencizer or parser ran first): ``Span._.sentiment`` (after the
    support layer), ``Span._.sentiment_vader`` (VADER's own) and ``Span._.sentiment_rules``.
    """

    def __init__(self, scorer: Scorer) -> None:
        _register_extensions()
        self.scorer = scorer

    def _set(self, doc, result: DocumentScore):
        doc._.sentiment = result.compound
        doc._.sentiment_label = result.label
        doc._.sentiment_drivers = result.drivers
        doc._.churn_intent = "churn_intent" in result.flags
        doc._.churn_phrase = result.flags.get("churn_intent", "")
        doc._.escalation = "escalation" in result.flags
        doc._.urgency = "urgency" in result.flags
        doc._.anger = result.anger
        doc._.sentiment_result = result
        if doc.has_annotation("SENT_START"):
            sentence_scorer = getattr(self.scorer, "base", self.scorer)
            for span in doc.sents:
                s = sentence_scorer.sentence(span.text.strip())
                span._.sentiment = s.score
                span._.sentiment_vader = s.vader
                span._.sentiment_rules = list(s.rules)
        return doc

    def __call__(self, doc):
        return self._set(doc, self.scorer.score(doc.text))

    def pipe(self, docs, batch_size: int = 1000):
        batch = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from (self._set(d, r) for d, r in zip(batch, self.scorer.score_many([d.text for d in batch])))
                batch = []
        if batch:
            yield from (self._set(d, r) for d, r in zip(batch, self.scorer.score_many([d.text for d in batch])))


def make_feedback_sentiment(nlp, name: str, model_dir: str | None, rules_path: str | None) -> SentimentComponent:
    """Factory: the default scorer, one with another rules file, or a calibrated model folder."""
    if model_dir:
        from .calibration import load_scorer  # scikit-learn, only for a calibrated model

        return SentimentComponent(load_scorer(model_dir))
    return SentimentComponent(SentimentScorer(rules_path=rules_path) if rules_path else default_scorer())


if not Language.has_factory("feedback_sentiment"):
    Language.factory(
        "feedback_sentiment", default_config={"model_dir": None, "rules_path": None}, func=make_feedback_sentiment
    )


def make_nlp(model_dir: str | Path | None = None):
    """The default spaCy pipeline for sentiment: ``spacy.blank("en")`` + sentencizer + ``feedback_sentiment``.

    >>> nlp = make_nlp()
    >>> doc = nlp("It is still not working. I want to cancel my subscription.")
    >>> doc._.sentiment_label, doc._.churn_intent
    ('negative', True)
    """
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("feedback_sentiment", config={"model_dir": str(model_dir) if model_dir else None})
    return nlp
