"""Themes: discover recurring pain points, label them in words a person would write, and tag every text.

:class:`ThemeModel` follows the scikit-learn estimator contract: ``__init__`` only stores parameters,
``fit`` learns ``themes_``, ``centroids_`` …, ``transform`` assigns themes to new texts,
``save``/``load`` write a folder with a readable ``themes.json`` and a version check.

Method (as in :meth:`ThemeModel.fit`; :meth:`ThemeModel.method_description` is the report's wording of it):

1. units (:mod:`feedback.units`): a long message splits into its sentences that say something, a short one stays
   whole; @handles, links, contact details, the company's brand words and boilerplate that recurs across messages
   are left out. Each theme is discovered on units, so a long e-mail carries each of its issues;
2. vectors: the shipped static embedding, each token weighted by its rarity in this corpus and the direction all
   customer text shares in the table left out, joined by a block of word concepts
   (:class:`feedback.units.UnitSpace`); or TF-IDF + LSA, or a transformer. A taxonomy (the shipped preset of the
   data's domain, ``models/taxonomies``, when one fits: ``DEFAULT_TAXONOMY_FIT``; or a team's own) adds a guide block
   that pulls units matching one of its themes' seed phrases together;
3. praising units and the rest are clustered apart, by deterministic Ward (:mod:`feedback.clustering`); with
   ``n_themes="auto"`` one theme per ``AUTO_UNITS_PER_THEME`` units, at most ``AUTO_MAX_THEMES``, or a finer cut
   of the tree (up to ``AUTO_MAX_STABLE_THEMES``) where resampling reproduces it;
4. themes with fewer than ``min_theme_size`` units (lower in small inputs) as similar to the rest of their theme
   as to be in it are dropped, units far from every theme are ``other``; each theme is a pain point, praise or a
   question by what its units do;
5. labels are the phrases most of a theme's units say and few others do, shown as customers wrote them; a message
   takes the theme its units weigh most for, and up to ``MAX_EXTRA_TAGS`` more.
"""

from __future__ import annotations

import json
import pickle
import re
import warnings
import tomllib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from scipy.sparse import csr_matrix
from sklearn.preprocessing import normalize

from .resources import TAXONOMY_DIR, TAXONOMY_PRESETS
from .errors import ConfigError, InputError, ModelError
from .clustering import (
    ASSIGNMENTS,
    AUTO_GRANULARITY,
    MAX_FIT as MAX_FIT_ROWS,
    STABLE_AMI,
    fit_clusters,
    smallest_keys,
    split_cluster,
    vote,
)
from .schema import OTHER_THEME_ID, OTHER_THEME_LABEL
from .vader import compound
from .units import (
    SPLIT_MIN_WORDS,
    UnitSpace,
    brand_pattern,
    find_boilerplate,
    is_question,
    message_sentences,
    split_message,
)
from .text import KEPT_FUNCTION_WORDS, PHRASE_BREAKS, REDACTION_MARK, lemma_string, phrase_lemmas, words_and_content

#: the preset a taxonomy file's documentation points to as the example to copy
DEFAULT_TAXONOMY = TAXONOMY_DIR / "software.toml"

#: a label phrase grows by a word when the longer phrase occurs at least this share as often in the theme
#: ("archive old" -> "archive old clients"): more words, same coverage, reads more like a person wrote it
EXTEND_SHARE = 0.8
#: bump when the saved format changes; load() refuses other versions with a clear message
FORMAT_VERSION = 1
#: n_themes="auto" first over-clusters into this many groups (fewer when the data is small) ...
AUTO_K_START = 24
#: ... then merges groups whose centroids are closer than this cosine similarity: the stated criterion for K
AUTO_MERGE_SIMILARITY = 0.4
#: a unit praises when VADER's compound is at least this (VADER's "positive" in its own paper is 0.05; a
#: complaint with "thanks" in it reaches 0.4 easily, a unit that only praises 0.5 and more)
PRAISE_UNIT_SENTIMENT = 0.5
#: a theme is a question when at least this share of its units ask ...
QUESTION_SHARE = 0.5
#: ... and their mean VADER score is above this (a question that complains, "Why is my refund not here yet?!",
#: is a pain point)
QUESTION_MAX_NEGATIVE = -0.05
#: how much a praising unit weighs when a message's own theme is chosen (other units weigh 1 to 2)
PRAISE_UNIT_WEIGHT = 0.25
#: a unit's vote is spread over the themes by a softmax of its cosine to each, at this temperature: a message whose
#: units sit between two themes goes to the one they are all near, not to whichever one of them is nearest. It
#: only matters to messages of several units: in benchmarks/painpoints.py, the CFPB narratives' NMI against
#: ``issue`` is 0.279 at 0.05, 0.286 at 0.1, 0.294 at 0.2 and 0.299 at 0.3, the airline tweets' 0.261 up to 0.2
#: and 0.259 at 0.3; Banking77 (one unit per query) and the sample data do not move
VOTE_TEMPERATURE = 0.2
#: fewer texts with content words than this and there is nothing recurring to discover: every text is "other"
MIN_FIT_TEXTS = 4


class FitNoteWarning(UserWarning):
    """A theme fit that succeeded with a caveat the user should read (e.g. too few texts for any theme)."""


#: taxonomy="default" uses the preset whose seeds match the largest share of the units, and only when at least this
#: share. Measured on the units themes are fitted on: a preset matches its own domain's 48-64% (software the bundled
#: sample 59%, travel airline tweets 53%, banking Banking77 64% and CFPB complaints 48%; retail product-review
#: sentences 24-36%) and another domain's by accident, up to 35% (telecom on the sample: "plan", "bill"), so the
#: largest share decides. The software taxonomy applied to everything once named airline complaints "slow
#: performance" and fraud complaints "helpful support". Where no preset reaches this share (VADER's tweets: 9% at
#: best, Yelp restaurant reviews 7%) themes come from the data alone. A team's own taxonomy always applies
DEFAULT_TAXONOMY_FIT = 0.2
#: the presets' shares are measured on at most this many units (those of smallest stable_sample_keys)
PRESET_FIT_SAMPLE = 5_000
#: a discovered theme takes a taxonomy name when at least this share of its texts match that name's seeds
GUIDE_LABEL_SHARE = 0.5
#: themes are discovered on at most this many texts (of larger inputs, those of smallest stable_sample_keys);
#: every text is tagged.
#: 20,000 texts hold a theme of 0.5% with ~100 examples, and keep fitting time flat as inputs grow
MAX_FIT_TEXTS = 20_000
#: ... and found among at most this many times as many messages (of larger inputs, those of smallest keys): a
#: message holds a unit or more, and most units say enough to learn from (tweets, Banking77 queries: 9 in 10;
#: at worst MIN_INFORMATIVE_SHARE), so 1.5x finds about MAX_FIT_TEXTS units while splitting half as many
#: messages as 3x did (fit time on the 100k throughput benchmark: about 2 s less)
FIT_POOL_SHARE = 1.5
#: themes a text is tagged with besides its own, at most
MAX_EXTRA_TAGS = 2
#: a theme splits into one sub-theme per this many of its fit units (Ward within the theme), at most
#: MAX_SUBTHEMES: the drill-down of a theme of 400 units shows 4 groups a person can read, each ~100 units
SUBTHEME_UNITS = 100
MAX_SUBTHEMES = 8
#: ... by Ward's method on at most this many of its units (those of smallest stable_sample_keys; the rest join
#: the nearest sub-theme): its cost grows with the square of the units (feedback.clustering.split_cluster)
SUBTHEME_MAX_FIT = 600
#: sub-theme labels come from the phrases among each theme's top this many (the surface forms of these are read
#: with the themes' own, in one scan of the texts)
SUBTHEME_PHRASES = 150

#: vector spaces a ThemeModel can cluster in
EMBEDDINGS = ("static", "tfidf", "minilm")
#: default cosine below which a text is "other", per vector space: LSA vectors of short texts are far apart
#: (0.3); in the static space (feedback.units.UnitSpace, its common direction left out) 0.3 leaves 8% of the
#: airline tweets and 1% of Banking77 "other" (benchmarks/painpoints.py), as 0.5 did with the direction in
DEFAULT_OTHER_THRESHOLD = {"tfidf": 0.3, "static": 0.3, "minilm": 0.35}
#: ... and in a static folder without a common direction (embeddings.COMMON_DIRECTION_FILE), where every unit keeps
#: it: the static table then puts 99% of Banking77 texts above 0.63 to their theme
RAW_STATIC_OTHER_THRESHOLD = 0.5
#: weight of the taxonomy block appended to an embedding: two texts matching the same taxonomy theme gain
#: about w²/(1+w²) ≈ 0.33 cosine, enough to join paraphrases, not enough to merge unrelated texts
GUIDE_EMBEDDING_WEIGHT = 0.7
#: a text matching one taxonomy theme's seeds joins the theme of that name at this share of other_threshold
PIN_RELAX = 0.5
# How far the taxonomy reaches. A team's own taxonomy file is always respected: its seeds pull texts together
# (the guide block above), pin texts to the theme of that name, merge groups and name themes. The shipped default
# taxonomy is a guide, not a cage: with n_themes="auto" it does the same (it sets the granularity of the topics it
# knows: "refund" is one theme, not five), but with a fixed K the user has chosen the granularity and the default
# only names the themes it matches. On Banking77 at K=77, whose intents are finer than the default's topics
# ("refund not showing", "request refund"), pulling and pinning cost 0.08 NMI (0.611 vs 0.687, benchmarks/themes.py).
#: on a refit, a new theme continues an old one when at least this share of its texts fell in that old theme
CONTINUITY_SHARE = 0.5
#: ... and keeps the old label while at least this share of its texts hold the label's words (else it is relabelled
#: from its own phrases, keeping its id): a label that 1 text in 10 says does not name the theme
LABEL_KEEP_SHARE = 0.1
#: in small inputs a theme may be smaller than min_theme_size, down to this share of the texts (but >= 3)
SMALL_DATA_THEME_SHARE = 0.05
#: with a fixed number of themes, min_theme_size goes down to this share of the average theme (units / K), at
#: least 3: asked for 77 themes in 3,080 Banking77 queries (40 a theme), a minimum of 15 dropped 8 of them
#: (69 themes, NMI 0.679); at 10 a theme, 75 themes and 0.692
FIXED_K_MIN_SIZE_SHARE = 0.25
#: how strongly a taxonomy match pulls texts together: repetitions of the guide token added to the text
GUIDE_TOKEN_REPEAT = 2
#: LSA dimensions (fewer when the vocabulary is small)
LSA_COMPONENTS = 100
#: texts with fewer content words than this ("Fine.", "Nothing to add.") carry no topic to learn from; they are
#: left out of discovery and only tagged when they clearly match a theme
MIN_CONTENT_WORDS = 3
#: ... unless that would leave out most texts: then the corpus is one of short messages ("app crashes",
#: "refund my money": two content words that name a topic) and the bar is lowered, down to one word, until at
#: least this share of the non-empty texts takes part. Banking77 (76% of texts have 3+ content words) and the
#: sample data (81%) are unchanged by it.
MIN_INFORMATIVE_SHARE = 0.5
#: negations and other function words kept for readable labels ("refund not received") but not clustered on:
#: alone they say nothing about the topic and would pull every complaint together
LABEL_ONLY_WORDS = frozenset({"not", "no", "never", "nothing", "again", "without", "cannot", "over", "off", "down"})


@dataclass(frozen=True)
class GuideTheme:
    """A taxonomy entry: a name and its seed phrases as lemmas."""

    name: str
    seeds: tuple[str, ...]
    #: seeds that lose words to the stop list ("timed out" is "time" in content lemmas), as (content lemmas,
    #: every word's lemma): they match only where the whole phrase is ("time out"), not wherever the content
    #: word is ("extra time")
    phrases: tuple[tuple[str, str], ...] = ()


