"""Tests for feedback.impact: churn lift, segment adjustment, ranking, trends and the JSON records."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from feedback.impact import (
    COLUMN_DEFINITIONS,
    COLUMNS,
    CONTRACT_COLUMNS,
    EXTRA_COLUMNS,
    INTERVAL_COLUMNS,
    NUMERIC_COLUMNS,
    PRIORITY_FORMULA,
    impact_records,
    mantel_haenszel_rr,
    risk_ratio,
    theme_impact,
)

MONDAY_W14 = pd.Timestamp("2026-03-30")  # ISO week 2026-W14


def make_feedback(rows: list[tuple[str, list[int]]], *, days: list[int] | None = None, **extra) -> pd.DataFrame:
    """Feedback rows (customer_id, theme_ids); primary theme first, all texts negative unless overridden."""
    days = days if days is not None else [0] * len(rows)
    theme_ids = [tags for _, tags in rows]
    df = pd.DataFrame(
        {
            "feedback_id": [f"f{i}" for i in range(len(rows))],
            "customer_id": [cid for cid, _ in rows],
            "created_at": [MONDAY_W14 + pd.Timedelta(days=d) for d in days],
            "channel": "email",
            "text": "some text",
            "sentiment": -0.5,
            "sentiment_label": "negative",
            "theme_id": [tags[0] if tags else -1 for tags in theme_ids],
            "theme_label": [f"t{tags[0]}" if tags else "other" for tags in theme_ids],
            "theme_ids": theme_ids,
            "themes": ["; ".join(f"t{t}" for t in tags) for tags in theme_ids],
        }
    )
    for name, values in extra.items():
        df[name] = values
    return df


def make_customers(specs: list[tuple[str, str, bool]], revenue: float = 100.0) -> pd.DataFrame:
    """Customers from (customer_id, segment, churned)."""
    return pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in specs],
            "segment": [s for _, s, _ in specs],
            "plan": "pro",
            "signup_date": pd.Timestamp("2025-01-01"),
            "churned": [ch for _, _, ch in specs],
            "churn_date": [pd.Timestamp("2026-04-01") if ch else pd.NaT for _, _, ch in specs],
            "monthly_revenue": revenue,
            "acquisition_cost": 50.0,
        }
    )


def churn_cohort(n_affected: int, a: int, n_unaffected: int, c: int):
    """Theme 1 mentioned by n_affected customers of whom a churned; n_unaffected others (c churned) never wrote."""
    specs = [(f"a{i}", "smb", i < a) for i in range(n_affected)]
    specs += [(f"u{i}", "smb", i < c) for i in range(n_unaffected)]
    feedback = make_feedback([(f"a{i}", [1]) for i in range(n_affected)])
    return feedback, make_customers(specs)


def row(result: pd.DataFrame, theme_id: int) -> dict:
    return result.set_index("theme_id").loc[theme_id].to_dict()


def test_churn_lift_is_risk_ratio_of_affected_vs_unaffected_with_hand_computed_ci():
    feedback, customers = churn_cohort(5, 3, 10, 1)
    r = row(theme_impact(feedback, customers), 1)
    assert r["affected_customers"] == 5
    assert r["churn_rate_affected"] == pytest.approx(0.6)
    assert r["churn_rate_unaffected"] == pytest.approx(0.1)
    assert r["churn_lift"] == pytest.approx(6.0)
    se = math.sqrt(1 / 3 - 1 / 5 + 1 / 1 - 1 / 10)
    lo, hi = r["churn_lift_ci"]
    assert lo == pytest.approx(6.0 * math.exp(-1.959964 * se), rel=1e-5)
    assert hi == pytest.approx(6.0 * math.exp(1.959964 * se), rel=1e-5)
    assert lo < 1 < hi  # 5 customers do not support a firm conclusion


def test_churn_lift_ci_excludes_one_when_the_data_support_it():
    feedback, customers = churn_cohort(50, 30, 100, 10)
    r = row(theme_impact(feedback, customers), 1)
    assert r["churn_lift"] == pytest.approx(6.0)
    assert r["churn_lift_ci"][0] > 1


@pytest.mark.parametrize("a, n1, c, n2", [(1, 5, 0, 10), (1, 5, 1, 0), (0, 0, 1, 10)])
def test_risk_ratio_is_none_where_undefined(a, n1, c, n2):
    assert risk_ratio(a, n1, c, n2) == (None, None)


def test_mantel_haenszel_with_one_stratum_equals_crude_ratio():
    rr, ci = mantel_haenszel_rr([(30, 50, 10, 100)])
    crude, crude_ci = risk_ratio(30, 50, 10, 100)
    assert rr == pytest.approx(crude)
    assert ci == pytest.approx(crude_ci)


def test_rare_theme_that_multiplies_churn_ranks_above_frequent_harmless_theme():
    specs = [(f"r{i}", "smb", i < 3) for i in range(5)]  # rare theme: 3/5 churn
    specs += [(f"f{i}", "smb", i < 4) for i in range(40)]  # frequent theme: 4/40 churn
    specs += [(f"o{i}", "smb", i < 5) for i in range(50)]  # silent customers: 5/50 churn
    rows = [(f"r{i}", [7]) for i in range(5)] + [(f"f{i}", [2]) for i in range(40)] * 3
    result = theme_impact(make_feedback(rows), make_customers(specs))
    assert result["theme_id"].tolist() == [7, 2]
    frequent = row(result, 2)
    assert frequent["mentions"] == 120 and frequent["churn_excess"] == 0.0 and frequent["revenue_at_risk"] == 0.0
    assert frequent["priority"] > 0  # still ordered by pain among churn-free themes
    assert row(result, 7)["revenue_at_risk"] > 0


def test_segment_confounded_theme_has_naive_lift_but_adjusted_lift_one_and_no_revenue_at_risk():
    specs = [(f"s{i}", "smb", i in (0, 1, 4, 5)) for i in range(8)]  # smb churns 50 %, affected or not
    specs += [(f"e{i}", "enterprise", i == 0) for i in range(10)]  # enterprise churns 10 %
    feedback = make_feedback([(f"s{i}", [3]) for i in range(4)])  # only smb mentions theme 3
    r = row(theme_impact(feedback, make_customers(specs)), 3)
    assert r["churn_lift"] == pytest.approx(0.5 / (3 / 14))
    assert r["churn_lift"] > 2
    assert r["churn_lift_adjusted"] == pytest.approx(1.0)
    assert r["churn_lift_adjusted_ci"][0] < 1 < r["churn_lift_adjusted_ci"][1]
    assert r["churn_excess"] == 0.0
    assert r["revenue_at_risk"] == 0.0
    assert r["value_of_fixing"] == 0.0
    assert r["top_segments"] == [{"segment": "smb", "affected_customers": 4, "churn_rate_affected": 0.5}]


def test_multi_tag_rows_count_for_each_theme_and_other_is_excluded():
    feedback = make_feedback([("a", [1, 2]), ("b", [1]), ("a", [2, 3]), ("c", [])])
    result = theme_impact(feedback)
    assert sorted(result["theme_id"]) == [1, 2, 3]
    assert row(result, 1)["mentions"] == 2 and row(result, 1)["affected_customers"] == 2
    assert row(result, 2)["mentions"] == 2 and row(result, 2)["affected_customers"] == 1
    assert row(result, 3)["mentions"] == 1
    assert row(result, 3)["theme_label"] == "t3"  # label of a secondary tag comes from `themes`
    assert row(result, 1)["share_customers"] == pytest.approx(2 / 3)


def test_without_customers_churn_columns_are_none_and_json_is_strict():
    feedback = make_feedback([("a", [1]), ("b", [1]), ("c", [2])], csat=[1.0, float("nan"), 5.0])
    result = theme_impact(feedback, customers=None)
    for col in (
        "churn_rate_affected",
        "churn_rate_unaffected",
        "churn_lift",
        "churn_lift_ci",
        "revenue_at_risk",
        "churn_lift_adjusted",
        "churn_lift_adjusted_ci",
        "churn_excess",
        "value_of_fixing",
    ):
        assert result[col].isna().all(), col
    assert result["theme_id"].tolist() == [1, 2]  # ranked by the volume term alone
    records = impact_records(result)
    text = json.dumps(records, allow_nan=False)
    assert json.loads(text)[0]["churn_lift"] is None
    assert list(records[0])[: len(CONTRACT_COLUMNS)] == list(CONTRACT_COLUMNS)
    assert set(EXTRA_COLUMNS) <= set(records[0])
    assert records[0]["csat_delta"] == pytest.approx(1.0 - 5.0)
    assert type(records[0]["mentions"]) is int and type(records[0]["theme_id"]) is int


def test_records_with_customers_are_plain_json():
    feedback, customers = churn_cohort(5, 3, 10, 1)
    records = impact_records(theme_impact(feedback, customers))
    json.dumps(records, allow_nan=False)
    assert isinstance(records[0]["churn_lift_ci"], list) and len(records[0]["churn_lift_ci"]) == 2
    assert records[0]["revenue_at_risk"] == pytest.approx(500 * 0.6 * (1 - 1 / 6))


def test_theme_appearing_only_in_last_periods_is_emerging():
    rows, days = [], []
    for week in range(6):
        rows += [(f"c{week}", [1])] * 3
        days += [7 * week] * 3
    rows += [(f"n{i}", [5]) for i in range(6)]
    days += [28, 28, 35, 35, 35, 35]  # weeks 5 and 6 only
    result = theme_impact(make_feedback(rows, days=days), period="week", min_mentions=5)
    assert bool(row(result, 5)["emerging"]) is True
    assert bool(row(result, 1)["emerging"]) is False
    assert row(result, 5)["trend_slope"] > 0


def test_emerging_needs_min_mentions_in_the_last_third():
    rows = [("a", [1])] * 3 + [("b", [5])] * 2
    days = [0, 7, 14, 35, 35]
    result = theme_impact(make_feedback(rows, days=days), min_mentions=5)
    assert bool(row(result, 5)["emerging"]) is False


def test_trend_includes_empty_periods_as_zero():
    feedback = make_feedback([("a", [1]), ("b", [1]), ("c", [2])], days=[0, 14, 14])
    trend = row(theme_impact(feedback), 2)["trend"]
    assert trend == [
        {"period": "2026-W14", "mentions": 0},
        {"period": "2026-W15", "mentions": 0},
        {"period": "2026-W16", "mentions": 1},
    ]


def test_customers_missing_from_customers_table_count_in_mentions_but_not_churn():
    feedback, customers = churn_cohort(5, 3, 10, 1)
    feedback = pd.concat([feedback, make_feedback([("ghost", [1])])], ignore_index=True)
    r = row(theme_impact(feedback, customers), 1)
    assert r["mentions"] == 6 and r["affected_customers"] == 6
    assert r["churn_rate_affected"] == pytest.approx(0.6)


def test_priority_formula_is_documented():
    assert "churn_lift_adjusted" in PRIORITY_FORMULA and "0.05" in PRIORITY_FORMULA


# ------------------------------------------------------------------ churn lift against the other writers


def test_churn_lift_vs_writers_compares_with_customers_who_wrote_about_something_else():
    # theme 1: 10 customers, 6 churn; 10 others wrote about theme 2 (4 churn); 20 never wrote (2 churn)
    specs = [(f"a{i}", "smb", i < 6) for i in range(10)] + [(f"w{i}", "smb", i < 4) for i in range(10)]
    specs += [(f"s{i}", "smb", i < 2) for i in range(20)]
    feedback = make_feedback([(f"a{i}", [1]) for i in range(10)] + [(f"w{i}", [2]) for i in range(10)])
    r = row(theme_impact(feedback, make_customers(specs)), 1)
    assert r["churn_lift"] == pytest.approx(0.6 / (6 / 30))  # vs everyone else: 3.0
    assert r["churn_rate_other_writers"] == pytest.approx(0.4)
    assert r["churn_lift_vs_writers"] == pytest.approx(1.5)  # complainers churn more anyway
    se = math.sqrt(1 / 6 - 1 / 10 + 1 / 4 - 1 / 10)
    assert r["churn_lift_vs_writers_ci"] == pytest.approx(
        [1.5 * math.exp(-1.959964 * se), 1.5 * math.exp(1.959964 * se)], rel=1e-5
    )


def test_churn_lift_vs_writers_is_none_when_everyone_who_wrote_mentions_the_theme():
    feedback, customers = churn_cohort(5, 3, 10, 1)
    r = row(theme_impact(feedback, customers), 1)
    assert r["churn_lift_vs_writers"] is None or math.isnan(r["churn_lift_vs_writers"])
    assert impact_records(theme_impact(feedback, customers))[0]["churn_lift_vs_writers"] is None


# ------------------------------------------------------------------ driver analysis


def test_csat_delta_has_a_welch_interval_matching_scipy():
    csat = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 4.0, 5.0, 5.0]
    feedback = make_feedback([(f"c{i}", [1] if i < 4 else [2]) for i in range(9)], csat=csat)
    r = row(theme_impact(feedback), 1)
    inside, outside = csat[:4], csat[4:]
    assert r["csat_n"] == 4
    assert r["csat_delta"] == pytest.approx(2.0 - 4.6)
    welch = stats.ttest_ind(inside, outside, equal_var=False)
    assert r["csat_delta_p"] == pytest.approx(welch.pvalue)
    low, high = welch.confidence_interval(0.95)
    assert r["csat_delta_ci"] == pytest.approx([low, high])


def test_csat_coefficient_with_one_theme_is_the_difference_in_means():
    csat = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 4.0, 5.0, 5.0]
    feedback = make_feedback([(f"c{i}", [1] if i < 4 else []) for i in range(9)], csat=csat)
    r = row(theme_impact(feedback), 1)
    assert r["csat_coef"] == pytest.approx(r["csat_delta"])
    assert r["csat_coef_ci"][0] < r["csat_coef"] < r["csat_coef_ci"][1] < 0


def test_csat_coefficients_separate_overlapping_themes():
    # CSAT = 5 - 1 x theme 1 - 2 x theme 2 exactly; texts about both score 2
    tags = [[1], [1], [2], [2], [1, 2], [1, 2], [], [], []]
    csat = [5.0 - (1 in t) - 2 * (2 in t) for t in tags]
    feedback = make_feedback([(f"c{i}", t) for i, t in enumerate(tags)], csat=csat)
    result = theme_impact(feedback)
    assert row(result, 1)["csat_coef"] == pytest.approx(-1.0)
    assert row(result, 2)["csat_coef"] == pytest.approx(-2.0)
    assert row(result, 2)["csat_delta"] == pytest.approx(2.5 - 4.6)  # (3+3+2+2)/4 vs (4+4+5+5+5)/5: mixes both


def test_csat_coefficient_controls_for_segment():
    # smb customers score 2, enterprise 5, whatever they write; only smb customers mention theme 3
    specs = [(f"s{i}", "smb", False) for i in range(8)] + [(f"e{i}", "enterprise", False) for i in range(8)]
    rows = [(f"s{i}", [3] if i < 4 else [9]) for i in range(8)] + [(f"e{i}", [9]) for i in range(8)]
    csat = [2.0, 2.0, 2.0, 2.0, 2.0, 3.0, 1.0, 2.0] + [5.0, 4.0, 5.0, 5.0, 5.0, 4.0, 5.0, 5.0]
    csat[0], csat[1] = 1.0, 3.0  # some spread inside the theme
    r = row(theme_impact(make_feedback(rows, csat=csat), make_customers(specs)), 3)
    assert r["csat_delta"] < -1.5  # raw: the theme looks harmful
    assert r["csat_coef"] == pytest.approx(0.0, abs=1e-9)  # within smb it changes nothing
    assert r["csat_coef_ci"][0] < 0 < r["csat_coef_ci"][1]


def test_nps_driver_is_in_nps_points():
    nps = [0.0, 3.0, 9.0, 10.0, 10.0, 9.0, 8.0, 7.0]  # theme 1: 2 detractors, 2 promoters -> NPS 0
    feedback = make_feedback([(f"c{i}", [1] if i < 4 else [2]) for i in range(8)], nps=nps)
    r = row(theme_impact(feedback), 1)
    assert r["nps_n"] == 4
    assert r["nps_delta"] == pytest.approx(0.0 - 50.0)  # others: 2 promoters, 2 passives -> NPS 50
    assert r["nps_delta_ci"][0] < -50 < r["nps_delta_ci"][1]


def test_driver_columns_are_none_without_scores():
    r = impact_records(theme_impact(make_feedback([("a", [1]), ("b", [2])])))[0]
    for key in (
        "csat_n",
        "csat_delta",
        "csat_delta_ci",
        "csat_delta_p",
        "csat_coef",
        "csat_coef_ci",
        "nps_n",
        "nps_delta",
        "nps_delta_ci",
        "nps_coef",
        "nps_coef_ci",
    ):
        assert r[key] is None, key


# ------------------------------------------------------------------ columns: typed, numeric, documented


def test_every_column_is_documented_in_the_docstring_and_definitions():
    import feedback.impact as impact

    for column in COLUMNS:
        assert f"``{column}``" in impact.__doc__, column
        kind, text = COLUMN_DEFINITIONS[column]
        assert kind and text
    assert set(NUMERIC_COLUMNS) | set(INTERVAL_COLUMNS) <= set(COLUMNS)


def test_number_columns_are_numeric_and_records_hold_plain_numbers_or_none():
    specs = [(f"a{i}", "smb", i < 3) for i in range(6)] + [(f"w{i}", "ent", i < 1) for i in range(6)]
    feedback = make_feedback(
        [(f"a{i}", [1]) for i in range(6)] + [(f"w{i}", [2]) for i in range(6)],
        csat=[1.0, 2.0, 2.0, 3.0, 1.0, None, 5.0, 4.0, 5.0, 4.0, 5.0, 5.0],
    )
    result = theme_impact(feedback, make_customers(specs))
    for column in NUMERIC_COLUMNS:
        assert pd.api.types.is_numeric_dtype(result[column]), column
    assert result.sort_values("csat_coef")["theme_id"].tolist() == [1, 2]
    records = impact_records(result)
    json.dumps(records, allow_nan=False)
    for rec in records:
        for column in NUMERIC_COLUMNS:
            assert rec[column] is None or type(rec[column]) in (int, float), (column, rec[column])
        for column in INTERVAL_COLUMNS:
            ci = rec[column]
            assert ci is None or (len(ci) == 2 and all(type(v) is float for v in ci) and ci[0] <= ci[1]), column
    assert type(records[0]["csat_n"]) is int


def test_aspect_sentiment_uses_each_tags_own_sentiment_and_falls_back_to_the_row():
    fb = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "created_at": pd.to_datetime(["2026-04-01", "2026-04-02", "2026-04-03"]),
            "theme_ids": [[1, 2], [1], [2]],
            "sentiment": [-0.1, -0.6, 0.5],
            # row a: negative about 1, positive about 2; row c: stored before theme_sentiment (none)
            "theme_sentiment": [[-0.7, 0.6], [-0.6], []],
        }
    )
    out = theme_impact(fb).set_index("theme_id")
    assert out.loc[1, "aspect_sentiment"] == pytest.approx((-0.7 - 0.6) / 2)
    assert out.loc[2, "aspect_sentiment"] == pytest.approx((0.6 + 0.5) / 2)
    assert out.loc[1, "mean_sentiment"] == pytest.approx((-0.1 - 0.6) / 2)  # the contract column is unchanged
    assert theme_impact(fb.drop(columns="theme_sentiment")).set_index("theme_id").loc[
        2, "aspect_sentiment"
    ] == pytest.approx((-0.1 + 0.5) / 2)


def test_score_impact_is_the_overall_score_minus_the_score_without_the_theme():
    fb = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "theme_ids": [[1], [1], [2], [2], [2], [3]],
            "csat": [1, 2, 5, 4, 5, np.nan],
            "nps": [0, 6, 10, 9, 8, np.nan],
            "ces": [7, 6, 1, 2, 2, np.nan],
        }
    )
    records = {r["theme_id"]: r for r in impact_records(theme_impact(fb, seed=3))}
    overall = (1 + 2 + 5 + 4 + 5) / 5
    assert records[1]["csat_impact"] == pytest.approx(overall - (5 + 4 + 5) / 3)
    assert records[2]["csat_impact"] == pytest.approx(overall - (1 + 2) / 2)
    # NPS: answers coded +100 (9-10), 0 (7-8), -100 (0-6); overall NPS 0 (2 promoters, 2 detractors of 5)
    assert records[1]["nps_impact"] == pytest.approx(0.0 - 100 * (2 - 0) / 3)
    assert records[1]["ces_impact"] == pytest.approx((7 + 6 + 1 + 2 + 2) / 5 - (1 + 2 + 2) / 3)
    low, high = records[1]["csat_impact_ci"]
    assert low <= records[1]["csat_impact"] <= high
    # a theme without a rated response has no impact (null in the JSON), and the interval is seeded
    assert records[3]["csat_impact"] is None and records[3]["csat_impact_ci"] is None
    again = {r["theme_id"]: r for r in impact_records(theme_impact(fb, seed=3))}
    assert again[1]["csat_impact_ci"] == records[1]["csat_impact_ci"]


def test_score_impact_is_null_without_that_score_column():
    fb = pd.DataFrame({"customer_id": ["a", "b"], "theme_ids": [[1], [2]], "csat": [2, 4]})
    record = impact_records(theme_impact(fb))[0]
    assert record["csat_impact"] is not None
    assert record["nps_impact"] is None and record["ces_impact"] is None and record["nps_impact_ci"] is None
