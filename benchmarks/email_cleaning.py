"""E-mail cleaning benchmark: precision and recall of the lines the cleaner removes, per kind of case, before and after.

Run by hand from the repository root:

    python benchmarks/email_cleaning.py                 # this checkout against a9194c7, before this work
    python benchmarks/email_cleaning.py --before HEAD~2 # against any revision's feedback/clean.py
    python benchmarks/email_cleaning.py --cases         # also list each case whose text differs from its label

What is measured: every hand-labelled body in tests/fixtures/emails/cases.json (by its ``category``) and every message
of tests/fixtures/mailing_list/list_footer.mbox (the "recurring block" row, labels in list_footer.expected.json).
A body line, after HTML is turned into text, should be removed when it is not a line of the case's ``expected`` text;
it was removed when it is not a line of ``clean_text``'s output. Lines are compared redacted and with spaces folded;
blank lines are not counted. precision = removed lines that should go / removed lines; recall = removed lines that
should go / lines that should go; "kept wrongly" (false positives) is what an over-removal guard row is about.
"exact" counts cases whose clean text equals the label.

"before" is feedback/clean.py of the --before revision (read with ``git show``) with the recurring-block pass of
``read_email`` turned off; "after" is this checkout. One table per ``split``: ``tuned`` cases were written with the
rules, so their "after" column only checks that the rules do what the labels say; ``heldout`` cases were written
after the rules and not used to change them, the closer estimate on unseen mail (still small: read it as counts).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedback.ingest as ingest  # noqa: E402
from feedback.clean import clean_text, html_to_text, redact_pii  # noqa: E402

CASES = ROOT / "tests" / "fixtures" / "emails" / "cases.json"
LIST_MBOX = ROOT / "tests" / "fixtures" / "mailing_list" / "list_footer.mbox"
LIST_LABELS = ROOT / "tests" / "fixtures" / "mailing_list" / "list_footer.expected.json"
RECURRING = "recurring block"


def load_clean_module(revision: str):
    """feedback/clean.py as it was at ``revision``, imported beside this checkout's package."""
    source = subprocess.run(
        ["git", "show", f"{revision}:feedback/clean.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "clean_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("feedback.clean_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _norm(line: str) -> str:
    return " ".join(redact_pii(line).split())


def line_labels(body: str, expected: str, cleaned: str) -> list[tuple[bool, bool]]:
    """(should be removed, was removed) for each non-blank line of the body."""
    wanted, kept = Counter(map(_norm, expected.split("\n"))), Counter(map(_norm, cleaned.split("\n")))
    labels = []
    for line in html_to_text(body).replace("\r\n", "\n").split("\n"):
        key = _norm(line)
        if not key:
            continue
        should_keep, was_kept = wanted[key] > 0, kept[key] > 0
        wanted[key] -= should_keep
        kept[key] -= was_kept
        labels.append((not should_keep, not was_kept))
    return labels


def list_rows(strip_blocks: bool) -> list[tuple[str, str]]:
    """(raw body, message id) of each message of the list mbox, the recurring-block pass on or off."""
    if strip_blocks:
        frame = ingest.read_email(LIST_MBOX)
    else:
        with mock.patch.object(ingest, "strip_recurring_blocks", lambda texts, senders: texts):
            frame = ingest.read_email(LIST_MBOX)
    return list(zip(frame["text"], frame["feedback_id"]))


def measure(clean, strip_blocks: bool, split: str | None = None) -> dict[str, dict[str, int]]:
    """Per category: true and false positives, false negatives, cases and exact cases (of one ``split`` or all)."""
    totals: dict[str, Counter] = {}
    cases = [c for c in json.loads(CASES.read_text(encoding="utf-8")) if split in (None, c["split"])]
    items = [(c["category"], c["id"], c["body"], c["body"], c["expected"]) for c in cases]
    if split in (None, "tuned"):  # the list mbox was written with the recurring-block pass
        labels = json.loads(LIST_LABELS.read_text(encoding="utf-8"))
        raw = dict((mid, text) for text, mid in list_rows(False))
        items += [(RECURRING, mid, raw[mid], text, labels[mid]) for text, mid in list_rows(strip_blocks)]
    for category, case_id, body, ingested, expected in items:
        cleaned, _ = clean(ingested)
        counts = totals.setdefault(category, Counter())
        counts["cases"] += 1
        counts["exact"] += cleaned == expected
        if cleaned != expected:
            totals.setdefault("_differ", Counter())[f"{category}: {case_id}"] += 1
        for should, was in line_labels(body, expected, cleaned):
            counts["tp"] += should and was
            counts["fp"] += was and not should
            counts["fn"] += should and not was
    return totals


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.2f}" if den else "-"


def table(before: dict, after: dict) -> list[str]:
    lines = [
        "| category | cases | exact before | exact after | precision before | precision after | recall before "
        "| recall after | kept wrongly (FP) before → after | missed (FN) before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    categories = sorted(c for c in after if not c.startswith("_"))
    total_before, total_after = Counter(), Counter()
    for category in categories + ["all"]:
        b = total_before if category == "all" else before.get(category, Counter())
        a = total_after if category == "all" else after[category]
        if category != "all":
            total_before.update({k: v for k, v in b.items() if isinstance(v, int)})
            total_after.update({k: v for k, v in a.items() if isinstance(v, int)})
        lines.append(
            f"| {category} | {a['cases']} | {b['exact']} | {a['exact']} "
            f"| {_ratio(b['tp'], b['tp'] + b['fp'])} | {_ratio(a['tp'], a['tp'] + a['fp'])} "
            f"| {_ratio(b['tp'], b['tp'] + b['fn'])} | {_ratio(a['tp'], a['tp'] + a['fn'])} "
            f"| {b['fp']} → {a['fp']} | {b['fn']} → {a['fn']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="a9194c7", help="revision whose feedback/clean.py is 'before'")
    parser.add_argument("--cases", action="store_true", help="list the cases whose clean text differs from the label")
    args = parser.parse_args()
    old = load_clean_module(args.before)
    print(f"before: feedback/clean.py at {args.before}, no recurring-block pass; after: this checkout")
    for split in ("tuned", "heldout", None):
        before = measure(old.clean_text, strip_blocks=False, split=split)
        after = measure(clean_text, strip_blocks=True, split=split)
        print(f"\n{split or 'all cases'}:\n")
        print("\n".join(table(before, after)))
        if args.cases:
            for name, result in (("before", before), ("after", after)):
                print(f"\n{split or 'all'} cases differing from their label, {name}:")
                for case in sorted(result.get("_differ", {})):
                    print(f"  {case}")


if __name__ == "__main__":
    main()
