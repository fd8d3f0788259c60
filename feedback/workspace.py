"""The workspace: one local database file that remembers every week's analyzed feedback.

``add(db, DATA)`` analyzes only the rows the workspace has not seen (or whose content changed) and stores
their scores and theme tags; the report, KPIs and impact then read every stored week without re-analyzing
any text (``load_frames`` + ``pipeline.analyze_stored``).

Storage is SQLite, from Python's standard library (see pyproject.toml for why not DuckDB): one file a user
can copy, transactions that survive a killed process (rollback journal), no server and no new dependency.

* **Idempotent**: each ``feedback_id``/``customer_id``/``ticket_id`` is stored once. A row whose input columns
  hash to the stored ``row_hash`` is *unchanged* (not analyzed again); a different hash is an *update* that
  replaces the stored row; an unknown id is *inserted*.
* **Theme continuity**: the first add fits a theme model on its rows (or uses ``--themes MODEL_DIR``) and stores
  it (version 1, pickled). Later adds tag with the stored model, so theme ids stay stable week to week, and
  report how much new feedback it does not cover ("other") with a preview of the themes a refit would find.
  ``refit`` fits on every stored row with ``previous=`` the stored model (ids of persisting themes kept),
  retags every row and stores the model as the next version.
* **Safe**: a lock file (``DB.lock``, ``flock``) lets one writer in at a time and tells the second one who
  holds it; every add or refit is one transaction, so a crash leaves the database as it was; only the
  redacted ``clean_text`` is stored unless ``keep_raw=True`` (the raw text then goes to ``raw_text``).
* **Versioned schema**: ``schema_version`` records the migrations applied; opening an older file runs the
  missing ones (in one transaction). A new file goes through the same migrations, so they are always tested.

The stored model is a pickle, like ``ThemeModel.save``: open only workspaces you or your team created.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from .clean import find_duplicates, redact_pii
from .config import Config
from .errors import InputError, ModelError
from .schema import NOTE_REASONS, OTHER_THEME_ID, SKIP_REASONS

#: file name used when no --db is given (in the current folder)
DEFAULT_DB = "feedback.sqlite"
#: rows written per INSERT batch; progress is reported after each batch
WRITE_BATCH_ROWS = 1_000
#: seconds a reader waits for a writer's commit before giving up (SQLite busy timeout)
BUSY_TIMEOUT_S = 30.0
#: an add proposes emerging themes when the share of its usable rows that match no stored theme ("other")
#: is at least this many points above the stored share (0.10 = 10 points: a week-to-week wobble of "other" on the
#: sample data stays under 5 points)
OTHER_RISE_TO_PROPOSE = 0.10
#: themes shown in the preview
PROPOSALS_SHOWN = 5

# ------------------------------------------------------------------------------------------ schema

#: column name -> SQLite type of each stored table; the order is the column order of the table
FEEDBACK_COLUMNS = {
    "feedback_id": "TEXT PRIMARY KEY",
    "customer_id": "TEXT",
    "created_at": "TEXT",
    "channel": "TEXT",
    "subject": "TEXT",
    "clean_text": "TEXT",
    "csat": "REAL",
    "nps": "REAL",
    "ces": "REAL",
    "ticket_id": "TEXT",
    "language": "TEXT",
    "quality_issue": "TEXT",
    "duplicate_of": "TEXT",
    "sentiment": "REAL",
    "sentiment_label": "TEXT",
    "sentiment_drivers": "TEXT",
    "churn_intent": "INTEGER",
    "churn_phrase": "TEXT",
    "escalation": "INTEGER",
    "urgency": "INTEGER",
    "anger": "REAL",
    "theme_id": "INTEGER",
    "theme_label": "TEXT",
    "theme_ids": "TEXT",
    "themes": "TEXT",
    "theme_score": "REAL",
    "row_hash": "TEXT NOT NULL",
    "added_at": "TEXT",
}
CUSTOMER_COLUMNS = {
    "customer_id": "TEXT PRIMARY KEY",
    "segment": "TEXT",
    "plan": "TEXT",
    "signup_date": "TEXT",
    "churned": "INTEGER",
    "churn_date": "TEXT",
    "monthly_revenue": "REAL",
    "acquisition_cost": "REAL",
    "region": "TEXT",
    "row_hash": "TEXT NOT NULL",
    "added_at": "TEXT",
}
TICKET_COLUMNS = {
    "ticket_id": "TEXT PRIMARY KEY",
    "customer_id": "TEXT",
    "channel": "TEXT",
    "opened_at": "TEXT",
    "first_response_at": "TEXT",
    "resolved_at": "TEXT",
    "handle_time_minutes": "REAL",
    "contacts_to_resolve": "REAL",
    "row_hash": "TEXT NOT NULL",
    "added_at": "TEXT",
}
#: columns added by migration 2
FEEDBACK_COLUMNS_V2 = {"raw_text": "TEXT", "model_version": "INTEGER"}
#: columns added by migration 3
FEEDBACK_COLUMNS_V3 = {"theme_sentiment": "TEXT"}
#: columns added by migration 4
FEEDBACK_COLUMNS_V4 = {"scorer": "TEXT"}
#: columns added by migration 5
FEEDBACK_COLUMNS_V5 = {"subtheme_id": "TEXT", "subtheme_label": "TEXT"}
#: the alerts table (migration 6): one row per alert `feedback watch` found, keyed by what makes it the same alert
ALERT_COLUMNS = {
    "alert_key": "TEXT PRIMARY KEY",
    "kind": "TEXT NOT NULL",
    "period": "TEXT NOT NULL",
    "theme_id": "INTEGER",
    "theme_label": "TEXT",
    "kpi": "TEXT",
    "value": "REAL",
    "baseline": "REAL",
    "p_value": "REAL",
    "detail": "TEXT",
    "quote": "TEXT",
    "found_at": "TEXT NOT NULL",
}
#: the columns sentiment.score_sentiment fills, and those themes.tag_themes fills (as refit and rescore rewrite them)
SENTIMENT_COLUMNS = [
    "sentiment",
    "sentiment_label",
    "sentiment_drivers",
    "churn_intent",
    "churn_phrase",
    "escalation",
    "urgency",
    "anger",
]
THEME_COLUMNS = [
    "theme_id",
    "theme_label",
    "theme_ids",
    "themes",
    "theme_score",
    "theme_sentiment",
    "subtheme_id",
    "subtheme_label",
]
#: every column of the feedback table, in order
ALL_FEEDBACK_COLUMNS = [
    *FEEDBACK_COLUMNS,
    *FEEDBACK_COLUMNS_V2,
    *FEEDBACK_COLUMNS_V3,
    *FEEDBACK_COLUMNS_V4,
    *FEEDBACK_COLUMNS_V5,
]
DATE_COLUMNS = {"created_at", "signup_date", "churn_date", "opened_at", "first_response_at", "resolved_at"}
BOOL_COLUMNS = {"churn_intent", "escalation", "urgency", "churned"}
JSON_COLUMNS = {"sentiment_drivers", "theme_ids", "theme_sentiment"}
#: the input columns whose content identifies a version of a row (a change in any of them is an update)
FEEDBACK_INPUT = (
    "feedback_id",
    "customer_id",
    "created_at",
    "channel",
    "text",
    "csat",
    "nps",
    "ces",
    "ticket_id",
    "subject",
)


def _create(table: str, columns: dict[str, str]) -> str:
    return f"CREATE TABLE {table} (" + ", ".join(f"{k} {v}" for k, v in columns.items()) + ")"


#: version -> (what it changes, SQL statements). Never edit a released migration: add the next one.
MIGRATIONS: dict[int, tuple[str, list[str]]] = {
    1: (
        "feedback, customers, tickets and theme models",
        [
            _create("feedback", FEEDBACK_COLUMNS),
            "CREATE INDEX feedback_created_at ON feedback (created_at)",
            _create("customers", CUSTOMER_COLUMNS),
            _create("tickets", TICKET_COLUMNS),
            "CREATE TABLE theme_models (version INTEGER PRIMARY KEY, created_at TEXT NOT NULL, source TEXT NOT NULL, "
            "n_themes INTEGER NOT NULL, themes_json TEXT NOT NULL, model BLOB NOT NULL)",
        ],
    ),
    2: (
        "raw_text (only with --keep-raw), the model version that tagged each row, a log of adds",
        [
            *(f"ALTER TABLE feedback ADD COLUMN {k} {v}" for k, v in FEEDBACK_COLUMNS_V2.items()),
            "CREATE TABLE adds (add_id INTEGER PRIMARY KEY, added_at TEXT NOT NULL, source TEXT, kind TEXT NOT NULL, "
            "model_version INTEGER, counts_json TEXT NOT NULL)",
        ],
    ),
    3: (
        "theme_sentiment: the sentiment each theme tag gets from its row (filled by add and refit)",
        [
            *(f"ALTER TABLE feedback ADD COLUMN {k} {v}" for k, v in FEEDBACK_COLUMNS_V3.items()),
        ],
    ),
    4: (
        "scorer: what scored each row's sentiment (rules version and hash; NULL for rows stored before)",
        [
            *(f"ALTER TABLE feedback ADD COLUMN {k} {v}" for k, v in FEEDBACK_COLUMNS_V4.items()),
        ],
    ),
    5: (
        "subtheme_id, subtheme_label: each row's sub-theme within its theme (NULL for rows tagged before)",
        [
            *(f"ALTER TABLE feedback ADD COLUMN {k} {v}" for k, v in FEEDBACK_COLUMNS_V5.items()),
        ],
    ),
    6: (
        "theme curations (rename, merge, split, add); alerts found by `feedback watch`, and their deliveries",
        [
            "CREATE TABLE curations (curation_id INTEGER PRIMARY KEY, at TEXT NOT NULL, action TEXT NOT NULL, "
            "theme_ids TEXT NOT NULL, label TEXT, examples TEXT NOT NULL, new_ids TEXT NOT NULL, groups TEXT NOT NULL, "
            "model_version INTEGER)",
            _create("alerts", ALERT_COLUMNS),
            "CREATE TABLE deliveries (alert_key TEXT NOT NULL REFERENCES alerts (alert_key), target TEXT NOT NULL, "
            "sent_at TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, PRIMARY KEY (alert_key, target))",
            "CREATE TABLE delivery_attempts (attempt_id INTEGER PRIMARY KEY, target TEXT NOT NULL, "
            "attempted_at TEXT NOT NULL, alerts INTEGER NOT NULL, error TEXT)",
        ],
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def schema_version(con: sqlite3.Connection) -> int:
    """The schema version of an open workspace (0 for an empty file)."""
    exists = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
    if not exists:
        return 0
    row = con.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


@contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: all of the block is stored, or none of it (an error rolls back; a killed process
    leaves SQLite's rollback journal, which the next open undoes)."""
    try:
        con.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise _read_only_error(con, exc) from None
    try:
        yield
        con.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        con.execute("ROLLBACK")
        raise _read_only_error(con, exc) from None
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _read_only_error(con: sqlite3.Connection, exc: sqlite3.OperationalError) -> Exception:
    """A clear error for a write refused because the file is read-only; any other error as it was."""
    if "readonly" not in str(exc):
        return exc
    path = con.execute("PRAGMA database_list").fetchone()[2] or None
    return InputError(
        "the workspace is read-only: nothing was changed",
        path=path,
        fix="make the file and its folder writable (or work on a copy)",
    )


