"""Training: hashed n-grams -> L2 logistic regression per head, Platt-calibrated on dev.

Deterministic: fixed split seed, liblinear with a fixed random_state, rows in file order,
fixed zip timestamps. The same data gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from . import augment, data, lexicon, second_opinion
from . import text as textmod
from .evaluate import behaviour_report, metrics_report
from .model import (
    ENCODER_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    HEADS,
    LEXICON_SUFFIX,
    VECTORS_SUFFIX,
    Model,
    _sigmoid,
    save_model,
    weights_digest,
)
from .vectors import WordVectors

N_FEATURES = 2**18
C_GRID = (0.5, 2.0, 8.0)
RANDOM_STATE = 0
SUBLABELS = ("identity_hate",)
# Word-vector columns are standardised on train and scaled by this before fitting: the
# smaller, the more the L2 penalty holds their weights down. Of 0.015 / 0.03 / 0.06, the one
# with the best French dev AUC that loses no hand-written behaviour case (docs/model_card.md).
VECTORS_ALPHA = 0.015
LANGUAGE_HEAD = "language_fr"  # French (1) vs English (0): the fr/en part of language detection

# Dev-set targets the thresholds are chosen for (the bar is 15% FPR on French non-toxic).
TOXICITY_HOLD_FPR = 0.10
TOXICITY_REJECT_FPR = 0.02
SPAM_HOLD_FPR = 0.02
SPAM_REJECT_FPR = 0.005


def _label(row: data.Row, head: str) -> int | None:
    if head == "toxicity":
        return row.toxic
    if head == "spam":
        if row.spam is not None:
            return row.spam
        # Comments collected for toxicity are taken as "not spam" for training only (they
        # are the only French negatives); spam metrics use the spam sets alone.
        return None if row.source == "decisions" else 0
    if head == "identity_hate":
        # A comment labelled not toxic is not identity hate either: without these negatives
        # the head only ever sees keyword-sampled (mostly hostile) text.
        return row.hate if row.hate is not None else (0 if row.toxic == 0 else None)
    if head == LANGUAGE_HEAD:
        return {"fr": 1, "en": 0}.get(row.language)
    raise ValueError(head)


def _balanced_weights(rows: list[data.Row], labels: np.ndarray) -> np.ndarray:
    """Each (language, label) cell weighs the same in total: French is not "mostly toxic"."""
    cells = Counter((r.language, int(y)) for r, y in zip(rows, labels, strict=True))
    n_cells = len(cells)
    total = len(rows)
    w = np.array([total / (n_cells * cells[(r.language, int(y))])
                  for r, y in zip(rows, labels, strict=True)])
    return w


def _subset(rows: list[data.Row], X, head: str):
    """The rows with a label for ``head``: (their indices, rows, X rows, labels)."""
    keep = [i for i, r in enumerate(rows) if _label(r, head) is not None]
    sub_rows = [rows[i] for i in keep]
    y = np.array([_label(r, head) for r in sub_rows], dtype=np.int64)
    return keep, sub_rows, X[keep], y


def _fit(X, y, w, C: float) -> LogisticRegression:
    clf = LogisticRegression(C=C, solver="liblinear", random_state=RANDOM_STATE, max_iter=200)
    clf.fit(X, y, sample_weight=w)
    return clf


def _quantised(clf: LogisticRegression) -> tuple[np.ndarray, float]:
    return clf.coef_[0].astype(np.float16), float(clf.intercept_[0])


def _platt(z: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
    cal = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    cal.fit(z.reshape(-1, 1), y, sample_weight=w)
    return {"a": round(float(cal.coef_[0, 0]), 8), "b": round(float(cal.intercept_[0]), 8)}


def _threshold_at_fpr(neg_scores: np.ndarray, fpr: float) -> float:
    """The lowest threshold (score >= t flags) leaving at most ``fpr`` of negatives flagged."""
    s = np.sort(neg_scores)[::-1]
    k = int(np.floor(fpr * len(s)))  # may flag k negatives
    if k >= len(s):
        return 0.0
    t = float(s[k])
    return float(np.nextafter(t, 1.0))


def _french_gate(X, weights: dict, heads_meta: dict) -> np.ndarray:
    """P(French) of each row from the (already fitted, n-grams only) language head."""
    meta = heads_meta.get(LANGUAGE_HEAD)
    if meta is None:
        return np.ones(X.shape[0])
    w = np.concatenate([weights[LANGUAGE_HEAD], weights[LANGUAGE_HEAD + LEXICON_SUFFIX]])
    z = np.asarray(X @ w.astype(np.float32), dtype=np.float64) + meta["intercept"]
    cal = meta["calibration"]
    return _sigmoid(cal["a"] * z + cal["b"])


def _dev_auc(rows, y, z, head) -> float:
    if head != "toxicity":
        if head == "spam":
            mask = np.array([r.spam is not None for r in rows])
            return float(roc_auc_score(y[mask], z[mask]))
        return float(roc_auc_score(y, z))
    aucs = []
    for lang in ("en", "fr"):
        m = np.array([r.language == lang for r in rows])
        if m.any() and len(set(y[m])) == 2:
            aucs.append(roc_auc_score(y[m], z[m]))
    return float(np.mean(aucs))


def train(
    data_dir: str | Path,
    *,
    extra_rows: Iterable[data.Row] = (),
    n_features: int = N_FEATURES,
    command: str = "manage.py train_classifier --data DATA_DIR --out OUT",
    log: Callable[[str], None] = print,
    c_grid: tuple[float, ...] = C_GRID,
    vectors: WordVectors | None = None,
    vectors_meta: dict | None = None,
    vectors_alpha: float = VECTORS_ALPHA,
    encoder: EncoderForTraining | None = None,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Train on ``data_dir`` (+ ``extra_rows`` in train), with word vectors if given.
    Returns (metadata, weights)."""
    t0 = time.perf_counter()
    root = data.data_dir(data_dir)
    log(f"reading data from {root}")
    rows = data.load_all(root, log=log)
    fp = data.fingerprint(root)
    parts = data.split(rows)
    templates = augment.rows()
    extra = list(extra_rows)
    train_rows = parts["train"] + templates + extra
    log(f"split: train {len(parts['train'])} (+{len(templates)} templates, +{len(extra)} "
        f"decisions), dev {len(parts['dev'])}, test {len(parts['test'])} (never used to fit "
        f"or tune)")
    log("featurising...")
    words_train: list[list[str]] = []
    words_dev: list[list[str]] = []
    X_train = textmod.vectorise([r.text for r in train_rows], n_features, words_train)
    X_dev = textmod.vectorise([r.text for r in parts["dev"]], n_features, words_dev)
    n_sparse = X_train.shape[1]
    log(f"  {X_train.shape[0]} x {n_features}+{textmod.N_LEXICON}"
        + (f"+{vectors.n_features}" if vectors is not None else "")
        + f" train, {X_train.nnz} nonzeros ({time.perf_counter() - t0:.1f}s)")

    weights: dict[str, np.ndarray] = {}
    heads_meta: dict[str, dict] = {}
    X_vec = P_dev = None
    # The language head first, on n-grams alone: the word vectors are French, so each
    # comment's pooled vector is weighted by how French that head finds it (an English
    # comment's words do not pull through their French homographs).
    for head in (LANGUAGE_HEAD, *HEADS, *SUBLABELS):
        use_vectors = vectors is not None and head != LANGUAGE_HEAD
        if use_vectors and X_vec is None:
            P_train = vectors.pool(words_train).astype(np.float64)
            P_train *= _french_gate(X_train, weights, heads_meta)[:, None]
            P_dev = vectors.pool(words_dev).astype(np.float64)
            P_dev *= _french_gate(X_dev, weights, heads_meta)[:, None]
            # Standardised on train for fitting; the fitted weights are mapped back to
            # raw-vector weights (and the intercept), so the model pools and multiplies.
            v_mean = P_train.mean(axis=0)
            v_scale = vectors_alpha / (P_train.std(axis=0) + 1e-6)
            X_vec = sparse.hstack([X_train, sparse.csr_matrix((P_train - v_mean) * v_scale)],
                                  format="csr", dtype=np.float64)
        _, tr_rows, Xh, y = _subset(train_rows, X_vec if use_vectors else X_train, head)
        dev_keep, dv_rows, Xd, yd = _subset(parts["dev"], X_dev, head)
        if len(set(y.tolist())) < 2 or len(set(yd.tolist())) < 2:
            if head not in HEADS:
                log(f"  {head}: one class only in train or dev, head skipped")
                continue
            raise data.DataError(f"head {head!r} needs both classes in train and dev")
        w = _balanced_weights(tr_rows, y)
        wd = _balanced_weights(dv_rows, yd)
        best = None
        for C in c_grid:
            clf = _fit(Xh, y, w, C)
            coef, b = _quantised(clf)
            vcoef = None
            if use_vectors:
                # Standardised-column weights -> raw pooled-vector weights and intercept.
                vcoef = (coef[n_sparse:].astype(np.float64) * v_scale).astype(np.float16)
                b = round(b - float(vcoef.astype(np.float64) @ v_mean), 8)
                coef = coef[:n_sparse]
            z = np.asarray(Xd @ coef.astype(np.float32), dtype=np.float64) + b
            if vcoef is not None:
                z += P_dev[dev_keep] @ vcoef.astype(np.float32)
            auc = _dev_auc(dv_rows, yd, z, head)
            log(f"  {head}: C={C:g} dev AUC {auc:.4f} ({time.perf_counter() - t0:.1f}s)")
            if best is None or auc > best[0] + 1e-9:
                best = (auc, C, coef, b, z, vcoef)
        auc, C, coef, b, z, vcoef = best
        # Main and language heads: calibrated on balanced dev (scores do not depend on how
        # toxic, or how English, the data sets happen to be). Sub-labels: on dev as it is, so
        # that a comment with no sign of the sub-label scores near its (low) base rate.
        cal = _platt(z, yd, np.ones_like(wd) if head in SUBLABELS else wd)
        weights[head] = coef[:n_features]
        weights[head + LEXICON_SUFFIX] = coef[n_features:]
        if vectors is not None:
            weights[head + VECTORS_SUFFIX] = (
                vcoef if vcoef is not None else np.zeros(vectors.n_features, np.float16))
        heads_meta[head] = {
            "intercept": round(b, 8), "C": C, "calibration": cal,
            "dev_auc": round(auc, 4), "train_rows": len(tr_rows),
            "train_positives": int(y.sum()),
            "lexicon_weights": {name: round(float(v), 4)
                                for name, v in zip(lexicon.NAMES, coef[n_features:],
                                                   strict=True)},
        }
        log(f"  {head}: chose C={C:g}, calibration a={cal['a']:.3f} b={cal['b']:.3f}")

    metadata: dict = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "feature_schema": textmod.FEATURE_SCHEMA,
        "n_features": n_features,
        "lexicon": {"id": lexicon.LEXICON_ID, "columns": list(lexicon.NAMES),
                    "value": textmod.LEXICON_VALUE, "cap": lexicon.CAP},
        "heads": heads_meta,
        # A comment of several sentences scores as its most toxic sentence when that is higher
        # (thresholds, band and combination below are chosen on scores with this rule).
        "sentences": {"heads": [h for h in ("toxicity", *SUBLABELS) if h in heads_meta],
                      "min_words": textmod.SENTENCE_MIN_WORDS,
                      "rule": "max(whole text, each sentence outside quotation marks)"},
        "thresholds": {"toxicity_hold": 0.5, "toxicity_reject": 0.9,
                       "spam_hold": 0.5, "spam_reject": 0.9},
    }
    if vectors is not None:
        weights.update(vectors.to_arrays())
        metadata["vectors"] = {**(vectors_meta or {}), "alpha": vectors_alpha,
                               "gate": f"pooled vectors x P(French) from the {LANGUAGE_HEAD} "
                                       "head (n-grams only)"}
    metadata["weights_sha256"] = weights_digest(weights)
    model = Model({**metadata, "version": "tmp"}, weights)

    # Thresholds on dev, from calibrated scores.
    dev_scores = model.probabilities([r.text for r in parts["dev"]])
    col = {h: i for i, h in enumerate(model.head_names)}
    tox = dev_scores[:, col["toxicity"]]
    spam = dev_scores[:, col["spam"]]
    if encoder is not None:
        log("second opinion: the encoder's heads, the combination and the band...")
        tox, second_meta, second_weights = _train_second_opinion(
            model, parts, templates + extra, tox, encoder, log)
        metadata["second_opinion"] = second_meta
        weights.update(second_weights)
        metadata["weights_sha256"] = weights_digest(weights)
    metadata.update(_thresholds(parts["dev"], tox, spam))
    log(f"thresholds: {metadata['thresholds']} by language {metadata['thresholds_by_language']}")
    # The version names everything that changes a score: weights, intercepts, calibration,
    # thresholds, the second opinion's band and combination.
    scored = json.dumps([metadata["weights_sha256"], heads_meta, metadata["thresholds"],
                         metadata["thresholds_by_language"], metadata.get("second_opinion"),
                         metadata["sentences"]],
                        sort_keys=True)
    metadata["version"] = f"{FORMAT_VERSION}.{hashlib.sha256(scored.encode()).hexdigest()[:12]}"
    model = Model(metadata, weights)

    log("measuring on dev and test...")
    encode = None if encoder is None else encoder.cached_encode(log)
    metadata["metrics"] = {
        "dev": metrics_report(model, parts["dev"], encode=encode),
        "test": metrics_report(model, parts["test"], encode=encode),
    }
    metadata["behaviour"] = behaviour_report(model, encode=encode)["summary"]
    metadata["data"] = {
        "fingerprint": fp,
        "sets": dict(sorted(Counter(r.source for r in rows).items())),
        "split": {
            "seed": data.SPLIT_SEED, "fractions": list(data.SPLIT_FRACTIONS),
            "stratified_by": "source and label, by group",
            "sizes": {k: len(v) for k, v in parts.items()},
        },
        "templates": len(templates),
        "decisions": len(extra),
    }
    metadata["training"] = {
        "command": command,
        "algorithm": "binary hashed word 1-2-grams + char 3-5-grams (normalised text) "
                     "+ curated lexicon columns (insult, threat, dehumanising, counter-speech, "
                     "negation, spam cues)"
                     + (" + mean|max pooled French word vectors" if vectors is not None else "")
                     + ", L2 logistic regression (liblinear), "
                     "per-(language,label) balanced sample weights, Platt calibration on dev",
        "language": f"fr vs en from the {LANGUAGE_HEAD} head; 'other' from lingua",
        "n_features": n_features,
        "c_grid": list(c_grid),
        "random_state": RANDOM_STATE,
    }
    log(f"done in {time.perf_counter() - t0:.1f}s; version {metadata['version']}")
    return metadata, weights


