"""Scale: analyze inputs of any size in chunks, on every core or on a Dask cluster, with progress and timings.

The per-row stages (clean, sentiment, theme tagging) run on chunks of ``chunk_rows`` rows; everything that needs
all rows at once works on small columns only. One run of :func:`analyze_stream`:

1. **read + clean**, chunk by chunk, in parallel: each chunk is cleaned (without the duplicate search, which
   needs every row); the result is spilled to a temporary folder (pickle), so memory holds a few chunks, never
   the whole input;
2. **duplicates** over every row, from four small columns (customer, a 64-bit hash of the normalized text, date,
   id): the same :func:`feedback.clean.find_duplicates` the in-memory path runs;
3. **theme fit** (unless a model is given) on the same sample of usable texts ``ThemeModel.fit`` would draw
   (by stable per-text keys, ``feedback.themes.stable_sample_keys``) from the whole input (at most
   ``feedback.themes.fit_pool_size()`` texts are read back), so the model is the one the in-memory path fits. It needs
   clean texts only, so it runs in the background (a thread of this process; a task on Dask) while
4. **sentiment** scores the chunks in parallel, the workers at a lower CPU priority: the fit is what the next
   pass waits for, and it is one process, so it keeps a core and the workers take the rest;
5. **theme tagging** chunk by chunk, in parallel, and each finished chunk is handed on in input order (written
   to the output file by ``feedback analyze``; for ``feedback report`` kept as a slim frame without the raw text).
   With a given theme model there is no fit to wait for: sentiment and tagging are one pass.

The result is identical, row for row, to :func:`feedback.pipeline.analyze_feedback` on the whole frame, for any
number of workers and on either engine (tests check it). Engines: ``local`` (a process pool of ``workers``;
``workers=1`` runs in this process) and ``dask`` (``dask.distributed`` at ``scheduler``; optional extra
``feedback[dask]``). Within a chunk each distinct text is cleaned, scored and tagged once.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from .clean import clean_feedback, find_duplicates, normalize_for_duplicates
from .config import Config
from .errors import ConfigError, InputError
from .schema import ANALYZE_COLUMNS, INPUT_PREFIX, NOTE_REASONS, SKIP_REASONS

#: rows per task: big enough that pickling a chunk to a worker costs little next to analyzing it (~1 s of work),
#: small enough that a few chunks in flight per worker keep memory low and both cores busy at 100k rows
CHUNK_ROWS = 10_000
#: chunks submitted ahead per worker: keeps every worker busy while bounding memory
IN_FLIGHT_PER_WORKER = 2
ENGINES = ("local", "dask")
#: how local workers start: "fork" (Linux) inherits the loaded models; where fork is missing, "spawn"
START_METHOD = "fork"
#: columns the report does not need: dropped from each finished chunk by ``feedback report`` (``slim=True``)
REPORT_DROP_COLUMNS = ("text", "removed_text", "sentiment_drivers")
#: stage names of the timing summary, in pipeline order
STAGES = ("read", "clean", "duplicates", "theme fit", "sentiment", "theme tagging", "redact", "write")
_DUP_KEY = "_dup_key"
#: the column clean_rows adds for the theme sample: :func:`feedback.themes.text_hashes` of ``clean_text``
_TEXT_HASH = "_text_hash"


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------------------------------ per-chunk tasks

_WORKER_CACHE: dict = {}


def _scorer(sentiment_model: str | None):
    from .calibration import load_scorer

    key = ("scorer", sentiment_model)
    if key not in _WORKER_CACHE:
        _WORKER_CACHE[key] = load_scorer(sentiment_model)
    return _WORKER_CACHE[key]


def _theme_model(model):
    """A ThemeModel from the model itself or its pickle (as sent to workers), unpickled once per process."""
    if not isinstance(model, bytes):
        return model
    key = ("themes", hashlib.blake2b(model, digest_size=16).digest())
    if key not in _WORKER_CACHE:
        _WORKER_CACHE.clear() if len(_WORKER_CACHE) > 8 else None
        _WORKER_CACHE[key] = pickle.loads(model)
    return _WORKER_CACHE[key]


def _distinct(*keys) -> tuple[np.ndarray, np.ndarray]:
    """Codes of each row's key (the tuple of ``keys`` columns) and the position of each distinct key's first row."""
    arrays = [np.asarray(k, dtype=object) for k in keys]
    codes = (
        pd.MultiIndex.from_arrays(arrays).factorize()[0]
        if len(arrays) > 1
        else pd.factorize(arrays[0], use_na_sentinel=False)[0]
    )
    return codes, np.unique(codes, return_index=True)[1]


def dup_key(text: str) -> str:
    """64-bit hash of the text as find_duplicates compares it ("" when nothing is left), stable across processes."""
    norm = normalize_for_duplicates(text)
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest() if norm else ""


def clean_rows(chunk: pd.DataFrame, redact: bool = True, max_chars: int | None = 20_000) -> pd.DataFrame:
    """The per-row part of :func:`feedback.clean.clean_feedback`: every column it adds but ``duplicate_of``.

    Each distinct (text, quality_issue) is cleaned once. The duplicate search needs every row of the input, so it
    is left to :func:`analyze_stream` (step 2); the column ``_dup_key`` carries what it compares, and ``_text_hash`` the
    hash the theme sample is drawn by (computed here, in the workers, not by the main process reading every
    chunk back).
    """
    from .themes import text_hashes

    text = chunk["text"].astype(object).where(chunk["text"].notna(), "").astype(str)
    issue = (
        chunk["quality_issue"].astype(object).where(chunk["quality_issue"].notna(), "").astype(str)
        if "quality_issue" in chunk.columns
        else pd.Series("", index=chunk.index)
    )
    codes, first = _distinct(text, issue)
    # Without a customer_id column clean_feedback finds no duplicates: the per-row part alone.
    distinct = pd.DataFrame({"text": text.iloc[first].to_numpy(), "quality_issue": issue.iloc[first].to_numpy()})
    cleaned = clean_feedback(distinct, redact=redact, max_chars=max_chars)
    out = chunk.copy()
    for column in ("clean_text", "removed_text", "language", "quality_issue"):
        out[column] = pd.Series(
            cleaned[column].to_numpy(dtype=object)[codes], index=out.index, dtype=cleaned[column].dtype
        )
    keys = np.array([dup_key(t) for t in cleaned["clean_text"]], dtype=object)
    out[_DUP_KEY] = keys[codes]
    out[_TEXT_HASH] = text_hashes(cleaned["clean_text"].astype(str))[codes]
    return out


def score_rows(chunk: pd.DataFrame, scorer=None) -> pd.DataFrame:
    """:func:`feedback.sentiment.score_sentiment` with each distinct (text, skipped) scored once."""
    from .sentiment import score_sentiment

    skip = chunk["quality_issue"].isin(SKIP_REASONS)
    codes, first = _distinct(chunk["clean_text"].astype(str), skip.to_numpy())
    distinct = pd.DataFrame(
        {
            "clean_text": chunk["clean_text"].iloc[first].to_numpy(),
            "quality_issue": np.where(skip.iloc[first], "empty_text", ""),
        }
    )
    scored = score_sentiment(distinct, scorer=scorer)
    out = chunk.copy()
    for column in scored.columns.difference(distinct.columns, sort=False):
        out[column] = pd.Series(_take(scored[column], codes), index=out.index, dtype=scored[column].dtype)
    return out


def tag_rows(chunk: pd.DataFrame, model, scorer=None) -> pd.DataFrame:
    """:func:`feedback.themes.tag_themes` with a fitted model, each distinct (text, skipped) tagged once."""
    from .themes import tag_themes

    skip = chunk["quality_issue"].isin(SKIP_REASONS)
    codes, first = _distinct(chunk["clean_text"].astype(str), skip.to_numpy())
    distinct = pd.DataFrame(
        {
            "clean_text": chunk["clean_text"].iloc[first].to_numpy(),
            "quality_issue": np.where(skip.iloc[first], "empty_text", ""),
        }
    )
    if "sentiment" in chunk.columns:  # a function of the text, like the tags: the distinct rows carry it
        distinct["sentiment"] = chunk["sentiment"].iloc[first].to_numpy()
    tagged, _ = tag_themes(distinct, model, scorer=scorer)
    out = chunk.copy()
    for column in tagged.columns.difference(distinct.columns, sort=False):
        values = _take(tagged[column], codes)
        if column in ("theme_ids", "theme_sentiment"):  # each row its own list, as tag_themes gives
            values = [list(v) for v in values]
        out[column] = pd.Series(values, index=out.index, dtype=tagged[column].dtype)
    return out


def _take(column: pd.Series, codes: np.ndarray):
    """Rows ``codes`` of a column, keeping its dtype (lists stay lists)."""
    if column.dtype == object:
        values = column.to_numpy(dtype=object)[codes]
        return list(values) if len(values) and isinstance(values[0], list) else values
    return column.to_numpy()[codes]


def _timed(stage: str, timings: dict, fn, *args):
    """``fn(*args)``, adding its CPU seconds to ``timings[stage]``: CPU, not wall, because workers share the
    cores with the background theme fit, and a stage's wall time would count the time it waited for them."""
    start = time.process_time()
    out = fn(*args)
    timings[stage] = timings.get(stage, 0.0) + time.process_time() - start
    return out


