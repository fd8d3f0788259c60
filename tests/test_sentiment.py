"""Sentiment: VADER's sentence scores are kept exact; the support layer, the document score and the spaCy component."""

import math
import subprocess
import sys

import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from feedback import sentiment as fs
from feedback.clean import clean_feedback
from feedback.errors import ModelError
from feedback.sentiment import (
    SentimentScorer,
    aspect_sentiment,
    label_for,
    load_support_layer,
    score_sentiment,
    split_sentences,
)
from feedback.spacy_component import make_nlp

VADER = SentimentIntensityAnalyzer()

#: hand-written support sentences of every kind: plain, negated, shouted, emoji, courtesy, rule-matching
SENTENCES = [
    "The app is great",
    "I hate this",
    "It is a tool",
    "not bad at all",
    "GREAT!!! :)",
    "Thanks for the quick fix!",
    "Please help, my bag is lost.",
    "I have been waiting 3 weeks for my refund.",
    "It is still not working.",
    "Thanks for nothing.",
    "Great, another double charge.",
    "I want to cancel my subscription.",
    "The agent was not helpful at all.",
    "The delivery was not delayed.",
    "Nobody answers the phone.",
    "Why was I charged twice?",
    "I would like to know where my order is.",
    "This is URGENT, fix it today!!",
    "Love the new dashboard 😍",
    "Still broken 😡",
    "I will contact my lawyer.",
    "Hope you are well.",
    "The export kind of works but it is slow.",
    "Not sure this is the right place to ask.",
    "Worst. Service. Ever.",
    "The update broke everything again.",
    "Best regards, Anna",
    "ok",
    "Refund please",
    "My account was cancelled without notice.",
    "I'm done with this company.",
    "Kindly advise.",
    "Would be nice to have more report options.",
    "Export to Excel is broken.",
]


@pytest.fixture(scope="module")
def scorer():
    return SentimentScorer()


@pytest.mark.parametrize("text", SENTENCES)
def test_sentence_keeps_vaders_own_score_exactly(scorer, text):
    assert scorer.sentence(text).vader == VADER.polarity_scores(text)["compound"]


@pytest.mark.parametrize("text", ["The app is great", "I hate this", "It is a tool", "not bad at all", "GREAT!!! :)"])
def test_single_sentence_without_rules_equals_plain_vader(scorer, text):
    assert scorer.score(text).compound == VADER.polarity_scores(text)["compound"]


@pytest.mark.parametrize(
    "text, label",
    [
        ("not bad at all", "positive"),
        ("I have been waiting 3 weeks for my refund.", "negative"),
        ("It is still not working.", "negative"),
        ("Thanks for nothing.", "negative"),
        ("Great, another double charge. Just what I needed.", "negative"),
        ("Oh great, another outage. Just what I needed.", "negative"),
        ("I want to cancel my subscription.", "negative"),
        ("Please help, my bag is lost.", "negative"),
        ("I would like to know why my refund is so late?", "negative"),
        ("Why was I charged twice?", "negative"),
        ("I have been on hold for an hour.", "negative"),
        ("The support agent was super helpful, thank you!", "positive"),
        ("Love the new dashboard 😍", "positive"),
        ("Where can I download my invoices?", "neutral"),
        ("", "neutral"),
        # a wish asks for something missing: not praise, and alike whatever praise word it holds (VADER: +0.42,
        # +0.40, +0.63)
        ("Would be nice to have more report options.", "negative"),
        ("I wish the app had an export button.", "negative"),
        ("It would be great if you added a dark mode.", "negative"),
        # ... but wishing someone well, or praise by comparison, is still praise
        ("I wish you all the best!", "positive"),
        ("Great job, I wish every company was like you.", "positive"),
        ("That would be great, thanks!", "positive"),
        ("Please add a way to export to Excel.", "neutral"),  # the spreadsheet, not "to excel" (VADER: +0.65)
        ("I emailed support about my invoice.", "neutral"),  # the team, not approval (VADER: +0.40)
        ("Support never replied.", "negative"),
    ],
)
def test_labels_of_support_sentences(scorer, text, label):
    assert scorer.score(text).label == label
    assert str(scorer.score(text).compound) != "-0.0"


