"""Metrics per language and per source, behaviour sets, and the alt-profanity-check baseline."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

BEHAVIOUR_DIR = Path(__file__).resolve().parent / "behaviour"


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    if len(y) == 0 or len(set(y.tolist())) < 2:
        return None
    return round(float(roc_auc_score(y, s)), 4)


def _prf(y: np.ndarray, s: np.ndarray, t: float) -> dict:
    pred = s >= t
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    tn = int((~pred & (y == 0)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    fpr = fp / (fp + tn) if fp + tn else None
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
            "fpr": None if fpr is None else round(fpr, 4)}


def _group(y, s, t_hold, t_reject, baseline=None) -> dict:
    out = {"n": int(len(y)), "positives": int(y.sum()), "auc": _auc(y, s),
           "at_hold": _prf(y, s, t_hold), "at_reject": _prf(y, s, t_reject)}
    if baseline is not None:
        out["baseline_auc"] = _auc(y, baseline)
        out["baseline_at_0.5"] = _prf(y, baseline, 0.5)
    return out


def cascade_scores(model, texts: Sequence[str], encode=None, screened: list | None = None
                   ) -> tuple[np.ndarray, np.ndarray, list]:
    """(toxicity, spam, languages) as the workers score them: both stages of the cascade.
    ``screened``, if given, receives whether each text took the second opinion."""
    scores = model.score_cascade(list(texts), encode=encode) if texts else []
    if screened is not None:
        screened.extend("toxicity_encoder" in s.labels for s in scores)
    return (np.array([s.toxicity for s in scores]), np.array([s.spam for s in scores]),
            [s.language for s in scores])


def metrics_report(model, rows: Sequence, baseline: np.ndarray | None = None, encode=None) -> dict:
    """Toxicity and spam metrics at the model's stored thresholds, as the cascade scores.

    ``baseline``: toxicity probabilities of another scorer on the same rows (alt-profanity-check),
    reported side by side. ``encode``: the encoder (cached embeddings in training).
    """
    texts = [r.text for r in rows]
    screened: list[bool] = []
    tox, spam, _ = cascade_scores(model, texts, encode, screened)
    th = model.thresholds
    report: dict = {"toxicity": {}, "spam": {}}

    def select(pred: Callable) -> np.ndarray:
        return np.array([bool(pred(r)) for r in rows], dtype=bool)

    has_tox = select(lambda r: r.toxic is not None)
    y_tox = np.array([r.toxic if r.toxic is not None else 0 for r in rows])
    groups = {"all": has_tox}
    for lang in ("en", "fr"):
        groups[f"lang:{lang}"] = has_tox & select(lambda r, lang=lang: r.language == lang)
    for source in sorted({r.source for r in rows if r.toxic is not None}):
        groups[f"source:{source}"] = select(lambda r, s=source: r.source == s and r.toxic
                                            is not None)
    for name, m in groups.items():
        t = model.thresholds_for(name[5:]) if name.startswith("lang:") else th
        report["toxicity"][name] = _group(
            y_tox[m], tox[m], t["toxicity_hold"], t["toxicity_reject"],
            None if baseline is None else baseline[m])
    fr_clean = has_tox & select(lambda r: r.language == "fr" and r.toxic == 0)
    en_clean = has_tox & select(lambda r: r.language == "en" and r.toxic == 0)
    took = np.array(screened, dtype=bool)
    for lang in ("fr", "en"):
        m = has_tox & select(lambda r, lang=lang: r.language == lang)
        report["toxicity"][f"second_opinion_share_{lang}"] = (
            round(float(took[m].mean()), 4) if m.any() else None)
    report["toxicity"]["fpr_fr_nontoxic_at_hold"] = (
        round(float((tox[fr_clean] >= model.thresholds_for("fr")["toxicity_hold"]).mean()), 4)
        if fr_clean.any() else None)
    report["toxicity"]["fpr_en_nontoxic_at_hold"] = (
        round(float((tox[en_clean] >= model.thresholds_for("en")["toxicity_hold"]).mean()), 4)
        if en_clean.any() else None)
    if baseline is not None and fr_clean.any():
        report["toxicity"]["baseline_fpr_fr_nontoxic_at_0.5"] = round(
            float((baseline[fr_clean] >= 0.5).mean()), 4)

    has_spam = select(lambda r: r.spam is not None)
    y_spam = np.array([r.spam if r.spam is not None else 0 for r in rows])
    spam_groups = {"all": has_spam}
    for source in sorted({r.source for r in rows if r.spam is not None}):
        spam_groups[f"source:{source}"] = select(lambda r, s=source: r.source == s and r.spam
                                                 is not None)
    for name, m in spam_groups.items():
        report["spam"][name] = _group(y_spam[m], spam[m], th["spam_hold"], th["spam_reject"])
    # No French spam is labelled: how often does ordinary French / English comment text
    # (the toxicity sets, none of it spam) cross the spam thresholds?
    for lang in ("fr", "en"):
        m = has_tox & ~has_spam & select(lambda r, lang=lang: r.language == lang)
        if m.any():
            report["spam"][f"flag_rate_{lang}_comments"] = {
                "n": int(m.sum()),
                "at_hold": round(float((spam[m] >= th["spam_hold"]).mean()), 4),
                "at_reject": round(float((spam[m] >= th["spam_reject"]).mean()), 4),
            }
    return report


def load_behaviour(path: Path | None = None) -> list[dict]:
    path = path or BEHAVIOUR_DIR / "behaviour.json"
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def behaviour_report(model, cases: list[dict] | None = None, encode=None) -> dict:
    """Each hand-written case: is it held (toxicity >= its language's hold) exactly when it
    should be?"""
    cases = cases if cases is not None else load_behaviour()
    tox, _, languages = cascade_scores(model, [c["text"] for c in cases], encode)
    results = []
    summary: dict[str, dict] = {}
    for case, t, lang in zip(cases, tox, languages, strict=True):
        held = bool(t >= model.thresholds_for(lang)["toxicity_hold"])
        ok = held == (case["expect"] == "hold")
        results.append({**case, "toxicity": round(float(t), 4), "held": held, "ok": ok})
        for key in (case["lang"], f"{case['lang']}:{case['category']}"):
            s = summary.setdefault(key, {"passed": 0, "total": 0})
            s["total"] += 1
            s["passed"] += int(ok)
    total = {"passed": sum(r["ok"] for r in results), "total": len(results)}
    return {"summary": {"all": total, **dict(sorted(summary.items()))},
            "failures": [r for r in results if not r["ok"]], "results": results}


def baseline_scores(texts: Sequence[str]) -> np.ndarray | None:
    """alt-profanity-check probabilities, or None if it is not installed."""
    try:
        from profanity_check import predict_prob
    except ImportError:
        return None
    return np.asarray(predict_prob(list(texts)), dtype=np.float64)
