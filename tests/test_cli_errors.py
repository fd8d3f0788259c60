"""A user's mistake is one line on stderr and exit code 2, never a traceback; the run summary tells the truth.

Every command that writes is run with a path it cannot write: under /proc (no one, root included, makes files
there), under a regular file, and (when not root: chmod does not stop root) under a read-only folder.
"""

import errno
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from feedback.cli import build_parser, main

NOWHERE = Path("/proc/feedback-test-nowhere")  # /proc takes no new files, not even from root

#: every command that writes, with its arguments; {out} is a path to write under, {data} a data folder, {file}
#: its feedback.csv, {db} a workspace made from it
WRITERS = {
    "sample": ["sample", "--out", "{out}/sample", "--customers", "50", "--weeks", "2"],
    "report": ["report", "{data}", "--out", "{out}/report.html"],
    "analyze": ["analyze", "{file}", "--out", "{out}/analyzed.csv"],
    "themes fit": ["themes", "fit", "{data}", "--out", "{out}/themes_model"],
    "sentiment fit": ["sentiment", "fit", "{file}", "--label-column", "csat", "--out", "{out}/sentiment_model"],
    "add": ["add", "{data}", "--db", "{out}/workspace.sqlite"],
    "themes refit": ["themes", "refit", "--db", "{out}/workspace.sqlite"],
    "db rescore": ["db", "rescore", "--db", "{out}/workspace.sqlite"],
    "db export": ["db", "export", "{out}/export", "--db", "{db}"],
    "digest": ["digest", "--db", "{db}", "--out", "{out}/digest.md"],
}
#: the same output paths given to `report --db`, which reads a workspace and writes a file
WRITERS["report --db"] = ["report", "--db", "{db}", "--out", "{out}/report.html"]
#: commands whose --db is only read: a workspace that is not there is one line too
DB_READERS = {
    "kpis": ["kpis", "--db", "{out}/workspace.sqlite"],
    "impact": ["impact", "--db", "{out}/workspace.sqlite"],
    "db info": ["db", "info", "--db", "{out}/workspace.sqlite"],
    "watch": ["watch", "--db", "{out}/workspace.sqlite"],
    "themes rename": ["themes", "rename", "--db", "{out}/workspace.sqlite", "1", "a label"],
    "themes merge": ["themes", "merge", "--db", "{out}/workspace.sqlite", "1", "2"],
    "themes split": ["themes", "split", "--db", "{out}/workspace.sqlite", "1"],
    "themes add": ["themes", "add", "--db", "{out}/workspace.sqlite", "a label", "--example", "some text"],
    "themes history": ["themes", "history", "--db", "{out}/workspace.sqlite"],
    "themes show": ["themes", "show", "--db", "{out}/workspace.sqlite"],
}
#: the functions that do a command's work: an unwritable path must stop the command before any of them runs
WORK = [
    "feedback.scale.stream_dataset",
    "feedback.scale.analyze_stream",
    "feedback.pipeline.analyze_feedback",
    "feedback.calibration.fit_calibrated",
    "feedback.sample.generate_sample",
    "feedback.workspace.add",
    "feedback.workspace.export_parquet",
    "feedback.digest.build_digest",
]


def _commands_naming_paths_to_write() -> set[str]:
    """Each (sub)command of the real parser that takes --out, --db or DIR."""
    found = set()

    def walk(parser, prefix):
        for action in parser._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                for name, sub in action.choices.items():
                    walk(sub, [*prefix, name])
            elif action.dest in ("out", "db", "dir"):
                found.add(" ".join(prefix))

    walk(build_parser(), [])
    return found