def _log_change(con: sqlite3.Connection, added_at: str, source: str | None, kind: str, version, counts: dict) -> None:
    """One line of the workspace's history (table ``adds``): what changed, from where, with which model."""
    con.execute(
        "INSERT INTO adds (added_at, source, kind, model_version, counts_json) VALUES (?, ?, ?, ?, ?)",
        (added_at, source, kind, version, json.dumps(counts)),
    )


def migrate(con: sqlite3.Connection, path: Path | str = "<workspace>") -> tuple[int, int]:
    """Apply the missing migrations in one transaction; returns (version before, version after)."""
    before = schema_version(con)
    if before > SCHEMA_VERSION:
        raise InputError(
            f"workspace schema version {before} is newer than this feedback reads ({SCHEMA_VERSION})",
            path=path,
            fix="upgrade feedback (pip install -U feedback)",
        )
    if before == SCHEMA_VERSION:
        return before, before
    with _transaction(con):
        if before == 0:
            con.execute(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, "
                "description TEXT NOT NULL)"
            )
        for version in range(before + 1, SCHEMA_VERSION + 1):
            description, statements = MIGRATIONS[version]
            for statement in statements:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (version, _now(), description))
    return before, SCHEMA_VERSION


def connect(path: str | Path, create: bool = True) -> sqlite3.Connection:
    """Open (or create) a workspace and bring its schema up to date."""
    path = Path(path) if create else _existing_workspace(path)
    if path.exists() and path.is_dir():
        raise InputError("is a folder, not a workspace file", path=path, fix="pass a file name such as feedback.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)  # explicit BEGIN/COMMIT
    try:
        # rollback journal (not WAL): between writes the workspace is exactly one file
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("PRAGMA synchronous=FULL")
        migrate(con, path)
    except sqlite3.DatabaseError as exc:
        con.close()
        if "readonly" in str(exc):
            raise InputError(
                f"the workspace is read-only, and this feedback must first upgrade its schema to version "
                f"{SCHEMA_VERSION}",
                path=path,
                fix="make the file and its folder writable once (any feedback command upgrades it), "
                "or work on a writable copy",
            ) from None
        raise InputError(
            f"not a feedback workspace ({exc})",
            path=path,
            fix="pass the .sqlite file written by `feedback add`, or a new file name",
        ) from None
    except BaseException:
        con.close()
        raise
    return con


def _existing_workspace(db: str | Path) -> Path:
    """``db`` as a Path, when the workspace file exists (a command that only changes a workspace must not create
    its folder and lock file first)."""
    db = Path(db)
    if not db.exists():
        raise InputError("no such workspace", path=db, fix="create it with `feedback add DATA --db PATH`")
    return db


# ------------------------------------------------------------------------------------------ lock


@contextmanager
def write_lock(path: str | Path) -> Iterator[None]:
    """Hold ``PATH.lock`` while writing; a second writer gets an error naming the process that holds it.

    The lock is an OS file lock (released by the OS if the holder dies), so a crashed add never leaves a stale lock.
    """
    path = Path(path)
    lock_path = path.with_name(path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a+")
    except OSError as exc:
        raise InputError(
            f"cannot make the workspace's lock file {lock_path.name} ({exc.strerror or exc})",
            path=path,
            fix="keep the workspace in a folder you can write to",
        ) from None
    try:
        try:
            _try_lock(fh)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise InputError(
                f"workspace {path} is being updated by process {holder}; try again when it finishes",
                fix=f"wait for that run to end (the lock is {lock_path})",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            _unlock(fh)
    finally:
        fh.close()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fh) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(fh) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fh) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fh) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# ------------------------------------------------------------------------------------------ values


