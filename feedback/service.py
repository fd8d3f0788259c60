"""The scoring service: a thin HTTP layer over :func:`feedback.scoring.score_messages`.

``feedback serve`` runs :func:`create_app` under uvicorn. Endpoints:

* ``POST /v1/score`` — JSON ``{"text": ..., "subject": ...}``, or a raw RFC 822 message
  (``Content-Type: message/rfc822``, or ``text/plain`` whose first lines are mail headers; other
  ``text/plain`` bodies are scored as the text itself);
* ``POST /v1/score/batch`` — JSON ``{"items": [{"text": ..., "subject": ...}, ...]}``, at most
  :data:`MAX_BATCH_ITEMS` items;
* ``GET /healthz``, ``GET /v1/version``, ``GET /openapi.json``, ``GET /docs`` (Swagger UI served from the
  ``swagger-ui-bundle`` package: no CDN, works offline), ``GET /`` (the agent page, ``templates/service.html``).

Safe by default: it binds to loopback; any other host needs a token (``--token`` or ``FEEDBACK_TOKEN``), and
with a token every request except the static agent page must carry ``Authorization: Bearer TOKEN`` (401
otherwise). Request bodies over :data:`MAX_BODY_BYTES` get 413 before they are read in full, malformed
requests 422 with a message that does not echo the input, and the access log records method, path, status
and time only: no query string, no body, so customer text never reaches a log.
"""

import base64
import errno
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from .resources import TEMPLATES_DIR
from .errors import ConfigError

#: largest request body accepted, in bytes (the issue: "1 MB → 413"); a 150-word e-mail is about 1 kB
MAX_BODY_BYTES = 1_000_000
#: most items in one /v1/score/batch request (the issue: "up to 1,000 texts")
MAX_BATCH_ITEMS = 1000
#: environment variable holding the bearer token when ``--token`` is not given
TOKEN_ENV = "FEEDBACK_TOKEN"
#: paths served without a token: the agent page (static, no data; it asks the agent for the token) and the
#: liveness probe, which load balancers and orchestrators call without credentials (it returns no data)
PUBLIC_PATHS = frozenset({"/", "/healthz"})
API_VERSION = "v1"
#: shortest accepted token: 16 characters of a random URL-safe token carry about 96 bits
MIN_TOKEN_CHARS = 16

SERVICE_TEMPLATE = TEMPLATES_DIR / "service.html"
log = logging.getLogger("feedback.service")


# ------------------------------------------------------------------------------------------ safety checks


