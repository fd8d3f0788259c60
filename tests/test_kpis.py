"""Tests for feedback.kpis: each formula against a hand computation on tiny tables written here."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from feedback.errors import ConfigError, InputError
from feedback.kpis import (
    CHANGE_TESTS,
    KPI_DEFINITIONS,
    KPI_NAMES,
    compute_kpis,
    is_snapshot,
    kpi_table,
    significant_change,
    significant_mean_change,
    significant_nps_change,
    wilson_ci,
)

# ISO weeks used below: 2026-W14 = Mon 2026-03-30 .. Sun 2026-04-05, W15 = 04-06 .. 04-12, W16 = 04-13 .. 04-19
T = pd.Timestamp


def feedback_frame(dates, **scores):
    data = {
        "feedback_id": [f"f{i}" for i in range(len(dates))],
        "customer_id": scores.pop("customer_id", [f"c{i}" for i in range(len(dates))]),
        "created_at": pd.to_datetime(dates),
        "channel": scores.pop("channel", ["survey"] * len(dates)),
        "text": ["some text"] * len(dates),
    }
    data.update({k: [np.nan if v is None else float(v) for v in vals] for k, vals in scores.items()})
    return pd.DataFrame(data)


def customers_frame(rows):
    """rows: (customer_id, segment, signup, churn_date or None, monthly_revenue, acquisition_cost)"""
    ids, segs, signups, churns, revenue, cost = zip(*rows)
    return pd.DataFrame(
        {
            "customer_id": list(ids),
            "segment": list(segs),
            "plan": ["basic"] * len(ids),
            "signup_date": pd.to_datetime(list(signups)),
            "churned": [c is not None for c in churns],
            "churn_date": pd.to_datetime(list(churns)),
            "monthly_revenue": [float(r) for r in revenue],
            "acquisition_cost": [np.nan if c is None else float(c) for c in cost],
        }
    )


def tickets_frame(rows, channel=None):
    """rows: (opened_at, first_response_at, resolved_at or None, handle_time_minutes, contacts_to_resolve)"""
    opened, first, resolved, handle, contacts = zip(*rows)
    n = len(rows)
    return pd.DataFrame(
        {
            "ticket_id": [f"t{i}" for i in range(n)],
            "customer_id": [f"c{i}" for i in range(n)],
            "channel": channel or ["email"] * n,
            "opened_at": pd.to_datetime(list(opened)),
            "first_response_at": pd.to_datetime(list(first)),
            "resolved_at": pd.to_datetime(list(resolved)),
            "handle_time_minutes": [float(h) for h in handle],
            "contacts_to_resolve": [float(c) for c in contacts],
        }
    )


def period(result, label):
    return next(p for p in result["periods"] if p["period"] == label)


ONE_WEEK = ["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03"]


# ------------------------------------------------------------------ survey formulas


def test_csat_is_share_of_4_and_5():
    result = compute_kpis(feedback_frame(ONE_WEEK[:4], csat=[5, 4, 3, 1]))
    assert result["overall"]["csat"]["value"] == 0.5
    assert result["overall"]["csat"]["n"] == 4


def test_csat_ignores_missing_answers():
    result = compute_kpis(feedback_frame(ONE_WEEK, csat=[5, None, 4, None, 1]))
    assert result["overall"]["csat"]["n"] == 3
    assert result["overall"]["csat"]["value"] == pytest.approx(2 / 3)


def test_nps_is_promoters_minus_detractors_in_points():
    result = compute_kpis(feedback_frame(ONE_WEEK, nps=[10, 9, 8, 0, 6]))
    nps = result["overall"]["nps"]
    assert nps["value"] == 0.0 and nps["n"] == 5
    assert nps["promoters"] == pytest.approx(0.4) and nps["detractors"] == pytest.approx(0.4)


def test_nps_ci_uses_nps_variance():
    # p_p = p_d = 0.4: var = (0.8 - 0) / 5 = 0.16, se = 40 points, half-width 1.96 * 40
    nps = compute_kpis(feedback_frame(ONE_WEEK, nps=[10, 9, 8, 0, 6]))["overall"]["nps"]
    assert nps["ci"] == pytest.approx([-78.4, 78.4], abs=0.05)


def test_nps_ci_is_clipped_to_minus_100_100():
    nps = compute_kpis(feedback_frame(ONE_WEEK[:2], nps=[10, 0]))["overall"]["nps"]
    assert nps["ci"][0] >= -100 and nps["ci"][1] <= 100


def test_ces_is_mean_effort_with_easy_share():
    ces = compute_kpis(feedback_frame(ONE_WEEK[:3], ces=[1, 2, 7]))["overall"]["ces"]
    assert ces["value"] == pytest.approx(10 / 3)
    assert ces["easy_share"] == pytest.approx(2 / 3)
    assert ces["ci"][0] < ces["value"] < ces["ci"][1]


# ------------------------------------------------------------------ intervals and tests


def test_wilson_ci_for_8_of_10():
    assert wilson_ci(8, 10) == pytest.approx([0.490, 0.943], abs=0.001)


def test_proportion_kpi_carries_wilson_ci():
    csat = compute_kpis(feedback_frame(["2026-03-30"] * 10, csat=[5] * 8 + [1] * 2))["overall"]["csat"]
    assert csat["ci"] == pytest.approx([0.490, 0.943], abs=0.001)


def test_single_value_mean_has_no_ci():
    ces = compute_kpis(feedback_frame(ONE_WEEK[:1], ces=[2]))["overall"]["ces"]
    assert ces["value"] == 2.0 and ces["ci"] is None


def test_significant_change_is_two_proportion_z_test():
    # pooled p = 0.6, se = sqrt(0.24 * 0.02) = 0.0693, z = 0.2 / 0.0693 = 2.887
    change = significant_change({"value": 0.5, "n": 100}, {"value": 0.7, "n": 100})
    assert change["z"] == pytest.approx(2.887, abs=0.001)
    assert change["p_value"] == pytest.approx(0.0039, abs=0.0002)
    assert change["significant"] is True


def test_significant_change_small_difference_is_not_significant():
    assert significant_change({"value": 0.5, "n": 10}, {"value": 0.6, "n": 10})["significant"] is False


def test_significant_change_with_missing_side_is_none():
    assert significant_change({"value": None, "n": 0}, {"value": 0.6, "n": 10})["significant"] is None


def test_change_significant_is_tested_for_proportions_and_means_not_derived_kpis():
    fb = feedback_frame(
        ["2026-03-30"] * 50 + ["2026-04-06"] * 50, csat=[1] * 50 + [5] * 50, ces=[1, 2] * 25 + [6, 7] * 25
    )
    w15 = period(compute_kpis(fb), "2026-W15")
    assert w15["csat"]["change_significant"] is True
    assert w15["ces"]["change_significant"] is True  # Welch t-test
    assert w15["clv"]["change_significant"] is None  # derived KPI: never tested


def test_mean_change_is_welch_t_test_by_hand():
    # means 2 and 3, sd 1 and 2, n 10 and 20: se = sqrt(1/10 + 4/20) = sqrt(0.3)
    r = significant_mean_change({"value": 2.0, "sd": 1.0, "n": 10}, {"value": 3.0, "sd": 2.0, "n": 20})
    v1, v2 = 0.1, 0.2
    assert r["t"] == pytest.approx(1 / math.sqrt(0.3))
    assert r["df"] == pytest.approx((v1 + v2) ** 2 / (v1**2 / 9 + v2**2 / 19))
    from scipy import stats

    expected = stats.ttest_ind_from_stats(3.0, 2.0, 20, 2.0, 1.0, 10, equal_var=False)
    assert r["p_value"] == pytest.approx(expected.pvalue)
    assert r["significant"] is False


def test_mean_change_with_one_value_is_not_tested():
    assert (
        significant_mean_change({"value": 2.0, "sd": None, "n": 1}, {"value": 3.0, "sd": 1.0, "n": 9})["significant"]
        is None
    )


def test_nps_change_is_z_test_on_the_difference():
    # var1 = 0.6 / 100, var2 = (0.7 - 0.09) / 100; z = 0.3 / sqrt(0.0121)
    r = significant_nps_change(
        {"value": 0.0, "n": 100, "promoters": 0.3, "detractors": 0.3},
        {"value": 30.0, "n": 100, "promoters": 0.5, "detractors": 0.2},
    )
    assert r["z"] == pytest.approx(0.3 / math.sqrt(0.0121))
    assert r["significant"] is True


def test_period_nps_change_uses_the_nps_test():
    fb = feedback_frame(["2026-03-30"] * 40 + ["2026-04-06"] * 40, nps=[0] * 40 + [10] * 40)
    assert period(compute_kpis(fb), "2026-W15")["nps"]["change_significant"] is True


@pytest.mark.parametrize("name", KPI_NAMES)
def test_every_change_flag_names_its_test(name):
    test = KPI_DEFINITIONS[name]["change_test"]
    if name in ("clv", "cac", "clv_cac"):
        assert test is None
    else:
        assert test in CHANGE_TESTS.values() and "alpha 0.05" in test


# ------------------------------------------------------------------ customers

CHURN_CUSTOMERS = [
    ("a", "smb", "2026-01-01", None, 10, 100),  # active all along
    ("b", "smb", "2026-01-01", "2026-04-01", 30, 200),  # churns in W14
    ("c", "ent", "2026-04-01", None, 50, 300),  # signs up mid-W14: not at risk in W14
    ("d", "ent", "2026-04-02", "2026-04-03", 70, 400),  # signs up and churns inside W14: not counted
    ("e", "ent", "2026-01-01", "2026-03-01", 90, None),  # churned before W14
]


def churn_result(by="week"):
    fb = feedback_frame(["2026-03-30", "2026-04-07"], customer_id=["a", "c"], csat=[5, 4])
    return compute_kpis(fb, customers_frame(CHURN_CUSTOMERS), by=by)


def test_churn_rate_counts_only_customers_active_at_period_start():
    churn = period(churn_result(), "2026-W14")["churn_rate"]
    assert churn["value"] == 0.5 and churn["n"] == 2  # b churned out of {a, b}


def test_churn_rate_next_period_includes_customers_who_signed_up_before_it():
    churn = period(churn_result(), "2026-W15")["churn_rate"]
    assert churn["value"] == 0.0 and churn["n"] == 2  # {a, c}, nobody churns


def test_retention_is_one_minus_churn_with_mirrored_ci():
    w14 = period(churn_result(), "2026-W14")
    assert w14["retention_rate"]["value"] == 0.5
    assert w14["retention_rate"]["n"] == w14["churn_rate"]["n"]
    lo, hi = w14["churn_rate"]["ci"]
    assert w14["retention_rate"]["ci"] == pytest.approx([1 - hi, 1 - lo])


def test_overall_churn_uses_the_feedback_window():
    # window 2026-03-30 .. 2026-04-07: at risk at start {a, b}; b churns inside
    churn = churn_result()["overall"]["churn_rate"]
    assert churn["value"] == 0.5 and churn["n"] == 2


def test_clv_is_revenue_times_12_times_lifespan():
    customers = customers_frame(
        [(f"c{i}", "smb", "2026-01-01", "2026-04-10" if i == 0 else None, 100, 50) for i in range(4)]
    )
    fb = feedback_frame(["2026-04-01"], csat=[5])
    april = period(compute_kpis(fb, customers, by="month"), "2026-04")
    annual_churn = 1 - (1 - 0.25) ** 12
    assert april["churn_rate"]["value"] == 0.25
    assert april["clv"]["value"] == pytest.approx(100 * 12 / annual_churn)
    assert april["clv"]["n"] == 4


def test_clv_margin_multiplies():
    customers = customers_frame(
        [(f"c{i}", "smb", "2026-01-01", "2026-04-10" if i == 0 else None, 100, 50) for i in range(4)]
    )
    fb = feedback_frame(["2026-04-01"], csat=[5])
    plain = period(compute_kpis(fb, customers, by="month"), "2026-04")["clv"]["value"]
    with_margin = period(compute_kpis(fb, customers, by="month", margin=0.5), "2026-04")["clv"]["value"]
    assert with_margin == pytest.approx(plain * 0.5)


def test_clv_is_null_when_nobody_churns():
    clv = period(churn_result(), "2026-W15")["clv"]
    assert clv["value"] is None and clv["n"] == 2


def test_cac_per_period_averages_customers_acquired_in_it():
    cac = period(churn_result(), "2026-W14")["cac"]
    assert cac["value"] == 350.0 and cac["n"] == 2  # c (300) and d (400) signed up in W14


def test_cac_overall_uses_every_customer_with_a_cost():
    cac = churn_result()["overall"]["cac"]
    assert cac["value"] == 250.0 and cac["n"] == 4  # e has no acquisition_cost


def test_clv_cac_is_ratio_of_clv_and_cac():
    overall = churn_result()["overall"]
    assert overall["clv_cac"]["value"] == pytest.approx(overall["clv"]["value"] / overall["cac"]["value"])


def test_clv_cac_is_null_when_cac_is_zero():
    customers = customers_frame(
        [("a", "smb", "2026-01-01", "2026-04-01", 10, 0), ("b", "smb", "2026-01-01", None, 10, 0)]
    )
    overall = compute_kpis(feedback_frame(ONE_WEEK, csat=[5] * 5), customers)["overall"]
    assert overall["cac"]["value"] == 0.0
    assert overall["clv"]["value"] is not None
    assert overall["clv_cac"]["value"] is None


# ------------------------------------------------------------------ tickets

TICKETS = [
    ("2026-04-01 00:00", "2026-04-01 01:00", "2026-04-01 02:00", 10, 1),
    ("2026-04-01 00:00", "2026-04-01 03:00", "2026-04-01 06:00", 20, 1),
    ("2026-04-01 00:00", "2026-04-01 02:00", "2026-04-01 04:00", 30, 2),
    ("2026-04-01 00:00", None, None, 40, 1),  # unresolved, unanswered
]


def test_fcr_is_one_contact_share_of_resolved_tickets():
    fcr = compute_kpis(None, tickets=tickets_frame(TICKETS))["overall"]["fcr"]
    assert fcr["value"] == pytest.approx(2 / 3) and fcr["n"] == 3


def test_aht_is_mean_handle_time():
    aht = compute_kpis(None, tickets=tickets_frame(TICKETS))["overall"]["aht_minutes"]
    assert aht["value"] == 25.0 and aht["n"] == 4


def test_resolution_hours_is_mean_over_resolved_tickets():
    hours = compute_kpis(None, tickets=tickets_frame(TICKETS))["overall"]["resolution_hours"]
    assert hours["value"] == 4.0 and hours["n"] == 3  # (2 + 6 + 4) / 3


def test_first_response_hours_is_mean_over_answered_tickets():
    hours = compute_kpis(None, tickets=tickets_frame(TICKETS))["overall"]["first_response_hours"]
    assert hours["value"] == 2.0 and hours["n"] == 3  # (1 + 3 + 2) / 3


def test_tickets_are_placed_in_periods_by_opened_at():
    tickets = tickets_frame([("2026-04-05 23:00", "2026-04-06 01:00", "2026-04-06 02:00", 10, 1)])
    result = compute_kpis(None, tickets=tickets)
    assert [p["period"] for p in result["periods"]] == ["2026-W14"]
    assert result["periods"][0]["aht_minutes"]["value"] == 10.0


# ------------------------------------------------------------------ periods, nulls, JSON


def test_empty_middle_period_is_listed_with_null_values():
    result = compute_kpis(feedback_frame(["2026-03-30", "2026-04-14"], csat=[5, 4]))
    assert [p["period"] for p in result["periods"]] == ["2026-W14", "2026-W15", "2026-W16"]
    empty = period(result, "2026-W15")["csat"]
    assert empty["value"] is None and empty["n"] == 0 and empty["ci"] is None


def test_monthly_periods_are_labelled_by_month():
    result = compute_kpis(feedback_frame(["2026-01-15", "2026-03-02"], csat=[5, 4]), by="month")
    assert [p["period"] for p in result["periods"]] == ["2026-01", "2026-02", "2026-03"]


def test_delta_is_change_from_previous_period():
    result = compute_kpis(feedback_frame(["2026-03-30", "2026-03-31", "2026-04-06"], csat=[5, 1, 5]))
    assert period(result, "2026-W14")["csat"]["delta"] is None
    assert period(result, "2026-W15")["csat"]["delta"] == 0.5


def test_delta_after_empty_period_is_null():
    result = compute_kpis(feedback_frame(["2026-03-30", "2026-04-14"], csat=[5, 4]))
    assert period(result, "2026-W16")["csat"]["delta"] is None


def test_zero_denominator_gives_null_not_zero():
    unresolved = tickets_frame([("2026-04-01", None, None, 10, 1)])
    no_one_at_risk = customers_frame([("a", "smb", "2026-05-01", None, 10, 100)])
    overall = compute_kpis(feedback_frame(ONE_WEEK, csat=[5] * 5), no_one_at_risk, unresolved)["overall"]
    assert overall["fcr"] == {"value": None, "n": 0, "ci": None, "small_sample": True}
    assert overall["churn_rate"]["value"] is None and overall["churn_rate"]["n"] == 0
    assert overall["resolution_hours"]["value"] is None


def test_absent_table_gives_null_kpis():
    overall = compute_kpis(feedback_frame(ONE_WEEK, csat=[5] * 5))["overall"]
    for name in ("churn_rate", "retention_rate", "clv", "cac", "clv_cac", "fcr", "aht_minutes"):
        assert overall[name]["value"] is None and overall[name]["n"] == 0 and overall[name]["ci"] is None


def test_absent_column_gives_null_kpi():
    nps = compute_kpis(feedback_frame(ONE_WEEK, csat=[5] * 5))["overall"]["nps"]
    assert nps["value"] is None and nps["n"] == 0


def test_all_tables_absent_gives_nulls_and_no_periods():
    result = compute_kpis(None)
    assert result["periods"] == []
    assert all(result["overall"][k]["value"] is None for k in KPI_NAMES)


def test_every_kpi_of_the_contract_is_present_in_order():
    result = churn_result()
    assert list(result["overall"]) == list(KPI_NAMES)
    assert all(list(p)[1:] == list(KPI_NAMES) for p in result["periods"])


def test_small_sample_flag_follows_min_n():
    fb = feedback_frame(ONE_WEEK, csat=[5] * 5)
    assert compute_kpis(fb, min_n=5)["overall"]["csat"]["small_sample"] is False
    assert compute_kpis(fb, min_n=6)["overall"]["csat"]["small_sample"] is True


def _plain(obj):
    if isinstance(obj, dict):
        return all(_plain(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_plain(v) for v in obj)
    return obj is None or type(obj) in (str, bool, int, float) and not (type(obj) is float and math.isnan(obj))


def test_result_is_strict_json_of_plain_python_values():
    fb = feedback_frame(
        ["2026-03-30", "2026-04-14", "2026-04-15"],
        customer_id=["a", "b", "c"],
        csat=[5, 4, None],
        nps=[10, None, 3],
        ces=[2, 6, None],
    )
    result = compute_kpis(fb, customers_frame(CHURN_CUSTOMERS), tickets_frame(TICKETS))
    json.dumps(result, allow_nan=False)
    assert _plain(result)


# ------------------------------------------------------------------ groups


def test_by_segment_groups_feedback_through_customer_id():
    fb = feedback_frame(["2026-03-30", "2026-04-01", "2026-04-07"], customer_id=["a", "b", "c"], csat=[5, 1, 4])
    result = compute_kpis(fb, customers_frame(CHURN_CUSTOMERS), by="segment")
    assert result["group_by"] == "segment"
    assert [p["period"] for p in result["periods"]] == ["ent", "smb"]
    assert period(result, "smb")["csat"]["value"] == 0.5
    assert period(result, "ent")["csat"]["value"] == 1.0
    assert period(result, "smb")["churn_rate"]["value"] == 0.5  # b churned out of {a, b}
    assert period(result, "ent")["csat"]["delta"] is None


def test_by_channel_groups_feedback_and_tickets_by_their_channel():
    fb = feedback_frame(ONE_WEEK[:3], channel=["email", "chat", "chat"], csat=[5, 1, 1])
    tickets = tickets_frame(TICKETS, channel=["email", "email", "phone", "phone"])
    result = compute_kpis(fb, tickets=tickets, by="channel")
    assert [p["period"] for p in result["periods"]] == ["chat", "email", "phone"]
    assert period(result, "chat")["csat"]["value"] == 0.0
    assert period(result, "email")["csat"]["value"] == 1.0
    assert period(result, "email")["aht_minutes"]["value"] == 15.0
    assert period(result, "phone")["csat"]["n"] == 0
    assert period(result, "email")["churn_rate"]["value"] is None


def test_by_segment_without_customers_explains_the_fix():
    with pytest.raises(InputError, match="segment.*Fix: pass customers"):
        compute_kpis(feedback_frame(ONE_WEEK, csat=[5] * 5), by="segment")


def test_unknown_group_by_names_the_options():
    with pytest.raises(ConfigError, match="week, month, segment, channel; got 'day'"):
        compute_kpis(None, by="day")


# ------------------------------------------------------------------ table and definitions


def test_kpi_table_has_a_row_per_period_and_a_column_per_kpi():
    result = compute_kpis(feedback_frame(["2026-03-30", "2026-04-14"], csat=[5, 4]))
    table = kpi_table(result)
    assert list(table.index) == ["2026-W14", "2026-W15", "2026-W16"]
    assert list(table.columns) == list(KPI_NAMES)
    assert table.loc["2026-W14", "csat"] == 1.0
    assert math.isnan(table.loc["2026-W15", "csat"])


def test_kpi_table_can_add_the_overall_row():
    table = kpi_table(compute_kpis(feedback_frame(ONE_WEEK[:4], csat=[5, 4, 3, 1])), include_overall=True)
    assert table.index[-1] == "overall" and table.loc["overall", "csat"] == 0.5


@pytest.mark.parametrize("name", KPI_NAMES)
def test_every_kpi_is_defined_for_the_methods_section(name):
    definition = KPI_DEFINITIONS[name]
    assert definition["name"] and definition["formula"]
    assert definition["unit"] in {"fraction", "score", "currency", "minutes", "hours", "ratio"}


# ------------------------------------------------------------------ snapshot customers table (no dates)


def snapshot_customers(tenure=True, cost=False):
    """Segment A: 1 of 4 churned; segment B: 2 of 2 churned. No dates at all."""
    frame = pd.DataFrame(
        {
            "customer_id": ["a1", "a2", "a3", "a4", "b1", "b2"],
            "segment": ["A", "A", "A", "A", "B", "B"],
            "churned": [True, False, False, False, True, True],
            "monthly_revenue": [10.0, 20.0, 30.0, 40.0, 50.0, 50.0],
        }
    )
    if tenure:
        frame["tenure_months"] = [6, 12, 12, 18, 1, 3]
    if cost:
        frame["acquisition_cost"] = [100.0, 100.0, 200.0, 200.0, 300.0, np.nan]
    return frame


def snapshot_clv(revenue, churned, months):
    hazard = churned / months
    return revenue * 12 / (1 - (1 - hazard) ** 12)


def test_table_without_dates_is_a_snapshot():
    assert is_snapshot(snapshot_customers())
    assert not is_snapshot(customers_frame(CHURN_CUSTOMERS))
    assert not is_snapshot(None)


def test_snapshot_churn_rate_is_churned_share_with_its_denominator():
    result = compute_kpis(None, snapshot_customers())
    churn = result["overall"]["churn_rate"]
    assert churn["value"] == 0.5 and churn["n"] == 6 and churn["basis"] == "snapshot"
    assert churn["ci"] == pytest.approx(wilson_ci(3, 6))
    assert result["overall"]["retention_rate"]["value"] == 0.5
    assert result["customer_basis"] == "snapshot"
    assert any("churned customers / all customers" in note for note in result["notes"])


def test_snapshot_clv_uses_the_monthly_hazard_from_tenure():
    clv = compute_kpis(None, snapshot_customers())["overall"]["clv"]
    # 3 churned over 6 + 12 + 12 + 18 + 1 + 3 = 52 months; mean revenue 200 / 6
    assert clv["value"] == pytest.approx(snapshot_clv(200 / 6, 3, 52))
    assert clv["monthly_churn_hazard"] == pytest.approx(3 / 52)
    assert clv["n"] == 6


def test_snapshot_clv_margin_multiplies_the_hand_value():
    clv = compute_kpis(None, snapshot_customers(), margin=0.6)["overall"]["clv"]
    assert clv["value"] == pytest.approx(0.6 * snapshot_clv(200 / 6, 3, 52))


def test_snapshot_without_tenure_has_null_clv_and_says_why():
    result = compute_kpis(None, snapshot_customers(tenure=False))
    assert result["overall"]["clv"]["value"] is None
    assert result["overall"]["churn_rate"]["value"] == 0.5
    assert any("tenure" in note for note in result["notes"])


def test_snapshot_cac_is_null_without_acquisition_cost_and_mean_with_it():
    assert compute_kpis(None, snapshot_customers())["overall"]["cac"]["value"] is None
    assert compute_kpis(None, snapshot_customers())["overall"]["clv_cac"]["value"] is None
    overall = compute_kpis(None, snapshot_customers(cost=True))["overall"]
    assert overall["cac"]["value"] == 180.0 and overall["cac"]["n"] == 5
    assert overall["clv_cac"]["value"] == pytest.approx(snapshot_clv(200 / 6, 3, 52) / 180.0)


def test_snapshot_by_segment_splits_every_customer_kpi():
    result = compute_kpis(None, snapshot_customers(), by="segment")
    assert [p["period"] for p in result["periods"]] == ["A", "B"]
    a, b = period(result, "A"), period(result, "B")
    assert a["churn_rate"]["value"] == 0.25 and a["churn_rate"]["n"] == 4
    assert b["churn_rate"]["value"] == 1.0 and b["churn_rate"]["n"] == 2
    assert a["clv"]["value"] == pytest.approx(snapshot_clv(25.0, 1, 48))
    assert b["clv"]["value"] == pytest.approx(snapshot_clv(50.0, 2, 4))
    assert a["csat"]["value"] is None


def test_snapshot_segment_where_nobody_churned_has_null_clv():
    customers = snapshot_customers()
    customers.loc[0, "churned"] = False
    a = period(compute_kpis(None, customers, by="segment"), "A")
    assert a["churn_rate"]["value"] == 0.0 and a["clv"]["value"] is None  # infinite lifespan: null, not inf


def test_snapshot_unknown_flags_are_left_out_of_the_denominator():
    customers = snapshot_customers()
    customers["churned"] = pd.array([True, None, False, False, True, True], dtype="boolean")
    churn = compute_kpis(None, customers)["overall"]["churn_rate"]
    assert churn["value"] == pytest.approx(3 / 5) and churn["n"] == 5


def test_snapshot_with_dated_feedback_has_no_per_period_churn():
    fb = feedback_frame(["2026-03-30", "2026-04-07"], customer_id=["a1", "b1"], csat=[5, 4])
    result = compute_kpis(fb, snapshot_customers())
    assert [p["period"] for p in result["periods"]] == ["2026-W14", "2026-W15"]
    assert all(p["churn_rate"]["value"] is None for p in result["periods"])
    assert result["overall"]["churn_rate"]["value"] == 0.5
    assert any("not split by period" in note for note in result["notes"])
    json.dumps(result, allow_nan=False)


def test_dated_table_has_no_notes():
    result = churn_result()
    assert result["customer_basis"] == "dated" and result["notes"] == []


# ------------------------------------------------------------------ more hand computations (dated tables)


def test_clv_with_margin_by_hand():
    customers = customers_frame(
        [(f"c{i}", "smb", "2026-01-01", "2026-04-10" if i == 0 else None, 100, 50) for i in range(4)]
    )
    april = period(compute_kpis(feedback_frame(["2026-04-01"], csat=[5]), customers, by="month", margin=0.7), "2026-04")
    assert april["clv"]["value"] == pytest.approx(0.7 * 100 * 12 / (1 - 0.75**12))


def test_cac_per_period_is_null_when_nobody_was_acquired():
    cac = period(churn_result(), "2026-W15")["cac"]
    assert cac["value"] is None and cac["n"] == 0
    assert period(churn_result(), "2026-W15")["clv_cac"]["value"] is None


def test_clv_cac_per_period_by_hand():
    # W14: at risk {a, b} (revenue 10, 30), churn 1/2 -> annual 1 - 0.5^52; CAC mean of c, d = 350
    w14 = period(churn_result(), "2026-W14")
    clv = 20 * 12 / (1 - 0.5**52)
    assert w14["clv"]["value"] == pytest.approx(clv)
    assert w14["clv_cac"]["value"] == pytest.approx(clv / 350)


def test_retention_of_a_period_with_nobody_at_risk_is_null():
    customers = customers_frame([("a", "smb", "2026-04-08", None, 10, 100)])
    w14 = period(compute_kpis(feedback_frame(["2026-03-30", "2026-04-07"], csat=[5, 5]), customers), "2026-W14")
    assert w14["retention_rate"]["value"] is None and w14["retention_rate"]["n"] == 0
    assert w14["churn_rate"]["change_significant"] is None


def test_by_channel_ticket_kpis_by_hand_and_customer_kpis_null():
    tickets = tickets_frame(TICKETS, channel=["email", "chat", "chat", "chat"])
    result = compute_kpis(None, customers_frame(CHURN_CUSTOMERS), tickets, by="channel")
    chat, email = period(result, "chat"), period(result, "email")
    assert chat["fcr"]["value"] == 0.5 and chat["fcr"]["n"] == 2  # resolved: tickets 2 (1 contact) and 3 (2)
    assert chat["resolution_hours"]["value"] == 5.0  # (6 + 4) / 2
    assert email["first_response_hours"]["value"] == 1.0
    for name in ("churn_rate", "retention_rate", "clv", "cac", "clv_cac"):
        assert chat[name]["value"] is None and chat[name]["n"] == 0


def test_mean_kpis_carry_their_standard_deviation():
    aht = compute_kpis(None, tickets=tickets_frame(TICKETS))["overall"]["aht_minutes"]
    assert aht["sd"] == pytest.approx(np.std([10, 20, 30, 40], ddof=1))


def test_snapshot_clv_beyond_the_longest_tenure_is_marked_as_extrapolated():
    result = compute_kpis(None, snapshot_customers(), by="segment")
    # A: hazard 1/48 -> lifespan 4.5 years > 18 months seen; B: hazard 1/2 -> lifespan about 1 year > 3 months
    assert period(result, "A")["clv"]["extrapolated"] is True
    assert any("extrapolates" in note and "A" in note for note in result["notes"])
    short = snapshot_customers()
    short["tenure_months"] = [600, 12, 12, 18, 1, 3]  # 3 churned over 646 months, longest 50 years
    assert compute_kpis(None, short)["overall"]["clv"]["extrapolated"] is False


def test_cli_kpis_of_a_customers_table_alone(tmp_path, capsys):
    from feedback.cli import main

    snapshot_customers().rename(columns={"segment": "Plan tier", "tenure_months": "tenure"}).to_csv(
        tmp_path / "customers.csv", index=False
    )
    config = tmp_path / "map.toml"
    config.write_text('[columns]\nsegment = "Plan tier"\ntenure_months = "tenure"\n', encoding="utf-8")
    assert (
        main(
            [
                "kpis",
                "--customers",
                str(tmp_path / "customers.csv"),
                "--config",
                str(config),
                "--by",
                "segment",
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["overall"]["churn_rate"]["value"] == 0.5 and result["overall"]["churn_rate"]["n"] == 6
    assert period(result, "B")["churn_rate"]["value"] == 1.0
    assert period(result, "A")["clv"]["value"] == pytest.approx(snapshot_clv(25.0, 1, 48))
    assert result["overall"]["cac"]["value"] is None
    # a folder holding only customers.csv works too, and the text output names the denominator and the definition
    assert main(["kpis", str(tmp_path), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "churn_rate" in out and "n (the denominator" in out and "churned customers / all customers" in out


def test_cli_kpis_without_data_or_customers_explains(capsys):
    from feedback.cli import main

    assert main(["kpis"]) == 2
    assert "DATA" in capsys.readouterr().err