def clean_task(chunk: pd.DataFrame, redact: bool, max_chars: int | None) -> tuple[pd.DataFrame, dict]:
    """Clean one chunk (in a worker): the frame and the seconds it took."""
    timings: dict[str, float] = {}
    chunk = _timed("clean", timings, clean_rows, chunk, redact, max_chars)
    return chunk, timings


def score_task(chunk: pd.DataFrame, sentiment_model: str | None) -> tuple[pd.DataFrame, dict]:
    """Score the ``clean_text`` and final ``quality_issue`` of one chunk (in a worker, while the theme fit runs):
    the columns score_rows adds, and the seconds it took."""
    timings: dict[str, float] = {}
    scored = _timed("sentiment", timings, score_rows, chunk, _scorer(sentiment_model))
    return scored.drop(columns=list(chunk.columns)), timings


def fit_task(config: Config, texts: list[str], keys: np.ndarray):
    """Fit the run's theme model on its sample (in the background): the model and the CPU seconds of the thread
    that fitted it."""
    from .themes import ThemeModel

    start = time.thread_time()
    model = ThemeModel.from_config(config).fit(texts, sample_keys=keys)
    return model, {"theme fit": time.thread_time() - start}


def export_frame(chunk: pd.DataFrame, ids_from_input: bool) -> pd.DataFrame:
    """The rows as ``feedback analyze`` writes them: the input's own columns (kept as ``INPUT_PREFIX + name`` by
    ``prepare_feedback(keep_input=True)``) under their names with their values, then ``ANALYZE_COLUMNS``; a
    product column whose name the input uses is written as ``feedback_NAME``. ``feedback_id`` is added only
    when the ids are not one of the input's columns (``ids_from_input``): they are then the row numbers that
    ``duplicate_of`` refers to. A chunk without kept input columns (e-mail) is returned as it is."""
    inputs = [c for c in chunk.columns if str(c).startswith(INPUT_PREFIX)]
    if not inputs:
        return chunk
    out = chunk[inputs].set_axis([str(c)[len(INPUT_PREFIX) :] for c in inputs], axis=1)
    taken = set(out.columns)
    for column in ANALYZE_COLUMNS:
        if column not in chunk.columns or (column == "feedback_id" and ids_from_input):
            continue
        name = column
        while name in taken:
            name = f"feedback_{name}"
        out[name] = chunk[column]
        taken.add(name)
    return out