class EncoderForTraining:
    """The sentence encoder as training uses it: cached embeddings, the encoder for the rest."""

    def __init__(self, name: str, meta: dict, cache, encode):
        self.name, self.meta, self.cache, self.encode = name, meta, cache, encode

    def cached_encode(self, log):
        """texts the encoder reads -> embeddings, from the cache where it has them."""
        return lambda texts: self.cache.embed(list(texts), self.encode, log=log)

    def embed(self, texts, log) -> np.ndarray:
        return self.cache.embed([second_opinion.encoder_text(t) for t in texts], self.encode, log=log)


def encoder_for_training(cache_dir) -> EncoderForTraining:
    """The shipped encoder, with its embeddings cached in ``cache_dir`` (EncoderError if the
    package is missing or not the pinned one)."""
    from . import encoder as enc

    live = []

    def encode(texts):
        if not live:  # loaded only when a text is not in the cache
            live.append(enc.Encoder(threads=1))
        return live[0].encode(texts)

    enc.Encoder.check_installed()
    meta = {"name": enc.NAME, "package": f"{enc.PACKAGE}=={enc.PACKAGE_VERSION}",
            "resources_sha256": enc.RESOURCE_SHA256, "dim": enc.DIM}
    return EncoderForTraining(enc.NAME, meta, second_opinion.EmbeddingCache(cache_dir, enc.NAME),
                              encode)


