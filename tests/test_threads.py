"""Threads as readers see them: each comment's own display name, reply depth, paged replies."""

import pytest

from moderation import services
from moderation.models import Author, Comment
from tests.conftest import classify_now
from tests.test_api_site import assert_error

S = Comment.Status


def post(site, body, *, author="u-marie", name="Marie", parent=None, article="art-1"):
    comment, _ = services.comment_create(
        site=site,
        article_external_id=article,
        author_external_id=author,
        author_name=name,
        body=body,
        parent_id=parent.pk if parent else None,
    )
    return comment


def publish_all(article):
    Comment.objects.filter(article=article).update(status=S.PUBLISHED)


def nodes(tree: list[dict]):
    """Every node of a forest, without recursion (what the test checks must not recurse)."""
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node["replies"]))


def max_depth(tree: list[dict]) -> int:
    deepest, stack = 0, [(n, 0) for n in tree]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((r, depth + 1) for r in node["replies"])
    return deepest


# --- the display name is the comment's (issue 12, item 6) ------------------------------------


def test_a_rejected_post_does_not_rename_the_authors_published_comments(site, article, site_api):
    """Failed on main: the rejected post renamed the Author, and older comments showed it."""
    site.banned_words = "ordure"
    site.save()
    kept = post(site, "Merci pour cet article très clair.")
    classify_now([kept.pk])
    kept.refresh_from_db()
    assert kept.status == S.PUBLISHED
    insult = post(site, "Quelle ordure ce ministre.", name="Ordure Finie")
    classify_now([insult.pk])
    insult.refresh_from_db()
    assert insult.status == S.REJECTED

    listed = site_api.get("/api/v1/articles/art-1/comments").json()["results"]
    assert [(c["id"], c["author"]["name"]) for c in listed] == [(kept.pk, "Marie")]
    assert site_api.get(f"/api/v1/comments/{kept.pk}").json()["author"]["name"] == "Marie"
    # The rejected one keeps the name it was posted under, for its author's own view.
    assert site_api.get(f"/api/v1/comments/{insult.pk}").json()["author"]["name"] == "Ordure Finie"
    assert Author.objects.get(external_id="u-marie").name == "Marie"


def test_an_accepted_comment_makes_its_name_the_authors_current_one(site, article, moderator):
    first = post(site, "Merci pour cet article très clair.")
    classify_now([first.pk])
    renamed = post(site, "Un second avis, tout aussi aimable.", name="Marie D.")
    classify_now([renamed.pk])
    renamed.refresh_from_db()
    assert renamed.status == S.PUBLISHED
    assert Author.objects.get(external_id="u-marie").name == "Marie D."
    # A held one changes nothing until a moderator approves it.
    site.suspect_words = "retraites"
    site.save()
    held = post(site, "Et les retraites alors ?", name="Marie Dupont")
    classify_now([held.pk])
    held.refresh_from_db()
    assert held.status == S.HELD
    assert Author.objects.get(external_id="u-marie").name == "Marie D."
    services.comment_approve(comment_id=held.pk, moderator=moderator)
    assert Author.objects.get(external_id="u-marie").name == "Marie Dupont"
    first.refresh_from_db()
    assert first.author_name == "Marie"


def test_an_older_comment_approved_late_keeps_the_authors_newer_name(site, article, moderator):
    site.suspect_words = "retraites"
    site.save()
    older = post(site, "Et les retraites alors ?", name="Marie")
    newer = post(site, "Merci pour cet article très clair.", name="Marie D.")
    classify_now([older.pk, newer.pk])
    assert Author.objects.get(external_id="u-marie").name == "Marie D."
    services.comment_approve(comment_id=older.pk, moderator=moderator)
    assert Author.objects.get(external_id="u-marie").name == "Marie D."


def test_the_classifier_scores_the_name_posted_with_the_comment(site, article):
    clean = post(site, "Merci pour cet article très clair.", name="Marie")
    flagged = post(site, "Merci pour cet article très clair.", name="Ferme-la, espèce de connard")
    classify_now([clean.pk, flagged.pk])
    clean.refresh_from_db()
    flagged.refresh_from_db()
    assert clean.classifications.get().labels["display_name_toxicity"] < 0.5
    assert flagged.classifications.get().labels["display_name_toxicity"] > 0.9
    assert (clean.status, flagged.status) == (S.PUBLISHED, S.HELD)


# --- reply depth (issue 12, item 7) ---------------------------------------------------------


