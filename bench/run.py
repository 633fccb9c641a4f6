"""Run every benchmark and record the figures in bench/RESULTS.md.

    python bench/run.py            # medians of 3 runs of each benchmark
    python bench/run.py --quick    # 1 run each, shorter measurements
    python bench/run.py --only drain,latency

Needs PostgreSQL and Redis on 127.0.0.1 (PostgreSQL with trust auth for user postgres). Each
benchmark uses its own database (vigie_bench) and Redis db (9), and starts and stops its own
gunicorn and Celery processes. Every figure is printed beside a baseline measured in the
same run; on a shared, noisy machine compare the ratios rather than the absolute numbers.

RESULTS.md: this script rewrites only the part between its two marker comments; sections
written by other benchmarks (bench/load.py's "Load") are kept as they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RAW = common.VAR_DIR / "results.json"
BEGIN = "<!-- bench/run.py: begin (generated, edits here are overwritten) -->"
END = "<!-- bench/run.py: end -->"
# The classifier's own benchmark (scoring speed vs scikit-learn) runs when it exists.
MODULES = ["post", "drain", "latency", "reads", "webhooks", "classifier"]


NOTES = [
    "How to read it: the baselines run in the same process setup right before or after Vigie "
    "(the order alternates between runs), so the ratio is the figure to compare; absolute "
    "numbers move with whatever else the shared 2-core machine runs. Drain: 20,000 comments "
    "pre-queued as 20,000 tasks, one Celery worker with 2 prefork processes, rate from the "
    "first to the last verdict written; the one-task-per-comment design (VIGIE_CLASSIFY_BATCH=1, "
    "CELERY_DB_REUSE_MAX=0) is timed over its first 40 s. Latency: from the client's send to "
    "the verdict's `updated_at`, open-loop at a steady rate; the POST's own answer time is in "
    "the log. POST and reads: closed loop, 8 client threads in one process on the same machine.",
]


def run(modules: list[str], *, quick: bool) -> dict:
    figures: dict = {}
    failures: dict = {}
    for name in modules:
        if not (Path(__file__).parent / f"{name}.py").exists():
            say(f"(bench/{name}.py is not there: skipped)")
            continue
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            result = _classifier(module, quick) if name == "classifier" else module.main(quick=quick)
            if isinstance(result, dict):
                figures.update(result)
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not lose the others
            traceback.print_exc()
            failures[name] = f"{type(exc).__name__}: {exc}"
        say(f"(bench/{name}.py took {time.monotonic() - started:.0f}s)")
    return {"figures": figures, "failures": failures}


def _classifier(module, quick: bool) -> dict:
    """bench/classifier.py (the classifier helper's) has its own interface: adapt its figures."""
    say("== classifier: scoring speed, Vigie's model vs alt-profanity-check")
    raw = module.main(["--n", "2000", "--single", "300"] if quick else [])
    scorers = raw.get("scorers", {})
    base = scorers.get("alt-profanity-check", {})
    figures = {}
    for name, label in (("vigie", "scores only"), ("vigie+explain", "scores + explanation")):
        mine = scorers.get(name)
        if not mine:
            continue
        value, baseline = mine.get("per_s_batch_1000"), base.get("per_s_batch_1000")
        figures[f"classifier_{name}"] = {
            "name": f"Classifier, {label}, batch of 1000 (texts/s, one process)",
            "value": value,
            "baseline": baseline,
            "baseline_name": "alt-profanity-check (scikit-learn)",
            "ratio": value / baseline if value and baseline else None,
            "bar": "reported (bench/classifier.py)",
            "met": None,
        }
    return figures


def _num(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value < 100:
        return f"{value:.1f}{unit}"
    return f"{value:,.0f}{unit}"


def _met(figure: dict) -> str:
    met = figure.get("met")
    return "reported" if met is None else ("**met**" if met else "**not met**")


def render(result: dict, *, quick: bool, info: dict, seconds: float) -> str:
    figures, failures = result["figures"], result["failures"]
    lines = [
        BEGIN,
        "## Performance (bench/run.py)",
        "",
        f"Run `python bench/run.py{' --quick' if quick else ''}` on {info['date']}, "
        f"{seconds / 60:.0f} min; "
        f"{'1 run per figure (--quick)' if quick else 'each figure is the median of 3 runs'}, "
        "the baseline measured in the same run, alternating which goes first.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info["machine"].items()) + ".",
        f"Model: {info['model']}.",
        "",
        "| figure | Vigie | baseline | baseline is | Vigie / baseline | bar |  |",
        "|---|---:|---:|---|---:|---|---|",
    ]
    for figure in figures.values():
        if not isinstance(figure, dict) or "name" not in figure:
            continue
        ratio = figure.get("ratio")
        lines.append(
            f"| {figure['name']} | {_num(figure.get('value'))} | {_num(figure.get('baseline'))} | "
            f"{figure.get('baseline_name', '')} | {'-' if ratio is None else f'{ratio:.2f}'} | "
            f"{figure.get('bar', '')} | {_met(figure)} |"
        )
    lines += ["", *NOTES, "", "Every run:", ""]
    for figure in figures.values():
        if isinstance(figure, dict) and figure.get("runs"):
            lines.append(f"- {figure['name']}: `{json.dumps(_short(figure['runs']))}`")
    plans = figures.get("reads_list", {}).get("plans")
    if plans:
        lines += ["", "Indexes in PostgreSQL's plans for the read queries (EXPLAIN):", ""]
        lines += [f"- {name}: {', '.join(used) or 'none (sequential scan)'}" for name, used in plans.items()]
    if failures:
        lines += ["", "Failed in this run:", ""]
        lines += [f"- bench/{name}.py: {message}" for name, message in failures.items()]
    lines += ["", f"Raw figures: `{RAW}` (not kept in the repository).", END]
    return "\n".join(lines) + "\n"


def _short(value):
    if isinstance(value, dict) and "steady" in value:  # a latency run: its steady figures
        steady = value["steady"]
        keys = ("p50_ms", "p99_ms", "post_p50_ms", "stored_p50_ms", "stored_p99_ms")
        return {**{k: _short(steady[k]) for k in keys if k in steady}, "max_rate": value.get("max_rate")}
    if isinstance(value, float):
        return round(value, 1)
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items() if k not in ("plans",)}
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value


def write(section: str) -> None:
    """Replace this script's section of RESULTS.md, keeping every other section."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Vigie benchmark results\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 run per figure, shorter measurements")
    parser.add_argument("--only", help="comma-separated: " + ",".join(MODULES))
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    parser.add_argument("--render", metavar="RESULTS_JSON", help="rewrite RESULTS.md from a saved run")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        result = {"figures": saved["figures"], "failures": saved["failures"]}
        section = render(
            result, quick=saved.get("quick", False), info=saved["info"], seconds=saved["seconds"]
        )
        write(section)
        say(f"wrote {RESULTS} from {args.render}")
        return result
    modules = args.only.split(",") if args.only else MODULES
    started = time.monotonic()
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": common.machine(),
        "model": common.model_label(),
    }
    say(f"machine: {info['machine']}")
    result = run(modules, quick=args.quick)
    seconds = time.monotonic() - started
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(common.dump({"info": info, "quick": args.quick, "seconds": seconds, **result}))
    section = render(result, quick=args.quick, info=info, seconds=seconds)
    print(section)
    if not args.no_write and not args.only:
        write(section)
        say(f"wrote {RESULTS}")
    elif args.only:
        say("(--only: RESULTS.md left as it is)")
    return result


if __name__ == "__main__":
    main()
