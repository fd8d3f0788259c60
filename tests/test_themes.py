"""Themes: discovered, labelled in phrases, assigned to new text, saved and loaded unchanged."""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feedback import ConfigError, InputError, ModelError, ThemeModel, tag_themes
from feedback.themes import FitNoteWarning

REFUND = [
    "my refund was not received",
    "still waiting for my refund",
    "refund not received after two weeks",
    "where is my refund",
    "I never received the refund you promised",
    "the refund has not arrived yet",
]
CRASH = [
    "the mobile app crashes when I scan a receipt",
    "app crashes on startup",
    "the app keeps crashing on android",
    "mobile app crashed again while scanning",
    "crashes every time I open the app",
    "the app crashes on my iphone",
]
LOGIN = [
    "cannot log in, password reset email never arrives",
    "password reset link does not work",
    "locked out, the password reset email is missing",
    "I cannot log in since the password change",
    "the password reset page shows an error",
    "login fails after password reset",
]
CORPUS = (REFUND + CRASH + LOGIN) * 4


@pytest.fixture(scope="module")
def model():
    return ThemeModel(n_themes=3, min_theme_size=5, seed=1).fit(CORPUS)


def test_finds_the_three_obvious_themes(model):
    assigned = model.transform(CORPUS)
    groups = [set(assigned["theme_id"].iloc[i::18]) for i in range(18)]
    assert all(len(g) == 1 for g in groups)  # every repeat of a text lands in the same theme
    assert set(assigned["theme_id"][:6]) != set(assigned["theme_id"][6:12])
    assert len(set(assigned["theme_id"])) == 3


def test_labels_are_phrases_from_the_texts(model):
    labels = sorted(t.label for t in model.themes_)
    assert any("refund" in label for label in labels)
    assert any("crash" in label for label in labels)
    assert any("password" in label or "log" in label for label in labels)
    for theme in model.themes_:
        assert theme.top_phrases and all(p.strip() for p in theme.top_phrases)
        assert not any(word in theme.label.split() for word in ("the", "my", "and", "hi", "thanks"))


def test_every_theme_has_example_quotes_from_its_members(model):
    for theme in model.themes_:
        assert len(theme.examples) >= 3


def test_unrelated_text_is_other(model):
    out = model.transform(["quarterly tax filing deadline for lawn furniture", ""])
    assert out["theme_id"].tolist() == [-1, -1]
    assert out["theme_label"].tolist() == ["other", "other"]
    assert out["theme_ids"].tolist() == [[], []]


def test_same_data_and_seed_give_identical_themes():
    a = ThemeModel(n_themes=3, min_theme_size=5, seed=7).fit(CORPUS)
    b = ThemeModel(n_themes=3, min_theme_size=5, seed=7).fit(CORPUS)
    assert [t.label for t in a.themes_] == [t.label for t in b.themes_]
    pd.testing.assert_frame_equal(a.transform(CORPUS), b.transform(CORPUS))


def test_auto_k_finds_a_sensible_number():
    model = ThemeModel(n_themes="auto", min_theme_size=5, seed=0).fit(CORPUS * 3)
    assert 3 <= len(model.themes_) <= 8


def test_save_load_round_trip_gives_identical_output(model, tmp_path):
    model.save(tmp_path / "m")
    loaded = ThemeModel.load(tmp_path / "m")
    pd.testing.assert_frame_equal(model.transform(CORPUS), loaded.transform(CORPUS))
    meta = json.loads((tmp_path / "m" / "themes.json").read_text())
    assert [t["label"] for t in meta["themes"]] == [t.label for t in model.themes_]


def test_pickle_round_trip_gives_identical_output(model):
    clone = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(model.transform(REFUND), clone.transform(REFUND))


def test_load_refuses_another_format_version(model, tmp_path):
    model.save(tmp_path / "m")
    meta_path = tmp_path / "m" / "themes.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 999
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format 999.*refit"):
        ThemeModel.load(tmp_path / "m")


def test_load_of_a_non_model_folder_says_how_to_make_one(tmp_path):
    with pytest.raises(ModelError, match="feedback themes fit"):
        ThemeModel.load(tmp_path)


def test_transform_before_fit_raises():
    with pytest.raises(ModelError, match="not fitted"):
        ThemeModel().transform(["x"])


@pytest.mark.parametrize("bad", [1, "many", "coarse", -3])
def test_invalid_n_themes_is_rejected_at_fit(bad):
    with pytest.raises(ConfigError, match="n_themes"):
        ThemeModel(n_themes=bad).fit(CORPUS)