def _train_second_opinion(model: Model, parts: dict, extra_rows: list, fast_dev: np.ndarray,
                          encoder: EncoderForTraining, log) -> tuple[np.ndarray, dict, dict]:
    """Fit the encoder heads (train), the combination and the band (dev).

    Returns the dev toxicity as the cascade scores it (fast below the band, combined in
    it), the metadata and the weights of the second opinion."""
    tr = second_opinion.encoder_rows(parts["train"] + extra_rows, "train")
    X_tr = encoder.embed([r.text for r in tr], log)
    heads_w, heads_meta = second_opinion.fit_heads(tr, X_tr, balanced_weights=_balanced_weights,
                                                   log=log)
    dev = parts["dev"]
    labelled = np.array([r.toxic is not None for r in dev])
    dev_rows = [r for r, k in zip(dev, labelled, strict=True) if k]
    X_dv = encoder.embed([r.text for r in dev_rows], log)
    fast_scores = model.score([r.text for r in dev_rows], explain=False)
    detected = [s.language for s in fast_scores]
    neutral = {"a_fast": 1.0, "a_encoder": 0.0, "b": 0.0}
    partial = {"heads": heads_meta, "band": {"low": 0.0, "high": 1.0},
               "combine": {"fr": neutral, "en": neutral}}
    tmp = Model({**model.metadata, "second_opinion": partial},
                {**model.weights, **{ENCODER_PREFIX + k: v for k, v in heads_w.items()}})
    z_enc = tmp.encoder_logits(X_dv, detected)
    y = np.array([r.toxic for r in dev_rows])
    fast = fast_dev[labelled]
    languages = np.array([r.language for r in dev_rows])
    combine = {}
    combined = np.zeros(len(dev_rows))
    for lang in ("fr", "en"):
        m = languages == lang
        lang_rows = [r for r, k in zip(dev_rows, m, strict=True) if k]
        combine[lang] = second_opinion.fit_combination(
            fast[m], z_enc[m], y[m], _balanced_weights(lang_rows, y[m]))
        combined[m] = second_opinion.combine(second_opinion._logit(fast[m]), z_enc[m], combine[lang])
        log(f"  combination {lang}: {combine[lang]}")
    partial["combine"] = combine
    rules = _thresholds(dev_rows, combined, np.zeros(len(dev_rows)))["thresholds_by_language"]
    hold = np.array([rules.get(lang, rules["fr"])["toxicity_hold"] for lang in languages])
    band = second_opinion.choose_band(fast, combined, y, languages, hold, log)
    cascade = fast_dev.copy()
    screened = (fast >= band["low"]) & (fast <= band["high"])
    in_band = np.zeros(len(dev), dtype=bool)
    in_band[labelled] = screened
    cascade[in_band] = combined[screened]
    for lang in ("fr", "en"):
        m = languages == lang
        log(f"  dev AUC {lang}: fast {roc_auc_score(y[m], fast[m]):.4f}, encoder head "
            f"{roc_auc_score(y[m], z_enc[m]):.4f}, combined {roc_auc_score(y[m], combined[m]):.4f}, "
            f"cascade {roc_auc_score(y[m], cascade[labelled][m]):.4f}")
    meta = {
        "encoder": encoder.meta,
        "heads": heads_meta,
        "combine": combine,
        "band": band,
        "train_rows": len(tr),
        "rows": "train: every toxicity-labelled row but a seeded sample of "
                f"{second_opinion.DAVIDSON_TRAIN_SAMPLE} Davidson tweets, + templates; "
                "combination and band: dev",
    }
    return cascade, meta, {ENCODER_PREFIX + k: v for k, v in heads_w.items()}


