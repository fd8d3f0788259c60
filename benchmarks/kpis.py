"""Customer KPIs of `feedback kpis` on a real customer table, checked against a hand computation in pandas.

Run by hand::

    python benchmarks/kpis.py                      # ../shared/data/telco_churn/customers.csv
    python benchmarks/kpis.py --data-dir /path/to/shared/data

The table is IBM's Telco churn sample (7,043 customers, Apache-2.0; read its SOURCE.md): a snapshot with no dates,
a ``Churn`` Yes/No flag, ``Contract``, ``MonthlyCharges`` and ``tenure`` in months, and no acquisition cost. The
script writes a config mapping those columns to feedback's names into a temporary folder, runs the real command
``feedback kpis --customers FILE --config CONFIG --by segment --json`` (in this process, through ``cli.main``)
and computes the same figures independently with pandas from the raw CSV:

- churn rate = churned / customers (a snapshot: the churned share, n = all customers), overall and per Contract;
- retention = 1 - churn rate;
- CLV = mean MonthlyCharges x 12 x lifespan, lifespan = 1 / (1 - (1 - h)^12) years, monthly hazard
  h = churned / sum of tenure months;
- CAC: no acquisition-cost column, so it must be null.

It prints both columns and their difference, and exits 1 if any differs by more than 1e-9 (relative). Nothing from
the data folder is written into the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedback.cli import main as feedback_main  # noqa: E402

CONFIG = """[columns]
customer_id = "customerID"
churned = "Churn"
monthly_revenue = "MonthlyCharges"
segment = "Contract"
tenure_months = "tenure"
"""
TOLERANCE = 1e-9


def _number(value) -> str:
    return "null" if value is None else f"{value:.6f}" if abs(value) < 10 else f"{value:,.2f}"


def by_hand(path: Path) -> dict[str, dict[str, float | int | None]]:
    """Churn, retention, CLV and CAC overall and per Contract, straight from the CSV with pandas."""
    raw = pd.read_csv(path, keep_default_na=False)
    raw["churned"] = raw["Churn"].str.strip().str.lower().eq("yes")
    raw["revenue"] = pd.to_numeric(raw["MonthlyCharges"])
    raw["tenure"] = pd.to_numeric(raw["tenure"])

    def figures(group: pd.DataFrame) -> dict[str, float | int | None]:
        churned, n = int(group["churned"].sum()), len(group)
        hazard = churned / group["tenure"].sum()
        lifespan = 1 / (1 - (1 - hazard) ** 12)
        return {
            "customers": n,
            "churned": churned,
            "churn_rate": churned / n,
            "retention_rate": 1 - churned / n,
            "monthly_hazard": hazard,
            "lifespan_years": lifespan,
            "clv": group["revenue"].mean() * 12 * lifespan,
            "cac": None,
        }

    out = {"overall": figures(raw)}
    for contract, group in raw.groupby("Contract", sort=True):
        out[contract] = figures(group)
    return out


def by_feedback(path: Path) -> dict:
    """The JSON printed by ``feedback kpis --customers path --config ... --by segment --json``."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "telco.toml"
        config.write_text(CONFIG, encoding="utf-8")
        argv = ["kpis", "--customers", str(path), "--config", str(config), "--by", "segment", "--json"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = feedback_main(argv)
        if code != 0:
            raise SystemExit(f"feedback {' '.join(argv)} exited {code}")
    return json.loads(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir",
        default=str(REPO.parent / "shared" / "data"),
        help="Folder holding telco_churn/customers.csv (default ../shared/data next to the repo).",
    )
    args = parser.parse_args()
    path = Path(args.data_dir) / "telco_churn" / "customers.csv"
    if not path.is_file():
        raise SystemExit(f"{path}: not found. Fix: pass --data-dir pointing at the shared data folder")

    hand = by_hand(path)
    result = by_feedback(path)
    scopes = {"overall": result["overall"]} | {p["period"]: p for p in result["periods"]}
    print(f"file: {path} ({hand['overall']['customers']:,} rows)")
    print("command: feedback kpis --customers FILE --config telco.toml --by segment --json")
    print(f"customer_basis: {result['customer_basis']}")
    for note in result["notes"]:
        print(f"note: {note}")
    print()
    print(f"{'scope':<16} {'kpi':<15} {'n':>6} {'feedback':>14} {'pandas':>14} {'difference':>11}")
    worst = 0.0
    for scope, expected in hand.items():
        got = scopes[scope]
        for kpi in ("churn_rate", "retention_rate", "clv", "cac"):
            mine, theirs = got[kpi]["value"], expected[kpi]
            if mine is None or theirs is None:
                diff = 0.0 if mine is None and theirs is None else float("inf")
                shown = "both null" if diff == 0 else "MISMATCH"
            else:
                diff = abs(mine - theirs) / max(abs(theirs), 1e-12)
                shown = f"{mine - theirs:.1e}"
            worst = max(worst, diff)
            print(f"{scope:<16} {kpi:<15} {got[kpi]['n']:>6} {_number(mine):>14} {_number(theirs):>14} {shown:>11}")
        print(
            f"{'':<16} {'(churned/n)':<15} {expected['churned']:>6}/{expected['customers']:<6} "
            f"hazard {expected['monthly_hazard']:.6f}/month, lifespan {expected['lifespan_years']:.2f} years, "
            f"churn CI {[round(v, 4) for v in got['churn_rate']['ci']]}"
        )
    print(f"\nlargest relative difference: {worst:.1e} ({'OK' if worst <= TOLERANCE else 'FAIL'})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