@pytest.mark.parametrize(
    "params, says",
    [
        ({"other_threshold": "0.5"}, "other_threshold"),
        ({"tag_threshold": -3}, "tag_threshold"),
        ({"tag_threshold": 5}, "tag_threshold"),
        ({"tag_threshold": "0.6"}, "tag_threshold"),
        ({"min_theme_size": 0}, "min_theme_size"),
        ({"min_theme_size": -5}, "min_theme_size"),
        ({"seed": -1}, "seed"),
        ({"seed": "x"}, "seed"),
    ],
)
@pytest.mark.parametrize("embeddings", ["static", "tfidf"])
def test_invalid_parameters_are_config_errors_naming_them(params, says, embeddings):
    with pytest.raises(ConfigError, match=f"'{says}' parameter"):
        ThemeModel(n_themes=3, embeddings=embeddings, **params).fit(CORPUS)


def test_one_string_is_refused_not_split_into_characters(model):
    with pytest.raises(InputError, match=r"list of texts, not one string. Fix: transform\(\[text\]\)"):
        model.transform("my refund never arrived")
    with pytest.raises(InputError, match="fit"):
        ThemeModel().fit("my refund never arrived")


@pytest.mark.parametrize("embeddings", ["static", "tfidf"])
def test_texts_without_content_are_other_even_at_threshold_zero(embeddings):
    model = ThemeModel(n_themes=3, min_theme_size=5, other_threshold=0.0, embeddings=embeddings, seed=1).fit(CORPUS)
    out = model.transform(["", "😀😀", "12345", "the app crashes on startup"])
    assert out["theme_id"].tolist()[:3] == [-1, -1, -1] and out["theme_ids"].tolist()[:3] == [[], [], []]
    assert out["theme_id"].tolist()[3] >= 0


def test_words_keep_letters_outside_a_to_z():
    from feedback.text import lemma_string

    assert (
        lemma_string("Problème résolu en quelques minutes, très serviable")
        == "problème résolu en quelques minute très serviable"
    )
    assert lemma_string("naïve café Straße, 2fa on ios16 since 2026") == "naïve café straße 2fa ios16"
    texts = [
        "l'application plante au démarrage",
        "l'application plante encore au démarrage",
        "plante au démarrage depuis la mise à jour",
    ] * 5 + ["problème de facture en double", "facture en double ce mois", "double facture encore"] * 5
    labels = [t.label for t in ThemeModel(n_themes=2, min_theme_size=3, taxonomy=None, seed=1).fit(texts).themes_]
    assert any("démarrage" in label for label in labels) and not any(" d " in f" {label} " for label in labels)


def test_a_theme_whose_texts_share_no_phrase_is_still_labelled_by_one():
    # one meaning in five wordings that share no phrase
    texts = [
        "the app crashes on launch",
        "application freezes at startup",
        "program closes itself when opened",
        "software hangs after opening",
        "it shuts down the moment I start it",
    ]
    model = ThemeModel(taxonomy=None).fit(texts)  # a preset would name it
    assert model.themes_, "the case needs a theme: five texts of one meaning in static space make one"
    for theme in model.themes_:
        assert theme.top_phrases and not theme.label.startswith("theme ")
        assert any(theme.label in text for text in texts)


def test_a_theme_that_holds_every_text_is_labelled_by_what_they_say_most():
    # five paraphrases that share no phrase make one theme, and every text is in it: no phrase is distinctive
    texts = ["refund my money", "reimburse my payment", "repay the charge", "give the cash back", "return my funds"]
    model = ThemeModel(taxonomy=None).fit(texts)
    assert len(model.themes_) == 1 and set(model.transform(texts)["theme_id"]) == {model.themes_[0].theme_id}
    assert any(model.themes_[0].label in text for text in texts)


def test_tfidf_fits_one_text_repeated():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and says nothing about it: no ConvergenceWarning, no divide by zero
        model = ThemeModel(embeddings="tfidf", min_theme_size=5).fit(["the app crashes when I open it"] * 30)
    assert len(model.themes_) == 1
    assert model.transform(["the app crashes when I open it"])["theme_id"].tolist() == [model.themes_[0].theme_id]


def test_too_little_text_gives_no_themes_and_says_why(tmp_path):
    # a one-email inbox is still scored: every text is "other", and the fit says why there are no themes
    with pytest.warns(FitNoteWarning, match="themes need at least 4"):
        model = ThemeModel().fit(["hi", "", "the app crashes on start"])
    assert model.themes_ == [] and "at least 4" in model.fit_note_
    tagged = ThemeModel.load(model.save(tmp_path / "m")).transform(["the app crashes on start", "refund please"])
    assert tagged["theme_id"].tolist() == [-1, -1] and tagged["theme_ids"].tolist() == [[], []]


