"""The second opinion: a toxicity head on the multilingual encoder, combined with the fast score.

The fast model (n-grams, lexicon, word vectors) scores every comment. Those whose fast
toxicity falls in the model's *band* get the encoder's opinion: a logistic head on the
sentence embedding (one per language: French sources taught the French head better than
everything together), and the final toxicity is a calibrated combination of the two logits,
fitted on dev. Outside the band the fast score stands. Everything here is numpy; the heads,
band and combination are stored in the model artifact (format 4).
"""

from __future__ import annotations

import hashlib
import os
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import text as textmod

CACHE_ENV = "VIGIE_ENCODER_CACHE"


def _plain_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def encoder_text(text: str) -> str:
    """What the encoder reads: the text as written when its canonical form is only the text
    lower-cased without accents (the encoder knows case and accents: most comments), else
    the canonical form (invisible characters gone, look-alikes folded, split letters joined,
    leetspeak read), so a zero-width space or a Cyrillic "о" does not get past it either."""
    canonical = getattr(textmod, "canonical", None)
    if canonical is None:
        return text
    form = canonical(text)
    form = getattr(form, "text", form)
    return text if form == _plain_fold(text) else form


def combine(fast_logit: np.ndarray, encoder_logit: np.ndarray, params: dict) -> np.ndarray:
    """The calibrated combined probability from the two logits (a logistic stacker)."""
    z = params["a_fast"] * fast_logit + params["a_encoder"] * encoder_logit + params["b"]
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


