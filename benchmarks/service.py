"""Latency and throughput of the scoring service over loopback HTTP.

Starts `python -m feedback serve` on a free port (or measures --url), then:

1. one client, one keep-alive connection: N sequential POST /v1/score of a typical 150-word support e-mail
   (written here, hand-made, not from any data set; numbers in it change per request so no cache helps),
   p50/p95/p99 latency; then the same e-mail N times, for comparison;
2. 8 clients (threads, one keep-alive connection each) for 30 s: requests/s, latency percentiles, errors.

Targets (issue #9): p95 < 20 ms single client; 8 clients for 30 s with zero errors.

    python benchmarks/service.py [--requests 2000] [--clients 8] [--seconds 30] [--url http://127.0.0.1:8000]

Client and server share the machine, so the figures include the client's own cost. --data-dir is accepted
for the benchmarks' common interface; this benchmark reads no labelled data (latency does not depend on labels).
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent

#: a typical support e-mail: greeting, a complaint with history, a request, a signature; 150 words in the body.
#: Every sentence carries a number that changes per request, so the scorer's sentence cache never answers:
#: each request costs what a new e-mail costs (the "same e-mail" row shows the cached case).
EMAIL_TEMPLATE = """Hi Ledgerly support,

I am writing about invoice INV-{inv} as nobody answered my last two emails. On March 3rd I was
charged twice for the Pro plan, once on my company card and once through PayPal, and the second payment of {amount}
euros still has not been refunded. Your chat assistant (case {case}) told me the refund would arrive within five
business days, but it has now been almost three weeks and my accountant is asking why the books do not balance.
I also noticed that the export to CSV drops the VAT column, so I had to fix {fixed} invoices by hand before sending
them to clients. This is frustrating for a tool I pay {fee} euros for every month. Please refund the duplicate
charge and tell me when the export bug will be fixed, otherwise I will have to move to another provider before the
next billing cycle on account {account}.

Thanks,
Marta
Sent from my iPhone
"""


def make_email(i: int) -> str:
    return EMAIL_TEMPLATE.format(
        inv=20_000 + i,
        amount=f"{49 + i / 100:.2f}",
        case=f"C-{i:06d}",
        fixed=12 + i,
        fee=f"{29 + i / 100:.2f}",
        account=f"A{i:07d}",
    )


def make_body(i: int) -> bytes:
    return json.dumps({"text": make_email(i), "subject": "Charged twice, still no refund"}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback", "serve", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 120 s")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


class Client:
    def __init__(self, host: str, port: int, headers: dict):
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.headers = headers

    def post(self, body: bytes) -> tuple[float, bool]:
        started = time.perf_counter()
        try:
            self.conn.request("POST", "/v1/score", body=body, headers=self.headers)
            response = self.conn.getresponse()
            payload = response.read()
            ok = response.status == 200 and b'"label"' in payload
        except OSError:
            self.conn.close()
            ok = False
        return (time.perf_counter() - started) * 1000, ok


def single_client(host, port, headers, n: int, first: int, same: bool = False) -> dict:
    """``n`` sequential requests on one connection; distinct e-mails from number ``first`` on, or one e-mail."""
    client = Client(host, port, headers)
    bodies = [make_body(first if same else first + i) for i in range(n)]  # built before timing
    for i in range(20):  # warm up the connection (other e-mails than the measured ones)
        client.post(make_body(10_000_000 + first + i))
    results = [client.post(body) for body in bodies]
    latencies = [ms for ms, _ in results]
    return {
        "requests": n,
        "errors": sum(not ok for _, ok in results),
        "latencies": latencies,
        "seconds": sum(latencies) / 1000,
    }


def concurrent_clients(host, port, headers, clients: int, seconds: float, first: int) -> dict:
    stop = time.monotonic() + seconds
    per_thread: list[list[tuple[float, bool]]] = [[] for _ in range(clients)]

    def work(i):
        client = Client(host, port, headers)
        number = first + i * 1_000_000  # each client its own distinct e-mails
        while time.monotonic() < stop:
            per_thread[i].append(client.post(make_body(number)))
            number += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    results = [r for rs in per_thread for r in rs]
    return {
        "requests": len(results),
        "errors": sum(not ok for _, ok in results),
        "latencies": [ms for ms, _ in results],
        "seconds": elapsed,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="Measure a running service instead of starting one.")
    parser.add_argument("--token", default=os.environ.get("FEEDBACK_TOKEN"), help="Bearer token of --url, if any.")
    parser.add_argument("--requests", type=int, default=2000, help="Sequential requests, single client (default 2000).")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients (default 8).")
    parser.add_argument("--seconds", type=float, default=30, help="Duration of the concurrent run (default 30).")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"), help="Unused (see docstring).")
    args = parser.parse_args(argv)

    words = len(make_email(0).split("\n\n")[1].split())
    body = make_body(0)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {args.token}"} if args.token else {})}
    proc = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname, parts.port or 80
    else:
        host, port = "127.0.0.1", free_port()
        proc = start_server(port)
    try:
        _, ok = Client(host, port, headers).post(body)
        if not ok:
            raise SystemExit("the service did not score the benchmark e-mail")
        single = single_client(host, port, headers, args.requests, first=1)
        cached = single_client(host, port, headers, args.requests, first=0, same=True)
        many = concurrent_clients(host, port, headers, args.clients, args.seconds, first=100_000)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)

    print(
        f"POST /v1/score, {words}-word e-mail body ({len(body)} bytes JSON), loopback, {os.cpu_count()} CPUs, "
        f"client and server on the same machine"
    )
    print()
    print("| run | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in (
        (f"1 client, {args.requests} distinct e-mails", single),
        (f"1 client, the same e-mail {args.requests} times (sentence cache)", cached),
        (f"{args.clients} clients, {args.seconds:g} s, distinct e-mails", many),
    ):
        lat = r["latencies"]
        print(
            f"| {name} | {r['requests']} | {r['errors']} | {r['requests'] / r['seconds']:.0f} | "
            f"{statistics.median(lat):.2f} | {percentile(lat, 95):.2f} | {percentile(lat, 99):.2f} | {max(lat):.2f} |"
        )
    p95 = percentile(single["latencies"], 95)
    print()
    print(
        f"target p95 < 20 ms single client: {'met' if p95 < 20 else 'MISSED'} ({p95:.2f} ms); "
        f"zero errors with {args.clients} clients: {'met' if many['errors'] == 0 else 'MISSED'} ({many['errors']})"
    )
    return 0 if p95 < 20 and many["errors"] == 0 and single["errors"] == 0 and cached["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