def tag_task(
    chunk: pd.DataFrame, model, sentiment_model: str | None, redact_output: bool, slim: bool, score: bool
) -> tuple[pd.DataFrame, dict]:
    """Tag themes on one chunk (in a worker), scoring it first when ``score`` (a theme model was given, so there
    was no fit to wait for); then redact the output columns and drop what the report does not need."""
    timings: dict[str, float] = {}
    if score:
        chunk = _timed("sentiment", timings, score_rows, chunk, _scorer(sentiment_model))
    chunk = _timed("theme tagging", timings, tag_rows, chunk, _theme_model(model), _scorer(sentiment_model))
    if redact_output:
        from .clean import DERIVED_COLUMNS, ID_COLUMNS, redact_columns

        # clean_feedback redacted clean_text (redact_output is set only when config.redact_pii is). The user's own
        # columns, kept for feedback analyze, come back as they were given: only what the product adds is redacted.
        columns = None
        if any(str(c).startswith(INPUT_PREFIX) for c in chunk.columns):
            columns = [
                c
                for c in ANALYZE_COLUMNS
                if c in chunk.columns
                and c not in DERIVED_COLUMNS + ID_COLUMNS
                and (chunk[c].dtype == object or pd.api.types.is_string_dtype(chunk[c]))
            ]
        chunk = _timed("redact", timings, redact_columns, chunk, columns, True)
    if slim:
        chunk = chunk.drop(columns=[c for c in REPORT_DROP_COLUMNS if c in chunk.columns])
    return chunk, timings


# ------------------------------------------------------------------------------------------ engines

#: niceness of workers that run next to a background call: the theme fit, which the tagging pass waits for,
#: keeps a core to itself, and the workers still take every cycle it leaves
LOW_PRIORITY_NICENESS = 10


def _lower_priority() -> None:
    try:
        os.nice(LOW_PRIORITY_NICENESS)
    except (AttributeError, OSError):  # no os.nice (Windows): same priority, only slower
        pass


def _start_worker(low_priority: bool) -> None:
    keep_freed_memory()
    if low_priority:
        _lower_priority()


class _Finished:
    """The result of a call already made (``LocalEngine.start`` with one worker)."""

    def __init__(self, fn: Callable, args: tuple) -> None:
        self._value = fn(*args)

    def result(self):
        return self._value

    def cancel(self) -> None:
        pass


