"""Text normalisation and hashed n-gram features, with character offsets into the original.

Normalisation (lowercase, accents folded, leetspeak inside words, spaced-out letters joined,
runs of one letter cut to two) makes "C O N N A R D", "c0nn4rd" and "connnnard" share
features with "connard". Every normalised character remembers the index of the original
character it came from, so an n-gram found in the normalised text can be highlighted in the
comment as written.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import numpy as np
from scipy import sparse

from . import lexicon

# Hashed n-grams, then one column per lexicon pattern group (``lexicon.NAMES``).
FEATURE_SCHEMA = "vigie-ngrams-1+" + lexicon.LEXICON_ID
N_LEXICON = lexicon.N_COLUMNS
LEXICON_VALUE = 1.0  # value of one lexicon hit (hashed rows are L2-normalised to 1)
CHAR_NGRAMS = (3, 4, 5)

_SPECIAL_FOLD = {
    "œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i",
    "’": "'", "‘": "'", "`": "'", "´": "'", "«": '"', "»": '"', "“": '"', "”": '"',
    "–": "-", "—": "-", "\u00a0": " ", "\u202f": " ",
}


class _FoldTable(dict):
    """str.translate table that lowercases and strips accents, one character at a time."""

    def __missing__(self, code: int) -> str:
        ch = chr(code).lower()
        out = []
        for c in ch:
            if c in _SPECIAL_FOLD:
                out.append(_SPECIAL_FOLD[c])
                continue
            decomposed = unicodedata.normalize("NFKD", c)
            out.append("".join(d for d in decomposed if not unicodedata.combining(d)))
        value = "".join(out)
        if value == chr(code):
            value = chr(code)
        self[code] = value
        return value


_FOLD = _FoldTable()

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
         "@": "a", "$": "s", "€": "e", "!": "i", "|": "l"}
# A run of letters and leet characters that contains at least one letter.
_LEET_RUN = re.compile(r"[a-z0-9@$€!|]*[a-z][a-z0-9@$€!|]*")
_LEET_SYMBOLS = frozenset("@$€!|")
# Three or more single letters/digits separated by one space, dot, dash, underscore or star.
_SPACED = re.compile(r"(?<![\w])(?:[a-z0-9@$€][ .\-_*]){2,}[a-z0-9@$€](?![\w])")
_REPEAT = re.compile(r"(.)\1{2,}")
_WORD = re.compile(r"\w+")


def _fold(text: str) -> tuple[str, list[int]]:
    folded = text.translate(_FOLD)
    if len(folded) == len(text):
        return folded, list(range(len(text)))
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        f = _FOLD[ord(ch)]
        chars.append(f)
        offsets.extend([i] * len(f))
    return "".join(chars), offsets


def _leet(run: str) -> str:
    if not any(c in _LEET for c in run):
        return run
    out = []
    n = len(run)
    for i, c in enumerate(run):
        if c in _LEET:
            if c in _LEET_SYMBOLS:
                # Only between two letters or digits: "@user", "idiot!!" stay as they are.
                if 0 < i < n - 1 and run[i - 1].isalnum() and run[i + 1].isalnum():
                    out.append(_LEET[c])
                else:
                    out.append(c)
            elif c.isdigit() and run.isdigit():
                out.append(c)
            else:
                out.append(_LEET[c])
        else:
            out.append(c)
    return "".join(out)


def normalise(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the original character index."""
    s, offs = _fold(text)
    # Spaced-out letters: "c o n n a r d" -> "connard" (only if the run has >= 2 letters).
    if _SPACED.search(s):
        pieces: list[str] = []
        new_offs: list[int] = []
        pos = 0
        for m in _SPACED.finditer(s):
            chunk = m.group()
            letters = chunk[0::2]
            if sum(c.isalpha() for c in letters) < 2:
                continue
            pieces.append(s[pos:m.start()])
            new_offs.extend(offs[pos:m.start()])
            pieces.append(letters)
            new_offs.extend(offs[m.start():m.end():2])
            pos = m.end()
        pieces.append(s[pos:])
        new_offs.extend(offs[pos:])
        s, offs = "".join(pieces), new_offs
    # Leetspeak inside words that contain a letter: "c0nn4rd" -> "connard". Same length.
    if any(c in _LEET for c in s):
        s = _LEET_RUN.sub(lambda m: _leet(m.group()), s)
    # Runs of three or more of one character -> two: "connnnard" -> "connard".
    if _REPEAT.search(s):
        keep = [True] * len(s)
        for m in _REPEAT.finditer(s):
            for i in range(m.start() + 2, m.end()):
                keep[i] = False
        s = "".join(c for c, k in zip(s, keep, strict=True) if k)
        offs = [o for o, k in zip(offs, keep, strict=True) if k]
    return s, offs


