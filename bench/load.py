"""Load: post N comments at a steady rate through gunicorn, with Celery workers running,
then check that every one reached a final state, exactly once, and that no 5xx came back.

Runs on this machine's PostgreSQL and Redis (127.0.0.1 only) in a database of its own
(``vigie_load``, dropped and migrated first) and Redis db 10 (emptied first), and starts and
stops its own gunicorn and Celery processes. The posting limits are raised for the run.

    python bench/load.py [--count 20000] [--rate 200] [--web-workers 3] [--workers 1]
                         [--concurrency 2] [--drain-timeout 600]

Open loop: request i is due at start + i / rate whatever the server's speed, so a slow
server shows as latency and lag, not as a lower offered rate. Each POST carries an
Idempotency-Key, and a request that failed at the connection level is retried once with
the same key: a retry never posts twice.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("VIGIE_BENCH_DB", "vigie_load")
os.environ.setdefault("VIGIE_BENCH_REDIS", "redis://127.0.0.1:6379/10")
os.environ.setdefault("VIGIE_BENCH_VAR", "/tmp/vigie-load")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402

FINAL = ("published", "held", "rejected")


class Poster:
    """Sends the POSTs from a thread pool and keeps the figures."""

    def __init__(self, port: int, key: str, article: str):
        self.port, self.key, self.article = port, key, article
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.lags: list[float] = []
        self.ids: set[int] = set()
        self.errors: Counter = Counter()
        self.retries = 0

    def post(self, i: int, due: float) -> None:
        payload = json.dumps(
            {"author": {"id": f"reader-{i % 2000}", "name": f"Lecteur {i % 2000}"}, "body": common.body(i)}
        )
        headers = {
            "Authorization": f"Api-Key {self.key}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"load-{i}",
        }
        started = time.monotonic()
        for attempt in range(2):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("POST", f"/api/v1/articles/{self.article}/comments", payload, headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
                break
            except OSError as exc:
                if attempt == 1:
                    with self.lock:
                        self.errors[type(exc).__name__] += 1
                    return
                with self.lock:
                    self.retries += 1
        elapsed = time.monotonic() - started
        with self.lock:
            self.statuses[response.status] += 1
            self.latencies.append(elapsed)
            self.lags.append(started - due)
            if response.status == 202:
                self.ids.add(json.loads(data)["id"])

    def counts(self) -> dict:
        with self.lock:
            by_class = Counter(f"{s // 100}xx" for s in self.statuses.elements())
            return {
                "sent": sum(self.statuses.values()) + sum(self.errors.values()),
                "202": self.statuses[202],
                "4xx": by_class["4xx"],
                "5xx": by_class["5xx"],
                "connection_errors": sum(self.errors.values()),
            }


def run(
    *, count: int, rate: float, web_workers: int, workers: int, concurrency: int, drain_timeout: float
) -> dict:
    common.fresh_database()
    common.setup_django()
    from moderation.models import Classification, Comment, ModerationEvent

    site, key, article = common.seed_site("Load")
    env = common.stack_env(VIGIE_SWEEP_AFTER_SECONDS=3600)  # no sweep: every verdict comes the normal way
    port = common.free_port()
    processes = [common.gunicorn(env, port=port, workers=web_workers, name="load-web")]
    processes += [
        common.celery_worker(env, name=f"load-worker{i}", concurrency=concurrency) for i in range(workers)
    ]
    poster = Poster(port, key, article.external_id)
    say(
        f"== load: {count} comments at {rate:g}/s, gunicorn x{web_workers}, "
        f"{workers} Celery worker(s) x{concurrency}, {common.model_label()}"
    )
    try:
        time.sleep(3)  # workers load the model
        start = time.monotonic()
        last_report = start
        with ThreadPoolExecutor(max_workers=64) as pool:
            for i in range(count):
                due = start + i / rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(poster.post, i, due)
                now = time.monotonic()
                if now - last_report >= 5:
                    last_report = now
                    c = poster.counts()
                    waiting = Comment.objects.filter(status=Comment.Status.RECEIVED).count()
                    say(
                        f"  {now - start:5.0f}s  submitted {i + 1}  answered {c['sent']}  202 {c['202']}  "
                        f"4xx {c['4xx']}  5xx {c['5xx']}  errors {c['connection_errors']}  "
                        f"p50 {1000 * (common.percentile(poster.latencies, 50) or 0):.0f} ms  "
                        f"still received {waiting}"
                    )
        posted_at = time.monotonic()
        post_seconds = posted_at - start
        say(f"  all {count} answered in {post_seconds:.1f}s; waiting for the workers to finish")
        waiting = Comment.objects.filter(status=Comment.Status.RECEIVED)
        drained = True
        try:
            common.wait_until(
                lambda: not waiting.exists(),
                timeout=drain_timeout,
                interval=0.5,
                message="every comment in a final state",
                progress=lambda: say(f"  still received: {waiting.count()}"),
            )
        except TimeoutError:
            drained = False
        drain_seconds = time.monotonic() - posted_at
    finally:
        for proc in processes:
            common.stop(proc)

    counts = poster.counts()
    per_status = _per_status(Comment)
    stored = sum(per_status.values())
    classifications = Classification.objects.count()
    events = ModerationEvent.objects.filter(action="classify").count()
    duplicated = (
        Classification.objects.values("comment_id").order_by().annotate(n=_count()).filter(n__gt=1).count()
    )
    result = {
        "count": count,
        "rate_offered": rate,
        "rate_achieved": round(count / post_seconds, 1),
        "post_seconds": round(post_seconds, 1),
        **counts,
        "retries": poster.retries,
        "distinct_ids_returned": len(poster.ids),
        "stored": stored,
        "per_status": per_status,
        "final": sum(per_status.get(s, 0) for s in FINAL),
        "classifications": classifications,
        "classify_events": events,
        "comments_with_two_classifications": duplicated,
        "drained": drained,
        "drain_seconds_after_last_post": round(drain_seconds, 1),
        "latency_ms": {
            "p50": round(1000 * common.percentile(poster.latencies, 50), 1),
            "p99": round(1000 * common.percentile(poster.latencies, 99), 1),
            "max": round(1000 * max(poster.latencies), 1),
        },
        "lag_behind_schedule_ms_p99": round(1000 * common.percentile(poster.lags, 99), 1),
        "setup": {"web_workers": web_workers, "celery_workers": workers, "concurrency": concurrency},
        "model": common.model_label(),
        "machine": common.machine(),
    }
    checks = {
        "every POST answered 202": counts["202"] == count,
        "no 5xx": counts["5xx"] == 0,
        "stored == sent": stored == count == len(poster.ids),
        "every comment final": result["final"] == count,
        "one classification and one event each": classifications == events == count and duplicated == 0,
    }
    result["checks"] = checks
    say(common.dump(result))
    say("PASS" if all(checks.values()) else f"FAIL: {[name for name, ok in checks.items() if not ok]}")
    return result


def _per_status(model) -> dict:
    from django.db.models import Count

    return {
        row["status"]: row["n"] for row in model.objects.values("status").order_by().annotate(n=Count("id"))
    }


def _count():
    from django.db.models import Count

    return Count("id")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=200.0, help="POSTs per second, steady")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (each with a pool)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=600)
    args = parser.parse_args()
    if not 1 <= args.rate <= 2000 or not 1 <= args.count <= 200_000:
        parser.error("--rate must be 1..2000 and --count 1..200000 (a bounded run)")
    result = run(
        count=args.count,
        rate=args.rate,
        web_workers=args.web_workers,
        workers=args.workers,
        concurrency=args.concurrency,
        drain_timeout=args.drain_timeout,
    )
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
