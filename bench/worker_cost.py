"""What the fast stage costs the worker per comment, by how many comments one task claims.

In process (no Celery: `services.comments_classify` as the task calls it), PostgreSQL, the
shipped model warmed up first. For each batch size, fresh `received` comments are claimed
and decided that many at a time; prints wall and CPU milliseconds per comment, and the
ratio of each to the largest batch, measured in the same run.

This is why post-to-final latency at 100 comments/s misses its bar on a 2-core machine
(bench/latency.py): arriving one at a time, each comment is its own task and its own claim,
so the worker pays its fixed cost (the claim, five or six statements, their compilation)
per comment instead of per batch.

    python bench/worker_cost.py [--count 300] [--sizes 1,8,100]
    python bench/worker_cost.py --live [--rate 100] [--seconds 10]

``--live``: a real 2-process Celery worker (PostgreSQL + Redis) fed one comment and its task
every 1/rate seconds, as the POST does, Vigie as configured beside one task per comment
(VIGIE_CLASSIFY_BATCH=1, CELERY_DB_REUSE_MAX=0), alternately in the same run; prints the
worker's CPU milliseconds per comment (its whole process group, from /proc) and
stored-to-final latency (the verdict's `updated_at` minus the row's `created_at`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300, help="comments per batch size")
    parser.add_argument("--sizes", default="1,8,100")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    common.fresh_database()
    common.setup_django()
    from moderation import services
    from moderation.classifier import load_model

    _, _, article = common.seed_site()
    ids = common.insert_received(article, args.count * len(sizes) + 1)
    common.analyze()
    load_model().score(["warm up"], explain=False)
    services.comments_classify(comment_ids=ids[:1], batch_size=1)  # connections, caches
    results, start = {}, 1
    for size in sizes:
        chunk = ids[start : start + args.count]
        start += args.count
        t, c = time.perf_counter(), time.process_time()
        done = 0
        for k in range(0, len(chunk), size):
            done += services.comments_classify(comment_ids=chunk[k : k + size], batch_size=size)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        results[size] = {"comments": done, "wall_ms": round(wall / done * 1000, 2),
                         "cpu_ms": round(cpu / done * 1000, 2)}
    largest = results[max(sizes)]
    say(f"worker cost per comment, fast stage ({common.model_label()})")
    for size, r in results.items():
        say(f"  {size:>4} per task: {r['wall_ms']:7.2f} ms wall, {r['cpu_ms']:6.2f} ms CPU "
            f"(x{r['cpu_ms'] / largest['cpu_ms']:.1f} the CPU of {max(sizes)} per task; "
            f"{r['comments']} comments)")
    return results


def _group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in process group ``pgid``."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def live_once(label: str, extra: dict, *, rate: float, seconds: float) -> dict:
    from tests import processes

    common.fresh_database()
    common.setup_django()
    from django.db.models import F

    from moderation.models import Comment
    from moderation.tasks import classify_comment

    _, _, article = common.seed_site()
    worker = common.celery_worker(common.stack_env(**extra), name=f"cost-{label}", queues="celery,encoder")
    try:
        warm = common.insert_received(article, 20)
        for pk in warm:
            classify_comment.delay(pk)
        deadline = time.monotonic() + 120
        while Comment.objects.filter(status__in=["received", "screening"]).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"[{label}] the worker did not start")
            time.sleep(0.2)
        cpu0 = _group_cpu(worker.pid)
        ids, start, n = [], time.monotonic(), int(rate * seconds)
        for i in range(n):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            [pk] = common.insert_received(article, 1)
            classify_comment.delay(pk)
            ids.append(pk)
        while Comment.objects.filter(pk__in=ids, status__in=["received", "screening"]).exists():
            if time.monotonic() > start + seconds + 120:
                raise RuntimeError(f"[{label}] comments left undecided")
            time.sleep(0.1)
        cpu = _group_cpu(worker.pid) - cpu0
        lat = sorted(
            (c.total_seconds() * 1000)
            for c in Comment.objects.filter(pk__in=ids).annotate(d=F("updated_at") - F("created_at"))
            .values_list("d", flat=True)
        )
        return {"comments": n, "cpu_ms_per_comment": round(cpu / n * 1000, 2),
                "stored_p50_ms": round(common.percentile(lat, 50), 1),
                "stored_p99_ms": round(common.percentile(lat, 99), 1)}
    finally:
        processes.stop(worker)


def live(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    configs = {label: common.CONFIGS[label] for label in ("vigie", "one-task-per-comment")}
    results: dict[str, list] = {label: [] for label in configs}
    say(f"worker cost, live: {args.rate:.0f} comments/s for {args.seconds:.0f}s, 2 worker processes, "
        f"{args.runs} run(s) per configuration ({common.model_label()})")
    for run in range(args.runs):
        for label in (list(configs) if run % 2 == 0 else list(reversed(configs))):
            r = live_once(label, configs[label], rate=args.rate, seconds=args.seconds)
            results[label].append(r)
            say(f"  [{label}] worker CPU {r['cpu_ms_per_comment']:.2f} ms per comment; stored to final "
                f"p50 {r['stored_p50_ms']:.0f} ms, p99 {r['stored_p99_ms']:.0f} ms")
    (a, ra), (b, rb) = results.items()
    cpu_a = common.median([r["cpu_ms_per_comment"] for r in ra])
    cpu_b = common.median([r["cpu_ms_per_comment"] for r in rb])
    say(f"worker CPU per comment, medians: {a} {cpu_a:.2f} ms, {b} {cpu_b:.2f} ms (x{cpu_a / cpu_b:.2f})")
    return results


if __name__ == "__main__":
    live() if "--live" in sys.argv else main()
