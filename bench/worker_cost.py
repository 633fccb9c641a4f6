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
"""

from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    main()