def chain(site, article, length: int) -> list[Comment]:
    comments = [post(site, "Racine du fil.", author="u-0")]
    for i in range(1, length + 1):
        name = f"Lecteur {i % 7}"
        comments.append(post(site, f"Réponse {i}.", author=f"u-{i % 7}", name=name, parent=comments[-1]))
    publish_all(article)
    return comments


def test_a_250_deep_chain_lists_without_recursion(site, article, site_api, settings):
    """Failed on main: a recursive serializer answered 500 for this chain."""
    settings.VIGIE_MAX_REPLY_DEPTH = 300
    comments = chain(site, article, 250)
    response = site_api.get("/api/v1/articles/art-1/comments")
    assert response.status_code == 200
    settings.VIGIE_REPLIES_PAGE = 300
    response = site_api.get("/api/v1/articles/art-1/comments")
    assert response.status_code == 200
    tree = response.json()["results"]
    assert max_depth(tree) == 250
    assert [n["id"] for n in nodes(tree)] == [c.pk for c in comments]


def test_a_reply_deeper_than_the_maximum_attaches_to_the_deepest_allowed_ancestor(site, article, settings):
    """Failed on main: replies nested 60 deep."""
    settings.VIGIE_MAX_REPLY_DEPTH = 50
    comments = chain(site, article, 60)
    stored = {c.pk: c for c in Comment.objects.filter(article=article)}
    ancestor = comments[49]  # depth 49: the 50th reply hangs from it, and so do all later ones
    assert [stored[c.pk].parent_id for c in comments[50:]] == [ancestor.pk] * 11
    assert {stored[c.pk].root_id for c in comments[1:]} == {comments[0].pk}
    assert max(c.depth for c in stored.values()) == 50


def test_a_chain_stored_deeper_than_the_setting_lists_capped(site, article, site_api, settings):
    settings.VIGIE_MAX_REPLY_DEPTH = 300
    comments = chain(site, article, 80)
    settings.VIGIE_MAX_REPLY_DEPTH = 50
    settings.VIGIE_REPLIES_PAGE = 100
    tree = site_api.get("/api/v1/articles/art-1/comments").json()["results"]
    assert max_depth(tree) == 50
    assert sorted(n["id"] for n in nodes(tree)) == sorted(c.pk for c in comments)
    for size in (1, 7, 50):  # and page by page, each reply once, none deeper than allowed
        seen, url = [], f"/api/v1/comments/{comments[0].pk}/replies?page_size={size}"
        while url:
            body = site_api.get(url).json()
            assert max_depth(body["results"]) <= 50
            seen += [n["id"] for n in nodes(body["results"])]
            url = body["next"]
        assert seen == [c.pk for c in comments[1:]]
    # A new reply to the deepest one is stored at the deepest allowed place too.
    reply = post(site, "Encore une.", parent=comments[-1])
    assert (reply.depth, reply.parent_id) == (50, comments[49].pk)


# --- replies paginated under their root ------------------------------------------------------


def wide_thread(site, article, count: int) -> tuple[Comment, list[int]]:
    root = post(site, "Un sujet qui fait réagir.", author="u-root")
    firsts = [post(site, f"Réponse {i}.", author=f"u-{i}", parent=root) for i in range(20)]
    # The rest in bulk (with the new fields' defaults): replies to the root and to its first
    # replies, as a busy thread has.
    rows = [
        Comment(
            site=site,
            article=article,
            author=firsts[0].author,
            parent=root if i % 2 else firsts[i % 20],
            root=root,
            body=f"Réponse en masse {i}.",
            status=S.PUBLISHED,
        )
        for i in range(count - len(firsts))
    ]
    Comment.objects.bulk_create(rows)
    publish_all(article)
    reply_ids = list(Comment.objects.filter(root=root).order_by("id").values_list("id", flat=True))
    assert len(reply_ids) == count
    return root, reply_ids


def test_1500_replies_come_in_bounded_pages_each_once(site, article, site_api, settings):
    """Failed on main: page_size=1 answered all 1,500 replies at once, and no replies_next."""
    settings.VIGIE_REPLIES_PAGE = 50
    root, reply_ids = wide_thread(site, article, 1500)
    page = site_api.get("/api/v1/articles/art-1/comments?page_size=1").json()
    [listed] = page["results"]
    shown = [n["id"] for n in nodes(listed["replies"])]
    assert len(shown) == 50
    assert len(page["results"][0]["replies"]) <= 50
    seen = list(shown)
    url, pages = listed["replies_next"], 1
    while url:
        response = site_api.get(url)
        assert response.status_code == 200
        body = response.json()
        got = [n["id"] for n in nodes(body["results"])]
        assert 0 < len(got) <= 50
        seen += got
        url, pages = body["next"], pages + 1
    assert pages == 30
    assert sorted(seen) == reply_ids
    assert len(seen) == len(set(seen)) == 1500