def _unspace(m: re.Match) -> str:
    chunk = m.group()
    letters = chunk[0::2]
    return letters if sum(c.isalpha() for c in letters) >= 2 else chunk


def normalise_text(text: str) -> str:
    """``normalise(text)[0]`` without the offsets: the scoring path."""
    s = text.translate(_FOLD)
    if _SPACED.search(s):
        s = _SPACED.sub(_unspace, s)
    if any(c in _LEET for c in s):
        s = _LEET_RUN.sub(lambda m: _leet(m.group()), s)
    if _REPEAT.search(s):
        s = _REPEAT.sub(lambda m: m.group()[:2], s)
    return s


def features(text: str, *, spans: bool = False):
    """Feature strings of a text: word unigrams, word bigrams and char 3-5-grams of each word.

    With ``spans=True``, returns ``(feature, start, end, word)`` tuples: offsets into ``text``
    and the index of the word the feature belongs to (-1 for a bigram).
    """
    s, offs = normalise(text)
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(s)]
    out = []
    prev = None
    for wi, (w, a, b) in enumerate(words):
        if spans:
            start, end = offs[a], offs[b - 1] + 1
            out.append(("w:" + w, start, end, wi))
            if prev is not None:
                out.append(("b:" + prev[0] + " " + w, prev[1], end, -1))
            prev = (w, start, end)
            padded = " " + w + " "
            length = len(padded)
            for n in CHAR_NGRAMS:
                for i in range(max(1, length - n + 1)):
                    # padded index i -> word index i-1, clipped to the word.
                    lo = min(max(i - 1, 0), len(w) - 1)
                    hi = min(max(i + n - 2, 0), len(w) - 1)
                    out.append(("c:" + padded[i:i + n], offs[a + lo], offs[a + hi] + 1, wi))
        else:
            out.append("w:" + w)
            if prev is not None:
                out.append("b:" + prev + " " + w)
            prev = w
            padded = " " + w + " "
            length = len(padded)
            for n in CHAR_NGRAMS:
                out.extend(["c:" + padded[i:i + n] for i in range(max(1, length - n + 1))])
    return out


_INDEX_CACHE: dict[str, int] = {}
_WORD_CACHE: dict[str, tuple[int, ...]] = {}
_CACHE_MAX = 1_000_000


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8"))


def feature_index(feature: str, n_features: int) -> int:
    idx = _INDEX_CACHE.get(feature)
    if idx is None:
        if len(_INDEX_CACHE) > _CACHE_MAX:
            _INDEX_CACHE.clear()
        idx = _INDEX_CACHE[feature] = _hash(feature)
    return idx % n_features


def _word_hashes(word: str) -> tuple[int, ...]:
    """Hashes of a word's own features (unigram + char n-grams), cached: words repeat."""
    hashes = _WORD_CACHE.get(word)
    if hashes is None:
        if len(_WORD_CACHE) > _CACHE_MAX:
            _WORD_CACHE.clear()
        padded = " " + word + " "
        length = len(padded)
        feats = ["w:" + word]
        for n in CHAR_NGRAMS:
            feats.extend(["c:" + padded[i:i + n] for i in range(max(1, length - n + 1))])
        hashes = _WORD_CACHE[word] = tuple(_hash(f) for f in feats)
    return hashes


