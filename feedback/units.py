"""Units: the parts of messages that themes are discovered on, and the vector space that compares them.

A pain point is a problem, not a whole message. A message of several sentences that say something ("My bag never
arrived. And I was on hold for two hours.") holds one unit per such sentence, so a long e-mail or a complaint
narrative splits into its separate issues, and each unit takes part in discovery on its own. A message with one
such sentence is one unit: its words around that sentence still say what it is about.

Two things every export holds are kept out of the units, because they recur without being a topic:

* boilerplate: a sentence that recurs word for word next to other sentences in many messages (a mailing-list
  footer, a signature, a disclaimer, a canned greeting; :func:`find_boilerplate`);
* words present everywhere in this corpus (the airline's "flight", the product's name, a redaction token): the
  static vector space weighs each token by how rare it is in the corpus (:class:`UnitSpace`).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from .embeddings import DEFAULT_STATIC_MODEL, load_static_model
from .sentiment import split_sentences
from .text import lemma_string, topic_text

#: a sentence is a unit of its own when it holds at least this many content words ("Not happy." and "Crashes!"
#: do not: they say how, not what)
UNIT_MIN_WORDS = 2
#: a message is split into units only when it holds at least this many content words: a short message (a tweet,
#: a chat line, a one-line query) is about one thing, and its sentences read apart lose what joins them ("I ordered
#: a card. It hasn't arrived?"). Measured at K fixed (benchmarks/painpoints.py): splitting from 12 words, airline
#: NMI 0.192 and Banking77 0.669; never splitting short texts, 0.199 and 0.684. Complaint narratives and e-mails
#: (CFPB: a median of well over 20) split.
SPLIT_MIN_WORDS = 20
#: a message is split into at most this many units (a pasted log or a thread does not outweigh everybody else)
MAX_UNITS_PER_MESSAGE = 12
#: boilerplate recurs next to other sentences in at least this many messages ...
BOILERPLATE_MIN_MESSAGES = 5
#: ... and this share of all messages (a mailing-list footer is in most; a complaint that many customers share
#: in the same words is never close to this in real exports)
BOILERPLATE_MIN_SHARE = 0.03
#: ... and has at least this many words (short recurring sentences, "Thanks!", hold no content words anyway)
BOILERPLATE_MIN_WORDS = 5
_NOT_WORD = re.compile(r"[\W_]+", re.U)
#: a unit that asks: it ends with "?" or opens like a question
_QUESTION = re.compile(
    r"(?is)^\W*(?:how|what|where|when|why|which|who|can|could|is|are|do|does|did|will|would|"
    r"should|may|has|have)\b|\?\s*\W*$"
)


def unit_key(sentence: str) -> str:
    """The sentence with case, punctuation and spacing folded: how recurring sentences are compared.

    >>> unit_key("To unsubscribe, e-mail: list@example.org") == unit_key("to unsubscribe e mail list example org")
    True
    """
    return _NOT_WORD.sub(" ", sentence.casefold()).strip()


def message_units(text: str, boilerplate: frozenset[str] = frozenset()) -> list[str]:
    """The units of one message: in a message of ``SPLIT_MIN_WORDS`` content words or more, each sentence of
    ``UNIT_MIN_WORDS`` or more when there are two or more of them; else the whole topic text (when it holds a
    content word). Sentences in ``boilerplate`` (keys of :func:`unit_key`) are left out.

    >>> message_units("@united My bag never arrived. And I was on hold for two hours!")
    ['My bag never arrived. And I was on hold for two hours!']
    >>> long = ("My checked suitcase never arrived at the Denver airport after the connecting flight from Chicago "
    ...         "last Monday, and the baggage desk had no record of it. Then I was kept on hold for two hours on your "
    ...         "phone line and the agent hung up on me twice without any explanation.")
    >>> len(message_units(long))
    2
    >>> message_units("Lost my bag. Thanks!")
    ['Lost my bag. Thanks!']
    """
    return split_message(text, boilerplate).units


class Split(NamedTuple):
    """A message cut for themes (:func:`split_message`), each text with its content lemmas
    (:func:`feedback.text.lemma_string`)."""

    units: list[str]
    unit_lemmas: list[str]
    #: its sentences of ``UNIT_MIN_WORDS`` content words or more (a short message's sentences are not units, but
    #: each may add a theme tag: ``ThemeModel.transform``)
    sentences: list[str]
    sentence_lemmas: list[str]


def message_sentences(text: str) -> tuple[str, list[str]]:
    """A message's topic text (:func:`feedback.text.topic_text`) and its sentences."""
    topic = topic_text(text)
    return topic, split_sentences(topic)


