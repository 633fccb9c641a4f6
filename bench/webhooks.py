"""What webhooks cost: the POST path (nothing) and the classification drain (under 5 %).

POST: requests/s through gunicorn (bench/post.py's setup: 8 client threads, sync workers) for
the same site with no webhook endpoint and with one subscribed to every event, alternating,
in the same run. A posted comment is `received`, which is not an event: the path is the same.

Drain: bench/drain.py's drain of pre-queued comments by 2 worker processes consuming the
`celery` queue (production gives deliveries workers of their own, `-Q webhooks`), without
and with an endpoint subscribed to every comment event: with it, every batch of verdicts
also writes its outbox row (one insert of the batch's events) and publishes one task that
a webhook worker runs to expand it into deliveries. The ratio is the
median of each run's with / without. Afterwards a `-Q webhooks` worker sends what the last
run recorded to a receiver on 127.0.0.1, and every delivery is counted there.

Interleaved (first, and the steadier figure on a loaded machine): the same two costs in
this process, alternating one call without and one with an endpoint (interleaved_figures).

    python bench/webhooks.py [--quick] [--count N] [--runs N] [--only interleaved,post,drain]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, drain, post  # noqa: E402
from bench.common import say  # noqa: E402

COMMENT_EVENTS = ["comment.published", "comment.held", "comment.rejected", "comment.approved"]
ALL_EVENTS = [*COMMENT_EVENTS, "report.created", "author.status_changed"]
# The receiver listens on 127.0.0.1, as the tests' do.
os.environ["VIGIE_WEBHOOK_ALLOW_PRIVATE"] = "1"


class Receiver:
    """A site's receiver on 127.0.0.1: counts the distinct webhook-ids it is sent, answers 204."""

    def __init__(self):
        self.ids: set[str] = set()
        self.calls = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    outer.calls += 1
                    outer.ids.add(self.headers.get("webhook-id", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def post_figure(*, quick: bool, runs: int, receiver: Receiver) -> dict:
    seconds = 5 if quick else 10
    say(f"== webhooks / post: {post.CONCURRENCY} client threads, {seconds}s per measurement, {runs} run(s)")
    common.fresh_database()
    common.setup_django()
    from moderation import services
    from moderation.models import WebhookEndpoint

    site, key, article = common.seed_site()
    common.analyze()

    def make(port):
        clients: dict[int, common.Client] = {}

        def call(k: int, i: int) -> bool:
            client = clients.setdefault(k, common.Client(port, {"Authorization": f"Api-Key {key}"}))
            n = k * 1_000_000 + i
            status, _ = client.request(
                "POST",
                f"/api/v1/articles/{article.external_id}/comments",
                {"author": {"id": f"u{n % 1000}", "name": f"U{n % 1000}"}, "body": common.body(n)},
            )
            return status == 202

        return call

    results: dict[str, list] = {"no endpoint": [], "with an endpoint": []}
    for run in range(runs):
        order = list(results) if run % 2 == 0 else list(reversed(results))
        for label in order:
            WebhookEndpoint.objects.all().delete()
            if label == "with an endpoint":
                services.webhook_endpoint_create(site=site, url=receiver.url, events=ALL_EVENTS)
            port = common.free_port()
            web = common.gunicorn(common.stack_env(), port=port, name="webhooks-post-web")
            try:
                results[label].append(
                    post.measure(port, make(port), seconds=seconds, label=f"[run {run + 1}] {label}")
                )
            finally:
                common.stop(web)
            common.flush_redis()
    ratio = common.paired_ratio(results["with an endpoint"], results["no endpoint"])
    say(f"webhooks / post: with / without an endpoint: {ratio:.3f} (median of {runs} paired runs)")
    return {
        "name": "POST a comment with a webhook endpoint registered (req/s)",
        "value": common.median(results["with an endpoint"]),
        "baseline": common.median(results["no endpoint"]),
        "baseline_name": "the same site without an endpoint",
        "ratio": ratio,
        "runs": results,
        "bar": "ratio >= 0.95 (nothing changes on the POST path)",
        "met": bool(ratio and ratio >= 0.95),
    }


def deliver_all(receiver: Receiver, *, timeout: float = 600) -> dict:
    """Send every pending delivery with one `-Q webhooks` worker; count them at the receiver."""
    from django.utils import timezone

    from moderation import services
    from moderation.models import WebhookDelivery, WebhookEventBatch

    for batch_id in WebhookEventBatch.objects.values_list("pk", flat=True):
        services.webhook_batch_expand(batch_id=batch_id)  # what the fan-out tasks would have done
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    total = pending.count()
    pending.update(next_attempt_at=timezone.now())
    services.webhooks_sweep(limit=total)
    worker = common.celery_worker(
        common.stack_env(), name="webhooks-deliver", concurrency=2, queues="webhooks"
    )
    started = time.monotonic()
    try:
        common.wait_until(
            lambda: not pending.exists(), timeout=timeout, interval=0.5, message="every webhook delivered"
        )
    except TimeoutError:  # a loaded machine: report what was delivered by then
        say(f"  (stopped after {timeout:.0f}s)")
    finally:
        seconds = time.monotonic() - started
        common.stop(worker)
    delivered = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count()
    say(
        f"  delivered {delivered}/{total} webhooks in {seconds:.1f}s from worker start "
        f"({receiver.calls} calls received, {len(receiver.ids)} distinct webhook-ids)"
    )
    return {
        "recorded": total,
        "delivered": delivered,
        "calls": receiver.calls,
        "distinct_ids": len(receiver.ids),
    }


def drain_figure(*, runs: int, count: int, receiver: Receiver) -> dict:
    say(f"== webhooks / drain: {count} pre-queued comments, 2 worker processes "
        f"(-Q celery,encoder), {runs} run(s)")

    def subscribe(site):
        from moderation import services

        services.webhook_endpoint_create(site=site, url=receiver.url, events=COMMENT_EVENTS)

    setups = {"no endpoint": None, "with an endpoint": subscribe}
    results: dict[str, list] = {label: [] for label in setups}
    delivery = None
    for run in range(runs):
        order = list(setups) if run % 2 == 0 else list(reversed(setups))
        for label in order:
            outcome = drain.drain_once(
                # Both stages of the cascade (3% of the bodies take the second opinion); the
                # deliveries are a webhooks worker's.
                label.replace(" ", "-"), {}, count, prepare=setups[label], queues="celery,encoder"
            )
            results[label].append(outcome["rate"])
            if setups[label] is not None:
                from moderation.models import WebhookDelivery, WebhookEventBatch

                recorded = WebhookDelivery.objects.count() + sum(
                    len(b.events) for b in WebhookEventBatch.objects.all()
                )
                assert recorded == outcome["classified"], (recorded, outcome["classified"])
                if run == runs - 1:  # before the next drain empties the database
                    delivery = deliver_all(receiver)
    ratio = common.paired_ratio(results["with an endpoint"], results["no endpoint"])
    say(f"webhooks / drain: with / without an endpoint: {ratio:.3f} (median of {runs} paired runs)")
    return {
        "name": "Classification drain with a webhook endpoint on every comment (comments/s)",
        "value": common.median(results["with an endpoint"]),
        "baseline": common.median(results["no endpoint"]),
        "baseline_name": "the same drain without an endpoint",
        "ratio": ratio,
        "runs": results,
        "delivery": delivery,
        "bar": "ratio >= 0.95",
        "met": bool(ratio and ratio >= 0.95),
        "count": count,
    }


def interleaved_figures(*, quick: bool, receiver: Receiver) -> dict:
    """The same two costs in one process, the two sides alternating call by call.

    On a loaded shared machine the process figures above drift by more than the 5 % they
    look for; alternating one POST (or one batch of verdicts) without and one with an
    endpoint, many times, puts both sides under the same load. Times are wall clock per
    call (PostgreSQL and Redis included), compared by their medians.
    """
    import statistics

    common.fresh_database()
    common.setup_django()
    from rest_framework.test import APIClient

    from moderation import services
    from moderation.models import Comment

    posts = 150 if quick else 500
    batches = 15 if quick else 40
    say(
        f"== webhooks / interleaved, in process: {posts} POSTs and {batches} batches of 128 verdicts per side"
    )
    sides = {}
    for label in ("no endpoint", "with an endpoint"):
        site, key, article = common.seed_site(name=f"Bench {label}")
        if label == "with an endpoint":
            services.webhook_endpoint_create(site=site, url=receiver.url, events=ALL_EVENTS)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        sides[label] = (site, article, client)
    common.analyze()
    timings: dict[str, dict[str, list]] = {label: {"post": [], "batch": []} for label in sides}

    for i in range(posts + 20):  # the first 20 of each side warm up (imports, connections)
        for label, (_, article, client) in sides.items() if i % 2 == 0 else reversed(sides.items()):
            t0 = time.perf_counter()
            response = client.post(
                f"/api/v1/articles/{article.external_id}/comments",
                {"author": {"id": f"u{i % 500}", "name": f"U{i % 500}"}, "body": common.body(i)},
                format="json",
            )
            elapsed = time.perf_counter() - t0
            assert response.status_code == 202, response.content
            if i >= 20:
                timings[label]["post"].append(elapsed)
    Comment.objects.all().delete()
    common.flush_redis()

    waiting = {
        label: common.insert_received(article, 128 * (batches + 2))
        for label, (_, article, _) in sides.items()
    }
    common.analyze()
    services.get_model()  # loaded once, as in a worker
    for b in range(batches + 2):  # the first two of each side warm up
        for label in list(sides) if b % 2 == 0 else list(reversed(sides)):
            ids = waiting[label][128 * b : 128 * (b + 1)]
            t0 = time.perf_counter()
            assert services.comments_classify(comment_ids=ids, batch_size=128) == 128
            elapsed = time.perf_counter() - t0
            if b >= 2:
                timings[label]["batch"].append(elapsed)
    common.flush_redis()

    figures = {}
    for kind, name, unit in (
        ("post", "POST a comment, with / without an endpoint, interleaved in process", "ms per POST"),
        (
            "batch",
            "Batch of 128 verdicts, with / without an endpoint, interleaved in process",
            "ms per batch",
        ),
    ):
        without = statistics.median(timings["no endpoint"][kind]) * 1000
        with_ = statistics.median(timings["with an endpoint"][kind]) * 1000
        ratio = without / with_  # a rate ratio: 1.0 costs nothing, 0.95 is 5 % slower
        say(f"  {name}: {with_:.2f} vs {without:.2f} {unit} (median): rate ratio {ratio:.3f}")
        figures[f"webhooks_{kind}_interleaved"] = {
            "name": f"{name} ({unit}, median)",
            "value": with_,
            "baseline": without,
            "baseline_name": "the same call for a site without an endpoint",
            "ratio": ratio,
            "bar": "rate ratio >= 0.95",
            "met": ratio >= 0.95,
            "runs": {"with": [with_], "without": [without], "calls": len(timings["no endpoint"][kind])},
        }
    return figures


PARTS = ("interleaved", "post", "drain")


def main(
    *, quick: bool = False, runs: int | None = None, count: int | None = None, parts: tuple = PARTS
) -> dict:
    runs = runs or 3
    count = count or (5000 if quick else 20000)
    receiver = Receiver()
    figures = {}
    try:
        if "interleaved" in parts:
            figures.update(interleaved_figures(quick=quick, receiver=receiver))
        if "post" in parts:
            figures["webhooks_post"] = post_figure(quick=quick, runs=runs, receiver=receiver)
        if "drain" in parts:
            figures["webhooks_drain"] = drain_figure(runs=runs, count=count, receiver=receiver)
    finally:
        receiver.close()
    say(common.dump({name: {k: v for k, v in f.items() if k != "runs"} for name, f in figures.items()}))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--count", type=int)
    parser.add_argument("--only", default=",".join(PARTS), help=f"some of {','.join(PARTS)}")
    args = parser.parse_args()
    main(quick=args.quick, runs=args.runs, count=args.count, parts=tuple(args.only.split(",")))