# -- the embeddings cache (training and evaluation only) -------------------------------


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class EmbeddingCache:
    """Embeddings of texts already encoded, on disk, so training again costs no encoding.

    Keyed by the sha256 of the text the encoder read; the file names the encoder, so a
    different encoder never reads another's vectors.
    """

    def __init__(self, directory: str | os.PathLike, encoder_name: str):
        self.path = Path(directory) / f"{encoder_name}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as npz:
                keys, vectors = npz["keys"], npz["vectors"]
            self._vectors = {str(k): v for k, v in zip(keys, vectors, strict=True)}
        self._dirty = False

    def embed(
        self,
        texts: Sequence[str],
        encode: Callable[[list[str]], np.ndarray] | None,
        *,
        log: Callable[[str], None] = print,
        batch: int = 256,
    ) -> np.ndarray:
        keys = [_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            if encode is None:
                raise LookupError(f"{len(missing)} texts are not in {self.path}")
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            t0 = time.perf_counter()
            for start in range(0, len(missing), batch):
                chunk = missing[start : start + batch]
                for k, v in zip(chunk, encode([by_key[k] for k in chunk]), strict=True):
                    self._vectors[k] = v.astype(np.float16)
                done = start + len(chunk)
                rate = done / max(time.perf_counter() - t0, 1e-9)
                log(
                    f"  encoding {done}/{len(missing)} ({rate:.0f} texts/s, "
                    f"~{(len(missing) - done) / max(rate, 1e-9):.0f}s left)"
                )
                self._dirty = True
                if done % (batch * 20) == 0:
                    self.save()
            self.save()
        return (
            np.stack([self._vectors[k] for k in keys]).astype(np.float32)
            if keys
            else np.zeros((0, 0), np.float32)
        )

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
        os.replace(tmp, self.path)
        self._dirty = False


# -- which rows the encoder head learns from ------------------------------------------

DAVIDSON_TRAIN_SAMPLE = 5000  # English tweets are plentiful; the head needs a share, not all


def encoder_rows(rows: Sequence, part: str) -> list:
    """The toxicity-labelled rows the encoder head fits on (train) or is measured on.

    Train: every French row, every English row but a seeded sample of Davidson's tweets
    (17k tweets would cost an hour of encoding and teach the head English slang, which the
    fast model already knows). Dev and test: every toxicity-labelled row.
    """
    labelled = [r for r in rows if r.toxic is not None]
    if part != "train":
        return labelled
    keep = []
    for r in labelled:
        if r.source == "davidson":
            u = int(hashlib.sha256(f"encoder:{r.group}".encode()).hexdigest()[:8], 16) / 2**32
            if u >= DAVIDSON_TRAIN_SAMPLE / 17348:
                continue
        keep.append(r)
    return keep


# -- training (on train), combination, thresholds and band (on dev) --------------------

ENCODER_C_GRID = (0.25, 1.0, 4.0)
# The band's lower edge: the highest fast score below which the full cascade would have held
# at most this share of dev's toxic comments that the fast score alone does not hold.
BAND_MISS = 0.01
BAND_AUC_SLACK = 0.003  # and the cascade's dev AUC within this of "everything screened"


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _mean_language_auc(y, s, languages) -> float:
    from sklearn.metrics import roc_auc_score

    aucs = []
    for lang in ("en", "fr"):
        m = languages == lang
        if m.any() and len(set(y[m].tolist())) == 2:
            aucs.append(roc_auc_score(y[m], s[m]))
    return float(np.mean(aucs))


def fit_heads(rows: Sequence, X: np.ndarray, *, balanced_weights, log) -> tuple[dict, dict]:
    """One L2 logistic head per language on the embeddings, C chosen by a seeded 5-fold CV
    on train (dev is kept for the combination and the band)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    weights, meta = {}, {}
    y_all = np.array([r.toxic for r in rows])
    langs = np.array([r.language for r in rows])
    for lang in ("fr", "en"):
        m = langs == lang
        X_l, y_l = X[m].astype(np.float64), y_all[m]
        w_l = balanced_weights([r for r, k in zip(rows, m, strict=True) if k], y_l)
        folds = np.array(
            [
                int(hashlib.sha256(f"fold:{r.group}".encode()).hexdigest()[:8], 16) % 5
                for r, k in zip(rows, m, strict=True)
                if k
            ]
        )
        best = None
        for C in ENCODER_C_GRID:
            oof = np.zeros(len(y_l))
            for f in range(5):
                tr, te = folds != f, folds == f
                clf = LogisticRegression(C=C, solver="lbfgs", max_iter=2000)
                clf.fit(X_l[tr], y_l[tr], sample_weight=w_l[tr])
                oof[te] = clf.decision_function(X_l[te])
            auc = float(roc_auc_score(y_l, oof))
            log(f"  encoder head {lang}: C={C:g} train 5-fold AUC {auc:.4f}")
            if best is None or auc > best[0] + 1e-9:
                best = (auc, C)
        clf = LogisticRegression(C=best[1], solver="lbfgs", max_iter=2000)
        clf.fit(X_l, y_l, sample_weight=w_l)
        weights[lang] = clf.coef_[0].astype(np.float16)
        meta[lang] = {
            "intercept": round(float(clf.intercept_[0]), 8),
            "C": best[1],
            "cv_auc": round(best[0], 4),
            "train_rows": int(m.sum()),
            "train_positives": int(y_l.sum()),
        }
    return weights, meta


def fit_combination(fast_dev: np.ndarray, z_enc_dev: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
    """The stacker: toxicity ~ sigmoid(a_fast * logit(fast) + a_encoder * z_encoder + b),
    fitted on dev with balanced weights; it is both the combination and its calibration."""
    from sklearn.linear_model import LogisticRegression

    X = np.column_stack([_logit(fast_dev), z_enc_dev])
    clf = LogisticRegression(C=100.0, solver="lbfgs", max_iter=2000)
    clf.fit(X, y, sample_weight=w)
    return {
        "a_fast": round(float(clf.coef_[0][0]), 6),
        "a_encoder": round(float(clf.coef_[0][1]), 6),
        "b": round(float(clf.intercept_[0]), 6),
    }


def choose_band(fast: np.ndarray, combined: np.ndarray, y: np.ndarray, languages: np.ndarray,
                hold: np.ndarray, log) -> dict:
    """The band [low, high] of fast scores that get a second opinion, both edges on dev.

    ``low``: the highest fast score such that, below it, the full cascade would have held at
    most BAND_MISS of dev's toxic comments that the fast score alone does not, with the
    cascade's dev AUC within BAND_AUC_SLACK of screening everything. ``high``: where the
    second opinion's changed decisions (at each row's hold threshold) are right most often
    net of those it gets wrong: above it, on dev, the encoder flipped the fast model's sure
    verdicts more often wrongly than rightly, so the fast score stands there.
    """
    full_auc = _mean_language_auc(y, combined, languages)
    toxic = y == 1
    low = 0.0
    for candidate in np.round(np.arange(0.0, 0.96, 0.01), 2):
        below = fast < candidate
        missed = int((below & toxic & (combined >= hold) & (fast < hold)).sum())
        cascade = np.where(below, fast, combined)
        auc = _mean_language_auc(y, cascade, languages)
        if missed <= BAND_MISS * toxic.sum() and auc >= full_auc - BAND_AUC_SLACK:
            low = float(candidate)
        else:
            break
    flips = (fast >= hold) != (combined >= hold)
    right = flips & ((combined >= hold) == toxic)
    wrong = flips & ~right
    best_high, best_net = 1.0, None
    for candidate in np.round(np.arange(1.0, low, -0.01), 2)[::-1]:
        inside = (fast >= low) & (fast <= candidate)
        net = int((right & inside).sum()) - int((wrong & inside).sum())
        if best_net is None or net > best_net:
            best_high, best_net = float(candidate), net
    inside = (fast >= low) & (fast <= best_high)
    share = float(inside.mean())
    log(f"  band: fast toxicity in [{low:.2f}, {best_high:.2f}] gets a second opinion ({share:.0%} of dev; "
        f"{int((right & inside).sum())} decisions set right, {int((wrong & inside).sum())} wrong on dev)")
    return {"low": low, "high": best_high, "dev_share": round(share, 4),
            "rule": f"low: the highest fast score under which the full cascade holds <= {BAND_MISS:.0%} of "
                    f"dev toxic comments the fast model does not, dev AUC within {BAND_AUC_SLACK}; high: "
                    "the edge that maximises the dev decisions the second opinion sets right minus "
                    "those it sets wrong"}
