"""Workspace speed: `add` time per 100,000 feedback rows, and report time from a 1,000,000-row workspace.

Run by hand (minutes; the 1M part needs ~1 GB of disk and several GB of RAM):

    python benchmarks/workspace.py                     # add 100k, then grow to 1M rows and time the report
    python benchmarks/workspace.py --report-rows 0     # the add part only

Rows are the bundled generator's sample (``generate_sample``, 2,000 customers, 12 weeks) replicated with new
feedback and ticket ids: a speed benchmark, not a quality one (synthetic text, see shared/data/README.md rule 1).
Timings:

* ``add (first, fits themes)``: an empty workspace; ingest, clean, sentiment, theme fit, store.
* ``add (next week, stored model)``: another ROWS new rows tagged with the stored model: the weekly routine.
* ``add (same export again)``: every row unchanged (hashes only, no analysis).
* ``report from workspace``: load every stored row, impact, KPIs and the HTML report, after the workspace was grown
  to --report-rows rows by copying stored rows inside SQLite with new ids (their analysis is not re-timed).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from feedback import workspace as W
from feedback.config import Config
from feedback.kpis import compute_kpis
from feedback.pipeline import analyze_stored, build_context
from feedback.report import render_report
from feedback.sample import generate_sample


#: each copy of the sample is moved this many days later, so copies are not resends of each other (clean.py flags
#: the same text from the same customer within 24 hours as a duplicate) and the workspace spans many weeks
SHIFT_DAYS = 84


def _shift(frame: pd.DataFrame, columns: tuple[str, ...], days: int) -> pd.DataFrame:
    out = frame.copy()
    for name in columns:
        times = pd.to_datetime(out[name].where(out[name] != ""), errors="coerce") + pd.Timedelta(days=days)
        out[name] = times.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    return out


def replicate(sample: Path, out: Path, rows: int, tag: str, first_copy: int = 0) -> Path:
    """An export of ``rows`` feedback rows: the sample repeated with ids suffixed ``-{tag}{k}``, each copy later."""
    read = lambda name: pd.read_csv(sample / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    fb, cust, tk = read("feedback"), read("customers"), read("tickets")
    parts, tickets, k = [], [], 0
    while sum(map(len, parts)) < rows:
        suffix, days = f"-{tag}{k}", (first_copy + k) * SHIFT_DAYS
        parts.append(
            _shift(fb, ("created_at",), days).assign(
                feedback_id=fb["feedback_id"] + suffix,
                ticket_id=fb["ticket_id"].where(fb["ticket_id"] == "", fb["ticket_id"] + suffix),
            )
        )
        tickets.append(
            _shift(tk, ("opened_at", "first_response_at", "resolved_at"), days).assign(
                ticket_id=tk["ticket_id"] + suffix
            )
        )
        k += 1
    out.mkdir(parents=True, exist_ok=True)
    pd.concat(parts).head(rows).to_csv(out / "feedback.csv", index=False)
    cust.to_csv(out / "customers.csv", index=False)
    pd.concat(tickets).to_csv(out / "tickets.csv", index=False)
    return out


def grow(db: Path, target: int) -> int:
    """Copy stored feedback rows inside SQLite with new ids until the workspace holds ``target`` rows."""
    con = sqlite3.connect(db, isolation_level=None)
    columns = [r[1] for r in con.execute("PRAGMA table_info(feedback)")]
    select = ", ".join("feedback_id || '-g' || ?" if c == "feedback_id" else c for c in columns)
    n, k = con.execute("SELECT COUNT(*) FROM feedback").fetchone()[0], 0
    con.execute("BEGIN")
    while n < target:
        con.execute(
            f"INSERT INTO feedback ({', '.join(columns)}) SELECT {select} FROM feedback "
            f"WHERE feedback_id NOT LIKE '%-g%' LIMIT ?",
            (k, target - n),
        )
        n, k = con.execute("SELECT COUNT(*) FROM feedback").fetchone()[0], k + 1
    con.execute("COMMIT")
    con.close()
    return n


class Rows(list):
    """The result table, printed a line at a time as each step finishes (a 1M-row run takes many minutes)."""

    def append(self, row) -> None:
        super().append(row)
        name, n, (t, cpu), _ = row
        print(f"{name:34} {n:>10,} {t:>9.1f} {t / n * 100_000:>16.2f} {cpu:>12.1f}", flush=True)


def timed(fn, repeat: int = 1):
    """((median wall seconds, median CPU seconds of this process), last value): on a shared machine the CPU
    seconds show the work done, the wall seconds include waiting for a core."""
    times, cpus, value = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        value = fn()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return (statistics.median(times), statistics.median(cpus)), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="Rows per add (default 100,000).")
    parser.add_argument("--report-rows", type=int, default=1_000_000, help="Workspace size for the report (0 skips).")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of the report timing; the median is shown.")
    parser.add_argument("--work-dir", help="Where to write exports and the workspace (default: a temporary folder).")
    parser.add_argument("--data-dir", help="Unused: this benchmark generates its rows (accepted for symmetry).")
    args = parser.parse_args()
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="feedback-ws-bench-"))
    sample = work / "sample"
    generate_sample(sample, customers=2000, weeks=12)
    week1 = replicate(sample, work / "week1", args.rows, "a")
    copies = -(-args.rows // len(pd.read_csv(sample / "feedback.csv", usecols=[0])))
    week2 = replicate(sample, work / "week2", args.rows, "b", first_copy=copies)
    db = work / "bench.sqlite"
    db.unlink(missing_ok=True)
    print(f"{'step':34} {'rows':>10} {'seconds':>9} {'s per 100k rows':>16} {'CPU seconds':>12}", flush=True)
    rows = Rows()
    t, r = timed(lambda: W.add(db, week1))
    rows.append(("add (first, fits themes)", args.rows, t, r.counts["feedback"]["inserted"]))
    t, r = timed(lambda: W.add(db, week2))
    rows.append(("add (next week, stored model)", args.rows, t, r.counts["feedback"]["inserted"]))
    t, r = timed(lambda: W.add(db, week2))
    rows.append(("add (same export again)", args.rows, t, r.counts["feedback"]["unchanged"]))
    if args.report_rows:
        n = grow(db, args.report_rows)
        config = Config()

        def report():
            stored = W.load_frames(db)
            result = analyze_stored(stored.feedback, stored.customers, stored.tickets, config, stored.theme_model)
            return render_report(build_context(result))

        def load():
            return W.load_frames(db)

        def kpis():
            stored = W.load_frames(db)
            return compute_kpis(stored.feedback, stored.customers, stored.tickets, by="week")

        for name, fn in (("load workspace", load), ("kpis from workspace", kpis), ("report from workspace", report)):
            t, _ = timed(fn, args.repeat)
            rows.append((name, n, t, None))
    print(f"workspace {db} ({db.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