def split_message(
    text: str, boilerplate: frozenset[str] = frozenset(), sentences: tuple[str, list[str]] | None = None
) -> Split:
    """:func:`message_units` of a message, its sentences that say something, and their content lemmas
    (``sentences``: its :func:`message_sentences`, when already found)."""
    topic, sentences = sentences or message_sentences(text)
    if boilerplate:
        kept = [s for s in sentences if unit_key(s) not in boilerplate]
        if len(kept) < len(sentences):
            sentences, topic = kept, " ".join(kept)
    # sentences split at whitespace, so the topic's lemmas are its sentences' lemmas (each text lemmatized once)
    lemmas = [lemma_string(s) for s in sentences]
    said = [(s, lemma) for s, lemma in zip(sentences, lemmas) if lemma.count(" ") + 1 >= UNIT_MIN_WORDS and lemma]
    parts, part_lemmas = [s for s, _ in said], [lemma for _, lemma in said]
    if len(parts) >= 2 and sum(lemma.count(" ") + 1 for lemma in lemmas if lemma) >= SPLIT_MIN_WORDS:
        return Split(parts[:MAX_UNITS_PER_MESSAGE], part_lemmas[:MAX_UNITS_PER_MESSAGE], parts, part_lemmas)
    whole = " ".join(lemma for lemma in lemmas if lemma)
    return Split([topic] if whole else [], [whole] if whole else [], parts, part_lemmas)


def find_boilerplate(texts: list[str], sentences: list[tuple[str, list[str]]] | None = None) -> frozenset[str]:
    """Keys (:func:`unit_key`) of the sentences that recur next to other sentences in at least
    ``BOILERPLATE_MIN_MESSAGES`` messages and ``BOILERPLATE_MIN_SHARE`` of them: footers and signatures, not
    topics. A sentence that is a whole message somewhere is a message, not boilerplate. ``sentences``: the texts'
    :func:`message_sentences`, when already found.

    >>> footer = "To unsubscribe from this list, e-mail the list owner."
    >>> texts = [f"Problem {i} with the export button. {footer}" for i in range(20)]
    >>> sorted(find_boilerplate(texts))
    ['to unsubscribe from this list e mail the list owner']
    """
    beside, alone = Counter(), set()
    for _, found in sentences or map(message_sentences, texts):
        keys = {unit_key(s) for s in found}
        keys.discard("")
        if len(keys) == 1:
            alone.update(keys)
        elif keys:
            beside.update(keys)
    least = max(BOILERPLATE_MIN_MESSAGES, BOILERPLATE_MIN_SHARE * len(texts))
    return frozenset(
        key
        for key, count in beside.items()
        if count >= least and key not in alone and len(key.split()) >= BOILERPLATE_MIN_WORDS
    )


#: an @handle addressed in at least this share of the messages is the company's own: its name is a brand word
BRAND_MIN_SHARE = 0.01
_HANDLE = re.compile(r"(?<![\w@])@(\w{3,})")


def brand_pattern(texts: list[str]) -> str | None:
    """A regular expression of the brand words of a corpus, or None: the names of the @handles that at least
    ``BRAND_MIN_SHARE`` of the messages address (at least 3), as words. "@united" makes "united" a brand word, so
    "United lost my bag" and "lost my bag" are one complaint, and no theme is named after the company.

    >>> texts = ["@JetBlue my bag is lost", "@JetBlue thanks", "@jetblue JetBlue delayed again", "no handle"]
    >>> re.sub(brand_pattern(texts), " ", "JetBlue delayed again").split()
    ['delayed', 'again']
    """
    counts = Counter()
    for text in texts:
        if "@" in text:
            counts.update({name.lower() for name in _HANDLE.findall(text)})
    least = max(3, BRAND_MIN_SHARE * len(texts))
    names = sorted((name for name, count in counts.items() if count >= least), key=lambda n: (-len(n), n))
    if not names:
        return None
    return r"(?i)(?<![\w@#])#?(?:" + "|".join(map(re.escape, names)) + r")(?!\w)"


