"""Pain points from units: what customers say is wrong, named as a person would, in the method the report describes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feedback.pipeline import analyze_dataset, build_context
from feedback.ingest import Dataset
from feedback.themes import ThemeModel, _unfit_label
from feedback.units import brand_pattern, find_boilerplate, message_units

FOOTER = "To unsubscribe from this group and stop receiving emails from it, send an email to the list owner."

BAGS = [
    "my bag never arrived",
    "lost my luggage on the connection",
    "my suitcase is still missing",
    "bag lost again after landing",
    "they lost my bag and nobody calls back",
    "luggage missing for three days",
]
HOLD = [
    "on hold for two hours",
    "hold time is over an hour again",
    "waited on hold all morning",
    "phone hold music for ninety minutes",
    "on hold forever and then hung up",
    "stuck on hold for hours",
]
PRAISE = [
    "the crew was wonderful and kind",
    "lovely crew, great flight",
    "great crew, fantastic service",
    "wonderful crew and a lovely trip",
    "amazing crew, loved it",
    "fantastic friendly crew",
]


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
    long = (
        "My checked suitcase never arrived at the Denver airport after the connecting flight from Chicago last "
        "Monday, and the baggage desk had no record of it. Then I was kept on hold for two hours on your phone "
        "line and the agent hung up on me twice without any explanation."
    )
    assert len(message_units(long)) == 2
    assert message_units("@FlyAir my bag never arrived. And I waited on hold!") == [
        "my bag never arrived. And I waited on hold!"
    ]


def test_a_footer_recurring_beside_other_sentences_is_boilerplate_and_no_unit():
    texts = [f"{t.capitalize()}. {FOOTER}" for t in BAGS + HOLD] * 3
    boilerplate = find_boilerplate(texts)
    assert len(boilerplate) == 1
    assert all("unsubscribe" not in unit.lower() for text in texts for unit in message_units(text, boilerplate))
    # a sentence that is a whole message somewhere is a message, never boilerplate
    assert not find_boilerplate(texts + [FOOTER])


def test_redaction_marks_make_no_theme_of_redacted_complaints():
    # half of each complaint is redacted as exports redact ("XXXX", "XX/XX/XXXX"): the themes follow what the
    # complaints are about, never which of them were redacted
    redacted = {"On XX/XX/XXXX XXXX XXXX {}": 0, "{}": 1}
    texts, topics = [], []
    for when in WHEN:
        for form in redacted:
            texts += [form.format(t + when) for t in BAGS + HOLD]
            topics += ["bag"] * len(BAGS) + ["hold"] * len(HOLD)
    out = ThemeModel(n_themes=2, taxonomy=None).fit_transform(texts)
    table = pd.crosstab(out["theme_id"], pd.Series(topics, name="topic"))
    assert (table.max(axis=1) / table.sum(axis=1)).min() >= 0.8, table  # 0.5 when the marks make the themes


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
    message = (
        "The crew was lovely and the food was great and the seats were comfortable on this trip. But they "
        "lost my bag on the connection and my suitcase is still missing after three days of calls."
    )
    out = model.transform([message])
    theme = {t.theme_id: t for t in model.themes_}[int(out["theme_id"][0])]
    assert theme.kind == "pain point"


@pytest.mark.parametrize(
    "phrase",
    [
        "yes",
        "dm",
        "today",
        "xxxx",
        "xx xxxx",
        "not",
        "thanks",
        "dm today",
        "balance not",
        "refund never",
        "account without",
    ],
)
def test_filler_redaction_marks_and_dangling_negations_never_label(phrase):
    assert _unfit_label(phrase)


@pytest.mark.parametrize("phrase", ["lost bag", "refund", "hold music", "flight cancel", "not work", "charge twice"])
def test_phrases_that_name_a_problem_can_label(phrase):
    assert not _unfit_label(phrase)


@pytest.mark.parametrize(
    "embeddings, names", [("static", ["static embedding", "Ward"]), ("tfidf", ["TF-IDF", "k-means"])]
)
def test_the_reports_methods_name_the_method_of_the_model_that_ran(embeddings, names):
    texts = corpus()
    feedback = pd.DataFrame(
        {
            "feedback_id": [f"F{i}" for i in range(len(texts))],
            "customer_id": [f"C{i % 7}" for i in range(len(texts))],
            "created_at": pd.Timestamp("2026-01-05"),
            "channel": "social",
            "text": texts,
        }
    )
    result = analyze_dataset(
        Dataset(feedback=feedback), theme_model=ThemeModel(min_theme_size=5, embeddings=embeddings)
    )
    methods = build_context(result).methods["themes"]
    assert methods == result.theme_model.method_description()
    for name in names:
        assert name in methods
    other = "tfidf" if embeddings == "static" else "static"
    assert ThemeModel(min_theme_size=5, embeddings=other).fit(texts).method_description() != methods


def test_units_are_compared_without_the_direction_all_customer_text_shares():
    from feedback.units import UnitSpace

    texts = corpus()
    model = ThemeModel(min_theme_size=5, taxonomy=None).fit(texts)
    space = model.space_
    units, lemmas = model._units(texts)[:2]
    common = space._static().common_direction
    assert common is not None and space.common_direction_ is common
    rows = space.transform(units, lemmas)[:, : len(common)]
    filled = np.any(rows != 0, axis=1)
    assert filled.all() and np.abs(rows @ common).max() < 1e-5  # the embedding block holds none of it
    # shared by every text, it made unrelated complaints look alike
    raw = space._static().encode(units, token_weights=space.token_weights_)
    hold, bag = units.index(next(u for u in units if "hold" in u)), units.index(next(u for u in units if "bag" in u))
    assert rows[hold] @ rows[bag] < raw[hold] @ raw[bag] - 0.1
    assert "direction every customer text shares" in model.method_description()
    # a space fitted before it existed has no such attribute: it compares units as it did
    older = UnitSpace().fit(units, lemmas)
    del older.common_direction_
    assert np.abs(older.transform(units, lemmas)[:, : len(common)] @ common).mean() > 0.3
    assert (
        "direction every customer text shares"
        not in ThemeModel(min_theme_size=5, taxonomy=None, embeddings="tfidf").fit(texts).method_description()
    )


LOST = [
    "my bag never arrived",
    "they lost my luggage again",
    "my suitcase is still missing",
    "lost baggage and no news",
    "where is my missing bag",
    "my luggage never showed up",
]
DAMAGED = [
    "my suitcase arrived broken",
    "the handle of my bag was ripped off",
    "my luggage came back damaged",
    "the wheels of my suitcase are broken",
    "my bag was torn open",
    "my luggage arrived crushed",
]
PLACES = ["", " in Denver", " at JFK", " in Boston", " in Chicago", " at LAX", " in Miami", " in Dallas"]
DAYS = [" today", " yesterday", " on Monday", " last week", " again"]


@pytest.fixture(scope="module")
def bag_model() -> tuple[ThemeModel, list[str]]:
    texts = [f"{t}{place}{day}" for t in LOST + DAMAGED for place in PLACES for day in DAYS]
    return ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None).fit(texts + corpus()), texts


def test_a_large_theme_splits_into_sub_themes_a_person_can_tell_apart(bag_model):
    model, texts = bag_model
    bags = max(model.themes_, key=lambda theme: theme.size)
    assert len(bags.subthemes) >= 2
    assert [sub.theme_id for sub in bags.subthemes] == [
        f"{bags.theme_id}.{k}" for k in range(1, len(bags.subthemes) + 1)
    ]
    every_label = [t.label for t in model.themes_] + [s.label for t in model.themes_ for s in t.subthemes]
    assert len(set(every_label)) == len(every_label)  # distinct across themes and sub-themes
    out = model.transform(texts)
    # at K=2 the big theme holds the bags; of its 12 wordings, the two nearest the other complaints may go with
    # them ("they lost my luggage again" beside "on hold again"; "lost baggage and no news")
    assert (out["theme_id"] == bags.theme_id).mean() > 0.8
    # lost and damaged bags get sub-themes of their own (the static embedding, which reads "arrived" in "never
    # arrived" and "arrived broken", also mixes some): each kind has a sub-theme that holds it at 90%+
    kind = pd.Series(["lost"] * (len(texts) // 2) + ["damaged"] * (len(texts) // 2))
    held = {
        sub_id: group.value_counts(normalize=True)
        for sub_id, group in kind.groupby(out["subtheme_id"].to_numpy())
        if sub_id
    }
    assert {shares.index[0] for shares in held.values() if shares.iloc[0] >= 0.9} == {"lost", "damaged"}
    labels = {sub.theme_id: sub.label for theme in model.themes_ for sub in theme.subthemes}
    assert all(labels[s] == label for s, label in zip(out["subtheme_id"], out["subtheme_label"]) if s)


def test_sub_themes_survive_save_and_show_in_themes_show(bag_model, tmp_path):
    import json
    import subprocess
    import sys

    model, texts = bag_model
    model.save(tmp_path / "m")
    loaded = ThemeModel.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.transform(texts[:50]), model.transform(texts[:50]))
    shown = subprocess.run(
        [sys.executable, "-m", "feedback", "themes", "show", str(tmp_path / "m"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    themes = json.loads(shown.stdout)["themes"]
    assert [[s["theme_id"] for s in t["subthemes"]] for t in themes] == [
        [s.theme_id for s in t.subthemes] for t in model.themes_
    ]
    text = subprocess.run(
        [sys.executable, "-m", "feedback", "themes", "show", str(tmp_path / "m")],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    first = max(model.themes_, key=lambda theme: theme.size).subthemes[0]
    assert f"    [{first.theme_id}] {first.label}  (size {first.size})" in text


def test_a_model_without_sub_themes_tags_with_empty_sub_theme(model):
    out = model.transform(corpus()[:5])
    assert out["subtheme_id"].tolist() == [""] * 5 and out["subtheme_label"].tolist() == [""] * 5


def test_scoring_a_message_names_its_sub_theme(bag_model):
    from feedback.scoring import score_messages

    model, texts = bag_model
    result = score_messages([texts[0]], theme_model=model)[0]
    expected = model.transform([texts[0]]).iloc[0]
    assert result["subtheme_id"] == expected["subtheme_id"] != ""
    assert result["subtheme"] == expected["subtheme_label"] != ""
    assert score_messages([texts[0]])[0]["subtheme_id"] == ""  # no theme model, no sub-theme


def test_a_sub_themes_label_says_what_sets_it_apart_within_its_theme():
    late = [
        "my refund is still not here after weeks",
        "still waiting for my refund after a month",
        "refund promised weeks ago never came",
        "the refund is taking weeks",
        "where is my refund, it has been weeks",
        "no refund yet after six weeks",
    ]
    partial = [
        "only half of my refund came back",
        "you refunded only part of the fare",
        "partial refund, not the full amount",
        "the refund was short by half",
        "refund missing the taxes and fees",
        "got a partial refund only",
    ]
    texts = [f"{t}{place}{day}" for t in late + partial for place in PLACES for day in DAYS]
    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None).fit(
        texts + [f"{t}{p}" for t in HOLD for p in PLACES]
    )
    refunds = max(model.themes_, key=lambda theme: theme.size)
    labels = [sub.label for sub in refunds.subthemes]
    # "refund" is in every one of them: scored against their theme, it labels none
    assert "refund" not in labels and "my refund" not in labels
    assert any(word in label for label in labels for word in ("half", "partial"))
    assert any(word in label for label in labels for word in ("weeks", "never", "waiting", "ago", "still"))


@pytest.fixture(scope="module")
def sample_texts() -> list[str]:
    from feedback.clean import clean_feedback
    from feedback.ingest import load_feedback

    frame = clean_feedback(load_feedback(Path(__file__).resolve().parent.parent / "sample_data" / "feedback.csv")[0])
    return frame["clean_text"].astype(str).tolist()


def test_a_user_can_ask_for_coarser_or_finer_themes_than_auto(sample_texts):
    """'coarser' and 'finer' are auto with half and twice the themes; the Methods text says which was asked."""
    counts = {}
    for granularity in ("coarser", "auto", "finer"):
        model = ThemeModel(n_themes=granularity).fit(sample_texts)
        counts[granularity] = len(model.themes_)
        assert ("themes were asked for" in model.method_description()) == (granularity != "auto")
    assert counts["coarser"] <= 20 < counts["auto"] <= 40 < counts["finer"] <= 80, counts
    assert f"({granularity} themes were asked for)" in model.method_description()


def test_config_takes_the_granularity_words_and_refuses_others():
    from feedback.config import Config
    from feedback.errors import ConfigError

    assert ThemeModel.from_config(Config(n_themes="finer")).n_themes == "finer"
    assert Config(n_themes="7").n_themes == 7
    with pytest.raises(ConfigError, match="'auto', 'coarser' or 'finer'; got 'fine'"):
        Config(n_themes="fine")


def test_a_warmly_worded_question_is_not_praise():
    """A question that asks in friendly words ("would you kindly…", "I'd love to know…") is not a compliment."""
    from feedback.vader import compound

    praise = [f"The support team was wonderful and fixed my invoice {n} in minutes, great job" for n in range(30)]
    asks = [f"Would you kindly tell me how I add a wonderful logo to invoice {n}, please?" for n in range(30)]
    complaints = [f"The export of invoice {n} to excel fails with an error every time" for n in range(30)]
    assert min(compound(q) for q in asks) >= 0.5  # as warm as the praise, by VADER
    model = ThemeModel(min_theme_size=5, taxonomy=None).fit(praise + asks + complaints)
    kinds = {theme.theme_id: theme.kind for theme in model.themes_}
    assert {kinds.get(t, "other") for t in model.transform(asks)["theme_id"]} <= {"question", "pain point", "other"}
    assert "praise" in {kinds.get(t) for t in model.transform(praise)["theme_id"]}