def _stamp(values: pd.Series) -> list:
    times = pd.to_datetime(values, errors="coerce")
    text = times.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    return [None if pd.isna(t) else s for t, s in zip(times, text)]


def _cell(value, kind: str):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if kind in JSON_COLUMNS:
        return json.dumps(list(value), ensure_ascii=False)
    if kind in BOOL_COLUMNS:
        return None if pd.isna(value) else int(bool(value))
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Rows of ``frame`` as tuples of SQLite values in ``columns`` order (absent columns give NULL)."""
    cols = []
    for name in columns:
        if name not in frame.columns:
            cols.append([None] * len(frame))
        elif name in DATE_COLUMNS:
            cols.append(_stamp(frame[name]))
        else:
            cols.append([_cell(v, name) for v in frame[name].tolist()])
    return list(zip(*cols))


def row_hashes(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> pd.Series:
    """A content hash per row over ``columns`` (dates as ISO text, missing values as empty)."""
    parts = []
    for name in columns:
        if name not in frame.columns:
            continue
        if name in DATE_COLUMNS:
            values = _stamp(frame[name])
        else:
            values = frame[name].astype(object).where(frame[name].notna(), None).tolist()
        parts.append(["" if v is None else str(v) for v in values])
    joined = ("\x1f".join(row) for row in zip(*parts)) if parts else ("" for _ in range(len(frame)))
    return pd.Series(
        [hashlib.blake2b(s.encode("utf-8"), digest_size=16).hexdigest() for s in joined],
        index=frame.index,
        dtype=object,
    )


def _existing(con: sqlite3.Connection, table: str, key: str, ids: list[str]) -> dict[str, str]:
    """Stored row_hash of each of ``ids`` present in ``table``."""
    out: dict[str, str] = {}
    for start in range(0, len(ids), 900):  # SQLite's default limit on host parameters is 999
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        out.update(con.execute(f"SELECT {key}, row_hash FROM {table} WHERE {key} IN ({marks})", chunk).fetchall())
    return out


def _classify(hashes: pd.Series, ids: pd.Series, stored: dict[str, str]) -> pd.Series:
    return pd.Series(
        ["inserted" if i not in stored else "unchanged" if stored[i] == h else "updated" for i, h in zip(ids, hashes)],
        index=ids.index,
        dtype=object,
    )


def _counts(status: pd.Series) -> dict[str, int]:
    return {k: int((status == k).sum()) for k in ("inserted", "updated", "unchanged")}


# ------------------------------------------------------------------------------------------ models


def latest_model(con: sqlite3.Connection):
    """(ThemeModel, version) of the newest stored model, or (None, 0)."""
    row = con.execute("SELECT version, model FROM theme_models ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return None, 0
    try:
        model = pickle.loads(row[1])
    except Exception as exc:  # a model pickled by an incompatible version of the libraries
        raise ModelError(
            f"stored theme model version {row[0]} cannot be read ({exc})",
            fix="`feedback themes refit --db PATH` after upgrading, or start a new workspace",
        ) from None
    return model, int(row[0])


def _store_model(con: sqlite3.Connection, model, source: str) -> int:
    version = int(con.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM theme_models").fetchone()[0])
    themes = [asdict(t) for t in model.themes_]
    con.execute(
        "INSERT INTO theme_models VALUES (?, ?, ?, ?, ?, ?)",
        (
            version,
            _now(),
            source,
            len(themes),
            json.dumps(themes, ensure_ascii=False),
            pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
        ),
    )
    return version


# ------------------------------------------------------------------------------------------ add


@dataclass
class AddResult:
    """What one add did: per table inserted/updated/unchanged counts, the model used and emerging proposals."""

    counts: dict[str, dict[str, int]]
    model_version: int
    model_fitted: bool
    #: share of this add's usable analyzed rows tagged "other" by the stored model, and the share among stored rows
    other_share_new: float | None = None
    other_share_stored: float | None = None
    #: themes a refit would find in the uncovered rows (preview only; nothing stored): (label, size, top phrases)
    proposed: list[tuple[str, int, list[str]]] = field(default_factory=list)
    quality: dict[str, int] = field(default_factory=dict)
    #: stored usable rows (this add's included) whose sentiment another scorer gave (see ``scored_otherwise``)
    scored_otherwise: int = 0

    def lines(self) -> list[str]:
        out = [
            f"{table}: {c['inserted']} inserted, {c['updated']} updated, {c['unchanged']} unchanged"
            for table, c in self.counts.items()
        ]
        out.append(
            f"theme model: version {self.model_version}" + (" (fitted on this export)" if self.model_fitted else "")
        )
        if self.other_share_new is not None and self.other_share_stored is not None:
            out.append(
                f"matching no stored theme: {self.other_share_new:.0%} of the new rows "
                f"(stored rows: {self.other_share_stored:.0%})"
            )
        if self.proposed:
            out.append("possible emerging themes in the uncovered rows (run `feedback themes refit` to adopt them):")
            out += [f"  ~{size} rows  {label}  ({', '.join(phrases[:4])})" for label, size, phrases in self.proposed]
        if self.scored_otherwise:
            out.append(RESCORE_HINT.format(rows=self.scored_otherwise))
        return out


#: said by add and report when stored rows were scored otherwise
RESCORE_HINT = (
    "{rows} stored rows were scored by other sentiment rules (an earlier feedback, or another "
    "--sentiment-model): run `feedback db rescore` (with --sentiment-model DIR to score with a calibrated "
    "model) so that every week is scored alike; `feedback db info` lists the scorers"
)


def _check_ids(feedback: pd.DataFrame, data) -> None:
    ids = feedback["feedback_id"].astype(str)
    if len(ids) and ids.str.fullmatch(r"row\d+").all():
        raise InputError(
            "the feedback export has no feedback_id column; a workspace needs stable ids to know "
            "which rows it already holds",
            path=data,
            fix='map your id column in --config: [columns] feedback_id = "Your ID column"',
        )
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        column = feedback.attrs.get("id_column") or "feedback_id"
        raise InputError(
            f"the id column repeats {repeated.nunique()} value(s) over {len(repeated)} rows (e.g. "
            f"{repeated.iloc[0]!r}): the workspace would keep one row of each",
            path=data,
            column=column,
            fix='map a column whose values are unique per row: [columns] feedback_id = "Your ID column" in --config',
        )


def _other_share(frame: pd.DataFrame) -> float | None:
    usable = frame[~frame["quality_issue"].isin(SKIP_REASONS)]
    return float((usable["theme_id"] == OTHER_THEME_ID).mean()) if len(usable) else None


def _stored_other_share(con: sqlite3.Connection) -> float | None:
    marks = ",".join("?" * len(SKIP_REASONS))
    row = con.execute(
        f"SELECT AVG(theme_id = ?), COUNT(*) FROM feedback WHERE quality_issue NOT IN ({marks})",
        (OTHER_THEME_ID, *SKIP_REASONS),
    ).fetchone()
    return float(row[0]) if row[1] else None


def _propose(frame: pd.DataFrame, config: Config) -> list[tuple[str, int, list[str]]]:
    """Preview of the themes in rows the stored model leaves as "other" (a small fit on those rows only)."""
    from .themes import preview_model

    usable = frame[~frame["quality_issue"].isin(SKIP_REASONS) & (frame["theme_id"] == OTHER_THEME_ID)]
    model = preview_model(usable["clean_text"].astype(str).tolist(), config)
    if model is None:
        return []
    themes = sorted(model.themes_, key=lambda t: -t.size)[:PROPOSALS_SHOWN]
    return [(t.label, int(t.size), list(t.top_phrases)) for t in themes]


def _flag_cross_add_duplicates(con: sqlite3.Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Flag new rows that repeat a stored message of the same customer (clean.find_duplicates across adds)."""
    customers = sorted(set(frame["customer_id"].astype(str)))
    stored = []
    for start in range(0, len(customers), 900):
        chunk = customers[start : start + 900]
        stored.append(
            pd.read_sql_query(
                f"SELECT feedback_id, customer_id, created_at, clean_text FROM feedback WHERE customer_id IN "
                f"({','.join('?' * len(chunk))})",
                con,
                params=chunk,
            )
        )
    stored = pd.concat(stored, ignore_index=True) if stored else pd.DataFrame()
    stored = stored[~stored["feedback_id"].isin(set(frame["feedback_id"]))] if len(stored) else stored
    if not len(stored):
        return frame
    stored["created_at"] = pd.to_datetime(stored["created_at"], format="ISO8601")
    both = pd.concat(
        [
            stored.assign(_new=False),
            frame[["feedback_id", "customer_id", "created_at", "clean_text"]].assign(_new=True),
        ],
        ignore_index=True,
    )
    dup = find_duplicates(both)
    dup_new = pd.Series(dup[both["_new"]].to_numpy(), index=frame.index)
    hit = (dup_new != "") & frame["quality_issue"].isin(["", *NOTE_REASONS])
    if hit.any():
        frame = frame.copy()
        frame.loc[hit, "duplicate_of"] = dup_new[hit]
        frame.loc[hit, "quality_issue"] = "duplicate"
    return frame