def test_tag_themes_leaves_skipped_rows_other():
    frame = pd.DataFrame(
        {
            "clean_text": CORPUS + ["", "texto en español"],
            "quality_issue": [""] * len(CORPUS) + ["empty_text", "non_english"],
        }
    )
    out, model = tag_themes(frame, n_themes=3, min_theme_size=5)
    assert out["theme_id"].tolist()[-2:] == [-1, -1]
    assert out["theme_ids"].tolist()[-2:] == [[], []]
    assert (out["theme_id"][:-2] >= 0).all()
    assert all(ids and ids[0] == primary for ids, primary in zip(out["theme_ids"][:-2], out["theme_id"][:-2]))
    assert out["themes"].iloc[0] == out["theme_label"].iloc[0] or out["themes"].iloc[0].startswith(
        out["theme_label"].iloc[0]
    )


EXPORT = [
    "the csv export gives an empty file",
    "export to excel is broken",
    "exporting invoices fails every time",
    "the pdf export button does nothing",
    "export download never starts",
    "exported file has no rows",
]


def test_refit_keeps_ids_and_labels_of_persisting_themes_and_marks_new_ones():
    week1 = ThemeModel(n_themes=3, min_theme_size=5, seed=1).fit(CORPUS)
    week2 = ThemeModel(n_themes=4, min_theme_size=5, seed=3).fit((CRASH + LOGIN + REFUND + EXPORT) * 4, previous=week1)
    before = {t.label: t.theme_id for t in week1.themes_}
    kept = [t for t in week2.themes_ if t.status == "kept"]
    emerging = [t for t in week2.themes_ if t.status == "emerging"]
    assert len(kept) == 3 and all(before[t.label] == t.theme_id for t in kept)
    assert len(emerging) == 1 and emerging[0].theme_id == max(before.values()) + 1
    assert "export" in emerging[0].label
    tagged = week2.transform(["the csv export is broken", "my refund was not received"])
    assert tagged["theme_id"].tolist() == [emerging[0].theme_id, before[week1.transform(REFUND[:1])["theme_label"][0]]]


def test_refit_lists_vanished_themes_as_gone():
    week1 = ThemeModel(n_themes=3, min_theme_size=5, seed=1).fit(CORPUS)
    week2 = ThemeModel(n_themes=2, min_theme_size=5, seed=1).fit((CRASH + LOGIN) * 4, previous=week1)
    gone = [t.label for t in week2.gone_themes_]
    assert len(gone) == 1 and "refund" in gone[0]


def _taxonomy(tmp_path, text):
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_taxonomy_names_a_theme_it_matches(tmp_path):
    path = _taxonomy(tmp_path, '[[theme]]\nname = "Money back"\nseeds = ["refund"]\n')
    model = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=path, seed=1).fit(CORPUS)
    assert "Money back" in [t.label for t in model.themes_]


def test_taxonomy_seeds_pull_paraphrases_without_shared_words_into_one_theme(tmp_path):
    lost = [
        "my invoices vanished overnight",
        "all client records disappeared",
        "the sync wiped everything",
        "all customer data vanished after the update",
        "everything was erased yesterday",
        "records deleted without warning",
    ]
    texts = (lost + CRASH) * 4
    path = _taxonomy(
        tmp_path,
        '[[theme]]\nname = "data loss"\nseeds = ["vanished", "disappeared", "wiped", "gone", "erased", "deleted"]\n',
    )
    guided = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=path, seed=1).fit_transform(texts)
    assert guided["theme_label"][:6].tolist() == ["data loss"] * 6


def test_a_seed_with_stop_words_matches_only_as_the_whole_phrase(tmp_path):
    from feedback.text import lemma_string
    from feedback.themes import _match_seeds, load_taxonomy

    path = _taxonomy(
        tmp_path,
        '[[theme]]\nname = "slow"\nseeds = ["timed out", "takes forever"]\n'
        '[[theme]]\nname = "refund"\nseeds = ["refund", "money back"]\n'
        '[[theme]]\nname = "praise"\nseeds = ["helpful"]\n',
    )
    guide = load_taxonomy(path)
    assert guide[0].seeds == () and guide[0].phrases == (("time", "time out"), ("forever", "takes forever"))
    assert guide[1].seeds == ("refund",) and guide[1].phrases == (("money", "money back"),)
    texts = [
        "The football match ended in a draw after extra time.",
        "where is this money from",
        "The upload timed out twice",
        "it times out and takes forever",
        "I want my money back",
        "refund the money, back to my card",
        "Time out!",
    ]
    matches = _match_seeds([lemma_string(t) for t in texts], guide, texts)
    assert matches[:, :2].tolist() == [
        [False, False],
        [False, False],
        [True, False],
        [True, False],
        [False, True],
        [False, True],
        [True, False],
    ]
    # the content word alone, in the same text, is not the phrase; a phrase break between the words is not either
    assert not _match_seeds(["money"], guide, ["money. Back"]).any()


