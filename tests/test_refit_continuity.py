"""Themes across refits: ids follow the bulk of a theme, labels stay unique, returns and splits are named right,
and the refit summary lists what this refit changed.

Data: week 1 of the shipped sample (767 rows; the ``sample_week1`` fixture) and two small refits of it.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from feedback import workspace as W
from feedback.clean import clean_feedback
from feedback.config import Config
from feedback.themes import ThemeModel


@pytest.fixture(scope="module")
def refits(sample_week1):
    """v1: a fit of week 1; v2: a refit of the same texts with 4 themes; v3: back to 'auto' (the same texts).

    This is what `feedback themes refit --n-themes 4` and then `feedback themes refit` do on a workspace
    holding week 1."""
    fb = pd.read_csv(sample_week1 / "feedback.csv", dtype=str, keep_default_na=False)
    cleaned = clean_feedback(fb)
    texts = cleaned.loc[cleaned["quality_issue"] == "", "clean_text"].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v1 = ThemeModel(seed=42).fit(texts)
        v2 = ThemeModel(n_themes=4, seed=42).fit(texts, previous=v1)
        v3 = ThemeModel(seed=42).fit(texts, previous=v2)
    return v1, v2, v3


def _id_of(model: ThemeModel, label: str) -> int:
    return next(t.theme_id for t in model.themes_ if t.label == label)


def test_a_theme_of_the_previous_model_is_kept_not_returned(refits):
    """'returned' is documented as "same id and label as a theme gone in an earlier refit"; v1 had no gone themes,
    yet v2 calls a theme that v1 holds 'returned' (`feedback themes refit` prints 'returned: [1] cannot log in')."""
    v1, v2, _ = refits
    assert v1.gone_themes_ == []
    returned = [(t.theme_id, t.label) for t in v2.themes_ if t.status == "returned"]
    assert returned == [], f"themes of the previous model reported as returned: {returned}"


def test_login_keeps_its_id_across_refits(refits):
    """An id always means the same theme: the login complaints are theme 'cannot log in' in v1 and must carry the
    same id in v3. Instead the id and label go to the 'archive old clients / payment reminders' texts (a purer
    fragment of v2's catch-all theme) and login gets a new id as a 'split' with the same label."""
    v1, _, v3 = refits
    login = [
        "I can't log in this morning, it keeps saying my password is wrong even after I reset it.",
        "How many times do I need to reset my password? The new password isn't accepted at login.",
    ]
    assert set(v1.transform(login)["theme_id"]) == {_id_of(v1, "cannot log in")}
    assert set(v3.transform(login)["theme_id"]) == {_id_of(v1, "cannot log in")}


def test_no_two_live_themes_share_a_label(refits):
    """After the refit, two themes are both labelled 'cannot log in' (kept [1] and split [14]); the report then
    shows two rows with the same name. (A 6-week workspace refit shows the same: two 'status on api v2' and two
    'archive old clients'.)"""
    _, _, v3 = refits
    labels = [t.label for t in v3.themes_]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    assert duplicated == [], f"labels used by more than one theme: {duplicated}"


def test_a_theme_with_one_example_can_return(refits):
    """'report options' (v1 id 7) is gone in v2 and comes back in v3 with the same top phrases, the same size and its
    one stored example landing in it, but gets a new id (15) as a 'split' while 'gone: [7] report options' is
    printed: returning needs 2 example hits, and themes of one repeated message keep one example."""
    v1, v2, v3 = refits
    old = next(t for t in v1.themes_ if t.label == "report options")
    assert old.theme_id in {t.theme_id for t in v2.gone_themes_}
    back = v3.transform(old.examples)["theme_id"].tolist()
    assert back == [old.theme_id] * len(old.examples)


def test_refit_summary_gone_lists_only_themes_gone_in_this_refit(sample_week1, tmp_path):
    """Refitting twice with the same settings changes nothing (every theme 'kept'), but the second summary still
    prints 'gone:' with the 10 themes dropped by the first refit: RefitResult.gone is every theme gone so far."""
    db = tmp_path / "ws.sqlite"
    W.add(db, sample_week1)
    first = W.refit(db, Config(n_themes=4))
    second = W.refit(db, Config(n_themes=4))
    assert first.gone and not second.emerging and not second.split
    assert second.gone == [], f"second refit reports as gone: {second.gone}"


def test_a_kept_theme_whose_texts_no_longer_say_its_label_is_renamed():
    """Week 1 (K=2) puts crashes and logins in one theme, named by one of the two. In week 2 the other topic is the
    bulk of that theme's texts, so it keeps the id; it must not keep a name its texts do not say, and the topic
    that split off may take it."""
    from test_themes import CRASH, LOGIN, REFUND

    week1 = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=1).fit((REFUND + CRASH + LOGIN) * 4)
    merged = next(t for t in week1.themes_ if t.theme_id == week1.transform(CRASH[:1])["theme_id"][0])
    assert merged.theme_id == week1.transform(LOGIN[:1])["theme_id"][0]
    says = lambda label, texts: sum(all(w in t.lower() for w in label.lower().split()) for t in texts)  # noqa: E731
    named, other = (CRASH, LOGIN) if says(merged.label, CRASH) > says(merged.label, LOGIN) else (LOGIN, CRASH)
    week2 = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=1).fit(
        REFUND * 4 + named * 2 + other * 6, previous=week1
    )
    bulk = next(t for t in week2.themes_ if t.theme_id == week2.transform(other[:1])["theme_id"][0])
    split = next(t for t in week2.themes_ if t.theme_id == week2.transform(named[:1])["theme_id"][0])
    assert bulk.theme_id == merged.theme_id and bulk.status == "kept"
    assert bulk.label != merged.label and split.label == merged.label and split.status == "split"