def _write(
    con: sqlite3.Connection,
    table: str,
    columns: list[str],
    key: str,
    frame: pd.DataFrame,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Replace rows of ``frame`` by key (delete + insert), in batches, inside the caller's transaction."""
    ids = frame[key].astype(str).tolist()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        con.execute(f"DELETE FROM {table} WHERE {key} IN ({','.join('?' * len(chunk))})", chunk)
    marks = ",".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    for start in range(0, len(frame), WRITE_BATCH_ROWS):
        con.executemany(sql, _rows(frame.iloc[start : start + WRITE_BATCH_ROWS], columns))
        if progress:
            progress(f"{table}: stored {min(start + WRITE_BATCH_ROWS, len(frame))}/{len(frame)} rows")


def _table_changes(con, table: str, frame: pd.DataFrame | None, key: str, columns: dict[str, str]):
    if frame is None or not len(frame):
        return None, {"inserted": 0, "updated": 0, "unchanged": 0}
    frame = frame.drop_duplicates(key, keep="last")
    inputs = [c for c in columns if c not in ("row_hash", "added_at")]
    hashes = row_hashes(frame, inputs)
    status = _classify(hashes, frame[key].astype(str), _existing(con, table, key, frame[key].astype(str).tolist()))
    return frame.assign(row_hash=hashes)[status != "unchanged"], _counts(status)


def add(
    db: str | Path,
    data: str | Path,
    config: Config | None = None,
    *,
    keep_raw: bool = False,
    theme_model=None,
    scorer=None,
    preset: str | None = None,
    strict: bool = False,
    progress: Callable[[str], None] | None = None,
) -> AddResult:
    """Analyze the new and changed rows of DATA and store them in the workspace ``db`` in one transaction.

    ``theme_model`` is used only by the first add (a workspace without a model); otherwise the stored model
    tags the rows. ``--since/--until`` do not apply: a workspace keeps every row (the report windows them).
    """
    from .ingest import load_dataset
    from .pipeline import analyze_feedback
    from .sentiment import default_scorer, scorer_identity

    # PII is always redacted in what is stored (clean_text, subject, drivers); only --keep-raw keeps the raw text too
    config = replace(config or Config(), since=None, until=None, redact_pii=True)
    scorer = scorer or default_scorer()
    identity = scorer_identity(scorer)
    db = Path(db)
    with write_lock(db):
        dataset = load_dataset(data, config, preset=preset, strict=strict)
        if progress is not None:  # how the columns were read, when they were found or a date hint applies
            from .ingest import read_summary

            for line in read_summary(dataset.feedback, None)[1:]:
                progress(line)
        _check_ids(dataset.feedback, data)
        con = connect(db)
        try:
            stored_model, version = latest_model(con)
            if stored_model is not None and theme_model is not None:
                raise InputError(
                    "the workspace already has a theme model (version {})".format(version),
                    path=db,
                    fix="leave out --themes (new rows are tagged with the stored model), or refit it "
                    "with `feedback themes refit --db PATH`",
                )
            fb = dataset.feedback.drop_duplicates("feedback_id", keep="last")
            hashes = row_hashes(fb, FEEDBACK_INPUT)
            status = _classify(
                hashes,
                fb["feedback_id"].astype(str),
                _existing(con, "feedback", "feedback_id", fb["feedback_id"].astype(str).tolist()),
            )
            todo = fb[status != "unchanged"]
            model, fitted = stored_model if stored_model is not None else theme_model, False
            result = AddResult(counts={"feedback": _counts(status)}, model_version=version, model_fitted=False)
            if len(todo):
                if model is None:
                    frame, model = analyze_feedback(todo, config, None, scorer=scorer)
                    fitted = True
                else:
                    frame, _ = analyze_feedback(todo, config, model, scorer=scorer)
                frame = _flag_cross_add_duplicates(con, frame)
                frame["row_hash"] = hashes[todo.index].to_numpy()
                frame["raw_text"] = frame["text"] if keep_raw else None
                if not keep_raw:
                    frame["subject"] = [redact_pii(str(s)) for s in frame["subject"].fillna("")]
                if stored_model is not None:
                    result.other_share_new, result.other_share_stored = _other_share(frame), _stored_other_share(con)
                    if (
                        result.other_share_new is not None
                        and result.other_share_stored is not None
                        and result.other_share_new - result.other_share_stored >= OTHER_RISE_TO_PROPOSE
                    ):
                        result.proposed = _propose(frame, config)
                result.quality = {str(k): int(v) for k, v in frame["quality_issue"].value_counts().items() if k}
            else:
                frame = todo
            customers, result.counts["customers"] = _table_changes(
                con, "customers", dataset.customers, "customer_id", CUSTOMER_COLUMNS
            )
            tickets, result.counts["tickets"] = _table_changes(
                con, "tickets", dataset.tickets, "ticket_id", TICKET_COLUMNS
            )
            now = _now()
            with _transaction(con):  # one transaction: all of this add, or none of it
                if model is not None and (fitted or stored_model is None):
                    version = _store_model(con, model, "fit" if fitted else "given")
                result.model_version, result.model_fitted = version, fitted
                if len(frame):
                    frame = frame.assign(added_at=now, model_version=version)
                    _write(
                        con, "feedback", ALL_FEEDBACK_COLUMNS, "feedback_id", frame.assign(scorer=identity), progress
                    )
                if customers is not None and len(customers):
                    _write(
                        con,
                        "customers",
                        list(CUSTOMER_COLUMNS),
                        "customer_id",
                        customers.assign(added_at=now),
                        progress,
                    )
                if tickets is not None and len(tickets):
                    _write(con, "tickets", list(TICKET_COLUMNS), "ticket_id", tickets.assign(added_at=now), progress)
                _log_change(con, now, str(data), "add", version, result.counts)
            result.scored_otherwise = scored_otherwise(con, identity)
        finally:
            con.close()
    return result


def scored_otherwise(con: sqlite3.Connection, identity: str) -> int:
    """Stored usable rows whose sentiment another scorer gave (other rules, an older feedback, another
    ``--sentiment-model``, or unknown): their weeks do not compare with this scorer's."""
    skip = ", ".join("?" * len(SKIP_REASONS))
    row = con.execute(
        f"SELECT COUNT(*) FROM feedback WHERE COALESCE(quality_issue, '') NOT IN ({skip}) "
        "AND COALESCE(scorer, '') != ?",
        (*SKIP_REASONS, identity),
    ).fetchone()
    return int(row[0])


# ------------------------------------------------------------------------------------------ read


@dataclass
class StoredData:
    """Every stored table as the frames the pipeline uses, and the stored theme model."""

    feedback: pd.DataFrame
    customers: pd.DataFrame | None
    tickets: pd.DataFrame | None
    theme_model: object
    model_version: int


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in frame.columns:
        if name in DATE_COLUMNS:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        elif name in BOOL_COLUMNS:
            frame[name] = frame[name].fillna(0).astype(bool)
        elif name in JSON_COLUMNS:
            frame[name] = _json_lists(frame[name].tolist())
    return frame


def _json_lists(values: list) -> list[list]:
    """Parse stored JSON lists in one ``json.loads`` call (one call per row took 3x the CPU: 1.1 s vs 0.35 s for 100k
    rows); NULL -> []."""
    # NULL reads back as None, or as NaN when pandas types a column that mixes NULL and text (rows stored
    # before a migration added the column)
    return json.loads("[" + ",".join(v if isinstance(v, str) and v else "[]" for v in values) + "]")


def _read_table(con: sqlite3.Connection, table: str, order: str) -> pd.DataFrame:
    frame = pd.read_sql_query(f"SELECT * FROM {table} ORDER BY {order}", con)
    return _typed(frame.drop(columns=[c for c in ("row_hash", "added_at") if c in frame.columns]))


def load_frames(db: str | Path, config: Config | None = None) -> StoredData:
    """Read the whole workspace: feedback rows (in time order), customers, tickets and the theme model.

    With ``config.since``/``config.until`` set, feedback rows outside that window are kept and flagged
    ``quality_issue == "outside_period"`` (as ``load_dataset`` flags them in an export).
    """
    con = connect(db, create=False)
    try:
        model, version = latest_model(con)
        feedback = _read_table(con, "feedback", "created_at, feedback_id")
        customers = _read_table(con, "customers", "customer_id")
        tickets = _read_table(con, "tickets", "opened_at, ticket_id")
    finally:
        con.close()
    if model is None or not len(feedback):
        raise InputError(
            "the workspace holds no analyzed feedback yet",
            path=db,
            fix="add an export first: `feedback add DATA --db PATH`",
        )
    for name in ("quality_issue", "duplicate_of", "subject", "ticket_id", "clean_text", "theme_label", "themes"):
        feedback[name] = feedback[name].fillna("")
    raw = feedback.pop("raw_text") if "raw_text" in feedback.columns else None
    # downstream code that reads `text` gets the raw text when it was kept, else the redacted text
    feedback["text"] = raw.where(raw.notna(), feedback["clean_text"]) if raw is not None else feedback["clean_text"]
    if config is not None and (config.since is not None or config.until is not None):
        from .ingest import Dataset, _apply_date_window

        _apply_date_window(Dataset(feedback=feedback, customers=None, tickets=None), config)
    return StoredData(
        feedback, customers if len(customers) else None, tickets if len(tickets) else None, model, version
    )


# ------------------------------------------------------------------------------------------ curation


def curations(db: str | Path) -> list:
    """The workspace's curations (``feedback.curation.Curation``), oldest first."""
    from .curation import Curation

    con = connect(db, create=False)
    try:
        rows = con.execute(
            "SELECT action, theme_ids, label, examples, new_ids, at, groups FROM curations ORDER BY curation_id"
        ).fetchall()
    finally:
        con.close()
    return [
        Curation(action, json.loads(ids), label, json.loads(examples), json.loads(new), at, json.loads(groups))
        for action, ids, label, examples, new, at, groups in rows
    ]


def curate(db: str | Path, curation, scorer=None, progress: Callable[[str], None] | None = None):
    """Apply a curation to the workspace's theme model, store the result as the next model version, tag every
    stored row again with it (an added theme is backfilled over past weeks) and record the curation: one
    transaction. Returns the curation as applied (its new ids, its time)."""
    from .curation import apply
    from .themes import tag_themes

    db = _existing_workspace(db)
    with write_lock(db):
        stored = load_frames(db)
        model = stored.theme_model
        done = apply(model, curation)
        tagged, _ = tag_themes(stored.feedback, model, scorer=scorer)
        con = connect(db)
        try:
            with _transaction(con):
                version = _store_retagged(con, model, tagged, f"curation: {done.action}", progress)
                con.execute(
                    "INSERT INTO curations (at, action, theme_ids, label, examples, new_ids, groups, "
                    "model_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        done.at,
                        done.action,
                        json.dumps(done.theme_ids),
                        done.label,
                        json.dumps(done.examples, ensure_ascii=False),
                        json.dumps(done.new_ids),
                        json.dumps(done.groups, ensure_ascii=False),
                        version,
                    ),
                )
        finally:
            con.close()
    return done