def is_question(unit: str) -> bool:
    """Does the unit ask something.

    >>> is_question("How do I change the currency on an invoice"), is_question("The app crashes?!"), \\
    ...     is_question("The export fails")
    (True, True, False)
    """
    return bool(_QUESTION.search(unit))


# ----------------------------------------------------------------------------------------------- vector space

#: corpus weight of a token: a / (a + share of units holding it) (Arora et al. 2017, "smooth inverse frequency",
#: with document shares). A word in every unit ("flight" in airline tweets, "XXXX" in redacted complaints, the
#: product's name) weighs a third of a word in 1% of them at a = 0.5, so it cannot make units alike by itself
SIF_SMOOTHING = 0.5
#: content words of the fit units that take part in the concept block (the most frequent ones, seen in at least
#: CONCEPT_MIN_UNITS units): a cap that bounds the word-clustering's memory (quadratic in it)
CONCEPT_MAX_WORDS = 4_000
CONCEPT_MIN_UNITS = 3
#: words per concept on average: the words are grouped into len(words) / this many concepts by their vectors
#: ("bag", "luggage", "baggage", "suitcase" are one concept), so two units that say one thing in other words
#: share a concept
WORDS_PER_CONCEPT = 3
#: dimensions of the concept block (latent semantic analysis of the concepts' TF-IDF)
CONCEPT_COMPONENTS = 100
#: weight of the concept block beside the static embedding (both unit length). Measured at fixed K, units split
#: from 12 content words: the negative airline tweets' reasons, NMI 0.15 without the block, 0.19 at 0.5, 0.20 at
#: 0.7; Banking77 at K=77, 0.656 without, 0.661 at 0.5 (it fell to 0.616 when concepts in 8%+ of units were
#: dropped, a rule since removed)
CONCEPT_WEIGHT = 0.5


#: rows of the distance matrix computed at once by :func:`average_linkage_groups`
LINKAGE_BLOCK = 256


