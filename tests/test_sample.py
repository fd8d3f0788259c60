"""Tests for feedback.sample: reproducible bytes, contract columns, planted truth and minimum volumes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from feedback.sample import EMERGING_FROM_WEEK, EMERGING_TOPIC, generate_sample
from feedback.schema import CUSTOMERS_REQUIRED, FEEDBACK_OPTIONAL, FEEDBACK_REQUIRED, TICKETS_REQUIRED

FILES = ("feedback.csv", "customers.csv", "tickets.csv", "truth.csv")
SHIPPED = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("default")
    generate_sample(out)
    return out


def _read(directory: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(directory / name, keep_default_na=False)


def test_same_arguments_write_identical_bytes(tmp_path: Path) -> None:
    first = generate_sample(tmp_path / "a", customers=200, weeks=4)
    second = generate_sample(tmp_path / "b", customers=200, weeks=4)
    assert first == second
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_other_seed_writes_other_data(tmp_path: Path) -> None:
    generate_sample(tmp_path / "a", customers=200, weeks=4, seed=1)
    generate_sample(tmp_path / "b", customers=200, weeks=4, seed=2)
    assert (tmp_path / "a" / "feedback.csv").read_bytes() != (tmp_path / "b" / "feedback.csv").read_bytes()


@pytest.mark.parametrize(
    ("name", "columns"),
    [
        ("feedback.csv", FEEDBACK_REQUIRED + FEEDBACK_OPTIONAL),
        ("customers.csv", CUSTOMERS_REQUIRED + ("region",)),
        ("tickets.csv", TICKETS_REQUIRED),
        ("truth.csv", ("feedback_id", "topics", "noise")),
    ],
)
def test_files_have_contract_columns(default_dir: Path, name: str, columns: tuple[str, ...]) -> None:
    assert set(columns) <= set(_read(default_dir, name).columns)


def test_counts_meet_minimums(default_dir: Path) -> None:
    assert len(_read(default_dir, "customers.csv")) >= 2000
    feedback = _read(default_dir, "feedback.csv")
    assert len(feedback) >= 8000
    assert set(feedback["channel"]) == {"email", "chat", "survey", "review", "social"}
    assert len(_read(default_dir, "tickets.csv")) >= 5000


def test_shipped_sample_matches_generator(default_dir: Path) -> None:
    for name in FILES:
        assert (SHIPPED / name).read_bytes() == (default_dir / name).read_bytes()


def test_emerging_topic_absent_before_its_week(default_dir: Path) -> None:
    rows = _read(default_dir, "feedback.csv").merge(_read(default_dir, "truth.csv"), on="feedback_id")
    week = (pd.to_datetime(rows["created_at"]) - pd.Timestamp("2026-07-06")).dt.days // 7 + 1
    mentions = rows["topics"].str.split(";").apply(lambda topics: EMERGING_TOPIC in topics)
    assert not mentions[week < EMERGING_FROM_WEEK].any()
    assert mentions[week >= EMERGING_FROM_WEEK].mean() > 0.05


def test_no_feedback_after_churn_date(default_dir: Path) -> None:
    customers = _read(default_dir, "customers.csv")
    churned = customers[customers["churned"] == "true"]
    assert churned["churn_date"].ne("").all()
    rows = _read(default_dir, "feedback.csv").merge(churned, on="customer_id")
    assert (pd.to_datetime(rows["created_at"]) < pd.to_datetime(rows["churn_date"]) + pd.Timedelta(days=1)).all()


def test_scores_stay_in_range(default_dir: Path) -> None:
    feedback = pd.read_csv(default_dir / "feedback.csv")
    assert feedback["csat"].dropna().between(1, 5).all()
    assert feedback["nps"].dropna().between(0, 10).all()
    assert feedback["ces"].dropna().between(1, 7).all()
