"""Theme curation: rename, merge, split and add, on a model and through the CLI on a workspace, and refits that
keep what a person curated."""

import json
import shutil
import sqlite3

import pytest

from feedback import curation
from feedback.errors import InputError
from feedback.themes import ThemeModel

from test_report import parse
from test_themes import CORPUS, CRASH, LOGIN, REFUND


@pytest.fixture
def model():
    return ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=1).fit(CORPUS)


def _id_of(model, texts) -> int:
    return int(model.transform(texts)["theme_id"].mode()[0])


def test_rename_sets_the_label_every_tag_then_carries(model):
    refund = _id_of(model, REFUND)
    done = curation.rename(model, refund, "  Refund   never came ")
    assert done.label == "Refund never came" and done.describe() == 'rename %d to "Refund never came"' % refund
    assert set(model.transform(REFUND)["theme_label"]) == {"Refund never came"}
    crash = _id_of(model, CRASH)
    with pytest.raises(InputError, match="already labelled"):
        curation.rename(model, crash, "refund never came")
    with pytest.raises(InputError, match="there is no theme 99"):
        curation.rename(model, 99, "x")
    with pytest.raises(InputError, match="cannot be empty"):
        curation.rename(model, crash, "   ")


def test_merge_gives_the_folded_themes_texts_the_first_id_and_tags_each_theme_once(model):
    refund, crash = _id_of(model, REFUND), _id_of(model, CRASH)
    size = {t.theme_id: t.size for t in model.themes_}
    done = curation.merge(model, [refund, crash])
    assert done.theme_ids == [refund, crash] and len(done.groups) == 2 and all(done.groups)
    out = model.transform(REFUND + CRASH + ["My refund was not received. The app crashes on startup."])
    assert set(out["theme_id"][:-1]) == {refund}
    assert out["theme_ids"].iloc[-1] == [refund]  # near both centres, tagged with the merged theme once
    assert crash not in {t.theme_id for t in model.themes_} and len(model.themes_) == 2
    assert {t.theme_id: t.size for t in model.themes_}[refund] == size[refund] + size[crash]
    with pytest.raises(InputError, match="two theme ids or more"):
        curation.merge(model, [refund])


def test_an_added_theme_takes_the_texts_like_its_examples(model):
    done = curation.add(
        model,
        "dark mode",
        ["please add a dark mode to the app", "I want a dark theme at night", "dark mode would be easier on my eyes"],
    )
    new_id = done.new_ids[0]
    assert new_id not in {0, 1, 2} and model.themes_[-1].status == "added"
    out = model.transform(["Any plans for a dark mode? The white screen hurts my eyes at night."] + LOGIN)
    assert out["theme_id"].iloc[0] == new_id and out["theme_label"].iloc[0] == "dark mode"
    assert new_id not in set(out["theme_id"][1:])  # the other themes keep their texts
    with pytest.raises(InputError, match="at least one example"):
        curation.add(model, "empty", ["  "])


def test_a_rename_follows_its_theme_when_a_refit_gives_it_another_id(model):
    login = _id_of(model, LOGIN)
    done = curation.apply(model, curation.Curation("rename", [login], label="locked out"))
    assert done.groups and done.groups[0]  # the theme's examples go with the curation
    refit = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=2).fit(CORPUS, previous=model)
    for theme in refit.themes_:  # as if the refit had not recognised them: every theme under a new id
        theme.theme_id += 50
    refit.theme_ids_ = refit.theme_ids_ + 50
    assert curation.replay(refit, [done]) == []
    out = refit.transform(LOGIN)
    assert set(out["theme_label"]) == {"locked out"} and set(out["theme_id"]) == {login + 50}


def test_a_theme_without_sub_themes_cannot_be_split(model):
    with pytest.raises(InputError, match="no sub-themes to split into"):
        curation.split(model, _id_of(model, REFUND))


def test_replay_applies_renames_and_merges_to_a_refitted_model_and_says_what_it_skipped(model):
    refund, crash, login = (_id_of(model, t) for t in (REFUND, CRASH, LOGIN))
    done = [
        curation.apply(model, curation.Curation("rename", [login], label="locked out")),
        curation.apply(model, curation.Curation("merge", [refund, crash])),
        curation.Curation("rename", [77], label="gone theme"),
    ]
    refit = ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=2).fit(CORPUS, previous=model)
    notes = curation.replay(refit, done)
    assert notes == ['not applied again: rename 77 to "gone theme" (theme 77 is gone)']
    out = refit.transform(REFUND + CRASH + LOGIN)
    assert len(set(out["theme_id"][:12])) == 1 and set(out["theme_label"][12:]) == {"locked out"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, sample_weeks, run_feedback):
    """Weeks 1-8 of the sample data added, then weeks 9-10 (the export bug emerges in week 9, after the themes
    were fitted)."""
    base = tmp_path_factory.mktemp("curation")
    db = base / "ws.sqlite"
    for folder in (sample_weeks(base / "w01-08", 1, 8), sample_weeks(base / "w09-10", 9, 10)):
        done = run_feedback("add", folder, "--db", db)
        assert done.returncode == 0, done.stderr
    return db


def _themes(db) -> dict:
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT themes_json FROM theme_models ORDER BY version DESC LIMIT 1").fetchone()[0]
    return {t["theme_id"]: t for t in json.loads(stored)}


