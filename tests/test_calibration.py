"""Calibration: `feedback sentiment fit` learns, saves and reloads a model; ratings work as weak labels."""
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from feedback.calibration import (CalibratedScorer, SentimentCalibrator, cross_validate, labels_from_column,
                                  normalize_for_ngrams)
from feedback.cli import main
from feedback.errors import ConfigError, InputError, ModelError
from feedback.sentiment import load_scorer, score_sentiment

NEGATIVE = ["My refund never arrived and nobody answers.", "The app crashes every time I export.",
            "Still waiting for a reply after two weeks.", "I was charged twice and support ignored me.",
            "Terrible update, everything is broken.", "I want to cancel, this is useless.",
            "The invoice totals are wrong again.", "Login fails every morning, so annoying."]
NEUTRAL = ["How do I export invoices to CSV?", "Where can I change my billing address?",
           "Is there an API for the reports?", "What time zone do the dates use?",
           "Can I add a second user to my plan?", "Which file formats can I import?",
           "Do you have a mobile app?", "When does the trial end?"]
POSITIVE = ["Great support, the agent fixed it in minutes.", "Love the new dashboard, thank you!",
            "Brilliant app, saves me hours every week.", "The team was super helpful and kind.",
            "Fast, simple and reliable. Very happy.", "Excellent service, quick refund.",
            "Thanks, the export works perfectly now.", "Really pleased with the new reports."]


def _labelled_frame() -> pd.DataFrame:
    texts = NEGATIVE + NEUTRAL + POSITIVE
    labels = ["negative"] * 8 + ["neutral"] * 8 + ["positive"] * 8
    csat = [1, 2] * 4 + [3] * 8 + [4, 5] * 4
    return pd.DataFrame({"comment": texts, "label": labels, "csat": csat})


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cal")
    path = folder / "labelled.csv"
    _labelled_frame().to_csv(path, index=False)
    out = folder / "model"
    assert main(["sentiment", "fit", str(path), "--label-column", "label", "--text-column", "comment",
                 "--out", str(out)]) == 0
    return out


def test_fit_saves_model_and_meta(model_dir):
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    assert (model_dir / "model.joblib").exists()
    assert meta["labels"] == ["negative", "neutral", "positive"]
    assert meta["training_size"] == 24
    assert meta["label_counts"] == {"negative": 8, "neutral": 8, "positive": 8}
    assert meta["format"] == 1 and meta["feedback_version"]


def test_loaded_model_scores_like_the_fitted_one_and_learns_the_labels(model_dir):
    frame = _labelled_frame()
    scorer = load_scorer(model_dir)
    assert isinstance(scorer, CalibratedScorer)
    docs = scorer.score_many(frame["comment"].tolist())
    assert np.mean([d.label == y for d, y in zip(docs, frame["label"])]) >= 0.9
    again = CalibratedScorer.load(model_dir).score_many(frame["comment"].tolist())
    assert [d.probabilities for d in docs] == [d.probabilities for d in again]
    for d in docs:
        assert d.compound == pytest.approx(d.probabilities["positive"] - d.probabilities["negative"])


def test_calibrated_scorer_keeps_flags_and_drivers(model_dir):
    doc = load_scorer(model_dir).score("Nothing works. I want to cancel my subscription.")
    assert doc.churn_intent and doc.sentences
    assert doc.to_dict()["probabilities"].keys() == {"negative", "neutral", "positive"}
    assert load_scorer(model_dir).score("").label == "neutral"


def test_score_sentiment_uses_a_calibrated_scorer(model_dir):
    frame = pd.DataFrame({"clean_text": ["Where do I change my address?", "I love it"], "quality_issue": ["", ""]})
    out = score_sentiment(frame, scorer=load_scorer(model_dir))
    assert out["sentiment_label"].tolist()[0] == "neutral"


def test_fit_is_deterministic():
    frame = _labelled_frame()
    a = SentimentCalibrator().fit(frame["comment"], frame["label"])
    b = SentimentCalibrator().fit(frame["comment"], frame["label"])
    np.testing.assert_array_equal(a.model_.coef_, b.model_.coef_)
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict_proba(NEGATIVE), a.predict_proba(NEGATIVE))


