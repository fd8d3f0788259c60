"""Theme curation: a support lead renames, merges, splits and adds themes once, and refits keep it.

Each curation is a :class:`Curation` applied to a fitted :class:`feedback.themes.ThemeModel` by :func:`apply`:

- ``rename`` sets a theme's label;
- ``merge`` folds themes into the first one given: every text the others would get is the first's, and their
  ids are not used again;
- ``split`` replaces a theme by its sub-themes, each a theme with a new id (the sub-themes are the Ward tree's
  cut within the theme, see ``ThemeModel``);
- ``add`` makes a theme from a label and example texts: its centre is the mean of the examples' unit vectors,
  and a text joins it when it is nearer to it than to any other theme (and not "other").

A workspace keeps its curations (``feedback.workspace.curate``) and a model folder in ``curations.json``. A refit
fits from scratch, then :func:`replay` applies the curations again in order: a label set by hand is never replaced
by a refit and a merge is never undone by one. A curation whose themes a refit did not keep is skipped, and said so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.preprocessing import normalize

from .errors import InputError

ACTIONS = ("rename", "merge", "split", "add")
#: longest label a person can give (a label is a short phrase; the report's table has a column for it)
MAX_LABEL_CHARS = 80
#: examples kept on an added theme (as a discovered theme keeps its examples)
KEPT_EXAMPLES = 5


@dataclass
class Curation:
    """One change made by hand: what, to which theme ids, and the ids it made (split, add)."""

    action: str
    theme_ids: list[int]
    label: str | None = None
    examples: list[str] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    at: str = ""
    #: for a merge, each merged theme's example texts (in the order of ``theme_ids``): a refit finds by them
    #: the themes that hold what was merged, whatever ids it gave them
    groups: list[list[str]] = field(default_factory=list)

    def describe(self) -> str:
        """One line for ``feedback themes history``."""
        if self.action == "rename":
            return f'rename {self.theme_ids[0]} to "{self.label}"'
        if self.action == "merge":
            return f"merge {', '.join(map(str, self.theme_ids[1:]))} into {self.theme_ids[0]}"
        if self.action == "split":
            return f"split {self.theme_ids[0]} into {', '.join(map(str, self.new_ids))}"
        return f'add {self.new_ids[0] if self.new_ids else "?"} "{self.label}" from {len(self.examples)} example(s)'


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _clean_label(model, label: str | None, theme_id: int | None = None) -> str:
    label = " ".join(str(label or "").split())
    if not label:
        raise InputError("a theme label cannot be empty", value=label, fix='give a short phrase, e.g. "export fails"')
    if len(label) > MAX_LABEL_CHARS:
        raise InputError(
            f"a theme label is at most {MAX_LABEL_CHARS} characters",
            value=label[:40] + "…",
            fix="give a shorter phrase",
        )
    taken = {t.label.lower(): t for t in model.themes_ if t.theme_id != theme_id}
    if label.lower() in taken:
        other = taken[label.lower()]
        raise InputError(
            f'theme {other.theme_id} is already labelled "{other.label}"',
            value=label,
            fix=f"give another label, or merge the two themes: feedback themes merge … {other.theme_id} …",
        )
    return label


def _theme(model, theme_id: int):
    for theme in model.themes_:
        if theme.theme_id == theme_id:
            return theme
    known = ", ".join(str(t.theme_id) for t in model.themes_) or "none"
    raise InputError(
        f"there is no theme {theme_id}",
        value=str(theme_id),
        fix=f"give one of the theme ids (`feedback themes show`): {known}",
    )


def _rows_of(model, theme_id: int) -> np.ndarray:
    return np.flatnonzero(np.asarray(model.theme_ids_) == theme_id)


def rename(model, theme_id: int, label: str) -> Curation:
    _theme(model, theme_id).label = _clean_label(model, label, theme_id)
    theme = _theme(model, theme_id)
    return Curation("rename", [theme_id], label=theme.label, groups=[list(theme.examples)])


def merge(model, theme_ids: list[int]) -> Curation:
    """Fold ``theme_ids[1:]`` into ``theme_ids[0]``: their centres stay, and what lands there gets the first id."""
    ids = list(dict.fromkeys(int(t) for t in theme_ids))
    if len(ids) < 2:
        raise InputError(
            "a merge needs two theme ids or more",
            value=" ".join(map(str, theme_ids)),
            fix="give the theme to keep first, then the ones to fold into it: themes merge 3 7 9",
        )
    survivor = _theme(model, ids[0])
    groups = [list(_theme(model, theme_id).examples) for theme_id in ids]
    for theme_id in ids[1:]:
        folded = _theme(model, theme_id)
        rows = _rows_of(model, theme_id)
        model.theme_ids_[rows] = ids[0]
        for row in rows:  # its sub-themes were parts of it, not of the theme it joins
            model.subtheme_centroids_[row] = None
        survivor.size += folded.size
        survivor.examples = list(dict.fromkeys([*survivor.examples, *folded.examples]))[:KEPT_EXAMPLES]
        model.themes_.remove(folded)
    return Curation("merge", ids, groups=groups)


def _landing(model, examples: list[str]) -> int | None:
    """The theme id most of ``examples`` are tagged with by ``model`` (at least ``CONTINUITY_SHARE`` of them)."""
    from collections import Counter

    from .themes import CONTINUITY_SHARE

    if not examples:
        return None
    landed = Counter(int(t) for t in model.transform(examples)["theme_id"] if int(t) >= 0)
    if not landed:
        return None
    theme_id, count = landed.most_common(1)[0]
    return theme_id if count >= CONTINUITY_SHARE * len(examples) else None


def _merge_again(model, curation: Curation) -> str | None:
    """Apply a merge again after a refit: into the survivor (or the theme its examples land in), fold the themes
    that hold what was merged: those with the merged ids, those most of each merged theme's examples land in, and
    those the refit split off the merged theme (a merged theme stays one until a person splits it). Returns a
    note when the merge cannot be made."""
    present = {t.theme_id for t in model.themes_}
    groups = curation.groups or [[] for _ in curation.theme_ids]
    survivor = curation.theme_ids[0] if curation.theme_ids[0] in present else _landing(model, groups[0])
    if survivor is None:
        return f"not applied again: {curation.describe()} (theme {curation.theme_ids[0]} is gone)"
    folded = [t for t in curation.theme_ids[1:] if t in present]
    folded += [t for t in (_landing(model, g) for g in groups) if t is not None]
    # a theme the refit carved out of the merged theme would undo the merge bit by bit
    merged = {survivor, *curation.theme_ids}
    folded += [t.theme_id for t in model.themes_ if t.status == "split" and t.split_from in merged]
    folded = [t for t in dict.fromkeys(folded) if t != survivor]
    if not folded:
        return None  # the refit kept them together by itself
    merge(model, [survivor, *folded])
    return None


def split(model, theme_id: int) -> Curation:
    """Replace a theme by its sub-themes, each a theme with a new id."""
    theme = _theme(model, theme_id)
    rows = _rows_of(model, theme_id)
    subcentroids = getattr(model, "subtheme_centroids_", None)
    if len(rows) != 1 or not subcentroids or subcentroids[rows[0]] is None or not theme.subthemes:
        raise InputError(
            f"theme {theme_id} has no sub-themes to split into",
            value=str(theme_id),
            fix="a theme splits into the sub-themes `feedback themes show` lists under it; one too small "
            "to have them (or made by a merge) cannot be split",
        )
    if getattr(model, "reference_vectors_", None) is not None:
        raise InputError(
            "a theme model that assigns by neighbours cannot split a theme",
            value=str(theme_id),
            fix="refit with theme_assignment = 'centroid' (config), then split",
        )
    from .themes import Theme, _next_theme_id

    row = int(rows[0])
    parts = np.asarray(subcentroids[row], dtype=model.centroids_.dtype)
    first = _next_theme_id(model)
    new_ids = list(range(first, first + len(parts)))
    themes = [
        Theme(
            new_id,
            sub.label,
            list(sub.top_phrases),
            sub.size,
            list(sub.examples),
            status="split",
            split_from=theme_id,
            kind=theme.kind,
        )
        for new_id, sub in zip(new_ids, theme.subthemes)
    ]
    # the theme's own centre goes: its texts now go to the nearest of its parts
    model.centroids_ = np.vstack([np.delete(model.centroids_, row, axis=0), parts])
    model.praise_themes_ = np.concatenate(
        [np.delete(model.praise_themes_, row), np.full(len(parts), bool(model.praise_themes_[row]))]
    )
    model.theme_ids_ = np.concatenate([np.delete(model.theme_ids_, row), new_ids])
    model.subtheme_centroids_ = [c for i, c in enumerate(subcentroids) if i != row] + [None] * len(parts)
    model.guide_themes_ = {
        j: (i if i < row else i - 1) for j, i in getattr(model, "guide_themes_", {}).items() if i != row
    }
    at = model.themes_.index(theme)
    model.themes_[at : at + 1] = themes
    model.next_theme_id_ = new_ids[-1] + 1
    return Curation(
        "split",
        [theme_id],
        new_ids=new_ids,
        groups=[list(t.examples) for t in themes],
        examples=[t.label for t in themes],
    )


def add(model, label: str, examples: list[str], theme_id: int | None = None) -> Curation:
    """A theme from a label and example texts (``theme_id``: the id it had, when a refit adds it again)."""
    from .themes import PRAISE_UNIT_SENTIMENT, Theme, _next_theme_id

    label = _clean_label(model, label)
    examples = [" ".join(str(e).split()) for e in examples if str(e).strip()]
    if not examples:
        raise InputError("a theme needs at least one example text", fix='add --example "a message it should hold"')
    units, lemma_docs = model._units(examples)[:2]
    if not units:
        raise InputError(
            "the examples say nothing a theme can be made of (no content words)",
            value=examples[0][:60],
            fix='give examples as customers write them, e.g. --example "the CSV export fails every time"',
        )
    vectors, _ = model._embed(units, lemma_docs)
    said = vectors[np.any(vectors != 0, axis=1)]
    if not len(said):
        raise InputError(
            "the examples say nothing a theme can be made of",
            value=examples[0][:60],
            fix="give longer examples, in the words customers use",
        )
    centre = normalize(said.mean(axis=0, keepdims=True)).astype(model.centroids_.dtype)
    new_id = int(theme_id) if theme_id is not None else _next_theme_id(model)
    praise = float(model._unit_sentiment(units).mean()) >= PRAISE_UNIT_SENTIMENT
    model.centroids_ = np.vstack([model.centroids_, centre]) if len(model.centroids_) else centre
    model.praise_themes_ = np.append(model.praise_themes_, praise)
    model.theme_ids_ = np.append(model.theme_ids_, new_id)
    model.subtheme_centroids_ = list(
        getattr(model, "subtheme_centroids_", None) or [None] * (len(model.centroids_) - 1)
    ) + [None]
    if getattr(model, "reference_vectors_", None) is not None:  # neighbours vote: the examples are its references
        model.reference_vectors_ = np.vstack([model.reference_vectors_, said.astype(model.reference_vectors_.dtype)])
        model.reference_themes_ = np.append(model.reference_themes_, np.full(len(said), len(model.centroids_) - 1))
    model.themes_.append(
        Theme(new_id, label, [], 0, examples[:KEPT_EXAMPLES], status="added", kind="praise" if praise else "pain point")
    )
    model.next_theme_id_ = max(getattr(model, "next_theme_id_", 0), new_id + 1)
    return Curation("add", [], label=label, examples=examples, new_ids=[new_id])


def apply(model, curation: Curation) -> Curation:
    """Apply ``curation`` to ``model`` (in place); returns it with its new ids and time."""
    if curation.action == "rename":
        done = rename(model, curation.theme_ids[0], curation.label)
    elif curation.action == "merge":
        done = merge(model, curation.theme_ids)
    elif curation.action == "split":
        done = split(model, curation.theme_ids[0])
    elif curation.action == "add":
        done = add(model, curation.label, curation.examples, curation.new_ids[0] if curation.new_ids else None)
    else:
        raise InputError(f"unknown curation {curation.action!r}", fix=f"use one of {', '.join(ACTIONS)}")
    done.at = curation.at or _now()
    return done


def replay(model, curations: list[Curation]) -> list[str]:
    """Apply ``curations`` again, in order, to a model a refit just fitted; returns a note for each one it skipped
    (its themes are not in the new model). A split's parts that the refit did not keep are made again from their
    examples, with their ids; a rename whose theme came back under a new id renames the theme its examples land in."""
    notes = []
    for curation in curations:
        if curation.action == "split":
            note = _split_again(model, curation)
            if note:
                notes.append(note)
            continue
        if (
            curation.action == "add"
            and curation.new_ids
            and any(t.theme_id == curation.new_ids[0] for t in model.themes_)
        ):
            continue  # the refit found it again
        if (
            curation.action == "rename"
            and curation.groups
            and curation.theme_ids[0] not in {t.theme_id for t in model.themes_}
        ):
            # the theme came back under a new id: it is where the renamed theme's examples land
            landing = _landing(model, curation.groups[0])
            if landing is not None:
                try:
                    rename(model, landing, curation.label)
                    continue
                except InputError as exc:
                    notes.append(f"not applied again: {curation.describe()} ({exc})")
                    continue
        if curation.action == "merge":
            note = _merge_again(model, curation)
            if note:
                notes.append(note)
            continue
        present = {t.theme_id for t in model.themes_}
        missing = [t for t in curation.theme_ids if t not in present]
        if missing:
            notes.append(f"not applied again: {curation.describe()} (theme {', '.join(map(str, missing))} is gone)")
            continue
        try:
            apply(model, curation)
        except InputError as exc:
            notes.append(f"not applied again: {curation.describe()} ({exc})")
    return notes


def _split_again(model, curation: Curation) -> str | None:
    """After a refit, make again the parts of a split that the refit folded back together: each from its
    examples (as ``add`` does), with its id and label; a part the refit kept keeps the label the split gave it,
    as a renamed theme does. Returns a note for a part that cannot be made."""
    present = {t.theme_id for t in model.themes_}
    notes = []
    for part_id, label, examples in zip(curation.new_ids, curation.examples, curation.groups):
        if part_id in present:
            if _theme(model, part_id).label != label:
                try:
                    rename(model, part_id, label)
                except InputError as exc:
                    notes.append(f"{part_id} kept, its label not restored ({exc})")
            continue
        try:
            add(model, label, examples, part_id)
            model.themes_[-1].status, model.themes_[-1].split_from = "split", curation.theme_ids[0]
        except InputError as exc:
            notes.append(f"{part_id} ({exc})")
    return f"not applied again: part of {curation.describe()}: {'; '.join(notes)}" if notes else None


def to_json(curations: list[Curation]) -> str:
    return json.dumps([asdict(c) for c in curations], indent=2, ensure_ascii=False) + "\n"


def from_json(text: str) -> list[Curation]:
    return [Curation(**item) for item in json.loads(text)]


# ------------------------------------------------------------------------------------------- model folders

CURATIONS_FILE = "curations.json"


def folder_curations(folder: str | Path) -> list[Curation]:
    path = Path(folder) / CURATIONS_FILE
    return from_json(path.read_text(encoding="utf-8")) if path.exists() else []


def curate_folder(folder: str | Path, curation: Curation) -> Curation:
    """Apply a curation to the model saved in ``folder`` and save both (``curations.json`` keeps the history)."""
    from .themes import ThemeModel

    folder = Path(folder)
    model = ThemeModel.load(folder)
    done = apply(model, curation)
    model.save(folder)
    history = folder_curations(folder) + [done]
    (folder / CURATIONS_FILE).write_text(to_json(history), encoding="utf-8")
    return done
