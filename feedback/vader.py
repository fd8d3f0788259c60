"""A faster port of VADER's compound score, equal to ``polarity_scores(text)["compound"]`` for every text.

vaderSentiment 3.3.2 (Hutto & Gilbert 2014) is pure Python and spends most of its time on work that does not
depend on the word being scored: ``_negation_check`` and ``_special_idioms_check`` lowercase the whole word list
again for every look-back step of every lexicon word (quadratic in the text length), ``negated()`` builds lists,
and every token goes through three method calls even when it is not a sentiment word. This module computes the
same numbers, in the same order of floating-point operations, with the word list lowercased once per text:

* emoji are translated with VADER's own loop (and its ``prev_space`` spacing) only when the text holds one of the
  single-character keys of VADER's emoji table; ASCII text never does (every key is non-ASCII, checked on load);
* tokens are split and stripped as ``SentiText._strip_punc_if_word`` does, and lowercased once (ASCII text is
  lowercased whole before splitting); the ALL-CAPS checks may use the unstripped tokens (stripping removes only
  ASCII punctuation, which has no case);
* only lexicon words that are not boosters (and not "kind" of "kind of") get a valence; every other token is the
  ``0`` VADER appends; a text without such a word scores 0.0 without further work;
* each lexicon word runs VADER's rules inline: "no" before a lexicon word, ALL-CAPS emphasis, the three-word
  look-back with boosters (dampened 0.95/0.9), the negation checks ("never so/this", "without doubt", NEGATE words
  and "n't"), the idiom check (SPECIAL_CASES and booster n-grams, run at the third look-back step as VADER does,
  skipped when no word of any multi-word key is in the text) and the "least" check;
* "but" runs VADER's ``_but_check`` verbatim, including its quirk (it finds each valence with
  ``sentiments.index(value)``, so equal valences interact);
* punctuation emphasis ("!" up to 4, "?" runs), ``normalize`` and ``round(..., 4)`` are VADER's.

The lexicon, the emoji table and the constants are read from the installed ``vaderSentiment`` module, never copied.
``tests/test_vader.py`` checks equality with ``polarity_scores`` on thousands of generated texts.
"""

from __future__ import annotations

import math
import string
from functools import lru_cache

from vaderSentiment import vaderSentiment as _v

#: VADER's constants, from the installed module (vaderSentiment 3.3.2)
N_SCALAR = _v.N_SCALAR
C_INCR = _v.C_INCR
BOOSTER_DICT = _v.BOOSTER_DICT
SPECIAL_CASES = _v.SPECIAL_CASES
NEGATE = frozenset(_v.NEGATE)
_PUNCTUATION = string.punctuation
#: every word of a multi-word key of SPECIAL_CASES or BOOSTER_DICT: the idiom check can only change a valence when
#: one of them is among the words (VADER's tokens hold no whitespace, so a joined n-gram matches a key only word by
#: word)
_IDIOM_WORDS = frozenset(w for key in list(SPECIAL_CASES) + list(BOOSTER_DICT) if " " in key for w in key.split(" "))
_SO_THIS = ("so", "this")
_OR_NOR = ("or", "nor")


def _normalize(score: float, alpha: float = 15) -> float:
    # vaderSentiment.normalize, inlined
    norm_score = score / math.sqrt((score * score) + alpha)
    if norm_score < -1.0:
        return -1.0
    if norm_score > 1.0:
        return 1.0
    return norm_score