def test_the_tables_cover_every_command_that_names_a_path():
    assert _commands_naming_paths_to_write() == (set(WRITERS) - {"report --db"}) | set(DB_READERS)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A small sample data folder and a workspace made from it."""
    folder = tmp_path_factory.mktemp("data")
    assert main(["sample", "--out", str(folder / "sample"), "--customers", "50", "--weeks", "2"]) == 0
    assert main(["add", str(folder / "sample"), "--db", str(folder / "workspace.sqlite"), "--n-themes", "2"]) == 0
    return folder


def _unwritable(kind: str, tmp_path: Path, data: Path) -> tuple[Path, Path]:
    """(a folder to write under, the path the error must name) of one kind of unwritable place."""
    if kind == "proc":
        if not Path("/proc/self").exists():
            pytest.skip("no /proc on this system")
        return NOWHERE, NOWHERE
    if kind == "under a file":
        blocker = tmp_path / "afile"
        blocker.write_text("a file, not a folder\n")
        return blocker / "out", blocker
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    folder = tmp_path / "read-only"
    folder.mkdir()
    shutil.copy(data / "workspace.sqlite", folder / "workspace.sqlite")  # refit and rescore need one to change
    folder.chmod(0o500)
    return folder, folder


def _arguments(template: list[str], out: Path, data: Path) -> list[str]:
    values = {
        "out": out,
        "data": data / "sample",
        "file": data / "sample" / "feedback.csv",
        "db": data / "workspace.sqlite",
    }
    return [part.format(**values) for part in template]


@pytest.fixture
def no_work(monkeypatch):
    for target in WORK:
        monkeypatch.setattr(target, lambda *a, _target=target, **k: pytest.fail(f"{_target} ran"))


@pytest.mark.parametrize("kind", ["proc", "under a file", "read-only folder"])
@pytest.mark.parametrize("command", sorted(WRITERS))
def test_an_unwritable_path_is_one_line_and_exit_2(command, kind, data, tmp_path, capsys, no_work):
    out, named = _unwritable(kind, tmp_path, data)
    try:
        code = main(_arguments(WRITERS[command], out, data))
    finally:
        if kind == "read-only folder":
            out.chmod(0o700)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("feedback: error: ") and str(named) in lines[0], lines
    assert "Fix: " in lines[0]


def test_a_read_only_output_file_is_refused_before_the_work(data, tmp_path, capsys, no_work):
    out = tmp_path / "report.html"
    out.write_text("an earlier report\n")
    out.chmod(0o444)
    if os.access(out, os.W_OK):
        pytest.skip("root writes a read-only file")
    assert main(["report", str(data / "sample"), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"feedback: error: {out}: the file is read-only. Fix: make it writable, or give --out another file name"
    )


@pytest.mark.parametrize("command", sorted(DB_READERS))
def test_a_workspace_that_cannot_be_there_is_one_line(command, data, capsys):
    code = main(_arguments(DB_READERS[command], NOWHERE, data))
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(NOWHERE) in lines[0]


@pytest.mark.parametrize(
    "arguments",
    [
        ["themes", "fit", "{data}", "--out", "/proc/m"],
        ["add", "{file}", "--db", "/proc/x.sqlite"],
        ["sample", "--out", "/proc/nope"],
    ],
)
def test_the_commands_of_the_issue_print_no_traceback(arguments, data):
    if not Path("/proc/self").exists():
        pytest.skip("no /proc on this system")
    run = subprocess.run(
        [sys.executable, "-m", "feedback", *_arguments(arguments, NOWHERE, data)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "/proc/" in run.stderr


def _raising(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


def test_an_os_error_on_a_path_the_user_gave_is_one_line(tmp_path, capsys, monkeypatch):
    out = tmp_path / "sample"
    full = OSError(errno.ENOSPC, "No space left on device", str(out / "feedback.csv"))
    monkeypatch.setattr("feedback.sample.generate_sample", _raising(full))
    assert main(["sample", "--out", str(out)]) == 2
    line = capsys.readouterr().err.strip()
    assert line == (
        f"feedback: error: {out / 'feedback.csv'}: No space left on device. "
        "Fix: free disk space, or give --out a path on another disk"
    )


def test_an_os_error_on_any_other_path_is_a_bug_and_keeps_its_traceback(tmp_path, monkeypatch):
    elsewhere = FileNotFoundError(errno.ENOENT, "No such file or directory", "/usr/share/feedback/missing.toml")
    monkeypatch.setattr("feedback.sample.generate_sample", _raising(elsewhere))
    with pytest.raises(FileNotFoundError):
        main(["sample", "--out", str(tmp_path / "sample")])


# ------------------------------------------------------------------------------------------ serve


def _serve(*arguments: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [sys.executable, "-m", "feedback", "serve", *arguments], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("feedback serve started serving")


def test_serve_refuses_a_port_out_of_range_in_one_line():
    run = _serve("--port", "99999")
    assert run.returncode == 2 and "Traceback" not in run.stderr and "serving on" not in run.stderr + run.stdout
    assert run.stderr.strip().splitlines() == [
        "feedback: error: --port 99999 is not a TCP port. Fix: pass --port with a number from 1 to 65535, "
        "e.g. --port 8000"
    ]


def test_serve_on_a_busy_port_says_so_before_claiming_to_serve():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = _serve("--port", str(port))
    assert run.returncode == 2 and "serving on" not in run.stderr + run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port} on 127.0.0.1 is in use" in lines[0] and "pass --port N" in lines[0]


# ------------------------------------------------------------------------------------------ odd input


@pytest.fixture
def ratings_csv(tmp_path):
    path = tmp_path / "ratings.csv"
    pd.DataFrame(
        {
            "comment": ["the app crashes", "refund please", "love the new export", "slow sync again"],
            "rating": [1, 2, 5, 2.5],
        }
    ).to_csv(path, index=False)
    return path


def test_a_text_column_of_numbers_is_analysed_with_a_warning_naming_it(ratings_csv, tmp_path, capsys):
    code = main(
        [
            "analyze",
            str(ratings_csv),
            "--text-column",
            "rating",
            "--out",
            str(tmp_path / "o.csv"),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0
    warning = [line for line in err.splitlines() if line.startswith("feedback: warning: ")]
    assert len(warning) == 1 and f"{ratings_csv}, column 'rating': holds only numbers" in warning[0]
    assert "--text-column" in warning[0]


def test_a_text_column_of_words_gets_no_warning(ratings_csv, tmp_path, capsys):
    code = main(
        [
            "analyze",
            str(ratings_csv),
            "--text-column",
            "comment",
            "--out",
            str(tmp_path / "o.csv"),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0 and "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [["kpis"], ["report", "--out", "{tmp}/r.html"]])
def test_a_bad_since_names_the_option_the_value_and_the_format(command, ratings_csv, tmp_path, capsys):
    arguments = [part.format(tmp=tmp_path) for part in command]
    assert main([*arguments, str(ratings_csv), "--since", "2024-13-45"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "feedback: error: --since is not a date (got '2024-13-45'). "
        "Fix: give the date as YYYY-MM-DD, e.g. --since 2024-01-31"
    ]


# ------------------------------------------------------------------------------------------ run summary


def test_the_run_summary_counts_the_wall_time_of_the_whole_command(ratings_csv, tmp_path, capsys, monkeypatch):
    """Time spent outside the per-row stream (here: a slow start reading the file) is in the summary."""
    import feedback.scale

    slow_start = 1.5
    read_chunks = feedback.scale.read_chunks

    def slow_read_chunks(*args, **kwargs):
        time.sleep(slow_start)
        return read_chunks(*args, **kwargs)

    monkeypatch.setattr(feedback.scale, "read_chunks", slow_read_chunks)
    started = time.perf_counter()
    assert (
        main(
            [
                "analyze",
                str(ratings_csv),
                "--text-column",
                "comment",
                "--out",
                str(tmp_path / "o.csv"),
                "--workers",
                "1",
            ]
        )
        == 0
    )
    elapsed = time.perf_counter() - started
    summary = re.search(r"^4 rows in ([\d.]+) s wall time \(", capsys.readouterr().err, re.MULTILINE)
    assert summary, "no run summary"
    wall = float(summary.group(1))
    assert slow_start <= wall and elapsed - 0.5 <= wall <= elapsed + 0.05