@pytest.mark.parametrize(
    "text, label",
    [
        ("The agent was not helpful at all.", "negative"),  # negated praise
        ("The parcel was not delayed this time.", "positive"),  # negation flips a support-lexicon word too
        ("I don't think the outage is fixed.", "negative"),
    ],
)
def test_negation(scorer, text, label):
    assert scorer.score(text).label == label


def test_negated_criticism_is_not_negative(scorer):
    doc = scorer.score("The app is not bad, honestly.")
    assert doc.compound > 0 and doc.label != "negative"


@pytest.mark.parametrize(
    "text, label",
    [
        ("The app is lovely. But billing charged me twice and nobody answers.", "negative"),
        ("It took a while and I was annoyed. However, the agent fixed everything and was wonderful.", "positive"),
        ("The layout is nice but it crashes every time I export.", "negative"),
    ],
)
def test_contrast_weighs_what_follows(scorer, text, label):
    assert scorer.score(text).label == label


def test_contrast_sentence_outweighs_the_one_before(scorer):
    plain = scorer.score("The agent was friendly. The refund never came and I lost money.").compound
    contrast = scorer.score("The agent was friendly. But the refund never came and I lost money.").compound
    assert contrast < plain


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for nothing.",
        "Yeah right, fixed.",
        "Way to go, you lost my order again.",
        "So much for 24/7 support.",
        "Thanks for wasting my afternoon.",
    ],
)
def test_sarcasm_markers_turn_praise_negative(scorer, text):
    assert VADER.polarity_scores(text)["compound"] > scorer.score(text).compound
    assert scorer.score(text).label == "negative"
    assert "sarcasm" in scorer.score(text).sentences[0].rules


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("I am going to cancel my account.", "cancel"),
        ("We are switching to a competitor next month.", "switching to a competitor"),
        ("I will never order from you again.", "never order from you"),
        ("Close my account please, I'm done with this.", "close my account"),
    ],
)
def test_churn_intent_is_flagged_with_its_phrase(scorer, text, phrase):
    doc = scorer.score(text)
    assert doc.churn_intent
    assert phrase in doc.flags["churn_intent"].lower()
    assert doc.to_dict()["churn_phrase"] == doc.flags["churn_intent"]


@pytest.mark.parametrize(
    "text",
    [
        "Can I switch to the annual plan?",
        "How do I cancel an order line on an invoice?",
        "Thanks, the switch to dark mode looks great.",
    ],
)
def test_no_churn_intent_in_ordinary_requests(scorer, text):
    assert not scorer.score(text).churn_intent


def test_escalation_and_urgency_flags(scorer):
    doc = scorer.score("I will file a complaint with the BBB. This is urgent.")
    assert {"escalation", "urgency"} <= set(doc.flags)
    assert doc.to_dict()["urgency"] is True


def test_polite_wrapping_does_not_turn_a_complaint_positive(scorer):
    text = "Hello, hope you are well. I was charged twice this month. Please fix it. Thanks in advance!"
    assert VADER.polarity_scores(text)["compound"] > 0  # plain VADER is fooled by the courtesy
    assert scorer.score(text).label == "negative"


def test_long_email_does_not_saturate(scorer):
    text = " ".join(["The invoice layout is lovely and the team is great."] * 30 + ["But my data is gone."])
    assert VADER.polarity_scores(text)["compound"] > 0.99
    assert scorer.score(text).compound < 0.9


def test_long_email_with_one_complaint_among_neutral_lines_is_negative(scorer):
    lines = [f"Row {i} of the export has the order id and the shipping address." for i in range(40)]
    text = "Hi team,\n" + "\n".join(lines) + "\nThe totals have been wrong for three weeks and nobody answers.\nRegards"
    doc = scorer.score(text)
    assert len(doc.sentences) == 43
    assert all(s.vader == 0 for s in doc.sentences[1:41])
    assert doc.label == "negative"
    assert doc.drivers[0].startswith("The totals have been wrong")