def _thresholds(dev_rows: list, tox: np.ndarray, spam: np.ndarray) -> dict:
    """Hold and reject thresholds by the balanced rules, per language and overall."""
    by_language = {}
    for lang in ("fr", "en"):
        neg = np.array([r.toxic == 0 and r.language == lang for r in dev_rows])
        hold = _threshold_at_fpr(tox[neg], TOXICITY_HOLD_FPR)
        reject = max(_threshold_at_fpr(tox[neg], TOXICITY_REJECT_FPR), hold + 0.05)
        by_language[lang] = {"toxicity_hold": round(min(hold, 0.99), 6),
                             "toxicity_reject": round(min(reject, 0.995), 6)}
    ham = np.array([r.spam == 0 for r in dev_rows])
    s_hold = _threshold_at_fpr(spam[ham], SPAM_HOLD_FPR) if ham.any() else 0.5
    s_reject = max(_threshold_at_fpr(spam[ham], SPAM_REJECT_FPR), s_hold + 0.05) if ham.any() else 0.9
    return {
        "thresholds": {
            "toxicity_hold": max(t["toxicity_hold"] for t in by_language.values()),
            "toxicity_reject": max(t["toxicity_reject"] for t in by_language.values()),
            "spam_hold": round(min(s_hold, 0.99), 6),
            "spam_reject": round(min(s_reject, 0.995), 6),
        },
        "thresholds_by_language": by_language,
        "threshold_rule": {
            "toxicity_hold": f"per language: lowest score flagging <= {TOXICITY_HOLD_FPR:.0%} of "
                             "that language's dev non-toxic comments (overall: the higher)",
            "toxicity_reject": f"per language: lowest score flagging <= {TOXICITY_REJECT_FPR:.0%} "
                               "of that language's dev non-toxic (and >= hold + 0.05)",
            "spam_hold": f"lowest score flagging <= {SPAM_HOLD_FPR:.1%} of dev ham",
            "spam_reject": f"lowest score flagging <= {SPAM_REJECT_FPR:.1%} of dev ham "
                           "(and >= hold + 0.05)",
        },
    }


def train_and_save(data_dir, out, **kwargs) -> Path:
    metadata, weights = train(data_dir, **kwargs)
    return save_model(out, metadata, weights)


def decision_rows(decisions: Iterable[tuple[str, str, int | None, int | None]]) -> list[data.Row]:
    """Moderator decisions -> training rows (None = no label for that head)."""
    out = []
    for i, (text, language, toxic, spam) in enumerate(decisions):
        if not text or (toxic is None and spam is None):
            continue
        lang = language if language in ("fr", "en") else "other"
        out.append(data.Row(text, lang, toxic, spam, "decisions", f"decision:{i}"))
    return out