class VaderCompound:
    """VADER's compound score, computed faster. Build once (it reads the analyzer's lexicon and emoji table).

    ``analyzer`` is a ``SentimentIntensityAnalyzer`` whose lexicon (looked up live) and emoji table are used; by
    default a new one.

    >>> vader = VaderCompound()
    >>> vader("The book was good."), vader("not bad at all"), vader("")
    (0.4404, 0.431, 0.0)
    """

    def __init__(self, analyzer: _v.SentimentIntensityAnalyzer | None = None) -> None:
        self.analyzer = analyzer or _v.SentimentIntensityAnalyzer()
        self.lexicon = self.analyzer.lexicon
        # polarity_scores tests `chr in self.emojis` one character at a time: only one-character keys can match
        self._emoji_chars = {k: v for k, v in self.analyzer.emojis.items() if len(k) == 1}
        self._emoji_set = frozenset(self._emoji_chars)
        self._ascii_has_no_emoji = not any(k.isascii() for k in self._emoji_set)

    # ------------------------------------------------------------------ text preparation (SentiText)

    def _translate_emoji(self, text: str) -> str:
        """polarity_scores' emoji loop, verbatim in effect (join instead of repeated +=)."""
        emojis = self._emoji_chars
        out = []
        prev_space = True
        for chr_ in text:
            if chr_ in emojis:
                if not prev_space:
                    out.append(" ")
                out.append(emojis[chr_])
                prev_space = False
            else:
                out.append(chr_)
                prev_space = chr_ == " "
        return "".join(out)

    def __call__(self, text: str) -> float:
        return self.compound(text)

    def compound(self, text: str) -> float:
        """``SentimentIntensityAnalyzer().polarity_scores(text)["compound"]``, computed faster."""
        if type(text) is not str:  # VADER's own (odd) handling of non-strings
            return self.analyzer.polarity_scores(text)["compound"]
        if not (text.isascii() and self._ascii_has_no_emoji) and not self._emoji_set.isdisjoint(text):
            text = self._translate_emoji(text)
        text = text.strip()
        punc = _PUNCTUATION
        if text.isascii():
            # ASCII lowercasing keeps lengths and commutes with stripping punctuation: split the lowercased text
            lower = [s if len(s := w.strip(punc)) > 2 else w for w in text.lower().split()]
            if not lower:
                return 0.0
            # stripping removes only punctuation, which has no case: the raw tokens are upper exactly when VADER's are
            words = text.split()
        else:
            words = [s if len(s := w.strip(punc)) > 2 else w for w in text.split()]
            if not words:
                return 0.0
            lower = [w.lower() for w in words]
        lexicon = self.lexicon
        booster = BOOSTER_DICT
        n = len(lower)
        # the words VADER gives a valence: lexicon words that are not boosters, and not "kind" in "kind of"
        hits = [
            i
            for i, w in enumerate(lower)
            if w in lexicon and w not in booster and (w != "kind" or i == n - 1 or lower[i + 1] != "of")
        ]
        if not hits:
            return 0.0  # every valence is VADER's 0: sum 0, compound 0.0
        upper = sum(map(str.isupper, words))
        is_cap_diff = 0 < upper < n
        idioms = not _IDIOM_WORDS.isdisjoint(lower)
        sentiments: list = [0] * n
        for i in hits:
            item_lowercase = lower[i]
            valence = lexicon[item_lowercase]
            # "no" as negation of the next lexicon word
            if item_lowercase == "no" and i != n - 1 and lower[i + 1] in lexicon:
                valence = 0.0
            if (
                (i > 0 and lower[i - 1] == "no")
                or (i > 1 and lower[i - 2] == "no")
                or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in _OR_NOR)
            ):
                valence = lexicon[item_lowercase] * N_SCALAR
            # ALL-CAPS emphasis
            if is_cap_diff and words[i].isupper():
                if valence > 0:
                    valence += C_INCR
                else:
                    valence -= C_INCR
            # three-word look-back: boosters, negations, idioms
            for start_i in (0, 1, 2):
                if i > start_i:
                    j = i - (start_i + 1)
                    prev = lower[j]
                    if prev in lexicon:
                        continue
                    # scalar_inc_dec
                    s = 0.0
                    if prev in booster:
                        s = booster[prev]
                        if valence < 0:
                            s *= -1
                        if is_cap_diff and words[j].isupper():
                            if valence > 0:
                                s += C_INCR
                            else:
                                s -= C_INCR
                    if start_i == 1 and s != 0:
                        s = s * 0.95
                    if start_i == 2 and s != 0:
                        s = s * 0.9
                    valence = valence + s
                    # _negation_check
                    if start_i == 0:
                        if prev in NEGATE or "n't" in prev:
                            valence = valence * N_SCALAR
                    elif start_i == 1:
                        if prev == "never" and lower[i - 1] in _SO_THIS:
                            valence = valence * 1.25
                        elif prev == "without" and lower[i - 1] == "doubt":
                            pass
                        elif prev in NEGATE or "n't" in prev:
                            valence = valence * N_SCALAR
                    else:
                        if prev == "never" and lower[i - 2] in _SO_THIS or lower[i - 1] in _SO_THIS:
                            valence = valence * 1.25
                        elif prev == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
                            pass
                        elif prev in NEGATE or "n't" in prev:
                            valence = valence * N_SCALAR
                        if idioms:
                            valence = _special_idioms_check(valence, lower, i)
            # _least_check
            if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
                if lower[i - 2] != "at" and lower[i - 2] != "very":
                    valence = valence * N_SCALAR
            elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
                valence = valence * N_SCALAR
            sentiments[i] = valence
        if "but" in lower:
            sentiments = _but_check(lower, sentiments)
        # score_valence
        sum_s = float(sum(sentiments))
        ep_count = text.count("!")
        if ep_count > 4:
            ep_count = 4
        ep_amplifier = ep_count * 0.292
        qm_count = text.count("?")
        qm_amplifier = 0
        if qm_count > 1:
            if qm_count <= 3:
                qm_amplifier = qm_count * 0.18
            else:
                qm_amplifier = 0.96
        punct_emph_amplifier = ep_amplifier + qm_amplifier
        if sum_s > 0:
            sum_s += punct_emph_amplifier
        elif sum_s < 0:
            sum_s -= punct_emph_amplifier
        return round(_normalize(sum_s), 4)