def rows_per_theme(db: str | Path) -> dict[int, int]:
    """How many stored rows carry each theme id (any of their tags)."""
    con = connect(db, create=False)
    try:
        rows = con.execute(
            "SELECT value, COUNT(*) FROM feedback, json_each(feedback.theme_ids) GROUP BY value"
        ).fetchall()
    finally:
        con.close()
    return {int(theme_id): int(count) for theme_id, count in rows}


# ------------------------------------------------------------------------------------------ alerts


def record_alerts(db: str | Path, alerts: list) -> int:
    """Store the alerts (``feedback.watch.Alert``) the workspace does not hold yet, in one transaction; returns
    how many were new. An alert found again (same kind, period, theme and KPI) keeps its first record."""
    con = connect(db, create=False)
    try:
        with _transaction(con):
            before = con.total_changes
            now = _now()
            con.executemany(
                f"INSERT OR IGNORE INTO alerts ({', '.join(ALERT_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(ALERT_COLUMNS))})",
                [
                    (
                        a.key,
                        a.kind,
                        a.period,
                        a.theme_id,
                        a.theme_label,
                        a.kpi,
                        a.value,
                        a.baseline,
                        a.p_value,
                        a.detail,
                        a.quote,
                        now,
                    )
                    for a in alerts
                ],
            )
            return con.total_changes - before
    finally:
        con.close()