class _BackgroundThread:
    """``fn(*args)`` in a thread of this process, started at once; :meth:`result` waits for it and raises what it
    raised.

    A thread, not a forked process: a child forked from a process that has already run an OpenMP parallel region
    (scikit-learn's neighbour search, torch) hangs in its own first parallel region, and the theme fit has one.
    The fit's numeric parts release the GIL; the pool workers were forked before it started, so no fork happens
    while it runs (``LocalEngine.start`` is called once the pool is up)."""

    def __init__(self, fn: Callable, args: tuple) -> None:
        import threading

        self._value, self._error = None, None
        self._thread = threading.Thread(target=self._run, args=(fn, args), name="feedback-theme-fit", daemon=True)
        self._thread.start()

    def _run(self, fn: Callable, args: tuple) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            self._error = exc

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        """A thread cannot be stopped: a daemon, it ends with the process; its result is dropped."""


class LocalEngine:
    """Ordered map of a task over chunks on a process pool of ``workers`` (started at the second chunk, so a
    small input never pays for it); ``workers=1`` runs in this process."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else int(workers)
        if self.workers < 1:
            raise ConfigError(f"--workers must be a whole number >= 1; got {workers!r}")
        self._pool = None

    def _executor(self, warm: Callable | None, low_priority: bool = False):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # fork where the OS has it: workers start in milliseconds with the VADER lexicon, the lemma tables, the
            # embedding table and the theme model already loaded here (``warm``); a spawned worker would load them
            # again (seconds each). Elsewhere spawn, a fresh interpreter per worker.
            method = START_METHOD if START_METHOD in multiprocessing.get_all_start_methods() else "spawn"
            if method == "fork" and warm is not None:
                warm()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_start_worker,
                initargs=(low_priority,),
            )
        return self._pool

    def map(
        self, fn: Callable, items: Iterable, *args, warm: Callable | None = None, low_priority: bool = False
    ) -> Iterator:
        """``fn(item, *args)`` for every item, in order; ``warm`` loads in this process what forked workers
        should inherit. A new pool starts for each map, so it inherits what the previous stage loaded.
        ``low_priority``: the workers yield the CPU to a call running in the background (:meth:`start`)."""
        self.close()
        if self.workers == 1:
            for item in items:
                yield fn(item, *args)
            return
        pending: deque = deque()
        iterator = iter(items)
        first = next(iterator, None)
        if first is None:
            return
        second = next(iterator, None)
        if second is None:  # one chunk: no pool
            yield fn(first, *args)
            return
        pool = self._executor(warm, low_priority)
        for item in (first, second):
            pending.append(pool.submit(fn, item, *args))
        for item in iterator:
            while len(pending) >= IN_FLIGHT_PER_WORKER * self.workers:
                yield pending.popleft().result()
            pending.append(pool.submit(fn, item, *args))
        while pending:
            yield pending.popleft().result()

    def start(self, fn: Callable, *args):
        """``fn(*args)`` in the background (a thread; with one worker, at once, before returning), next to the
        maps that follow; returns an object whose ``result()`` waits for it. Call it once the pool is up: no
        worker may fork while the thread runs (see :class:`_BackgroundThread`)."""
        return _Finished(fn, args) if self.workers == 1 else _BackgroundThread(fn, args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


#: seconds ``--engine dask`` waits for the scheduler to have a worker
DASK_WORKER_WAIT = 30


class DaskEngine:
    """Ordered map of a task over chunks on a ``dask.distributed`` cluster (optional extra ``feedback[dask]``)."""

    def __init__(self, scheduler) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ConfigError(
                "--engine dask needs Dask: pip install 'feedback[dask]' (dask.distributed is not installed)"
            ) from None
        if not scheduler:
            raise ConfigError(
                "--engine dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786); the default "
                "engine (local) needs no cluster"
            )
        self._own = not hasattr(scheduler, "submit")
        try:
            self.client = Client(scheduler) if self._own else scheduler
        except (OSError, ValueError, TypeError) as exc:  # ValueError, TypeError: an address that is not one
            raise ConfigError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                fix="start it (`dask scheduler`) and give its address, e.g. tcp://10.0.0.5:8786",
            ) from None
        try:  # tasks sent to a scheduler without workers wait forever, silently
            self.client.wait_for_workers(1, timeout=DASK_WORKER_WAIT)
        except (TimeoutError, OSError):
            self.close()
            raise ConfigError(
                f"the Dask scheduler at {scheduler} has no workers (waited {DASK_WORKER_WAIT} s)",
                fix=f"start some with `dask worker {scheduler}`",
            ) from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def map(
        self, fn: Callable, items: Iterable, *args, warm: Callable | None = None, low_priority: bool = False
    ) -> Iterator:
        # big arguments (the pickled theme model) go to the cluster once, not with every chunk
        args = tuple(self.client.scatter(a, broadcast=True) if isinstance(a, bytes) else a for a in args)
        pending: deque = deque()
        for item in items:
            while len(pending) >= IN_FLIGHT_PER_WORKER * self.workers:
                yield pending.popleft().result()
            pending.append(self.client.submit(fn, item, *args, pure=False))
        while pending:
            yield pending.popleft().result()

    def start(self, fn: Callable, *args):
        """``fn(*args)`` as one task on the cluster, next to the maps that follow; a future."""
        return self.client.submit(fn, *args, pure=False)

    def close(self) -> None:
        if self._own:
            self.client.close()


def make_engine(engine: str = "local", workers: int | None = None, scheduler=None):
    """The engine named by ``--engine``: ``local`` (``workers`` processes) or ``dask`` (at ``scheduler``)."""
    if engine == "local":
        return LocalEngine(workers)
    if engine == "dask":
        return DaskEngine(scheduler)
    raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}; got {engine!r}")


# ------------------------------------------------------------------------------------------ progress, timings


@dataclass
class RunStats:
    """What a streamed run did: rows, quality counts, seconds per stage (worker stages: CPU seconds summed over
    workers) and wall time: from ``started`` (``time.perf_counter()``; the CLI passes the start of the command, so
    reading, fitting and writing the report all count) to :meth:`finish`."""

    rows: int = 0
    workers: int = 1
    engine: str = "local"
    stage_seconds: dict = field(default_factory=dict)
    issues: Counter = field(default_factory=Counter)
    wall_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    #: the reader's attrs of the first chunk (preset, encoding) and the rows repaired from mojibake
    attrs: dict = field(default_factory=dict)
    repaired: int = 0
    #: the theme model used (fitted by the run when none was given)
    theme_model: object = None

    def add(self, timings: dict) -> None:
        for stage, seconds in timings.items():
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def finish(self) -> None:
        """Set the wall time: the seconds from ``started`` until now."""
        self.wall_seconds = time.perf_counter() - self.started

    def summary_frame(self) -> pd.DataFrame:
        """A stand-in frame with every row's quality_issue and the reader's attrs, for ``summary_lines`` and
        ``read_summary`` (which count a whole frame)."""
        frame = pd.DataFrame({"quality_issue": [k for k, n in sorted(self.issues.items()) for _ in range(n)]})
        frame.attrs = dict(self.attrs)
        frame.attrs["mojibake_repaired"] = self.repaired
        return frame

    def lines(self) -> list[str]:
        """The final summary: rows/s overall, then seconds and rows/s per stage."""
        rate = self.rows / self.wall_seconds if self.wall_seconds else 0.0
        out = [
            f"{self.rows:,} rows in {self.wall_seconds:.1f} s wall time ({rate:,.0f} rows/s), engine {self.engine}, "
            f"{self.workers} worker{'s' if self.workers != 1 else ''}; per stage (seconds; clean, sentiment, theme "
            "fit, tagging and redact: CPU seconds summed over workers, the fit running next to the sentiment):"
        ]
        order = [s for s in STAGES if s in self.stage_seconds] + [s for s in self.stage_seconds if s not in STAGES]
        for stage in order:
            seconds = self.stage_seconds[stage]
            per = (
                f"{self.rows / seconds:>10,.0f} rows/s"
                if seconds > 0 and stage not in ("theme fit", "duplicates")
                else ""
            )
            out.append(f"  {stage:<14} {seconds:8.1f} s {per}")
        return out


def progress(total: int | None, desc: str, quiet: bool):
    """A progress bar on stderr (tqdm), off with ``quiet`` or when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=" rows",
        unit_scale=True,
        file=sys.stderr,
        leave=False,
        disable=quiet or not sys.stderr.isatty(),
        dynamic_ncols=True,
    )