def _special_idioms_check(valence, words_and_emoticons_lower, i):
    """SentimentIntensityAnalyzer._special_idioms_check, verbatim, on an already lowercased word list."""
    w = words_and_emoticons_lower
    onezero = "{0} {1}".format(w[i - 1], w[i])
    twoonezero = "{0} {1} {2}".format(w[i - 2], w[i - 1], w[i])
    twoone = "{0} {1}".format(w[i - 2], w[i - 1])
    threetwoone = "{0} {1} {2}".format(w[i - 3], w[i - 2], w[i - 1])
    threetwo = "{0} {1}".format(w[i - 3], w[i - 2])
    sequences = [onezero, twoonezero, twoone, threetwoone, threetwo]
    for seq in sequences:
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(w) - 1 > i:
        zeroone = "{0} {1}".format(w[i], w[i + 1])
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(w) - 1 > i + 1:
        zeroonetwo = "{0} {1} {2}".format(w[i], w[i + 1], w[i + 2])
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    # booster/dampener n-grams such as 'sort of' or 'kind of'
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _but_check(words_and_emoticons_lower, sentiments):
    """SentimentIntensityAnalyzer._but_check, verbatim (with its ``sentiments.index`` quirk), on lowercased words."""
    if "but" in words_and_emoticons_lower:
        bi = words_and_emoticons_lower.index("but")
        for sentiment in sentiments:
            si = sentiments.index(sentiment)
            if si < bi:
                sentiments.pop(si)
                sentiments.insert(si, sentiment * 0.5)
            elif si > bi:
                sentiments.pop(si)
                sentiments.insert(si, sentiment * 1.5)
    return sentiments


@lru_cache(maxsize=1)
def default_vader() -> VaderCompound:
    """The process-wide port (VADER's lexicon loads once)."""
    return VaderCompound()


def compound(text: str) -> float:
    """VADER's compound score of ``text``, equal to ``SentimentIntensityAnalyzer().polarity_scores(text)["compound"]``.

    >>> compound("VADER is VERY SMART, handsome, and FUNNY!!!")
    0.9342
    """
    return default_vader().compound(text)