def pending_alerts(db: str | Path, target: str, period: str | None) -> list:
    """The alerts ``target`` (a ``feedback.watch.target_key``) is to be sent, oldest first: those of ``period`` it
    has not received, and any earlier one whose delivery to it failed (a target added later gets no backlog)."""
    from .alerts import stored_alert

    con = connect(db, create=False)
    try:
        con.row_factory = sqlite3.Row
        rows = con.execute(
            "SELECT a.* FROM alerts a LEFT JOIN deliveries d ON d.alert_key = a.alert_key AND d.target = ? "
            "WHERE d.sent_at IS NULL AND (a.period = ? OR d.failures > 0) ORDER BY a.period, a.found_at, a.alert_key",
            (target, period),
        ).fetchall()
    finally:
        con.close()
    return [stored_alert(dict(row)) for row in rows]


def record_delivery(db: str | Path, target: str, alerts: list, error: str | None) -> None:
    """Log a delivery attempt to ``target``: its alerts are received (``error`` None) or still pending, with one
    more failure and the error."""
    con = connect(db, create=False)
    try:
        with _transaction(con):
            now = _now()
            con.execute(
                "INSERT INTO delivery_attempts (target, attempted_at, alerts, error) VALUES (?, ?, ?, ?)",
                (target, now, len(alerts), error),
            )
            con.executemany(
                "INSERT INTO deliveries (alert_key, target, sent_at, failures, last_error) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (alert_key, target) DO UPDATE SET sent_at = excluded.sent_at, "
                "failures = failures + excluded.failures, last_error = excluded.last_error",
                [(a.key, target, now if error is None else None, 0 if error is None else 1, error) for a in alerts],
            )
    finally:
        con.close()