def test_taxonomy_merge_puts_two_topics_under_one_name(tmp_path):
    path = _taxonomy(tmp_path, '[[theme]]\nname = "access and money"\nseeds = ["refund", "password", "log"]\n')
    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=path, seed=1).fit(CORPUS * 2)
    out = model.transform(REFUND + LOGIN)
    assert set(out["theme_label"]) == {"access and money"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[theme]]\nseeds = ['x']\n", "needs a name"),
        ("[[theme]]\nname = 'x'\nseeds = []\n", "non-empty list of seeds"),
        ("[[theme\n", "not valid TOML"),
    ],
)
def test_bad_taxonomy_files_get_clear_errors(tmp_path, text, message):
    with pytest.raises(ModelError, match=message):
        ThemeModel(taxonomy=_taxonomy(tmp_path, text)).fit(CORPUS)


def test_without_taxonomy_labels_come_from_the_texts():
    model = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=1).fit(CORPUS)
    assert all(t.status == "discovered" for t in model.themes_)
    assert any("refund" in t.label for t in model.themes_)


def test_large_inputs_fit_on_a_sample_and_tag_every_text(monkeypatch):
    import feedback.themes as themes

    monkeypatch.setattr(themes, "MAX_FIT_TEXTS", 30)
    texts = CORPUS * 3  # 216 texts, more than 3 × 30
    a = ThemeModel(n_themes=3, min_theme_size=3, seed=5).fit(texts)
    b = ThemeModel(n_themes=3, min_theme_size=3, seed=5).fit(texts)
    assert sum(t.size for t in a.themes_) <= 30
    assert [t.label for t in a.themes_] == [t.label for t in b.themes_]
    assert len(a.transform(texts)) == len(texts)


@pytest.mark.parametrize("embeddings", ["static", "tfidf"])
def test_both_vector_spaces_find_the_obvious_themes(embeddings):
    model = ThemeModel(n_themes=3, min_theme_size=5, embeddings=embeddings, seed=1).fit(CORPUS)
    out = model.transform(REFUND + CRASH + LOGIN)
    assert out["theme_id"][:6].nunique() == 1 and out["theme_id"][6:12].nunique() == 1
    assert len(set(out["theme_id"][:6]) | set(out["theme_id"][6:12]) | set(out["theme_id"][12:])) == 3


def test_unknown_embeddings_name_is_rejected():
    with pytest.raises(ConfigError, match="'bert' is neither a known vector space nor an existing folder. Fix:"):
        ThemeModel(embeddings="bert").fit(CORPUS)


def test_default_taxonomy_only_names_themes_when_k_is_fixed():
    """With a fixed K the user chose the granularity: the shipped taxonomy names themes but moves no text."""
    texts = CORPUS * 2
    named = ThemeModel(n_themes=3, min_theme_size=5, seed=1).fit_transform(texts)
    free = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=1).fit_transform(texts)
    assert named["theme_id"].tolist() == free["theme_id"].tolist()
    assert named["theme_score"].tolist() == free["theme_score"].tolist()
    assert "refund not received" in set(named["theme_label"])


@pytest.mark.parametrize(
    "text, topic",
    [
        ("@Ledgerly No complaints so far.", "No complaints so far."),
        ("I was charged twice. You can reach me at [EMAIL] if needed.", "I was charged twice."),
        ("Fine. My email is [EMAIL] and my phone is [PHONE].", "Fine."),
        ("It works. The card I used is [CARD], exp 09/28.", "It works."),
        ("Refund please.\nPlease call me back on [PHONE].\nApp crashes!", "Refund please.\nApp crashes!"),
        # problems that mention a redacted detail stay
        ("Someone used my card [CARD]!", "Someone used my card [CARD]!"),
        ("My card [CARD] was used.", "My card [CARD] was used."),
        ("I keep calling [PHONE].", "I keep calling [PHONE]."),
        ("My email is [EMAIL], my refund never arrived.", "My email is [EMAIL], my refund never arrived."),
        ("write to me@example.com [sic]", "write to me@example.com [sic]"),
        # links point at the topic but are not words of it
        ("Site down again http://t.co/gLXFwP6nQH", "Site down again"),
        ("Export fails (screenshot: HTTPS://img.example/a.png?x=1).", "Export fails (screenshot:  )."),
        ("see www.ledgerly.example/status, still broken", "see  , still broken"),
        ("my wwwebsite is http-only", "my wwwebsite is http-only"),
        ("policy: https://medium.example/@ledgerly/refund-rules", "policy:"),
        ("Broken: https://app.example/dash,export fails too", "Broken:  ,export fails too"),
        ("See https://img.example/a.png\u2014the button is gone", "See  \u2014the button is gone"),
        # an export's redaction marks hid something: they are not words of the topic, a word that holds x's is
        ("On XX/XX/2019 XXXX charged me twice", "On  / /2019   charged me twice"),
        ("xxxx sent a letter to xx", "sent a letter to"),
        ("my XXL coat from Foxxy never came", "my XXL coat from Foxxy never came"),
    ],
)
def test_topic_text_drops_handles_and_contact_details_only(text, topic):
    from feedback.text import topic_text

    assert topic_text(text) == topic


