"""Sentences as users write them (tweets' handles and links, chat without capitals, an emoji as the full stop)
give per-sentence themes and theme sentiment; wishes and regrets are not praise, praise by comparison is.
"""

import pytest

from feedback.sentiment import default_scorer, theme_sentiment_values
from feedback.themes import ThemeModel

from test_themes import CORPUS


@pytest.fixture(scope="module")
def model():
    return ThemeModel(n_themes=3, min_theme_size=5, taxonomy=None, seed=1).fit(CORPUS)


@pytest.fixture(scope="module")
def scorer():
    return default_scorer()


PLAIN = "My refund was not received. The app crashes on startup."


@pytest.mark.parametrize(
    "text",
    [
        "My refund was not received. https://example.com/shot.png The app crashes on startup.",
        "@Ledgerly My refund was not received. @Ledgerly The app crashes on startup.",
    ],
)
def test_theme_sentiment_is_per_sentence_when_a_sentence_starts_with_a_link_or_handle(model, scorer, text):
    """theme_ids splits topic_text (link/handle removed) into sentences and raises the second theme from the
    crash sentence; theme_sentiment splits the raw text, finds one sentence (a link or '@' is not a capital) and
    gives both themes the whole message's score. The link/handle is not part of the topic: same values as PLAIN."""
    out = model.transform([PLAIN, text])
    assert out["theme_ids"][1] == out["theme_ids"][0] and len(out["theme_ids"][0]) == 2
    docs = [scorer.score(t).compound for t in (PLAIN, text)]
    plain, linked = theme_sentiment_values([PLAIN, text], out["theme_ids"].tolist(), docs, model, scorer)
    assert linked[0] != linked[1], "both themes got the document score"
    assert linked == plain


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        "@Ledgerly My refund was not received. @Ledgerly The app crashes on startup.",
        "I love that the refund arrived so quickly, thank you. But I cannot log in, the password reset email "
        "never came.",
    ],
)
def test_theme_sentiment_from_the_tagging_pass_is_per_theme_like_a_second_pass(model, scorer, text):
    """transform_with_parts hands over the parts that chose each tag, so tag_themes scores each theme's own part
    without tagging the sentences again; where each theme has its own sentence, both ways agree."""
    from feedback.themes import tag_themes
    import pandas as pd

    out, parts = model.transform_with_parts([text])
    tags = out["theme_ids"].tolist()
    doc = scorer.score(text).compound
    assert len(tags[0]) >= 2 and parts[0] is not None
    assert sorted({t for t in parts[0].theme_ids if t in tags[0]}) == sorted(tags[0])
    one_pass = theme_sentiment_values([text], tags, [doc], model, scorer, parts)
    two_pass = theme_sentiment_values([text], tags, [doc], model, scorer)
    assert one_pass == two_pass and len(set(one_pass[0])) == len(tags[0])
    frame = pd.DataFrame({"clean_text": [text], "sentiment": [doc]})
    assert tag_themes(frame, model, scorer=scorer)[0]["theme_sentiment"].tolist() == one_pass


def test_parts_are_given_only_for_messages_with_several_themes(model):
    out, parts = model.transform_with_parts([PLAIN, "My refund was not received.", ""])
    assert [len(t) for t in out["theme_ids"]] == [2, 1, 0]
    assert parts[0] is not None and parts[1] is None and parts[2] is None
    assert parts[0].texts == ["My refund was not received.", "The app crashes on startup."]


@pytest.mark.parametrize(
    "text",
    [
        "my refund was not received. the app crashes on startup.",  # chat/SMS: no capitals
        "My refund was not received 😡 The app crashes on startup.",  # sentence closed by an emoji
    ],
)
def test_two_sentences_without_capitals_or_with_an_emoji_stop_still_raise_two_themes(model, text):
    """split_sentences needs '.!?' + a capital: lowercase chat text or an emoji as the full stop is one
    'sentence', so the second topic is dropped (the same text capitalised gets both themes)."""
    assert len(model.transform([PLAIN])["theme_ids"][0]) == 2
    assert len(model.transform([text])["theme_ids"][0]) == 2


@pytest.mark.parametrize(
    "text",
    [
        "I wish I could give you 10 stars!",  # positive before 03a631d, negative now
        "I wish I could give more than 5 stars.",  # positive before, negative now
        "I wish you guys were this fast everywhere.",  # positive before, negative now
        "Five stars, I wish there were more stars to give.",  # positive before, negative now ("i wish there")
        "Nothing could be better than this.",  # negative before (-0.34), more negative now (-0.71)
        "Couldn't be better!",  # negative (-0.64) before and after
        "It can't get any better than this.",  # negative (-0.60) before and after
    ],
)
def test_praise_by_comparison_is_not_negative(scorer, text):
    assert scorer.score(text).label == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "I wish I had chosen another provider.",
        "I wish I never signed up.",
        "I wish I had never bought this.",
        "I wish I had read the reviews first.",
    ],
)
def test_regret_wishes_are_not_praise(scorer, text):
    """'wish' keeps VADER's +1.7 when the wish is about the writer: regret reads as praise (+0.40)."""
    assert scorer.score(text).label != "positive"


@pytest.mark.parametrize(
    "text",
    [
        "Wish you had a better mobile app.",  # tweets and chat drop the "I": +0.68
        "Wish the app had an export.",  # +0.40
    ],
)
def test_a_wish_without_i_is_not_praise(scorer, text):
    assert scorer.score(text).label != "positive"