def is_loopback(host: str) -> bool:
    """True for addresses that only this machine can reach.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None, environ: dict | None = None) -> str | None:
    """The token to enforce: ``token``, else ``$FEEDBACK_TOKEN``; required off loopback.

    >>> resolve_token("127.0.0.1", None, {}) is None
    True
    >>> resolve_token("0.0.0.0", None, {"FEEDBACK_TOKEN": "s3cret-s3cret-s3cret"})
    's3cret-s3cret-s3cret'
    """
    environ = os.environ if environ is None else environ
    token = token or environ.get(TOKEN_ENV) or None
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"the token is {len(token)} characters long; a guessable token protects nothing",
            fix=f"use at least {MIN_TOKEN_CHARS} random characters, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'",
        )
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"binding to {host} exposes the service beyond this machine and needs a token",
            fix=f"pass --token TOKEN or set {TOKEN_ENV}, or bind to 127.0.0.1",
        )
    return token


def _json_response(status: int, payload: dict, extra_headers: list | None = None) -> tuple[dict, dict]:
    body = json.dumps(payload).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or []),
    ]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


class Guard:
    """ASGI middleware run before FastAPI: bearer token, then the body limit, then a redacted access log.

    The body is read here chunk by chunk; the request is refused with 413 as soon as ``Content-Length`` or
    the bytes received so far pass the limit, so an oversized body is never held in memory.
    """

    def __init__(self, app, token: str | None, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes
        self._expected = f"Bearer {token}".encode("utf-8") if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status_seen = {}

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status_seen["status"] = message["status"]
            await send(message)

        try:
            refusal = self._refuse_unauthorized(scope)
            if refusal is None:
                body, refusal = await self._read_body(scope, receive)
            if refusal is not None:
                for message in refusal:
                    await send_logged(message)
                return
            replayed = False

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_logged)
        finally:
            # Method, path and status only: the query string and the body may hold customer text.
            log.info(
                "%s %s %s %.1fms",
                scope.get("method"),
                scope.get("path"),
                status_seen.get("status", "-"),
                1000 * (time.perf_counter() - started),
            )

    def _refuse_unauthorized(self, scope):
        if self._expected is None or scope.get("path") in PUBLIC_PATHS and scope.get("method") in ("GET", "HEAD"):
            return None
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if hmac.compare_digest(given, self._expected):
            return None
        return _json_response(
            401,
            {"detail": "missing or wrong token: send the header 'Authorization: Bearer TOKEN'"},
            [(b"www-authenticate", b"Bearer")],
        )

    async def _read_body(self, scope, receive):
        too_large = _json_response(
            413,
            {
                "detail": f"request body larger than {self.max_body_bytes} bytes; "
                "send fewer or shorter texts per request"
            },
            [(b"connection", b"close")],
        )
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                if int(length) > self.max_body_bytes:
                    return b"", too_large
            except ValueError:
                return b"", _json_response(400, {"detail": "Content-Length is not a number"})
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", []
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


# ------------------------------------------------------------------------------------------ the page

_SCRIPT_OR_STYLE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def render_page(template: Path = SERVICE_TEMPLATE, **context: Any) -> tuple[str, str]:
    """The agent page and its Content-Security-Policy, which allows only the page's own inline script and
    style (by hash) and requests to this service."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.from_string(template.read_text(encoding="utf-8")).render(**context)
    scripts = [_csp_hash(body) for tag, body in _SCRIPT_OR_STYLE.findall(html) if tag == "script"]
    styles = [_csp_hash(body) for tag, body in _SCRIPT_OR_STYLE.findall(html) if tag == "style"]
    csp = (
        "default-src 'none'; script-src "
        + " ".join(scripts)
        + "; style-src "
        + " ".join(styles)
        + "; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, csp


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>feedback API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>
"""
_DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  requestInterceptor: function (req) { var t = sessionStorage.getItem("feedback-token");
    if (t) { req.headers["Authorization"] = "Bearer " + t; } return req; }});
"""
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}


# ------------------------------------------------------------------------------------------ the app