def test_contact_details_do_not_become_a_theme():
    contact = ["My email is [EMAIL] and my phone is [PHONE].", "You can reach me at [EMAIL] if needed."]
    texts = [f"{t}. {c}" for t in REFUND + CRASH for c in contact] * 2
    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=1).fit(texts)
    assert not any(
        word in " ".join(t.top_phrases + [t.label]) for t in model.themes_ for word in ("email", "phone", "reach")
    )
    assert model.transform(["My email is [EMAIL]."])["theme_label"].tolist() == ["other"]


def test_links_do_not_become_a_theme():
    """Shortened links share "http", "t" and "co" across unrelated messages; the topics are what is left."""
    links = ["https://t.co/Ab12Cd", "http://t.co/Zz9YxW", "see http://t.co/Qq7 please"]
    texts = [f"{t} {link}" if i % 2 else t for i, t in enumerate(REFUND + CRASH) for link in links] * 2
    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=1).fit(texts)
    words = " ".join(" ".join(t.top_phrases + [t.label]) for t in model.themes_).split()
    assert not {"http", "https", "co", "t"} & set(words)
    tagged = model.transform(texts)["theme_id"].to_numpy()
    assert len(set(tagged[:18])) == 1 and len(set(tagged[18:36])) == 1 and tagged[0] != tagged[18]


def test_a_taxonomy_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="is a folder; the taxonomy is a TOML file"):
        ThemeModel(taxonomy=tmp_path).fit(CORPUS)


def test_paths_in_a_config_file_are_relative_to_it(tmp_path, monkeypatch):
    from feedback.config import Config

    folder = tmp_path / "settings"
    folder.mkdir()
    (folder / "ours.toml").write_text('[[theme]]\nname = "money back"\nseeds = ["refund"]\n', encoding="utf-8")
    (folder / "feedback.toml").write_text('taxonomy = "ours.toml"\nembeddings = "static"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = Config.from_file(folder / "feedback.toml")
    assert Path(config.taxonomy) == folder / "ours.toml" and config.embeddings == "static"
    assert "money back" in [
        t.label for t in ThemeModel.from_config(config).set_params(n_themes=3, min_theme_size=5).fit(CORPUS).themes_
    ]


def test_a_model_pickled_before_units_still_tags():
    """Models fitted on whole messages lack the unit attributes; they still tag, with their own themes."""
    model = ThemeModel(n_themes="auto", min_theme_size=5, seed=1, embeddings="tfidf").fit(CORPUS)
    expected = model.transform(CORPUS)
    old = pickle.loads(pickle.dumps(model))
    del old.boilerplate_, old.brand_pattern_, old.praise_themes_, old.space_
    assert old.transform(CORPUS).equals(expected)


def test_the_fit_sample_depends_on_the_texts_not_on_the_seed_or_row_order(monkeypatch):
    import feedback.themes as themes

    monkeypatch.setattr(themes, "MAX_FIT_TEXTS", 30)
    texts = [f"{t} (case {i})" for i, t in enumerate(CORPUS * 3)]  # 216 distinct texts
    a = ThemeModel(n_themes=3, min_theme_size=3, seed=1).fit(texts)
    b = ThemeModel(n_themes=3, min_theme_size=3, seed=2).fit(texts)
    assert [t.label for t in a.themes_] == [t.label for t in b.themes_]
    assert a.transform(texts).equals(b.transform(texts))
    keys = themes.stable_sample_keys(texts)
    shuffled = texts[::-1]
    chosen = {texts[i] for i in themes.smallest_keys(keys, 30)}
    assert chosen == {shuffled[i] for i in themes.smallest_keys(themes.stable_sample_keys(shuffled), 30)}
    # a text's key does not depend on the other texts: next week's data keeps this week's choices
    more = texts + [f"new message {i}" for i in range(100)]
    assert (themes.stable_sample_keys(more)[: len(texts)] == keys).all()


def test_repeated_texts_enter_the_sample_in_proportion():
    import feedback.themes as themes

    texts = ["No complaints so far."] * 1000 + [f"message number {i}" for i in range(1000)]
    chosen = themes.smallest_keys(themes.stable_sample_keys(texts), 200)
    repeats = int((chosen < 1000).sum())
    assert 70 <= repeats <= 130  # about half, not all 200 and not 0


def test_aspect_sentiment_with_a_fitted_model_scores_each_theme_by_its_own_sentences():
    """A two-topic message tagged with both themes counts for each by its own sentence, not by the message."""
    from feedback.sentiment import aspect_sentiment

    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=1).fit((REFUND + CRASH) * 3)
    crash = model.transform(["the app crashes on startup"])["theme_id"][0]
    refund = model.transform(["my refund was not received"])["theme_id"][0]
    mixed = "The app crashes, awful. My refund was received, great!"
    frame = tag_themes(pd.DataFrame({"clean_text": [mixed] * 4 + CRASH}), model)[0]
    assert all(sorted(tags) == sorted([crash, refund]) for tags in frame["theme_ids"][:4])
    out = aspect_sentiment(frame, model).set_index("theme_id")
    assert out.loc[refund, "aspect_sentiment"] > 0.3  # only the refund sentence counts for refund
    assert out.loc[crash, "aspect_sentiment"] < -0.3 and out.loc[crash, "mentions"] == 4 + len(CRASH)


