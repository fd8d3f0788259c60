"""End to end on the bundled sample data: the report recovers the truth planted by the generator.

The planted topics per row are in sample_data/truth.csv (never given to the pipeline). Each planted pain point
is matched to the discovered theme that holds most of its rows, so the checks do not depend on label wording.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from feedback import Config, build_context, render_report, run

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def result():
    return run(SAMPLE, Config())


@pytest.fixture(scope="module")
def theme_of(result):
    """Planted topic -> discovered theme id (the theme holding most of the topic's rows, if it is mostly that topic)."""
    truth = pd.read_csv(SAMPLE / "truth.csv", keep_default_na=False, dtype=str)
    rows = result.feedback.merge(truth, on="feedback_id")
    rows["planted"] = rows["topics"].str.split(";").str[0]
    mapping = {}
    for topic, group in rows[rows["theme_id"] >= 0].groupby("planted"):
        theme = group["theme_id"].value_counts().idxmax()
        members = rows[rows["theme_id"] == theme]
        if (members["planted"] == topic).mean() >= 0.5:
            mapping[topic] = int(theme)
    return mapping


def test_planted_pain_points_are_found(theme_of):
    # slow_performance is the one planted pain point the lexical themes do not isolate yet: its texts mostly
    # share a message with another topic (see the themes issue).
    for topic in (
        "data_loss",
        "double_charge",
        "refund_delay",
        "login_password",
        "mobile_crash",
        "export_broken",
        "price_increase",
    ):
        assert topic in theme_of, f"no theme is mostly {topic}"


def test_top_churn_driver_is_ranked_first(result, theme_of):
    ranked = result.impact["theme_id"].tolist()
    assert ranked[0] == theme_of["data_loss"]
    top = result.impact.iloc[0]
    assert top["churn_lift_ci"][0] > 1.0  # the interval excludes 1


def test_emerging_theme_is_flagged(result, theme_of):
    flagged = set(result.impact.loc[result.impact["emerging"], "theme_id"])
    assert theme_of["export_broken"] in flagged
    assert theme_of["login_password"] not in flagged


def test_frequent_harmless_theme_is_high_by_volume_but_not_by_churn(result, theme_of):
    impact = result.impact.set_index("theme_id")
    login = impact.loc[theme_of["login_password"]]
    assert login["mentions"] >= impact["mentions"].quantile(0.75)
    assert login["churn_lift_adjusted"] < 1.3
    assert impact.index.get_loc(theme_of["login_password"]) > impact.index.get_loc(theme_of["data_loss"])


def test_segment_confounded_theme_is_not_blamed_after_adjustment(result, theme_of):
    price = result.impact.set_index("theme_id").loc[theme_of["price_increase"]]
    assert price["churn_lift"] > price["churn_lift_adjusted"]
    assert price["churn_lift_adjusted"] < 1.15


def test_kpi_dip_in_the_outage_week(result):
    weeks = {p["period"]: p for p in result.kpis["periods"]}
    outage, before = weeks["2026-W34"], weeks["2026-W32"]  # week 7 of the sample is ISO week 34
    assert outage["csat"]["value"] < before["csat"]["value"] - 0.1
    assert outage["first_response_hours"]["value"] > before["first_response_hours"]["value"] * 1.5


def test_no_row_is_lost(result):
    counts = result.feedback["quality_issue"].value_counts()
    assert counts.sum() == len(pd.read_csv(SAMPLE / "feedback.csv", keep_default_na=False, dtype=str))


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.text, self._in_script = 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)


def test_report_shows_the_ranking_and_escapes_hostile_text(result):
    context = build_context(result)
    assert context.painpoints[0]["theme_id"] == result.impact.iloc[0]["theme_id"]
    context.painpoints[0]["quotes"] = ["<script>alert('x')</script> still broken"]
    html = render_report(context)
    parser = _Collector()
    parser.feed(html)
    text = " ".join(parser.text)
    assert parser.scripts == 1  # only the report's own inlined script
    assert "<script>alert('x')</script> still broken" in text
    assert context.painpoints[0]["theme_label"] in text
    quotes = " ".join(q for p in context.painpoints + context.praise for q in p["quotes"])
    assert not re.search(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", quotes)  # e-mail addresses redacted


def test_most_praised_is_the_praise_theme_most_customers_mention(result):
    """The summary's "Most praised" and the praise list go by mentions: the sample's praise themes range from
    dozens to hundreds of mentions, and their churn-based priority orders them otherwise."""
    context = build_context(result)
    mentions = [p["mentions"] for p in context.praise]
    assert len(mentions) > 3 and mentions == sorted(mentions, reverse=True)
    priorities = [p["priority"] for p in context.praise]
    assert priorities != sorted(priorities, reverse=True)
    summary = render_report(context).split("<h3>Most praised</h3>")[1].split("</p>")[0]
    assert f"{context.praise[0]['theme_label']}</a> ({context.praise[0]['mentions']:,} mentions)" in summary


def test_wishes_are_not_praise(result):
    """ "Would be nice to have more report options" asks for something missing (the sample plants such wishes)."""
    for record in build_context(result).praise:
        assert not any("would be nice" in q.lower() or "i wish" in q.lower() for q in record["quotes"])


def test_data_quality_counts_the_planted_foreign_rows_by_language(result):
    truth = pd.read_csv(SAMPLE / "truth.csv", keep_default_na=False, dtype=str)
    planted = truth["noise"].str.extract(r"non_english:(\w+)")[0].dropna().value_counts()
    context = build_context(result)
    assert context.non_english_languages == {k: int(v) for k, v in planted.items()}
    assert list(context.non_english_languages.values()) == sorted(context.non_english_languages.values(), reverse=True)
    parser = _Collector()
    parser.feed(render_report(context).split('<section id="data-quality"')[1].split("</section>")[0])
    shown = ", ".join(f"{language} {count}" for language, count in context.non_english_languages.items())
    assert f"non english ({shown})" in " ".join(" ".join(parser.text).split())


def test_score_impact_of_each_theme_shows_the_planted_csat_shift(result, theme_of):
    """The generator lowers the CSAT of messages about a pain point and raises it for praise, and derives NPS and
    CES from the CSAT: each pain point takes CSAT and NPS off the overall score and adds effort; praise adds."""
    from feedback.impact import impact_records
    from feedback.sample import PAIN_POINTS, PRAISE_TEMPLATES

    records = {r["theme_id"]: r for r in impact_records(result.impact)}
    pains = [records[theme_of[t]] for t in PAIN_POINTS if t in theme_of]
    praises = [records[theme_of[t]] for t in PRAISE_TEMPLATES if t in theme_of]
    assert len(pains) >= 6 and len(praises) >= 2
    for r in pains:
        assert r["csat_impact"] < 0 and r["csat_impact_ci"][1] < 0, r["theme_label"]
        assert r["nps_impact"] < 0 and r["ces_impact"] > 0, r["theme_label"]
    for r in praises:
        assert r["csat_impact"] > 0 and r["csat_impact_ci"][0] > 0, r["theme_label"]
        assert r["nps_impact"] > 0 and r["ces_impact"] < 0, r["theme_label"]
