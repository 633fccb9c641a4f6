"""What the management commands do, without Django: stream scoring and report formatting."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from . import data
from .evaluate import baseline_scores, behaviour_report, metrics_report
from .evasion import evasion_report, format_evasion

SCORE_BATCH = 256


def score_stream(model, lines: Iterable[str], out: TextIO, batch_size: int = SCORE_BATCH) -> int:
    """JSON lines ``{"text": ...}`` in, one ``{"toxicity", "spam", "language"}`` line out each.

    Blank lines are skipped; a line that is not a JSON object with a string ``text`` gives
    ``{"error": ...}`` in its place so outputs stay aligned with inputs. Returns the count.
    """
    pending: list[tuple[int, str | None, str | None]] = []  # (n, text, error)
    count = 0

    def flush() -> None:
        texts = [t for _, t, err in pending if err is None]
        # The whole cascade, as the workers run it: the fast score, and the combined one for
        # texts in the second opinion's band.
        scored = iter(model.score_cascade(texts)) if texts else iter(())
        for _, _text, err in pending:
            if err is not None:
                out.write(json.dumps({"error": err}) + "\n")
                continue
            s = next(scored)
            out.write(
                json.dumps(
                    {"toxicity": round(s.toxicity, 6), "spam": round(s.spam, 6), "language": s.language}
                )
                + "\n"
            )
        out.flush()
        pending.clear()

    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            text = obj.get("text") if isinstance(obj, dict) else None
            if not isinstance(text, str):
                raise ValueError('expected a JSON object with a string "text"')
            pending.append((count, text, None))
        except ValueError as exc:
            pending.append((count, None, f"invalid input line: {exc}"))
        count += 1
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    return count


def evaluate(model, data_dir, *, with_baseline: bool = True, log: Callable[[str], None] = print) -> dict:
    """Test-split metrics (and dev for reference), baseline side by side, behaviour sets."""
    root = data.data_dir(data_dir)
    rows = data.load_all(root)
    parts = data.split(rows)
    fp = data.fingerprint(root)
    trained_on = model.metadata.get("data", {}).get("fingerprint", {}).get("sha256")
    report: dict = {
        "model": model.version,
        "data_sha256": fp["sha256"],
        "same_data_as_training": trained_on == fp["sha256"],
    }
    test = parts["test"]
    baseline = None
    if with_baseline:
        t0 = time.perf_counter()
        baseline = baseline_scores([r.text for r in test])
        if baseline is None:
            log("alt-profanity-check is not installed: no baseline")
        else:
            log(f"alt-profanity-check scored {len(test)} rows in {time.perf_counter() - t0:.2f}s")
    report["test"] = metrics_report(model, test, baseline)
    detected = [s.language for s in model.score([r.text for r in test], explain=False)]
    report["test"]["language_detection"] = {
        lang: {
            "n": n,
            "correct": round(
                sum(d == lang for d, r in zip(detected, test, strict=True) if r.language == lang) / n, 4
            ),
        }
        for lang in ("fr", "en")
        if (n := sum(r.language == lang for r in test))
    }
    report["behaviour"] = behaviour_report(model)
    report["evasion"] = evasion_report(model)
    return report


def _fmt(v) -> str:
    return "  -  " if v is None else f"{v:.3f}"


def format_report(report: dict, *, evasion_failures: bool = False) -> str:
    lines = [
        f"model {report['model']}  data sha256 {report['data_sha256'][:16]}…"
        + (
            ""
            if report["same_data_as_training"]
            else "  (WARNING: not the data the model was trained on; the split may differ)"
        )
    ]
    tox = report["test"]["toxicity"]
    has_base = any("baseline_auc" in v for v in tox.values() if isinstance(v, dict))
    lines.append("")
    lines.append(
        "TOXICITY (test split)   n    pos   AUC  "
        + (" APC-AUC" if has_base else "")
        + "  | at hold: P     R     F1    FPR  | at reject: P   R     F1"
    )
    for name, g in tox.items():
        if not isinstance(g, dict):
            continue
        h, r = g["at_hold"], g["at_reject"]
        lines.append(
            f"  {name:<26}{g['n']:>5} {g['positives']:>5}  {_fmt(g['auc'])}"
            + (f"   {_fmt(g.get('baseline_auc'))}" if has_base else "")
            + f"  |  {_fmt(h['precision'])} {_fmt(h['recall'])} {_fmt(h['f1'])} {_fmt(h['fpr'])}"
            + f" |  {_fmt(r['precision'])} {_fmt(r['recall'])} {_fmt(r['f1'])}"
        )
    lines.append(
        f"  false-positive rate at hold, non-toxic French: "
        f"{_fmt(tox.get('fpr_fr_nontoxic_at_hold'))}; English: "
        f"{_fmt(tox.get('fpr_en_nontoxic_at_hold'))}"
    )
    lines.append(
        f"  second opinion (the encoder) taken by: French "
        f"{_fmt(tox.get('second_opinion_share_fr'))}, English "
        f"{_fmt(tox.get('second_opinion_share_en'))} of the rows"
    )
    if "baseline_fpr_fr_nontoxic_at_0.5" in tox:
        lines.append(
            f"  alt-profanity-check FPR at 0.5, non-toxic French: "
            f"{_fmt(tox['baseline_fpr_fr_nontoxic_at_0.5'])}"
        )
    lines.append("")
    lines.append("SPAM (test split)       n    pos   AUC   | at hold: P     R     F1    FPR")
    for name, g in report["test"]["spam"].items():
        if "auc" in g:
            h = g["at_hold"]
            lines.append(
                f"  {name:<22}{g['n']:>5} {g['positives']:>5}  {_fmt(g['auc'])}  |  "
                f"{_fmt(h['precision'])} {_fmt(h['recall'])} {_fmt(h['f1'])} "
                f"{_fmt(h['fpr'])}"
            )
        else:
            lines.append(
                f"  {name}: n={g['n']} flagged at hold {_fmt(g['at_hold'])}, "
                f"at reject {_fmt(g['at_reject'])} (no spam label; all presumed ham)"
            )
    for lang, d in report["test"].get("language_detection", {}).items():
        lines.append(f"LANGUAGE DETECTION on {lang} test rows: {d['correct']:.1%} of {d['n']}")
    beh = report["behaviour"]
    lines.append("")
    lines.append("BEHAVIOUR SETS (held == expected, at toxicity_hold)")
    for key, s in beh["summary"].items():
        lines.append(f"  {key:<26}{s['passed']:>3}/{s['total']}")
    if beh["failures"]:
        lines.append("  failures:")
        for f in beh["failures"]:
            lines.append(
                f"    [{f['lang']} {f['category']}] expected {f['expect']}, "
                f"toxicity {f['toxicity']:.3f}: {f['text']}"
            )
    if "evasion" in report:
        lines.append("")
        lines.append(format_evasion(report["evasion"], failures=evasion_failures))
    return "\n".join(lines)


def summarise_for_card(report: dict) -> dict:
    """The figures the model card quotes."""
    tox = report["test"]["toxicity"]
    return (
        {
            k: {"auc": v.get("auc"), "baseline_auc": v.get("baseline_auc")}
            for k, v in tox.items()
            if isinstance(v, dict)
        }
        | {
            "spam_auc": report["test"]["spam"]["all"]["auc"],
            "fpr_fr_nontoxic_at_hold": tox.get("fpr_fr_nontoxic_at_hold"),
            "behaviour": report["behaviour"]["summary"]["all"],
        }
        | (
            {
                "evasion": {
                    k: {"held_share": v["held_share"], "published_share": v["published_share"]}
                    for k, v in report["evasion"]["transformations"].items()
                }
            }
            if "evasion" in report
            else {}
        )
    )


__all__ = ["score_stream", "evaluate", "format_report", "summarise_for_card"]