def test_score_message_gives_each_theme_the_sentiment_of_its_own_sentences(tmp_path):
    """The agent's question "upset about what?": a mixed message is negative about one theme, positive about the
    other, while its document score is one number for both; the CLI prints the same per theme."""
    from feedback.scoring import score_message

    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=1).fit((REFUND + CRASH) * 3)
    crash = model.transform(["the app crashes on startup"])["theme_id"][0]
    refund = model.transform(["my refund was not received"])["theme_id"][0]
    mixed = "The app crashes, awful. My refund was received, great!"
    result = score_message(mixed, theme_model=model)
    by_id = {t["theme_id"]: t for t in result["theme_sentiment"]}
    assert sorted(by_id) == sorted([crash, refund]) == sorted(result["theme_ids"])
    assert by_id[crash]["label"] == "negative" and by_id[crash]["sentiment"] < -0.3
    assert by_id[refund]["label"] == "positive" and by_id[refund]["sentiment"] > 0.3
    assert [t["theme"] for t in result["theme_sentiment"]] == result["themes"]
    # one theme: the message's score, as the theme_sentiment column of `analyze`; no theme model: an empty list
    single = score_message("The app crashes on startup. Terrible!", theme_model=model)
    assert single["theme_sentiment"][0]["sentiment"] == single["compound"]
    assert score_message(mixed)["theme_sentiment"] == []
    model.save(tmp_path / "tm")
    (tmp_path / "mail.txt").write_text(mixed, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "feedback", "score", str(tmp_path / "mail.txt"), "--themes", str(tmp_path / "tm")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("themes: "))
    assert f"{by_id[crash]['theme']} (negative, {by_id[crash]['sentiment']:+.2f})" in line
    assert f"{by_id[refund]['theme']} (positive, {by_id[refund]['sentiment']:+.2f})" in line


def test_tag_themes_gives_each_tag_the_sentiment_of_its_own_sentences():
    from feedback.sentiment import score_sentiment

    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=1).fit((REFUND + CRASH) * 3)
    crash = model.transform(["the app crashes on startup"])["theme_id"][0]
    refund = model.transform(["my refund was not received"])["theme_id"][0]
    frame = score_sentiment(
        pd.DataFrame(
            {
                "clean_text": [
                    "The app crashes, awful. My refund was received, great!",
                    "the app crashes on startup, terrible",
                    "",
                ],
                "quality_issue": ["", "", "empty_text"],
            }
        )
    )
    tagged, _ = tag_themes(frame, model)
    by_tag = dict(zip(tagged["theme_ids"][0], tagged["theme_sentiment"][0]))
    assert sorted(by_tag) == sorted([crash, refund])
    assert by_tag[crash] < -0.3 < 0.3 < by_tag[refund]  # the document score is one number for both
    assert tagged["theme_sentiment"][1] == [round(tagged["sentiment"][1], 4)]  # one theme: the row's score
    assert tagged["theme_sentiment"][2] == [] and tagged["theme_ids"][2] == []
    assert "theme_sentiment" not in tag_themes(frame.drop(columns="sentiment"), model)[0].columns


def test_tagging_does_not_depend_on_how_texts_are_batched():
    # a float32 product's last bits depend on the batch (and BLAS threads): the rounded theme_score moved
    texts = (
        pd.read_csv(Path(__file__).resolve().parent.parent / "sample_data" / "feedback.csv")["text"]
        .astype(str)
        .tolist()
    )
    model = ThemeModel(seed=1).fit(texts[:3000])
    whole = model.transform(texts)
    batched = pd.concat([model.transform(texts[i : i + 777]) for i in range(0, len(texts), 777)], ignore_index=True)
    pd.testing.assert_frame_equal(whole, batched)


