"""Shared by the benchmarks: a database and a Redis db of their own, processes, timing, output.

Every benchmark runs against this machine's PostgreSQL and Redis on 127.0.0.1 but in its own
database (``vigie_bench``) and Redis db number (9), both emptied first, and starts (and
stops) its own gunicorn and Celery processes. The shared services are never stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("VIGIE_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("VIGIE_BENCH_DB", "vigie_bench")
REDIS = os.environ.get("VIGIE_BENCH_REDIS", "redis://127.0.0.1:6379/9")
VAR_DIR = Path(os.environ.get("VIGIE_BENCH_VAR", "/tmp/vigie-bench"))
LOG_DIR = VAR_DIR / "logs"
DEFAULT_MODEL = ROOT / "moderation" / "classifier" / "default_model"
# gunicorn's rule of thumb for sync workers, the same for Vigie and every baseline.
WEB_WORKERS = 2 * (os.cpu_count() or 1) + 1

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import processes  # noqa: E402 - needs ROOT on sys.path
from tests.processes import free_port, stop, wait_until  # noqa: E402, F401 - used by the benchmarks


def say(*parts) -> None:
    print(*parts, flush=True)


# --- configuration --------------------------------------------------------------------------


def model_path() -> Path | None:
    """The shipped model if this code can load it, else a stand-in of the same format.

    The stand-in (random weights over the real features, language detection, explanations)
    costs what the real model costs per comment, which is what is measured; it is used while
    the shipped model is missing or being retrained for a new feature schema.
    """
    from moderation.classifier import ModelError, load_model
    from moderation.classifier import text as textmod

    try:
        load_model(None)
        return None
    except ModelError:
        pass
    path = VAR_DIR / f"standin-model-{textmod.FEATURE_SCHEMA}"
    if not (path / "model.json").exists():
        _make_standin_model(path)
    return path


def model_label() -> str:
    if model_path() is None:
        from moderation.classifier import load_model

        return f"shipped default model {load_model(None).version}"
    return "stand-in model (random weights, the shipped model could not be loaded)"


def _make_standin_model(path: Path) -> None:
    import numpy as np

    from moderation.classifier import text as textmod
    from moderation.classifier.model import LEXICON_SUFFIX
    from tests.tiny_model import N_FEATURES, save_test_model

    rng = np.random.default_rng(0)
    weights = {}
    for head in ("toxicity", "spam"):
        weights[head] = (rng.standard_normal(N_FEATURES) * 0.5).astype(np.float16)
        weights[head + LEXICON_SUFFIX] = (rng.standard_normal(textmod.N_LEXICON) * 0.5).astype(np.float16)
    save_test_model(path, weights, version="standin.1", intercepts={"toxicity": -2.0, "spam": -2.5})


def fast_only_model() -> Path:
    """The model as loaded, with its second opinion turned off (same weights and version):
    the cascade's own cost is the difference."""
    import json
    import shutil

    from moderation.classifier import load_model

    source = load_model(model_path())
    path = VAR_DIR / f"fast-only-{source.version}"
    if not (path / "model.json").exists():
        path.mkdir(parents=True, exist_ok=True)
        shutil.copy(source.path / "weights.npz", path / "weights.npz")
        meta = {k: v for k, v in source.metadata.items() if k != "second_opinion"}
        (path / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    return path


# The worker set-ups drain.py and latency.py compare: Vigie as configured, the baseline of
# one task per comment with a new database connection per task, and the fast stage alone.
CONFIGS = {
    "vigie": {},
    "one-task-per-comment": {"VIGIE_CLASSIFY_BATCH": 1, "CELERY_DB_REUSE_MAX": 0},
    "fast-only": {"VIGIE_MODEL_PATH": fast_only_model},  # made when first used
}


def database_url(name: str = DB_NAME) -> str:
    return f"{PG}/{name}"


def _overrides() -> dict[str, str | None]:
    """What a benchmark sets in its environment (None: unset it)."""
    path = model_path()
    return {
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS,
        "VIGIE_VAR_DIR": str(VAR_DIR),
        "VIGIE_TASKS_EAGER": "0",
        "VIGIE_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "project.settings",
        # The posting limits protect a site from a flood; a benchmark is one on purpose.
        "VIGIE_RATE_SITE": "100000000/min",
        "VIGIE_RATE_AUTHOR": "100000000/min",
        "VIGIE_RATE_IP": "100000000/min",
        "VIGIE_SWEEP_AFTER_SECONDS": "3600",
        "VIGIE_MODEL_PATH": None if path is None else str(path),
    }


def _apply(env, overrides: dict[str, str | None]) -> None:
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value


def stack_env(**extra) -> dict:
    """The environment of every process a benchmark starts (and of the benchmark itself)."""
    env = dict(os.environ)
    _apply(env, _overrides())
    env["PYTHONPATH"] = str(ROOT)
    env.update({k: str(v() if callable(v) else v) for k, v in extra.items()})
    return env


_django_ready = False


def setup_django() -> None:
    """Use the benchmark database and Redis db from this process too (seeding, checking)."""
    global _django_ready
    if _django_ready:
        return
    _apply(os.environ, _overrides())
    import django

    django.setup()
    _django_ready = True


# --- the database and the broker ------------------------------------------------------------

_migrated = False


def fresh_database() -> None:
    """Create and migrate the benchmark database once per run; empty its tables after that."""
    global _migrated
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    if not _migrated:
        host = "127.0.0.1"
        subprocess.run(["dropdb", "-h", host, "-U", "postgres", "--if-exists", "-f", DB_NAME], check=True)
        subprocess.run(["createdb", "-h", host, "-U", "postgres", DB_NAME], check=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=stack_env(), check=True)
        _migrated = True
    else:
        truncate()
    flush_redis()


def truncate() -> None:
    setup_django()
    from django.db import connection

    tables = [
        "moderation_moderationevent",
        "moderation_classification",
        "moderation_report",
        "moderation_comment",
        "moderation_author",
        "moderation_article",
        "moderation_site_moderators",
        "moderation_site",
        "moderation_webhookeventbatch",
        "authtoken_token",
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")  # noqa: S608
        cursor.execute("VACUUM ANALYZE")


def analyze() -> None:
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()


def queue_length(name: str = "celery") -> int:
    import redis

    return redis.Redis.from_url(REDIS).llen(name)


# --- processes -------------------------------------------------------------------------------


def gunicorn(env: dict, *, port: int, workers: int = WEB_WORKERS, name: str = "web") -> subprocess.Popen:
    """gunicorn with the same flags for Vigie and for every baseline."""
    flags = ("--worker-class=sync", "--backlog=2048", "--log-level=warning")
    return processes.gunicorn(env, port=port, workers=workers, log_path=LOG_DIR / f"{name}.log", extra=flags)


def celery_worker(
    env: dict, *, name: str, concurrency: int = 2, pool: str = "prefork", queues: str | None = None
) -> subprocess.Popen:
    flags = ("--loglevel=WARNING", f"--pool={pool}", "--without-heartbeat")
    if queues:
        flags += (f"--queues={queues}",)
    return processes.celery_worker(
        env, name=name, concurrency=concurrency, log_path=LOG_DIR / f"{name}.log", extra=flags
    )


# --- seeding -----------------------------------------------------------------------------


def seed_site(name: str = "Bench") -> tuple:
    """A site, its key, an article: what every benchmark posts to or reads from."""
    setup_django()
    from moderation import services

    site, key = services.site_create(name=name)
    # A quarter of the bench bodies are held by the site's word list whatever the model says,
    # so that a realistic share of comments is explained (held and rejected ones are).
    site.suspect_words = "abruti\nargent"
    site.save(update_fields=["suspect_words"])
    article, _ = services.article_upsert(site=site, external_id="bench-article", title="Bench")
    return site, key, article


BODIES = [
    "Merci pour cet article très clair sur la réforme des retraites, enfin des chiffres.",
    "Je ne suis pas d'accord avec la conclusion : le gouvernement aurait dû consulter les syndicats.",
    "Thanks for the clear explanation, the figures on page two are really useful.",
    "Article intéressant mais un peu long, on aurait aimé plus de détails sur le financement.",
    "Espèce d'abruti, tu racontes n'importe quoi comme d'habitude, ferme-la.",
    "Gagnez 500 euros par jour depuis chez vous, cliquez sur ce lien www.argent-facile.biz",
    "Bravo à la journaliste pour ce travail d'enquête, c'est rare de nos jours.",
    "Encore un article à charge, la rédaction devrait se renseigner avant d'écrire.",
]


# Borderline comments: the shipped model's fast score puts them in its band, so they take the
# cascade's second opinion. One comment in SCREENED_EVERY is one of them (3.3%: the share of
# the held-out test split's French comments that took it), written as is (a number after
# them would move their fast score out of the narrow band).
SCREENED_BODIES = [
    "Un article idiot, rien de plus.",  # fast 0.490 (model 4.8976f9519890, band [0.48, 0.50])
    "On va tous mourir avec cette chaleur cet été.",  # fast 0.490
]
SCREENED_EVERY = 30


def body(i: int) -> str:
    if i % SCREENED_EVERY == SCREENED_EVERY - 1:
        return SCREENED_BODIES[(i // SCREENED_EVERY) % len(SCREENED_BODIES)]
    return f"{BODIES[i % len(BODIES)]} ({i})"


def insert_received(article, count: int, *, authors: int = 500) -> list[int]:
    """``count`` comments in `received`, bulk-inserted (the POST path is measured elsewhere)."""
    setup_django()
    from moderation.models import Author, Comment

    site = article.site
    existing = Author.objects.filter(site=site).count()
    Author.objects.bulk_create(
        [Author(site=site, external_id=f"a{i}", name=f"A{i}") for i in range(existing, authors)]
    )
    author_ids = list(Author.objects.filter(site=site).values_list("pk", flat=True))
    ids: list[int] = []
    for start in range(0, count, 5000):
        rows = [
            Comment(
                site=site,
                article=article,
                author_id=author_ids[i % len(author_ids)],
                body=body(i),
                status=Comment.Status.RECEIVED,
            )
            for i in range(start, min(count, start + 5000))
        ]
        ids += [c.pk for c in Comment.objects.bulk_create(rows)]
    return ids


# --- figures -----------------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired_ratio(values, baselines):
    """The median of each run's Vigie / baseline: the two sides of a run share the machine's
    mood of the moment, so their ratio is steadier than a ratio of medians."""
    ratios = [v / b for v, b in zip(values, baselines, strict=False) if v and b]
    return median(ratios)


def percentile(values, q: float):
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def machine() -> dict:
    info = {"python": platform.python_version(), "cores": os.cpu_count(), "kernel": platform.release()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        info["postgresql"] = out.stdout.strip()
    with contextlib.suppress(Exception):
        import redis

        info["redis"] = redis.Redis.from_url(REDIS).info("server")["redis_version"]
    with contextlib.suppress(OSError):
        info["load_average_at_start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def dump(obj) -> str:
    return json.dumps(obj, indent=2, default=str)


# --- HTTP load -------------------------------------------------------------------------------


class Client:
    """One HTTP/1.1 connection (re-opened when the server closes it, as gunicorn's sync
    workers do after every response)."""

    def __init__(self, port: int, headers: dict | None = None):
        import http.client

        self._http = http.client
        self.port = port
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.conn = None

    def request(self, method: str, path: str, payload=None) -> tuple[int, bytes]:
        data = json.dumps(payload).encode() if payload is not None else None
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._http.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status, body
            except (ConnectionError, self._http.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def closed_loop(make_call, *, concurrency: int, seconds: float, label: str) -> dict:
    """``concurrency`` threads call ``make_call(thread_index, i)`` back to back for ``seconds``.

    make_call returns True for a good response. Returns requests/s of good responses.
    """
    import threading

    stop_at = time.monotonic() + seconds
    counts = [0] * concurrency
    errors = [0] * concurrency
    latencies: list[float] = []

    def run(k: int) -> None:
        i = 0
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                ok = make_call(k, i)
            except Exception:  # noqa: BLE001 - counted, the run goes on
                ok = False
            latencies.append(time.perf_counter() - t0)
            if ok:
                counts[k] += 1
            else:
                errors[k] += 1
            i += 1

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    rate = sum(counts) / elapsed
    say(
        f"    {label}: {rate:,.0f} req/s ({sum(counts)} ok, {sum(errors)} errors, "
        f"p50 {1000 * percentile(latencies, 50):.1f} ms)"
    )
    return {"rate": rate, "ok": sum(counts), "errors": sum(errors)}


def open_loop(send, *, rate: float, seconds: float, threads: int = 16) -> list:
    """Call ``send(i)`` at a steady ``rate`` per second for ``seconds`` (open loop: a slow
    answer does not delay the next send). Returns what each send returned, in order."""
    import queue
    import threading

    total = int(rate * seconds)
    results: list = [None] * total
    due: queue.Queue = queue.Queue()
    start = time.monotonic() + 0.05

    def run() -> None:
        while True:
            i = due.get()
            if i is None:
                return
            try:
                results[i] = send(i)
            except Exception as exc:  # noqa: BLE001
                results[i] = exc

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    for i in range(total):
        wait = start + i / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        due.put(i)
    for _ in workers:
        due.put(None)
    for w in workers:
        w.join(timeout=seconds + 60)
    return results
