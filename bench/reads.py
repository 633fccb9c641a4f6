"""Reads: the visible-comments list and the held queue, req/s vs raw SQL of the same page.

An article with 10,000 comments (threads with replies, a mix of statuses) and a site with
2,000+ held comments. Vigie's endpoints (API key / Token auth, selectors, DRF serializers,
cursor pagination) are measured through gunicorn beside bench/baseline_urls.py in the same
gunicorn setup: the same pages read with raw SQL through ``connection.cursor()`` and returned
with JsonResponse. The plans PostgreSQL picks for Vigie's queries are recorded too, to check
that they use the indexes named in moderation/models.py.

    python bench/reads.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402

CONCURRENCY = 8
WEB_WORKERS = common.WEB_WORKERS
COMMENTS = 10_000
HELD_ELSEWHERE = 2_000
PAGES = 5
OTHER_ARTICLES = 20
COMMENTS_PER_OTHER_ARTICLE = 2_000


def seed() -> dict:
    common.fresh_database()
    common.setup_django()
    from django.contrib.auth.models import Permission, User
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from moderation import services
    from moderation.models import Author, Comment

    rng = random.Random(5)
    site, key, article = common.seed_site()
    other, _ = services.article_upsert(site=site, external_id="other-article", title="Other")
    Author.objects.bulk_create(
        [Author(site=site, external_id=f"r{i}", name=f"Reader {i}") for i in range(2000)]
    )
    authors = list(Author.objects.filter(site=site).values_list("pk", flat=True))
    start = timezone.now() - timedelta(days=2)
    statuses = ["published"] * 85 + ["approved"] * 5 + ["held"] * 6 + ["rejected"] * 4

    def comment(i, art, status, parent=None):
        return Comment(
            site=site,
            article=art,
            author_id=rng.choice(authors),
            body=common.body(i),
            status=status,
            parent=parent,
            root=(parent.root or parent) if parent else None,
            toxicity=rng.random(),
            spam=rng.random() / 2,
            priority=rng.random(),
            created_at=start + timedelta(seconds=i),
            updated_at=start + timedelta(seconds=i),
        )

    roots = Comment.objects.bulk_create(
        [comment(i, article, rng.choice(statuses)) for i in range(int(COMMENTS * 0.7))]
    )
    saved: list = []
    pending: list = []
    for i in range(len(roots), COMMENTS):
        # A third of the replies answer an earlier reply (saved already, so it has an id).
        parent = rng.choice(saved) if saved and rng.random() < 0.3 else rng.choice(roots)
        pending.append(comment(i, article, rng.choice(statuses), parent))
        if len(pending) == 500:
            saved += Comment.objects.bulk_create(pending)
            pending = []
    Comment.objects.bulk_create(pending)
    Comment.objects.bulk_create([comment(COMMENTS + i, other, "held") for i in range(HELD_ELSEWHERE)])
    # Other articles of the site, so that the article is a part of the table, as it would be.
    for k in range(OTHER_ARTICLES):
        art, _ = services.article_upsert(site=site, external_id=f"noise-{k}", title=f"Noise {k}")
        Comment.objects.bulk_create(
            [comment(i, art, rng.choice(statuses)) for i in range(COMMENTS_PER_OTHER_ARTICLE)]
        )
    user = User.objects.create_user("bench-modo", password="x" * 20, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    site.moderators.add(user)
    token = Token.objects.create(user=user)
    common.analyze()
    held = Comment.objects.filter(site=site, status="held").count()
    say(
        f"  seeded {Comment.objects.filter(article=article).count()} comments on the article, "
        f"{held} held on the site"
    )
    return {"site": site, "key": key, "article": article, "user": user, "token": token.key}


def plans(world) -> dict:
    """EXPLAIN of the statements behind both pages, as Vigie's selectors build them."""
    from django.conf import settings
    from django.db import connection

    from moderation import selectors

    threads = selectors.ThreadPage(article=world["article"], per_root=settings.VIGIE_REPLIES_PAGE)
    held = selectors.QueuePage(user=world["user"], queue="held").order_by("-priority", "-id")
    found = {}
    for name, page in (("visible threads", threads), ("held queue", held)):
        sql, params = page.statement(offset=0, limit=51)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        used = sorted(
            set(
                re.findall(
                    r"(?:Index Scan(?: Backward)? using|Index Only Scan using|"
                    r"Bitmap Index Scan on) (\w+)",
                    plan,
                )
            )
        )
        found[name] = {"indexes": used, "plan": plan}
        say(f"  EXPLAIN {name}: indexes {used or 'NONE'}")
    return found


def page_urls(port: int, world) -> tuple[list[str], list]:
    """Vigie's page URLs, following its cursors, and the first page's threads."""
    client = common.Client(port, {"Authorization": f"Api-Key {world['key']}"})
    url = f"/api/v1/articles/{world['article'].external_id}/comments?page_size=50"
    urls, first = [], None
    for _ in range(PAGES):
        urls.append(url)
        status, body = client.request("GET", url)
        assert status == 200, (status, body[:300])
        page = json.loads(body)
        first = page["results"] if first is None else first
        nxt = page["next"]
        if not nxt:
            break
        url = nxt.split("127.0.0.1", 1)[-1].split(str(port), 1)[-1] if "://" in nxt else nxt
    return urls, first


def baseline_urls(port: int, world) -> tuple[list[str], list]:
    """The raw-SQL baseline's page URLs and its first page's threads."""
    client = common.Client(port)
    urls, after, first = [], 0, None
    for _ in range(PAGES):
        url = f"/bench/articles/{world['article'].pk}/comments?page_size=50&after={after}"
        urls.append(url)
        status, body = client.request("GET", url)
        assert status == 200, (status, body[:300])
        page = json.loads(body)
        first = page["results"] if first is None else first
        after = page["next"]
        if not after:
            break
    return urls, first