def test_a_second_theme_comes_from_a_sentence_of_its_own():
    """Two topics in two sentences: two themes. One sentence, however near another theme, or a second sentence
    about the same theme or with too few words to be about anything ("Thanks."): one theme."""
    from feedback.units import UNIT_MIN_WORDS

    model = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=1).fit(CORPUS)
    own = {
        name: model.transform([texts[0]])["theme_id"][0]
        for name, texts in (("refund", REFUND), ("crash", CRASH), ("login", LOGIN))
    }
    assert len(set(own.values())) == 3
    out = model.transform(
        [
            "My refund was not received. The app crashes on startup.",
            "My refund was not received.",
            "My refund was not received. Where is my refund?",
            "My refund was not received. Crashes!",
            "my refund was not received and the app crashes on startup",
            "The app crashes on startup. My refund was not received. I cannot log in, the password "
            "reset email never arrives.",
        ]
    )
    ids = out["theme_ids"].tolist()
    assert sorted(ids[0]) == sorted([own["refund"], own["crash"]]) and ids[0][0] == out["theme_id"][0]
    # "Crashes!" alone is the crash theme, but one content word is too little to raise a theme in a message
    assert model.transform(["Crashes!"])["theme_id"][0] == own["crash"] and UNIT_MIN_WORDS == 2
    assert ids[1:5] == [[own["refund"]]] * 3 + [[out["theme_id"][4]]]
    assert ids[5][0] == out["theme_id"][5] and sorted(ids[5]) == sorted(own.values())  # MAX_EXTRA_TAGS = 2
    assert out["themes"][0] == "; ".join(t.label for i in ids[0] for t in model.themes_ if t.theme_id == i)


def test_a_sentence_below_tag_threshold_adds_no_theme():
    model = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=1).fit(CORPUS)
    text = "My refund was not received. The app crashes on startup."
    assert len(model.transform([text])["theme_ids"][0]) == 2
    model.tag_threshold_ = 1.0
    assert model.transform([text])["theme_ids"][0] == model.transform([text])["theme_id"].tolist()


BILLING = [
    "the invoice total is wrong",
    "wrong amount on my invoice",
    "my invoice shows the wrong VAT",
    "the invoice lists a plan I never had",
    "invoice amount does not match my plan",
    "incorrect invoice again",
]


def _fit(texts, previous=None, n_themes=None):
    """Themes of six-text topics, one theme per topic unless ``n_themes`` says otherwise."""
    return ThemeModel(n_themes=n_themes or len(texts) // 6, min_theme_size=5, taxonomy=None, seed=1).fit(
        texts * 4, previous=previous
    )


def test_a_theme_that_comes_back_gets_its_old_id_and_label():
    week1 = _fit(REFUND + CRASH + LOGIN)
    refund = week1.transform(REFUND[:1])["theme_id"][0]
    week2 = _fit(CRASH + LOGIN, previous=week1)
    assert [t.theme_id for t in week2.gone_themes_] == [refund]
    week3 = _fit(CRASH + LOGIN + REFUND + EXPORT, previous=week2)
    back = [t for t in week3.themes_ if t.status == "returned"]
    assert [(t.theme_id, t.label) for t in back] == [
        (refund, next(t.label for t in week1.themes_ if t.theme_id == refund))
    ]
    assert week3.transform(REFUND[1:2])["theme_id"][0] == refund and week3.gone_themes_ == []
    emerging = [t for t in week3.themes_ if t.status == "emerging"]
    assert len(emerging) == 1 and emerging[0].theme_id == max(t.theme_id for t in week1.themes_) + 1


def test_a_theme_id_is_never_given_to_another_theme():
    week1 = _fit(REFUND + CRASH + LOGIN)  # ids 0-2
    week2 = _fit(CRASH + LOGIN + EXPORT, previous=week1)  # export 3; refund gone
    week3 = _fit(CRASH + LOGIN, previous=week2)  # export gone too
    week4 = _fit(CRASH + LOGIN, previous=week3)  # nothing changes
    week5 = _fit(CRASH + LOGIN + BILLING, previous=week4)  # a new theme
    used = {t.theme_id for t in week1.themes_ + week2.themes_}
    new = [t for t in week5.themes_ if t.status == "emerging"]
    assert len(new) == 1 and new[0].theme_id not in used and new[0].theme_id == max(used) + 1
    assert sorted(t.theme_id for t in week5.gone_themes_) == sorted(used - {t.theme_id for t in week5.themes_})


