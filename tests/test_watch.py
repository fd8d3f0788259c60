"""`feedback watch` and `feedback digest` on the sample data split into weeks, with a real webhook receiver and a
real SMTP server on loopback, each started here and stopped afterwards."""

import json
import shutil
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from test_report import parse  # the small DOM the report tests use

PAYLOAD_KEYS = {"kind", "theme_id", "theme_label", "kpi", "period", "value", "baseline", "p_value"}


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory, run_feedback, sample_weeks):
    """Two workspaces: weeks 1-8 of the sample added, and then weeks 9-10 (the export bug emerges in week 9)."""
    base = tmp_path_factory.mktemp("watch")
    eight = base / "weeks-1-8.sqlite"
    done = run_feedback("add", sample_weeks(base / "w01-08", 1, 8), "--db", eight)
    assert done.returncode == 0, done.stderr
    ten = base / "weeks-1-10.sqlite"
    shutil.copy(eight, ten)
    done = run_feedback("add", sample_weeks(base / "w09-10", 9, 10), "--db", ten)
    assert done.returncode == 0, done.stderr
    return {8: eight, 10: ten}


def _copy(workspaces, weeks: int, tmp_path: Path) -> Path:
    db = tmp_path / f"weeks-{weeks}.sqlite"
    shutil.copy(workspaces[weeks], db)
    return db