# ------------------------------------------------------------------------------------------ the streamed run


def _apply_window(chunk: pd.DataFrame, config: Config) -> pd.DataFrame:
    from types import SimpleNamespace

    from .ingest import _apply_date_window

    holder = SimpleNamespace(feedback=chunk)
    _apply_date_window(holder, config)
    return holder.feedback


def analyze_stream(
    chunks: Iterable[pd.DataFrame],
    config: Config | None = None,
    theme_model=None,
    sentiment_model: str | None = None,
    engine=None,
    *,
    redact_output: bool = False,
    slim: bool = False,
    date_window: bool = False,
    quiet: bool = True,
    stats: RunStats | None = None,
) -> Iterator[pd.DataFrame]:
    """Clean, score and tag standard feedback chunks; yields the analyzed chunks in input order.

    The same rows as ``analyze_feedback(pd.concat(chunks), config, theme_model)``; ``theme_model`` (if not
    given, fitted on the sample described in the module docstring) ends in ``stats.theme_model``.
    ``redact_output`` redacts PII in every text column of the yielded rows (as ``feedback analyze`` writes them);
    ``slim`` drops ``REPORT_DROP_COLUMNS``; ``date_window`` flags rows outside ``config.since``/``until``.
    """
    config = config or Config()
    stats = stats if stats is not None else RunStats()
    own_engine = engine is None
    engine = engine or LocalEngine(1)
    stats.workers, stats.engine = getattr(engine, "workers", 1), "dask" if isinstance(engine, DaskEngine) else "local"
    spill = Path(tempfile.mkdtemp(prefix="feedback-chunks-"))
    fitting = None
    try:
        # 1. read + clean (parallel); spill each cleaned chunk, keep the duplicate-search columns
        parts: list[Path] = []
        dup_columns: list[pd.DataFrame] = []

        def read() -> Iterator[pd.DataFrame]:
            iterator = iter(chunks)
            while True:
                start = time.perf_counter()
                chunk = next(iterator, None)
                if chunk is not None and date_window:
                    chunk = _apply_window(chunk, config)
                stats.add({"read": time.perf_counter() - start})
                if chunk is None:
                    return
                stats.attrs = stats.attrs or dict(chunk.attrs)
                stats.repaired += int(chunk.attrs.get("mojibake_repaired", 0) or 0)
                yield chunk

        bar = progress(None, "clean", quiet)
        for chunk, timings in engine.map(clean_task, read(), config.redact_pii, config.max_text_chars):
            stats.add(timings)
            parts.append(_spill(chunk, spill, f"part{len(parts):06d}"))
            keep = [c for c in ("customer_id", "created_at", "feedback_id") if c in chunk.columns]
            dup_columns.append(chunk[keep + [_DUP_KEY, _TEXT_HASH, "quality_issue"]])
            bar.update(len(chunk))
        bar.close()
        if isinstance(engine, LocalEngine):
            engine.close()  # idle workers would hold their memory through what follows
        sizes = [len(d) for d in dup_columns]
        stats.rows = sum(sizes)
        if not stats.rows:
            raise InputError("no rows to analyze", fix="check that the file holds data rows under its header")

        # 2. duplicates over every row, from the small columns only
        start = time.perf_counter()
        keys = pd.concat(dup_columns, ignore_index=True)
        del dup_columns
        duplicate_of = (
            find_duplicates(keys, text_column=_DUP_KEY, normalized=True).to_numpy(dtype=object)
            if "customer_id" in keys.columns
            else np.full(len(keys), "", dtype=object)
        )
        # every row's quality issue once the duplicates are known: what each later pass gives its chunks
        final_issues = _with_duplicates(keys["quality_issue"].to_numpy(dtype=object), duplicate_of)
        hashes = keys[_TEXT_HASH].to_numpy(dtype=np.uint64)
        del keys
        stats.add({"duplicates": time.perf_counter() - start})

        # 3. the sample ThemeModel.fit would draw; the fit itself starts in the background in step 4
        fit_sample = _fit_sample(parts, sizes, final_issues, hashes) if theme_model is None else None
        del hashes
        # what reading and cleaning freed stays in this process's heap (keep_freed_memory), where the fit's thread
        # cannot reuse it and the sentiment workers would inherit it
        release_memory()

        def deduplicated(scores: list[Path] | None = None, keep: bool = False) -> Iterator[pd.DataFrame]:
            """The spilled chunks with the duplicate search applied (and their sentiment columns joined, when
            spilled too); ``keep``: leave the files for a later pass."""
            offset = 0
            for number, (path, size) in enumerate(zip(parts, sizes)):
                chunk = pd.read_pickle(path)
                if not keep:
                    path.unlink()
                chunk = chunk.drop(columns=[_DUP_KEY, _TEXT_HASH])
                at = chunk.columns.get_loc("language") + 1  # where clean_feedback puts it
                chunk.insert(
                    at, "duplicate_of", pd.Series(duplicate_of[offset : offset + size], index=chunk.index, dtype=object)
                )
                chunk["quality_issue"] = pd.Series(
                    final_issues[offset : offset + size], index=chunk.index, dtype=chunk["quality_issue"].dtype
                )
                offset += size
                if scores is not None:
                    chunk = pd.concat([chunk, pd.read_pickle(scores[number])], axis=1)
                    scores[number].unlink()
                yield chunk

        def tag(inputs: Iterator[pd.DataFrame], score: bool) -> Iterator[pd.DataFrame]:
            blob = (
                pickle.dumps(theme_model, protocol=pickle.HIGHEST_PROTOCOL)
                if not (isinstance(engine, LocalEngine) and engine.workers == 1)
                else theme_model
            )

            def warm() -> None:
                _scorer(sentiment_model)
                theme_model.transform(["warm up the lemma and embedding tables"])

            bar = progress(stats.rows, "sentiment + themes" if score else "themes", quiet)
            for chunk, timings in engine.map(
                tag_task, inputs, blob, sentiment_model, redact_output, slim, score, warm=warm
            ):
                stats.add(timings)
                stats.issues.update(chunk["quality_issue"].tolist())
                bar.update(len(chunk))
                yield chunk
            bar.close()

        if fit_sample is None:  # 4. a given model: score and tag in one pass
            stats.theme_model = theme_model
            yield from tag(deduplicated(), score=True)
            return

        # 4. sentiment (parallel) while the themes are fitted: only the two columns it reads go to the workers,
        # only the columns it adds come back and are spilled (the chunks stay on disk for the tagging pass)
        scores: list[Path] = []
        bar = progress(stats.rows, "sentiment", quiet)
        inputs = (chunk[["clean_text", "quality_issue"]] for chunk in deduplicated(keep=True))
        for columns, timings in engine.map(
            score_task, inputs, sentiment_model, warm=lambda: _scorer(sentiment_model), low_priority=True
        ):
            if fitting is None:
                # started now, not before the map: the pool's workers are forked by the first result, and no
                # fork may happen while the fit thread holds a lock (see _BackgroundThread)
                fitting = engine.start(fit_task, config, *fit_sample)
                fit_sample = None
            stats.add(timings)
            scores.append(_spill(columns, spill, f"score{len(scores):06d}"))
            bar.update(len(columns))
        bar.close()
        if isinstance(engine, LocalEngine):
            engine.close()
        theme_model, timings = fitting.result()
        fitting = None
        stats.add(timings)
        stats.theme_model = theme_model
        release_memory()  # before the tagging workers fork from this process

        # 5. tag (parallel), in input order
        yield from tag(deduplicated(scores), score=False)
    finally:
        if fitting is not None:
            fitting.cancel()
        shutil.rmtree(spill, ignore_errors=True)
        if own_engine:
            engine.close()
        stats.finish()