def test_csat_column_is_read_as_weak_labels(tmp_path):
    path = tmp_path / "survey.csv"
    _labelled_frame().drop(columns="label").assign(csat=lambda f: f["csat"].astype(str)).to_csv(path, index=False)
    assert main(["sentiment", "fit", str(path), "--label-column", "csat", "--text-column", "comment",
                 "--out", str(tmp_path / "m")]) == 0
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["label_kind"] == "csat" and meta["label_counts"]["neutral"] == 8


@pytest.mark.parametrize("values, kind, expected", [
    (["1", "2", "3", "4", "5"], "csat", ["negative", "negative", "neutral", "positive", "positive"]),
    ([0, 6, 7, 8, 9, 10], "nps", ["negative", "negative", "neutral", "neutral", "positive", "positive"]),
    (["Negative", " pos ", "neu", ""], "label", ["negative", "positive", "neutral", None]),
])
def test_labels_from_column(values, kind, expected):
    assert labels_from_column(pd.Series(values), "x", kind).tolist() == expected


@pytest.mark.parametrize("values, kind, match", [
    (["negative", "meh"], "label", r"row 2, column 'mood'.*'meh'"),
    (["6"], "csat", r"not a CSAT rating.*'6'"),
    (["eleven"], "nps", r"not a NPS rating"),
])
def test_bad_labels_name_row_column_and_value(values, kind, match):
    with pytest.raises(InputError, match=match):
        labels_from_column(pd.Series(values), "mood", kind)


def test_missing_label_column_exits_2_naming_the_column(tmp_path, capsys):
    path = tmp_path / "labelled.csv"
    _labelled_frame().to_csv(path, index=False)
    code = main(["sentiment", "fit", str(path), "--label-column", "sentiment", "--text-column", "comment",
                 "--out", str(tmp_path / "m")])
    assert code == 2
    err = capsys.readouterr().err
    assert "column 'sentiment'" in err and "--label-column" in err and "comment" in err


def test_cv_needs_enough_rows_per_label():
    with pytest.raises(InputError, match="rarest label has 2 rows"):
        cross_validate(["a b", "c d", "e f", "g h"], ["negative", "negative", "positive", "positive"], folds=5)


def test_score_command_uses_the_sentiment_model(model_dir, tmp_path, capsys):
    text = tmp_path / "msg.txt"
    text.write_text("Where can I change my billing address?", encoding="utf-8")
    assert main(["score", str(text), "--json", "--sentiment-model", str(model_dir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "probabilities" in result and result["label"] == "neutral"


def test_loading_a_folder_without_a_model_explains_the_fix(tmp_path):
    with pytest.raises(ModelError, match="feedback sentiment fit"):
        load_scorer(tmp_path)


def test_ngram_text_is_normalized():
    assert normalize_for_ngrams("@acme 3 days, see https://a.b/c") == "@user 0 days, see url"


def test_embedding_features_are_optional_and_saved_with_the_model(tmp_path):
    frame = _labelled_frame()
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    assert main(["sentiment", "fit", str(path), "--label-column", "label", "--text-column", "comment",
                 "--features", "embeddings", "--out", str(tmp_path / "m")]) == 0
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["features"] == ["embeddings"] and "static embeddings" in meta["model"]
    scorer = load_scorer(tmp_path / "m")
    assert scorer.model.features == ("embeddings",)
    plain = SentimentCalibrator().fit(frame["comment"], frame["label"])
    n_plain = plain._features(list(frame["comment"])).shape[1]
    assert scorer.model._features(list(frame["comment"])).shape[1] == n_plain + 256
    docs = scorer.score_many(frame["comment"].tolist())
    assert np.mean([d.label == y for d, y in zip(docs, frame["label"])]) >= 0.9


def test_unknown_feature_set_is_refused():
    with pytest.raises(ConfigError, match=r"'features' parameter.*embeddings.*'bert'"):
        SentimentCalibrator(features=("bert",)).fit(["good", "bad"], ["positive", "negative"])
