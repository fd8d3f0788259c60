"""Themes: discover recurring pain points, label them in words a person would write, and tag every text.

:class:`ThemeModel` follows the scikit-learn estimator contract: ``__init__`` only stores parameters,
``fit`` learns ``themes_``, ``vocabulary_``, ``centroids_`` …, ``transform`` assigns themes to new texts,
``save``/``load`` write a folder with a readable ``themes.json`` and a version check.

Method (one line per stage, as in :meth:`ThemeModel.fit`):

1. texts become content lemmas (spaCy stop words, boilerplate words out, negations kept);
2. TF-IDF over lemma unigrams and bigrams, reduced by LSA (truncated SVD) to dense vectors;
3. k-means on the unit-length LSA vectors, seeded; with ``n_themes="auto"`` K maximises the cosine
   silhouette on a seeded sample;
4. texts far from every centroid (cosine below ``other_threshold``) and themes smaller than
   ``min_theme_size`` become ``other``;
5. labels are the top phrases of each theme by class-based TF-IDF (c-TF-IDF) over lemma n-grams, shown
   in the surface form customers wrote most often.
"""
from __future__ import annotations

import json
import pickle
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from .errors import ConfigError, InputError, ModelError
from .schema import OTHER_THEME_ID, OTHER_THEME_LABEL
from .text import content_tokens

#: bump when the saved format changes; load() refuses other versions with a clear message
FORMAT_VERSION = 1
#: K candidates tried by n_themes="auto" (clipped to what the data can support)
AUTO_K_CANDIDATES = (6, 8, 10, 12, 14, 16, 20, 24, 30)
#: texts sampled to choose K; silhouette is quadratic in the sample size
AUTO_K_SAMPLE = 3000
#: LSA dimensions (fewer when the vocabulary is small)
LSA_COMPONENTS = 100


@dataclass
class Theme:
    """One discovered theme, as saved in ``themes.json`` and shown in ``feedback themes show``."""

    theme_id: int
    label: str
    top_phrases: list[str]
    size: int
    examples: list[str] = field(default_factory=list)


def _lemma_docs(texts) -> list[str]:
    return [" ".join(lem for _, lem in content_tokens(t)) for t in texts]


