"""E-mail cleaning on mailing-list mail: footers, attributions, quotes and signatures go; the sender's words stay."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedback.clean import clean_feedback, split_message
from feedback.ingest import load_feedback, strip_recurring_blocks
from feedback.scoring import score_message

FIXTURES = Path(__file__).parent / "fixtures"
EMAIL_CASES = json.loads((FIXTURES / "emails" / "cases.json").read_text(encoding="utf-8"))

CUSTOMER_WORDS = (
    "The new reconciliation screen is much faster, thank you. But the currency column is empty for EUR accounts."
)
#: a bottom-posted list reply: the attribution heads the message, the signature is long, the list's footer ends it
LIST_REPLY = (
    "From: Ruth Ellison <ruth@ellison.example>\nTo: ledgerly-users@lists.ledgerly.example\nSubject: Re: Version 5.1\n"
    "Date: Tue, 4 Aug 2026 09:00:00 +0000\nMessage-ID: <r1@ellison.example>\nContent-Type: text/plain; "
    "charset=utf-8\n\n"
    "On Mon, 3 Aug 2026 at 10:15, Ledgerly Team <team@ledgerly.example> wrote:\n"
    "> Version 5.1 is out, with a faster reconciliation screen.\n> Tell us what you think!\n\n"
    f"{CUSTOMER_WORDS}\n\n"
    "-- \nRuth Ellison\nBookkeeper, Ellison & Daughters\n12 Mill Lane, Leeds\nNever miss a filing deadline again:\n"
    "no fines, no stress, no panic\n\n"
    "_______________________________________________\nLedgerly-users mailing list\n"
    "Ledgerly-users@lists.ledgerly.example\nhttps://lists.ledgerly.example/mailman/listinfo/ledgerly-users\n"
)


@pytest.mark.parametrize("category", ["attribution", "quotes", "signature", "list footer", "over-removal guard"])
def test_every_case_the_issue_names_has_labelled_fixtures(category):
    assert sum(case["category"] == category for case in EMAIL_CASES) >= 5


def test_list_messages_sharing_a_footer_clean_to_the_senders_words():
    expected = json.loads((FIXTURES / "mailing_list" / "list_footer.expected.json").read_text(encoding="utf-8"))
    frame, _ = load_feedback(FIXTURES / "mailing_list" / "list_footer.mbox")
    cleaned = clean_feedback(frame).set_index("feedback_id")
    assert cleaned["clean_text"].to_dict() == expected
    assert "Ledgerly Community" not in " ".join(frame["text"])


@pytest.mark.parametrize(
    "senders, texts",
    [
        # one sender resending the same complaint: the same last lines, but no list's footer
        (["a@x.example"] * 4, ["Hello.\nStill no refund.\nPlease call me."] * 4),
        # a last line a few senders share, in fewer than half of the messages
        (
            ["a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example", "f@x.example", "g@x.example"],
            [
                "It crashes.\nAny ideas?",
                "Export is slow.\nAny ideas?",
                "Login fails.\nAny ideas?",
                "Love it.",
                "Great.",
                "Fine.",
                "Slow.",
            ],
        ),
        # a block that is the whole message is the message
        (["a@x.example", "b@x.example", "c@x.example"], ["Refund please.\nOrder 1042."] * 3),
    ],
)
def test_recurring_block_pass_leaves_customers_words(senders, texts):
    assert strip_recurring_blocks(texts, senders) == texts


def test_recurring_block_is_cut_when_links_in_it_differ():
    texts = [f"Message {n}.\n\nLedgerly Community\nReply on the web: https://c.example/t/{n}" for n in range(3)]
    assert strip_recurring_blocks(texts, ["a@x.example", "b@x.example", "c@x.example"]) == [
        "Message 0.",
        "Message 1.",
        "Message 2.",
    ]


def test_signature_far_from_the_end_is_cut_the_same_as_a_short_one():
    short, _ = split_message("The bank feed is broken.\n-- \nJane")
    long, removed = split_message("The bank feed is broken.\n-- \n" + "\n".join(f"Line {n}" for n in range(12)))
    assert short == long == "The bank feed is broken."
    assert "Line 11" in removed


def test_score_reads_only_the_customers_words_of_a_list_reply(tmp_path):
    path = tmp_path / "reply.eml"
    path.write_text(LIST_REPLY, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", "feedback", "score", str(path), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["redacted_text"] == CUSTOMER_WORDS
    assert [s["text"] for s in result["sentences"]] == [s["text"] for s in score_message(CUSTOMER_WORDS)["sentences"]]
    assert result["compound"] == score_message(CUSTOMER_WORDS)["compound"]