def load_taxonomy(path: str | Path = DEFAULT_TAXONOMY) -> tuple[GuideTheme, ...]:
    """Read a taxonomy TOML file (see ``models/taxonomies/README.md`` for the format and how to edit it)."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(
            f"{path}: is a folder; the taxonomy is a TOML file",
            fix="give the file's path, e.g. a copy of a preset in models/taxonomies",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: taxonomy file not found",
            fix=f"check the path, or name a shipped preset ({', '.join(TAXONOMY_PRESETS)}), 'default' or 'none'",
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(
            f"{path}: not valid TOML ({exc})", fix="compare with the presets in models/taxonomies"
        ) from None
    themes = []
    for i, entry in enumerate(data.get("theme", []), start=1):
        name, seeds = entry.get("name"), entry.get("seeds")
        if not isinstance(name, str) or not name.strip() or not isinstance(seeds, list) or not seeds:
            raise ModelError(
                f"{path}: theme {i} needs a name and a non-empty list of seeds",
                fix='[[theme]] name = "refund" seeds = ["refund", "money back"]',
            )
        lemmas, phrases = [], []
        for seed in map(str, seeds):
            words, content = words_and_content(seed)
            content_lemmas = " ".join(lem for _, _, lem in content)
            if not content_lemmas:
                continue  # only stop words ("helpful", "support team"): nothing of the topic to look for
            if len(content) == len(words):
                lemmas.append(content_lemmas)
            else:
                phrases.append((content_lemmas, phrase_lemmas(seed)))
        themes.append(GuideTheme(name.strip(), tuple(dict.fromkeys(lemmas)), tuple(dict.fromkeys(phrases))))
    return tuple(themes)


def _guide_patterns(guide: tuple[GuideTheme, ...]) -> list[re.Pattern]:
    return [
        re.compile(
            r"(?<!\S)(?:" + "|".join(re.escape(seed) for seed in sorted(g.seeds, key=len, reverse=True)) + r")(?!\S)"
        )
        for g in guide
    ]


@lru_cache(maxsize=8)
def _seed_index(
    guide: tuple[GuideTheme, ...],
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[tuple[int, str, tuple[str, ...]], ...]], int]:
    """Each seed phrase -> the taxonomy themes listing it; the content lemmas of each whole-phrase seed -> (theme,
    " phrase ", its other words); and the most words a seed has."""
    index: dict[str, tuple[int, ...]] = {}
    phrases: dict[str, tuple[tuple[int, str, tuple[str, ...]], ...]] = {}
    for j, theme in enumerate(guide):
        for seed in theme.seeds:
            if j not in index.get(seed, ()):
                index[seed] = index.get(seed, ()) + (j,)
        for content, phrase in getattr(theme, "phrases", ()):
            others = tuple(w for w in phrase.split() if w not in content.split())
            phrases[content] = phrases.get(content, ()) + ((j, f" {phrase} ", others),)
    return index, phrases, max((seed.count(" ") + 1 for seed in [*index, *phrases]), default=0)


@lru_cache(maxsize=8)
def _seed_first_words(guide: tuple[GuideTheme, ...]) -> frozenset[str]:
    """The first words of the seeds (and whole-phrase contents) of two or more words: only there can one start."""
    index, phrases, _ = _seed_index(guide)
    return frozenset(seed.split()[0] for seed in [*index, *phrases] if " " in seed)


def _match_seeds(lemma_docs: list[str], guide: tuple[GuideTheme, ...], texts: list[str] | None = None) -> np.ndarray:
    """Boolean matrix: does lemma doc i hold a seed phrase of taxonomy theme j as whole words.

    The same as searching each doc with ``_guide_patterns`` (a seed between whitespace or the ends), done as
    look-ups of each doc's word n-grams; a doc whose words are not separated by single spaces is searched with
    the patterns. A whole-phrase seed (``GuideTheme.phrases``) matches when the doc holds its content lemmas and
    :func:`feedback.text.phrase_lemmas` of ``texts[i]`` (the doc's text) holds the phrase; without ``texts``, never.
    """
    out = np.zeros((len(lemma_docs), len(guide)), dtype=bool)
    if not guide:
        return out
    index, phrase_index, max_n = _seed_index(guide)
    firsts = _seed_first_words(guide)
    patterns = None
    for i, doc in enumerate(lemma_docs):
        if not doc:
            continue
        words = doc.split()
        hits: set[int] = set()
        candidates: list[tuple[int, str]] = []
        if " ".join(words) != doc:
            patterns = patterns or _guide_patterns(guide)
            hits.update(j for j, p in enumerate(patterns) if p.search(doc))
            candidates = [
                c
                for content, found in phrase_index.items()
                if re.search(r"(?<!\S)" + re.escape(content) + r"(?!\S)", doc)
                for c in found
            ]
        else:
            for k, word in enumerate(words):
                found = index.get(word)
                if found:
                    hits.update(found)
                if word in phrase_index:
                    candidates.extend(phrase_index[word])
                if word not in firsts:
                    continue
                for n in range(2, min(max_n, len(words) - k) + 1):
                    gram = " ".join(words[k : k + n])
                    found = index.get(gram)
                    if found:
                        hits.update(found)
                    if gram in phrase_index:
                        candidates.extend(phrase_index[gram])
        if candidates and texts is not None:
            # the phrase's function words are written as they are: a text without them cannot hold it, and
            # lemmatizing every text that says "time" to look for "time out" costs as much as the rest of the match
            lower = texts[i].lower().replace("’", "'")  # as feedback.text reads words
            candidates = [
                (j, phrase) for j, phrase, others in candidates if j not in hits and all(w in lower for w in others)
            ]
            if candidates:
                whole = f" {phrase_lemmas(texts[i])} "
                hits.update(j for j, phrase in candidates if phrase in whole)
        if hits:
            out[i, list(hits)] = True
    return out


@dataclass
class Theme:
    """One discovered theme, as saved in ``themes.json`` and shown in ``feedback themes show``."""

    theme_id: int | str  # a sub-theme's is "t.k" (see subthemes)
    label: str
    top_phrases: list[str]
    size: int
    examples: list[str] = field(default_factory=list)
    #: "discovered" on a first fit; on a refit with a previous model: "kept" (same id and label as a current
    #: theme), "returned" (same id and label as a theme gone earlier), "split" (most of its texts were in a
    #: previous theme that another theme keeps: ``split_from``) or "emerging" (new); "added" when a person made
    #: it from examples, and "split" with ``split_from`` when a person split a theme (feedback.curation)
    status: str = "discovered"
    split_from: int | None = None
    #: what its units do: "pain point" (report a problem), "praise" (discovered from praising units) or
    #: "question" (most of its units ask, and they are not negative); None in models fitted on whole messages,
    #: which did not tell (the report then judges by the sentiment the theme gets)
    kind: str | None = "pain point"
    #: its sub-themes, finer groups of its units for drill-down: each a Theme with its own label, phrases, examples
    #: and the id "t.k" (its k-th, from 1, of theme t); empty for a theme too small to split
    subthemes: list["Theme"] = field(default_factory=list)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({"kind": None, "subthemes": [], **state})


def stable_sample_keys(texts) -> np.ndarray:
    """A sampling key per text (uint64): a hash of the text and of how many times the same text came before it.

    Large inputs are fitted on the texts with the smallest keys. Unlike a seeded random draw, that choice depends
    neither on the seed nor on the order of unrelated rows: two seeds fit the same texts, and next week's refit on
    the cumulative data re-uses most of this week's sample. Counting occurrences keeps a text that recurs ("No
    complaints so far.") in the sample in proportion, rather than all of its copies or none.
    """
    return keys_from_hashes(text_hashes(texts))


def text_hashes(texts) -> np.ndarray:
    """A 64-bit hash per text, the same in every run and on every machine (pandas' fixed-key hash)."""
    return pd.util.hash_pandas_object(pd.Series(list(texts), dtype=object), index=False).to_numpy()


def keys_from_hashes(hashes: np.ndarray) -> np.ndarray:
    """:func:`stable_sample_keys` from the texts' :func:`text_hashes`, in input order (for inputs read in chunks)."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    occurrence = pd.Series(hashes).groupby(hashes, sort=False).cumcount().to_numpy().astype(np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is intended
        return pd.util.hash_array(hashes ^ (occurrence * np.uint64(0x9E3779B97F4A7C15)))


def _lemma_docs(texts) -> list[str]:
    return [lemma_string(t) for t in texts]


#: a multi-word phrase's label score is multiplied by this: "lost bag" beats "bag" unless "bag" is much more
#: distinctive of the theme
MULTIWORD_PREFERENCE = 1.6
#: a word held by at least this share of all units is everywhere in this data: never a label on its own
UBIQUITOUS_SHARE = 0.1
#: the label is the first phrase of several words among a theme's top phrases up to this rank ...
LABEL_PHRASE_RANK = 4
#: ... that at least this share as many of its units say as its top phrase (see _label_candidates)
LABEL_PHRASE_COVER = 0.3
#: a one-word label becomes the phrase holding it that at least this share of the word's units in the theme say
WIDEN_SHARE = 0.3
#: words that never label a theme on their own, and phrases made only of them: they say when, where or how a
#: customer wrote, not what is wrong (chat and social filler, time words, stand-ins for a ticket or message)
LABEL_FILLER = frozenset(
    """
yes yeah yep ok okay dm pm tweet tweets rt amp lol omg pls plz thx ty u ur im dont cant wont
today tomorrow tonight yesterday now date dates day days week weeks month months year years
hour hours min mins minute minutes
second seconds time times morning night evening weekend monday tuesday wednesday thursday friday saturday sunday
thing things way lot guy guys people person someone anyone everyone something anything everything
good great bad nice ok fine well better best worst sure right thank thanks
message email mail ticket case number call reply answer question
tell say ask try receive send issue problem experience state speak explain inform ago idea able
""".split()
)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` highest scores, highest first, ties by position: ``np.argsort(-scores,
    kind="stable")[:n]`` without sorting all of them."""
    if len(scores) <= n:
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, len(scores) - n)[len(scores) - n]
    above = np.flatnonzero(scores >= threshold)  # ties at the threshold all come, in position order
    return above[np.argsort(-scores[above], kind="stable")][:n]


def _similarity_to_the_others(vectors: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each row's cosine to the mean of the other rows of its group (-1 where it is alone in it).

    >>> rows = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    >>> _similarity_to_the_others(rows, np.array([0, 0, 0, 1])).round(2).tolist()
    [0.0, 0.0, 0.0, -1.0]
    """
    if len(group) and group.min() < 0:
        raise ValueError("every row needs a group (>= 0)")
    rows = np.asarray(vectors, dtype=np.float64)
    sums = np.zeros((int(group.max()) + 1 if len(group) else 0, rows.shape[1]))
    np.add.at(sums, group, rows)
    with_itself = np.einsum("ij,ij->i", rows, sums[group])
    own = np.einsum("ij,ij->i", rows, rows)
    rest = np.einsum("ij,ij->i", sums, sums)[group] - 2 * with_itself + own
    alone = rest <= 1e-12
    return np.where(alone, -1.0, (with_itself - own) / np.sqrt(np.where(alone, 1.0, rest)))


def _soft_votes(similarities: np.ndarray) -> np.ndarray:
    """Each row's vote spread over the columns: a softmax of its cosines at ``VOTE_TEMPERATURE``."""
    spread = np.exp((similarities - similarities.max(axis=1, keepdims=True)) / VOTE_TEMPERATURE)
    spread /= spread.sum(axis=1, keepdims=True)
    return spread


def _class_counts(assignment: np.ndarray, n_classes: int, counts) -> tuple:
    """How many of each class's docs (``assignment``: a class per doc, -1 none) hold each column of ``counts`` (a
    binary doc × phrase matrix), as a sparse classes × phrases matrix, and each class's size (at least 1)."""
    members = np.flatnonzero((assignment >= 0) & (assignment < n_classes))
    membership = csr_matrix((np.ones(len(members)), (assignment[members], members)), shape=(n_classes, len(assignment)))
    sizes = np.maximum(np.bincount(assignment[members], minlength=n_classes), 1).astype(float)
    return (membership @ counts).tocsr(), sizes


class _PhraseScores:
    """Each theme's phrase counts and label scores (see :meth:`ThemeModel._describe`), one theme at a time: dense
    themes × phrases arrays are 60 MB apiece for 160 sub-themes, and fresh pages that size cost more than the
    arithmetic."""

    def __init__(
        self,
        primary: np.ndarray,
        n_themes: int,
        phrase_counts: tuple,
        n_docs: int,
        parent_of: np.ndarray | None = None,
        parents: np.ndarray | None = None,
    ) -> None:
        counts, _, n_words, never_labels = phrase_counts
        self.counts, self.sizes = _class_counts(primary, n_themes, counts)
        self.corpus_share = np.asarray(counts.sum(axis=0)).ravel() / max(n_docs, 1)
        self.parents = parents
        if parent_of is not None:
            self.parent_counts, self.parent_sizes = _class_counts(parent_of, int(parent_of.max()) + 1, counts)
        # a phrase a person would say names a problem better than a word: preferred when nearly as distinctive
        self.preference = np.where(n_words > 1, MULTIWORD_PREFERENCE, 1.0)
        # a word most units hold ("flight" in airline tweets) names no theme alone; in a phrase it may
        self.unfit = never_labels | ((n_words == 1) & (self.corpus_share >= UBIQUITOUS_SHARE))

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Theme ``i``'s count of units holding each phrase, and each phrase's score."""
        counts = self.counts[i].toarray().ravel()
        share = counts / self.sizes[i]
        # share × log(share / baseline share) where the theme says it more often than the baseline does, else 0;
        # the baseline is the corpus, or for a sub-theme its own theme: "bag" is in every sub-theme of "lost
        # luggage" and names none of them
        if self.parents is None:
            baseline = self.corpus_share
        else:
            parent = self.parents[i]
            baseline = np.maximum(
                self.parent_counts[parent].toarray().ravel() / self.parent_sizes[parent], self.corpus_share
            )
        scores = np.zeros_like(share)
        np.divide(share, np.maximum(baseline, 1e-12), out=scores, where=share > baseline)
        np.log(scores, out=scores, where=scores > 0)
        scores *= share
        scores *= self.preference
        scores[self.unfit] = 0.0
        return counts, scores


def _phrase_counts(lemma_docs: list[str]) -> tuple | None:
    """Which lemma 1-3-grams (held by 2+ docs of 21 or more, 3+ of 5,000 or more: a phrase two units in
    thousands say labels nothing) each doc holds, the phrases, their
    numbers of words and which of them may never label (:func:`_unfit_label`); None when no doc holds one."""
    counter = CountVectorizer(
        token_pattern=r"\S+",
        ngram_range=(1, 3),
        binary=True,
        min_df=1 if len(lemma_docs) <= 20 else 2 if len(lemma_docs) < 5_000 else 3,
    )
    try:
        counts = counter.fit_transform(lemma_docs)
    except ValueError:
        return None
    phrases = counter.get_feature_names_out()
    return (
        counts,
        phrases,
        np.array([len(p.split()) for p in phrases]),
        np.array([_unfit_label(p) for p in phrases], dtype=bool),
    )


def _label_candidates(top: list[str], said: dict[str, int]) -> list[str]:
    """A theme's possible labels, best first, from its top phrases and how many of its units say each.

    A phrase among the first ``LABEL_PHRASE_RANK`` that at least ``LABEL_PHRASE_COVER`` as many units say as the
    top one names the theme better than a word ("hour delay" over "delayed"); a rarer phrase names a few of its
    units, not the theme ("no clothes" in the lost-bag theme). A theme whose top is a word without such a phrase
    is named by its two top words ("bag / luggage"), which say more than either.

    >>> _label_candidates(["bag", "luggage", "no clothes"], {"bag": 90, "luggage": 60, "no clothes": 8})[0]
    'bag / luggage'
    >>> _label_candidates(["delayed", "hour delay"], {"delayed": 60, "hour delay": 30})[0]
    'hour delay'
    """
    if not top:
        return []
    least = LABEL_PHRASE_COVER * said.get(top[0], 0)
    phrases = [p for p in top[:LABEL_PHRASE_RANK] if " " in p and said.get(p, 0) >= least]
    pairs = (
        [f"{top[0]} / {word}" for word in top[1:LABEL_PHRASE_RANK] if " " not in word][:1] if " " not in top[0] else []
    )
    return phrases + pairs + top


#: a phrase that ends on one of these lost the words it negates ("balance has not", "seller hasn't", "refund cant"):
#: a fragment
DANGLING_NEGATIONS = frozenset(
    """not no never without cannot
cant dont wont didnt doesnt isnt wasnt arent werent hasnt havent hadnt couldnt wouldnt shouldnt""".split()
)


def _unfit_label(phrase: str) -> bool:
    """A phrase that is never a label: a lone function word or filler word, a phrase of filler only, one with a
    redaction mark, or one that ends on a negation (its negated words are cut off).

    >>> [_unfit_label(p) for p in ("yes", "today", "xxxx", "not", "lost bag", "bag xxxx", "dm today")]
    [True, True, True, True, False, True, True]
    >>> [_unfit_label(p) for p in ("balance not", "refund cant", "not work", "charge twice")]
    [True, True, False, False]
    """
    words = phrase.split()
    if any(REDACTION_MARK.fullmatch(w) for w in words):
        return True
    if len(words) == 1 and (words[0] in KEPT_FUNCTION_WORDS or len(words[0]) < 3):
        return True
    if len(words) > 1 and words[-1] in DANGLING_NEGATIONS:
        return True
    return all(w in LABEL_FILLER or w in KEPT_FUNCTION_WORDS for w in words)


#: a label phrase is shown as the customers wrote it, stop words included, when that span has at most this many words
MAX_LABEL_WORDS = 4


def _surface_forms(texts, max_n: int = 3, limit: int = 20_000, wanted: set[str] | None = None) -> dict[str, str]:
    """The most frequent way customers wrote each lemma n-gram (of ``wanted`` only, when given), as a span of
    their words.

    Labels then read "charged twice" (not "charge twice") and "no complaints so far" (not "complaints far"). An
    n-gram whose words never stand within ``MAX_LABEL_WORDS`` of each other has no surface form: it is an artefact
    of removing stop words, not a phrase anybody wrote, and is never a label.
    """
    counts: dict[str, Counter] = defaultdict(Counter)
    starts = None if wanted is None else {gram.split(" ", 1)[0] for gram in wanted}
    for text in texts[:limit]:
        words, content = words_and_content(text)
        for n in range(1, max_n + 1):
            for i in range(len(content) - n + 1):
                if starts is not None and content[i][2] not in starts:
                    continue
                gram = content[i : i + n]
                first, last = gram[0][0], gram[-1][0]
                if last - first >= MAX_LABEL_WORDS or any(w in PHRASE_BREAKS for w in words[first : last + 1]):
                    continue
                key = " ".join(t[2] for t in gram)
                if wanted is not None and key not in wanted:
                    continue
                counts[key][gram[0][1] if n == 1 else " ".join(words[first : last + 1])] += 1
    return {lem: c.most_common(1)[0][0] for lem, c in counts.items()}


#: n_themes="auto" cuts the Ward tree of a pool of units at one theme per this many units ...
AUTO_UNITS_PER_THEME = 150
#: ... and at most this many themes: a support lead reads a ranked list of a few dozen, not hundreds. The cut is
#: a granularity chosen on the dev corpora (benchmarks/painpoints.py), where the silhouette it replaced picked
#: 2 to 4 themes on airline tweets ("flight", "customer service") because the tweets of one domain are all alike:
#: at fixed K the airline reasons' NMI is flat from K = 12 to 40 (0.18–0.19) and Banking77's grows up to its 77
#: intents.
AUTO_MAX_THEMES = 40
#: ... unless a finer cut, up to this many themes, is stable under resampling
#: (:func:`feedback.clustering.stable_k`): the granularity of the data where the data have one. Banking77's 77
#: intents are cut at 58–60 themes from 3,080 queries (NMI 0.68, against 0.53 at the 18 themes of one per 150
#: units); airline tweets and CFPB narratives, whose complaints blend into each other, keep one per 150 units.
AUTO_MAX_STABLE_THEMES = 100
#: ... with at least this many distinct units per theme (a recurring problem is told in many wordings) ...
AUTO_STABLE_DISTINCT_UNITS = 30
#: ... and only where at least this share of the units are distinct: where the same sentences recur (templates,
#: forms, generated notices), any cut between them is reproduced by resampling, wordings of one problem too
AUTO_STABLE_DISTINCT_SHARE = 0.8
#: a pool of fewer units than this is cut where the cosine silhouette says (feedback.clustering): in a handful of
#: texts the question is whether any of them form a group at all, which a granularity cannot answer
AUTO_SILHOUETTE_BELOW = 4 * AUTO_UNITS_PER_THEME


def auto_theme_count(n_units: int, min_size: int, most: int = AUTO_MAX_THEMES, granularity: float = 1.0) -> int:
    """The number of themes n_themes="auto" cuts a pool of ``n_units`` units into: one per
    ``AUTO_UNITS_PER_THEME`` (divided by ``granularity``), at least 2, at most ``most`` (the pool's share of
    ``AUTO_MAX_THEMES``), and no more than themes of ``min_size``.

    >>> auto_theme_count(7_000, 15), auto_theme_count(600, 15), auto_theme_count(40, 15)
    (40, 4, 2)
    >>> auto_theme_count(3_000, 15, granularity=0.5), auto_theme_count(3_000, 15, granularity=2.0)
    (10, 40)
    """
    return int(max(2, min(most, round(n_units * granularity / AUTO_UNITS_PER_THEME), n_units // max(min_size, 1))))


def _plain(value):
    """A numpy number as the Python number JSON takes (``n_themes=np.int64(5)``)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and value == value


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _text_list(texts, method: str) -> list[str]:
    """``texts`` as a list of strings; a single string is refused (iterating it would give one text per character)."""
    if isinstance(texts, (str, bytes)):
        raise InputError(f"ThemeModel.{method} takes a list of texts, not one string", fix=f"{method}([text])")
    return [str(t) for t in texts]


def _themes_so_far(model: "ThemeModel") -> list[Theme]:
    """A fitted model's themes and every theme gone before it (models saved before 2026-11-24 kept only the last
    refit's gone themes)."""
    return list(model.themes_) + list(getattr(model, "gone_themes_", []))


def _next_theme_id(model: "ThemeModel") -> int:
    """The id a new theme of a refit after ``model`` gets: after every id used so far, never one used before."""
    return max([t.theme_id + 1 for t in _themes_so_far(model)] + [getattr(model, "next_theme_id_", 0)])


class MessageParts(NamedTuple):
    """The parts of a message that chose its theme tags (:meth:`ThemeModel.transform_with_parts`)."""

    texts: list[str]
    #: the theme id each part is nearest to (``OTHER_THEME_ID`` for none)
    theme_ids: list[int]

    def about(self, theme_id: int) -> list[str]:
        """The parts nearest to ``theme_id``."""
        return [text for text, nearest in zip(self.texts, self.theme_ids) if nearest == theme_id]


class ThemeModel:
    """Discover and assign pain-point themes.

    Parameters
    ----------
    n_themes : int, "auto", "coarser" or "finer"
        Number of themes (shared by praise and the rest as their units are), or "auto": one per
        ``AUTO_UNITS_PER_THEME`` units, at most ``AUTO_MAX_THEMES``, or finer where a finer cut of the tree is
        stable under resampling (:func:`feedback.clustering.stable_k`; up to ``AUTO_MAX_STABLE_THEMES``); the
        silhouette decides in a handful of units. "coarser" and "finer" halve or double every number "auto"
        uses (``AUTO_GRANULARITY``): about half or twice as many themes where the data allow them.
    min_theme_size : int
        Themes with fewer texts (in small inputs, down to 5% of the texts, and with a fixed ``n_themes`` down to a
        quarter of the average theme; at least 3) are dropped, counting the texts at least ``other_threshold``
        similar to the mean of the theme's other texts: their texts go to the nearest theme kept when at least
        ``other_threshold`` similar to it, else to ``other``.
    other_threshold : float or None
        Cosine similarity to the nearest theme centroid below which a text is ``other``; None takes the
        default of the vector space (``DEFAULT_OTHER_THRESHOLD``; ``RAW_STATIC_OTHER_THRESHOLD`` for a static
        folder without a common direction).
    tag_threshold : float
        A message is also tagged with the theme of another of its units (or, in a short message, of another of its
        sentences of two or more content words) when that unit is at least this similar to it. None:
        ``other_threshold`` + 0.15.
    embeddings : "static", "tfidf", "minilm" or a folder path
        The vector space: "static" (default) a static embedding table distilled from all-MiniLM-L6-v2 and
        shipped in ``models/`` (meaning, not only shared words; numpy only); "tfidf" lemma TF-IDF + LSA;
        "minilm" the full all-MiniLM-L6-v2 through the optional extra ``feedback[embeddings]``; or the path of
        a sentence-embedding model installed on this machine (a model2vec or sentence-transformers folder; read
        from disk only, never downloaded).
    taxonomy : "default", a preset's name, a path, or None
        Guide themes with seed phrases (``models/taxonomies/README.md``). "default" takes the shipped preset
        (software, travel, banking, retail, telecom) whose seeds match the largest share of the units, if at least
        ``DEFAULT_TAXONOMY_FIT``; a preset's name takes that one. A preset pulls units matching one of its themes
        together (with ``n_themes="auto"``; with a fixed K the user chose the granularity) and names a discovered
        theme mostly made of them where the theme's units say the name; it never pins texts, and merges themes
        only where the silhouette chose K (a handful of units). A
        path to a team's own file applies in full: its seeds pull units together, pin them to the theme of that
        name, merge discovered themes that mostly match one name, and name them. ``taxonomy_note_`` says which
        taxonomy was used and which names it gave. None discovers freely.
    seed : int
        Seed of every random step.
    assignment : "auto", "centroid" or "neighbours"
        How a text gets its theme. "centroid": the most similar theme centroid. "neighbours": the vote of the
        ``VOTE_NEIGHBOURS`` most similar texts the themes were fitted on (the model keeps their vectors), which
        follows the shape Ward's tree gave each theme (:func:`feedback.clustering.vote`: Banking77 NMI +0.01 to
        +0.03) but costs a dot product with each of up to 10,000 fitted texts per text, about doubling the tagging
        time of the static table. "auto" (default): "neighbours" for transformer models (MiniLM, a
        sentence-transformers folder), whose own encoding costs a hundred times more than that vote;
        "centroid" for the static table and TF-IDF. Either way a text is ``other`` below ``other_threshold``
        similarity to its theme's centroid. "neighbours" needs an embedding space (not "tfidf").

    >>> texts = ["refund not received", "where is my refund", "refund still missing"] * 5 + \\
    ...         ["app crashes on start", "the app crashes again", "crashes when I open the app"] * 5
    >>> model = ThemeModel(n_themes=2, min_theme_size=3).fit(texts)
    >>> sorted(t.label for t in model.themes_)
    ['app crashes', 'refund not received']
    >>> model.transform(["my refund is missing"])["theme_label"].tolist()
    ['refund not received']
    """

    def __init__(
        self,
        n_themes: int | str = "auto",
        min_theme_size: int = 15,
        other_threshold: float | None = None,
        tag_threshold: float | None = None,
        embeddings: str = "static",
        taxonomy: str | Path | None = "default",
        seed: int = 42,
        assignment: str = "auto",
    ) -> None:
        self.n_themes = n_themes
        self.min_theme_size = min_theme_size
        self.other_threshold = other_threshold
        self.tag_threshold = tag_threshold
        self.embeddings = embeddings
        self.taxonomy = taxonomy
        self.seed = seed
        self.assignment = assignment

    # ------------------------------------------------------------------ fitting
    @property
    def _granularity(self) -> float | None:
        """The factor of an automatic number of themes ("auto", "coarser", "finer"); None for a number."""
        return AUTO_GRANULARITY.get(self.n_themes) if isinstance(self.n_themes, str) else None

    def _check_params(self) -> None:
        if self._granularity is None and (not isinstance(self.n_themes, (int, np.integer)) or self.n_themes < 2):
            raise ConfigError(
                "The 'n_themes' parameter of ThemeModel must be an int >= 2, 'auto', 'coarser' or "
                f"'finer'. Got {self.n_themes!r} instead."
            )
        if self.other_threshold is not None and not (
            _is_number(self.other_threshold) and 0 <= self.other_threshold < 1
        ):
            raise ConfigError(
                f"The 'other_threshold' parameter must be a number in [0, 1). Got {self.other_threshold!r} instead."
            )
        if self.tag_threshold is not None and not (_is_number(self.tag_threshold) and 0 <= self.tag_threshold <= 1):
            raise ConfigError(
                f"The 'tag_threshold' parameter must be a number in [0, 1]. Got {self.tag_threshold!r} instead."
            )
        if not (_is_int(self.min_theme_size) and self.min_theme_size >= 1):
            raise ConfigError(
                f"The 'min_theme_size' parameter must be an int >= 1. Got {self.min_theme_size!r} instead."
            )
        if not (_is_int(self.seed) and 0 <= self.seed < 2**32):
            raise ConfigError(f"The 'seed' parameter must be an int in [0, 2**32). Got {self.seed!r} instead.")
        if self.assignment not in ASSIGNMENTS:
            raise ConfigError(
                f"The 'assignment' parameter of ThemeModel must be one of {', '.join(map(repr, ASSIGNMENTS))}. "
                f"Got {self.assignment!r} instead."
            )
        if self.assignment == "neighbours" and self.embeddings == "tfidf":
            raise ConfigError(
                "assignment='neighbours' needs an embedding space: TF-IDF themes are k-means centroids",
                fix="use embeddings='static' (or 'minilm'), or assignment='centroid'",
            )
        if self.embeddings not in EMBEDDINGS:
            if not isinstance(self.embeddings, (str, Path)) or not str(self.embeddings).strip():
                raise ConfigError(
                    f"embeddings must be one of {', '.join(map(repr, EMBEDDINGS))} or the path of a "
                    f"local model folder; got {self.embeddings!r}"
                )
            from .embeddings import local_model_kind

            local_model_kind(self.embeddings)  # an existing folder, or a ConfigError that says what it is

    @property
    def _space(self) -> str:
        """The vector space as fitted: a named one, or a model folder as an absolute path (so a saved model works
        from any working directory)."""
        return getattr(self, "embedding_space_", self.embeddings)

    def _space_kind(self) -> str:
        """ "tfidf", "static" or "minilm" (a transformer): a local model folder is of the kind it holds."""
        if self._space in EMBEDDINGS:
            return self._space
        from .embeddings import local_model_kind

        return "static" if local_model_kind(self._space) == "static" else "minilm"

    def _resolve_assignment(self) -> str:
        """ "centroid" or "neighbours" for this vector space (see ``assignment`` in the class docstring)."""
        if self.assignment != "auto":
            return self.assignment
        return "neighbours" if self._space_kind() == "minilm" else "centroid"

    def _default_other_threshold(self) -> float:
        """The "other" cosine of the vector space; a local model folder takes that of its kind (static table or
        transformer; a static folder without a common direction, that of the table's rows as they are), the best
        guess without measurements of that model."""
        kind = self._space_kind()
        if kind == "static" and not self._leaves_common_direction():
            return RAW_STATIC_OTHER_THRESHOLD
        return DEFAULT_OTHER_THRESHOLD[kind]

    def _leaves_common_direction(self) -> bool:
        """Does the fitted static space take the table's common direction out (feedback.units.UnitSpace)."""
        return getattr(getattr(self, "space_", None), "common_direction_", None) is not None

    def _choose_taxonomy(
        self, lemma_docs: list[str], texts: list[str], keys: np.ndarray
    ) -> tuple[tuple[GuideTheme, ...], str | None, str]:
        """The guide, the shipped preset it is (None for the user's own file or none) and the note a run prints.

        "default" takes the preset whose seeds match the largest share of the units, when that share is at least
        ``DEFAULT_TAXONOMY_FIT``; a preset's name takes that preset whatever its fit."""
        if self.taxonomy is None:
            return (), None, ""
        if self.taxonomy not in TAXONOMY_PRESETS and self.taxonomy != "default":
            return load_taxonomy(self.taxonomy), None, f"taxonomy: {self.taxonomy}"
        names = TAXONOMY_PRESETS if self.taxonomy == "default" else (self.taxonomy,)
        guides = {name: load_taxonomy(TAXONOMY_DIR / f"{name}.toml") for name in names}
        # the share is read on a sample: 5,000 units give it to about ±1.4 points, at a quarter of the matching
        sample = smallest_keys(keys, PRESET_FIT_SAMPLE)
        docs, said = [lemma_docs[i] for i in sample], [texts[i] for i in sample]
        fits = {
            name: float(_match_seeds(docs, guide, said).any(axis=1).mean()) if docs else 0.0
            for name, guide in guides.items()
        }
        ranked = sorted(names, key=lambda name: (-fits[name], names.index(name)))
        best = ranked[0]
        if self.taxonomy != "default":
            return (
                guides[best],
                best,
                f"taxonomy: the {best} preset (asked for; its seeds match {fits[best]:.0%} of the units)",
            )
        runner_up = f"; next {ranked[1]} {fits[ranked[1]]:.0%}" if len(ranked) > 1 else ""
        if fits[best] < DEFAULT_TAXONOMY_FIT:
            return (
                (),
                None,
                (
                    f"taxonomy: none of the shipped presets fits (the closest, {best}, matches "
                    f"{fits[best]:.0%} of the units; a preset applies from {DEFAULT_TAXONOMY_FIT:.0%})"
                ),
            )
        return (
            guides[best],
            best,
            f"taxonomy: the {best} preset (its seeds match {fits[best]:.0%} of the units{runner_up})",
        )

    def _guide_matches(self, lemma_docs: list[str], texts: list[str]) -> np.ndarray:
        """Boolean matrix: does text i (its lemma doc) match the seeds of taxonomy theme j."""
        return _match_seeds(lemma_docs, self.guide_, texts)

    def _guided(self, lemma_docs: list[str], matches: np.ndarray) -> list[str]:
        if not self.guide_ or not getattr(self, "guide_pulls_", True):
            return lemma_docs
        out = []
        for doc, row in zip(lemma_docs, matches):
            extra = " ".join(f"zzguide{j}" for j in np.flatnonzero(row) for _ in range(GUIDE_TOKEN_REPEAT))
            out.append(f"{doc} {extra}" if extra else doc)
        return out

    def _embed(self, texts: list[str], lemma_docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unit-length vectors of texts in the model's space, and their taxonomy matches."""
        matches = self._guide_matches(lemma_docs, texts)
        if self._space == "tfidf":
            matrix = normalize(self.vectorizer_.transform(self._guided(lemma_docs, matches))[:, self.feature_mask_])
            return normalize(self.svd_.transform(matrix)), matches
        from .embeddings import embed

        space = getattr(self, "space_", None)
        vectors = space.transform(texts, lemma_docs) if space is not None else embed(texts, backend=self._space)
        # Texts with no content word are "other" whatever the embedding says.
        vectors[np.array([not d for d in lemma_docs], dtype=bool)] = 0.0
        if matches.shape[1] and getattr(self, "guide_pulls_", True):
            guide = matches.astype(np.float32)
            guide /= np.maximum(np.sqrt(guide.sum(axis=1, keepdims=True)), 1.0)
            vectors = np.hstack(
                [vectors, GUIDE_EMBEDDING_WEIGHT * guide * (np.linalg.norm(vectors, axis=1, keepdims=True) > 0)]
            )
        return normalize(vectors), matches

    def _cluster(self, vectors: np.ndarray, matches: np.ndarray) -> np.ndarray:
        """Unit-length centroids: k-means with a fixed K, or for "auto" over-cluster then merge.

        Groups merge when most of their texts match the same taxonomy theme (the taxonomy says they are one
        theme), or when their centroids are closer than ``AUTO_MERGE_SIMILARITY``.
        """
        if self._granularity is None:
            k = min(int(self.n_themes), len(np.unique(np.round(vectors, 5), axis=0)))
            return normalize(KMeans(n_clusters=k, n_init=4, random_state=self.seed).fit(vectors).cluster_centers_)
        distinct = len(np.unique(np.round(vectors, 5), axis=0))
        start = round(AUTO_K_START * self._granularity)
        k = int(min(distinct, max(2, min(start, len(vectors) // self.min_size_))))  # 1 if all texts are alike
        kmeans = KMeans(n_clusters=k, n_init=2, random_state=self.seed).fit(vectors)
        return self._merge(
            vectors,
            kmeans.labels_,
            normalize(kmeans.cluster_centers_),
            matches if self.guide_in_full_ else matches[:, :0],
        )[0]

    def _merge(
        self,
        vectors: np.ndarray,
        labels: np.ndarray,
        centroids: np.ndarray,
        matches: np.ndarray,
        similarity: float | None = AUTO_MERGE_SIMILARITY,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Merge groups whose centroids are closer than ``similarity`` (None: no such merge) or whose texts mostly
        match one taxonomy theme; returns the centroids of the merged groups and the merged group of each group
        (-1 for a group without texts)."""
        k = len(centroids)
        if k < 3:
            return centroids, np.arange(k)
        merge = (
            np.arange(k)
            if similarity is None
            else AgglomerativeClustering(
                n_clusters=None, metric="cosine", linkage="average", distance_threshold=1 - similarity
            ).fit_predict(centroids)
        )
        if matches.shape[1]:
            offset = merge.max() + 1
            for c in range(k):
                if not (labels == c).any():
                    continue
                shares = matches[labels == c].mean(axis=0)
                best = int(np.argmax(shares))
                if shares[best] >= GUIDE_LABEL_SHARE:
                    merge[c] = offset + best  # one group per taxonomy theme
            merge = np.unique(merge, return_inverse=True)[1]
        groups = [g for g in (np.flatnonzero(merge == g) for g in range(merge.max() + 1)) if np.isin(labels, g).any()]
        merged_of = np.full(k, -1)
        for index, group in enumerate(groups):
            merged_of[group] = index
        # A merged theme's centroid is the mean of its members, so big groups weigh by their size.
        return normalize(np.vstack([vectors[np.isin(labels, g)].mean(axis=0) for g in groups])), merged_of

    def _units(
        self, texts: list[str], tag_sentences: bool = False, sentences: list | None = None
    ) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
        """Every message's units (:func:`feedback.units.message_units`; the fit's boilerplate and brand words left
        out) and their content lemmas, the message each comes from, and whether it is a unit (True) or, with
        ``tag_sentences``, a sentence of a one-unit message of two or more such sentences, which may add a tag but
        does not choose the theme. ``sentences``: the texts' :func:`feedback.units.message_sentences`, when
        already found."""
        boilerplate = getattr(self, "boilerplate_", frozenset())
        brands = getattr(self, "brand_pattern_", None)
        brands = re.compile(brands) if brands else None
        units, lemmas, owner, voting = [], [], [], []
        for index, text in enumerate(texts):
            split = split_message(text, boilerplate, sentences[index] if sentences is not None else None)
            several = tag_sentences and len(split.units) == 1 and len(split.sentences) >= 2
            for parts, part_lemmas, votes in (
                (split.units, split.unit_lemmas, True),
                (split.sentences if several else [], split.sentence_lemmas, False),
            ):
                for part, lemma in zip(parts, part_lemmas):
                    if brands is not None:
                        kept = brands.sub(" ", part)
                        if kept != part:
                            part, lemma = kept.strip(), lemma_string(kept)
                            if not lemma:
                                continue
                    units.append(part)
                    lemmas.append(lemma)
                    owner.append(index)
                    voting.append(votes)
        return units, lemmas, np.asarray(owner, dtype=np.int64), np.asarray(voting, dtype=bool)

    @staticmethod
    def _unit_sentiment(units: list[str]) -> np.ndarray:
        """VADER's compound score of each unit (the fast port, equal to VADER's own)."""
        return np.fromiter((compound(u) for u in units), dtype=np.float64, count=len(units))

    @staticmethod
    def _says_name(name: str, lemma_docs: list[str]) -> bool:
        """Does a theme's own text say a shipped taxonomy name: at least ``LABEL_KEEP_SHARE`` of its units hold one
        of the name's content words (not a negation). The shipped taxonomy is written for software; its seeds
        match other domains by accident ("lost" is a seed of "data loss", and airline customers lose bags), and
        then the name is not what the customers wrote."""
        words = {w for w in lemma_string(name).split() if w not in KEPT_FUNCTION_WORDS}
        said = sum(bool(words & set(doc.split())) for doc in lemma_docs)
        return bool(words) and said >= LABEL_KEEP_SHARE * max(len(lemma_docs), 1)

    def _set_kinds(self, primary: np.ndarray, sentiment: np.ndarray, asking: np.ndarray) -> None:
        """Each theme's ``kind``: praise for the themes of praising units (VADER ``sentiment`` at least
        ``PRAISE_UNIT_SENTIMENT`` and no question, clustered apart); a question when at least ``QUESTION_SHARE`` of
        its units ask (``asking``) and their mean VADER score is above ``QUESTION_MAX_NEGATIVE``; else a pain
        point."""
        for index, theme in enumerate(self.themes_):
            members = primary == index
            if self.praise_themes_[index]:
                theme.kind = "praise"
            elif (
                members.any()
                and asking[members].mean() >= QUESTION_SHARE
                and sentiment[members].mean() > QUESTION_MAX_NEGATIVE
            ):
                theme.kind = "question"

    def _cluster_pools(
        self, vectors: np.ndarray, matches: np.ndarray, keys: np.ndarray, praising: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Praise themes come from praising units, pain points and questions from the rest: each pool is
        clustered on its own (:meth:`_cluster_embeddings`), so a theme never mixes "great service" with "worst
        service". A pool of fewer than ``2 × min_size_`` praising units joins the rest.

        Returns the centroids (the rest's, then praise's), the reference rows and their centroid, and how many
        centroids are praise."""
        praising = praising & np.any(vectors != 0, axis=1)
        if praising.sum() < 2 * self.min_size_ or (~praising).sum() < 2 * self.min_size_ or self.n_themes == 2:
            praising = np.zeros(len(vectors), dtype=bool)
        # the K the user asked for, or auto's most themes, shared by the pools as their units are
        granularity = self._granularity
        total = self.n_themes if granularity is None else round(AUTO_MAX_THEMES * granularity)
        fewest = 1 if granularity is None else 2  # auto cuts a pool into 2 themes at least
        praise_k = int(np.clip(round(total * praising.mean()), fewest, total - fewest)) if praising.any() else 0
        counts = (
            (total - praise_k, praise_k) if granularity is None else (("auto", total - praise_k), ("auto", praise_k))
        )
        centroid_blocks, rows, labels = [], [], []
        n_praise = 0
        for pool, n_themes in zip((np.flatnonzero(~praising), np.flatnonzero(praising)), counts):
            if not len(pool):
                continue
            n_themes, most = n_themes if isinstance(n_themes, tuple) else (n_themes, n_themes)
            # the pools share the Ward budget of one fit (feedback.clustering.MAX_FIT rows) as their units are
            budget = max(2 * self.min_size_, round(MAX_FIT_ROWS * len(pool) / len(vectors)))
            centroids, fit_rows, tree_labels = self._cluster_embeddings(
                vectors[pool], matches[pool], keys[pool], n_themes, most, budget
            )
            offset = sum(len(c) for c in centroid_blocks)
            centroid_blocks.append(centroids)
            rows.append(pool[fit_rows])
            labels.append(np.where(tree_labels >= 0, tree_labels + offset, -1))
            if praising[pool[0]]:
                n_praise = len(centroids)
        return np.vstack(centroid_blocks), np.concatenate(rows), np.concatenate(labels), n_praise

    def _cluster_embeddings(
        self,
        vectors: np.ndarray,
        matches: np.ndarray,
        keys: np.ndarray,
        n_themes: int | str,
        most: int = AUTO_MAX_THEMES,
        max_fit: int = MAX_FIT_ROWS,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Deterministic Ward clustering of embeddings (feedback.clustering), then the taxonomy merges of "auto".

        Returns the centroids, and the rows that built the tree with the centroid each one's tree cluster
        became (-1: a cluster dropped for its size): the reference of :func:`feedback.clustering.vote`.

        No merge by centroid similarity here: K is already chosen on the tree (by size, stability or silhouette), and
        AUTO_MERGE_SIMILARITY is a cosine for LSA vectors. Sentence embeddings of one domain are all alike
        (Banking77, static table: median centroid cosine 0.68, 95% of pairs above 0.45), so that merge
        collapsed 32 clusters into 1 (NMI 0.02; benchmarks/themes.py).
        """
        n_distinct = len(np.unique(np.round(vectors, 5), axis=0))
        if n_distinct < 2:  # every unit alike: one theme
            centroid = normalize(vectors.mean(axis=0, keepdims=True))
            return centroid, np.arange(len(vectors)), np.zeros(len(vectors), dtype=np.int64)
        finer_up_to = None
        if n_themes != "auto":
            k = min(int(n_themes), len(vectors))
        elif len(vectors) >= AUTO_SILHOUETTE_BELOW:
            k = auto_theme_count(len(vectors), self.min_size_, most, self._granularity)
            if n_distinct >= AUTO_STABLE_DISTINCT_SHARE * len(vectors):
                finer_up_to = min(
                    round(most * AUTO_MAX_STABLE_THEMES / AUTO_MAX_THEMES),
                    round(n_distinct * self._granularity / AUTO_STABLE_DISTINCT_UNITS),
                )
        else:  # a handful of units: the silhouette says whether any of them form groups at all
            k = "auto"
        result = fit_clusters(
            vectors,
            k,
            self.seed,
            other_threshold=-1.0,
            min_size=self.min_size_,
            priority=keys,
            max_fit=max_fit,
            finer_up_to=finer_up_to,
        )
        if k == "auto":
            self.silhouette_pools_ = getattr(self, "silhouette_pools_", 0) + 1
            if self._granularity != 1:  # coarser or finer than the silhouette's choice, by the same factor
                k = int(max(2, min(round(result.cut_k * self._granularity), len(vectors) // self.min_size_)))
                result = fit_clusters(
                    vectors, k, self.seed, other_threshold=-1.0, min_size=self.min_size_, priority=keys, max_fit=max_fit
                )
        elif finer_up_to is not None and result.cut_k > k:
            self.finer_cuts_.append((k, result.cut_k))
        if n_themes != "auto":
            return result.centroids, result.fit_index, result.tree_labels
        # A shipped preset merges only where the silhouette chose K, in a handful of units whose granularity the
        # data cannot tell; elsewhere the data's granularity stays (Banking77's intents are finer than the preset)
        merges = self.guide_in_full_ or len(vectors) < AUTO_SILHOUETTE_BELOW
        centroids, merged_of = self._merge(
            vectors, result.labels, result.centroids, matches if merges else matches[:, :0], similarity=None
        )
        tree_labels = np.where(result.tree_labels >= 0, merged_of[np.maximum(result.tree_labels, 0)], -1)
        return centroids, result.fit_index, tree_labels

    def fit(self, texts, y=None, previous: "ThemeModel | None" = None, sample_keys=None) -> "ThemeModel":
        """Learn themes from an iterable of cleaned texts.

        With ``previous`` (last week's model), a theme whose texts mostly fell in one previous theme keeps that
        theme's id and label (status "kept"); a theme that holds most example texts of a theme gone in an earlier
        refit takes its id and label back ("returned"); a theme whose texts mostly fell in a previous theme that
        another one keeps is a "split" (``split_from``); others get new ids ("emerging"), never one used before.
        Every theme gone so far is listed in ``gone_themes_``. Matching is by assignment of texts, so it works
        whatever changed in the vocabulary.

        Above ``MAX_FIT_TEXTS`` texts, discovery runs on the texts with the smallest :func:`stable_sample_keys`;
        ``sample_keys`` passes those keys when ``texts`` is already a part of a larger input (the streaming engine
        hands over the texts it picked with the keys of the whole input).
        """
        self._check_params()
        texts = _text_list(texts, "fit")
        keys = stable_sample_keys(texts) if sample_keys is None else np.asarray(sample_keys, dtype=np.uint64)
        if len(keys) != len(texts):
            raise ConfigError(f"sample_keys has {len(keys)} values for {len(texts)} texts; give one key per text")
        if len(texts) > fit_pool_size():
            # Splitting a million texts into units to pick 20,000 would cost more than the whole fit.
            pool = smallest_keys(keys, fit_pool_size())
            texts, keys = [texts[i] for i in pool], keys[pool]
        # 1. units: the sentences that say something, boilerplate that recurs across messages left out
        sentences = [message_sentences(t) for t in texts]
        self.boilerplate_ = find_boilerplate(texts, sentences)
        self.brand_pattern_ = brand_pattern(texts)
        texts, all_lemma_docs = self._units(texts, sentences=sentences)[:2]
        keys = stable_sample_keys(texts) if len(texts) else np.zeros(0, dtype=np.uint64)
        # Discovery learns from units that say something; every unit is assigned afterwards.
        n_words = np.array([len(d.split()) for d in all_lemma_docs], dtype=int)
        min_words = MIN_CONTENT_WORDS
        while min_words > 1 and (n_words >= min_words).sum() < MIN_INFORMATIVE_SHARE * (n_words > 0).sum():
            min_words -= 1
        informative = np.flatnonzero(n_words >= min_words).tolist()
        if len(informative) < 4:
            informative = [i for i, d in enumerate(all_lemma_docs) if d]
        informative = np.asarray(informative, dtype=int)
        informative = informative[smallest_keys(keys[informative], MAX_FIT_TEXTS)]
        keys = keys[informative]
        texts = [texts[i] for i in informative]
        lemma_docs = [all_lemma_docs[i] for i in informative]
        non_empty = len(lemma_docs)
        if non_empty < MIN_FIT_TEXTS:
            # Too little text for a recurring theme: every row is "other", scored and kept (a one-email inbox
            # still gets its sentiment), and `fit_note_` says why.
            warnings.warn(
                f"{non_empty} text(s) with content words: themes need at least {MIN_FIT_TEXTS}, so every "
                "text is 'other'",
                FitNoteWarning,
                stacklevel=2,
            )
            self.fit_note_ = f"no themes: {non_empty} text(s) with content words, themes need at least {MIN_FIT_TEXTS}"
            self.min_size_, self.guide_, self.guide_themes_ = 0, (), {}
            self.taxonomy_preset_, self.guide_in_full_ = None, False
            self.other_threshold_ = self.tag_threshold_ = 1.0
            self.centroids_ = np.zeros((0, 0), dtype=np.float32)
            self.assignment_, self.reference_vectors_, self.reference_themes_ = "centroid", None, None
            self.theme_ids_ = np.arange(0)
            self.themes_ = []
            self.space_, self.praise_themes_, self.taxonomy_note_ = None, np.zeros(0, dtype=bool), ""
            self.gone_themes_ = [] if previous is None else _themes_so_far(previous)
            self.next_theme_id_ = 0 if previous is None else _next_theme_id(previous)
            return self
        self.fit_note_ = ""
        self.min_size_ = int(min(self.min_theme_size, max(3, SMALL_DATA_THEME_SHARE * non_empty)))
        if self._granularity is None:  # the K asked for, not fewer themes for want of units
            self.min_size_ = int(min(self.min_size_, max(3, FIXED_K_MIN_SIZE_SHARE * non_empty / self.n_themes)))
        # 1. the taxonomy guide marks texts that match its seed phrases
        self.embedding_space_ = (
            self.embeddings if self.embeddings in EMBEDDINGS else str(Path(self.embeddings).resolve())
        )
        self.guide_, self.taxonomy_preset_, self.taxonomy_note_ = self._choose_taxonomy(lemma_docs, texts, keys)
        shipped = self.taxonomy_preset_ is not None or self.taxonomy == "default"
        self.guide_pulls_ = not shipped or self._granularity is not None
        self.guide_in_full_ = not shipped
        matches = self._guide_matches(lemma_docs, texts)
        self.assignment_ = self._resolve_assignment()
        reference_rows = reference_labels = None
        praise_centroids = 0
        self.finer_cuts_: list[tuple[int, int]] = []
        self.silhouette_pools_ = 0
        unit_sentiment = self._unit_sentiment(texts)
        asking = np.array([is_question(u) for u in texts], dtype=bool)
        if self._space == "tfidf":
            self.space_ = None
            vectors, centroids = self._fit_tfidf(lemma_docs, matches, non_empty)
        else:
            # 2-3. unit vectors (+ the taxonomy block); praising units and the rest clustered apart (Ward)
            self.space_ = (
                UnitSpace(None if self._space == "static" else self._space, seed=self.seed).fit(texts, lemma_docs)
                if self._space_kind() == "static"
                else None
            )
            vectors, _ = self._embed(texts, lemma_docs)
            # a question is never praise, however warmly it asks ("I'd love to know how to open a UK account?")
            centroids, reference_rows, reference_labels, praise_centroids = self._cluster_pools(
                vectors, matches, keys, (unit_sentiment >= PRAISE_UNIT_SENTIMENT) & ~asking
            )
            if self.assignment_ == "neighbours":
                reference_rows, reference_labels = (
                    reference_rows[reference_labels >= 0],
                    reference_labels[reference_labels >= 0],
                )
        # 4. small themes fold into other; ids follow size so they read biggest first
        self.other_threshold_ = (
            self._default_other_threshold() if self.other_threshold is None else self.other_threshold
        )
        self.tag_threshold_ = self.other_threshold_ + 0.15 if self.tag_threshold is None else self.tag_threshold
        sims = vectors @ centroids.T
        if self.assignment_ == "neighbours":
            nearest = vote(vectors, vectors[reference_rows], reference_labels, len(centroids))
        else:
            nearest = sims.argmax(axis=1)
        # a theme is kept when enough units are like the rest of it: a centre of a few units is close to each of
        # them even when they are unlike one another (three unrelated units: cosine 0.58 to their mean)
        best = np.minimum(sims[np.arange(len(sims)), nearest], _similarity_to_the_others(vectors, nearest))
        assigned = np.where((best >= self.other_threshold_) & np.any(vectors != 0, axis=1), nearest, -1)
        sizes = Counter(assigned[assigned >= 0].tolist())
        kept = sorted((c for c, n in sizes.items() if n >= self.min_size_), key=lambda c: (-sizes[c], c))
        self.centroids_ = centroids[kept] if kept else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        self.praise_themes_ = np.array([c >= len(centroids) - praise_centroids for c in kept], dtype=bool)
        self.reference_vectors_ = self.reference_themes_ = None
        if self.assignment_ == "neighbours" and kept:
            kept_index = np.full(len(centroids), -1)
            kept_index[kept] = np.arange(len(kept))
            reference_themes = kept_index[reference_labels]
            self.reference_vectors_ = vectors[reference_rows[reference_themes >= 0]].astype(np.float32)
            self.reference_themes_ = reference_themes[reference_themes >= 0]
        self.guide_themes_ = {}
        primary = self._assign(vectors)[0]
        # 5. labels from class-based TF-IDF over phrases
        self.theme_ids_ = np.arange(len(self.centroids_))
        # the phrases and words of the units, read once for the labels of the themes and of their sub-themes
        phrase_counts, surface = _phrase_counts(lemma_docs), {}
        self.themes_ = self._describe(
            texts, lemma_docs, primary, vectors, matches, phrase_counts=phrase_counts, surface_cache=surface
        )
        self._set_kinds(primary, unit_sentiment, asking)
        named = [theme.label for theme in self.themes_ if theme.label in {g.name for g in self.guide_}]
        if self.guide_:
            self.taxonomy_note_ += f" named {len(named)} theme(s)" + (f": {', '.join(named)}" if named else "")
        self.gone_themes_: list[Theme] = []
        self.next_theme_id_ = len(self.themes_)
        if previous is not None:
            self._continue_from(previous, texts, primary, lemma_docs)
        self._find_subthemes(texts, lemma_docs, vectors, primary, keys, phrase_counts, surface)
        self.n_features_in_ = vectors.shape[1]
        return self

    def _find_subthemes(
        self,
        units: list[str],
        lemma_docs: list[str],
        vectors: np.ndarray,
        primary: np.ndarray,
        keys: np.ndarray,
        phrase_counts: tuple | None = None,
        surface: dict | None = None,
    ) -> None:
        """Split each theme into sub-themes for drill-down: Ward within the theme's units (unstructured,
        :func:`feedback.clustering.split_cluster`), one sub-theme per
        ``SUBTHEME_UNITS`` of them (at most ``MAX_SUBTHEMES``; none of fewer than ``min_size_`` units), labelled
        apart from every theme's label. Sub-theme k (from 1) of theme t has the id ``"t.k"``."""
        self.subtheme_centroids_: list[np.ndarray | None] = []
        sub_primary = np.full(len(units), -1)
        blocks = []
        for index, theme in enumerate(self.themes_):
            theme.subthemes = []
            members = np.flatnonzero(primary == index)
            k = min(MAX_SUBTHEMES, round(len(members) / SUBTHEME_UNITS))
            centroids = None
            if self._space != "tfidf" and k >= 2 and len(np.unique(np.round(vectors[members], 5), axis=0)) > k:
                parts, part_of = split_cluster(vectors[members], k, self.min_size_, keys[members], SUBTHEME_MAX_FIT)
                if len(parts) >= 2:
                    centroids = parts
                    sub_primary[members] = np.where(part_of >= 0, part_of + sum(map(len, blocks)), -1)
                    blocks.append(centroids)
            self.subtheme_centroids_.append(centroids)
        if not blocks:
            return
        parents = np.array(
            [
                index
                for index, centroids in enumerate(self.subtheme_centroids_)
                if centroids is not None
                for _ in range(len(centroids))
            ]
        )
        described = self._describe(
            units,
            lemma_docs,
            sub_primary,
            vectors,
            None,
            centroids=np.vstack(blocks),
            taken=frozenset(t.label for t in self.themes_),
            phrase_counts=phrase_counts,
            surface_cache=surface or None,
            parent_of=primary,
            subtheme_parents=parents,
        )
        offset = 0
        for theme, centroids in zip(self.themes_, self.subtheme_centroids_):
            if centroids is None:
                continue
            theme.subthemes = described[offset : offset + len(centroids)]
            for number, sub in enumerate(theme.subthemes, start=1):
                sub.theme_id, sub.kind, sub.status = f"{theme.theme_id}.{number}", theme.kind, theme.status
            offset += len(centroids)

    def _fit_tfidf(self, lemma_docs: list[str], matches: np.ndarray, non_empty: int) -> tuple[np.ndarray, np.ndarray]:
        """2-3. TF-IDF over lemma n-grams (with guide tokens), LSA, k-means."""
        guided_docs = self._guided(lemma_docs, matches)
        min_df = 2 if non_empty < 2000 else 3
        self.vectorizer_ = TfidfVectorizer(
            token_pattern=r"\S+",
            ngram_range=(1, 2),
            min_df=min_df,
            max_df=0.5,
            sublinear_tf=True,
            max_features=50_000,
            dtype=np.float32,
        )
        try:
            matrix = self.vectorizer_.fit_transform(guided_docs)
        except ValueError:
            # few texts, or the same words in most of them (one text repeated): keep every term
            self.vectorizer_.set_params(min_df=1, max_df=1.0)
            matrix = self.vectorizer_.fit_transform(guided_docs)
        self.vocabulary_ = self.vectorizer_.vocabulary_
        names = self.vectorizer_.get_feature_names_out()
        self.feature_mask_ = np.flatnonzero([name not in LABEL_ONLY_WORDS for name in names])
        if len(self.feature_mask_) < 2:
            self.feature_mask_ = np.arange(len(names))
        matrix = normalize(matrix[:, self.feature_mask_])
        n_components = max(2, min(LSA_COMPONENTS, matrix.shape[1] - 1, non_empty - 1))
        with np.errstate(divide="ignore", invalid="ignore"):  # one text repeated: no variance for the ratio to divide
            self.svd_ = TruncatedSVD(n_components=n_components, random_state=self.seed).fit(matrix)
        vectors = normalize(self.svd_.transform(matrix))
        return vectors, self._cluster(vectors, matches)

    def _continue_from(
        self, previous: "ThemeModel", texts: list[str], primary: np.ndarray, lemma_docs: list[str]
    ) -> None:
        """Give themes that persist their previous id and label, themes that come back the id and label they had
        when they went, and number new ones after every id used before: an id always means the same theme.

        A new theme continues a previous theme that holds at least ``CONTINUITY_SHARE`` of its texts; a previous
        theme is continued by one new theme, the one that takes most of its texts (a small pure fragment does not
        take the id from the bulk). A new theme in which that share of a theme's example texts fall takes it
        back: a theme gone in an earlier refit "returns", one of the previous model is "kept". A new theme whose
        texts mostly fell in a previous theme that another new theme continues is a split. A continued theme
        keeps its label while at least ``LABEL_KEEP_SHARE`` of its texts still say it (a catch-all labelled by
        a topic that has split off would otherwise carry that topic's name); new labels that a kept theme
        already has are replaced by one of the theme's own phrases.
        """
        previous._check_fitted()
        old = previous.transform(texts)["theme_id"].to_numpy()
        candidates, origin = [], {}
        for index in range(len(self.themes_)):
            members = old[primary == index]
            members = members[members >= 0]
            for old_id, count in Counter(members.tolist()).items():
                share = count / max((primary == index).sum(), 1)
                if share >= CONTINUITY_SHARE:
                    candidates.append((-count, -share, index, old_id))
                    origin[index] = old_id
        matched: dict[int, int] = {}
        for _, _, index, old_id in sorted(candidates):
            if index not in matched and old_id not in matched.values():
                matched[index] = old_id
        # every theme not continued, with its examples: gone now, or gone before
        gone = [t for t in _themes_so_far(previous) if t.theme_id not in matched.values()]
        returned: dict[int, Theme] = {}
        unmatched = [index for index in range(len(self.themes_)) if index not in matched]
        if unmatched and any(t.examples for t in gone):
            examples = [(t, e) for t in gone for e in t.examples]
            landed = self.transform([e for _, e in examples])["theme_id"].to_numpy()
            index_of = {int(theme_id): index for index, theme_id in enumerate(self.theme_ids_)}
            shares = []
            for theme in gone:
                hits = Counter(index_of.get(int(x), -1) for (t, _), x in zip(examples, landed) if t is theme)
                for index, count in hits.items():
                    share = count / len(theme.examples)
                    if index in unmatched and count >= min(2, len(theme.examples)) and share >= CONTINUITY_SHARE:
                        # of the gone themes whose examples land in one new theme, the one most of its texts were
                        held = int((old[primary == index] == theme.theme_id).sum())
                        shares.append((-share, -held, theme.theme_id, index, theme))
            for *_, index, theme in sorted(shares, key=lambda s: s[:4]):
                if index not in returned and all(theme is not t for t in returned.values()):
                    returned[index] = theme
        old_themes = {t.theme_id: t for t in previous.themes_}
        next_id = _next_theme_id(previous)
        docs = np.array(lemma_docs, dtype=object)

        def still_says(index: int, label: str) -> bool:
            words = lemma_string(label).split()
            own = docs[primary == index]
            said = sum(all(w in doc.split() for w in words) for doc in own)
            return not words or said >= LABEL_KEEP_SHARE * max(len(own), 1)

        settled: list[int] = []  # themes that keep the label they had
        for index, theme in enumerate(self.themes_):
            if index in matched:
                theme.theme_id, theme.status = matched[index], "kept"
                label = old_themes[matched[index]].label
            elif index in returned:
                back = returned[index]
                theme.theme_id, label = back.theme_id, back.label
                theme.status = "kept" if back.theme_id in old_themes else "returned"
            else:
                theme.theme_id, theme.status = next_id, "emerging"
                if index in origin:
                    theme.status, theme.split_from = "split", origin[index]
                next_id += 1
                label = None
            if label is not None and still_says(index, label):
                theme.label = label
                settled.append(index)
            self.theme_ids_[index] = theme.theme_id
        taken = {self.themes_[index].label for index in settled}
        for index, theme in enumerate(self.themes_):
            if index in settled:
                continue
            if theme.label in taken:
                theme.label = next(
                    (p for p in theme.top_phrases if p not in taken), f"{theme.label} ({theme.theme_id})"
                )
            taken.add(theme.label)
        back = {t.theme_id for t in returned.values()}
        self.gone_themes_ = [t for t in gone if t.theme_id not in back]
        self.next_theme_id_ = next_id

    def _assign(self, vectors: np.ndarray, matches: np.ndarray | None = None, similarities: bool = False):
        """Primary theme index (-1 other) of each vector and its similarity to that theme; with ``similarities``,
        also every vector's cosine to every theme.

        A text that matches the seeds of exactly one taxonomy theme is pinned to the discovered theme carrying
        that name when it is at least ``PIN_RELAX`` × ``other_threshold`` similar to it.
        """
        if len(self.centroids_) == 0:
            empty = np.full(len(vectors), -1), np.zeros(len(vectors))
            return (*empty, np.zeros((len(vectors), 0))) if similarities else empty
        # float64: a float32 product's last bits depend on the BLAS threads and on how rows are batched, and
        # moved the rounded theme_score between engines and chunk sizes
        sims = np.asarray(vectors, dtype=np.float64) @ np.asarray(self.centroids_, dtype=np.float64).T
        reference = getattr(self, "reference_vectors_", None)
        if reference is not None and len(reference):
            nearest = vote(vectors, reference, self.reference_themes_, len(self.centroids_))
        else:
            nearest = sims.argmax(axis=1)
        best = sims[np.arange(len(sims)), nearest]
        # a text with no content word has a zero vector: "other" whatever the threshold (even 0)
        primary = np.where((best >= self.other_threshold_) & np.any(vectors != 0, axis=1), nearest, -1)
        # only a team's own taxonomy pins (models pickled before presets: where the guide pulled)
        pins = getattr(self, "guide_in_full_", getattr(self, "guide_pulls_", True))
        if matches is not None and getattr(self, "guide_themes_", None) and pins:
            for row in np.flatnonzero(matches.sum(axis=1) == 1):
                index = self.guide_themes_.get(int(np.flatnonzero(matches[row])[0]))
                if index is not None and sims[row, index] >= PIN_RELAX * self.other_threshold_:
                    primary[row], best[row] = index, sims[row, index]
        return (primary, best, sims) if similarities else (primary, best)

    def _describe(
        self,
        texts,
        lemma_docs,
        primary,
        vectors,
        matches,
        centroids: np.ndarray | None = None,
        taken: frozenset[str] = frozenset(),
        phrase_counts: tuple | None = None,
        surface_cache: dict | None = None,
        parent_of: np.ndarray | None = None,
        subtheme_parents: np.ndarray | None = None,
    ) -> list[Theme]:
        """Each theme's label, top phrases and examples; with ``centroids``, those of sub-themes (``primary``
        then holds sub-theme indices, and the guide names none of them), labelled apart from the ``taken`` labels.
        ``phrase_counts``: :func:`_phrase_counts` of ``lemma_docs``, when already counted; ``surface_cache``: an
        empty dict the themes' call fills with the surface forms of their top ``SUBTHEME_PHRASES`` phrases too,
        which the sub-themes' call then reads instead of scanning the texts again. For sub-themes, ``parent_of``
        holds each unit's theme and ``subtheme_parents`` each sub-theme's: a sub-theme's phrases are scored
        against its theme's, so its label says what sets it apart within the theme.

        A phrase (lemma 1–3-gram) scores ``share × log(share / corpus share)``: the share of the theme's units that
        hold it, times how much more often they hold it than all units do. A word present in every theme
        ("flight", the brand) has a ratio near 1 and scores near 0 whatever its count; a rare word said by two
        units scores little for lack of share. Filler (``LABEL_FILLER``), redaction tokens and lone or dangling
        negations (:func:`_unfit_label`) are never a label; a one-word label grows into the phrase most of its
        units say ("bag" -> "lost bag").
        """
        subthemes = centroids is not None
        centroids = self.centroids_ if centroids is None else centroids
        if phrase_counts is None:
            phrase_counts = _phrase_counts(lemma_docs)
        if phrase_counts is None:
            return [Theme(i, f"theme {i}", [], int((primary == i).sum())) for i in range(len(centroids))]
        _, phrases, n_words, _ = phrase_counts
        n_themes = len(centroids)
        scores = _PhraseScores(primary, n_themes, phrase_counts, len(lemma_docs), parent_of, subtheme_parents)
        unfit = scores.unfit
        # phrases one word longer than a phrase, at either end ("archive old" -> "archive old client")
        longer: dict[str, list[int]] = defaultdict(list)
        holding: dict[str, list[int]] = defaultdict(list)
        for k in np.flatnonzero((n_words > 1) & ~unfit):
            words = phrases[k].split()
            longer[" ".join(words[:-1])].append(int(k))
            longer[" ".join(words[1:])].append(int(k))
            for word in set(words):
                holding[word].append(int(k))
        # surface forms of the phrases a label can come from only: each theme's top 40, their longer phrases and
        # the phrases a top word can grow into (said by WIDEN_SHARE of its units in the theme)
        orders, candidates, subtheme_phrases = [], set(), set()
        for i in range(n_themes):
            class_counts, ctfidf = scores.row(i)
            orders.append(_top(ctfidf, 40))
            candidates |= {int(j) for j in orders[i]}
            candidates |= {
                k
                for j in orders[i][:3]
                if n_words[j] == 1
                for k in holding.get(phrases[j], ())
                if class_counts[k] >= WIDEN_SHARE * class_counts[j]
            }
            if surface_cache is not None and not surface_cache:
                subtheme_phrases |= {phrases[j] for j in _top(ctfidf, SUBTHEME_PHRASES)}
        frontier = set(candidates)
        while frontier:
            frontier = {k for j in frontier for k in longer.get(phrases[j], ())} - candidates
            candidates |= frontier
        if surface_cache:  # the themes' scan already read these texts: their sub-themes' phrases are in it
            surface = surface_cache
        else:
            wanted = {phrases[j] for j in candidates}
            wanted |= subtheme_phrases  # ... so read the phrases sub-themes may need now, in one scan
            said = np.flatnonzero(primary >= 0)
            surface = _surface_forms([texts[i] for i in said], wanted=wanted)
            if surface_cache is not None:
                surface_cache.update(surface)
        themes, used_labels = [], set(taken)
        for i in range(n_themes):
            class_counts, ctfidf = scores.row(i)
            top, said = [], {}
            # phrases said at least twice in the theme; a theme whose texts share none (paraphrases, or a few
            # unrelated texts) is labelled by its most distinctive phrases said once, not "theme N"; a theme that
            # holds every unit (nothing is distinctive of it) by the phrases it says most
            for least, order, distinctive in (
                (2, orders[i], True),
                (1, orders[i], True),
                (1, _top(class_counts.astype(float), 40), False),
            ):
                for j in order:
                    if class_counts[j] < least or (distinctive and ctfidf[j] <= 0):
                        continue
                    if n_words[j] > 1 and phrases[j] not in surface:
                        continue  # its words never stand together in a message (see _surface_forms)
                    if n_words[j] == 1:  # a word grows into the phrase most of its units say with it
                        wider = [
                            k
                            for k in holding.get(phrases[j], ())
                            if phrases[k] in surface
                            and class_counts[k] >= WIDEN_SHARE * class_counts[j]
                            and ctfidf[k] > 0
                        ]
                        if wider:
                            j = max(wider, key=lambda k: (class_counts[k], -n_words[k], -k))
                    while True:  # say more at the same coverage: the longer phrase nearly every such text holds
                        wider = [
                            k
                            for k in longer.get(phrases[j], ())
                            if phrases[k] in surface and class_counts[k] >= EXTEND_SHARE * class_counts[j]
                        ]
                        if not wider:
                            break
                        j = max(wider, key=lambda k: (class_counts[k], -k))
                    phrase = surface[phrases[j]] if n_words[j] > 1 else surface.get(phrases[j], phrases[j])
                    words = phrases[j].split()
                    if len(set(words)) < len(words) or any(phrase in t or t in phrase for t in top):
                        continue
                    top.append(phrase)
                    said[phrase] = int(class_counts[j])
                    if len(top) == 8:
                        break
                if top:
                    break
            members = np.flatnonzero(primary == i)
            label = next((p for p in _label_candidates(top, said) if p not in used_labels), f"theme {i}")
            if self.guide_ and len(members) and not subthemes:
                shares = matches[members].mean(axis=0)
                best = int(shares.argmax())
                if (
                    shares[best] >= GUIDE_LABEL_SHARE
                    and self.guide_[best].name not in used_labels
                    and (
                        self.guide_in_full_ or self._says_name(self.guide_[best].name, [lemma_docs[m] for m in members])
                    )
                ):
                    label = self.guide_[best].name
                    self.guide_themes_[best] = i
            used_labels.add(label)
            closeness = vectors[members] @ centroids[i]
            examples = []
            for j in members[np.argsort(-closeness, kind="stable")]:
                text = texts[j].strip()
                if 4 <= len(text.split()) <= 60 and text not in examples:
                    examples.append(text)
                if len(examples) == 5:
                    break
            themes.append(Theme(i, label, top, int(len(members)), examples))
        return themes

    def method_description(self) -> str:
        """How this fitted model found and assigns its themes, in a sentence or three: the report's Methods text
        (a test checks that it names the vector space and the clustering this model used)."""
        self._check_fitted()
        units = (
            "Messages are split into units: each sentence with two or more content words in a message of "
            f"{SPLIT_MIN_WORDS}+ content words, else the whole message; @handles, links, the company's brand words "
            "and sentences recurring across messages (footers, signatures) are left out."
        )
        if self._space == "tfidf":
            space = (
                "Units become content lemmas; TF-IDF over lemma unigrams and bigrams is reduced by LSA and "
                "clustered with seeded k-means."
            )
        else:
            kind = self._space_kind()
            if kind == "static":
                vectors = (
                    "a static embedding distilled from all-MiniLM-L6-v2, each token weighted by how rare it is "
                    "in this data (so a word present everywhere, such as the product's name, counts little)"
                    + (
                        ", without the direction every customer text shares in it (so units are compared by "
                        "what they say, not by how customers write)"
                        if self._leaves_common_direction()
                        else ""
                    )
                    + ", joined by a block of word concepts (LSA of TF-IDF over groups of similar words)"
                )
            else:
                vectors = (
                    f"the sentence-embedding model {'all-MiniLM-L6-v2' if self._space == 'minilm' else self._space}"
                )
            space = (
                f"Units are embedded with {vectors}; praising units and the rest are clustered apart by Ward's "
                "method on a nearest-neighbour graph (deterministic)."
            )
        granularity = self._granularity
        asked = "" if granularity in (None, 1) else f" ({self.n_themes} themes were asked for)"
        if granularity is None:
            k = f"The number of themes was set to {self.n_themes}."
        elif self._space == "tfidf":
            k = (
                f"k-means first makes {round(AUTO_K_START * granularity)} groups{asked}, merged where their "
                f"centroids are closer than cosine {AUTO_MERGE_SIMILARITY} or most of their units match one "
                "taxonomy theme."
            )
        else:
            k = (
                f"The number of themes is one per {AUTO_UNITS_PER_THEME / granularity:g} units, at most "
                f"{round(AUTO_MAX_THEMES * granularity)}, unless a finer cut of the tree (up to "
                f"{round(AUTO_MAX_STABLE_THEMES * granularity)} themes) is reproduced by a tree built on half of the "
                f"units (adjusted mutual information at least {STABLE_AMI}){asked}."
            )
            if getattr(self, "silhouette_pools_", 0):
                k += (
                    f" In a pool of fewer than {AUTO_SILHOUETTE_BELOW} units the cosine silhouette chose the "
                    "number" + ("." if granularity == 1 else f", {'halved' if granularity < 1 else 'doubled'}.")
                )
        finer = getattr(self, "finer_cuts_", [])
        if finer:
            k += (
                " Here the finer cut was taken: "
                + ", ".join(f"{fine} themes instead of {coarse}" for coarse, fine in finer)
                + "."
            )
        labels = (
            "Labels are the phrases that most of a theme's units say and few others do (share × log of the "
            "share over the corpus share); a message takes the theme its units together are nearest to (each "
            "unit's vote spread over the themes by a softmax of its similarities; negative units weigh more, "
            "praise less) and up to two more. Units far from every theme are 'other'; a theme is kept when "
            "enough of its units are close to the rest of it."
        )
        preset = getattr(self, "taxonomy_preset_", None)
        if preset is not None and self.guide_:
            guide = (
                f"The shipped {preset} taxonomy preset was used (chosen as the preset whose seed phrases match "
                f"the most units{', as asked' if self.taxonomy == preset else ''}): units matching one of its themes "
                "are pulled together, and a theme mostly made of them takes its name where its units say it."
            )
        elif self.guide_:
            guide = (
                f"The taxonomy {self.taxonomy} guided discovery: its seed phrases pull units together, pin them "
                "to the theme of that name and name the themes they make up."
            )
        else:
            guide = "No taxonomy guided discovery."
        subthemes = sum(len(getattr(t, "subthemes", [])) for t in self.themes_)
        drill = (
            f"Each theme of {2 * SUBTHEME_UNITS}+ units is split into sub-themes by Ward's method within it (one "
            f"per {SUBTHEME_UNITS} units, at most {MAX_SUBTHEMES}): {subthemes} sub-themes in all."
            if subthemes
            else ""
        )
        return " ".join(part for part in [units, space, k, guide, labels, drill] if part)

    # ------------------------------------------------------------------ using
    def _check_fitted(self) -> None:
        if not hasattr(self, "themes_"):
            raise ModelError("This ThemeModel is not fitted yet. Call fit(texts) first, or ThemeModel.load(folder).")

    def transform(self, texts) -> pd.DataFrame:
        """Assign themes: a frame with ``theme_id``, ``theme_label``, ``theme_ids``, ``themes``, ``theme_score``.

        Each unit of a message (:meth:`_units`) gets its nearest theme. The message's own theme (``theme_id``) is
        the one its units weigh most for: a unit weighs 1, up to 2 the more negative it is, and a praising unit
        ``PRAISE_UNIT_WEIGHT`` (a pain point outranks a compliment in the same message; a long complaint is about
        what most of it says). Its other units' themes follow in ``theme_ids``, heaviest first (at most
        ``MAX_EXTRA_TAGS`` more, each at least ``tag_threshold`` similar).
        """
        return self.transform_with_parts(texts)[0]

    def transform_with_parts(self, texts) -> tuple[pd.DataFrame, list[MessageParts | None]]:
        """:meth:`transform`, and for each message it tags with several themes, its parts and the theme each is
        nearest to (:class:`MessageParts`; ``None`` for the other messages).

        The parts are the units that chose the tags: a message's units, or, where the message is one unit, its
        sentences that say something (each may add a tag). :func:`feedback.sentiment.theme_sentiment_values` scores
        them, so the per-theme sentiment needs no second tagging pass.
        """
        self._check_fitted()
        texts = _text_list(texts, "transform")
        # a short message of two sentences that each say something is one unit, and each sentence may add a tag
        units, lemma_docs, owner, voting = self._units(texts, tag_sentences=True)
        n_themes = len(self.centroids_)
        if units and n_themes:
            vectors, matches = self._embed(units, lemma_docs)
            unit_theme, unit_score, sims = self._assign(vectors, matches, similarities=True)
        else:
            unit_theme, unit_score = np.full(len(units), -1), np.zeros(len(units))
            sims = np.zeros((len(units), n_themes))
        # a unit's score weighs it against the other units of its message: only units that have such others need one
        voters = np.bincount(owner[voting], minlength=len(texts)) if len(units) else np.zeros(len(texts), dtype=int)
        weighed = voting & (voters[owner] > 1) if len(units) else voting
        sentiment = np.zeros(len(units))
        sentiment[weighed] = self._unit_sentiment([u for u, w in zip(units, weighed) if w])
        praise = getattr(self, "praise_themes_", np.zeros(n_themes, dtype=bool))

        # a unit weighs 1, up to 2 as negative as it is, spread over the themes it is near (VOTE_TEMPERATURE;
        # the neighbours' vote already chose one); a praise theme counts only where nothing else is said
        counted = unit_theme >= 0
        spread = np.zeros((len(units), n_themes))
        neighbours = getattr(self, "reference_vectors_", None) is not None
        if not neighbours and len(units) and n_themes:
            spread = _soft_votes(sims)
        # a unit the neighbours' vote or a taxonomy pin gave a theme votes for that theme alone
        chose = counted if neighbours or not n_themes else counted & (unit_theme != sims.argmax(axis=1))
        spread[chose] = 0.0
        spread[np.flatnonzero(chose), unit_theme[chose]] = 1.0
        spread *= np.where(praise, PRAISE_UNIT_WEIGHT, 1.0)
        votes = np.zeros((len(texts), n_themes))
        casting = counted & voting
        np.add.at(votes, owner[casting], (1.0 + np.clip(-sentiment[casting], 0.0, 1.0))[:, None] * spread[casting])
        has_vote = np.bincount(owner[casting], minlength=len(texts)) > 0 if len(units) else np.zeros(len(texts), bool)
        # how close each message comes to each theme: its closest unit (or, in a one-unit message, sentence)
        closest = np.full((len(texts), n_themes), -1.0)
        np.maximum.at(closest, owner[counted], sims[counted])
        # the themes a message may be tagged with: those its units (or sentences) are nearest to, as close as the
        # closest of those units
        near: dict[int, dict[int, float]] = defaultdict(dict)
        for u in np.flatnonzero(counted & has_vote[owner]).tolist():
            row, theme = int(owner[u]), int(unit_theme[u])
            near[row][theme] = max(near[row].get(theme, -1.0), float(unit_score[u]))

        primary = np.full(len(texts), -1)
        best = np.zeros(len(texts))
        tags: list[list[int]] = [[] for _ in texts]
        tag_threshold = getattr(self, "tag_threshold_", 0.0)
        for row in np.flatnonzero(has_vote).tolist():
            mass, close = votes[row], closest[row]
            # among the themes its units are nearest to: the soft vote weighs them, it does not add a theme
            chosen = max(near[row], key=lambda theme: (mass[theme], -theme))
            primary[row], best[row] = chosen, close[chosen]
            extra = sorted(
                (theme for theme, score in near[row].items() if theme != chosen and score >= tag_threshold),
                key=lambda theme: (-mass[theme], -near[row][theme], theme),
            )
            tags[row] = [chosen] + extra[:MAX_EXTRA_TAGS]
        subtheme = self._subtheme_of(primary, owner, vectors if units and n_themes else None, voting)
        ids = getattr(self, "theme_ids_", np.arange(len(self.centroids_)))
        parts = self._theme_parts(units, owner, voting, unit_theme, tags, ids)
        primary = np.where(primary >= 0, ids[np.maximum(primary, 0)], OTHER_THEME_ID) if len(ids) else primary
        # a merge by hand gives several centres one id: a message near two of them carries the theme once
        tags = [list(dict.fromkeys(int(ids[t]) for t in tag)) for tag in tags]
        labels = {t.theme_id: t.label for t in self.themes_}
        sub_labels = {sub.theme_id: sub.label for t in self.themes_ for sub in getattr(t, "subthemes", [])}
        frame = pd.DataFrame(
            {
                "theme_id": primary.astype(int),
                "theme_label": [labels.get(int(p), OTHER_THEME_LABEL) for p in primary],
                "theme_ids": tags,
                "themes": ["; ".join(labels[t] for t in tag) for tag in tags],
                "theme_score": np.round(best.astype(float), 4),
                "subtheme_id": subtheme,
                "subtheme_label": [sub_labels.get(t, "") for t in subtheme],
            }
        )
        return frame, parts

    @staticmethod
    def _theme_parts(
        units: list[str],
        owner: np.ndarray,
        voting: np.ndarray,
        unit_theme: np.ndarray,
        tags: list[list[int]],
        ids: np.ndarray,
    ) -> list[MessageParts | None]:
        """For each message with several tags, its parts (units, or a one-unit message's sentences) and the
        theme id each is nearest to (see :meth:`transform_with_parts`)."""
        parts: list[MessageParts | None] = [None] * len(tags)
        several = [row for row, tag in enumerate(tags) if len(tag) > 1]
        if not several:
            return parts
        start = np.searchsorted(owner, several, side="left")
        stop = np.searchsorted(owner, several, side="right")
        for row, first, last in zip(several, start.tolist(), stop.tolist()):
            # a message of several units speaks through them; a one-unit message through its sentences
            members = [u for u in range(first, last) if voting[u]]
            if len(members) < 2:
                members = [u for u in range(first, last) if not voting[u]]
            parts[row] = MessageParts(
                [units[u] for u in members],
                [int(ids[unit_theme[u]]) if unit_theme[u] >= 0 else OTHER_THEME_ID for u in members],
            )
        return parts

    def _subtheme_of(
        self, primary: np.ndarray, owner: np.ndarray, vectors: np.ndarray | None, voting: np.ndarray
    ) -> np.ndarray:
        """Each message's sub-theme id within its own theme (``primary``, an index): the sub-theme its units
        are together nearest to (the softmax vote of :meth:`transform`), as ``"t.k"``; "" where it has none."""
        out = np.full(len(primary), "", dtype=object)
        subthemes = getattr(self, "subtheme_centroids_", None)
        if vectors is None or not subthemes:
            return out
        # the theme of each centre, by id: after a curation (feedback.curation) themes_ is no longer one per centre
        ids = getattr(self, "theme_ids_", np.arange(len(self.centroids_)))
        by_id = {theme.theme_id: theme for theme in self.themes_}
        unit_theme = primary[owner]
        for index, centroids in enumerate(subthemes):
            if centroids is None:
                continue
            members = np.flatnonzero((unit_theme == index) & voting & np.any(vectors != 0, axis=1))
            if not len(members):
                continue
            spread = _soft_votes(
                np.asarray(vectors[members], dtype=np.float64) @ np.asarray(centroids, dtype=np.float64).T
            )
            rows, position = np.unique(owner[members], return_inverse=True)
            votes = np.zeros((len(rows), len(centroids)))
            np.add.at(votes, position, spread)
            out[rows] = np.asarray([sub.theme_id for sub in by_id[int(ids[index])].subthemes])[votes.argmax(axis=1)]
        return out

    @classmethod
    def from_config(cls, config) -> "ThemeModel":
        """An unfitted model with the theme settings of a :class:`feedback.config.Config`."""
        taxonomy = None if config.taxonomy.lower() == "none" else config.taxonomy
        return cls(
            n_themes=config.n_themes,
            min_theme_size=config.min_theme_size,
            embeddings=config.embeddings,
            taxonomy=taxonomy,
            seed=config.seed,
            assignment=config.theme_assignment,
        )

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
        meta = {
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
            "themes": [asdict(t) for t in self.themes_],
            "gone_themes": [asdict(t) for t in self.gone_themes_],
        }
        (folder / "themes.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False, default=_plain) + "\n", encoding="utf-8"
        )
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "ThemeModel":
        """Read a folder written by :meth:`save`; refuses a folder from another format version.

        The model is a pickle, which runs code when read: load only folders you wrote or trust, as with any
        scikit-learn model.
        """
        folder = Path(folder)
        meta_path, model_path = folder / "themes.json", folder / "model.pkl"
        if not meta_path.exists() or not model_path.exists():
            raise ModelError(
                f"{folder}: not a theme model folder (needs themes.json and model.pkl)",
                fix="create one with `feedback themes fit FILE --out DIR`",
            )
        refit_command = f"`feedback themes fit FILE --out {folder}`"
        refit = f"refit with {refit_command}"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: invalid JSON or not UTF-8
            raise ModelError(f"{meta_path}: cannot read the theme model's summary ({exc})", fix=refit) from None
        version = meta.get("format_version") if isinstance(meta, dict) else None
        if version != FORMAT_VERSION:
            raise ModelError(
                f"{folder}: theme model format {version} but this feedback reads format {FORMAT_VERSION}", fix=refit
            )
        try:
            with open(model_path, "rb") as fh:
                model = pickle.load(fh)
        except Exception as exc:  # a damaged pickle raises almost any type (ValueError, EOFError, KeyError ...)
            raise ModelError(
                f"{model_path}: damaged, cannot be read ({type(exc).__name__}: {exc})", fix=refit
            ) from None
        if not isinstance(model, cls):
            raise ModelError(f"{model_path}: does not hold a ThemeModel", fix=refit)
        # tagging needs the vector space the model was fitted in: say so now, naming this folder, rather than at
        # the first text with a message about an `embeddings` setting the user never gave
        space = model._space
        if space == "minilm":
            from .embeddings import EXTRA_HINT, minilm_available

            if not minilm_available():
                raise ModelError(
                    f"{folder}: this theme model was fitted with embeddings='minilm', which needs the optional extra",
                    fix=f"{EXTRA_HINT}, or refit with {refit_command}",
                )
        elif space not in EMBEDDINGS and not Path(space).is_dir():
            raise ModelError(
                f"{folder}: this theme model was fitted with the embedding model folder {space}, which "
                f"is not on this machine",
                fix=f"put that model folder back, or refit with {refit_command}",
            )
        return model

    def get_params(self, deep: bool = True) -> dict:
        return {
            "n_themes": self.n_themes,
            "min_theme_size": self.min_theme_size,
            "other_threshold": self.other_threshold,
            "tag_threshold": self.tag_threshold,
            "embeddings": str(self.embeddings),
            "taxonomy": None if self.taxonomy is None else str(self.taxonomy),
            "seed": self.seed,
            "assignment": getattr(self, "assignment", "auto"),
        }

    def set_params(self, **params) -> "ThemeModel":
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"ThemeModel({args})"


#: the preview of themes among uncovered texts needs at least this many of them to look for themes in
MIN_TEXTS_TO_PROPOSE = 20


def preview_model(texts: list[str], config):
    """A theme model fitted on the texts a stored model leaves as "other", with the settings of ``config`` (a
    :class:`feedback.config.Config`): the themes ``feedback add`` proposes and ``feedback watch`` looks for new
    topics with. None when the texts are too few (``MIN_TEXTS_TO_PROPOSE``) or say too little to fit."""
    if len(texts) < MIN_TEXTS_TO_PROPOSE:
        return None
    try:
        return (
            ThemeModel.from_config(config)
            .set_params(n_themes="auto", min_theme_size=max(3, len(texts) // 20))
            .fit(texts)
        )
    except (InputError, ValueError):
        return None


def fit_pool_size() -> int:
    """How many messages at most :meth:`ThemeModel.fit` splits into units to draw its sample from
    (:data:`FIT_POOL_SHARE` × :data:`MAX_FIT_TEXTS`)."""
    return int(FIT_POOL_SHARE * MAX_FIT_TEXTS)


def tag_with_parts(model, texts: list[str]) -> tuple[pd.DataFrame, list[MessageParts | None] | None]:
    """``model.transform(texts)``, with the parts of each message with several themes when the model gives them
    (:meth:`ThemeModel.transform_with_parts`; a theme model of another make may not: None)."""
    if hasattr(model, "transform_with_parts"):
        return model.transform_with_parts(texts)
    return model.transform(texts), None


def tag_themes(
    df: pd.DataFrame,
    model: ThemeModel | None = None,
    text_column: str = "clean_text",
    n_themes: int | str = "auto",
    min_theme_size: int = 15,
    seed: int = 42,
    scorer=None,
) -> tuple[pd.DataFrame, ThemeModel]:
    """Add the theme columns to a feedback frame, fitting a model on its usable rows when none is given (or
    when the given one is not fitted yet).

    Rows kept out of the analysis (empty, non-English) get ``other`` and no tags. When the frame has a
    ``sentiment`` column, ``theme_sentiment`` holds the sentiment each tag gets from the row, in the order of
    ``theme_ids`` (see :func:`feedback.sentiment.theme_sentiment_values`; ``scorer`` is the one that gave
    ``sentiment``, default scorer when None).
    """
    from .schema import SKIP_REASONS

    out = df.copy()
    usable = (
        ~out["quality_issue"].isin(SKIP_REASONS) if "quality_issue" in out.columns else pd.Series(True, index=out.index)
    )
    texts = out.loc[usable, text_column].astype(str).tolist()
    if model is None:
        model = ThemeModel(n_themes=n_themes, min_theme_size=min_theme_size, seed=seed)
    if not hasattr(model, "themes_"):  # an unfitted model (e.g. ThemeModel.from_config) learns from these rows
        model.fit(texts)
    assigned, parts = tag_with_parts(model, texts)
    positions = np.flatnonzero(usable.to_numpy())
    defaults = {
        "theme_id": OTHER_THEME_ID,
        "theme_label": OTHER_THEME_LABEL,
        "theme_ids": None,
        "themes": "",
        "theme_score": 0.0,
        "subtheme_id": "",
        "subtheme_label": "",
    }
    for column, default in defaults.items():
        # Built as a plain list: a masked Series assignment would try to broadcast the lists of theme_ids.
        values = [default] * len(out)
        if column in assigned.columns:  # a theme model of another make may not give sub-themes
            for position, value in zip(positions, assigned[column].tolist()):
                values[position] = value
        out[column] = values
    out["theme_ids"] = [v if isinstance(v, list) else [] for v in out["theme_ids"]]
    out["theme_id"] = out["theme_id"].astype(int)
    out["theme_score"] = out["theme_score"].astype(float)
    if "sentiment" in out.columns:
        from .sentiment import theme_sentiment_values

        values = [[] for _ in range(len(out))]
        all_tags = out["theme_ids"].tolist()
        tags = [all_tags[p] for p in positions]
        scores = pd.to_numeric(out["sentiment"], errors="coerce").to_numpy()[positions].tolist()
        for position, value in zip(positions, theme_sentiment_values(texts, tags, scores, model, scorer, parts)):
            values[position] = value
        out["theme_sentiment"] = values
    return out, model
