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

import importlib.abc
import importlib.machinery
import os
import sys
from importlib import import_module

from .errors import ConfigError, FeedbackError, InputError, ModelError


class _ThincWithoutTorch(importlib.abc.MetaPathFinder):
    """Import thinc (under spaCy) as if torch were absent.

    thinc.compat imports torch eagerly whenever it is installed, which the optional MiniLM extra installs: that
    costs every process that imports spaCy about 5 s and 185 MB here, while feedback never runs thinc's torch
    layers. torch stays importable afterwards for sentence-transformers. Set FEEDBACK_SPACY_TORCH=1 to load a
    transformer-based spaCy pipeline (spacy-transformers needs thinc's torch support).
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "thinc.compat":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or "torch" in sys.modules:
            return spec
        exec_module = spec.loader.exec_module

        def exec_without_torch(module):
            sys.modules["torch"] = None  # makes `import torch` raise ImportError, which thinc.compat expects
            try:
                exec_module(module)
            finally:
                if sys.modules.get("torch", 0) is None:
                    del sys.modules["torch"]

        spec.loader.exec_module = exec_without_torch
        return spec


if "thinc" not in sys.modules and os.environ.get("FEEDBACK_SPACY_TORCH") != "1":
    sys.meta_path.insert(0, _ThincWithoutTorch())

#: public name -> module that defines it; imported on first use so that `feedback --help` or `feedback score`
#: do not pay for spaCy, scikit-learn and pandas before they need them
_EXPORTS = {
    "clean_feedback": "clean",
    "clean_text": "clean",
    "redact_pii": "clean",
    "Config": "config",
    "impact_records": "impact",
    "theme_impact": "impact",
    "Dataset": "ingest",
    "load_dataset": "ingest",
    "load_feedback": "ingest",
    "read_table": "ingest",
    "compute_kpis": "kpis",
    "kpi_table": "kpis",
    "AnalysisResult": "pipeline",
    "analyze_dataset": "pipeline",
    "analyze_feedback": "pipeline",
    "build_context": "pipeline",
    "run": "pipeline",
    "write_report": "pipeline",
    "ReportContext": "report",
    "render_report": "report",
    "SentimentScorer": "sentiment",
    "score_sentiment": "sentiment",
    "ThemeModel": "themes",
    "tag_themes": "themes",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'feedback' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


__version__ = "0.1.0"

__all__ = [
    "AnalysisResult",
    "Config",
    "ConfigError",
    "Dataset",
    "FeedbackError",
    "InputError",
    "ModelError",
    "ReportContext",
    "SentimentScorer",
    "ThemeModel",
    "analyze_dataset",
    "analyze_feedback",
    "build_context",
    "clean_feedback",
    "clean_text",
    "compute_kpis",
    "impact_records",
    "kpi_table",
    "load_dataset",
    "load_feedback",
    "read_table",
    "redact_pii",
    "render_report",
    "run",
    "score_sentiment",
    "tag_themes",
    "theme_impact",
    "write_report",
]