def create_app(
    theme_model_dir: str | Path | None = None,
    token: str | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH_ITEMS,
):
    """Build the ASGI app. The sentiment scorer and the theme model load here, once, not per request.

    ``token`` (when given) is required on every request but the agent page, on any host.
    """
    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from . import __version__
    from .scoring import parse_message, score_messages
    from .sentiment import default_scorer

    scorer = default_scorer()
    scorer.score("Warm up: VADER's lexicon and the rules are ready.")
    theme_model = None
    if theme_model_dir:  # only then: the theme machinery (scikit-learn, the embeddings) costs seconds to load
        from .themes import ThemeModel

        theme_model = ThemeModel.load(theme_model_dir)
        theme_model.transform(["warm up the theme model"])
    version = {
        "feedback": __version__,
        "api": API_VERSION,
        "theme_model": {"path": str(theme_model_dir), "themes": len(theme_model.themes_)} if theme_model else None,
        "limits": {"max_body_bytes": max_body_bytes, "max_batch_items": max_batch},
    }
    page, page_csp = render_page(version=__version__, token_required=token is not None, max_batch=max_batch)

    class Message(BaseModel):
        """One message to score."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={
                "examples": [{"text": "I was charged twice. Refund me or I cancel.", "subject": "Double charge"}]
            },
        )
        text: str = Field(description="The message body (plain text or HTML); quoted replies and signatures are cut.")
        subject: str | None = Field(default=None, description="Subject line: adds its flags, not scored itself.")

    class Batch(BaseModel):
        """Several messages, scored in one call."""

        model_config = ConfigDict(extra="forbid")
        items: list[Message] = Field(description=f"At most {max_batch} messages.")

    class Sentence(BaseModel):
        model_config = ConfigDict(extra="allow")  # fields the scorer adds later pass through
        text: str
        score: float = Field(description="Sentence score after support-language rules, -1..1.")
        vader: float = Field(description="VADER's own compound for the sentence.")
        rules: list[str]

    class ThemeSentiment(BaseModel):
        theme_id: int
        theme: str
        sentiment: float = Field(
            description="The message's score when this is its only theme; with several, the "
            "mean score (-1..1) of the sentences about this theme."
        )
        label: str = Field(description="negative | neutral | positive, of that score")

    class Score(BaseModel):
        model_config = ConfigDict(extra="allow")  # fields the scorer adds later pass through
        label: str = Field(description="negative | neutral | positive")
        compound: float = Field(description="Document score, -1..1.")
        churn_intent: bool
        churn_phrase: str
        escalation: bool
        urgency: bool
        drivers: list[str] = Field(description="Sentences that drive the score, strongest first.")
        sentences: list[Sentence]
        subject: str = Field(description="The subject line, redacted.")
        language: str
        quality_issue: str = Field(description="'' or empty_text | non_english | truncated")
        themes: list[str]
        theme_ids: list[int]
        theme_sentiment: list[ThemeSentiment] = Field(description="Per theme, the sentiment of its own sentences.")
        subtheme_id: str = Field(
            description="The sub-theme of its first theme, 'THEME.K', or '' (none, or no theme model)."
        )
        subtheme: str = Field(description="That sub-theme's label, or ''.")
        redacted_text: str = Field(description="What was scored: the cleaned message with personal data redacted.")

    class BatchScore(BaseModel):
        results: list[Score]

    def problem(status: int, message: str, errors: list | None = None) -> JSONResponse:
        return JSONResponse({"detail": message, **({"errors": errors} if errors else {})}, status_code=status)

    def validation_problem(exc) -> JSONResponse:
        # Location and reason only: pydantic's "input" would echo customer text back.
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"]) or "body"
        return problem(422, f"{where}: {first['msg']}", errors)

    def parse_json(raw: bytes, model) -> tuple[Any, JSONResponse | None]:
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            return None, problem(422, "body is not UTF-8 JSON: send a JSON object encoded in UTF-8")
        except json.JSONDecodeError as exc:
            return None, problem(
                422,
                f"body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                'send {"text": "...", "subject": "..."}',
            )
        if (
            model is Batch
            and isinstance(data, dict)
            and isinstance(data.get("items"), list)
            and len(data["items"]) > max_batch
        ):
            return None, problem(
                413,
                f"batch of {len(data['items'])} items is over the limit of {max_batch}; split it into smaller batches",
            )
        try:
            return model.model_validate(data), None
        except ValidationError as exc:
            return None, validation_problem(exc)

    app = FastAPI(
        title="feedback",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        description="Score customer messages: sentiment, churn and escalation flags, themes.",
    )

    def openapi_with_request_models() -> dict:
        # The endpoints read their bodies themselves (JSON or raw mail), so FastAPI does not see the request models.
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (Message, Batch):
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(definition.pop("$defs", {}))
                schemas[model.__name__] = definition
        return app.openapi_schema

    app.openapi_version = "3.0.3"  # the Swagger UI in swagger-ui-bundle (4.x) renders OpenAPI 3.0, not 3.1
    app.openapi = openapi_with_request_models

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc):
        return validation_problem(exc)

    json_body = {
        "application/json": {"schema": {"$ref": "#/components/schemas/Message"}},
        "message/rfc822": {"schema": {"type": "string"}},
        "text/plain": {"schema": {"type": "string"}},
    }

    @app.post(
        "/v1/score",
        response_model=Score,
        summary="Score one message",
        openapi_extra={"requestBody": {"required": True, "content": json_body}},
        responses={413: {"description": "Body over the size limit"}, 422: {"description": "Invalid request"}},
    )
    async def score(request: Request):
        raw = await request.body()
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype == "application/json" or ctype.endswith("+json"):
            message, refusal = parse_json(raw, Message)
            if refusal is not None:
                return refusal
            text, subject = message.text, message.subject
        elif ctype in ("message/rfc822", "text/plain"):
            charset = re.search(r"charset=\"?([\w.:-]+)", request.headers.get("content-type", ""), re.I)
            text, subject = parse_message(raw, charset.group(1) if charset else "utf-8", ctype == "message/rfc822")
        else:
            return problem(
                415, f"unsupported Content-Type {ctype!r}: send application/json, message/rfc822 or text/plain"
            )
        # JSONResponse directly: the result is already plain JSON types, re-validating it costs time per request
        return JSONResponse(score_messages([text], [subject], theme_model, scorer=scorer)[0])

    @app.post(
        "/v1/score/batch",
        response_model=BatchScore,
        summary=f"Score up to {max_batch} messages",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
            }
        },
        responses={413: {"description": "Body or batch over the size limit"}, 422: {"description": "Invalid request"}},
    )
    async def score_batch(request: Request):
        batch, refusal = parse_json(await request.body(), Batch)
        if refusal is not None:
            return refusal
        results = await run_in_threadpool(
            score_messages, [m.text for m in batch.items], [m.subject for m in batch.items], theme_model, scorer=scorer
        )
        return JSONResponse({"results": results})

    @app.get("/healthz", summary="Liveness")
    async def healthz():
        return {"status": "ok"}

    @app.get("/v1/version", summary="Version, loaded model and limits")
    async def get_version():
        return version

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index():
        return HTMLResponse(
            page,
            headers={
                "Content-Security-Policy": page_csp,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return HTMLResponse(_DOCS_PAGE, headers={"Content-Security-Policy": _DOCS_CSP})

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init():
        return Response(_DOCS_INIT, media_type="text/javascript")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str):
        if name not in _DOCS_ASSETS:
            return problem(404, "not found")
        from swagger_ui_bundle import swagger_ui_path

        return Response(
            Path(swagger_ui_path, name).read_bytes(),
            media_type=_DOCS_ASSETS[name],
            headers={"Cache-Control": "max-age=86400"},
        )

    return Guard(app, token, max_body_bytes)


def listening_sockets(host: str, port: int) -> list[socket.socket]:
    """TCP sockets bound to ``host:port`` (each address the name has, as uvicorn would bind: ``localhost`` is
    127.0.0.1 and ::1) for uvicorn to serve on, so that a bad or busy port is a one-line :class:`ConfigError`
    before the service says it serves, and no other process can take the port in between."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(
            f"--port {port} is not a TCP port", fix="pass --port with a number from 1 to 65535, e.g. --port 8000"
        )
    sockets: list[socket.socket] = []
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in dict.fromkeys(addresses):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
            )  # as uvicorn: a restart need not wait out TIME_WAIT
            if family == socket.AF_INET6:  # as asyncio: :: must not take the IPv4 port a second socket binds
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ConfigError(_bind_failure(host, port, exc)) from None
    return sockets


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use by another program. Fix: pass --port N with a port no program "
            "uses, or stop the program that holds it"
        )
    if exc.errno == errno.EACCES:
        return (
            f"port {port} on {host} needs administrator rights (ports below 1024 do). Fix: pass --port 8000 "
            "or another port from 1024 up"
        )
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {host}: not an address of this machine ({exc.strerror or exc}). "
            "Fix: pass --host 127.0.0.1, or an address this machine has"
        )
    return f"cannot listen on {host}:{port} ({exc.strerror or exc}). Fix: pass another --host or --port"


def serve(
    host: str = "127.0.0.1", port: int = 8000, theme_model_dir: str | Path | None = None, token: str | None = None
) -> None:
    """Run the service until interrupted (what ``feedback serve`` calls)."""
    import sys

    import uvicorn

    token = resolve_token(host, token)
    sockets = listening_sockets(host, port)
    try:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        app = create_app(theme_model_dir, token)
        # access_log off: uvicorn's would print the full request line; Guard logs method, path and status instead.
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)
        )
        shown = f"[{host}]" if ":" in host else host
        print(
            f"feedback: serving on http://{shown}:{port}/ (token {'required' if token else 'off: loopback only'}); "
            "Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        try:
            server.run(sockets=sockets)
        except KeyboardInterrupt:  # Ctrl-C is how the service is meant to stop
            pass
    finally:
        for sock in sockets:
            sock.close()