def getter(port: int, urls: list[str], headers: dict, expect: int = 200):
    clients: dict[int, common.Client] = {}

    def call(k: int, i: int) -> bool:
        client = clients.setdefault(k, common.Client(port, headers))
        status, _ = client.request("GET", urls[(k + i) % len(urls)])
        return status == expect

    return call


def etag_of(port: int, url: str, headers: dict) -> str:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", url, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 200 and response.getheader("ETag"), response.status
    return response.getheader("ETag")


def thread_ids(items: list) -> list:
    """A page's comment ids, replies nested: what both sides must agree on."""
    return [(c["id"], thread_ids(c["replies"])) for c in items]


def main(*, quick: bool = False, runs: int | None = None) -> dict:
    runs = runs or (1 if quick else 3)
    seconds = 5 if quick else 10
    say(
        f"== reads: article with {COMMENTS} comments, page of 50, {CONCURRENCY} client threads, "
        f"{seconds}s per measurement, {runs} run(s)"
    )
    world = seed()
    explained = plans(world)
    results: dict[str, list] = {
        "list": [],
        "list_sql": [],
        "held": [],
        "held_sql": [],
        "page": [],  # the first page in full, and answered 304 (If-None-Match)
        "page_304": [],
    }
    checked = None
    first_pages: dict[str, list] = {}
    for run in range(runs):
        order = ["vigie", "sql"] if run % 2 == 0 else ["sql", "vigie"]
        for side in order:
            extra = {} if side == "vigie" else {"DJANGO_SETTINGS_MODULE": "bench.settings"}
            port = common.free_port()
            web = common.gunicorn(
                common.stack_env(**extra), port=port, workers=WEB_WORKERS, name=f"reads-{side}"
            )
            try:
                calls = {}
                if side == "vigie":
                    urls, first_pages["vigie"] = page_urls(port, world)
                    auth = {"Authorization": f"Api-Key {world['key']}"}
                    list_call = getter(port, urls, auth)
                    held_call = getter(
                        port,
                        ["/api/v1/moderation/comments?queue=held&page_size=50"],
                        {"Authorization": f"Token {world['token']}"},
                    )
                    etag = etag_of(port, urls[0], auth)
                    calls = {
                        "page": getter(port, urls[:1], auth),
                        "page_304": getter(port, urls[:1], {**auth, "If-None-Match": etag}, expect=304),
                    }
                else:
                    urls, first_pages["sql"] = baseline_urls(port, world)
                    list_call = getter(port, urls, {})
                    held_call = getter(port, [f"/bench/held?user={world['user'].pk}&page_size=50"], {})
                if checked is None and len(first_pages) == 2:
                    checked = thread_ids(first_pages["vigie"]) == thread_ids(first_pages["sql"])
                    say(f"  baseline page equals Vigie's page: {checked}")
                suffix = "" if side == "vigie" else "_sql"
                for name, call in (("list", list_call), ("held", held_call), *calls.items()):
                    common.closed_loop(
                        call, concurrency=CONCURRENCY, seconds=2, label=f"{name}{suffix} warm-up"
                    )
                    results[name + suffix].append(
                        common.closed_loop(
                            call,
                            concurrency=CONCURRENCY,
                            seconds=seconds,
                            label=f"[run {run + 1}] {name}{suffix}",
                        )["rate"]
                    )
            finally:
                common.stop(web)
    figures = {}
    for name, title in (
        ("list", "Visible-comments list, page of 50 (req/s)"),
        ("held", "Held queue, page of 50 (req/s)"),
    ):
        value, base = common.median(results[name]), common.median(results[name + "_sql"])
        figures[f"reads_{name}"] = {
            "name": title,
            "value": value,
            "baseline": base,
            "baseline_name": "raw SQL of the same page, same gunicorn",
            "ratio": common.paired_ratio(results[name], results[name + "_sql"]),
            "bar": "reported (ratio)",
            "met": None,
            "runs": {"vigie": results[name], "sql": results[name + "_sql"]},
        }
        ratio = figures[f"reads_{name}"]["ratio"]
        say(f"reads {name}: vigie {value:,.0f} req/s vs raw SQL {base:,.0f} req/s: ratio {ratio:.2f}")
    for name, bar in (("list", 0.6), ("held", 0.5)):
        figures[f"reads_{name}"]["bar"] = f"ratio >= {bar}"
        figures[f"reads_{name}"]["met"] = bool(figures[f"reads_{name}"]["ratio"] >= bar)
    full, conditional = common.median(results["page"]), common.median(results["page_304"])
    # What a 304 costs as a share of the full page: the inverse ratio of their rates.
    cost = common.paired_ratio(results["page"], results["page_304"])
    figures["reads_304"] = {
        "name": "Visible-comments list, first page answered 304 (req/s)",
        "value": conditional,
        "baseline": full,
        "baseline_name": "the same page in full (200), same gunicorn",
        "ratio": common.paired_ratio(results["page_304"], results["page"]),
        "bar": "cost of a 304 <= 0.2 of the full page (rate ratio >= 5)",
        "met": bool(cost is not None and cost <= 0.2),
        "cost": cost,
        "runs": {"304": results["page_304"], "full": results["page"]},
    }
    say(f"reads 304: {conditional:,.0f} req/s vs the full page {full:,.0f} req/s: a 304 costs {cost:.2f}")
    figures["reads_list"]["plans"] = {k: v["indexes"] for k, v in explained.items()}
    figures["reads_list"]["same_page"] = checked
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    args = parser.parse_args()
    main(quick=args.quick, runs=args.runs)