def _surface_forms(texts, max_n: int = 3, limit: int = 20_000) -> dict[str, str]:
    """Most frequent surface form of every lemma n-gram, so labels read 'charged twice', not 'charge twice'."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for text in texts[:limit]:
        tokens = content_tokens(text)
        for n in range(1, max_n + 1):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i:i + n]
                counts[" ".join(t[1] for t in gram)][" ".join(t[0] for t in gram)] += 1
    return {lem: c.most_common(1)[0][0] for lem, c in counts.items()}


class ThemeModel:
    """Discover and assign pain-point themes.

    Parameters
    ----------
    n_themes : int or "auto"
        Number of themes, or "auto" to pick K by silhouette.
    min_theme_size : int
        Themes with fewer texts are folded into ``other``.
    other_threshold : float
        Cosine similarity to the nearest theme centroid below which a text is ``other``.
    tag_threshold : float
        A text is also tagged with a second (third …) theme when its similarity to it is at least this.
    seed : int
        Seed of every random step.

    >>> texts = ["refund not received", "where is my refund", "refund still missing"] * 5 + \\
    ...         ["app crashes on start", "the app crashes again", "crashes when I open the app"] * 5
    >>> model = ThemeModel(n_themes=2, min_theme_size=3).fit(texts)
    >>> sorted(t.label for t in model.themes_)
    ['app crashes', 'refund']
    >>> model.transform(["my refund is missing"])["theme_label"].tolist()
    ['refund']
    """

    def __init__(self, n_themes: int | str = "auto", min_theme_size: int = 15, other_threshold: float = 0.3,
                 tag_threshold: float = 0.45, seed: int = 42) -> None:
        self.n_themes = n_themes
        self.min_theme_size = min_theme_size
        self.other_threshold = other_threshold
        self.tag_threshold = tag_threshold
        self.seed = seed

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if self.n_themes != "auto" and (not isinstance(self.n_themes, (int, np.integer)) or self.n_themes < 2):
            raise ConfigError(f"The 'n_themes' parameter of ThemeModel must be an int >= 2 or 'auto'. Got {self.n_themes!r} instead.")
        if not 0 <= self.other_threshold < 1:
            raise ConfigError(f"The 'other_threshold' parameter must be in [0, 1). Got {self.other_threshold!r} instead.")

    def _embed(self, lemma_docs: list[str]) -> np.ndarray:
        vectors = self.svd_.transform(self.vectorizer_.transform(lemma_docs))
        return normalize(vectors)

    def _choose_k(self, vectors: np.ndarray) -> int:
        # Exact duplicates would let silhouette reward one theme per repeated text.
        usable = np.unique(np.round(vectors[np.linalg.norm(vectors, axis=1) > 0], 6), axis=0)
        max_k = max(2, len(usable) // max(self.min_theme_size, 1))
        candidates = [k for k in AUTO_K_CANDIDATES if k <= max_k] or [min(max_k, AUTO_K_CANDIDATES[0])]
        rng = np.random.default_rng(self.seed)
        sample = usable[rng.choice(len(usable), size=min(AUTO_K_SAMPLE, len(usable)), replace=False)]
        scores = {}
        for k in candidates:
            if k >= len(sample):
                continue
            labels = KMeans(n_clusters=k, n_init=2, random_state=self.seed).fit_predict(sample)
            scores[k] = silhouette_score(sample, labels, metric="cosine")
        self.k_scores_ = scores
        return max(scores, key=lambda k: (round(scores[k], 3), -k)) if scores else 2

    def fit(self, texts, y=None) -> "ThemeModel":
        """Learn themes from an iterable of cleaned texts."""
        self._check_params()
        texts = [str(t) for t in texts]
        lemma_docs = _lemma_docs(texts)
        non_empty = sum(bool(d) for d in lemma_docs)
        if non_empty < 4:
            raise InputError(f"themes need at least 4 texts with content words; got {non_empty}",
                             fix="use more data, or check that the text column holds the messages")
        # 1-2. TF-IDF over lemma n-grams, then LSA
        min_df = 2 if non_empty < 2000 else 3
        self.vectorizer_ = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2), min_df=min_df, max_df=0.5,
                                           sublinear_tf=True, max_features=50_000, dtype=np.float32)
        try:
            matrix = self.vectorizer_.fit_transform(lemma_docs)
        except ValueError:
            self.vectorizer_.set_params(min_df=1)
            matrix = self.vectorizer_.fit_transform(lemma_docs)
        self.vocabulary_ = self.vectorizer_.vocabulary_
        n_components = max(2, min(LSA_COMPONENTS, matrix.shape[1] - 1, non_empty - 1))
        self.svd_ = TruncatedSVD(n_components=n_components, random_state=self.seed).fit(matrix)
        vectors = normalize(self.svd_.transform(matrix))
        # 3. k-means with a chosen or automatic K
        k = self._choose_k(vectors) if self.n_themes == "auto" else int(self.n_themes)
        k = min(k, non_empty)
        kmeans = KMeans(n_clusters=k, n_init=4, random_state=self.seed).fit(vectors)
        centroids = normalize(kmeans.cluster_centers_)
        # 4. small themes fold into other; ids follow size so they read biggest first
        sims = vectors @ centroids.T
        nearest = sims.argmax(axis=1)
        best = sims.max(axis=1)
        assigned = np.where(best >= self.other_threshold, nearest, -1)
        sizes = Counter(assigned[assigned >= 0].tolist())
        kept = sorted((c for c, n in sizes.items() if n >= self.min_theme_size), key=lambda c: (-sizes[c], c))
        self.centroids_ = centroids[kept] if kept else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        primary = self._assign(vectors)[0]
        # 5. labels from class-based TF-IDF over phrases
        self.themes_ = self._describe(texts, lemma_docs, primary, vectors)
        self.n_features_in_ = matrix.shape[1]
        return self

    def _assign(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
        """Primary theme index (-1 other), its similarity, and all tags of each vector."""
        if len(self.centroids_) == 0:
            return np.full(len(vectors), -1), np.zeros(len(vectors)), [[] for _ in range(len(vectors))]
        sims = vectors @ self.centroids_.T
        nearest = sims.argmax(axis=1)
        best = sims[np.arange(len(sims)), nearest]
        primary = np.where(best >= self.other_threshold, nearest, -1)
        tags = []
        for row, p in zip(sims, primary):
            if p < 0:
                tags.append([])
                continue
            others = [int(j) for j in np.argsort(-row) if j != p and row[j] >= self.tag_threshold]
            tags.append([int(p)] + others[:2])
        return primary, best, tags

    def _describe(self, texts, lemma_docs, primary, vectors) -> list[Theme]:
        counter = CountVectorizer(token_pattern=r"\S+", ngram_range=(1, 3), min_df=2 if len(texts) > 20 else 1)
        try:
            counts = counter.fit_transform(lemma_docs)
        except ValueError:
            return [Theme(i, f"theme {i}", [], int((primary == i).sum())) for i in range(len(self.centroids_))]
        phrases = counter.get_feature_names_out()
        n_words = np.array([len(p.split()) for p in phrases])
        n_themes = len(self.centroids_)
        class_counts = np.vstack([np.asarray(counts[primary == i].sum(axis=0)).ravel() for i in range(n_themes)]) \
            if n_themes else np.zeros((0, len(phrases)))
        # c-TF-IDF (Grootendorst 2022): tf per class × log(1 + mean words per class / total frequency)
        totals = np.asarray(counts.sum(axis=0)).ravel()
        mean_words = class_counts.sum() / max(n_themes, 1)
        idf = np.log1p(mean_words / np.maximum(totals, 1))
        tf = class_counts / np.maximum(class_counts.sum(axis=1, keepdims=True), 1)
        ctfidf = tf * idf
        # Multi-word phrases read better than single words; prefer them when nearly as distinctive.
        ctfidf = ctfidf * np.where(n_words > 1, 1.6, 1.0)
        surface = _surface_forms([texts[i] for i in np.flatnonzero(primary >= 0)])
        themes, used_labels = [], set()
        for i in range(n_themes):
            order = np.argsort(-ctfidf[i], kind="stable")
            top = []
            for j in order[:40]:
                if class_counts[i, j] < 2:
                    continue
                phrase = surface.get(phrases[j], phrases[j])
                if any(phrase in t or t in phrase for t in top):
                    continue
                top.append(phrase)
                if len(top) == 8:
                    break
            label = next((p for p in top if p not in used_labels), f"theme {i}")
            used_labels.add(label)
            members = np.flatnonzero(primary == i)
            closeness = vectors[members] @ self.centroids_[i]
            examples = []
            for j in members[np.argsort(-closeness, kind="stable")]:
                text = texts[j].strip()
                if 4 <= len(text.split()) <= 60 and text not in examples:
                    examples.append(text)
                if len(examples) == 5:
                    break
            themes.append(Theme(i, label, top, int(len(members)), examples))
        return themes

    # ------------------------------------------------------------------ using
    def _check_fitted(self) -> None:
        if not hasattr(self, "themes_"):
            raise ModelError("This ThemeModel is not fitted yet. Call fit(texts) first, or ThemeModel.load(folder).")

    def transform(self, texts) -> pd.DataFrame:
        """Assign themes: a frame with ``theme_id``, ``theme_label``, ``theme_ids``, ``themes``, ``theme_score``."""
        self._check_fitted()
        texts = [str(t) for t in texts]
        vectors = self._embed(_lemma_docs(texts)) if texts else np.zeros((0, self.svd_.n_components))
        primary, best, tags = self._assign(vectors)
        labels = {t.theme_id: t.label for t in self.themes_}
        return pd.DataFrame({
            "theme_id": primary.astype(int),
            "theme_label": [labels.get(int(p), OTHER_THEME_LABEL) for p in primary],
            "theme_ids": tags,
            "themes": ["; ".join(labels[t] for t in tag) for tag in tags],
            "theme_score": np.round(best.astype(float), 4),
        })

    def fit_transform(self, texts, y=None) -> pd.DataFrame:
        texts = list(texts)
        return self.fit(texts).transform(texts)

    @property
    def other_id(self) -> int:
        return OTHER_THEME_ID

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> Path:
        """Write ``model.pkl`` (the fitted estimator) and ``themes.json`` (readable summary and version)."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "model.pkl", "wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        meta = {"format_version": FORMAT_VERSION, "params": self.get_params(), "themes": [asdict(t) for t in self.themes_]}
        (folder / "themes.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "ThemeModel":
        """Read a folder written by :meth:`save`; refuses a folder from another format version."""
        folder = Path(folder)
        meta_path, model_path = folder / "themes.json", folder / "model.pkl"
        if not meta_path.exists() or not model_path.exists():
            raise ModelError(f"{folder}: not a theme model folder (needs themes.json and model.pkl). "
                             "Fix: create one with `feedback themes fit FILE --out DIR`")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{folder}: theme model format {meta.get('format_version')} but this feedback reads "
                             f"format {FORMAT_VERSION}. Fix: refit with `feedback themes fit`")
        with open(model_path, "rb") as fh:
            model = pickle.load(fh)
        if not isinstance(model, cls):
            raise ModelError(f"{model_path}: does not hold a ThemeModel. Fix: refit with `feedback themes fit`")
        return model

    def get_params(self, deep: bool = True) -> dict:
        return {"n_themes": self.n_themes, "min_theme_size": self.min_theme_size, "other_threshold": self.other_threshold,
                "tag_threshold": self.tag_threshold, "seed": self.seed}

    def set_params(self, **params) -> "ThemeModel":
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"ThemeModel({args})"