# ------------------------------------------------------------------------------------------ refit


@dataclass
class RefitResult:
    model_version: int
    kept: list[tuple[int, str]]
    emerging: list[tuple[int, str]]
    #: themes of the stored model that no new theme continues (ThemeModel.gone_themes_ holds all gone so far)
    gone: list[tuple[int, str]]
    retagged: int
    #: themes gone in an earlier refit that came back with their id and label
    returned: list[tuple[int, str]] = field(default_factory=list)
    #: new themes carved out of a kept one: (id, label, id of the theme they split from)
    split: list[tuple[int, str, int]] = field(default_factory=list)
    #: curations applied again (feedback.curation.replay), and a note for each one that could not be
    curations: int = 0
    curation_notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        show = lambda items: ", ".join(f"[{i}] {label}" for i, label in items) or "none"  # noqa: E731
        lines = [f"theme model version {self.model_version}; {self.retagged} rows retagged", f"kept: {show(self.kept)}"]
        if self.returned:
            lines.append(f"returned: {show(self.returned)}")
        if self.split:
            lines.append("split: " + ", ".join(f"[{i}] {label} (from [{parent}])" for i, label, parent in self.split))
        lines += [f"emerging: {show(self.emerging)}", f"gone: {show(self.gone)}"]
        if self.curations:
            lines.append(f"curations applied again: {self.curations - len(self.curation_notes)} of {self.curations}")
        return lines + self.curation_notes


def refit(
    db: str | Path, config: Config | None = None, progress: Callable[[str], None] | None = None, scorer=None
) -> RefitResult:
    """Refit themes on every stored usable row (previous = stored model), retag all rows, store the new version.

    ``scorer`` scores the sentences of rows with several themes (``theme_sentiment``); give the calibrated scorer
    the rows were added with, so those scores share the scale of the stored ``sentiment`` (default: the default
    scorer)."""
    from .curation import replay
    from .themes import ThemeModel, tag_themes

    config = config or Config()
    db = _existing_workspace(db)
    with write_lock(db):
        stored = load_frames(db)
        frame = stored.feedback
        usable = ~frame["quality_issue"].isin(SKIP_REASONS)
        texts = frame.loc[usable, "clean_text"].astype(str).tolist()
        model = ThemeModel.from_config(config).fit(texts, previous=stored.theme_model)
        # what a person curated is applied again: a refit never undoes it
        curated = curations(db)
        notes = replay(model, curated)
        tagged, _ = tag_themes(frame, model, scorer=scorer)
        con = connect(db)
        try:
            with _transaction(con):
                version = _store_retagged(con, model, tagged, "refit", progress)
        finally:
            con.close()
    themes = model.themes_
    before = {t.theme_id for t in stored.theme_model.themes_}
    return RefitResult(
        version,
        [(t.theme_id, t.label) for t in themes if t.status == "kept"],
        [(t.theme_id, t.label) for t in themes if t.status in ("emerging", "discovered")],
        [
            (t.theme_id, t.label)
            for t in model.gone_themes_
            if t.theme_id in before and t.theme_id not in {k.theme_id for k in themes}
        ],
        len(tagged),
        returned=[(t.theme_id, t.label) for t in themes if t.status == "returned"],
        split=[(t.theme_id, t.label, t.split_from) for t in themes if t.status == "split"],
        curations=len(curated),
        curation_notes=notes,
    )


def _store_retagged(
    con: sqlite3.Connection, model, tagged: pd.DataFrame, source: str, progress: Callable[[str], None] | None
) -> int:
    """Store ``model`` as the next version, write the theme columns of every ``tagged`` row and log it, inside the
    caller's transaction (a refit and a curation each end so); returns the new version."""
    version = _store_model(con, model, source)
    retagged = _update_feedback(
        con, tagged.assign(model_version=version), [*THEME_COLUMNS, "model_version"], progress, "retagged"
    )
    _log_change(con, _now(), None, source, version, {"retagged": retagged})
    return version


def _update_feedback(
    con: sqlite3.Connection, frame: pd.DataFrame, columns: list[str], progress: Callable[[str], None] | None, done: str
) -> int:
    """Write ``columns`` of ``frame`` over the stored rows of the same ``feedback_id``, in batches (inside the
    caller's transaction), saying "feedback: <done> n/N rows" after each; returns N."""
    rows = [(*r, i) for r, i in zip(_rows(frame, columns), frame["feedback_id"])]
    sql = f"UPDATE feedback SET {', '.join(f'{c} = ?' for c in columns)} WHERE feedback_id = ?"
    for start in range(0, len(rows), WRITE_BATCH_ROWS):
        con.executemany(sql, rows[start : start + WRITE_BATCH_ROWS])
        if progress:
            progress(f"feedback: {done} {min(start + WRITE_BATCH_ROWS, len(rows))}/{len(rows)} rows")
    return len(rows)


