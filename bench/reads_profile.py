"""Where a read's time goes, in process: the readers' list, the held queue and a 304, beside
the raw-SQL baseline of the same pages (bench/baseline_urls.py).

The world of bench/reads.py (an article with 10,000 comments, 2,000+ held), read through
Django's test client (every middleware, the key lookup, the rate-limit round trip to Redis),
in interleaved rounds; prints wall and CPU ms per request (medians of the rounds) and, with
--profile, the functions that cost the most.

    python bench/reads_profile.py [--count 200] [--rounds 3] [--profile]
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

from bench import common, reads  # noqa: E402
from bench.common import say  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", help="comma-separated names of the calls to time")
    args = parser.parse_args(argv)
    world = reads.seed()
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "bench.combined_urls"
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    site_client = Client(HTTP_AUTHORIZATION=f"Api-Key {world['key']}")
    modo_client = Client(HTTP_AUTHORIZATION=f"Token {world['token']}")
    bare = Client()
    first = f"/api/v1/articles/{world['article'].external_id}/comments?page_size=50"
    urls, url = [], first
    for _ in range(reads.PAGES):
        urls.append(url)
        page = site_client.get(url).json()
        if not page["next"]:
            break
        url = page["next"].split("testserver", 1)[-1]
    etag = site_client.get(first)["ETag"]
    base_urls, after = [], 0
    for _ in range(reads.PAGES):
        base_urls.append(f"/bench/articles/{world['article'].pk}/comments?page_size=50&after={after}")
        after = bare.get(base_urls[-1]).json()["next"]
    held = "/api/v1/moderation/comments?queue=held&page_size=50"
    held_sql = f"/bench/held?user={world['user'].pk}&page_size=50"

    def cycle(client, pages, expect=200, **headers):
        state = {"i": 0}

        def call() -> None:
            state["i"] += 1
            response = client.get(pages[state["i"] % len(pages)], **headers)
            assert response.status_code == expect, (response.status_code, response.content[:300])

        return call

    calls = {
        "list": cycle(site_client, urls),
        "list_sql": cycle(bare, base_urls),
        "held": cycle(modo_client, [held]),
        "held_sql": cycle(bare, [held_sql]),
        "page": cycle(site_client, [first]),
        "page_304": cycle(site_client, [first], 304, HTTP_IF_NONE_MATCH=etag),
    }
    if args.only:
        calls = {k: v for k, v in calls.items() if k in args.only.split(",")}
    for call in calls.values():
        for _ in range(30):
            call()
    wall: dict[str, list[float]] = {k: [] for k in calls}
    cpu: dict[str, list[float]] = {k: [] for k in calls}
    for k in range(args.rounds):
        for name, call in calls.items() if k % 2 == 0 else reversed(calls.items()):
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.count):
                call()
            wall[name].append(1000 * (time.perf_counter() - w0) / args.count)
            cpu[name].append(1000 * (time.process_time() - c0) / args.count)
    say(f"ms per request, medians of {args.rounds} rounds of {args.count} (wall / CPU of this process):")
    for name in calls:
        say(f"  {name:9} {statistics.median(wall[name]):6.2f} / {statistics.median(cpu[name]):6.2f}")
    for a, b in (("list", "list_sql"), ("held", "held_sql"), ("page_304", "page")):
        if a in wall and b in wall:
            say(f"  {a} / {b} (wall): {statistics.median(wall[a]) / statistics.median(wall[b]):.2f}")
    if args.profile:
        for name in ("list", "held", "page_304"):
            if name not in calls:
                continue
            profile = cProfile.Profile()
            profile.runcall(lambda c=calls[name]: [c() for _ in range(args.count)])
            say(f"== {name}: per {args.count} requests")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    common.flush_redis()
    return {"wall": wall, "cpu": cpu}


if __name__ == "__main__":
    main()
