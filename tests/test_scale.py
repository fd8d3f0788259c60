"""Scale (feedback/scale.py): chunked analysis equals the in-memory pipeline, for any workers and on Dask; the
fast VADER path equals VADER; the CLI streams, shows a summary and no progress bar off a terminal."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from feedback import scale
from feedback.cli import main
from feedback.config import Config
from feedback.errors import ConfigError
from feedback.pipeline import analyze_feedback
from feedback.sentiment import SentimentScorer, split_sentences

TOPICS = ["refund", "invoice", "mobile app", "login page", "delivery", "password reset", "subscription", "export"]
TEMPLATES = [
    "My {t} is still not working. I have been waiting 3 weeks!",
    "I love the new {t}, great job :)",
    "The {t} failed again. I want to cancel my account.",
    "Thanks for fixing the {t} so quickly.",
    "Why is the {t} SO slow?? This is ridiculous",
    "The {t} is okay but support never answered.",
    "No problems with the {t}, not bad at all.",
    "Please escalate: the {t} charged me twice, call me on +1 555 010 0199.",
    "kind of disappointed with the {t} 😞",
    "{t}",
    "",
    "No puedo entrar a mi cuenta y la factura está mal",
]


def _frame(rows: int = 240, seed: int = 3) -> pd.DataFrame:
    """Support-like rows: repeated texts, resends (same customer, same text, minutes apart), empty and Spanish rows."""
    rng = np.random.default_rng(seed)
    texts = [TEMPLATES[rng.integers(len(TEMPLATES))].format(t=TOPICS[rng.integers(len(TOPICS))]) for _ in range(rows)]
    start = pd.Timestamp("2026-03-02")
    frame = pd.DataFrame(
        {
            "feedback_id": [f"F{i:04d}" for i in range(rows)],
            "customer_id": [f"C{c:02d}" for c in rng.integers(0, 30, rows)],
            "created_at": [
                str(start + pd.Timedelta(minutes=int(m))) for m in np.sort(rng.integers(0, 60 * 24 * 20, rows))
            ],
            "channel": "email",
            "text": texts,
        }
    )
    # a resend that lands in a later chunk than its original
    frame.loc[rows - 5, ["customer_id", "text"]] = frame.loc[3, ["customer_id", "text"]].to_numpy()
    frame.loc[rows - 5, "created_at"] = frame.loc[3, "created_at"]
    return frame


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    from feedback.ingest import load_feedback

    path = tmp_path_factory.mktemp("scale") / "feedback.csv"
    _frame().to_csv(path, index=False)
    frame, _ = load_feedback(path)
    return path, frame


@pytest.fixture(scope="module")
def model(standard):
    return analyze_feedback(standard[1], Config(n_themes=3, min_theme_size=3))[1]


def _stream(frame, engine, model=None, chunk_rows=50, **kwargs):
    config = Config(n_themes=3, min_theme_size=3)
    stats = scale.RunStats()
    out = pd.concat(
        list(
            scale.analyze_stream(
                scale.frame_chunks(frame, chunk_rows), config, model, None, engine, stats=stats, **kwargs
            )
        )
    )
    return out, stats


def test_streamed_analysis_fits_the_same_model_and_rows_as_in_memory(standard):
    _, frame = standard
    reference, ref_model = analyze_feedback(frame, Config(n_themes=3, min_theme_size=3))
    out, stats = _stream(frame, scale.LocalEngine(1))
    assert [t.label for t in stats.theme_model.themes_] == [t.label for t in ref_model.themes_]
    pd.testing.assert_frame_equal(out, reference)
    assert (out["quality_issue"] == "duplicate").any()  # found across chunks
    assert stats.rows == len(frame) and stats.stage_seconds["sentiment"] > 0


def test_rows_repeating_a_text_get_equal_tags_in_lists_of_their_own(standard, model):
    """Each distinct text is tagged once; its copies get equal lists, never the same list object."""
    _, frame = standard
    chunk = scale.score_rows(scale.clean_rows(frame), scale._scorer(None))
    out = scale.tag_rows(chunk, model)
    for column in ("theme_ids", "theme_sentiment"):
        for _, rows in out.groupby("clean_text").groups.items():
            lists = out.loc[rows, column].tolist()
            assert all(v == lists[0] for v in lists)
            assert len({id(v) for v in lists}) == len(lists)
    assert out["clean_text"].duplicated().sum() > 50 and out["theme_ids"].map(len).gt(0).sum() > 50


def test_streamed_fit_draws_the_in_memory_sample_when_the_input_is_sampled(standard, monkeypatch):
    """Above fit_pool_size() usable texts both paths fit on the texts of smallest stable keys: same model."""
    import feedback.themes as themes

    _, frame = standard
    monkeypatch.setattr(themes, "MAX_FIT_TEXTS", len(frame) // 8)  # the pool (1.5x) is well below the usable rows
    reference, ref_model = analyze_feedback(frame, Config(n_themes=3, min_theme_size=3))
    out, stats = _stream(frame, scale.LocalEngine(1))
    assert [t.label for t in stats.theme_model.themes_] == [t.label for t in ref_model.themes_]
    np.testing.assert_array_equal(stats.theme_model.centroids_, ref_model.centroids_)
    pd.testing.assert_frame_equal(out, reference)


@pytest.mark.parametrize("workers", [1, 2])
def test_results_are_identical_row_for_row_for_any_number_of_workers(standard, model, workers):
    _, frame = standard
    reference, _ = analyze_feedback(frame, Config(n_themes=3, min_theme_size=3), model)
    engine = scale.LocalEngine(workers)
    try:
        out, stats = _stream(frame, engine, model, chunk_rows=40)
    finally:
        engine.close()
    pd.testing.assert_frame_equal(out, reference)
    assert stats.workers == workers


def test_dask_engine_equals_the_local_engine_row_for_row(standard, model):
    distributed = pytest.importorskip("dask.distributed")
    _, frame = standard
    local, _ = _stream(frame, scale.LocalEngine(1), model)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        engine = scale.make_engine("dask", scheduler=cluster.scheduler_address)
        try:
            out, stats = _stream(frame, engine, model)
        finally:
            engine.close()
    pd.testing.assert_frame_equal(out, local)
    assert stats.engine == "dask"


def test_background_fit_on_two_workers_gives_the_in_memory_model_and_rows(standard):
    """With workers the theme fit runs in a process of its own while the sentiment is scored."""
    _, frame = standard
    reference, ref_model = analyze_feedback(frame, Config(n_themes=3, min_theme_size=3))
    engine = scale.LocalEngine(2)
    try:
        out, stats = _stream(frame, engine, chunk_rows=40)
    finally:
        engine.close()
    np.testing.assert_array_equal(stats.theme_model.centroids_, ref_model.centroids_)
    pd.testing.assert_frame_equal(out, reference)
    assert stats.stage_seconds["theme fit"] > 0 and stats.stage_seconds["sentiment"] > 0


def test_dask_engine_fits_the_themes_as_a_cluster_task(standard):
    distributed = pytest.importorskip("dask.distributed")
    _, frame = standard
    reference, ref_model = analyze_feedback(frame, Config(n_themes=3, min_theme_size=3))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        engine = scale.make_engine("dask", scheduler=cluster.scheduler_address)
        try:
            out, stats = _stream(frame, engine)
        finally:
            engine.close()
    np.testing.assert_array_equal(stats.theme_model.centroids_, ref_model.centroids_)
    pd.testing.assert_frame_equal(out, reference)


def test_a_failing_background_fit_raises_its_error_with_its_traceback(standard, monkeypatch):
    import threading
    import traceback

    import feedback.themes as themes
    from feedback.errors import InputError

    def broken_fit(self, *args, **kwargs):
        raise InputError("the fit broke", fix="nothing to fix, a test")

    monkeypatch.setattr(themes.ThemeModel, "fit", broken_fit)
    engine = scale.LocalEngine(2)
    try:
        with pytest.raises(InputError, match="the fit broke") as raised:
            _stream(standard[1], engine, chunk_rows=40)
    finally:
        engine.close()
    assert "broken_fit" in "".join(traceback.format_tb(raised.value.__traceback__))
    assert not [t for t in threading.enumerate() if t.name == "feedback-theme-fit"]


def test_background_fit_does_not_hang_after_openmp_ran_in_this_process(standard):
    """A process forked after an OpenMP parallel region hangs in its own: the fit (neighbour search) must not run
    in one. Run OpenMP here first, then a two-worker streamed fit."""
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="openmp"):
        points = np.random.default_rng(0).normal(size=(4000, 16))
        NearestNeighbors(n_neighbors=5).fit(points).kneighbors(points)
    engine = scale.LocalEngine(2)
    try:
        out, stats = _stream(standard[1], engine, chunk_rows=40)
    finally:
        engine.close()
    assert len(out) == len(standard[1]) and stats.theme_model is not None


def test_workers_beside_the_background_fit_run_at_a_lower_priority():
    import os

    engine = scale.LocalEngine(2)
    try:
        normal = list(engine.map(os.nice, [0, 0, 0]))  # os.nice(0) returns the niceness it runs at
        lowered = list(engine.map(os.nice, [0, 0, 0], low_priority=True))
    finally:
        engine.close()
    assert set(normal) == {os.nice(0)}
    assert set(lowered) == {min(19, os.nice(0) + scale.LOW_PRIORITY_NICENESS)}


def _given_back_on_free(megabytes: int) -> int:
    """MB of resident memory this process hands back when it frees a block of ``megabytes`` it has just filled
    (whatever this process held or reused before)."""

    def resident() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20

    block = np.ones(megabytes * 2**20 // 8)
    held = resident()
    del block
    return held - resident()


@pytest.mark.skipif(
    scale._glibc() is None or not os.path.exists("/proc/self/statm"),
    reason="glibc's allocator and /proc: Linux with glibc",
)
def test_pool_workers_keep_freed_memory_for_their_next_arrays():
    import multiprocessing

    engine = scale.LocalEngine(2)
    try:
        given_back = list(engine.map(_given_back_on_free, [128, 128, 128]))
    finally:
        engine.close()
    # without keep_freed_memory a block this size is unmapped when freed; the workers keep it for the next chunk
    assert max(given_back) < 16
    with multiprocessing.get_context("spawn").Pool(1) as plain:  # a process left as glibc starts it
        assert plain.apply(_given_back_on_free, (128,)) > 100


def test_dask_engine_without_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ConfigError, match=r"feedback\[dask\]"):
        scale.make_engine("dask", scheduler="tcp://127.0.0.1:8786")


@pytest.mark.parametrize("address", ["nonsense", "http://127.0.0.1:8799", "tcp://127.0.0.1:notaport"])
def test_a_scheduler_address_that_is_not_one_is_a_config_error(address):
    pytest.importorskip("dask.distributed")
    with pytest.raises(ConfigError, match=f"cannot reach the Dask scheduler at {address}: .*Fix: start it"):
        scale.make_engine("dask", scheduler=address)


def test_a_scheduler_without_workers_is_a_config_error_not_a_silent_wait(monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.setattr(scale, "DASK_WORKER_WAIT", 1)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(ConfigError, match=r"has no workers \(waited 1 s\). Fix: start some with `dask worker"):
            scale.make_engine("dask", scheduler=cluster.scheduler_address)


def test_output_that_cannot_be_written_stops_report_and_analyze_before_the_work(tmp_path, monkeypatch, capsys):
    from feedback import pipeline

    monkeypatch.setattr(scale, "read_chunks", lambda *a, **k: pytest.fail("read before checking --out"))
    monkeypatch.setattr(scale, "stream_dataset", lambda *a, **k: pytest.fail("analysed before checking --out"))
    monkeypatch.setattr(pipeline, "write_report", lambda *a, **k: pytest.fail("analysed before checking --out"))
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"text": ["the app crashes", "refund please"]}).to_csv(data / "feedback.csv", index=False)
    (tmp_path / "afile").write_text("x")
    for command, out in [
        ("report", "/proc/x.html"),
        ("report", tmp_path / "afile" / "r.html"),
        ("analyze", "/proc/x.csv"),
        ("analyze", tmp_path / "afile" / "o.csv"),
        ("report", tmp_path),
    ]:
        capsys.readouterr()
        args = [command, str(data / "feedback.csv") if command == "analyze" else str(data), "--out", str(out)]
        assert main(args) == 2, (command, out)
        err = capsys.readouterr().err
        assert err.startswith("feedback: error: ") and "Traceback" not in err and "Fix:" in err


def test_report_on_a_header_only_file_names_it(tmp_path, capsys):
    (tmp_path / "feedback.csv").write_text("feedback_id,text\n", encoding="utf-8")
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_workers_must_be_positive():
    with pytest.raises(ConfigError, match="--workers"):
        scale.make_engine("local", workers=0)


def _support_sentences(n: int, seed: int = 0) -> list[str]:
    """Thousands of varied support sentences: lexicon words, negations, boosters, caps, 'but', 'kind of', '!!',
    emoji and non-ASCII, and sentences with no sentiment word at all."""
    rng = np.random.default_rng(seed)
    words = [
        "good",
        "bad",
        "terrible",
        "great",
        "slow",
        "broken",
        "love",
        "hate",
        "fine",
        "ok",
        "refund",
        "invoice",
        "app",
        "order",
        "account",
        "support",
        "help",
        "waiting",
        "cancel",
        "thanks",
        "please",
        "never",
        "not",
        "no",
        "very",
        "extremely",
        "kind",
        "of",
        "but",
        "GREAT",
        "BAD",
        "least",
        "at",
        "the",
        "my",
        "is",
        "was",
        "isn't",
        "won't",
        "damn",
        "lol",
        ":)",
        ":(",
        "😡",
        "👍",
        "café",
        "nothing",
        "without",
        "really",
        "sort",
    ]
    out = []
    for _ in range(n):
        k = int(rng.integers(1, 14))
        sentence = " ".join(words[i] for i in rng.integers(0, len(words), k))
        out.append(sentence + ["", ".", "!", "!!!", "?", "?!"][int(rng.integers(6))])
    return out


def test_fast_vader_path_equals_vader_on_thousands_of_sentences():
    sentences = _support_sentences(4000) + [s for t in TEMPLATES for s in split_sentences(t.format(t="app"))]
    vader = SentimentIntensityAnalyzer()
    scorer = SentimentScorer()
    fast = [scorer._vader_compound(s) for s in sentences]
    assert fast == [vader.polarity_scores(s)["compound"] for s in sentences]
    assert sum(v == 0.0 for v in fast) > 100  # the early exit (no lexicon word) is exercised
    assert sum(v != 0.0 for v in fast) > 2000  # and the port's rules (feedback/vader.py, tests/test_vader.py)


class _ReferenceScorer(SentimentScorer):
    """The adapter without the fast path and without the sentence cache: VADER's polarity_scores every time."""

    def _vader_compound(self, sentence):
        return self._analyzer.polarity_scores(sentence)["compound"]

    def sentence(self, sentence):
        return self._score_sentence(sentence)


