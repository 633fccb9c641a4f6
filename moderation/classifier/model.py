"""The model artifact: a directory with ``model.json`` (metadata) and ``weights.npz``.

No pickle anywhere: weights are plain float16 arrays in an ``.npz`` loaded with
``allow_pickle=False``; everything else is JSON.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import lexicon
from . import text as textmod
from .language import detect_languages
from .vectors import TABLE as VECTORS_TABLE
from .vectors import WordVectors, is_vector_array

FORMAT = "vigie-classifier"
# 2: lexicon columns after the hashed n-grams; 3: optional word vectors; 4: optional second
# opinion (encoder heads, band, combination)
FORMAT_VERSION = 4
READABLE_VERSIONS = (2, 3, 4)
HEADS = ("toxicity", "spam")
LANGUAGE_HEAD = "language_fr"
THRESHOLD_KEYS = ("toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject")
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "default_model"
LEXICON_SUFFIX = ".lexicon"  # weights.npz: "<head>.lexicon" = the head's lexicon-column weights
VECTORS_SUFFIX = ".vectors"  # weights.npz: "<head>.vectors" = the head's word-vector weights
EXPLAIN_TOP = 5
ENCODER_PREFIX = "encoder."  # weights.npz: "encoder.<language>" = that language's encoder head
ENCODER_LANGUAGES = ("fr", "en")
OCCLUSION_MAX_WORDS = 40
_WORD_SPAN = re.compile(r"\w+")


class ModelError(Exception):
    """A model file is missing, corrupt or incompatible with this code."""


@dataclass(frozen=True)
class Scores:
    toxicity: float
    spam: float
    language: str
    labels: dict[str, float] = field(default_factory=dict)
    explanation: dict = field(default_factory=dict)


# English stop words from scikit-learn, less the ones that carry meaning in a comment: "con"
# is a French insult, "call" a spam cue, "fire" and "go" start threats ("die in a fire").
_EN_STOP_KEEP = frozenset(
    [
        "con",
        "call",
        "fire",
        "cry",
        "kill",
        "empty",
        "bill",
        "system",
        "interest",
        "mill",
        "thick",
        "thin",
        "serious",
        "sincere",
        "show",
        "find",
        "found",
        "fill",
        "get",
        "give",
        "go",
        "keep",
        "see",
        "take",
        "put",
        "move",
        "back",
        "top",
        "bottom",
        "front",
        "side",
        "full",
        "part",
        "made",
        "describe",
        "detail",
        "amount",
        "hundred",
    ]
)
STOP_WORDS_FR = Path(__file__).resolve().parent / "stopwords_fr.txt"


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """French (``stopwords_fr.txt``) and English (scikit-learn's list) stop words, in the
    canonical form the explanation's words are in."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    fr = [
        line.strip()
        for line in STOP_WORDS_FR.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    words = {textmod.normalise_text(w) for w in (*fr, *(ENGLISH_STOP_WORDS - _EN_STOP_KEEP))}
    return frozenset(w for w in words if w)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


class Model:
    """A loaded model: linear heads over hashed n-grams, lexicon columns and (format 3) pooled
    word vectors, each head with Platt calibration."""

    def __init__(self, metadata: dict, weights: dict[str, np.ndarray], path: Path | None = None):
        self.metadata = metadata
        self.path = path
        self._weights = weights
        self.version: str = metadata["version"]
        self.thresholds: dict[str, float] = {k: float(metadata["thresholds"][k])
                                             for k in THRESHOLD_KEYS}
        # Format 4: toxicity thresholds per language (chosen on each language's dev rows).
        self.thresholds_by_language: dict[str, dict[str, float]] = {
            lang: {**self.thresholds, **{k: float(v) for k, v in t.items()}}
            for lang, t in (metadata.get("thresholds_by_language") or {}).items()}
        self.n_features: int = int(metadata["n_features"])
        self.head_names: list[str] = list(metadata["heads"])
        # One column per head: the hashed n-gram weights, then the lexicon-column weights
        # (zeros for a model saved without them).
        self._W = np.stack(
            [
                np.concatenate(
                    [
                        weights[h].astype(np.float32),
                        weights.get(h + LEXICON_SUFFIX, np.zeros(textmod.N_LEXICON)).astype(np.float32),
                    ]
                )
                for h in self.head_names
            ],
            axis=1,
        )
        self._W = np.ascontiguousarray(self._W)
        # Word vectors (format 3, optional): pooled features with one weight column per head.
        self.vectors = WordVectors.from_arrays(weights)
        self._V = (
            None
            if self.vectors is None
            else np.ascontiguousarray(
                np.stack([weights[h + VECTORS_SUFFIX].astype(np.float32) for h in self.head_names], axis=1)
            )
        )
        heads = metadata["heads"]
        self._bias = np.array([heads[h]["intercept"] for h in self.head_names], dtype=np.float64)
        self._cal_a = np.array([heads[h]["calibration"]["a"] for h in self.head_names])
        self._cal_b = np.array([heads[h]["calibration"]["b"] for h in self.head_names])
        self._col = {h: i for i, h in enumerate(self.head_names)}
        # Optional: the toxicity heads also score each sentence, and keep the highest.
        rule = metadata.get("sentences") or {}
        self.sentence_min_words = int(rule.get("min_words", textmod.SENTENCE_MIN_WORDS))
        self.sentence_heads = [self._col[h] for h in rule.get("heads", ()) if h in self._col]
        # Format 4 (optional): the second opinion's heads on the sentence encoder.
        self.second = metadata.get("second_opinion")
        self._E = None
        if self.second is not None:
            self._E = {lang: weights[ENCODER_PREFIX + lang].astype(np.float32)
                       for lang in ENCODER_LANGUAGES}

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The arrays the model was built from (a copy of the mapping: to build a variant)."""
        return dict(self._weights)

    def thresholds_for(self, language: str) -> dict[str, float]:
        """The thresholds for a comment in ``language`` ('other' gets the overall ones)."""
        return self.thresholds_by_language.get(language, self.thresholds)

    # -- the cascade -----------------------------------------------------------------
    @property
    def has_second_opinion(self) -> bool:
        return self.second is not None

    def needs_second_opinion(self, toxicity: float) -> bool:
        """Is the fast score in the band where the encoder's opinion changes decisions?"""
        if self.second is None:
            return False
        band = self.second["band"]
        return band["low"] <= toxicity <= band["high"]

    def encoder_logits(self, vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
        """Each text's encoder-head logit, from its embedding and its language's head."""
        heads = self.second["heads"]
        out = np.empty(len(languages), dtype=np.float64)
        for k, lang in enumerate(languages):
            head = lang if lang in self._E else "fr"  # 'other': the French head
            out[k] = float(vectors[k] @ self._E[head]) + heads[head]["intercept"]
        return out

    def combined_toxicity(self, fast: np.ndarray, vectors: np.ndarray,
                          languages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(combined toxicity, the encoder head's own probability) for texts in the band."""
        from .second_opinion import combine

        fast = np.clip(np.asarray(fast, dtype=np.float64), 1e-6, 1 - 1e-6)
        z_enc = self.encoder_logits(vectors, languages)
        params = self.second["combine"]
        # One combination per language (fitted on that language's dev rows); 'other': French.
        a_fast = np.array([params.get(lang, params["fr"])["a_fast"] for lang in languages])
        a_enc = np.array([params.get(lang, params["fr"])["a_encoder"] for lang in languages])
        b = np.array([params.get(lang, params["fr"])["b"] for lang in languages])
        combined = combine(np.log(fast / (1 - fast)), z_enc, {"a_fast": a_fast, "a_encoder": a_enc, "b": b})
        return combined, _sigmoid(z_enc)

    def second_opinion(self, texts: Sequence[str], fast: Sequence[Scores], *,
                       encode=None, explain: bool = False) -> list[Scores]:
        """The final scores of texts the fast model was unsure of (their fast ``Scores``).

        ``encode``: texts -> embeddings (the process's encoder by default). With ``explain``,
        the explanation says the encoder moved the score and names the words whose removal
        moves it most (an encoder call per word: only for comments a moderator reviews).
        """
        from .second_opinion import encoder_text

        if not texts:
            return []
        if encode is None:
            from .encoder import load_encoder

            encode = load_encoder().encode
        languages = [s.language for s in fast]
        vectors = encode([encoder_text(t) for t in texts])
        combined, p_enc = self.combined_toxicity(
            np.array([s.toxicity for s in fast]), vectors, languages)
        out = []
        for k, (text, s) in enumerate(zip(texts, fast, strict=True)):
            labels = {**s.labels, "toxicity_fast": round(s.toxicity, 6),
                      "toxicity_encoder": round(float(p_enc[k]), 6)}
            explanation = s.explanation
            if explain:
                explanation = {**(explanation or self.explain(text)),
                               "encoder": self.explain_encoder(text, s, float(combined[k]), encode)}
            out.append(Scores(toxicity=float(combined[k]), spam=s.spam, language=s.language,
                              labels=labels, explanation=explanation))
        return out

    def explain_encoder(self, text: str, fast: Scores, combined: float, encode) -> dict:
        """How the encoder moved the toxicity, and the words whose removal lowers it most."""
        from .second_opinion import encoder_text

        if encode is None:
            from .encoder import load_encoder

            encode = load_encoder().encode
        spans = [(m.start(), m.end()) for m in _WORD_SPAN.finditer(text)][:OCCLUSION_MAX_WORDS]
        result = {"fast": round(fast.toxicity, 4), "combined": round(combined, 4), "words": []}
        if len(spans) < 2:
            return result
        variants = [encoder_text(text[:a] + text[b:]) for a, b in spans]
        scores = self.score(variants, explain=False)
        combined_without, _ = self.combined_toxicity(
            np.array([s.toxicity for s in scores]), encode(variants), [fast.language] * len(variants))
        drops = combined - combined_without
        order = np.argsort(-drops, kind="stable")[:EXPLAIN_TOP]
        result["words"] = [
            {"ngram": text[spans[i][0]:spans[i][1]], "start": spans[i][0], "end": spans[i][1],
             "weight": round(float(drops[i]), 4)}
            for i in order if drops[i] > 0.01
        ]
        return result

    def score_cascade(self, texts: Sequence[str], *, encode=None,
                      explain: bool = False) -> list[Scores]:
        """Both stages, as the workers run them: the fast score, and for the texts in the
        band, the combined score (``manage.py score_texts``, the pre-submit check, evaluation)."""
        fast = self.score(texts, explain=explain)
        unsure = [k for k, s in enumerate(fast) if self.needs_second_opinion(s.toxicity)]
        if unsure:
            second = self.second_opinion([texts[k] for k in unsure], [fast[k] for k in unsure],
                                         encode=encode, explain=explain)
            for k, s in zip(unsure, second, strict=True):
                fast[k] = s
        return fast

    # -- scoring ---------------------------------------------------------------------
    def logits(self, texts: Sequence[str]) -> np.ndarray:
        if self.vectors is None:
            X = textmod.vectorise(texts, self.n_features)
            return np.asarray(X @ self._W, dtype=np.float64) + self._bias
        words: list[list[str]] = []
        X = textmod.vectorise(texts, self.n_features, words)
        z = np.asarray(X @ self._W, dtype=np.float64) + self._bias
        pooled = self.vectors.pool(words) * self._french_gate(z)[:, None]
        return z + pooled @ self._V

    def _french_gate(self, z: np.ndarray) -> np.ndarray:
        """The word vectors are French: each text's pooled vector counts by P(French), from
        the language head (which has no vector weights, so ``z`` may include them or not)."""
        c = self._col.get(LANGUAGE_HEAD)
        if c is None:
            return np.ones(len(z), dtype=np.float32)
        return _sigmoid(self._cal_a[c] * z[:, c] + self._cal_b[c]).astype(np.float32)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), n_heads) in ``head_names`` order.

        With the model's ``sentences`` rule, a comment of several sentences scores on the
        toxicity heads as its most toxic sentence when that is higher than the whole
        (clean padding does not dilute a toxic sentence); spam and language stay whole-text.
        """
        z = self.logits(texts)
        probs = _sigmoid(self._cal_a * z + self._cal_b)
        if self.sentence_heads and len(texts):
            self._sentence_max(texts, probs)
        return probs

    def _sentence_max(self, texts: Sequence[str], probs: np.ndarray) -> None:
        pieces = [textmod.sentences(t, self.sentence_min_words) for t in texts]
        flat = [p for ps in pieces for p in ps]
        if not flat:
            return
        z = self.logits(flat)
        cols = self.sentence_heads
        sub = _sigmoid(self._cal_a[cols] * z[:, cols] + self._cal_b[cols])
        k = 0
        for i, ps in enumerate(pieces):
            if ps:
                probs[i, cols] = np.maximum(probs[i, cols], sub[k:k + len(ps)].max(axis=0))
                k += len(ps)

    def score(self, texts: Sequence[str], *, explain: bool = True) -> list[Scores]:
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return []
        probs = self.probabilities(texts)
        lang_col = self._col.get(LANGUAGE_HEAD)
        languages = detect_languages(texts, fr_probability=None if lang_col is None else probs[:, lang_col])
        tox, spam = self._col["toxicity"], self._col["spam"]
        sub = [(h, i) for h, i in self._col.items() if h not in HEADS and h != LANGUAGE_HEAD]
        out = []
        for k, text in enumerate(texts):
            row = probs[k]
            out.append(
                Scores(
                    toxicity=float(row[tox]),
                    spam=float(row[spam]),
                    language=languages[k],
                    labels={h: float(row[i]) for h, i in sub},
                    explanation=self.explain(text) if explain else {},
                )
            )
        return out

    # -- explanation -----------------------------------------------------------------
    def explain(self, text: str, top: int = EXPLAIN_TOP) -> dict:
        """For each main head, the words / word pairs whose n-grams pushed the score up most.

        A word's weight is its contribution to the logit through its unigram and its
        character n-grams; a word pair's, through its bigram; a lexicon hit's (an insult, a
        threat, a dehumanising phrase...), through its lexicon column, added to the word or
        pair it covers exactly, else shown as its own span. Features are binary, so one
        present several times is credited once, to its first unit. A word's share through
        the word vectors (what the word means: ``vectors.WordVectors.contributions``) is
        added to the word. Spans index the original text, so ``text[start:end] == ngram``.
        """
        spans, hashes, units, lex, words = textmod.explain_units(text)
        if not len(hashes) and not lex:
            return {h: [] for h in HEADS}
        idx = hashes % self.n_features
        unique, first = np.unique(idx, return_index=True)
        value = 1.0 / math.sqrt(len(unique)) if len(unique) else 0.0
        # A lexicon column's value (capped hit count) is shared among its hits.
        n_hits = np.bincount([k for k, _ in lex], minlength=textmod.N_LEXICON)
        lex_cols = np.array([k for k, _ in lex], dtype=np.int64)
        lex_units = np.array([u for _, u in lex], dtype=np.int64)
        lex_share = (
            (np.minimum(n_hits, lexicon.CAP) * textmod.LEXICON_VALUE / np.maximum(n_hits, 1))[lex_cols]
            if lex
            else np.zeros(0)
        )
        by_meaning = None
        if self.vectors is not None:
            # The gate from these same units: the language head's logit (it has no vector
            # weights) is its n-gram and lexicon weights over them, as in ``logits``.
            gate = 1.0
            c = self._col.get(LANGUAGE_HEAD)
            if c is not None:
                z = self._bias[c] + value * self._W[unique, c].astype(np.float64).sum()
                z += float(self._W[self.n_features + lex_cols, c] @ lex_share) if lex else 0.0
                gate = float(_sigmoid(self._cal_a[c] * z + self._cal_b[c]))
            by_meaning = gate * self.vectors.contributions(words, self._V[:, [self._col[h] for h in HEADS]])
        stop = np.fromiter((w in stop_words() for w in words), dtype=bool, count=len(words))
        result = {}
        for head in HEADS:
            contrib = self._W[unique, self._col[head]].astype(np.float64) * value
            per_unit = np.bincount(units[first], weights=contrib, minlength=len(spans))
            if lex:
                w_lex = self._W[self.n_features + lex_cols, self._col[head]].astype(np.float64)
                per_unit += np.bincount(lex_units, weights=w_lex * lex_share, minlength=len(spans))
            if by_meaning is not None:
                per_unit[: len(words)] += by_meaning[:, HEADS.index(head)]
            # A stop word alone explains nothing ("es", "un", "the"); its pairs stay.
            if len(words):
                per_unit[: len(words)][stop] = 0.0
            order = np.lexsort((np.arange(len(spans)), -per_unit))[:top]
            result[head] = [
                {
                    "ngram": text[spans[u][0] : spans[u][1]],
                    "start": int(spans[u][0]),
                    "end": int(spans[u][1]),
                    "weight": round(float(per_unit[u]), 4),
                }
                for u in order
                if per_unit[u] > 0
            ]
        return result


# -- persistence -----------------------------------------------------------------------


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz with fixed zip timestamps, so equal weights give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            arr_buf = io.BytesIO()
            np.lib.format.write_array(arr_buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, arr_buf.getvalue(), compresslevel=9)
    return buf.getvalue()


def weights_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()


def save_model(path: str | os.PathLike, metadata: dict, weights: dict[str, np.ndarray]) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "weights.npz").write_bytes(_npz_bytes(weights))
    (path / "model.json").write_text(
        json.dumps(metadata, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return path


def _read(path: Path) -> Model:
    meta_path = path / "model.json" if path.is_dir() else path
    weights_path = path / "weights.npz" if path.is_dir() else path.with_name("weights.npz")
    if not meta_path.is_file():
        raise ModelError(f"model file {meta_path} does not exist")
    if not weights_path.is_file():
        raise ModelError(f"model weights {weights_path} do not exist")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model file {meta_path} is not valid JSON: {exc}") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelError(f"{meta_path} is not a {FORMAT} model file")
    if metadata.get("format_version") not in READABLE_VERSIONS:
        raise ModelError(
            f"{meta_path} has format version {metadata.get('format_version')!r}; "
            f"this code reads versions {', '.join(map(str, READABLE_VERSIONS))}"
        )
    if metadata.get("feature_schema") != textmod.FEATURE_SCHEMA:
        raise ModelError(
            f"{meta_path} uses features {metadata.get('feature_schema')!r}; "
            f"this code computes {textmod.FEATURE_SCHEMA!r}"
        )
    try:
        with np.load(weights_path, allow_pickle=False) as npz:
            weights = {name: npz[name] for name in npz.files}
    except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError...
        raise ModelError(f"model weights {weights_path} are corrupt: {exc}") from exc
    try:
        heads = metadata["heads"]
        thresholds = metadata["thresholds"]
        n = int(metadata["n_features"])
        for head in HEADS:
            if head not in heads:
                raise ModelError(f"{meta_path} has no {head!r} head")
        for head in heads:
            if head not in weights or weights[head].shape != (n,):
                raise ModelError(f"{weights_path} has no {n}-long weights for head {head!r}")
            lex = weights.get(head + LEXICON_SUFFIX)
            if lex is not None and lex.shape != (textmod.N_LEXICON,):
                raise ModelError(
                    f"{weights_path}: {head}{LEXICON_SUFFIX} has shape "
                    f"{lex.shape}, this code has {textmod.N_LEXICON} lexicon "
                    f"columns ({lexicon.LEXICON_ID})"
                )
        for key in THRESHOLD_KEYS:
            if not 0.0 <= float(thresholds[key]) <= 1.0:
                raise ModelError(f"{meta_path}: threshold {key} out of [0, 1]")
        if any(is_vector_array(name) for name in weights):
            dims = 2 * weights[VECTORS_TABLE].shape[1]
            for head in heads:
                vw = weights.get(head + VECTORS_SUFFIX)
                if vw is None or vw.shape != (dims,):
                    raise ModelError(f"{weights_path} has no {dims}-long word-vector weights "
                                     f"for head {head!r}")
        second = metadata.get("second_opinion")
        if second is not None:
            for lang in ENCODER_LANGUAGES:
                head = weights.get(ENCODER_PREFIX + lang)
                if head is None or head.ndim != 1 or lang not in second["heads"]:
                    raise ModelError(f"{weights_path} has no encoder head for {lang!r}")
            for key in ("low", "high"):
                if not 0.0 <= float(second["band"][key]) <= 1.0:
                    raise ModelError(f"{meta_path}: second-opinion band {key} out of [0, 1]")
            for lang in ENCODER_LANGUAGES:
                for key in ("a_fast", "a_encoder", "b"):
                    float(second["combine"][lang][key])
        if weights_digest(weights) != metadata.get("weights_sha256"):
            raise ModelError(f"{weights_path} does not match the digest in {meta_path}")
        return Model(metadata, weights, path)
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"model file {meta_path} is incomplete: {exc!r}") from exc


@functools.lru_cache(maxsize=8)
def _load_cached(resolved: str) -> Model:
    return _read(Path(resolved))


def load_model(path: str | os.PathLike | None = None) -> Model:
    """The model at ``path`` (a directory, or its model.json); ``None`` = the shipped default.

    Cached per process and per resolved path: workers load it once.
    """
    resolved = Path(path if path is not None else DEFAULT_MODEL_PATH).expanduser().resolve()
    return _load_cached(str(resolved))