def test_drivers_are_the_sentences_that_push_the_label(scorer):
    doc = scorer.score("The dashboard is nice. My refund never arrived and nobody answers. I am furious.")
    assert doc.label == "negative"
    assert "My refund never arrived and nobody answers." in doc.drivers
    assert "The dashboard is nice." not in doc.drivers


def test_all_caps_and_emoji_keep_vader_intensity(scorer):
    assert scorer.score("This is TERRIBLE").compound < scorer.score("This is terrible").compound
    assert scorer.score("I love it 😍").compound > scorer.score("I love it").compound
    assert scorer.score("Still broken 😡").label == "negative"


def test_anger_from_shouting_exclamations_and_anger_words(scorer):
    angry = scorer.score("THIS IS UNACCEPTABLE!!! I am furious, fix it NOW.")
    calm = scorer.score("The export is a bit slow.")
    assert angry.anger >= 0.7
    assert calm.anger < 0.3
    assert scorer.score("I LOVE IT!!!").anger == 0.0  # shouting with joy is not anger


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", "🙂🙂"])
def test_empty_or_contentless_text_is_neutral_without_errors(scorer, text):
    doc = scorer.score(text)
    assert doc.label in ("neutral", "positive")
    assert not doc.flags
    if not text.strip():
        assert doc.compound == 0.0 and doc.sentences == []


def test_non_english_rows_get_no_score_after_cleaning():
    frame = pd.DataFrame(
        {
            "text": [
                "Esto es terrible, quiero cancelar mi cuenta ahora mismo por favor",
                "Le produit est arrivé cassé et personne ne répond à mes messages",
                "The product arrived broken and nobody answers my messages.",
            ]
        }
    )
    out = score_sentiment(clean_feedback(frame))
    assert out["sentiment"].isna().tolist() == [True, True, False]
    assert out["sentiment_label"].tolist() == ["", "", "negative"]
    assert out["churn_intent"].tolist() == [False, False, False]


def test_split_sentences_handles_lines_and_punctuation():
    assert split_sentences("One. Two!\nThree? four") == ["One.", "Two!", "Three?", "four"]
    # chat without capitals, abbreviations, tweets' handles and links, an emoji as the full stop
    assert split_sentences("refund still missing, approx. two weeks, e.g. since the 3rd. app crashes too") == [
        "refund still missing, approx. two weeks, e.g. since the 3rd.",
        "app crashes too",
    ]
    assert split_sentences("Bag lost. @delta where is it? https://x.co/1 See photo") == [
        "Bag lost.",
        "@delta where is it?",
        "https://x.co/1 See photo",
    ]
    assert split_sentences("Refund never came 😡 The app crashes too") == [
        "Refund never came 😡",
        "The app crashes too",
    ]
    assert split_sentences("Version 2.5 is out. Price is $9.99 now") == ["Version 2.5 is out.", "Price is $9.99 now"]
    # a link or handle alone is no sentence: it would score 0 and dilute the message's mean
    assert split_sentences("Lost my bag again! http://t.co/x1 @delta") == ["Lost my bag again! http://t.co/x1 @delta"]


@pytest.mark.parametrize(
    "score, label", [(-0.05, "negative"), (-0.0499, "neutral"), (0.2499, "neutral"), (0.25, "positive")]
)
def test_thresholds_are_the_named_constants(score, label):
    assert (fs.NEGATIVE_AT_OR_BELOW, fs.POSITIVE_AT_OR_ABOVE) == (-0.05, 0.25)
    assert label_for(score) == label


def test_vader_thresholds_are_kept_for_reference():
    assert label_for(0.1, vader=True) == "positive"
    assert label_for(0.1) == "neutral"


def test_score_sentiment_skips_rows_not_analyzed():
    frame = pd.DataFrame(
        {"clean_text": ["I love it", "", "Esto es terrible"], "quality_issue": ["", "empty_text", "non_english"]}
    )
    out = score_sentiment(frame)
    assert out["sentiment_label"].tolist() == ["positive", "", ""]
    assert out["sentiment"].isna().tolist() == [False, True, True]
    assert out["churn_intent"].tolist() == [False, False, False]