def test_chunked_cached_sentiment_equals_the_reference_adapter_on_thousands_of_texts():
    rng = np.random.default_rng(1)
    sentences = _support_sentences(3000, seed=2)
    texts = [
        " ".join(sentences[i] for i in rng.integers(0, len(sentences), int(rng.integers(1, 4)))) for _ in range(3000)
    ] + ["", "   "]
    frame = pd.DataFrame({"clean_text": texts, "quality_issue": [""] * len(texts)})
    reference = _ReferenceScorer()
    expected = [reference.score(t) for t in texts]
    fast = SentimentScorer()
    assert [fast.score(t).to_dict() for t in texts] == [e.to_dict() for e in expected]
    scored = scale.score_rows(frame, fast)  # each distinct text once, sentences from the cache
    assert scored["sentiment"].tolist() == [e.compound for e in expected]
    assert scored["sentiment_label"].tolist() == [e.label for e in expected]
    assert scored["sentiment_drivers"].tolist() == [e.drivers for e in expected]


def test_analyze_cli_streams_chunks_and_writes_what_the_whole_frame_writer_writes(
    standard, tmp_path, monkeypatch, capsys
):
    from feedback.io.write import write_chunks
    from feedback.clean import redact_columns
    from feedback.ingest import load_feedback

    path, _ = standard
    monkeypatch.setattr(scale, "CHUNK_ROWS", 60)
    frame, _ = load_feedback(path, keep_input=True)
    whole, _ = analyze_feedback(frame, Config(n_themes=3, min_theme_size=3))
    # the file's own columns as given; of what analyze adds, only removed_text can hold personal data
    write_chunks(
        [scale.export_frame(redact_columns(whole, ["removed_text"]), ids_from_input=True)], tmp_path / "whole.csv"
    )
    for workers in ("1", "2"):
        out = tmp_path / f"streamed{workers}.csv"
        assert main(["analyze", str(path), "--out", str(out), "--n-themes", "3", "--workers", workers]) == 0
        assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes()
    err = capsys.readouterr().err
    assert "rows/s" in err and "theme tagging" in err  # the timing summary
    assert "\r" not in err  # stderr is not a terminal here: no progress bar
    assert main(["analyze", str(path), "--out", str(tmp_path / "q.parquet"), "--n-themes", "3", "--quiet"]) == 0
    assert "rows/s" not in capsys.readouterr().err
    back = pd.read_parquet(tmp_path / "q.parquet")
    assert len(back) == len(frame) and back["feedback_id"].tolist() == frame["feedback_id"].tolist()


