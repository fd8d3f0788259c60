"""feedback: turn raw customer text into decisions.

Each pipeline stage is a plain function over a DataFrame that adds named columns::

    import feedback
    data = feedback.load_dataset("sample_data")
    rows = feedback.clean_feedback(data.feedback)
    rows = feedback.score_sentiment(rows)
    rows, model = feedback.tag_themes(rows)
    impact = feedback.theme_impact(rows, data.customers)
    kpis = feedback.compute_kpis(rows, data.customers, data.tickets)

or all at once: ``result = feedback.run("sample_data")``.
"""
from .clean import clean_feedback, clean_text, redact_pii
from .config import Config
from .errors import ConfigError, FeedbackError, InputError, ModelError
from .impact import impact_records, theme_impact
from .ingest import Dataset, load_dataset, load_feedback, read_table
from .kpis import compute_kpis, kpi_table
from .pipeline import AnalysisResult, analyze_dataset, analyze_feedback, build_context, run, write_report
from .report import ReportContext, render_report
from .sentiment import SentimentScorer, score_sentiment
from .themes import ThemeModel, tag_themes

__version__ = "0.1.0"

__all__ = [
    "AnalysisResult", "Config", "ConfigError", "Dataset", "FeedbackError", "InputError", "ModelError", "ReportContext",
    "SentimentScorer", "ThemeModel", "analyze_dataset", "analyze_feedback", "build_context", "clean_feedback",
    "clean_text", "compute_kpis", "impact_records", "kpi_table", "load_dataset", "load_feedback", "read_table",
    "redact_pii", "render_report", "run", "score_sentiment", "tag_themes", "theme_impact", "write_report",
]