def tag_themes(df: pd.DataFrame, model: ThemeModel | None = None, text_column: str = "clean_text",
               n_themes: int | str = "auto", min_theme_size: int = 15, seed: int = 42) -> tuple[pd.DataFrame, ThemeModel]:
    """Add the theme columns to a feedback frame, fitting a model on its usable rows when none is given.

    Rows kept out of the analysis (empty, non-English) get ``other`` and no tags.
    """
    from .schema import SKIP_REASONS

    out = df.copy()
    usable = ~out["quality_issue"].isin(SKIP_REASONS) if "quality_issue" in out.columns else pd.Series(True, index=out.index)
    texts = out.loc[usable, text_column].astype(str).tolist()
    if model is None:
        model = ThemeModel(n_themes=n_themes, min_theme_size=min_theme_size, seed=seed).fit(texts)
    assigned = model.transform(texts)
    for column in ("theme_id", "theme_label", "theme_ids", "themes", "theme_score"):
        default = {"theme_id": OTHER_THEME_ID, "theme_label": OTHER_THEME_LABEL, "theme_ids": None, "themes": "",
                   "theme_score": 0.0}[column]
        values = pd.Series([default] * len(out), index=out.index, dtype=object)
        values[usable.to_numpy()] = assigned[column].tolist()
        out[column] = values
    out["theme_ids"] = [v if isinstance(v, list) else [] for v in out["theme_ids"]]
    out["theme_id"] = out["theme_id"].astype(int)
    out["theme_score"] = out["theme_score"].astype(float)
    return out, model