def average_linkage_groups(X: np.ndarray, n_groups: int) -> np.ndarray:
    """The group of each row when average-linkage clustering by cosine distance cuts the rows into ``n_groups``,
    numbered as ``AgglomerativeClustering(n_clusters=n_groups, metric="cosine", linkage="average")`` numbers them.

    The distances come from matrix products, a block of rows at a time, instead of scipy's pairwise loop (1.7 s
    for 4,000 words, against 0.2 s); the rows must not be zero. The groups are sklearn's, except where distances
    tie exactly (identical rows: words the tokenizer reads alike), whose order of merging may differ in the last
    bit; the result is deterministic either way.

    >>> average_linkage_groups(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]), 2).tolist()
    [1, 1, 0, 0]
    """
    from scipy.cluster.hierarchy import linkage

    unit = np.asarray(X, dtype=np.float64)
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    n_leaves = len(unit)
    # the condensed distance vector (pair i < j), filled a block of rows at a time: no n × n matrix
    condensed = np.empty(n_leaves * (n_leaves - 1) // 2)
    at = 0
    for start in range(0, n_leaves, LINKAGE_BLOCK):
        block = unit[start : start + LINKAGE_BLOCK] @ unit[start:].T
        np.subtract(1.0, block, out=block)
        np.clip(block, 0.0, 2.0, out=block)
        for offset, row in enumerate(block):
            tail = row[offset + 1 :]
            condensed[at : at + len(tail)] = tail
            at += len(tail)
    children = linkage(condensed, method="average")[:, :2].astype(np.intp)
    # the cut of sklearn's _hc_cut: split the top nodes, highest id first, until there are n_groups
    nodes = [-(n_leaves + len(children) - 1)]
    for _ in range(n_groups - 1):
        left, right = children[-nodes[0] - n_leaves]
        heapq.heappush(nodes, -left)
        heapq.heappushpop(nodes, -right)
    groups = np.zeros(n_leaves, dtype=np.intp)
    for group, node in enumerate(nodes):
        stack = [-node]
        while stack:
            top = stack.pop()
            if top < n_leaves:
                groups[top] = group
            else:
                stack.extend(children[top - n_leaves])
    return groups


class UnitSpace:
    """The static vector space of units: a corpus-weighted static embedding, with a block of word concepts.

    ``fit`` learns, from the units themes are discovered on, each token's corpus weight (:data:`SIF_SMOOTHING`)
    and the concepts of the frequent content words (groups of words whose vectors are close, by average-linkage
    clustering); ``transform`` gives unit-length rows ``[embedding, CONCEPT_WEIGHT × concepts]``. Deterministic.

    The embedding leaves out the table's common direction (``common_direction.npy`` of the model folder, see
    ``scripts/build_common_direction.py``): the way averaged token vectors of any customer text lean, whatever it
    is about. Left in, it makes all units alike (Banking77: median cosine 0.68 between theme centroids). Measured
    with benchmarks/painpoints.py, Banking77 at K=77: NMI 0.681 → 0.711 on train, 0.693 → 0.712 on a 3,080-query
    sample; auto K 0.692 → 0.709 and 0.681 → 0.694; the airline reasons 0.259 → 0.261 at auto K; CFPB issues
    0.277 → 0.259 (K 39 → 42; TF-IDF+KMeans at that K 0.244 → 0.251). A corpus's own mean did as well on those,
    but where one complaint is most of the texts its mean is that complaint, and taking it out scattered it.
    """

    def __init__(self, model_path=None, concept_weight: float | None = None, seed: int = 0) -> None:
        self.model_path = model_path
        self.concept_weight = concept_weight
        self.seed = seed

    def _static(self):
        return load_static_model(self.model_path or DEFAULT_STATIC_MODEL)

    def fit(self, units: list[str], lemma_docs: list[str]) -> "UnitSpace":
        static = self._static()
        ids = static.token_ids([u[: static.max_chars] for u in units])
        held = np.zeros(len(static.vectors), dtype=np.float64)
        for row in ids:
            held[np.unique(np.asarray(row, dtype=np.int64))] += 1
        share = held / max(len(units), 1)
        self.token_weights_ = (SIF_SMOOTHING / (SIF_SMOOTHING + share)).astype(np.float32)
        self.common_direction_ = static.common_direction
        self.concepts_ = None
        counter = CountVectorizer(
            token_pattern=r"\S+",
            min_df=min(CONCEPT_MIN_UNITS, max(1, len(units) // 10)),
            max_features=CONCEPT_MAX_WORDS,
        )
        try:
            counts = counter.fit_transform(lemma_docs)
        except ValueError:  # no word in enough units
            return self
        words = counter.get_feature_names_out()
        n_concepts = len(words) // WORDS_PER_CONCEPT
        if n_concepts < 3 or len(units) < 10:
            return self
        word_vectors = static.encode(list(words))
        concept_of = average_linkage_groups(
            np.where(np.linalg.norm(word_vectors, axis=1, keepdims=True) > 0, word_vectors, 1e-3), n_concepts
        )
        mapping = csr_matrix(
            (np.ones(len(words), dtype=np.float32), (np.arange(len(words)), concept_of)), shape=(len(words), n_concepts)
        )
        self.vocabulary_ = counter.vocabulary_
        self.mapping_ = mapping
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts @ self.mapping_)
        n_components = max(1, min(CONCEPT_COMPONENTS, n_concepts - 1, len(units) - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            self.svd_ = TruncatedSVD(n_components=n_components, random_state=self.seed).fit(
                self.tfidf_.transform(counts @ self.mapping_)
            )
        self.concepts_ = n_concepts
        return self

    def transform(self, units: list[str], lemma_docs: list[str]) -> np.ndarray:
        vectors = self._static().encode(units, token_weights=self.token_weights_)
        common = getattr(self, "common_direction_", None)  # None: a model folder without one, or an older fit
        if common is not None and len(vectors):
            vectors = normalize(vectors - np.outer(vectors @ common, common)).astype(np.float32)
        if self.concepts_ is None or not len(units):
            return vectors
        counter = CountVectorizer(token_pattern=r"\S+", vocabulary=self.vocabulary_)
        concepts = normalize(self.svd_.transform(self.tfidf_.transform(counter.transform(lemma_docs) @ self.mapping_)))
        # a unit without a known content word has no concept: its row is the embedding alone
        weight = CONCEPT_WEIGHT if self.concept_weight is None else self.concept_weight
        return normalize(np.hstack([vectors, weight * concepts.astype(np.float32)])).astype(np.float32)
