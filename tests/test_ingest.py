"""Ingest: every format and encoding reads, every row is kept, bad input gets a teaching error."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from feedback import Config, InputError, load_dataset, load_feedback
from feedback.ingest import detect_encoding, prepare_feedback, read_summary

HEADER = "feedback_id,customer_id,created_at,channel,text,csat\n"
ROWS = (
    'F1,C1,2026-04-01 10:00:00,email,"Charged twice, please refund",2\n'
    'F2,C2,2026-04-02,chat,"Love the new dashboard",5\n'
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_reads_in_every_common_encoding(tmp_path, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes((HEADER + ROWS + 'F3,C3,2026-04-03,email,"Café crème — déjà vu",\n').encode(encoding))
    frame, used = load_feedback(path)
    assert frame["text"].tolist()[2] == "Café crème — déjà vu"
    assert len(frame) == 3
    assert used == {"utf-16": "utf-16", "utf-8-sig": "utf-8-sig"}.get(encoding, encoding)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "f.csv"
    path.write_text(f"text{delimiter}customer_id\nhello there{delimiter}C1\nbye{delimiter}C2\n", encoding="utf-8")
    frame, _ = load_feedback(path)
    assert frame["text"].tolist() == ["hello there", "bye"]


def test_quoted_newlines_and_crlf_stay_one_row(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b'text,customer_id\r\n"line one\r\nline two",C1\r\nsecond,C2\r\n')
    frame, _ = load_feedback(path)
    assert len(frame) == 2
    assert "line two" in frame["text"].iloc[0]


def test_jsonl_json_and_parquet_read_the_same_rows(tmp_path):
    rows = [
        {"text": "refund please", "customer_id": "C1", "created_at": "2026-04-01"},
        {"text": "app crashes", "customer_id": "C2", "created_at": "2026-04-02"},
    ]
    (tmp_path / "f.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (tmp_path / "f.json").write_text(json.dumps(rows), encoding="utf-8")
    pd.DataFrame(rows).to_parquet(tmp_path / "f.parquet")
    texts = [load_feedback(tmp_path / name)[0]["text"].tolist() for name in ("f.jsonl", "f.json", "f.parquet")]
    assert texts == [["refund please", "app crashes"]] * 3


def test_missing_text_column_is_found_from_the_values_and_said(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Comment,Score\nthe app is slow every morning,3\nexport works fine now,5\n", encoding="utf-8")
    frame, _ = load_feedback(path)
    assert frame["text"].tolist() == ["the app is slow every morning", "export works fine now"]
    assert frame["csat"].tolist() == [3.0, 5.0]
    assert frame.attrs["found_columns"].mapping == {"text": "Comment", "csat": "Score"}
    assert "text = 'Comment'" in read_summary(frame, "utf-8")[1]


def test_missing_text_column_without_free_text_names_the_closest_match(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Comment,Score\nA1,3\nB2,5\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"survey\.csv.*no column 'text'; found 'Comment', 'Score'.*--text-column 'Comment'"
    ):
        load_feedback(path)


def test_text_column_option_maps_a_column(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Comment,Score\nslow app,3\n", encoding="utf-8")
    frame, _ = load_feedback(path, text_column="Comment")
    assert frame["text"].tolist() == ["slow app"]
    assert "Score" in frame.columns  # unknown columns pass through


def test_config_column_mapping_renames(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("Body,Requester\nhello,R1\n", encoding="utf-8")
    frame, _ = load_feedback(path, Config(columns={"text": "Body", "customer_id": "Requester"}))
    assert frame.loc[0, "customer_id"] == "R1"


def test_bad_rows_are_kept_and_flagged_not_dropped(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(
        HEADER + ROWS + "F3,C3,not a date,email,hello,3\nF4,C4,2026-04-03,email,,4\nF5,C5,2026-04-03,email,ok,9\n",
        encoding="utf-8",
    )
    frame, _ = load_feedback(path)
    assert len(frame) == 5
    assert frame["quality_issue"].tolist() == ["", "", "bad_date", "empty_text", "bad_csat"]
    assert pd.isna(frame.loc[4, "csat"])


def test_empty_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="file is empty"):
        load_feedback(path)


def test_missing_file_suggests_the_sample(tmp_path):
    with pytest.raises(InputError, match="file not found.*feedback sample"):
        load_feedback(tmp_path / "nope.csv")


def test_folder_loads_all_three_tables(tmp_path):
    (tmp_path / "feedback.csv").write_text(HEADER + ROWS, encoding="utf-8")
    (tmp_path / "customers.csv").write_text(
        "customer_id,segment,plan,signup_date,churned,churn_date,monthly_revenue,acquisition_cost\n"
        "C1,smb,pro,2026-01-01,true,2026-04-10,50,100\nC2,enterprise,business,2026-01-01,false,,500,900\n",
        encoding="utf-8",
    )
    (tmp_path / "tickets.csv").write_text(
        "ticket_id,customer_id,channel,opened_at,first_response_at,resolved_at,handle_time_minutes,contacts_to_resolve\n"
        "T1,C1,email,2026-04-01 10:00,2026-04-01 12:00,2026-04-02 10:00,12,1\n",
        encoding="utf-8",
    )
    data = load_dataset(tmp_path)
    assert data.customers["churned"].tolist() == [True, False]
    assert data.tickets["handle_time_minutes"].tolist() == [12.0]
    assert data.rows_read == {"feedback": 2, "customers": 2, "tickets": 1}


def test_bad_churned_value_names_row_and_fix(tmp_path):
    (tmp_path / "feedback.csv").write_text(HEADER + ROWS, encoding="utf-8")
    (tmp_path / "customers.csv").write_text("customer_id,churned\nC1,yes\nC2,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"customers\.csv, row 3, column 'churned'.*'maybe'.*true/false"):
        load_dataset(tmp_path)


def test_since_until_flag_rows_outside_the_window(tmp_path):
    (tmp_path / "feedback.csv").write_text(HEADER + ROWS, encoding="utf-8")
    data = load_dataset(tmp_path, Config(since="2026-04-02"))
    assert data.feedback["quality_issue"].tolist() == ["outside_period", ""]
    assert data.quality == {"outside_period": 1}


def test_mbox_gives_one_row_per_message(tmp_path):
    mbox = tmp_path / "inbox.mbox"
    mbox.write_text(
        "From a@example.com Mon Apr  6 10:00:00 2026\nFrom: Ann <ann@example.com>\nSubject: Refund\n"
        "Date: Mon, 6 Apr 2026 10:00:00 +0000\nMessage-ID: <m1@example.com>\n\nWhere is my refund?\n\n"
        "From b@example.com Mon Apr  6 11:00:00 2026\nFrom: Bob <bob@example.com>\nSubject: Crash\n"
        "Date: Mon, 6 Apr 2026 11:00:00 +0000\nMessage-ID: <m2@example.com>\nIn-Reply-To: <m1@example.com>\n\n"
        "The app crashes.\n",
        encoding="utf-8",
    )
    frame, _ = load_feedback(mbox)
    assert frame["text"].str.strip().tolist() == ["Where is my refund?", "The app crashes."]
    assert frame["channel"].tolist() == ["email", "email"]
    assert frame["customer_id"].str.startswith("E").all()
    assert "ann@example.com" not in " ".join(frame["customer_id"])
    assert frame["thread_id"].tolist() == ["m1@example.com", "m1@example.com"]


def test_detect_encoding_prefers_boms():
    assert detect_encoding(b"\xff\xfeh\x00i\x00") == "utf-16"


def test_prepare_feedback_without_ids_numbers_rows():
    frame = prepare_feedback(pd.DataFrame({"text": ["a b", "c d"]}))
    assert frame["feedback_id"].tolist() == ["row1", "row2"]
    assert frame["customer_id"].tolist() == ["anon-row1", "anon-row2"]


# ------------------------------------------------------------------------------------------- fixtures: nasty files

FIXTURES = Path(__file__).parent / "fixtures"
ACCENTED = [
    "Café crème — déjà vu: I was charged €20 twice",
    "“Smart quotes” and naïve façade, the export still fails",
    "Straße, Ærø, Ångström: the app crashes on login",
]


@pytest.mark.parametrize(
    "name, encoding",
    [("utf8.csv", "utf-8"), ("utf8_bom.csv", "utf-8-sig"), ("utf16le_bom.csv", "utf-16"), ("cp1252.csv", "cp1252")],
)
def test_fixture_encodings_decode_to_the_same_text(name, encoding):
    frame, used = load_feedback(FIXTURES / "encodings" / name)
    assert used == encoding
    assert frame["text"].tolist() == ACCENTED
    assert frame["csat"].tolist() == [2.0, 3.0, 1.0]
    assert frame.columns[0] == "feedback_id"  # no BOM glued to the first header


def test_mojibake_is_repaired_and_counted():
    frame, used = load_feedback(FIXTURES / "encodings" / "mojibake.csv")
    assert frame["text"].tolist() == [ACCENTED[0], ACCENTED[2]]
    assert frame.attrs["mojibake_repaired"] == 1
    assert used == "utf-8"


def test_stray_cp1252_bytes_in_a_utf8_file_are_kept_not_replaced():
    frame, used = load_feedback(FIXTURES / "encodings" / "mixed_utf8_cp1252.csv")
    assert used == "utf-8"
    assert frame["text"].tolist() == ACCENTED + ["Résumé upload broken"]
    assert not frame["text"].str.contains("\ufffd").any()


def test_crlf_quoted_newlines_and_doubled_quotes():
    frame, _ = load_feedback(FIXTURES / "crlf_quoted_newlines.csv")
    assert frame["feedback_id"].tolist() == ["F1", "F2", "F3"]
    assert frame.loc[0, "text"] == 'First line\r\nsecond line, with a comma\r\nthird "quoted" line'
    assert frame.loc[2, "text"] == "Ends with a line break\r\n"


def test_a_10000_character_row_is_read_whole():
    frame, _ = load_feedback(FIXTURES / "long_row.csv")
    assert frame["text"].str.len().tolist() == [9, 10_000, 9]


def test_emoji_and_right_to_left_text_survive_reading():
    frame, _ = load_feedback(FIXTURES / "emoji_rtl.csv")
    assert frame.loc[0, "text"] == "Love the new app 😍👍🏽 but sync is slow 🐢"
    assert frame.loc[1, "text"] == "لا أستطيع تسجيل الدخول إلى حسابي"
    assert frame.loc[3, "text"] == "Family plan 👨\u200d👩\u200d👧\u200d👦 billing is wrong"
    assert frame.loc[4, "text"] == "Cafe\u0301 with a combining accent"


def test_utf16_without_bom_is_detected(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes((HEADER + ROWS).encode("utf-16-le"))
    frame, used = load_feedback(path)
    assert used == "utf-16-le"
    assert frame["text"].tolist() == ["Charged twice, please refund", "Love the new dashboard"]


def test_one_column_file_keeps_unquoted_commas(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_text("text\nslow, very slow\nfine\n", encoding="utf-8")
    frame, _ = load_feedback(path)
    assert frame["text"].tolist() == ["slow, very slow", "fine"]


def test_rows_with_an_extra_field_are_an_error_not_a_silent_shift(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("text,customer_id\nhello,C1,extra\nbye,C2,extra\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"f\.csv, row 2: the data rows have more fields than the header"):
        load_feedback(path)


# ------------------------------------------------------------------------------------------- Excel


def test_xlsx_reads_as_text_columns(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["text", "customer_id", "csat"])
    sheet.append(["Refund please 😀", "C1", 2])
    sheet.append(["", "C2", 5])
    book.save(tmp_path / "feedback.xlsx")
    frame, used = load_feedback(tmp_path / "feedback.xlsx")
    assert used is None
    assert frame["text"].tolist() == ["Refund please 😀", ""]
    assert frame["csat"].tolist() == [2.0, 5.0]
    assert frame["quality_issue"].tolist() == ["", "empty_text"]


def test_xlsx_without_openpyxl_names_the_extra(tmp_path, monkeypatch):
    (tmp_path / "f.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now raises ImportError
    with pytest.raises(InputError, match=r"f\.xlsx: reading \.xlsx needs.*pip install 'feedback\[excel\]'"):
        load_feedback(tmp_path / "f.xlsx")


def test_broken_xlsx_is_an_input_error(tmp_path):
    pytest.importorskip("openpyxl")
    (tmp_path / "f.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match="cannot read the Excel workbook"):
        load_feedback(tmp_path / "f.xlsx")


# ------------------------------------------------------------------------------------------- e-mail


def test_mbox_fixture_html_attachments_threads_and_pseudonyms():
    frame, _ = load_feedback(FIXTURES / "mail" / "inbox.mbox")
    assert len(frame) == 5  # one row per message
    first = frame.iloc[0]
    assert first["attachments"] == 2  # the PDF attachment and the inline screenshot
    assert "<p>" not in first["text"] and "color:red" not in first["text"]
    assert "charged twice — please fix it" in first["text"]
    assert frame["thread_id"].tolist() == ["m1@mail.example"] * 4 + ["b1@example.org"]
    assert frame["created_at"].iloc[0] == pd.Timestamp("2026-04-06 08:00:00")  # +0200 converted to UTC
    assert frame["customer_id"].iloc[0] == frame["customer_id"].iloc[2] != frame["customer_id"].iloc[1]
    assert frame["subject"].iloc[4] == "App stürzt ab"  # RFC 2047 header decoded
    assert frame["text"].iloc[4].strip().endswith("Grüße.")  # latin-1 quoted-printable body decoded
    assert not frame["customer_id"].str.contains("@").any()


def test_eml_forwarded_and_outlook_reply_keep_only_the_new_words():
    from feedback.clean import clean_feedback

    frame, _ = load_feedback(FIXTURES / "mail")  # a folder: both .eml files and the .mbox
    assert len(frame) == 7
    cleaned = clean_feedback(frame).set_index("feedback_id")
    assert (
        cleaned.loc["f1@example.net", "clean_text"]
        == "This happened again today, third time this month. Please check my card."
    )
    assert "Forwarded message" in cleaned.loc["f1@example.net", "removed_text"]
    assert "token=abc123" not in cleaned.loc["f1@example.net", "removed_text"]  # redacted there too
    assert cleaned.loc["o1@corp.example", "clean_text"] == "The export still times out – we can’t close the month."
    assert "Finance Director" in cleaned.loc["o1@corp.example", "removed_text"]
    assert cleaned.loc["o1@corp.example", "thread_id"] == "s9@ledgerly.example"


def test_email_senders_map_to_customer_ids_when_the_customers_table_has_emails(tmp_path):
    import shutil

    shutil.copy(FIXTURES / "mail" / "inbox.mbox", tmp_path / "inbox.mbox")
    (tmp_path / "customers.csv").write_text("customer_id,email,segment\nC9,ANN@example.com,smb\n", encoding="utf-8")
    data = load_dataset(tmp_path)
    assert data.feedback["customer_id"].tolist()[0] == "C9"
    assert data.feedback["customer_id"].tolist()[4].startswith("E")  # unknown sender: a pseudonym


def test_customer_ids_that_are_addresses_become_pseudonyms(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("text,customer_id\nhello there,Jane@Example.com\n", encoding="utf-8")
    frame, _ = load_feedback(path)
    assert frame.loc[0, "customer_id"].startswith("E") and "@" not in frame.loc[0, "customer_id"]


def test_analyze_an_mbox_with_no_options_writes_one_row_per_message(tmp_path, capsys):
    from feedback.cli import main

    out = tmp_path / "scored.csv"
    assert main(["analyze", str(FIXTURES / "mail" / "inbox.mbox"), "--out", str(out)]) == 0
    scored = pd.read_csv(out, keep_default_na=False)
    assert len(scored) == 5
    assert scored["channel"].eq("email").all()
    assert {"clean_text", "removed_text", "thread_id", "attachments", "duplicate_of", "sentiment_label"} <= set(scored)
    written = out.read_text(encoding="utf-8")
    assert "ann@example.com" not in written and "7946 0958" not in written  # no raw PII in the export
    assert scored["quality_issue"].tolist() == ["", "", "", "duplicate", ""]
    err = capsys.readouterr().err
    assert "rows read: 5, used: 4, skipped: 1 (duplicate 1)" in err
    assert "encoding:" in err


# ------------------------------------------------------------------------------------------- presets


@pytest.mark.parametrize(
    "name, preset, text, extra",
    [
        ("zendesk_tickets.csv", "zendesk", "The VAT on invoice 1042 is wrong.", "Tags"),
        ("typeform_responses.csv", "typeform", "Fast invoicing, great support", "Start Date (UTC)"),
        ("surveymonkey_responses.csv", "surveymonkey", "Mostly good, reports are slow", "Collector ID"),
        ("nps_survey.csv", "nps", "Everything just works", None),
    ],
)
def test_presets_are_detected_from_headers(name, preset, text, extra):
    frame, _ = load_feedback(FIXTURES / "exports" / name)
    assert frame.attrs["preset"] == preset
    assert frame.loc[0, "text"] == text
    assert frame["created_at"].notna().all()
    if extra:
        assert extra in frame.columns  # unknown columns pass through


def test_zendesk_preset_fills_ids_customer_and_channel():
    frame, _ = load_feedback(FIXTURES / "exports" / "zendesk_tickets.csv")
    assert frame["feedback_id"].tolist() == ["1042", "1043"] == frame["ticket_id"].tolist()
    assert frame["customer_id"].tolist() == ["R77", "R78"]
    assert frame["channel"].tolist() == ["email", "chat"]  # Zendesk's "Mail" / "Web Widget"
    assert frame["subject"].tolist() == ["Invoice wrong", "Login"]


def test_nps_preset_reads_the_score_and_flags_out_of_range():
    frame, _ = load_feedback(FIXTURES / "exports" / "nps_survey.csv")
    assert frame["nps"].tolist()[:2] == [10.0, 2.0]
    assert pd.isna(frame["nps"].iloc[2]) and frame["quality_issue"].iloc[2] == "bad_nps"
    assert frame["channel"].eq("survey").all()


def test_typeform_preset_takes_the_recommend_question_as_nps():
    frame, _ = load_feedback(FIXTURES / "exports" / "typeform_responses.csv")
    assert frame["nps"].tolist() == [9.0, 3.0]
    assert frame["feedback_id"].tolist() == ["a1b2", "c3d4"]


def test_user_mapping_wins_over_a_preset():
    frame, _ = load_feedback(
        FIXTURES / "exports" / "zendesk_tickets.csv", Config(columns={"text": "Subject"}), preset="zendesk"
    )
    assert frame["text"].tolist() == ["Invoice wrong", "Login"]
    assert "Description" in frame.columns  # the preset's text column now passes through


def test_unknown_preset_lists_the_valid_ones():
    from feedback import ConfigError

    with pytest.raises(ConfigError, match="unknown preset 'jira'. Valid presets: nps, surveymonkey, typeform, zendesk"):
        load_feedback(FIXTURES / "exports" / "nps_survey.csv", preset="jira")


# ------------------------------------------------------------------------------------------- strict


def test_without_strict_bad_rows_are_flagged():
    frame, _ = load_feedback(
        FIXTURES / "exports" / "bad_rows.csv",
        Config(columns={"text": "Comment", "created_at": "Created", "csat": "CSAT"}),
    )
    assert frame["quality_issue"].tolist() == ["", "bad_date", "empty_text"]


def test_strict_names_file_row_original_column_value_and_fix():
    config = Config(columns={"text": "Comment", "created_at": "Created", "csat": "CSAT"})
    with pytest.raises(
        InputError,
        match=r"bad_rows\.csv, row 3, column 'Created': not a date \(--strict; row numbers "
        r"count the header as row 1\) \(got 'yesterday-ish'\)\. Fix: write the date",
    ):
        load_feedback(FIXTURES / "exports" / "bad_rows.csv", config, strict=True)


def test_strict_reports_scores_and_empty_text(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("text,csat\nfine,5\nok,9\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column 'csat'.*\(got '9'\).*number from 1 to 5"):
        load_feedback(path, strict=True)
    path.write_text("text,csat\nfine,5\n,4\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column 'text': empty text"):
        load_feedback(path, strict=True)


def test_strict_cli_exits_2_with_the_row(tmp_path, capsys):
    from feedback.cli import main

    path = tmp_path / "f.csv"
    path.write_text("text,created_at\nthe app is slow,2026-04-01\nthe app crashes,31/31/2026\n", encoding="utf-8")
    assert main(["analyze", str(path), "--out", str(tmp_path / "o.csv"), "--strict"]) == 2
    assert "row 3, column 'created_at': not a date" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


# ------------------------------------------------------------------------------------------- streaming


def test_chunks_cover_every_row_once_with_continuing_ids(tmp_path):
    from feedback.ingest import iter_feedback_chunks

    path = tmp_path / "big.csv"
    lines = ["text,csat"] + [f'"row {i}, with a comma",{1 + i % 5}' for i in range(1, 1001)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    chunks = list(iter_feedback_chunks(path, chunksize=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    whole = pd.concat(chunks)
    assert whole["feedback_id"].tolist() == [f"row{i}" for i in range(1, 1001)]
    assert whole["text"].tolist() == [f"row {i}, with a comma" for i in range(1, 1001)]
    full, _ = load_feedback(path)
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), full)


def test_chunked_strict_errors_count_rows_across_chunks(tmp_path):
    from feedback.ingest import iter_feedback_chunks

    path = tmp_path / "big.csv"
    path.write_text("text,csat\n" + "fine,5\n" * 250 + "bad,77\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 252, column 'csat'"):
        list(iter_feedback_chunks(path, chunksize=100, strict=True))


def test_jsonl_streams_in_chunks(tmp_path):
    from feedback.ingest import iter_feedback_chunks

    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"t{i}"}) for i in range(7)) + "\n\n", encoding="utf-8")
    assert [len(c) for c in iter_feedback_chunks(path, chunksize=3)] == [3, 3, 1]


def test_jsonl_error_names_the_line(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "broken\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"f\.jsonl, row 2: not valid JSON"):
        load_feedback(path)


def test_a_bare_score_column_is_not_taken_for_nps_unless_asked(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Comment,Score\nthe app is slow every morning,3\n", encoding="utf-8")
    frame, _ = load_feedback(path, preset="nps")
    assert frame.loc[0, "nps"] == 3.0 and frame.loc[0, "text"] == "the app is slow every morning"


def test_blank_and_whitespace_lines_are_kept_as_empty_rows(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("text\nslow\n\n \t\nfast\n", encoding="utf-8")
    frame, _ = load_feedback(path)
    assert len(frame) == 4
    assert frame["quality_issue"].tolist() == ["", "empty_text", "empty_text", ""]
