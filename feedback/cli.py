"""The ``feedback`` command: a thin layer that parses arguments, calls the library and prints.

Exit codes: 0 success, 2 bad usage or input (a one-line error that names the file, row or column and
the fix), 1 an unexpected failure (a bug: the traceback is shown so it can be reported).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from .errors import FeedbackError, InputError


def _config(args):
    from .config import Config

    overrides = {k: getattr(args, k, None) for k in ("period", "since", "until", "n_themes", "seed")}
    return Config.build(getattr(args, "config", None), **overrides)


def _load_themes(path):
    if path is None:
        return None
    from .themes import ThemeModel

    return ThemeModel.load(path)


def _say(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


# ------------------------------------------------------------------------------------------ commands

def cmd_report(args) -> int:
    from .pipeline import run, summary_lines, write_report

    config = _config(args)
    result = run(args.data, config, _load_themes(args.themes))
    out = write_report(result, args.out, args.templates)
    _say(*summary_lines(result.feedback), f"themes: {len(result.theme_model.themes_)}", f"wrote {out}")
    return 0


def cmd_analyze(args) -> int:
    from .ingest import load_feedback
    from .pipeline import analyze_feedback, summary_lines

    config = _config(args)
    out = Path(args.out)
    if out.suffix.lower() not in WRITERS:
        raise InputError(f"cannot write {out.suffix or 'a file without suffix'}", path=out,
                         fix=f"end the output name with one of {', '.join(sorted(WRITERS))}")
    frame, _ = load_feedback(args.file, config, text_column=args.text_column, id_column=args.id_column)
    frame, model = analyze_feedback(frame, config, _load_themes(args.themes))
    write_rows(frame, out)
    _say(*summary_lines(frame), f"themes: {len(model.themes_)}", f"wrote {out}")
    return 0


def cmd_score(args) -> int:
    from .sentiment import default_scorer

    if args.file in (None, "-"):
        text = sys.stdin.read()
    else:
        path = Path(args.file)
        if not path.exists():
            raise InputError("file not found", path=path, fix="pass a text file, or - to read standard input")
        text = path.read_bytes().decode("utf-8", errors="replace")
    from .clean import clean_text

    cleaned, _ = clean_text(text)
    doc = default_scorer().score(cleaned)
    result = doc.to_dict()
    if args.themes:
        tagged = _load_themes(args.themes).transform([cleaned])
        result["themes"] = tagged["themes"].iloc[0].split("; ") if tagged["themes"].iloc[0] else []
    else:
        result["themes"] = []
    result["redacted_text"] = cleaned
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    flags = [name for name in ("churn_intent", "escalation", "urgency") if result[name]]
    print(f"{result['label']} ({result['compound']:+.3f})" + (f"  flags: {', '.join(flags)}" if flags else ""))
    if result["themes"]:
        print("themes: " + ", ".join(result["themes"]))
    for sentence in result["drivers"]:
        print(f"  > {sentence}")
    return 0


def cmd_themes_fit(args) -> int:
    from .ingest import load_feedback
    from .pipeline import analyze_feedback

    config = _config(args)
    frame, _ = load_feedback(args.file, config, text_column=args.text_column)
    _, model = analyze_feedback(frame, config)
    model.save(args.out)
    _say(f"{len(model.themes_)} themes; saved to {args.out}")
    for theme in model.themes_:
        print(f"{theme.theme_id:>3}  {theme.size:>6}  {theme.label}")
    return 0


def cmd_themes_show(args) -> int:
    model = _load_themes(args.model_dir)
    for theme in model.themes_:
        print(f"[{theme.theme_id}] {theme.label}  (size {theme.size})")
        print("    phrases: " + ", ".join(theme.top_phrases))
        for example in theme.examples[:3]:
            print(f"    - {example[:160]}")
    return 0


def cmd_kpis(args) -> int:
    from .ingest import load_dataset
    from .kpis import compute_kpis, kpi_table

    config = _config(args)
    data = load_dataset(args.data, config)
    feedback = data.feedback[data.feedback["quality_issue"] != "outside_period"]
    result = compute_kpis(feedback, data.customers, data.tickets, by=args.by, min_n=config.min_sample)
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 500):
            print(kpi_table(result, include_overall=True).round(3).to_string())
    return 0


def cmd_impact(args) -> int:
    from .impact import impact_records
    from .pipeline import run

    result = run(args.data, _config(args), _load_themes(args.themes))
    records = impact_records(result.impact)
    if args.json:
        contract = ("theme_id", "theme_label", "mentions", "affected_customers", "mean_sentiment", "churn_rate_affected",
                    "churn_rate_unaffected", "churn_lift", "churn_lift_ci", "revenue_at_risk", "priority")
        print(json.dumps([{k: r[k] for k in contract} | {k: v for k, v in r.items() if k not in contract}
                          for r in records], allow_nan=False, ensure_ascii=False))
        return 0
    columns = ["theme_label", "mentions", "affected_customers", "mean_sentiment", "churn_lift", "churn_lift_adjusted",
               "revenue_at_risk", "priority", "emerging"]
    table = result.impact[[c for c in columns if c in result.impact.columns]]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 40):
        print(table.round(3).to_string(index=False))
    return 0


def cmd_sample(args) -> int:
    from .sample import generate_sample

    counts = generate_sample(args.out, customers=args.customers, weeks=args.weeks, seed=args.seed)
    _say(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


# ------------------------------------------------------------------------------------------ output files

def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    from .report import csv_safe

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [csv_safe("; ".join(map(str, v)) if isinstance(v, list) else v) for v in out[column]]
    return out


def _json_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.select_dtypes(include=["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"]):
        out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object).where(out[column].notna(), None)
    return out


WRITERS = {
    ".csv": lambda f, p: _csv_frame(f).to_csv(p, index=False),
    ".tsv": lambda f, p: _csv_frame(f).to_csv(p, index=False, sep="\t"),
    ".jsonl": lambda f, p: _json_frame(f).to_json(p, orient="records", lines=True, force_ascii=False),
    ".json": lambda f, p: _json_frame(f).to_json(p, orient="records", force_ascii=False, indent=1),
    ".parquet": lambda f, p: f.to_parquet(p, index=False),
}


def write_rows(frame: pd.DataFrame, out: Path) -> None:
    """Write analyzed rows in the format the suffix names; CSV cells are safe from formula injection."""
    out.parent.mkdir(parents=True, exist_ok=True)
    WRITERS[out.suffix.lower()](frame, out)


# ------------------------------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedback",
        description="Turn customer text into decisions: sentiment, pain-point themes, churn impact, KPIs, and a report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(p, themes=True):
        p.add_argument("--config", metavar="FILE", help="TOML config file (see README: Configuration).")
        p.add_argument("--seed", type=int, help="Seed for every random step (default 42).")
        if themes:
            p.add_argument("--themes", metavar="MODEL_DIR", help="Use a saved theme model instead of discovering themes.")

    p = sub.add_parser("report", help="Analyze a data folder and write the HTML report.",
                       description="Analyze DATA (a folder with feedback.csv and optional customers.csv, tickets.csv, "
                                   "or one feedback file) and write one self-contained HTML report.")
    p.add_argument("data", metavar="DATA", help="Folder holding feedback.csv (+ customers.csv, tickets.csv) or a feedback file.")
    p.add_argument("--out", required=True, metavar="FILE", help="Where to write the HTML report.")
    p.add_argument("--period", choices=["week", "month"], help="Trend period (default week).")
    p.add_argument("--since", metavar="DATE", help="Only feedback on or after DATE (YYYY-MM-DD).")
    p.add_argument("--until", metavar="DATE", help="Only feedback on or before DATE (YYYY-MM-DD).")
    p.add_argument("--n-themes", metavar="K", help="Number of themes, or 'auto' (default).")
    p.add_argument("--templates", metavar="DIR", help="Folder of template overrides (same names as templates/).")
    common(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("analyze", help="Score and tag every row of a file.",
                       description="Read CSV/TSV/JSONL/JSON/Parquet/.eml/.mbox and write the same rows plus sentiment, "
                                   "sentiment_label, theme_id, theme_label and themes, in the format OUT's suffix names.")
    p.add_argument("file", metavar="FILE", help="Feedback file to analyze.")
    p.add_argument("--out", required=True, metavar="OUT", help="Output file: .csv, .tsv, .jsonl, .json or .parquet.")
    p.add_argument("--text-column", metavar="NAME", help="Column holding the text (default: text).")
    p.add_argument("--id-column", metavar="NAME", help="Column holding the row id (default: feedback_id, or row numbers).")
    p.add_argument("--n-themes", metavar="K", help="Number of themes, or 'auto' (default).")
    common(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("score", help="Score one text: label, compound, driving sentences, themes.",
                       description="Score one text from TEXT_FILE or standard input (-).")
    p.add_argument("file", nargs="?", metavar="TEXT_FILE", help="Text file to score; - or nothing reads standard input.")
    p.add_argument("--json", action="store_true", help="Print JSON instead of a short summary.")
    p.add_argument("--themes", metavar="MODEL_DIR", help="Tag themes with a saved theme model.")
    p.set_defaults(func=cmd_score)

    themes = sub.add_parser("themes", help="Fit or inspect a theme model.", description="Fit or inspect a theme model.")
    themes_sub = themes.add_subparsers(dest="themes_command", metavar="ACTION", required=True)
    p = themes_sub.add_parser("fit", help="Discover themes in FILE and save the model.",
                              description="Discover themes in FILE and save the model folder to --out.")
    p.add_argument("file", metavar="FILE", help="Feedback file to learn themes from.")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="Folder to save the model to.")
    p.add_argument("--n-themes", metavar="K", help="Number of themes, or 'auto' (default).")
    p.add_argument("--text-column", metavar="NAME", help="Column holding the text (default: text).")
    common(p, themes=False)
    p.set_defaults(func=cmd_themes_fit)
    p = themes_sub.add_parser("show", help="List the themes of a saved model.",
                              description="List each theme's id, label, top phrases, size and example texts.")
    p.add_argument("model_dir", metavar="MODEL_DIR", help="Folder written by `feedback themes fit`.")
    p.set_defaults(func=cmd_themes_show)

    p = sub.add_parser("kpis", help="Print the KPI table.", description="Compute CSAT, NPS, CES, churn, CLV, CAC, FCR, "
                       "handle and resolution times for DATA, overall and per period or group.")
    p.add_argument("data", metavar="DATA", help="Folder holding feedback.csv (+ customers.csv, tickets.csv) or a feedback file.")
    p.add_argument("--by", choices=["week", "month", "segment", "channel"], default="week", help="Group rows by (default week).")
    p.add_argument("--json", action="store_true", help="Print the KPI JSON object.")
    p.add_argument("--config", metavar="FILE", help="TOML config file.")
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser("impact", help="Print the ranked pain-point table.",
                       description="Rank pain-point themes by priority: affected customers, churn lift, revenue at risk.")
    p.add_argument("data", metavar="DATA", help="Folder holding feedback.csv (+ customers.csv) or a feedback file.")
    p.add_argument("--json", action="store_true", help="Print the table as a JSON list, highest priority first.")
    common(p)
    p.set_defaults(func=cmd_impact)

    p = sub.add_parser("sample", help="Regenerate the bundled sample data.",
                       description="Write seeded sample data (feedback.csv, customers.csv, tickets.csv) to --out.")
    p.add_argument("--out", required=True, metavar="DIR", help="Folder to write to.")
    p.add_argument("--customers", type=int, default=2000, metavar="N", help="Number of customers (default 2000).")
    p.add_argument("--weeks", type=int, default=12, metavar="W", help="Number of weeks (default 12).")
    p.add_argument("--seed", type=int, default=42, metavar="S", help="Random seed (default 42).")
    p.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FeedbackError as exc:
        print(f"feedback: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
