"""POST a comment: requests/s through gunicorn, Vigie's endpoint vs a bare DRF create view.

Both run in the same gunicorn setup (2 x cores + 1 sync workers, same settings and middleware, same
PostgreSQL database and Redis); the baseline is bench/baseline_urls.py (bench/settings.py),
a CreateAPIView + ModelSerializer with no authentication, throttling or task. Vigie's POST
authenticates the site key, checks three rate limits in Redis, stores the comment and
publishes its classification task to Redis. No Celery worker runs during the measurement
(tasks wait in Redis and are flushed), so only the web tier is measured.

    python bench/post.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402

CONCURRENCY = 8
WEB_WORKERS = common.WEB_WORKERS


def measure(port: int, call, *, seconds: float, label: str) -> float:
    # Every gunicorn worker imports the views and opens its connections on its first requests.
    common.closed_loop(call, concurrency=CONCURRENCY, seconds=3.0, label=f"{label} warm-up")
    return common.closed_loop(call, concurrency=CONCURRENCY, seconds=seconds, label=label)["rate"]


def main(*, quick: bool = False, runs: int | None = None) -> dict:
    runs = runs or (1 if quick else 3)
    seconds = 5 if quick else 10
    say(
        f"== post: {CONCURRENCY} client threads, gunicorn {WEB_WORKERS} sync workers, "
        f"{seconds}s per measurement, {runs} run(s)"
    )
    common.fresh_database()
    common.setup_django()
    from moderation.models import Author

    site, key, article = common.seed_site()
    Author.objects.bulk_create([Author(site=site, external_id=f"u{i}", name=f"U{i}") for i in range(1000)])
    author_ids = list(Author.objects.filter(site=site).values_list("pk", flat=True))
    common.analyze()

    def vigie_call(port):
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

    def baseline_call(port):
        clients: dict[int, common.Client] = {}

        def call(k: int, i: int) -> bool:
            client = clients.setdefault(k, common.Client(port))
            n = k * 1_000_000 + i
            status, _ = client.request(
                "POST",
                f"/bench/articles/{article.pk}/comments",
                {
                    "site": site.pk,
                    "article": article.pk,
                    "author": author_ids[n % len(author_ids)],
                    "body": common.body(n),
                },
            )
            return status == 201

        return call

    setups = {
        "vigie": ({}, vigie_call),
        "bare DRF create view": ({"DJANGO_SETTINGS_MODULE": "bench.settings"}, baseline_call),
    }
    results: dict[str, list] = {label: [] for label in setups}
    for run in range(runs):
        order = list(setups) if run % 2 == 0 else list(reversed(setups))
        for label in order:
            extra, make = setups[label]
            port = common.free_port()
            web = common.gunicorn(common.stack_env(**extra), port=port, workers=WEB_WORKERS, name="post-web")
            try:
                results[label].append(
                    measure(port, make(port), seconds=seconds, label=f"[run {run + 1}] {label}")
                )
            finally:
                common.stop(web)
            common.flush_redis()
    vigie = common.median(results["vigie"])
    base = common.median(results["bare DRF create view"])
    ratio = common.paired_ratio(results["vigie"], results["bare DRF create view"])
    figure = {
        "name": "POST a comment through gunicorn (req/s)",
        "value": vigie,
        "baseline": base,
        "baseline_name": "bare DRF CreateAPIView, same gunicorn and database",
        "ratio": ratio,
        "runs": results,
        "bar": "ratio >= 0.9",
        "met": bool(ratio and ratio >= 0.9),
    }
    say(
        f"post: vigie {vigie:,.0f} req/s vs bare {base:,.0f} req/s: ratio {ratio:.2f} "
        f"(bar 0.9 {'met' if figure['met'] else 'NOT met'})"
    )
    return {"post": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    args = parser.parse_args()
    main(quick=args.quick, runs=args.runs)
