"""Tests for `feedback score`: plain text, standard input, .eml and .mbox, human and JSON output, exit codes.

They run feedback.cli.main in this process: importing the package in a subprocess costs 6-25 s on a busy
2-core machine, and tests/test_cli.py already runs `feedback score - --json` through the installed entry point
(tests/test_service.py runs `python -m feedback serve`).
"""

import io
import json
import sys

import pytest

from feedback.cli import main
from feedback.scoring import score_message

COMPLAINT = "I have been waiting 3 weeks for my refund. I want to cancel my account."

EML = (
    b"From: Jane Doe <jane.doe@example.com>\r\nTo: support@example.com\r\nSubject: URGENT: charged twice\r\n"
    b"Date: Tue, 03 Mar 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.com>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi team,\r\nI was charged twice this month and nobody replies. "
    b"Call me on +44 20 7946 0958.\r\n\r\n-- \r\nJane\r\n"
)


def _mbox_message(n: int, subject: str, body: str) -> str:
    return (
        f"From sender{n}@example.com Tue Mar  3 10:00:0{n} 2026\nFrom: sender{n}@example.com\n"
        f"Subject: {subject}\nMessage-ID: <m{n}@example.com>\n\n{body}\n\n"
    )


MBOX = (
    _mbox_message(1, "Love it", "The new dashboard is great, thank you!")
    + _mbox_message(2, "Refund", COMPLAINT)
    + _mbox_message(3, "Question", "How do I export invoices to CSV?")
)


def run(argv, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_text_file_prints_label_flags_and_drivers(tmp_path, capsys):
    path = tmp_path / "mail.txt"
    path.write_text(COMPLAINT, encoding="utf-8")
    code, out, _ = run(["score", str(path)], capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("negative (-") and "flags: churn_intent" in lines[0]
    assert "  > I want to cancel my account." in lines


@pytest.mark.parametrize("argv", [["score"], ["score", "-"]])
def test_stdin_json_is_the_library_result(argv, capsys, monkeypatch):
    code, out, _ = run(argv + ["--json"], capsys, stdin=COMPLAINT, monkeypatch=monkeypatch)
    assert code == 0
    assert json.loads(out) == score_message(COMPLAINT)


def test_eml_uses_body_and_subject_and_redacts(tmp_path, capsys):
    path = tmp_path / "mail.eml"
    path.write_bytes(EML)
    code, out, _ = run(["score", str(path), "--json"], capsys)
    result = json.loads(out)
    assert code == 0
    assert result["subject"] == "URGENT: charged twice" and result["urgency"] is True
    assert result["label"] == "negative"
    assert "[PHONE]" in result["redacted_text"] and "7946" not in out and "jane.doe" not in out
    assert "Jane" not in result["redacted_text"]  # the signature is cut


def test_mbox_prints_one_line_per_message(tmp_path, capsys):
    path = tmp_path / "inbox.mbox"
    path.write_text(MBOX, encoding="utf-8")
    code, out, _ = run(["score", str(path)], capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].split()[:2] == ["1", "positive"] and lines[0].endswith("| Love it")
    assert lines[1].split()[:2] == ["2", "negative"] and "churn_intent" in lines[1] and lines[1].endswith("| Refund")
    assert lines[2].split()[0] == "3"


def test_mbox_json_is_one_object_per_line(tmp_path, capsys):
    path = tmp_path / "inbox.mbox"
    path.write_text(MBOX, encoding="utf-8")
    code, out, _ = run(["score", str(path), "--json"], capsys)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["subject"] for r in results] == ["Love it", "Refund", "Question"]
    assert results[1] == score_message(COMPLAINT, "Refund")


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.txt", None, "file not found"),
        ("empty.mbox", "", "no messages found"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(["score", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("feedback: error:") and message in err and name in err and "Fix:" in err


def test_scoring_without_a_theme_model_loads_no_theme_machinery(tmp_path):
    # the agent's instant score: scikit-learn, spaCy and the embeddings cost seconds at every start
    import subprocess

    message = tmp_path / "message.txt"
    message.write_text(COMPLAINT, encoding="utf-8")
    program = (
        "import sys\nfrom feedback.cli import main\ncode = main(['score', sys.argv[1], '--json'])\n"
        "print(code, *sorted(m for m in ('sklearn', 'spacy', 'feedback.themes', 'feedback.embeddings')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", program, str(message)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0"
