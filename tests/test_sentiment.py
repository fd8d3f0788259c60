"""Sentiment: VADER's sentence scores are kept exact; support-language rules and the document score on top."""
import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from feedback.sentiment import SentimentScorer, label_for, score_sentiment, split_sentences

VADER = SentimentIntensityAnalyzer()


@pytest.fixture(scope="module")
def scorer():
    return SentimentScorer()


@pytest.mark.parametrize("text", ["The app is great", "I hate this", "It is a tool", "not bad at all", "GREAT!!! :)"])
def test_single_sentence_without_rules_equals_plain_vader(scorer, text):
    assert scorer.score(text).compound == VADER.polarity_scores(text)["compound"]


@pytest.mark.parametrize("text, label", [
    ("not bad at all", "positive"),
    ("I have been waiting 3 weeks for my refund.", "negative"),
    ("It is still not working.", "negative"),
    ("Thanks for nothing.", "negative"),
    ("Great, another double charge. Just what I needed.", "negative"),
    ("I want to cancel my subscription.", "negative"),
    ("The support agent was super helpful, thank you!", "positive"),
    ("Love the new dashboard 😍", "positive"),
    ("", "neutral"),
])
def test_labels_of_support_sentences(scorer, text, label):
    assert scorer.score(text).label == label


def test_polite_wrapping_does_not_turn_a_complaint_positive(scorer):
    text = "Hello, hope you are well. I was charged twice this month. Please fix it. Thanks in advance!"
    assert VADER.polarity_scores(text)["compound"] > 0  # plain VADER is fooled by the courtesy
    assert scorer.score(text).label == "negative"


def test_long_email_does_not_saturate(scorer):
    text = " ".join(["The invoice layout is lovely and the team is great."] * 30 + ["But my data is gone."])
    plain = VADER.polarity_scores(text)["compound"]
    ours = scorer.score(text).compound
    assert plain > 0.99
    assert ours < 0.9


def test_churn_intent_is_flagged_with_its_phrase(scorer):
    doc = scorer.score("This is the third time. I am going to cancel my account and switch to another provider.")
    assert doc.flags["churn_intent"].lower().startswith(("cancel", "going to cancel", "switch"))
    assert doc.to_dict()["churn_intent"] is True


def test_escalation_and_urgency_flags(scorer):
    doc = scorer.score("I will file a complaint with the BBB. This is urgent.")
    assert {"escalation", "urgency"} <= set(doc.flags)


def test_drivers_are_the_sentences_that_push_the_label(scorer):
    doc = scorer.score("The dashboard is nice. My refund never arrived and nobody answers. I am furious.")
    assert doc.label == "negative"
    assert "My refund never arrived and nobody answers." in doc.drivers
    assert "The dashboard is nice." not in doc.drivers


def test_all_caps_and_emoji_keep_vader_intensity(scorer):
    assert scorer.score("This is TERRIBLE").compound < scorer.score("This is terrible").compound
    assert scorer.score("I love it 😍").compound > scorer.score("I love it").compound


def test_split_sentences_handles_lines_and_punctuation():
    assert split_sentences("One. Two!\nThree? four") == ["One.", "Two!", "Three? four"]


@pytest.mark.parametrize("score, label", [(-0.05, "negative"), (-0.0499, "neutral"), (0.05, "positive")])
def test_thresholds_are_vaders(score, label):
    assert label_for(score) == label


def test_score_sentiment_skips_rows_not_analyzed():
    frame = pd.DataFrame({"clean_text": ["I love it", "", "Esto es terrible"],
                          "quality_issue": ["", "empty_text", "non_english"]})
    out = score_sentiment(frame)
    assert out["sentiment_label"].tolist() == ["positive", "", ""]
    assert out["sentiment"].isna().tolist() == [False, True, True]
    assert out["churn_intent"].tolist() == [False, False, False]
