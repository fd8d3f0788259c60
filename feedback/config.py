"""One configuration object for every stage, with a line of help per field.

Load it from a TOML file (``feedback report DATA --config feedback.toml``) or build it in code::

    >>> cfg = Config(n_themes=12)
    >>> cfg.n_themes
    12
    >>> Config.help("seed")
    'Seed for every random step (sampling, clustering): the same input and seed give the same report.'

A TOML file uses the same field names at top level, plus an optional ``[columns]`` table that maps
the standard column names to the names in your export::

    period = "week"
    n_themes = "auto"
    [columns]
    text = "Comment"
    customer_id = "Requester ID"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .clustering import ASSIGNMENTS, AUTO_GRANULARITY
from .errors import ConfigError
from .periods import PERIODS
from .resources import TAXONOMY_PRESETS


def _help(text: str, **kwargs):
    return field(metadata={"help": text}, **kwargs)


@dataclass
class Config:
    """Settings for ingest, analysis and the report. Every field has a default that needs no training."""

    columns: dict = _help(
        "Map standard column names to the names in your export, e.g. {'text': 'Comment'}. "
        "Applies to feedback, customers and tickets files.",
        default_factory=dict,
    )
    period: str = _help("Trend period of the report and KPI tables: 'week' (ISO weeks) or 'month'.", default="week")
    date_format: str | None = _help(
        "The format of the feedback dates, e.g. '%d/%m/%Y' for day-first dates "
        "(strftime codes). Default: found from all the values of the date column.",
        default=None,
    )
    since: str | None = _help("Only use feedback created on or after this date (YYYY-MM-DD).", default=None)
    until: str | None = _help("Only use feedback created on or before this date (YYYY-MM-DD).", default=None)
    n_themes: int | str = _help(
        "Number of themes to discover, or 'auto' to choose it from the data (one per 150 "
        "units, finer where resampling reproduces a finer cut), or 'coarser' or 'finer': "
        "about half or twice as many as 'auto'.",
        default="auto",
    )
    min_theme_size: int = _help(
        "Themes with fewer texts than this are dropped: their texts go to the nearest theme kept "
        "when similar enough, else to 'other'. Small inputs lower it, down to 5% of the texts "
        "and, with a fixed n_themes, to a quarter of the average theme (at least 3).",
        default=15,
    )
    embeddings: str = _help(
        "Vector space of the themes: 'static' (shipped table distilled from MiniLM, offline, "
        "fast), 'tfidf' (words only), 'minilm' (full model, needs feedback[embeddings]) or the "
        "path of a sentence-embedding model folder installed on this machine (in a config file, relative "
        "to the file's folder).",
        default="static",
    )
    taxonomy: str = _help(
        "Guide themes with seed phrases: 'default' (the shipped preset that fits the data best, "
        "if one fits: software, travel, banking, retail or telecom; models/taxonomies), a preset's "
        "name, the path of your own taxonomy TOML (always applied in full; in a config file, "
        "relative to the file's folder), or 'none'.",
        default="default",
    )
    theme_assignment: str = _help(
        "How a text gets its theme: 'centroid' (the most similar theme centre), "
        "'neighbours' (the vote of the most similar texts the themes were fitted on: "
        "follows each theme's shape, more accurate, about twice the tagging time with "
        "the static table) or 'auto' ('neighbours' for transformer models such as "
        "'minilm', 'centroid' otherwise).",
        default="auto",
    )
    seed: int = _help(
        "Seed for every random step (sampling, clustering): the same input and seed give the same report.", default=42
    )
    redact_pii: bool = _help(
        "Replace e-mail addresses, phone numbers, card numbers, IBANs and tokens in text "
        "with placeholders before analysis and reporting.",
        default=True,
    )
    min_sample: int = _help(
        "Periods with fewer responses than this are marked as small samples in KPI tables.", default=30
    )
    max_text_chars: int = _help(
        "Texts longer than this are truncated for analysis (the row is kept and flagged).", default=20_000
    )
    quotes_per_theme: int = _help("Representative quotes shown per theme in the report.", default=3)
    title: str = _help("Title shown at the top of the report.", default="Customer feedback report")
    alert_churn_lift: float = _help(
        "`feedback watch` raises a churn_risk alert when a theme's churn lift reaches this "
        "(customers who mention it churn this many times as often as the others) in the "
        "latest period, and the lower end of its 95% interval is above 1.",
        default=2.0,
    )

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ConfigError(f"period must be one of {', '.join(PERIODS)}; got {self.period!r}")
        if not (isinstance(self.n_themes, str) and self.n_themes in AUTO_GRANULARITY):
            must = "n_themes must be a whole number >= 2, 'auto', 'coarser' or 'finer'"
            try:
                self.n_themes = int(self.n_themes)
            except (TypeError, ValueError):
                raise ConfigError(f"{must}; got {self.n_themes!r}") from None
            if self.n_themes < 2:
                raise ConfigError(f"{must}; got {self.n_themes!r}")
        if self.theme_assignment not in ASSIGNMENTS:
            raise ConfigError(
                f"theme_assignment must be one of {', '.join(map(repr, ASSIGNMENTS))}; got {self.theme_assignment!r}"
            )
        if (
            isinstance(self.alert_churn_lift, bool)
            or not isinstance(self.alert_churn_lift, (int, float))
            or not self.alert_churn_lift > 1
        ):
            raise ConfigError(f"alert_churn_lift must be a number above 1 (e.g. 2.0); got {self.alert_churn_lift!r}")
        for name in ("embeddings", "taxonomy"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ConfigError(f"{name} must be a name or a path in quotes; got {getattr(self, name)!r}")
        if not isinstance(self.columns, dict):
            raise ConfigError(
                "columns must be a table mapping standard names to your column names, "
                f'e.g. [columns] text = "Comment"; got {self.columns!r}'
            )
        for name, least in (
            ("min_theme_size", 1),
            ("min_sample", 1),
            ("max_text_chars", 1),
            ("quotes_per_theme", 1),
            ("seed", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"{name} must be a whole number >= {least}; got {value!r}")

    @classmethod
    def help(cls, name: str) -> str:
        """The help line of a field."""
        return {f.name: f.metadata["help"] for f in fields(cls)}[name]

    @classmethod
    def from_file(cls, path: str | Path, **overrides) -> "Config":
        """Read a TOML file; keyword overrides (e.g. from CLI flags) win over the file when not None."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found", fix="check the path given to --config") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})", fix="see the example in README.md") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{path}: unknown setting(s) {', '.join(unknown)}. Valid settings: {', '.join(sorted(known))}"
            )
        for name, keywords in (
            ("embeddings", ("static", "tfidf", "minilm")),
            ("taxonomy", ("default", "none", *TAXONOMY_PRESETS)),
        ):
            value = data.get(name)
            if (
                isinstance(value, str)
                and value.strip()
                and value.lower() not in keywords
                and not Path(value).is_absolute()
            ):
                data[name] = str(path.parent / value)  # a path in a config file is relative to that file
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**data)

    @classmethod
    def build(cls, path: str | Path | None = None, **overrides) -> "Config":
        """A config from an optional file plus overrides that are not None."""
        if path is not None:
            return cls.from_file(path, **overrides)
        return cls(**{k: v for k, v in overrides.items() if v is not None})
