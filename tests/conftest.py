"""Fixtures shared by the test files: the bundled sample data cut into weekly exports, a small labelled set, the
`feedback` command run as a user runs it, and a free loopback port for the servers the tests start."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
#: the sample's first Monday: its week 1 starts here
SAMPLE_START = pd.Timestamp("2026-07-06")


@pytest.fixture(scope="session")
def sample_weeks():
    """``sample_weeks(folder, first, last)`` writes weeks first..last (1-based) of the sample to ``folder`` as a
    weekly export: that feedback, and the full customers and tickets tables, as a CRM export holds them."""

    def write(folder: Path, first: int, last: int) -> Path:
        rows = pd.read_csv(SAMPLE / "feedback.csv", dtype=str, keep_default_na=False)
        week = (pd.to_datetime(rows["created_at"]) - SAMPLE_START).dt.days // 7 + 1
        folder.mkdir(parents=True)
        rows[(week >= first) & (week <= last)].to_csv(folder / "feedback.csv", index=False)
        for name in ("customers.csv", "tickets.csv"):
            shutil.copy(SAMPLE / name, folder)
        return folder

    return write


@pytest.fixture(scope="session")
def sample_week1(sample_weeks, tmp_path_factory) -> Path:
    """Week 1 of the sample as a weekly export (767 feedback rows, the full customers and tickets)."""
    return sample_weeks(tmp_path_factory.mktemp("sample") / "w01", 1, 1)


@pytest.fixture(scope="session")
def labelled_texts() -> tuple[list[str], list[str]]:
    """Nine support messages and their sentiment, three of each label: enough to fit a calibrated scorer."""
    texts = [
        "The app crashes, awful.",
        "Refund never came, terrible.",
        "Still broken, useless.",
        "Where is the export button?",
        "What time zone do dates use?",
        "Is there an API?",
        "Great support, thank you!",
        "Love the new dashboard.",
        "Fast refund, very happy.",
    ]
    return texts, ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 3


@pytest.fixture(scope="session")
def run_feedback():
    """``run_feedback(*args)`` runs ``python -m feedback ARGS`` with no standard input and returns the finished
    process (its output captured as text)."""

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "feedback", *map(str, args)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=600,
        )

    return run


@pytest.fixture(scope="session")
def free_port():
    """``free_port()``: a TCP port nothing listens on at 127.0.0.1 now."""

    def find() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    return find