def test_score_sentiment_adds_the_extra_outputs():
    frame = pd.DataFrame({"clean_text": ["I want to cancel my subscription. This is URGENT!!", "Lovely app."]})
    out = score_sentiment(frame)
    assert out["churn_intent"].tolist() == [True, False]
    assert "cancel" in out["churn_phrase"][0].lower()
    assert out["urgency"].tolist() == [True, False]
    assert out["anger"][0] > 0 and out["anger"][1] == 0


def test_invalid_rule_file_names_the_rule(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nname = "x"\npattern = "("\nvalence = -1\n', encoding="utf-8")
    with pytest.raises(ModelError, match=r"rule 1 is invalid"):
        load_support_layer(path)
    path.write_text("[lexicon]\nslow = -9\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"lexicon entry 'slow'"):
        load_support_layer(path)


def test_lexicon_and_rules_come_from_the_data_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[lexicon]\nsluggish = -2.0\n[[rule]]\nname = "refund_asked"\npattern = "money back"\n'
        'valence = -1.5\nflag = "refund"\n',
        encoding="utf-8",
    )
    custom = SentimentScorer(rules_path=path)
    doc = custom.score("The app is sluggish and I want my money back.")
    assert doc.sentences[0].lexicon == ("sluggish",)
    assert doc.flags == {"refund": "money back"}
    assert doc.compound < VADER.polarity_scores("The app is sluggish and I want my money back.")["compound"]


# ------------------------------------------------------------------------------------------ spaCy component

TEXTS = [
    "It is still not working. I want to cancel my subscription.",
    "Thanks, the agent was brilliant!",
    "Hello. Where is my invoice? Best regards, Tom",
    "",
    "THIS IS UNACCEPTABLE!!! Nobody answers.",
]


@pytest.fixture(scope="module")
def nlp():
    return make_nlp()


def test_spacy_component_equals_score_sentiment(nlp):
    expected = score_sentiment(pd.DataFrame({"clean_text": TEXTS}))
    docs = list(nlp.pipe(TEXTS))
    assert [d._.sentiment for d in docs] == expected["sentiment"].tolist()
    assert [d._.sentiment_label for d in docs] == expected["sentiment_label"].tolist()
    assert [d._.churn_intent for d in docs] == expected["churn_intent"].tolist()
    assert [d._.anger for d in docs] == expected["anger"].tolist()
    assert [nlp(t)._.sentiment for t in TEXTS] == expected["sentiment"].tolist()


def test_spacy_sentences_carry_their_scores(nlp, scorer):
    doc = nlp("The app is lovely. It is still not working.")
    sentences = list(doc.sents)
    assert [s._.sentiment for s in sentences] == [scorer.sentence(s.text).score for s in sentences]
    assert sentences[1]._.sentiment_vader == VADER.polarity_scores("It is still not working.")["compound"]
    assert "unresolved" in sentences[1]._.sentiment_rules
    assert doc._.churn_phrase == ""
    assert doc._.sentiment == scorer.score("The app is lovely. It is still not working.").compound


def test_spacy_component_is_registered_by_name_without_importing_feedback():
    # a fresh interpreter that never imports feedback: spaCy finds the factory by its entry point
    program = (
        "import sys, spacy\n"
        "nlp = spacy.blank('en')\n"
        "nlp.add_pipe('feedback_sentiment')\n"
        "doc = nlp('I will contact my lawyer about this double charge.')\n"
        "print(doc._.escalation, doc._.sentiment < 0, 'sklearn' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "False"]  # scored, and scikit-learn was never loaded


# ------------------------------------------------------------------------------------------ aspect sentiment


class _FakeThemes:
    """A fitted theme model stand-in: tags a text by keyword (billing = 0, app = 1)."""

    def __init__(self):
        from feedback.themes import Theme

        self.themes_ = [Theme(0, "billing", ["charge"], 2), Theme(1, "app", ["app"], 2)]

    def transform(self, texts):
        tags = [[t for t, word in ((0, "charg"), (1, "app")) if word in text.lower()] for text in texts]
        return pd.DataFrame({"theme_ids": tags})


def test_aspect_sentiment_scores_the_sentences_about_each_theme():
    frame = pd.DataFrame(
        {
            "clean_text": [
                "The app is lovely. But billing charged me twice and nobody answers.",
                "I was charged twice again.",
                "The app is great and fast.",
                "Where is the export?",
            ],
            "theme_ids": [[0, 1], [0], [1], []],
        }
    )
    out = aspect_sentiment(frame, _FakeThemes()).set_index("theme_label")
    assert out.loc["billing", "aspect_sentiment"] < -0.3
    assert out.loc["app", "aspect_sentiment"] > 0.3  # the lovely app sentence, not the billing complaint
    assert out.loc["billing", "mentions"] == 2 and out.loc["app", "sentences"] == 2
    assert out.loc["billing", "negative_share"] == 1.0


def test_aspect_sentiment_of_a_theme_without_sentences_is_nan():
    frame = pd.DataFrame({"clean_text": ["I was charged twice."], "theme_ids": [[0]]})
    out = aspect_sentiment(frame, _FakeThemes()).set_index("theme_label")
    assert math.isnan(out.loc["app", "aspect_sentiment"]) and out.loc["app", "mentions"] == 0


# ------------------------------------------------------------------------------------------ support rules added later


@pytest.mark.parametrize(
    "text, rule",
    [
        ("I can't log in since the update.", "inability"),
        ("Unable to download my invoice.", "inability"),
        ("The site won't let me pay.", "inability"),
        ("My package never arrived.", "not_done"),
        ("I haven't received my refund.", "not_done"),
        ("I was told it would ship on Monday.", "unmet_expectation"),
        ("It was supposed to arrive yesterday.", "unmet_expectation"),
        ("I'd love to know why my order is late.", "request_love"),
        ("We sat on the runway for 3 hours.", "waiting"),
    ],
)
def test_problem_reports_without_opinion_words_are_negative(scorer, text, rule):
    doc = scorer.score(text)
    assert rule in doc.sentences[0].rules
    assert doc.label == "negative"
    assert doc.compound < VADER.polarity_scores(text)["compound"]


@pytest.mark.parametrize(
    "text",
    [
        "I couldn't be happier with the new plan.",
        "I can't wait for the next release!",
        "Can't thank you enough for the quick fix.",
        "No complaints, it just works.",
    ],
)
def test_praise_worded_with_a_negation_is_positive(scorer, text):
    doc = scorer.score(text)
    assert "praise_idiom" in doc.sentences[0].rules
    assert "inability" not in doc.sentences[0].rules
    assert doc.label == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, my parcel is three weeks late and nobody answers.",
        "Thank you for the update but my refund is still missing.",
    ],
)
def test_thanks_around_a_complaint_is_politeness(scorer, text):
    doc = scorer.score(text)
    assert "thanks_in_complaint" in doc.sentences[0].rules
    assert doc.label == "negative"


