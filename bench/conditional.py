"""What a 304 costs beside the full page, in process: CPU per request, interleaved rounds.

The readers' first page of an article (50 threads with replies, as bench/reads.py seeds it,
smaller) through Django's test client (every middleware, the API key lookup, the rate-limit
round trip to Redis), once in full and once with ``If-None-Match`` (304). Through gunicorn
(bench/reads.py) both are dominated by what every request costs (a TCP connection, gunicorn,
the client's own threads); this is the server's own share.

    python bench/conditional.py [--count 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402


def seed(article, site, rng) -> None:
    from django.utils import timezone

    from moderation.models import Author, Comment

    authors = Author.objects.bulk_create(
        [Author(site=site, external_id=f"r{i}", name=f"Reader {i}") for i in range(200)]
    )
    start = timezone.now() - timedelta(days=1)

    def comment(i, parent=None):
        return Comment(
            site=site,
            article=article,
            author=rng.choice(authors),
            body=common.body(i),
            status="published",
            parent=parent,
            root=(parent.root or parent) if parent else None,
            created_at=start + timedelta(seconds=i),
        )

    roots = Comment.objects.bulk_create([comment(i) for i in range(60)])
    Comment.objects.bulk_create([comment(100 + i, rng.choice(roots)) for i in range(60)])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    common.fresh_database()
    common.setup_django()
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    site, key, article = common.seed_site()
    seed(article, site, random.Random(3))
    common.analyze()
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    url = f"/api/v1/articles/{article.external_id}/comments?page_size=50"
    first = client.get(url)
    assert first.status_code == 200 and len(first.json()["results"]) == 50, first.content[:200]
    etag = first.get("ETag")  # None on code without conditional requests: the full page only

    def full() -> None:
        assert client.get(url).status_code == 200

    def conditional() -> None:
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    def cpu_ms(call) -> float:
        started = time.process_time()
        for _ in range(args.count):
            call()
        return 1000 * (time.process_time() - started) / args.count

    calls = [("full", full), *([("304", conditional)] if etag else [])]
    for _, call in calls:
        for _ in range(30):
            call()
    results: dict[str, list[float]] = {name: [] for name, _ in calls}
    for k in range(args.rounds):
        for name, call in calls if k % 2 == 0 else reversed(calls):
            results[name].append(cpu_ms(call))
    f = statistics.median(results["full"])
    if not etag:
        say(f"CPU per full page, median of {args.rounds} rounds of {args.count}: {f:.2f} ms; {results}")
        return {"full_ms": f, "rounds": results}
    c = statistics.median(results["304"])
    say(
        f"CPU per request, median of {args.rounds} rounds of {args.count}: full page {f:.2f} ms, "
        f"304 {c:.2f} ms: a 304 costs {c / f:.2f} of the page; every round: {results}"
    )
    return {"full_ms": f, "304_ms": c, "rounds": results}


if __name__ == "__main__":
    main()