def test_a_replies_page_nests_what_it_can_and_names_the_parent_of_the_rest(site, article, site_api):
    root = post(site, "Racine.", author="u-root")
    a = post(site, "A.", author="u-a", parent=root)
    a1 = post(site, "A1.", author="u-b", parent=a)
    b = post(site, "B.", author="u-c", parent=root)
    a2 = post(site, "A2.", author="u-d", parent=a)
    publish_all(article)
    first = site_api.get(f"/api/v1/comments/{root.pk}/replies?page_size=2").json()
    assert [(n["id"], n["parent_id"]) for n in first["results"]] == [(a.pk, root.pk)]
    assert [n["id"] for n in first["results"][0]["replies"]] == [a1.pk]
    second = site_api.get(first["next"]).json()
    assert [(n["id"], n["parent_id"]) for n in second["results"]] == [(b.pk, root.pk), (a2.pk, a.pk)]
    assert second["next"] is None


def test_a_later_page_cuts_what_hangs_below_a_hidden_comment(site, article, site_api):
    root = post(site, "Racine.", author="u-root")
    hidden = post(site, "Retenu.", author="u-h", parent=root)
    shown = post(site, "Publiée sous un commentaire retenu.", author="u-s", parent=hidden)
    below = post(site, "Et encore en dessous.", author="u-b", parent=shown)
    fine = post(site, "Une réponse visible.", author="u-f", parent=root)
    publish_all(article)
    Comment.objects.filter(pk=hidden.pk).update(status=S.HELD)
    seen, url = [], f"/api/v1/comments/{root.pk}/replies?page_size=1"
    while url:  # the first page holds `below` alone: its parent is listed nowhere, so it is cut
        body = site_api.get(url).json()
        seen += [n["id"] for n in nodes(body["results"])]
        url = body["next"]
    assert seen == [fine.pk]
    assert below.pk not in seen and shown.pk not in seen
    [listed] = site_api.get("/api/v1/articles/art-1/comments").json()["results"]
    assert [n["id"] for n in nodes(listed["replies"])] == [fine.pk]


@pytest.mark.parametrize("query", ["cursor=zzz", "cursor=YWZ0ZXI6LTE", "page_size=0", "page_size=%C2%B2"])
def test_the_replies_endpoint_refuses_bad_paging(site, article, site_api, query):
    root = post(site, "Racine.")
    publish_all(article)
    response = site_api.get(f"/api/v1/comments/{root.pk}/replies?{query}")
    assert response.status_code in (400, 404)
    assert_error(response, response.status_code)


def test_the_replies_endpoint_serves_only_visible_roots_of_the_site(
    site, article, site_api, other_site_api, make_comment
):
    root = post(site, "Racine.")
    reply = post(site, "Réponse.", parent=root)
    assert_error(site_api.get(f"/api/v1/comments/{root.pk}/replies"), 404)  # still received
    publish_all(article)
    assert site_api.get(f"/api/v1/comments/{root.pk}/replies").status_code == 200
    assert_error(other_site_api.get(f"/api/v1/comments/{root.pk}/replies"), 404)
    assert_error(site_api.get(f"/api/v1/comments/{reply.pk}/replies"), 404)  # not a root


# --- the migration: names and depths of the comments already stored -----------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_names_and_depths(postgres):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("moderation", "0009_authoring")], [("moderation", "0010_threads")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        site = apps.get_model("moderation", "Site").objects.create(name="Ancien", api_key_hash="h" * 64)
        article = apps.get_model("moderation", "Article").objects.create(site=site, external_id="a")
        authors = apps.get_model("moderation", "Author").objects
        author = authors.create(site=site, external_id="u", name="Marie")
        old = apps.get_model("moderation", "Comment").objects
        root = old.create(site=site, article=article, author=author, body="r", status="published")
        reply = old.create(site=site, article=article, author=author, parent=root, root=root, body="1")
        deeper = old.create(site=site, article=article, author=author, parent=reply, root=root, body="2")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("moderation", "Comment").objects
        rows = dict(new.filter(article_id=article.pk).values_list("pk", "depth"))
        assert rows == {root.pk: 0, reply.pk: 1, deeper.pk: 2}
        assert set(new.filter(article_id=article.pk).values_list("author_name", flat=True)) == {"Marie"}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
