"""Tests for feedback.service over real HTTP on loopback: `python -m feedback serve` runs in a subprocess on a
free port; requests go through urllib / http.client; the agent page runs in headless Chromium.

Two servers start once for the module, in parallel: an open one and one whose token comes from FEEDBACK_TOKEN.
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import feedback
from feedback.cli import main
from feedback.errors import ConfigError
from feedback.scoring import score_message
from feedback.service import MAX_BATCH_ITEMS, MAX_BODY_BYTES, resolve_token

TOKEN = "test-token-5f1c-0a9e"
SECRET_PHRASE = "zanzibar-quokka"  # appears in scored text; must never appear in the server's log
COMPLAINT = (
    "I have been waiting 3 weeks for my refund and nobody answers. "
    "Call me on +44 20 7946 0958. If this is not fixed by Friday I will cancel my account."
)
STARTUP_SECONDS = 90  # importing the package takes several seconds on a busy 2-core machine


class Server:
    def __init__(self, port: int, token: str | None = None, themes: Path | None = None):
        self.port = port
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="feedback-serve-", suffix=".log", delete=False)
        env = {k: v for k, v in os.environ.items() if k != "FEEDBACK_TOKEN"}
        if token:
            env["FEEDBACK_TOKEN"] = token
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedback", "serve", "--port", str(self.port)]
            + (["--themes", str(themes)] if themes else []),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                status, _, _ = request(self, "GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"server not ready after {STARTUP_SECONDS}s:\n{self.log_text()}")

    def log_text(self) -> str:
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def request(server: Server, method: str, path: str, body=None, headers: dict | None = None, auth: bool = True):
    """(status, headers, parsed JSON or text) of one request."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    all_headers = {**(server.headers if auth else {}), **(headers or {})}
    if isinstance(body, (dict, list)):
        all_headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(server.base + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, got_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        status, got_headers, raw = err.code, err.headers, err.read()
    kind = got_headers.get("Content-Type", "")
    return status, got_headers, json.loads(raw) if "json" in kind else raw.decode("utf-8", errors="replace")


class ThreadServer:
    """The same app without a token, run by uvicorn in a thread of this process (no second package import)."""

    def __init__(self, port: int):
        import threading

        import uvicorn

        from feedback.service import create_app

        self.port = port
        self.base = f"http://127.0.0.1:{self.port}"
        self.headers = {}
        config = uvicorn.Config(create_app(), host="127.0.0.1", port=self.port, access_log=False, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "in-process server did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


#: two topics for the theme model the token server tags with
REFUND = [
    "my refund was not received",
    "still waiting for my refund",
    "refund not received after two weeks",
    "where is my refund",
    "I never received the refund you promised",
    "the refund has not arrived yet",
]
CRASH = [
    "the mobile app crashes when I scan a receipt",
    "app crashes on startup",
    "the app keeps crashing on android",
    "mobile app crashed again while scanning",
    "crashes every time I open the app",
    "the app crashes on my iphone",
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory, free_port):
    """`python -m feedback serve --themes DIR` with FEEDBACK_TOKEN (the CLI path, token mode on loopback) in a
    subprocess, and the open app (no themes) in a thread; both over real HTTP on 127.0.0.1."""
    from feedback import ThemeModel

    themes = tmp_path_factory.mktemp("service") / "themes"
    ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=1).fit((REFUND + CRASH) * 3).save(themes)
    started = {"token": Server(free_port(), token=TOKEN, themes=themes)}
    try:
        started["open"] = ThreadServer(free_port())
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def server(servers):
    return servers["open"]


# ------------------------------------------------------------------------------------------ scoring


def test_score_json_returns_the_library_result(server):
    status, _, result = request(server, "POST", "/v1/score", {"text": COMPLAINT, "subject": "URGENT: refund"})
    assert status == 200
    assert result["label"] == "negative" and result["compound"] < 0
    assert result["churn_intent"] is True and result["urgency"] is True
    assert "[PHONE]" in result["redacted_text"] and "7946" not in json.dumps(result)
    assert [s["text"] for s in result["sentences"]] and all(-1 <= s["score"] <= 1 for s in result["sentences"])
    expected = score_message(COMPLAINT, "URGENT: refund")
    assert result == expected


def test_score_matches_the_batch_pipeline(server):
    import pandas as pd

    from feedback.clean import clean_feedback
    from feedback.sentiment import score_sentiment

    frame = score_sentiment(clean_feedback(pd.DataFrame({"text": [COMPLAINT]})))
    _, _, result = request(server, "POST", "/v1/score", {"text": COMPLAINT})
    assert result["compound"] == pytest.approx(frame["sentiment"].iloc[0], abs=1e-4)
    assert result["label"] == frame["sentiment_label"].iloc[0]
    assert result["churn_intent"] == bool(frame["churn_intent"].iloc[0])


@pytest.mark.parametrize("content_type", ["message/rfc822", "text/plain; charset=utf-8"])
def test_score_raw_rfc822_message(server, content_type):
    raw = (
        b"From: Jane <jane@example.com>\r\nTo: support@example.com\r\nSubject: Charged twice, I will cancel\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi,\r\nI was charged twice this month and nobody replies.\r\n"
        b"\r\nOn Mon, 3 Mar 2026 at 10:00, Support <support@example.com> wrote:\r\n> Thanks for your patience!\r\n"
    )
    status, _, result = request(server, "POST", "/v1/score", raw, {"Content-Type": content_type})
    assert status == 200
    assert result["subject"] == "Charged twice, I will cancel"
    assert result["label"] == "negative"
    assert "patience" not in result["redacted_text"]  # the quoted reply is cut, as in the pipeline
    assert "jane@example.com" not in json.dumps(result)


def test_text_plain_without_headers_is_the_text_itself(server):
    status, _, result = request(
        server, "POST", "/v1/score", "Note: the export is broken again.".encode(), {"Content-Type": "text/plain"}
    )
    assert status == 200 and result["redacted_text"] == "Note: the export is broken again." and result["subject"] == ""


def test_batch_scores_every_item_in_order(server):
    items = [{"text": "I love the new dashboard, great work!"}, {"text": COMPLAINT, "subject": "cancel"}, {"text": ""}]
    status, _, body = request(server, "POST", "/v1/score/batch", {"items": items})
    assert status == 200
    labels = [r["label"] for r in body["results"]]
    assert labels == ["positive", "negative", "neutral"]
    assert body["results"][2]["quality_issue"] == "empty_text"
    assert body["results"][1] == score_message(COMPLAINT, "cancel")


def test_version_and_health(server):
    assert request(server, "GET", "/healthz")[2] == {"status": "ok"}
    status, _, version = request(server, "GET", "/v1/version")
    assert status == 200 and version["feedback"] == feedback.__version__ and version["api"] == "v1"
    assert version["limits"] == {"max_body_bytes": MAX_BODY_BYTES, "max_batch_items": MAX_BATCH_ITEMS}


def test_docs_and_openapi_are_served_offline(server):
    status, headers, page = request(server, "GET", "/docs")
    assert status == 200 and "swagger-ui" in page
    assert "http://" not in page and "https://" not in page
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/docs/init.js"):
        assert request(server, "GET", asset)[0] == 200, asset
    status, _, schema = request(server, "GET", "/openapi.json")
    assert {"/v1/score", "/v1/score/batch", "/healthz", "/v1/version"} <= set(schema["paths"])
    assert schema["openapi"].startswith("3.0.")  # what the bundled Swagger UI 4 renders
    assert {"Message", "Batch", "Score"} <= set(schema["components"]["schemas"])


def test_page_has_csp_and_no_external_urls(server):
    status, headers, page = request(server, "GET", "/")
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp and "connect-src 'self'" in csp
    assert "http://" not in page and "https://" not in page and "innerHTML" not in page


# ------------------------------------------------------------------------------------------ limits and errors


def test_body_over_limit_is_refused_from_content_length_before_reading(server):
    # Headers only: the server must answer 413 without waiting for the (never sent) body.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/v1/score")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    assert "larger than" in json.loads(response.read())["detail"]
    conn.close()


def test_body_over_limit_is_refused_when_streamed_without_length(server):
    chunk = b"a" * 65536

    def body():
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/v1/score", body=body(), headers={"Content-Type": "text/plain"}, encode_chunked=True)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close before the client finishes sending; the response is still there
    response = conn.getresponse()
    assert response.status == 413
    conn.close()


def test_body_just_under_limit_is_accepted(server):
    text = ("The invoice export is slow. " * 40_000)[: MAX_BODY_BYTES - 100]
    status, _, result = request(server, "POST", "/v1/score", text.encode(), {"Content-Type": "text/plain"})
    assert status == 200 and result["quality_issue"] == "truncated"


def test_batch_over_limit_is_refused_with_a_message(server):
    status, _, body = request(server, "POST", "/v1/score/batch", {"items": [{"text": "ok"}] * (MAX_BATCH_ITEMS + 1)})
    assert status == 413 and str(MAX_BATCH_ITEMS) in body["detail"] and "split" in body["detail"]


@pytest.mark.parametrize(
    "path,body,needle",
    [
        ("/v1/score", b"{not json", "not valid JSON"),
        ("/v1/score", {"subject": "no text"}, "text: Field required"),
        ("/v1/score", {"text": 42}, "text: Input should be a valid string"),
        ("/v1/score", {"text": "ok", "extra": 1}, "extra"),
        ("/v1/score", ["a list"], "valid dictionary"),
        ("/v1/score", b'{"text": "\xff"}', "UTF-8"),
        ("/v1/score/batch", {"texts": ["wrong key"]}, "items"),
        ("/v1/score/batch", {"items": [{"text": "ok"}, {"subject": "no text"}]}, "items.1.text"),
    ],
)
def test_invalid_requests_get_422_with_a_message(server, path, body, needle):
    status, _, result = request(server, "POST", path, body, {"Content-Type": "application/json"})
    assert status == 422
    assert needle in result["detail"]
    assert all(set(e) == {"loc", "msg"} for e in result.get("errors", []))  # the submitted text is not echoed back


def test_unsupported_content_type_gets_415(server):
    status, _, result = request(server, "POST", "/v1/score", b"x", {"Content-Type": "image/png"})
    assert status == 415 and "application/json" in result["detail"]


def test_text_never_reaches_the_log(servers):
    server = servers["token"]
    request(server, "POST", "/v1/score?note=" + SECRET_PHRASE, {"text": f"My code {SECRET_PHRASE} fails. Awful."})
    request(server, "POST", "/v1/score", {"subject": SECRET_PHRASE})  # a 422
    time.sleep(0.3)
    log = server.log_text()
    assert "POST /v1/score 200" in log  # the access log exists...
    assert SECRET_PHRASE not in log  # ...without the text or the query string


# ------------------------------------------------------------------------------------------ token


@pytest.mark.parametrize(
    "path,method",
    [
        ("/v1/score", "POST"),
        ("/v1/score/batch", "POST"),
        ("/v1/version", "GET"),
        ("/openapi.json", "GET"),
        ("/docs", "GET"),
    ],
)
def test_token_is_required_on_every_data_endpoint(servers, path, method):
    server = servers["token"]
    body = {"text": COMPLAINT} if path == "/v1/score" else {"items": [{"text": "ok"}]} if method == "POST" else None
    assert request(server, method, path, body, auth=False)[0] == 401
    assert request(server, method, path, body, {"Authorization": "Bearer wrong"}, auth=False)[0] == 401
    assert request(server, method, path, body, {"Authorization": TOKEN}, auth=False)[0] == 401
    assert request(server, method, path, body)[0] == 200


def test_token_check_comes_before_the_body_limit(servers):
    # Headers only, announcing an oversized body: the answer is 401 (not 413), sent without reading any body.
    conn = http.client.HTTPConnection("127.0.0.1", servers["token"].port, timeout=10)
    conn.putrequest("POST", "/v1/score")
    conn.putheader("Content-Type", "text/plain")
    conn.putheader("Content-Length", str(MAX_BODY_BYTES + 10))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 401 and response.getheader("WWW-Authenticate") == "Bearer"
    conn.close()


def test_liveness_probe_needs_no_token_and_says_nothing_else(servers):
    # load balancers call /healthz without credentials
    assert request(servers["token"], "GET", "/healthz", auth=False)[::2] == (200, {"status": "ok"})


def test_a_short_token_is_refused():
    with pytest.raises(ConfigError, match="at least 16"):
        resolve_token("0.0.0.0", "abc", {})


def test_page_itself_is_public_and_asks_for_the_token(servers):
    status, _, page = request(servers["token"], "GET", "/", auth=False)
    assert status == 200 and 'data-token-required="yes"' in page


def test_non_loopback_host_without_token_is_refused(monkeypatch, capsys):
    monkeypatch.delenv("FEEDBACK_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "needs a token" in capsys.readouterr().err


def test_token_comes_from_option_then_environment():
    assert (
        resolve_token("0.0.0.0", "cli-token-0123456789", {"FEEDBACK_TOKEN": "env-token-0123456789"})
        == "cli-token-0123456789"
    )
    assert resolve_token("10.0.0.5", None, {"FEEDBACK_TOKEN": "env-token-0123456789"}) == "env-token-0123456789"
    assert resolve_token("127.0.0.1", None, {}) is None


# ------------------------------------------------------------------------------------------ the page in a browser

CHROMIUM, CHROMEDRIVER = (
    shutil.which("chromium") or "/usr/bin/chromium",
    shutil.which("chromedriver") or "/usr/bin/chromedriver",
)


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -e '.[test]'")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="feedback-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_page_scores_a_pasted_email_and_shows_script_as_text(servers, browser):
    """On the token server: the agent types the token, pastes an e-mail, submits and reads the result."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    email = (
        "Subject: Refund still missing\n\nI have been waiting 3 weeks for my refund. "
        "<script>window.pwned = 1; document.title = 'pwned'</script> "
        '<img src=x onerror="window.pwned = 2"> This is unacceptable, I will cancel my account.'
    )
    browser.get(servers["token"].base + "/")
    title = browser.title
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    box = browser.find_element(By.ID, "message")
    browser.execute_script("arguments[0].value = arguments[1]", box, email)  # a paste
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "result").is_displayed() or d.find_element(By.ID, "error").is_displayed()
    )
    assert browser.find_element(By.ID, "error").is_displayed() is False
    assert browser.find_element(By.ID, "label").text.lower() == "negative"
    assert "churn risk" in browser.find_element(By.ID, "flags").text
    assert browser.find_element(By.ID, "subject").text == "Refund still missing"
    assert "<script>window.pwned = 1" in browser.find_element(By.ID, "redacted").text  # shown as text
    driver_sentences = browser.find_elements(By.CSS_SELECTOR, "#sentences li.driver")
    assert driver_sentences and any("refund" in li.text for li in driver_sentences)
    assert browser.find_elements(By.CSS_SELECTOR, "#sentences li.neg")
    assert browser.execute_script("return document.querySelectorAll('#output script, #output img').length") == 0
    assert browser.execute_script("return window.pwned === undefined") is True
    assert browser.title == title


def test_page_shows_the_sentiment_of_each_theme(servers, browser):
    """With a theme model, each theme chip carries the sentiment of the sentences about it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(servers["token"].base + "/")
    browser.find_element(By.ID, "token").clear()  # the page keeps the token for the session
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    box = browser.find_element(By.ID, "message")
    browser.execute_script(
        "arguments[0].value = arguments[1]", box, "The app crashes, awful. My refund was received, great!"
    )
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "result").is_displayed() or d.find_element(By.ID, "error").is_displayed()
    )
    status, _, expected = request(
        servers["token"], "POST", "/v1/score", {"text": "The app crashes, awful. My refund was received, great!"}
    )
    assert browser.find_element(By.ID, "error").is_displayed() is False
    assert status == 200 and len(expected["theme_sentiment"]) == 2
    chips = browser.find_elements(By.CSS_SELECTOR, "#themes .chip.theme")
    shown = {c.text: c.get_attribute("class").split()[-1] for c in chips}
    assert shown == {f"{t['theme']} {t['sentiment']:+.2f}": t["label"] for t in expected["theme_sentiment"]}
    assert sorted(shown.values()) == ["negative", "positive"]


def test_docs_render_offline_in_the_browser(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.base + "/docs")
    count = "return document.querySelectorAll('.opblock').length"
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(count) >= 4)
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(server.base) for url in loaded)  # nothing from another origin
