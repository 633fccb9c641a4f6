"""The moderators' workbench in a real browser (Debian's Chromium), at 1366 px and on a 390 px phone.

The desk is seeded through the real services and the shipped model (tests/workbench_seed.py);
Django's live server serves the admin over HTTP on the test's PostgreSQL. Screenshots of every
page go to test-artifacts/workbench/ (docs/moderators.md shows a few of them).
"""

import re

import pytest

from moderation.models import Comment, ModerationEvent
from tests.conftest import ROOT
from tests.test_browser import CHROMIUM, browser  # noqa: F401 - the fixture
from tests.workbench_seed import make_moderator, seed_desk

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts" / "workbench"
WIDTHS = {"desktop": 1366, "phone": 390}
TIMEOUT_MS = 30_000


@pytest.fixture
def desk(postgres, site):
    return seed_desk(site)


@pytest.fixture
def login(browser, live_server):  # noqa: F811
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # expect() waits 5 s by default: too little on a busy machine.
    expect.set_options(timeout=TIMEOUT_MS)

    def open_as(user, width: int):
        context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(live_server.url + "/admin/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "modo-pass-1234")
        page.click("input[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return open_as


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: {scroll} px wide at {width} px"


def held_queue(page, live_server) -> None:
    page.goto(live_server.url + "/admin/moderation/comment/?queue=held")


def worst_held() -> Comment:
    return Comment.objects.filter(status="held").order_by("-priority", "id").first()


@pytest.mark.parametrize("device", WIDTHS)
def test_the_held_queue_reads_at_a_glance(desk, login, live_server, site, device):
    from playwright.sync_api import expect

    width = WIDTHS[device]
    page = login(make_moderator(site, "claire"), width)
    held_queue(page, live_server)
    shot(page, f"queue-held-{device}")

    worst = worst_held()
    row = page.locator("#result_list tbody tr", has=page.locator(f'input[value="{worst.pk}"]'))
    expect(row.locator(".vigie-why-score")).to_contain_text("seuil de rétention")
    expect(row.locator(".vigie-record")).to_contain_text("publié")
    expect(row.locator(".vigie-age")).to_have_text(re.compile(r"^\d+\s(heures?|jours?)$"))  # 1 jour 12 h
    headers = [h.strip().lower() for h in page.locator("#result_list thead th").all_inner_texts()]
    assert headers.count("score") == 1 and "toxicité" not in headers, headers
    # The article's title on one line, the comment's text wide.
    article = row.locator(".vigie-ellipsis").bounding_box()
    assert article["height"] < 24, article
    if device == "desktop":
        text = row.locator(".vigie-text").bounding_box()
        assert text["width"] >= 300, text
        no_horizontal_scroll(page, width)
        # Every column in view: the table does not scroll inside its box either.
        box = page.evaluate(
            "[...document.querySelectorAll('#changelist .results')].map(e => [e.scrollWidth, e.clientWidth])"
        )
        assert box and box[0][0] <= box[0][1], box
    # A long comment opens in place.
    long = page.locator("details.vigie-expand").first
    long.locator("summary").click()
    expect(long.locator(".vigie-full")).to_contain_text("Honte à vous.")
    shot(page, f"queue-held-{device}")
    no_horizontal_scroll(page, width)


@pytest.mark.parametrize("device", WIDTHS)
def test_the_change_page_puts_the_decision_first_on_a_phone(desk, login, live_server, site, device):
    from playwright.sync_api import expect

    width = WIDTHS[device]
    page = login(make_moderator(site, "claire"), width)
    page.goto(live_server.url + f"/admin/moderation/comment/{worst_held().pk}/change/")
    expect(page.locator(".vigie-decide .vigie-why-score")).to_contain_text("seuil de rétention")
    decision = page.locator(".vigie-decide").bounding_box()
    body = page.locator(".vigie-body").bounding_box()
    history = page.locator(".vigie-author").bounding_box()
    if device == "phone":
        # Decision, then the comment, then the rest; nothing wider than the screen.
        assert decision["y"] < body["y"] < history["y"], (decision, body, history)
        assert decision["width"] <= width
    else:
        assert decision["x"] > body["x"] and abs(decision["y"] - body["y"]) < 200, (decision, body)
    shot(page, f"comment-{device}")
    no_horizontal_scroll(page, width)


def test_the_desk_works_from_the_keyboard(desk, login, live_server, site):
    from playwright.sync_api import expect

    moderator = make_moderator(site, "claire")
    page = login(moderator, WIDTHS["desktop"])
    held_queue(page, live_server)
    queue = list(
        Comment.objects.filter(status="held").order_by("-priority", "id").values_list("pk", flat=True)
    )
    assert len(queue) >= 3
    page.locator(f'#result_list a[href*="/comment/{queue[0]}/change/"]').first.click()
    ready = page.locator('.vigie-workbench[data-keyboard="on"]')  # the script listens
    expect(ready).to_have_count(1)
    page.keyboard.press("?")
    expect(page.locator("#vigie-shortcuts")).to_be_visible()
    expect(page.locator("#vigie-shortcuts")).to_contain_text("commentaire suivant de la file")
    shot(page, "keyboard-help-desktop")
    page.keyboard.press("?")
    expect(page.locator("#vigie-shortcuts")).to_be_hidden()

    page.keyboard.press("j")
    page.wait_for_url(f"**/comment/{queue[1]}/change/**")
    expect(ready).to_have_count(1)
    page.keyboard.press("k")
    page.wait_for_url(f"**/comment/{queue[0]}/change/**")
    expect(ready).to_have_count(1)

    # No rejection yet: r picks no reason, it only puts the focus on the reasons.
    page.keyboard.press("r")
    expect(page.locator("button.vigie-reject").first).to_be_focused()
    page.locator('button.vigie-reject[value="hate"]').click()  # a first rejection, by hand
    expect(page.locator(".messagelist .success")).to_contain_text("rejeté")
    page.wait_for_url(f"**/comment/{queue[1]}/change/**")
    expect(ready).to_have_count(1)

    page.keyboard.press("a")  # approve, then on to the next
    expect(page.locator(".messagelist .success")).to_contain_text("approuvé")
    page.wait_for_url(f"**/comment/{queue[2]}/change/**")
    expect(ready).to_have_count(1)

    page.keyboard.press("r")  # the last reason: hate speech
    expect(page.locator(".messagelist .success")).to_contain_text("discours de haine")

    statuses = dict(Comment.objects.filter(pk__in=queue[:3]).values_list("pk", "status"))
    assert statuses == {queue[0]: "rejected", queue[1]: "approved", queue[2]: "rejected"}
    reasons = list(
        ModerationEvent.objects.filter(moderator=moderator, action="reject").values_list("reason", flat=True)
    )
    assert reasons == ["hate", "hate"]


@pytest.mark.parametrize("device", WIDTHS)
def test_the_dashboard_says_what_it_counts(desk, login, live_server, site, device):
    from playwright.sync_api import expect

    from tests.workbench_seed import decide

    width = WIDTHS[device]
    moderator = make_moderator(site, "claire")
    held = list(Comment.objects.filter(status="held").order_by("-priority"))
    decide(held[0], "reject", moderator, "toxic")
    decide(held[1], "approve", moderator)
    page = login(moderator, width)
    page.goto(live_server.url + "/admin/moderation/dashboard/")
    expect(page.locator(".vigie-card-arrival-held .vigie-card-label")).to_contain_text("retenus à l’arrivée")
    expect(page.locator(".vigie-card-median .vigie-card-count")).not_to_have_text("–")
    expect(page.locator("table.vigie-moderators tbody tr", has_text="claire")).to_contain_text("2")
    assert page.locator("svg.vigie-chart text.vigie-bar-value").count() >= 1
    shot(page, f"dashboard-{device}")
    no_horizontal_scroll(page, width)
    with page.expect_download() as download:
        page.locator("a.vigie-csv").click()
    assert download.value.suggested_filename.startswith("tableau-de-bord-")


@pytest.mark.parametrize("device", WIDTHS)
def test_the_simulator_moves_with_its_sliders_and_applies(desk, login, live_server, site, device):
    from playwright.sync_api import expect

    width = WIDTHS[device]
    manager = make_moderator(site, "cheffe", manager=True)
    page = login(manager, width)
    page.goto(live_server.url + f"/admin/moderation/simulator/?site={site.pk}")
    expect(page.locator('.vigie-sim-form[data-live="on"]')).to_have_count(1)
    held = page.locator('[data-field="held"]')
    before = int(held.inner_text())
    # Hold from 0,05: nearly every comment would wait for a moderator.
    page.locator('input[type="range"][name="toxicity_hold"]').evaluate(
        "el => { el.value = '0.05'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    expect(page.locator('output[data-for="toxicity_hold"]')).to_have_text("0,05")
    expect(held).not_to_have_text(str(before))
    assert int(held.inner_text()) > before
    shot(page, f"simulator-{device}")
    no_horizontal_scroll(page, width)

    page.locator("button.vigie-apply").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Seuils appliqués")
    site.refresh_from_db()
    assert site.toxicity_hold == 0.05
    assert ModerationEvent.objects.filter(action="thresholds", site=site, moderator=manager).count() == 1
