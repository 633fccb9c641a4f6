"""What the Content-Security-Policy header costs a response: django-csp's middleware against
Vigie's (project/csp.py, the header built once), both against no middleware at all.

    python bench/csp_header.py            # 20,000 responses per variant, median of 5 rounds
    python bench/csp_header.py --quick

In process, no database: a request through each middleware to a view that returns a small
response, as the site API's reads do. The three variants are measured in the same run,
interleaved; on a shared machine compare the ratios, not the microseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, rounds = (2_000, 3) if args.quick else (20_000, 5)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
    from django.http import HttpResponse
    from django.test import RequestFactory

    from project.csp import CSPMiddleware

    def view(request):
        return HttpResponse(b'{"results": []}', content_type="application/json")

    requests = RequestFactory()
    variants = {
        "no middleware": view,
        "django-csp 4.0": DjangoCSPMiddleware(view),
        "Vigie's (built once)": CSPMiddleware(view),
    }
    expected = variants["django-csp 4.0"](requests.get("/")).get("Content-Security-Policy")
    assert variants["Vigie's (built once)"](requests.get("/")).get("Content-Security-Policy") == expected

    timings = {name: [] for name in variants}
    for _ in range(rounds):
        for name, handler in variants.items():
            batch = [requests.get("/api/v1/articles/a1/comments") for _ in range(n)]
            started = time.perf_counter()
            for request in batch:
                handler(request)
            timings[name].append((time.perf_counter() - started) / n * 1e6)
    base = statistics.median(timings["no middleware"])
    print(f"{n} responses x {rounds} rounds, median microseconds per response")
    for name, values in timings.items():
        value = statistics.median(values)
        print(f"  {name:22} {value:7.1f} us   header cost {value - base:6.1f} us")
    django_cost = statistics.median(timings["django-csp 4.0"]) - base
    ours = statistics.median(timings["Vigie's (built once)"]) - base
    print(f"header cost, Vigie's / django-csp's: {ours / django_cost:.2f}")


if __name__ == "__main__":
    main()