def hashed(text: str) -> set[int]:
    """The raw hashes of ``features(text)``, computed with per-word caching."""
    return _hashed_normalised(normalise_text(text))


def _hashed_normalised(s: str) -> set[int]:
    words = _WORD.findall(s)
    out: set[int] = set()
    for w in words:
        out.update(_word_hashes(w))
    for a, b in zip(words, words[1:], strict=False):
        out.add(_hash("b:" + a + " " + b))
    return out


def words_of(normalised: str) -> list[str]:
    """The words of a normalised text, as the n-grams and the word vectors see them."""
    return _WORD.findall(normalised)


def explain_units(text: str) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray,
                                       list[tuple[int, int]], list[str]]:
    """Explanation units of a text: each word, then each adjacent word pair, then each lexicon
    hit that does not cover exactly one of those.

    Returns the units' (start, end) spans in the original text; for every hashed feature of
    the text its raw hash and the unit it belongs to (a word owns its unigram and char
    n-grams; a pair owns its bigram); each lexicon hit as (column, unit); and the words
    (unit ``i < len(words)`` is word ``i``).
    """
    s, offs = normalise(text)
    matches = list(_WORD.finditer(s))
    spans = [(offs[m.start()], offs[m.end() - 1] + 1) for m in matches]
    words = [m.group() for m in matches]
    hashes: list[int] = []
    units: list[int] = []
    for i, w in enumerate(words):
        h = _word_hashes(w)
        hashes.extend(h)
        units.extend([i] * len(h))
    n = len(words)
    for i in range(n - 1):
        hashes.append(_hash("b:" + words[i] + " " + words[i + 1]))
        units.append(n + i)
        spans.append((spans[i][0], spans[i + 1][1]))
    lex: list[tuple[int, int]] = []
    where = {span: u for u, span in enumerate(spans)}
    for k, a, b in lexicon.hits(s):
        span = (offs[a], offs[b - 1] + 1)
        if span not in where:
            where[span] = len(spans)
            spans.append(span)
        lex.append((k, where[span]))
    return (spans, np.asarray(hashes, dtype=np.int64), np.asarray(units, dtype=np.int64), lex,
            words)


def vectorise(texts, n_features: int, words: list | None = None) -> sparse.csr_matrix:
    """Binary hashed features, each row L2-normalised, then the ``N_LEXICON`` lexicon columns
    (hit counts capped at ``lexicon.CAP``, times ``LEXICON_VALUE``): float32 CSR of
    ``n_features + N_LEXICON`` columns. If ``words`` is a list, each text's normalised words
    are appended to it (for the word vectors)."""
    indptr = [0]
    chunks: list[np.ndarray] = []
    data: list[np.ndarray] = []
    total = 0
    for text in texts:
        s = normalise_text(text)
        if words is not None:
            words.append(words_of(s))
        h = _hashed_normalised(s)
        idx = np.unique(np.fromiter(h, dtype=np.int64, count=len(h)) % n_features)
        if len(idx):
            data.append(np.full(len(idx), 1.0 / np.sqrt(len(idx)), dtype=np.float32))
        lex = lexicon.counts(s)
        if any(lex):
            cols = [n_features + k for k, c in enumerate(lex) if c]
            idx = np.concatenate([idx, np.asarray(cols, dtype=np.int64)])
            data.append(np.asarray([c * LEXICON_VALUE for c in lex if c], dtype=np.float32))
        chunks.append(idx)
        total += len(idx)
        indptr.append(total)
    indices = np.concatenate(chunks).astype(np.int32) if chunks else np.zeros(0, np.int32)
    values = np.concatenate(data) if data else np.zeros(0, np.float32)
    return sparse.csr_matrix(
        (values, indices, np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, n_features + N_LEXICON),
    )