def scored_unlike_latest(db: str | Path) -> int:
    """Stored usable rows whose sentiment a scorer other than the one of the latest stored row gave."""
    con = connect(db, create=False)
    try:
        skip = ", ".join("?" * len(SKIP_REASONS))
        latest = con.execute(
            f"SELECT COALESCE(scorer, '') FROM feedback WHERE COALESCE(quality_issue, '') NOT IN "
            f"({skip}) ORDER BY added_at DESC, rowid DESC LIMIT 1",
            SKIP_REASONS,
        ).fetchone()
        return 0 if latest is None else scored_otherwise(con, latest[0])
    finally:
        con.close()


def rescore(db: str | Path, scorer=None, progress: Callable[[str], None] | None = None) -> tuple[int, str]:
    """Score every stored row's sentiment again with ``scorer`` (default: this feedback's rules) and tag its themes
    again with the stored model (no refit: ids and labels stay), so weeks stored by an older feedback or another
    sentiment model compare with new ones. One transaction; returns (rows rescored, the scorer's identity)."""
    from .sentiment import default_scorer, score_sentiment, scorer_identity
    from .themes import tag_themes

    scorer = scorer or default_scorer()
    identity = scorer_identity(scorer)
    db = _existing_workspace(db)
    with write_lock(db):
        stored = load_frames(db)
        frame = score_sentiment(stored.feedback, scorer=scorer)
        tagged, _ = tag_themes(frame, stored.theme_model, scorer=scorer)
        con = connect(db)
        try:
            with _transaction(con):
                rescored = _update_feedback(
                    con,
                    tagged.assign(scorer=identity),
                    [*SENTIMENT_COLUMNS, *THEME_COLUMNS, "scorer"],
                    progress,
                    "rescored",
                )
                _log_change(
                    con, _now(), None, "rescore", stored.model_version, {"rescored": rescored, "scorer": identity}
                )
        finally:
            con.close()
    return rescored, identity


# ------------------------------------------------------------------------------------------ info, export


def info(db: str | Path) -> dict:
    """Rows per table, date ranges, schema and theme model versions, the scorers of the stored sentiment
    ("unknown": rows stored before schema 4), and the last adds."""
    con = connect(db, create=False)
    try:
        out: dict = {
            "path": str(db),
            "size_bytes": Path(db).stat().st_size,
            "schema_version": schema_version(con),
            "rows": {
                t: int(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                for t in ("feedback", "customers", "tickets")
            },
        }
        out["feedback_dates"] = list(con.execute("SELECT MIN(created_at), MAX(created_at) FROM feedback").fetchone())
        out["ticket_dates"] = list(con.execute("SELECT MIN(opened_at), MAX(opened_at) FROM tickets").fetchone())
        row = con.execute(
            "SELECT version, created_at, source, n_themes FROM theme_models ORDER BY version DESC LIMIT 1"
        ).fetchone()
        out["theme_model"] = None if row is None else dict(zip(("version", "created_at", "source", "n_themes"), row))
        out["scorers"] = {
            r[0] or "unknown": int(r[1])
            for r in con.execute("SELECT scorer, COUNT(*) FROM feedback GROUP BY scorer ORDER BY COUNT(*) DESC, scorer")
        }
        out["adds"] = [
            dict(zip(("added_at", "kind", "source", "counts"), (r[0], r[1], r[2], json.loads(r[3]))))
            for r in con.execute("SELECT added_at, kind, source, counts_json FROM adds ORDER BY add_id DESC LIMIT 5")
        ]
    finally:
        con.close()
    return out


def info_lines(summary: dict) -> list[str]:
    fmt = lambda pair: f"{(pair[0] or '')[:10]} .. {(pair[1] or '')[:10]}" if pair[0] else "-"  # noqa: E731
    model = summary["theme_model"]
    lines = [
        f"workspace {summary['path']} ({summary['size_bytes'] / 1e6:.1f} MB, schema version "
        f"{summary['schema_version']})",
        *(f"  {table}: {n} rows" for table, n in summary["rows"].items()),
        f"  feedback dates: {fmt(summary['feedback_dates'])}",
        f"  ticket dates: {fmt(summary['ticket_dates'])}",
        "  theme model: none"
        if model is None
        else f"  theme model: version {model['version']} ({model['n_themes']} themes, {model['source']}, "
        f"{model['created_at']} UTC)",
    ]
    if summary.get("scorers"):
        lines.append(
            "  sentiment scored by: "
            + ", ".join(f"{name} ({n} rows)" for name, n in summary["scorers"].items())
            + ("; run `feedback db rescore` to score them alike" if len(summary["scorers"]) > 1 else "")
        )
    for entry in summary["adds"]:
        lines.append(f"  {entry['added_at']} {entry['kind']} {entry['source'] or ''} {json.dumps(entry['counts'])}")
    return lines


def export_parquet(db: str | Path, out_dir: str | Path) -> list[Path]:
    """Write feedback, customers, tickets and themes (of the current model) as Parquet files in ``out_dir``."""
    stored = load_frames(db)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("feedback", stored.feedback), ("customers", stored.customers), ("tickets", stored.tickets)):
        if frame is not None:
            frame.to_parquet(out / f"{name}.parquet", index=False)
            written.append(out / f"{name}.parquet")
    themes = pd.DataFrame([{**asdict(t), "model_version": stored.model_version} for t in stored.theme_model.themes_])
    themes.to_parquet(out / "themes.parquet", index=False)
    written.append(out / "themes.parquet")
    return written


__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "MIGRATIONS",
    "AddResult",
    "StoredData",
    "RefitResult",
    "add",
    "connect",
    "migrate",
    "schema_version",
    "write_lock",
    "load_frames",
    "latest_model",
    "refit",
    "info",
    "info_lines",
    "export_parquet",
    "row_hashes",
]
