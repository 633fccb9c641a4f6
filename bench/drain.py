"""Classification drain rate: 20,000 comments pre-queued, PostgreSQL + Redis, 2 worker processes.

Vigie as configured (micro-batches, connections kept across tasks) beside the
one-task-per-comment design: the same stack with VIGIE_CLASSIFY_BATCH=1 and
CELERY_DB_REUSE_MAX=0 (a new database connection per task), measured in the same run.

The rate is comments / (last verdict written - first verdict written), from the database's
own timestamps, so worker start-up and model loading are not counted.

    python bench/drain.py [--quick] [--count N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402

CONFIGS = common.CONFIGS


def drain_once(
    label: str, extra: dict, count: int, *, max_seconds: float = 600, prepare=None, queues: str | None = None
) -> dict:
    """Pre-queue ``count`` comments, start the workers, time the drain.

    A slow configuration is stopped after ``max_seconds`` of work and its rate taken over
    what it classified by then (its rate is steady: each task is one comment). ``prepare``
    is called with the site before the comments are queued; ``queues`` limits the workers
    to those Celery queues.
    """
    common.fresh_database()
    common.setup_django()
    from django.db.models import Count, Max, Min

    from moderation.models import Classification, Comment, ModerationEvent
    from moderation.tasks import classify_comment
    from project.celery import app

    site, _, article = common.seed_site()
    if prepare is not None:
        prepare(site)
    ids = common.insert_received(article, count)
    common.analyze()
    t0 = time.monotonic()
    with app.producer_or_acquire() as producer:
        for comment_id in ids:
            classify_comment.apply_async((comment_id,), producer=producer)
    say(
        f"  [{label}] {count} comments stored, {common.queue_length()} tasks queued "
        f"in {time.monotonic() - t0:.1f}s; starting 2 worker processes"
    )
    worker = common.celery_worker(
        common.stack_env(**extra), name=f"drain-{label}", concurrency=2, queues=queues
    )
    started = time.monotonic()
    waiting = Comment.objects.filter(status__in=Comment.WAITING)  # either stage of the cascade
    first = Comment.objects.exclude(status__in=Comment.WAITING)
    try:
        while waiting.exists():
            first_at = first.aggregate(first=Min("updated_at"))["first"]
            if first_at and time.time() - first_at.timestamp() > max_seconds:
                break
            if time.monotonic() - started > max_seconds + 120:
                raise TimeoutError(f"{label}: nothing classified in {max_seconds + 120:.0f}s")
            time.sleep(0.5)
            if int(time.monotonic() - started) % 5 == 0:
                say(f"  [{label}] {first.count()}/{count} classified, {time.monotonic() - started:.0f}s")
                time.sleep(0.5)
        wall = time.monotonic() - started
    finally:
        common.stop(worker)
    done = first.aggregate(n=Count("id"), first=Min("updated_at"), last=Max("updated_at"))
    seconds = (done["last"] - done["first"]).total_seconds()
    classifications = Classification.objects.count()
    verdicts = ModerationEvent.objects.exclude(to_status=Comment.Status.SCREENING).count()
    screened = ModerationEvent.objects.filter(to_status=Comment.Status.SCREENING).count()
    assert classifications == done["n"] and verdicts == done["n"], (done["n"], classifications, verdicts)
    rate = done["n"] / seconds if seconds > 0 else None
    partial = "" if done["n"] == count else f" (stopped after {max_seconds:.0f}s of work)"
    say(
        f"  [{label}] {done['n']} classified in {seconds:.2f}s: {rate:,.0f}/s{partial} "
        f"(wall clock from worker start {wall:.1f}s); "
        f"{screened / max(done['n'], 1):.0%} took the second opinion"
    )
    common.flush_redis()  # the no-op tasks left behind by the batches
    return {"rate": rate, "seconds": seconds, "wall": wall, "classified": done["n"], "screened": screened}


def main(*, quick: bool = False, runs: int | None = None, count: int = 20000) -> dict:
    runs = runs or (1 if quick else 3)
    say(f"== drain: {count} pre-queued comments, 2 worker processes, {runs} run(s), {common.model_label()}")
    results: dict[str, list] = {label: [] for label in CONFIGS}
    for i in range(runs):
        # Alternate the order so that drift on a noisy machine does not favour one side.
        order = list(CONFIGS) if i % 2 == 0 else list(reversed(CONFIGS))
        for label in order:
            # The one-task-per-comment design would take minutes for 20,000: its rate is
            # steady, so it is measured over its first 40 s (20 s with --quick).
            limit = 600 if label == "vigie" else (20 if quick else 40)
            results[label].append(drain_once(label, CONFIGS[label], count, max_seconds=limit)["rate"])
    vigie = common.median(results["vigie"])
    base = common.median(results["one-task-per-comment"])
    fast_only = common.median(results["fast-only"])
    figure = {
        "name": "Classification drain rate (comments/s)",
        "value": vigie,
        "baseline": base,
        "baseline_name": "one task per comment, new DB connection per task",
        "ratio": common.paired_ratio(results["vigie"], results["one-task-per-comment"]),
        "runs": results,
        "fast_only": fast_only,
        "cascade_vs_fast_only": common.paired_ratio(results["vigie"], results["fast-only"]),
        "bar": "vigie (the cascade as shipped) >= 1000/s",
        "met": bool(vigie and vigie >= 1000),
        "count": count,
    }
    say(
        f"drain: vigie {vigie:,.0f}/s vs one-task-per-comment {base:,.0f}/s "
        f"(x{figure['ratio']:.1f}), fast stage alone {fast_only:,.0f}/s "
        f"(cascade/fast x{figure['cascade_vs_fast_only']:.2f}); "
        f"bar 1000/s {'met' if figure['met'] else 'NOT met'}"
    )
    return {"drain": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--only", choices=list(CONFIGS), help="one configuration, once (for tuning)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the workers")
    args = parser.parse_args()
    if args.only:
        extra = dict(CONFIGS[args.only], **dict(item.split("=", 1) for item in args.env))
        drain_once(args.only, extra, args.count)
    else:
        main(quick=args.quick, runs=args.runs, count=args.count)