@pytest.mark.parametrize(
    "text, label",
    [("Thanks, the agent fixed it in minutes!", "positive"), ("Thank you so much for the refund.", "neutral")],
)  # refund: -0.8 lexicon
def test_thanks_for_a_solution_is_not_read_as_a_complaint(scorer, text, label):
    doc = scorer.score(text)
    assert not {"thanks_in_complaint", "sarcasm"} & set(doc.sentences[0].rules)
    assert doc.compound > 0 and doc.label == label


def test_positive_words_in_a_question_weigh_less(scorer):
    question = scorer.sentence("Can you help me find a good seat on the next flight?")
    statement = scorer.sentence("You helped me find a good seat on the next flight.")
    assert 0 < question.score <= fs.QUESTION_POSITIVE_FACTOR * max(question.vader, 0) + 1e-9
    assert statement.score == statement.vader
    assert scorer.sentence("Why is it broken again?").score < 0  # negative questions keep their score


@pytest.mark.parametrize(
    "text", ["login does not work", "The export still times out", "The app keeps crashing", "The sync is not loading"]
)
def test_a_feature_that_fails_is_negative_even_without_emotion_words(text):
    assert score_sentiment(pd.DataFrame({"clean_text": [text]}))["sentiment_label"].iloc[0] == "negative"