class Receiver:
    """A webhook receiver on a loopback port: keeps every POST body it gets."""

    def __init__(self, port: int = 0) -> None:
        posts = self.posts = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                posts.append(
                    (self.path, self.headers.get("Content-Type"), self.rfile.read(int(self.headers["Content-Length"])))
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_the_emerging_export_bug_is_posted_once_when_it_appears_and_not_before(workspaces, tmp_path, run_feedback):
    before = run_feedback("watch", "--db", _copy(workspaces, 8, tmp_path), "--json")
    assert before.returncode == 0, before.stderr
    found = json.loads(before.stdout)
    assert found["period"] == "2026-W35"  # week 8 of the sample: the data's last week, long over
    assert not [a for a in found["alerts"] if "export" in (a["theme_label"] or "")]

    db = _copy(workspaces, 10, tmp_path)
    with Receiver() as receiver:
        first = run_feedback("watch", "--db", db, "--notify", receiver.url)
        second = run_feedback("watch", "--db", db, "--notify", receiver.url)
    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    assert len(receiver.posts) == 1, "the second watch of the same period sent again"
    path, content_type, body = receiver.posts[0]
    assert path == "/hook" and content_type.startswith("application/json")
    posted = json.loads(body)
    assert set(posted) == {"text", "alerts"} and "2026-W37" in posted["text"]
    assert all(set(alert) == PAYLOAD_KEYS for alert in posted["alerts"])
    export = [a for a in posted["alerts"] if "export" in (a["theme_label"] or "")]
    assert export and export[0]["kind"] in ("new_theme", "spike") and export[0]["period"] == "2026-W37"
    assert export[0]["value"] > 5 * export[0]["baseline"] and export[0]["p_value"] < 1e-6
    assert {a["period"] for a in posted["alerts"]} == {"2026-W37"}
    assert "export" in posted["text"]
    assert "nothing new to send" in second.stderr
    print("webhook body:", body.decode())


def test_a_failed_delivery_exits_1_keeps_the_alerts_pending_and_the_next_watch_sends_them(
    workspaces, tmp_path, run_feedback, free_port
):
    db = _copy(workspaces, 10, tmp_path)
    port = free_port()  # nothing listens there yet
    url = f"http://127.0.0.1:{port}/hook"
    failed = run_feedback("watch", "--db", db, "--notify", url)
    assert failed.returncode == 1
    assert "delivery failed after 3 tries" in failed.stderr and "stay pending" in failed.stderr
    with Receiver(port) as receiver:
        retried = run_feedback("watch", "--db", db, "--notify", url)
    assert retried.returncode == 0, retried.stderr
    assert len(receiver.posts) == 1 and json.loads(receiver.posts[0][2])["alerts"]
    import sqlite3

    with sqlite3.connect(db) as con:
        attempts = con.execute("SELECT alerts, error IS NULL FROM delivery_attempts ORDER BY attempt_id").fetchall()
        targets = {
            row[0] for row in con.execute("SELECT target FROM deliveries UNION SELECT target FROM delivery_attempts")
        }
    assert [ok for _, ok in attempts] == [0, 1] and attempts[0][0] == attempts[1][0] > 0
    # a webhook URL is a secret: the workspace keeps a hash, the output shows the host only
    assert len(targets) == 1 and "/hook" not in targets.pop() and "/hook" not in failed.stderr + retried.stderr


def test_the_alert_email_is_a_multipart_digest_sent_to_a_real_smtp_server(
    workspaces, tmp_path, run_feedback, free_port
):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            received.append(envelope)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        db = _copy(workspaces, 10, tmp_path)
        sent = run_feedback(
            "watch",
            "--db",
            db,
            "--notify",
            f"smtp://127.0.0.1:{controller.port}",
            "--mail-to",
            "lead@example.com",
            "--report-url",
            "https://reports.example.com/weekly.html",
        )
        again = run_feedback(
            "watch", "--db", db, "--notify", f"smtp://127.0.0.1:{controller.port}", "--mail-to", "lead@example.com"
        )
        other = run_feedback(
            "watch", "--db", db, "--notify", f"smtp://127.0.0.1:{controller.port}", "--mail-to", "cto@example.com"
        )
    finally:
        controller.stop()
    assert sent.returncode == again.returncode == other.returncode == 0, (sent.stderr, again.stderr, other.stderr)
    assert len(received) == 2 and received[0].rcpt_tos == ["lead@example.com"]
    assert received[1].rcpt_tos == ["cto@example.com"]  # a new recipient has received nothing yet
    message = message_from_bytes(received[0].content, policy=default_policy)
    assert message["To"] == "lead@example.com" and "2026-W37" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "WHAT HURTS MOST" in plain and "export" in plain and "https://reports.example.com/weekly.html" in plain
    page = parse(html)
    assert len(list(page.find("section", id="painpoints").find_all("li", cls="painpoint"))) == 3
    kinds = [li.attrs["data-kind"] for li in page.find("section", id="alerts").find_all("li", cls="alert")]
    assert kinds and set(kinds) <= {"spike", "new_theme", "churn_risk"}
    print("alert e-mail as received:\n" + received[0].content.decode("utf-8", "replace"))


def test_digest_writes_markdown_text_and_html_from_the_workspace(workspaces, tmp_path, run_feedback):
    db = _copy(workspaces, 10, tmp_path)
    for name in ("digest.md", "digest.txt", "digest.html"):
        done = run_feedback("digest", "--db", db, "--out", tmp_path / name)
        assert done.returncode == 0, done.stderr
    markdown = (tmp_path / "digest.md").read_text()
    assert markdown.startswith("# ") and "## What hurts most" in markdown and "## KPI moves in 2026-W37" in markdown
    assert markdown.count("\n1. **") == 1 and "\n3. **" in markdown
    assert "Full report: `feedback report --db" in markdown
    assert "WHAT HURTS MOST" in (tmp_path / "digest.txt").read_text()
    page = parse((tmp_path / "digest.html").read_text())
    rows = list(page.find("section", id="kpis").find("tbody").find_all("tr"))
    assert rows and all(row.attrs["data-kpi"] for row in rows)
    refused = run_feedback("digest", "--db", db, "--out", tmp_path / "digest.pdf")
    assert refused.returncode != 0 and ".md, .txt or .html" in refused.stderr


def test_quotes_in_the_digest_are_escaped_in_html_and_markdown():
    from feedback.digest import Digest, render_digest
    from feedback.alerts import Alert

    hostile = "<script>alert(1)</script> [click](http://evil.example) **now**"
    digest = Digest(
        title="Weekly <b>feedback</b>",
        period="2026-W37",
        painpoints=[
            {
                "rank": 1,
                "label": "export <i>broken</i>",
                "affected_customers": 120,
                "churn_lift": 1.5,
                "churn_lift_ci": [1.1, 2.0],
                "revenue_at_risk": 900.0,
                "quote": hostile,
            }
        ],
        alerts=[
            Alert(
                "spike",
                "2026-W37",
                3,
                "export",
                "mentions",
                43.0,
                5.1,
                1e-9,
                'A "spike": <img src=x onerror=alert(1)>',
                hostile,
            )
        ],
        report_hint="feedback report --db ws.sqlite",
    )
    html = render_digest(digest, "html")
    assert "<script>" not in html and "<img" not in html and "<i>broken" not in html and "<b>feedback" not in html
    page = parse(html)
    assert page.find("blockquote").text == hostile  # shown as the customer wrote it, as text
    markdown = render_digest(digest, "md")
    assert "[click](http" not in markdown and "**now**" not in markdown
    assert "\\[click\\](http://evil.example)" in markdown and "\\*\\*now\\*\\*" in markdown


def test_watch_refuses_a_target_it_cannot_send_to_before_any_work(workspaces, tmp_path, run_feedback):
    db = _copy(workspaces, 8, tmp_path)
    for target, fix in (
        ("ftp://example.com/x", "http(s)://"),
        ("smtp://127.0.0.1:2525", "--mail-to"),
        ("smtp://127.0.0.1", "smtp://HOST:PORT"),
        ("http://127.0.0.1:port/hook", "HOST[:PORT]"),
        ("https:///hook", "HOST[:PORT]"),
    ):
        done = run_feedback("watch", "--db", db, "--notify", target)
        assert done.returncode != 0 and fix in done.stderr and "Traceback" not in done.stderr
    for arguments, fix in (
        (["--notify", "smtp://127.0.0.1:2525", "--mail-to", "not an address"], "name@example.com"),
        (["--mail-to", "lead@example.com"], "--notify smtp://HOST:PORT"),
    ):
        done = run_feedback("watch", "--db", db, *arguments)
        assert done.returncode == 2 and fix in done.stderr
