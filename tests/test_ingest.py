"""Ingest: every format and encoding reads, every row is kept, bad input gets a teaching error."""
import json

import pandas as pd
import pytest

from feedback import Config, InputError, load_dataset, load_feedback
from feedback.ingest import detect_encoding, prepare_feedback

HEADER = "feedback_id,customer_id,created_at,channel,text,csat\n"
ROWS = ('F1,C1,2026-04-01 10:00:00,email,"Charged twice, please refund",2\n'
        'F2,C2,2026-04-02,chat,"Love the new dashboard",5\n')


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
    rows = [{"text": "refund please", "customer_id": "C1", "created_at": "2026-04-01"},
            {"text": "app crashes", "customer_id": "C2", "created_at": "2026-04-02"}]
    (tmp_path / "f.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (tmp_path / "f.json").write_text(json.dumps(rows), encoding="utf-8")
    pd.DataFrame(rows).to_parquet(tmp_path / "f.parquet")
    texts = [load_feedback(tmp_path / name)[0]["text"].tolist() for name in ("f.jsonl", "f.json", "f.parquet")]
    assert texts == [["refund please", "app crashes"]] * 3


def test_missing_text_column_names_the_closest_match(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Comment,Score\nthe app is slow every morning,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"survey\.csv.*no column 'text'; found 'Comment', 'Score'.*--text-column 'Comment'"):
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
    path.write_text(HEADER + ROWS + "F3,C3,not a date,email,hello,3\nF4,C4,2026-04-03,email,,4\nF5,C5,2026-04-03,email,ok,9\n",
                    encoding="utf-8")
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
        encoding="utf-8")
    (tmp_path / "tickets.csv").write_text(
        "ticket_id,customer_id,channel,opened_at,first_response_at,resolved_at,handle_time_minutes,contacts_to_resolve\n"
        "T1,C1,email,2026-04-01 10:00,2026-04-01 12:00,2026-04-02 10:00,12,1\n", encoding="utf-8")
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
        "The app crashes.\n", encoding="utf-8")
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