def test_aspect_sentiment_counts_the_whole_row_when_no_sentence_names_the_theme_alone():
    # the row is tagged "billing" as a whole, but no sentence mentions a charge: all its sentences count
    frame = pd.DataFrame({"clean_text": ["Billing charged me twice. Terrible, nobody answers."], "theme_ids": [[0]]})
    themes = _FakeThemes()
    out = aspect_sentiment(frame, themes).set_index("theme_label")
    assert out.loc["billing", "sentences"] == 1  # the sentence that names the charge
    frame = pd.DataFrame({"clean_text": ["Terrible. Nobody answers my emails."], "theme_ids": [[0]]})
    out = aspect_sentiment(frame, themes).set_index("theme_label")
    assert out.loc["billing", "sentences"] == 2 and out.loc["billing", "aspect_sentiment"] < 0


class _ConstantScorer:
    """A calibrated scorer stand-in: every text scores 0.9 (its own scale, unlike the default's sentences)."""

    def score_many(self, texts):
        from feedback.sentiment import DocumentScore

        self.seen = list(texts)
        return [DocumentScore(0.9, "positive") for _ in self.seen]


def test_theme_sentiment_values_keep_the_scorers_scale():
    from feedback.sentiment import theme_sentiment_values

    texts = [
        "The app is lovely. But billing charged me twice.",  # each theme has its own sentence
        "The app charged me twice.",  # one sentence, two themes: the row's score
        "Billing charged me twice. Nobody answers.",
    ]  # one theme: the row's score
    tags, scores = [[0, 1], [0, 1], [0]], [-0.2, -0.5, -0.7]
    scorer = _ConstantScorer()
    values = theme_sentiment_values(texts, tags, scores, _FakeThemes(), scorer)
    assert values == [[0.9, 0.9], [-0.5, -0.5], [-0.7]]
    assert scorer.seen == ["But billing charged me twice.", "The app is lovely."]
    default = theme_sentiment_values(texts, tags, scores, _FakeThemes())
    assert default[0][0] < -0.3 < 0.3 < default[0][1] and default[1:] == [[-0.5, -0.5], [-0.7]]
    assert all(math.isnan(v) for v in theme_sentiment_values(texts[:1], tags[:1], [float("nan")], _FakeThemes())[0])


def test_score_messages_pairs_each_theme_id_with_its_own_label_even_with_a_separator_in_it():
    from feedback.scoring import score_message
    from feedback.themes import Theme

    class Themes(_FakeThemes):
        def __init__(self):
            self.themes_ = [Theme(0, "billing; charges", ["charge"], 2), Theme(1, "app", ["app"], 2)]

        def transform(self, texts):
            out = super().transform(texts)
            out["themes"] = ["; ".join(self.themes_[t].label for t in tags) for tags in out["theme_ids"]]
            return out

    result = score_message("The app is lovely. But billing charged me twice.", theme_model=Themes())
    assert result["theme_ids"] == [0, 1] and result["themes"] == ["billing; charges", "app"]
    assert [(t["theme_id"], t["theme"]) for t in result["theme_sentiment"]] == [(0, "billing; charges"), (1, "app")]
    assert result["theme_sentiment"][0]["label"] == "negative" and result["theme_sentiment"][1]["label"] == "positive"


def test_a_wish_scores_alike_whichever_praise_word_it_holds(scorer):
    """The wish rule takes the matched praise words off ('cancels'), so "nice" (+1.8) and "great" (+3.1) give
    one score (to VADER's 4-decimal rounding), slightly negative: an unmet need."""
    scores = {
        round(scorer.score(t).compound, 3)
        for t in (
            "It would be nice to get a reply.",
            "It would be great to get a reply.",
            "It would be awesome to get a reply.",
            "Could be better.",
            "I wish it worked.",
        )
    }
    assert len(scores) == 1 and -0.3 < scores.pop() < -0.05


# ------------------------------------------------------------------------------------------ speed and effort


