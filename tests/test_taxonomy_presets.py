"""Taxonomy presets: the shipped guide of the data's domain, chosen by fit and said, or none where none fits."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from feedback.config import Config
from feedback.resources import TAXONOMY_DIR, TAXONOMY_PRESETS
from feedback.themes import DEFAULT_TAXONOMY_FIT, ThemeModel, load_taxonomy

AIRLINE = [
    "my bag never arrived",
    "lost my luggage on the connection",
    "my suitcase is still missing",
    "on hold for two hours",
    "hold time is over an hour again",
    "waited on hold all morning",
    "flight delayed three hours at the gate",
    "our flight was delayed again",
    "delayed on the tarmac",
]
SOFTWARE = [
    "my refund was not received",
    "where is my refund",
    "the app crashes on startup",
    "the mobile app keeps crashing",
    "cannot log in, password reset email never arrives",
    "password reset link does not work",
]
CHAT = [
    "what a lovely sunny morning for a walk",
    "the movie had a brilliant soundtrack",
    "my cat sleeps all day",
    "we watched the sunset by the lake",
    "this novel has a slow but beautiful ending",
    "grandma baked an apple pie",
]
WHERE = ["", " yesterday", " this week", " in Denver", " last night", " again", " on Monday", " at noon"]


def corpus(texts: list[str]) -> list[str]:
    return [f"{t}{where}" for where in WHERE for t in texts]


def test_every_preset_loads_with_distinct_names_and_seeds():
    for name in TAXONOMY_PRESETS:
        guide = load_taxonomy(TAXONOMY_DIR / f"{name}.toml")
        names = [theme.name for theme in guide]
        assert len(guide) >= 8 and len(set(names)) == len(names), name
        assert all(theme.seeds or theme.phrases for theme in guide), name


@pytest.mark.parametrize("texts, preset", [(AIRLINE, "travel"), (SOFTWARE, "software")])
def test_default_takes_the_preset_of_the_datas_domain_and_says_so(texts, preset):
    model = ThemeModel(min_theme_size=3).fit(corpus(texts))
    assert model.taxonomy_preset_ == preset
    assert model.taxonomy_note_.startswith(f"taxonomy: the {preset} preset (its seeds match ")
    assert preset in model.method_description()


def test_preset_names_a_theme_its_units_say():
    model = ThemeModel(min_theme_size=3).fit(corpus(AIRLINE))
    labels = {theme.label for theme in model.themes_}
    assert {"lost luggage", "on hold for hours", "flight delayed"} <= labels
    assert model.taxonomy_note_.endswith(
        "named 3 theme(s): "
        + ", ".join(
            theme.label
            for theme in model.themes_
            if theme.label in {"lost luggage", "on hold for hours", "flight delayed"}
        )
    )


def test_no_preset_where_none_fits():
    model = ThemeModel(min_theme_size=3).fit(corpus(CHAT))
    assert model.taxonomy_preset_ is None and model.guide_ == ()
    assert model.taxonomy_note_.startswith("taxonomy: none of the shipped presets fits")
    assert f"from {DEFAULT_TAXONOMY_FIT:.0%}" in model.taxonomy_note_
    assert "No taxonomy guided discovery." in model.method_description()


def test_a_named_preset_applies_whatever_the_fit():
    model = ThemeModel(min_theme_size=3, taxonomy="banking").fit(corpus(AIRLINE))
    assert model.taxonomy_preset_ == "banking" and model.guide_
    assert "banking preset (asked for" in model.taxonomy_note_


def test_a_preset_pulls_but_never_pins_and_a_teams_own_file_does(tmp_path):
    preset = ThemeModel(min_theme_size=3, taxonomy="travel").fit(corpus(AIRLINE))
    assert preset.guide_pulls_ and not preset.guide_in_full_
    own = tmp_path / "ours.toml"
    own.write_text((TAXONOMY_DIR / "travel.toml").read_text(encoding="utf-8"), encoding="utf-8")
    mine = ThemeModel(min_theme_size=3, taxonomy=own).fit(corpus(AIRLINE))
    assert mine.taxonomy_preset_ is None and mine.guide_in_full_
    assert mine.taxonomy_note_.startswith(f"taxonomy: {own}")


def test_config_reads_a_preset_name_as_a_name_not_a_path(tmp_path):
    config_file = tmp_path / "feedback.toml"
    config_file.write_text('taxonomy = "travel"\n', encoding="utf-8")
    assert ThemeModel.from_config(Config.from_file(config_file)).taxonomy == "travel"
    config_file.write_text('taxonomy = "mine.toml"\n', encoding="utf-8")
    assert ThemeModel.from_config(Config.from_file(config_file)).taxonomy == str(tmp_path / "mine.toml")


def test_themes_fit_prints_the_preset_it_chose(tmp_path):
    texts = corpus(AIRLINE)
    pd.DataFrame(
        {"feedback_id": range(len(texts)), "customer_id": range(len(texts)), "created_at": "2026-01-05", "text": texts}
    ).to_csv(tmp_path / "feedback.csv", index=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedback",
            "themes",
            "fit",
            str(tmp_path / "feedback.csv"),
            "--out",
            str(tmp_path / "model"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "taxonomy: the travel preset (its seeds match" in done.stderr  # the run's notes go to stderr


def test_a_mistyped_preset_name_says_which_names_exist(tmp_path):
    texts = corpus(AIRLINE)
    pd.DataFrame(
        {"feedback_id": range(len(texts)), "customer_id": range(len(texts)), "created_at": "2026-01-05", "text": texts}
    ).to_csv(tmp_path / "feedback.csv", index=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedback",
            "themes",
            "fit",
            str(tmp_path / "feedback.csv"),
            "--out",
            str(tmp_path / "model"),
            "--taxonomy",
            "trvel",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "trvel: taxonomy file not found" in done.stderr
    assert "software, travel, banking, retail, telecom" in done.stderr and "Traceback" not in done.stderr