def test_parquet_output_when_the_first_chunk_has_no_usable_text(standard, tmp_path, monkeypatch, capsys):
    path, frame = standard
    blank = pd.read_csv(path, dtype=str, keep_default_na=False)
    blank.loc[:59, "text"] = ""  # the whole first chunk: every list column of it is empty
    blank.to_csv(tmp_path / "blank_first.csv", index=False)
    monkeypatch.setattr(scale, "CHUNK_ROWS", 60)
    out = tmp_path / "rows.parquet"
    assert (
        main(
            [
                "analyze",
                str(tmp_path / "blank_first.csv"),
                "--out",
                str(out),
                "--n-themes",
                "3",
                "--workers",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert "Exception ignored" not in capsys.readouterr().err
    back = pd.read_parquet(out)
    assert back["feedback_id"].tolist() == frame["feedback_id"].tolist()
    later = back.iloc[60:]
    assert later["theme_ids"].map(len).gt(0).any() and later["sentiment_drivers"].map(len).gt(0).any()
    assert isinstance(later["theme_sentiment"].map(list).sum()[0], float)
    assert isinstance(later["sentiment_drivers"].map(list).sum()[0], str)


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_streamed_json_outputs_hold_every_row_in_order(standard, tmp_path, monkeypatch, suffix):
    path, frame = standard
    monkeypatch.setattr(scale, "CHUNK_ROWS", 70)
    out = tmp_path / f"rows{suffix}"
    assert main(["analyze", str(path), "--out", str(out), "--n-themes", "3", "--workers", "1", "--quiet"]) == 0
    back = pd.read_json(out, lines=suffix == ".jsonl", dtype={"feedback_id": str})
    assert back["feedback_id"].tolist() == frame["feedback_id"].tolist()


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                found.append(int(status.parent.name))
        except OSError:
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_mid_run_removes_spilled_text_and_the_partial_output_and_stops_the_workers(tmp_path):
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    rows = 30_000
    texts = [f"order {i} arrived late and the refund for invoice {i % 97} is still missing" for i in range(rows)]
    pd.DataFrame({"feedback_id": range(rows), "text": texts}).to_csv(tmp_path / "big.csv", index=False)
    spill_root = tmp_path / "tmp"
    spill_root.mkdir()
    out = tmp_path / "out.parquet"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feedback",
            "analyze",
            str(tmp_path / "big.csv"),
            "--out",
            str(out),
            "--workers",
            "2",
            "--quiet",
        ],
        env={**os.environ, "TMPDIR": str(spill_root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(spill_root.glob("feedback-chunks-*/*.pkl")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the first chunk is spilled: raw text is on disk now
    assert run.poll() is None, "the run ended before it could be stopped"
    workers = _children(run.pid)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM, err
    assert list(spill_root.iterdir()) == []
    assert not out.exists() and not Path(str(out) + ".part").exists()
    time.sleep(0.5)
    assert [
        pid
        for pid in workers
        if Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()
    ] == []