def _rows(db) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT feedback_id, created_at, theme_id, theme_label, clean_text FROM feedback").fetchall()


def test_rename_and_merge_survive_refits_and_the_report_shows_the_new_label(workspace, tmp_path, run_feedback):
    db = tmp_path / "ws.sqlite"
    shutil.copy(workspace, db)
    themes = _themes(db)
    pain = [t for t in themes.values() if t["kind"] == "pain point"]
    renamed, survivor, folded = pain[0]["theme_id"], pain[1]["theme_id"], pain[2]["theme_id"]
    assert run_feedback("themes", "rename", "--db", db, renamed, "Trouble signing in").returncode == 0
    merged = run_feedback("themes", "merge", "--db", db, survivor, folded)
    assert merged.returncode == 0 and f"merge {folded} into {survivor}" in merged.stdout
    assert {r[2] for r in _rows(db)} >= {survivor} and folded not in {r[2] for r in _rows(db)}
    for _ in range(2):
        refit = run_feedback("themes", "refit", "--db", db)
        assert refit.returncode == 0 and "curations applied again: 2 of 2" in refit.stdout, refit.stdout
        themes = _themes(db)
        assert themes[renamed]["label"] == "Trouble signing in"
        assert folded not in themes and survivor in themes
        assert not [t for t in themes.values() if t["status"] == "split" and t["split_from"] == survivor]
    shown = json.loads(run_feedback("themes", "show", "--db", db, "--json").stdout)
    assert {t["theme_id"]: t["label"] for t in shown["themes"]}[renamed] == "Trouble signing in"
    report = run_feedback("report", "--db", db, "--out", tmp_path / "report.html")
    assert report.returncode == 0, report.stderr
    labels = [th.text.strip() for th in parse((tmp_path / "report.html").read_text()).find_all("th", cls="theme")]
    assert any(label.startswith("Trouble signing in") for label in labels)
    history = run_feedback("themes", "history", "--db", db)
    lines = history.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].endswith(f'rename {renamed} to "Trouble signing in"')
    assert lines[1].endswith(f"merge {folded} into {survivor}") and lines[0][:2] == "20" and lines[0][10] == " "


def test_an_added_theme_is_backfilled_over_every_stored_week_and_split_gives_new_ids(workspace, tmp_path, run_feedback):
    db = tmp_path / "ws.sqlite"
    shutil.copy(workspace, db)
    added = run_feedback(
        "themes",
        "add",
        "--db",
        db,
        "export broken",
        "--example",
        "The CSV export fails every time.",
        "--example",
        "The export to Excel gives an empty file.",
        "--example",
        "Export button does nothing",
    )
    assert added.returncode == 0, added.stderr
    new_id = max(_themes(db))
    tagged = [r for r in _rows(db) if r[2] == new_id]
    assert len(tagged) > 50 and all(r[3] == "export broken" for r in tagged)
    assert sum("export" in r[4].lower() for r in tagged) / len(tagged) > 0.9
    assert min(r[1] for r in tagged) >= "2026-08-31"  # the bug emerges in week 9: the backfill finds none before
    themes = _themes(db)
    parent = next(t for t in themes.values() if t["subthemes"])
    split = run_feedback("themes", "split", "--db", db, parent["theme_id"])
    assert split.returncode == 0, split.stderr
    after = _themes(db)
    assert parent["theme_id"] not in after
    parts = [t for t in after.values() if t["split_from"] == parent["theme_id"]]
    assert [t["label"] for t in parts] == [s["label"] for s in parent["subthemes"]]
    assert {t["theme_id"] for t in parts}.isdisjoint(themes) and parent["theme_id"] not in {r[2] for r in _rows(db)}
    refused = run_feedback("themes", "split", "--db", db, min(t["theme_id"] for t in parts))
    assert refused.returncode == 2 and "no sub-themes to split into" in refused.stderr
    refit = run_feedback("themes", "refit", "--db", db)
    assert refit.returncode == 0 and "curations applied again: 2 of 2" in refit.stdout, refit.stdout
    after = _themes(db)
    assert {t["theme_id"] for t in parts} <= set(after) and new_id in after  # the split and the added theme hold
    assert [after[t["theme_id"]]["label"] for t in parts] == [t["label"] for t in parts]


def test_a_model_folder_is_curated_too_with_its_history_beside_it(tmp_path, run_feedback):
    data = tmp_path / "texts.csv"
    data.write_text("text\n" + "\n".join(CORPUS) + "\n")
    assert run_feedback("themes", "fit", data, "--out", tmp_path / "m", "--n-themes", "3").returncode == 0
    shown = json.loads(run_feedback("themes", "show", tmp_path / "m", "--json").stdout)
    first = shown["themes"][0]["theme_id"]
    assert run_feedback("themes", "rename", "--model", tmp_path / "m", first, "my label").returncode == 0
    shown = json.loads(run_feedback("themes", "show", tmp_path / "m", "--json").stdout)
    assert shown["themes"][0]["label"] == "my label"
    assert "rename" in run_feedback("themes", "history", "--model", tmp_path / "m").stdout
    assert (tmp_path / "m" / "curations.json").exists()
    both = run_feedback("themes", "rename", first, "x")
    assert both.returncode == 2 and "--db PATH" in both.stderr and "--model DIR" in both.stderr
