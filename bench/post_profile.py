"""Where a POST's time goes, in process: Vigie's endpoint vs the bare DRF create view.

Both through Django's test client (every middleware, the bench's PostgreSQL and Redis, the
task really published to Redis), interleaved in rounds so that both see the same machine
load; prints CPU ms per POST for each (median of the rounds) and, with --profile, the
functions of Vigie's request that cost the most beyond the bare view's.

    python bench/post_profile.py [--count 300] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    common.fresh_database()
    common.setup_django()
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "bench.combined_urls"

    from moderation.models import Author

    site, key, article = common.seed_site()
    Author.objects.bulk_create([Author(site=site, external_id=f"u{i}", name=f"U{i}") for i in range(1000)])
    author_ids = list(Author.objects.filter(site=site).values_list("pk", flat=True))
    common.analyze()
    vigie = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    bare = Client()
    counter = iter(range(10**9))

    def vigie_post() -> None:
        n = next(counter)
        response = vigie.post(
            f"/api/v1/articles/{article.external_id}/comments",
            {"author": {"id": f"u{n % 1000}", "name": f"U{n % 1000}"}, "body": common.body(n)},
            content_type="application/json",
        )
        assert response.status_code == 202, response.content

    def bare_post() -> None:
        n = next(counter)
        response = bare.post(
            f"/bench/articles/{article.pk}/comments",
            {"site": site.pk, "article": article.pk, "author": author_ids[n % 1000], "body": common.body(n)},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content

    def cpu_ms(call) -> float:
        started = time.process_time()
        for _ in range(args.count):
            call()
        return 1000 * (time.process_time() - started) / args.count

    for call in (vigie_post, bare_post):  # warm-up: imports, connections, caches
        for _ in range(50):
            call()
    results: dict[str, list[float]] = {"vigie": [], "bare": []}
    for k in range(args.rounds):
        order = [("vigie", vigie_post), ("bare", bare_post)]
        for name, call in order if k % 2 == 0 else reversed(order):
            results[name].append(cpu_ms(call))
        common.flush_redis()
    v, b = statistics.median(results["vigie"]), statistics.median(results["bare"])
    say(f"CPU per POST, median of {args.rounds} rounds of {args.count}: vigie {v:.2f} ms, bare {b:.2f} ms")
    say(f"  ratio of rates (bare CPU / vigie CPU): {b / v:.2f}; every round: {results}")
    if args.profile:
        for name, call in (("vigie", vigie_post), ("bare", bare_post)):
            profile = cProfile.Profile()
            profile.runcall(lambda c=call: [c() for _ in range(args.count)])
            say(f"== {name}: cumulative, per {args.count} POSTs")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
    common.flush_redis()
    return {"vigie_ms": v, "bare_ms": b, "rounds": results}


if __name__ == "__main__":
    main()