def test_a_theme_split_in_two_is_a_split_not_a_new_theme():
    week1 = _fit(REFUND + CRASH + LOGIN, n_themes=2)
    merged = [t for t in week1.themes_ if t.size > 6 * 4 + 2]
    assert len(merged) == 1  # two of the three topics share a theme
    week2 = _fit(REFUND + CRASH + LOGIN, previous=week1, n_themes=3)
    statuses = sorted(t.status for t in week2.themes_)
    assert statuses == ["kept", "kept", "split"]
    split = next(t for t in week2.themes_ if t.status == "split")
    assert split.split_from == merged[0].theme_id and split.theme_id > max(t.theme_id for t in week1.themes_)
    assert any(t.theme_id == merged[0].theme_id and t.status == "kept" for t in week2.themes_)
    saved = json.loads(json.dumps(week2.themes_[0].__dict__))
    assert "split_from" in saved


def test_phrase_scores_are_the_dense_computation_one_theme_at_a_time():
    """_PhraseScores gives each theme's row of share × log(share / baseline), as the dense arrays did."""
    from feedback.themes import MULTIWORD_PREFERENCE, UBIQUITOUS_SHARE, _PhraseScores, _phrase_counts

    docs = [
        " ".join(words)
        for words in (
            ["refund", "late"],
            ["refund", "late", "again"],
            ["login", "fail"],
            ["login", "fail", "again"],
            ["refund", "never"],
            ["login", "never"],
        )
    ] * 4
    counts = _phrase_counts(docs)
    primary = np.array([0, 0, 1, 1, 0, 1] * 4)
    for parent_of, subtheme_parents in ((None, None), (np.zeros(len(docs), dtype=int), np.array([0, 0]))):
        scores = _PhraseScores(primary, 2, counts, len(docs), parent_of, subtheme_parents)
        matrix, phrases, n_words, never = counts
        dense = np.asarray(matrix.todense(), dtype=float)
        corpus = dense.mean(axis=0)
        for theme in range(2):
            share = dense[primary == theme].mean(axis=0)
            baseline = corpus if parent_of is None else np.maximum(dense.mean(axis=0), corpus)
            expected = np.where(share > baseline, share * np.log(np.where(share > baseline, share / baseline, 1)), 0)
            expected *= np.where(n_words > 1, MULTIWORD_PREFERENCE, 1.0)
            expected[never | ((n_words == 1) & (corpus >= UBIQUITOUS_SHARE))] = 0
            theme_counts, theme_scores = scores.row(theme)
            np.testing.assert_array_equal(theme_counts, dense[primary == theme].sum(axis=0))
            np.testing.assert_allclose(theme_scores, expected, rtol=1e-12, atol=0)


def test_average_linkage_groups_are_sklearns_groups():
    from sklearn.cluster import AgglomerativeClustering

    from feedback.units import average_linkage_groups

    X = np.random.default_rng(3).normal(size=(400, 24))
    for k in (3, 40, 133):
        expected = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(X)
        assert average_linkage_groups(X, k).tolist() == expected.tolist()


SIX_TOPICS = [
    f"the {a} and {b} trouble with {c} since order {n}"
    for a, b, c in (
        ("refund", "money", "back"),
        ("login", "password", "reset"),
        ("invoice", "pdf", "download"),
        ("crash", "app", "phone"),
        ("price", "plan", "expensive"),
        ("export", "excel", "csv"),
    )
    for n in range(40)
]


def test_a_fixed_k_keeps_themes_smaller_than_min_theme_size_in_small_inputs(monkeypatch):
    """Asked for K themes in few texts, a theme may be as small as a quarter of the average theme."""
    from feedback import themes

    texts = SIX_TOPICS
    model = themes.ThemeModel(n_themes=12, min_theme_size=15, taxonomy=None, seed=0).fit(texts)
    assert model.min_size_ == 5  # a quarter of 240 units / 12 themes; 5% of the texts alone: 12
    monkeypatch.setattr(themes, "FIXED_K_MIN_SIZE_SHARE", 1.0)
    assert themes.ThemeModel(n_themes=12, min_theme_size=15, taxonomy=None, seed=0).fit(texts).min_size_ == 12
    assert themes.ThemeModel(n_themes="auto", min_theme_size=15, taxonomy=None, seed=0).fit(texts).min_size_ == 12


def test_coarser_and_finer_move_the_silhouettes_choice_in_a_handful_of_units():
    counts = {
        g: len(ThemeModel(n_themes=g, min_theme_size=5, taxonomy=None, seed=0).fit(SIX_TOPICS).themes_)
        for g in ("coarser", "auto", "finer")
    }
    assert counts["coarser"] < counts["auto"] < counts["finer"], counts
    model = ThemeModel(n_themes="finer", min_theme_size=5, taxonomy=None, seed=0).fit(SIX_TOPICS)
    assert "the cosine silhouette chose the number, doubled." in model.method_description()


def test_a_model_with_a_numpy_number_of_themes_saves(tmp_path):
    model = ThemeModel(n_themes=np.int64(3), min_theme_size=5, seed=1).fit(CORPUS)
    model.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "themes.json").read_text())["params"]["n_themes"] == 3