@pytest.mark.parametrize(
    "text, label, rules",
    [
        # VADER: -0.103 ("pay" -0.4; "simple" and "faster" have no valence)
        ("Ledgerly made invoicing so simple, my clients pay faster now.", "positive", ["outcome_praise"]),
        # VADER: 0.0 for both sentences
        (
            "Searching for a client takes 56 seconds. It used to be instant.",
            "negative",
            ["slowness_report", "speed_regression"],
        ),
    ],
)
def test_the_sentences_a_user_meets_on_the_first_page(scorer, text, label, rules):
    doc = scorer.score(text)
    assert doc.label == label
    assert [r for s in doc.sentences for r in s.rules] == rules


@pytest.mark.parametrize(
    "text",
    [
        "My clients pay faster now.",
        "The dashboard loads much quicker now.",
        "It saves me hours every week.",
        "The new export saved our team so much time.",
        "It cut our close time in half.",
        "I get reports done in half the time.",
        "Exporting now takes seconds.",
        "It runs faster than before.",
    ],
)
def test_praise_of_an_outcome_is_positive(scorer, text):
    doc = scorer.score(text)
    assert "outcome_praise" in doc.sentences[0].rules
    assert doc.label == "positive"


@pytest.mark.parametrize(
    "text", ["My clients pay faster now.", "My pages load faster now.", "My reports run faster now."]
)
def test_outcome_praise_weighs_the_same_whatever_the_verb(scorer, text):
    """'cancels' takes off the verb's own valence ("pay" is -0.4 in VADER, "load" and "run" 0); equal to VADER's
    4-decimal rounding, which the support layer inverts."""
    assert scorer.score(text).compound == pytest.approx(scorer.score("My invoices sync faster now.").compound, abs=1e-3)
    assert scorer.score(text).label == "positive"


@pytest.mark.parametrize(
    "text, rule",
    [
        ("Searching for a client takes 56 seconds.", "slowness_report"),
        ("The report took over 10 minutes to load.", "slowness_report"),
        ("Saving an invoice is taking 2 hours.", "slowness_report"),
        ("It takes forever to log in.", "slowness_report"),
        ("Exports took ages today.", "slowness_report"),
        ("It used to be instant.", "speed_regression"),
        ("Pages used to load in seconds.", "speed_regression"),
        ("The app has gotten slower since the update.", "speed_regression"),
        ("Search is slower than before.", "speed_regression"),
        ("Loading is not as fast as it used to be.", "speed_regression"),
    ],
)
def test_a_slowness_report_is_negative_without_a_slow_word(scorer, text, rule):
    doc = scorer.score(text)
    assert VADER.polarity_scores(text)["compound"] > -0.05  # VADER: neutral
    assert rule in doc.sentences[0].rules
    assert doc.label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        # a wish, a request or a negated outcome is not praise
        "I want my clients to pay faster.",
        "It should load faster.",
        "It doesn't save any time.",
        "Can you make it simpler to export?",
        # a competitor held up as better is not praise of ours
        "Other banks pay faster than you.",
    ],
)
def test_wishes_and_comparisons_with_others_are_not_outcome_praise(scorer, text):
    doc = scorer.score(text)
    assert "outcome_praise" not in doc.sentences[0].rules
    assert doc.compound == VADER.polarity_scores(text)["compound"] or doc.sentences[0].rules


@pytest.mark.parametrize(
    "text",
    [
        # an expected lead time, not a complaint (days are left to the waiting rule)
        "Delivery takes 2 days, as promised.",
        # a short duration is praise, a one-off setup in minutes is quick, and a trip takes what it takes
        "It only takes 5 minutes.",
        "It took less than a minute.",
        "Setup took 10 minutes.",
        "It takes 5 minutes to set up.",
        "It takes 3 hours to get there.",
        "Exporting now takes 5 minutes instead of an hour.",
        # the other direction: it got faster
        "It used to be slow, now it's instant.",
        "It isn't slower than before.",
    ],
)
def test_durations_that_are_not_complaints_stay_non_negative(scorer, text):
    doc = scorer.score(text)
    assert not {"slowness_report", "speed_regression"} & set(doc.sentences[0].rules)
    assert doc.label != "negative"