def _spill(chunk: pd.DataFrame, folder: Path, name: str) -> Path:
    path = folder / f"{name}.pkl"
    chunk.to_pickle(path)
    return path


def _fit_sample(
    parts: list[Path], sizes: list[int], final_issues: np.ndarray, hashes: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """The usable texts (after the duplicate search) ``ThemeModel.fit`` would draw its sample from, with their
    keys: at most :func:`feedback.themes.fit_pool_size` of the smallest stable per-text keys (from every row's final
    quality issue
    and text hash), the texts read back from the spilled chunks that hold them."""
    from .clustering import smallest_keys
    from .themes import fit_pool_size, keys_from_hashes

    usable_rows = np.flatnonzero(~pd.Series(final_issues).isin(SKIP_REASONS).to_numpy())
    keys = keys_from_hashes(hashes[usable_rows])
    pool = smallest_keys(keys, fit_pool_size())
    usable_rows, keys = usable_rows[pool], keys[pool]
    texts, offset = [], 0
    for path, size in zip(parts, sizes):
        wanted = usable_rows[(usable_rows >= offset) & (usable_rows < offset + size)] - offset
        if len(wanted):
            texts.extend(pd.read_pickle(path)["clean_text"].astype(str).to_numpy()[wanted].tolist())
        offset += size
    return texts, keys


#: glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def _glibc():
    """The C library when it is glibc (Linux), else None (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except (ImportError, OSError):  # a Python without ctypes, or no glibc
        return None


def keep_freed_memory() -> None:
    """Have this process's allocator (glibc) keep the memory it frees for its next allocations: no mmap for large
    blocks, no trimming of the heap's top. By default every block over a few MB is mapped fresh and unmapped when
    freed, and each new page costs a fault when first written; the arrays of every chunk a worker handles are that
    size, over and over (100,000 rows: 7% less wall time, 50 MB more peak memory; benchmarks/throughput.py). A
    thread's allocations (the background theme fit) come from an arena of their own, which this does not reach.
    For the batch commands and the pool's workers, whose processes end with the run, not for a process that
    outlives it (the service). :func:`release_memory` still hands the heap back on purpose. Without glibc a no-op."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc ``malloc_trim``; elsewhere only the
    collection): what the theme fit freed would otherwise stay in this process and in every worker forked from it."""
    import gc

    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _with_duplicates(issues: np.ndarray, duplicate_of: np.ndarray) -> np.ndarray:
    """quality_issue after the duplicate search, as clean_feedback sets it."""
    out = issues.copy()
    flag = (duplicate_of != "") & pd.Series(issues).isin(["", *NOTE_REASONS]).to_numpy()
    out[flag] = "duplicate"
    return out


def frame_chunks(frame: pd.DataFrame, chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """A frame already in memory, cut into chunks (for formats that cannot be streamed)."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start : start + chunk_rows]
        part.attrs = dict(frame.attrs) if start == 0 else {}
        yield part


