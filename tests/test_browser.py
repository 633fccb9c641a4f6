"""The reader's page and the moderator's workbench in a real browser (Debian's Chromium).

One flow on a real stack (gunicorn + a Celery worker, PostgreSQL, Redis, the shipped model):
a reader posts a clean comment and sees it published, posts an insult and is told it waits
for moderation; a moderator logs into the admin, finds it in the held queue with its words
highlighted and approves it; the reader's page then shows it. Screenshots of every step go
to test-artifacts/browser/.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

from moderation.models import Comment, ModerationEvent, Report, Site
from tests.conftest import ROOT, _need, free_port, stack_env, start_web, start_worker, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
TIMEOUT_MS = 30_000
CLEAN = "Merci pour cet article clair et bien documenté."
INSULT = "Ferme-la, espèce de connard, tu n'es qu'un imbécile."
REPLY = "Tout à fait d'accord, les pistes protégées changent tout."


@pytest.fixture
def browser(monkeypatch):
    _need(CHROMIUM.exists(), f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "needs the playwright package (pip install -e '.[test]')")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM reads are
    # plain blocking calls between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import expect

    # expect() waits 5 s by default, whatever the page's default timeout: a worker still
    # warming up on a busy machine takes longer than that to publish the first comment.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield chromium
        chromium.close()
        # Inside Playwright's sync API the ORM runs in another context (greenlet) and so on
        # another connection: close it, or the test database cannot be dropped at the end.
        connections.close_all()


@pytest.fixture
def stack(postgres, queue_url, site, site_key, tmp_path):
    """Web (threaded, like `manage.py serve`: the demo calls the API on the same server) + worker."""
    # The site holds insults for a moderator instead of rejecting them outright.
    Site.objects.filter(pk=site.pk).update(toxicity_hold=0.5, toxicity_reject=1.0)
    env = stack_env(
        queue_url,
        VIGIE_DEMO_SITE_KEY=site_key,
        GUNICORN_CMD_ARGS="--worker-class=gthread --threads=4 --timeout=60",
        VIGIE_LANGUAGE_CODE="fr",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path, workers=2)
    worker = start_worker(env, name="browser", log_dir=tmp_path)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(web)
        stop(worker)
        for log in ("web.log", "browser.log"):
            if (tmp_path / log).exists():
                (ARTIFACTS / log).write_bytes((tmp_path / log).read_bytes()[-200_000:])


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def post_comment(page, body: str) -> None:
    page.fill("#comment-body", body)
    page.click("#comment-form button[type=submit]")


def comment_by_body(body: str) -> Comment | None:
    return Comment.objects.filter(body=body).first()


def test_it_holds_an_insult_until_a_moderator_approves_it(browser, stack, moderator):
    from playwright.sync_api import expect

    reader = browser.new_context(locale="fr-FR", viewport={"width": 1100, "height": 900}).new_page()
    reader.set_default_timeout(TIMEOUT_MS)

    # A reader opens the article and posts a clean comment: it is published within seconds.
    reader.goto(stack + "/demo/")
    expect(reader.locator("#comments-title")).to_contain_text("Commentaires")
    reader.fill("#author-name", "Camille")
    shot(reader, "01-reader-article")
    post_comment(reader, CLEAN)
    expect(reader.locator("#comment-list .comment-body", has_text=CLEAN)).to_be_visible()
    expect(reader.locator(".notice.ok")).to_contain_text("publié")
    shot(reader, "02-reader-clean-comment-published")
    clean = comment_by_body(CLEAN)
    assert clean.status == Comment.Status.PUBLISHED

    # A reply, shown nested under its parent; and a report on it.
    first = reader.locator(f"#comment-{clean.pk}")
    first.get_by_role("button", name="Répondre").click()
    first.locator(".reply-form textarea").fill(REPLY)
    first.locator(".reply-form button[type=submit]").click()
    expect(reader.locator(f"#comment-{clean.pk} .replies .comment-body", has_text=REPLY)).to_be_visible()
    first = reader.locator(f"#comment-{clean.pk}")
    first.get_by_role("button", name="Signaler").first.click()
    first.locator(".report-form select").select_option("off_topic")
    first.locator(".report-form button[type=submit]").click()
    expect(reader.locator(".notice.ok").first).to_contain_text("signalement a été transmis")
    assert Report.objects.filter(comment=clean, reason="off_topic").exists()

    # An insult: the reader is told it awaits moderation, and it is not shown.
    # The pre-submit check warns first; the reader posts it anyway.
    post_comment(reader, INSULT)
    expect(reader.get_by_text("Votre commentaire risque d'être retenu")).to_be_visible()
    reader.get_by_role("button", name="Publier quand même").click()
    expect(reader.locator(".notice.pending").first).to_contain_text("en attente de modération")
    held = wait_until(
        lambda: Comment.objects.filter(body=INSULT, status=Comment.Status.HELD).first(),
        timeout=30,
        message="the insult to be held",
    )
    expect(reader.locator(".notice.pending").first).to_contain_text("un modérateur va le relire")
    expect(reader.locator("#comment-list .comment-body", has_text=INSULT)).to_have_count(0)
    shot(reader, "03-reader-insult-held")

    # A moderator logs in, finds it in the held queue, sees the words that drove the score.
    admin = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000}).new_page()
    admin.set_default_timeout(TIMEOUT_MS)
    admin.goto(stack + "/admin/login/?next=/admin/moderation/comment/%3Fqueue%3Dheld")
    admin.fill("#id_username", moderator.username)
    admin.fill("#id_password", "modo-pass-1234")
    admin.click("input[type=submit]")
    expect(admin.locator(".vigie-queue.current")).to_contain_text("Retenus")
    row = admin.locator("#result_list tbody tr", has_text="espèce de connard")
    expect(row).to_have_count(1)
    shot(admin, "04-moderator-held-queue")
    row.locator(f'a[href*="/comment/{held.pk}/change/"]').first.click()
    marks = admin.locator(".vigie-body mark.vigie-ngram")
    expect(marks.first).to_be_visible()
    highlighted = {text.strip().lower() for text in marks.all_inner_texts()}
    assert {"connard", "imbécile"} & highlighted, highlighted
    expect(admin.locator(".vigie-author")).to_contain_text("Camille")
    shot(admin, "05-moderator-comment-highlighted")

    admin.click("button.vigie-approve")
    expect(admin.locator(".messagelist .success")).to_contain_text("approuvé")
    shot(admin, "06-moderator-approved")
    held.refresh_from_db()
    assert held.status == Comment.Status.APPROVED
    event = ModerationEvent.objects.get(comment=held, action=ModerationEvent.Action.APPROVE)
    assert event.moderator_id == moderator.pk

    # The dashboard draws the day's comments.
    admin.goto(stack + "/admin/moderation/dashboard/")
    expect(admin.locator("svg.vigie-chart")).to_have_count(2)
    shot(admin, "07-moderator-dashboard")

    # Back on the article, the reader now sees the approved comment.
    reader.reload()
    expect(reader.locator("#comment-list .comment-body", has_text=INSULT)).to_be_visible()
    expect(reader.locator("#comment-count")).to_have_text("(3)")
    shot(reader, "08-reader-sees-approved-comment")


def test_it_never_serves_the_site_key_to_the_browser(browser, stack, site_key):
    page = browser.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(stack + "/demo/")
    page.wait_for_load_state("networkidle")

    bodies = [
        r.text() for r in responses if r.request.resource_type in ("document", "fetch", "xhr", "script")
    ]
    assert bodies
    assert not any(site_key in body for body in bodies)
    assert os.environ.get("VIGIE_DEMO_SITE_KEY") is None  # the key lives in the web process only
