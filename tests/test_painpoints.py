"""Pain points from units: what customers say is wrong, named as a person would, in the method the report describes."""
from __future__ import annotations

import pandas as pd
import pytest

from feedback.pipeline import analyze_dataset, build_context
from feedback.ingest import Dataset
from feedback.themes import ThemeModel, _unfit_label
from feedback.units import brand_pattern, find_boilerplate, message_units

FOOTER = "To unsubscribe from this group and stop receiving emails from it, send an email to the list owner."

BAGS = ["my bag never arrived", "lost my luggage on the connection", "my suitcase is still missing",
        "bag lost again after landing", "they lost my bag and nobody calls back", "luggage missing for three days"]
HOLD = ["on hold for two hours", "hold time is over an hour again", "waited on hold all morning",
        "phone hold music for ninety minutes", "on hold forever and then hung up", "stuck on hold for hours"]
PRAISE = ["the crew was wonderful and kind", "lovely crew, great flight", "great crew, fantastic service",
          "wonderful crew and a lovely trip", "amazing crew, loved it", "fantastic friendly crew"]


WHEN = ["", " yesterday", " this week", " at JFK", " in Denver", " on the way home", " last night", " again"]


def corpus() -> list[str]:
    texts = []
    for when in WHEN:
        texts += [f"@FlyAir flight{when}: {t}" for t in BAGS + HOLD]
        texts += [f"@FlyAir {t}{when}" for t in PRAISE]
    return texts


@pytest.fixture(scope="module")
def model() -> ThemeModel:
    return ThemeModel(min_theme_size=5).fit(corpus())


def test_a_long_message_splits_into_its_issues_and_a_short_one_stays_whole():
    long = ("My checked suitcase never arrived at the Denver airport after the connecting flight from Chicago last "
            "Monday, and the baggage desk had no record of it. Then I was kept on hold for two hours on your phone "
            "line and the agent hung up on me twice without any explanation.")
    assert len(message_units(long)) == 2
    assert message_units("@FlyAir my bag never arrived. And I waited on hold!") == [
        "my bag never arrived. And I waited on hold!"]


def test_a_footer_recurring_beside_other_sentences_is_boilerplate_and_no_unit():
    texts = [f"{t.capitalize()}. {FOOTER}" for t in BAGS + HOLD] * 3
    boilerplate = find_boilerplate(texts)
    assert len(boilerplate) == 1
    assert all("unsubscribe" not in unit.lower() for text in texts for unit in message_units(text, boilerplate))
    # a sentence that is a whole message somewhere is a message, never boilerplate
    assert not find_boilerplate(texts + [FOOTER])


def test_the_company_handle_makes_a_brand_word_that_names_no_theme(model):
    assert brand_pattern(corpus()) is not None
    labels = " ".join(t.label + " " + " ".join(t.top_phrases) for t in model.themes_).lower()
    assert "flyair" not in labels
    # "flight" is in every message: it never labels a theme on its own
    assert all(t.label != "flight" for t in model.themes_)


def test_problems_and_praise_are_themes_of_their_own_kind(model):
    kinds = {t.label: t.kind for t in model.themes_}
    assert "praise" in kinds.values() and "pain point" in kinds.values()
    out = model.transform(["they lost my bag at the airport", "the crew was lovely and kind"])
    by_id = {t.theme_id: t for t in model.themes_}
    bag, crew = (by_id[i] for i in out["theme_id"])
    assert bag.kind == "pain point" and any(w in bag.label for w in ("bag", "luggage", "lost"))
    assert crew.kind == "praise"


def test_a_message_takes_the_theme_of_its_complaint_over_its_compliment(model):
    message = ("The crew was lovely and the food was great and the seats were comfortable on this trip. But they "
               "lost my bag on the connection and my suitcase is still missing after three days of calls.")
    out = model.transform([message])
    theme = {t.theme_id: t for t in model.themes_}[int(out["theme_id"][0])]
    assert theme.kind == "pain point"


@pytest.mark.parametrize("phrase", ["yes", "dm", "today", "xxxx", "xx xxxx", "not", "thanks", "dm today"])
def test_filler_redaction_marks_and_lone_negations_never_label(phrase):
    assert _unfit_label(phrase)


@pytest.mark.parametrize("phrase", ["lost bag", "refund", "hold music", "flight cancel"])
def test_phrases_that_name_a_problem_can_label(phrase):
    assert not _unfit_label(phrase)


@pytest.mark.parametrize("embeddings, names", [("static", ["static embedding", "Ward"]),
                                                ("tfidf", ["TF-IDF", "k-means"])])
def test_the_reports_methods_name_the_method_of_the_model_that_ran(embeddings, names):
    texts = corpus()
    feedback = pd.DataFrame({"feedback_id": [f"F{i}" for i in range(len(texts))],
                             "customer_id": [f"C{i % 7}" for i in range(len(texts))],
                             "created_at": pd.Timestamp("2026-01-05"), "channel": "social", "text": texts})
    result = analyze_dataset(Dataset(feedback=feedback), theme_model=ThemeModel(min_theme_size=5, embeddings=embeddings))
    methods = build_context(result).methods["themes"]
    assert methods == result.theme_model.method_description()
    for name in names:
        assert name in methods
    other = "tfidf" if embeddings == "static" else "static"
    assert ThemeModel(min_theme_size=5, embeddings=other).fit(texts).method_description() != methods