def read_chunks(
    path: str | Path,
    config: Config,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    preset: str | None = None,
    strict: bool = False,
    address_map: dict | None = None,
    chunk_rows: int | None = None,
    keep_input: bool = False,
) -> tuple[Iterator[pd.DataFrame], str | None]:
    """Standard feedback chunks of a file (or of a data folder's feedback table): streamed for CSV/TSV/JSON Lines,
    else read whole and cut. ``keep_input``: keep the input's own columns (see ``prepare_feedback``).

    Returns the chunks and the encoding (known at once for streamed files: sniffed from the first 64 KB).
    """
    from .ingest import CSV_SUFFIXES, JSONL_SUFFIXES, detect_encoding, find_sources, iter_feedback_chunks, load_feedback

    path = Path(path)
    if path.is_dir():  # a data folder, as `report` takes it: its feedback table (or its e-mails)
        path = find_sources(path)["feedback"]
    chunk_rows = chunk_rows or CHUNK_ROWS
    if path.is_file() and path.suffix.lower() in CSV_SUFFIXES | JSONL_SUFFIXES and not address_map:
        with open(path, "rb") as fh:
            encoding = detect_encoding(fh.read(64 * 1024))
        return iter_feedback_chunks(
            path, chunk_rows, config, text_column, id_column, preset=preset, strict=strict, keep_input=keep_input
        ), encoding
    frame, encoding = load_feedback(
        path,
        config,
        text_column,
        id_column,
        preset=preset,
        strict=strict,
        address_map=address_map,
        keep_input=keep_input,
    )
    return frame_chunks(frame, chunk_rows), encoding


