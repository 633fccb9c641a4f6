"""Settings of the benchmarks' baseline servers: Vigie's own, with bench/baseline_urls.py as
the URL map (same middleware, database and cache; only the views differ)."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