def stream_dataset(
    data: str | Path,
    config: Config | None = None,
    theme_model=None,
    sentiment_model: str | None = None,
    engine=None,
    *,
    preset: str | None = None,
    strict: bool = False,
    quiet: bool = True,
    chunk_rows: int | None = None,
    stats: RunStats | None = None,
):
    """:func:`feedback.pipeline.run` in chunks: the analysis result of a data folder or file for the report.

    The per-row stages stream (see :func:`analyze_stream`); impact, KPIs and the report then work on the analyzed
    rows without their raw and removed text (``REPORT_DROP_COLUMNS``).
    """
    from .ingest import Dataset, load_dataset
    from .pipeline import _measure

    config = config or Config()
    stats = stats if stats is not None else RunStats()
    dataset = _tables_without_feedback(data, config)
    source = dataset.sources["feedback"] if dataset is not None else None
    if dataset is None or _is_mail(source):  # mail needs the customers' addresses and cannot stream: read it whole
        dataset = load_dataset(data, config, preset=preset, strict=strict)
        chunks, encoding = frame_chunks(dataset.feedback, chunk_rows), dataset.encodings.get("feedback")
        window = False  # load_dataset applied it
    else:
        chunks, encoding = read_chunks(source, config, preset=preset, strict=strict, chunk_rows=chunk_rows)
        window = True
    frames = list(
        analyze_stream(
            chunks,
            config,
            theme_model,
            sentiment_model,
            engine,
            slim=True,
            date_window=window,
            quiet=quiet,
            stats=stats,
        )
    )
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    del frames
    frame.attrs = dict(stats.attrs)
    frame.attrs["mojibake_repaired"] = stats.repaired
    dataset = Dataset(
        feedback=frame,
        customers=dataset.customers,
        tickets=dataset.tickets,
        sources=dataset.sources,
        rows_read={**dataset.rows_read, "feedback": len(frame)},
        encodings={**dataset.encodings, "feedback": encoding},
        repaired={**dataset.repaired, "feedback": frame.attrs["mojibake_repaired"]},
        presets={**dataset.presets, "feedback": frame.attrs.get("preset")},
    )
    start = time.perf_counter()
    result = _measure(dataset, frame, stats.theme_model, config)
    stats.add({"impact + KPIs": time.perf_counter() - start})
    return result


def _is_mail(path: Path) -> bool:
    from .ingest import EMAIL_SUFFIXES

    return path.is_dir() or path.suffix.lower() in EMAIL_SUFFIXES


def _tables_without_feedback(data: str | Path, config: Config):
    """A Dataset with customers and tickets read (as load_dataset reads them) and ``sources``, but no feedback
    rows yet; None when ``data`` does not exist (load_dataset then raises the error)."""
    from .ingest import Dataset, find_sources, prepare_customers, prepare_tickets, read_table

    data = Path(data)
    if not data.exists():
        return None
    sources = find_sources(data)
    dataset = Dataset(feedback=pd.DataFrame(), sources=sources)
    for table, prepare in (("customers", prepare_customers), ("tickets", prepare_tickets)):
        if table in sources:
            raw, encoding = read_table(sources[table])
            setattr(dataset, table, prepare(raw, sources[table], config))
            dataset.rows_read[table], dataset.encodings[table] = len(raw), encoding
    return dataset


__all__ = [
    "CHUNK_ROWS",
    "ENGINES",
    "LocalEngine",
    "DaskEngine",
    "make_engine",
    "RunStats",
    "analyze_stream",
    "read_chunks",
    "frame_chunks",
    "stream_dataset",
    "clean_rows",
    "score_rows",
    "tag_rows",
    "default_workers",
]
