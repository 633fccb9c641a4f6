"""Webhooks: the site's endpoints, the outbox written with each change, and real deliveries.

Deliveries go over HTTP to a real receiver on 127.0.0.1 (pytest-httpserver); in this process
tasks run eagerly, so a change committed with its on_commit callbacks run is delivered at
once. The clock is moved by writing timestamps in the database.
"""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook
from werkzeug import Response

from moderation import services
from moderation.models import Comment, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventBatch
from tests.conftest import set_status
from tests.test_api_site import assert_error

S = Comment.Status
D = WebhookDelivery.Status
EVENTS = ["comment.published", "comment.held", "comment.rejected", "comment.approved"]


class Receiver:
    """A site's webhook receiver: records every call, answers the statuses given in turn."""

    def __init__(self, httpserver, *statuses: int, path: str = "/hooks", delay: float = 0):
        self.calls: list[tuple[dict, str]] = []
        self.statuses = list(statuses or (200,))
        self.delay = delay
        httpserver.expect_request(path).respond_with_handler(self.handle)
        self.url = httpserver.url_for(path)

    def handle(self, request):
        self.calls.append((dict(request.headers), request.get_data(as_text=True)))
        if self.delay:
            time.sleep(self.delay)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Response(
            "merci" if status < 300 else "en panne", status=status, headers={"Location": "/elsewhere"}
        )

    def ids(self) -> list[str]:
        return [headers["Webhook-Id"] for headers, _ in self.calls]


def register(api, url, events=None):
    return api.post("/api/v1/webhooks", {"url": url, "events": events or EVENTS}, format="json")


@pytest.fixture
def endpoint_and_secret(site):
    def make(url, events=None):
        return services.webhook_endpoint_create(site=site, url=url, events=events or EVENTS)

    return make


def decide(comment, moderator, action="approve", capture=None):
    with capture(execute=True):
        services.comments_bulk_decide(comment_ids=[comment.pk], action=action, moderator=moderator)


# --- the API -----------------------------------------------------------------------------------


def test_it_registers_an_endpoint_and_shows_its_secret_once(site_api, site):
    response = register(site_api, "https://93.184.215.14/vigie", ["comment.held", "comment.approved"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "url", "events", "disabled", "created_at", "secret"}
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # a secret the standard library accepts
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert (endpoint.site, endpoint.url, endpoint.secret) == (
        site,
        "https://93.184.215.14/vigie",
        body["secret"],
    )
    assert endpoint.events == ["comment.approved", "comment.held"]

    listed = site_api.get("/api/v1/webhooks")
    assert listed.status_code == 200
    assert listed.json() == [{k: v for k, v in body.items() if k != "secret"}]
    assert body["secret"] not in listed.content.decode()


def test_a_site_sees_and_deletes_only_its_own_endpoints(site_api, other_site_api, site):
    endpoint_id = register(site_api, "https://93.184.215.14/a").json()["id"]
    assert other_site_api.get("/api/v1/webhooks").json() == []
    assert_error(other_site_api.delete(f"/api/v1/webhooks/{endpoint_id}"), 404, "not_found")
    assert WebhookEndpoint.objects.filter(pk=endpoint_id).exists()

    assert site_api.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint_id).exists()
    assert_error(site_api.delete(f"/api/v1/webhooks/{endpoint_id}"), 404, "not_found")
    assert_error(site_api.delete(f"/api/v1/webhooks/{2**63}"), 404, "not_found")


def test_it_needs_a_site_key(anonymous_api):
    assert_error(register(anonymous_api, "https://93.184.215.14/a"), 401)
    assert_error(anonymous_api.get("/api/v1/webhooks"), 401)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://172.16.0.1/hooks",
        "http://192.168.1.10/hooks",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://100.64.0.1/hooks",  # carrier-grade NAT
        "http://0.0.0.0/hooks",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[fe80::1]/hooks",
        "http://224.0.0.1/hooks",
        "http://2130706433/hooks",  # 127.0.0.1 written as one number
    ],
)
def test_it_refuses_loopback_and_private_addresses(site_api, settings, url):
    settings.VIGIE_WEBHOOK_ALLOW_PRIVATE = False
    error = assert_error(register(site_api, url), 400, "invalid_url")
    assert "url" in error["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_private_addresses_are_allowed_when_configured(site_api, settings):
    settings.VIGIE_WEBHOOK_ALLOW_PRIVATE = True
    assert register(site_api, "http://127.0.0.1:8080/hooks").status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.fr/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "hooks.example.fr/x",
        "https://user:pass@hooks.example.fr/x",
        "https://93.184.215.14/a b",
        "https://hooks.example.fr:99999/x",
        "https://no-such-host.invalid/x",
        "https://93.184.215.14/" + "x" * 2000,
    ],
)
def test_it_refuses_what_is_not_an_http_url(site_api, url):
    assert_error(register(site_api, url), 400)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"url": "https://93.184.215.14/a", "events": ["comment.exploded"]},
        {"url": "https://93.184.215.14/a", "events": []},
        {"url": "https://93.184.215.14/a", "events": "comment.held"},
        {"url": "https://93.184.215.14/a"},
        {"events": ["comment.held"]},
        {"url": 42, "events": ["comment.held"]},
        {"url": "https://93.184.215.14/a", "events": ["comment.held"], "secret": "mine"},
        ["not", "an", "object"],
    ],
)
def test_it_refuses_bad_events_and_fields(site_api, payload):
    assert_error(site_api.post("/api/v1/webhooks", payload, format="json"), 400, "invalid")
    assert not WebhookEndpoint.objects.exists()


def test_it_limits_the_endpoints_of_a_site(site_api, settings):
    settings.VIGIE_WEBHOOKS_PER_SITE = 2
    for i in range(2):
        assert register(site_api, f"https://93.184.215.14/{i}").status_code == 201
    assert_error(register(site_api, "https://93.184.215.14/3"), 400, "too_many_webhooks")
    assert WebhookEndpoint.objects.count() == 2


# --- the outbox --------------------------------------------------------------------------------


def test_a_decision_writes_its_delivery_in_the_same_transaction(
    site, moderator, make_comment, endpoint_and_secret
):
    endpoint, _ = endpoint_and_secret("https://93.184.215.14/a")
    comment = set_status(make_comment(author="u-42"), S.HELD)
    services.comment_approve(comment_id=comment.pk, moderator=moderator, reason="context")
    [delivery] = WebhookDelivery.objects.all()
    payload = json.loads(delivery.body)
    assert (delivery.endpoint, delivery.event_type, delivery.status) == (
        endpoint,
        "comment.approved",
        D.PENDING,
    )
    assert payload["type"] == "comment.approved"
    assert payload["data"] == {
        "comment_id": comment.pk,
        "article_id": "art-1",
        "author_id": "u-42",
        "parent_id": None,
        "status": "approved",
        "reason": "context",
        "actor": "moderator",
    }
    assert delivery.message_id.startswith("msg_")

    # A decision refused as a whole (one id unknown) leaves no delivery behind either.
    other = set_status(make_comment(), S.HELD)
    with pytest.raises(services.decisions.NotFound):
        services.comments_bulk_decide(comment_ids=[other.pk, 10**9], action="reject", moderator=moderator)
    assert WebhookDelivery.objects.count() == 1


def test_a_verdict_batch_writes_one_delivery_per_subscribed_event(site, make_comment, endpoint_and_secret):
    endpoint_and_secret("https://93.184.215.14/held-only", ["comment.held"])
    clean = make_comment("Merci pour cet article clair.", author="a")
    toxic = make_comment("T es vraiment un abruti, ton avis ne vaut rien.", author="b")
    services.comments_classify(comment_ids=[clean.pk, toxic.pk])
    statuses = dict(Comment.objects.values_list("pk", "status"))
    held = [pk for pk, status in statuses.items() if status == S.HELD]
    deliveries = list(WebhookDelivery.objects.all())
    assert [json.loads(d.body)["data"]["comment_id"] for d in deliveries] == held
    assert statuses[clean.pk] == S.PUBLISHED  # published: not subscribed, nothing written


def test_a_batch_of_verdicts_is_expanded_after_commit_and_each_event_delivered(
    httpserver, site, make_comment, endpoint_and_secret, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver)
    endpoint, secret = endpoint_and_secret(receiver.url)
    comments = [make_comment(f"Merci pour cet article {i}.", author=f"a{i}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        services.comments_classify(comment_ids=[c.pk for c in comments])
    assert not WebhookEventBatch.objects.exists()  # expanded, then deleted
    deliveries = WebhookDelivery.objects.order_by("pk")
    assert [d.status for d in deliveries] == [D.DELIVERED] * 3
    payloads = [Webhook(secret).verify(body, headers) for headers, body in receiver.calls]
    assert sorted(p["data"]["comment_id"] for p in payloads) == [c.pk for c in comments]
    assert {p["type"] for p in payloads} == {"comment.published"}


def test_a_batch_whose_task_was_lost_is_expanded_by_the_sweep(
    httpserver, site, make_comment, endpoint_and_secret
):
    receiver = Receiver(httpserver)
    endpoint_and_secret(receiver.url)
    comments = [make_comment(f"Merci pour cet article {i}.", author=f"a{i}") for i in range(2)]
    services.comments_classify(comment_ids=[c.pk for c in comments])  # on_commit never runs here
    [batch] = WebhookEventBatch.objects.all()
    assert services.webhooks_sweep() == 0 and WebhookEventBatch.objects.exists()  # not late yet
    WebhookEventBatch.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    services.webhooks_sweep()
    assert not WebhookEventBatch.objects.exists()
    assert services.webhook_batch_expand(batch_id=batch.pk) == 0  # once only
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert services.webhooks_sweep() == 2
    assert sorted(json.loads(b)["data"]["comment_id"] for _, b in receiver.calls) == [c.pk for c in comments]
    assert all(json.loads(b)["timestamp"] for _, b in receiver.calls)


def test_a_site_without_endpoints_gets_no_rows(site, other_site, make_comment, endpoint_and_secret):
    services.webhook_endpoint_create(site=other_site, url="https://93.184.215.14/o", events=EVENTS)
    make_comment(classify=True)
    assert not WebhookDelivery.objects.exists() and not WebhookEventBatch.objects.exists()


def test_reports_and_author_status_are_events(site, moderator, make_comment, endpoint_and_secret, settings):
    endpoint_and_secret(
        "https://93.184.215.14/a", ["report.created", "comment.held", "author.status_changed"]
    )
    site.reports_to_hold = 1
    site.save()
    comment = set_status(make_comment(author="u-7"), S.PUBLISHED)
    services.report_create(site=site, comment_id=comment.pk, reason="abuse", reporter_id="r-1")
    services.author_ban(author_id=comment.author_id, moderator=moderator, reason="récidive")
    bodies = [json.loads(d.body) for d in WebhookDelivery.objects.order_by("pk")]
    assert [b["type"] for b in bodies] == ["comment.held", "report.created", "author.status_changed"]
    assert bodies[0]["data"]["status"] == "held"
    assert bodies[1]["data"]["reason"] == "abuse" and bodies[1]["data"]["comment_id"] == comment.pk
    assert "r-1" not in json.dumps(bodies)  # the reporter's id stays with Vigie
    assert bodies[2]["data"] == {
        "author_id": "u-7",
        "status": "banned",
        "previous_status": "normal",
        "reason": "récidive",
    }


def test_an_unknown_event_type_is_a_programming_error(site):
    with pytest.raises(ValueError):
        services.webhook_event_record(site=site, type="comment.exploded", data={})


# --- delivery to a real receiver ---------------------------------------------------------------


def test_events_arrive_signed_and_verify_with_the_secret(
    httpserver, moderator, make_comment, endpoint_and_secret, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver)
    endpoint, secret = endpoint_and_secret(receiver.url)
    comment = set_status(make_comment(), S.HELD)
    decide(comment, moderator, capture=django_capture_on_commit_callbacks)

    [(headers, body)] = receiver.calls
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "comment.approved"
    assert payload["data"]["comment_id"] == comment.pk
    with pytest.raises(Exception, match="signature"):
        Webhook(
            services.webhook_endpoint_create(site=endpoint.site, url=receiver.url, events=EVENTS)[1]
        ).verify(body, headers)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (D.DELIVERED, 1, None)
    assert headers["Webhook-Id"] == delivery.message_id
    [attempt] = delivery.attempt_log.all()
    assert (attempt.status_code, attempt.error, attempt.response_excerpt) == (200, "", "merci")


def test_a_receiver_answering_500_then_200_gets_the_event_once_it_recovers(
    httpserver, moderator, make_comment, endpoint_and_secret, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver, 500, 200)
    endpoint, secret = endpoint_and_secret(receiver.url)
    comment = set_status(make_comment(), S.HELD)
    decide(comment, moderator, "reject", capture=django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (D.PENDING, 1)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=4)  # backoff, with jitter
    assert services.webhooks_sweep() == 0  # not due yet
    assert len(receiver.calls) == 1

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert services.webhooks_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (D.DELIVERED, 2)
    assert receiver.ids() == [delivery.message_id, delivery.message_id]  # the same webhook-id
    assert Webhook(secret).verify(receiver.calls[1][1], receiver.calls[1][0])["type"] == "comment.rejected"
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    assert WebhookAttempt.objects.get(status_code=500).error == "HTTP 500"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # the success ended the failing streak

    # Delivered: never sent again, by the sweep or by a duplicate task.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    assert services.webhooks_sweep() == 0
    assert services.webhook_deliver(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.calls) == 2


def test_a_delivery_being_sent_is_not_claimed_twice(httpserver, site, endpoint_and_secret):
    receiver = Receiver(httpserver)
    endpoint_and_secret(receiver.url)
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() + timedelta(minutes=2))
    assert services.webhook_deliver(delivery_id=delivery.pk) == "skipped"
    # A worker that died mid-call lets go when its lease ends.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert services.webhook_deliver(delivery_id=delivery.pk) == "delivered"
    assert len(receiver.calls) == 1


def test_redirects_are_not_followed(httpserver, site, endpoint_and_secret):
    receiver = Receiver(httpserver, 302)
    elsewhere = Receiver(httpserver, path="/elsewhere")
    endpoint_and_secret(receiver.url)
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_deliver(delivery_id=delivery.pk) == "retry"
    assert (len(receiver.calls), len(elsewhere.calls)) == (1, 0)
    assert delivery.attempt_log.get().status_code == 302


def test_a_slow_receiver_times_out_and_is_retried(httpserver, site, endpoint_and_secret, settings):
    settings.VIGIE_WEBHOOK_TIMEOUT = 1
    receiver = Receiver(httpserver, delay=2)
    endpoint_and_secret(receiver.url)
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    delivery = WebhookDelivery.objects.get()
    started = time.monotonic()
    assert services.webhook_deliver(delivery_id=delivery.pk) == "retry"
    assert time.monotonic() - started < 1.9
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and "timed out" in attempt.error
    assert 900 <= attempt.duration_ms < 1900


def test_a_refused_connection_is_logged_and_retried(site, endpoint_and_secret):
    from tests.conftest import free_port

    endpoint_and_secret(f"http://127.0.0.1:{free_port()}/hooks")
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_deliver(delivery_id=delivery.pk) == "retry"
    assert "refused" in delivery.attempt_log.get().error.lower()


def test_an_address_that_became_private_is_not_called(httpserver, site, endpoint_and_secret, settings):
    receiver = Receiver(httpserver)
    endpoint_and_secret(receiver.url)
    settings.VIGIE_WEBHOOK_ALLOW_PRIVATE = False
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_deliver(delivery_id=delivery.pk) == "retry"
    assert receiver.calls == []
    assert "non-public" in delivery.attempt_log.get().error


def test_a_delivery_is_given_up_after_its_retry_window(httpserver, site, endpoint_and_secret):
    receiver = Receiver(httpserver, 503)
    endpoint_and_secret(receiver.url)
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_deliver(delivery_id=delivery.pk) == "retry"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(retry_until=timezone.now() - timedelta(seconds=1))
    assert services.webhook_deliver(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (D.FAILED, None)


def test_an_endpoint_failing_for_24_hours_is_disabled(httpserver, site, endpoint_and_secret):
    receiver = Receiver(httpserver, 500)
    endpoint, _ = endpoint_and_secret(receiver.url)
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 2})
    first, second = WebhookDelivery.objects.order_by("pk")
    assert services.webhook_deliver(delivery_id=first.pk) == "retry"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.disabled_at is None

    # 23 hours of failures: still trying.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=23))
    assert services.webhook_deliver(delivery_id=second.pk) == "retry"
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None

    # 24 hours and more: disabled, its pending deliveries failed, new events not recorded.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1)
    )
    WebhookDelivery.objects.update(locked_until=None)
    assert services.webhook_deliver(delivery_id=first.pk) == "failed"
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {D.FAILED}
    calls = len(receiver.calls)
    assert services.webhook_deliver(delivery_id=second.pk) == "skipped"
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 3})
    assert WebhookDelivery.objects.count() == 2
    assert len(receiver.calls) == calls
    assert site_api_listing(site) == [True]


def site_api_listing(site) -> list[bool]:
    from moderation.api.serializers import WebhookOutput
    from moderation.selectors import webhook_endpoints_for_site

    return [e["disabled"] for e in WebhookOutput(webhook_endpoints_for_site(site=site), many=True).data]


def test_a_redelivery_enables_the_endpoint_and_sends_again(
    httpserver, site, endpoint_and_secret, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver, 500, 200)
    endpoint, _ = endpoint_and_secret(receiver.url)
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    delivery = WebhookDelivery.objects.get()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=2))
    services.webhook_deliver(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhooks_redeliver(delivery_ids=[delivery.pk]) == 1
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, endpoint.disabled_at, endpoint.failing_since) == (D.DELIVERED, None, None)
    assert receiver.ids() == [delivery.message_id] * 2


def test_the_sweep_sends_a_delivery_whose_task_was_lost(httpserver, site, endpoint_and_secret):
    receiver = Receiver(httpserver)
    endpoint_and_secret(receiver.url)
    # Recorded outside captured on_commit callbacks: its task is never sent, as if Redis had been down.
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    assert services.webhooks_sweep() == 0  # not a straggler yet: its own task may still come
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert services.webhooks_sweep() == 1
    assert WebhookDelivery.objects.get().status == D.DELIVERED
    assert len(receiver.calls) == 1


# --- with real processes: Redis down while a comment is decided ---------------------------------


def moderate(base: str, token: str, comment_id: int, action: str) -> int:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/api/v1/moderation/comments/{comment_id}/{action}",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_while_a_comment_is_decided_the_event_still_arrives(
    postgres, httpserver, site, moderator, make_comment, tmp_path
):
    from rest_framework.authtoken.models import Token

    from tests.conftest import free_port, stack_env, start_web, start_worker, stop, wait_until
    from tests.test_faults import OwnRedis, wait_ready
    from tests.tiny_model import write_tiny_model

    own_redis = OwnRedis(tmp_path)
    own_redis.start()
    model_dir = write_tiny_model(tmp_path / "model")

    # Made first, with no endpoint yet: classified in this process, no event recorded.
    before, during = (set_status(make_comment(f"Commentaire {i}", author=f"r{i}"), S.HELD) for i in range(2))
    receiver = Receiver(httpserver)
    endpoint, secret = services.webhook_endpoint_create(site=site, url=receiver.url, events=EVENTS)
    token = Token.objects.create(user=moderator).key
    env = stack_env(
        own_redis.url,
        VIGIE_MODEL_PATH=model_dir,
        VIGIE_SWEEP_AFTER_SECONDS=2,
        VIGIE_WEBHOOK_SWEEP_INTERVAL=1,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = worker = None
    try:
        web = start_web(env, port=port, log_dir=tmp_path)
        worker = start_worker(env, name="hooks", beat=True, log_dir=tmp_path)
        wait_ready(tmp_path / "hooks.log")
        assert moderate(base, token, before.pk, "approve") == 200
        wait_until(lambda: len(receiver.calls) == 1, timeout=30, message="the first event")

        own_redis.stop()
        started = time.monotonic()
        assert moderate(base, token, during.pk, "reject") == 200
        assert time.monotonic() - started < 3  # the decision does not wait for the broker
        delivery = WebhookDelivery.objects.get(event_type="comment.rejected")
        assert delivery.status == D.PENDING
        time.sleep(3)  # past the straggler delay: the sweep cannot reach Redis either
        assert len(receiver.calls) == 1

        own_redis.start()
        wait_until(lambda: len(receiver.calls) == 2, timeout=60, message="the event after Redis came back")
        time.sleep(4)  # several more sweeps: nothing is sent again
    finally:
        for process in (web, worker):
            if process is not None:
                stop(process)
        own_redis.stop()
    assert len(receiver.calls) == 2
    headers, body = receiver.calls[1]
    payload = Webhook(secret).verify(body, headers)
    assert (payload["type"], payload["data"]["comment_id"]) == ("comment.rejected", during.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, headers["Webhook-Id"]) == (
        D.DELIVERED,
        1,
        delivery.message_id,
    )
    assert len(set(receiver.ids())) == 2


# --- the admin ---------------------------------------------------------------------------------


@pytest.fixture
def modo(client, moderator):
    client.force_login(moderator)
    return client


def test_the_admin_flags_a_disabled_endpoint_in_french(modo, site, other_site, endpoint_and_secret):
    from django.urls import reverse

    endpoint, _ = endpoint_and_secret("https://93.184.215.14/broken")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=timezone.now())
    services.webhook_endpoint_create(site=other_site, url="https://93.184.215.14/theirs", events=EVENTS)
    response = modo.get(reverse("admin:moderation_webhookendpoint_changelist"))
    assert response.status_code == 200
    assert [e.pk for e in response.context["cl"].result_list] == [endpoint.pk]  # not the other site's
    html = response.content.decode()
    assert "⚠ désactivé" in html
    assert "Réactiver les points de réception sélectionnés" in html
    disabled = modo.get(reverse("admin:moderation_webhookendpoint_changelist"), {"state": "disabled"})
    assert [e.pk for e in disabled.context["cl"].result_list] == [endpoint.pk]


def test_a_moderator_redelivers_from_the_admin(
    modo, httpserver, site, other_site, endpoint_and_secret, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    receiver = Receiver(httpserver)
    endpoint_and_secret(receiver.url)
    services.webhook_event_record(site=site, type="comment.held", data={"comment_id": 1})
    services.webhook_endpoint_create(site=other_site, url=receiver.url, events=EVENTS)
    services.webhook_event_record(site=other_site, type="comment.held", data={"comment_id": 2})
    mine, theirs = WebhookDelivery.objects.order_by("pk")
    WebhookDelivery.objects.update(status=D.FAILED, next_attempt_at=None)
    changelist = reverse("admin:moderation_webhookdelivery_changelist")

    page = modo.get(changelist)
    assert [d.pk for d in page.context["cl"].result_list] == [mine.pk]
    assert "Renvoyer les événements sélectionnés" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = modo.post(changelist, {"action": "redeliver", "_selected_action": [mine.pk, theirs.pk]})
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (D.DELIVERED, D.FAILED)  # another site's is out of reach
    assert receiver.ids() == [mine.message_id]
    detail = modo.get(reverse("admin:moderation_webhookdelivery_change", args=[mine.pk]))
    assert detail.status_code == 200 and "merci" in detail.content.decode()  # the attempt log
    assert modo.get(reverse("admin:moderation_webhookdelivery_change", args=[theirs.pk])).status_code == 302


def test_the_admin_enables_an_endpoint_again(modo, site, endpoint_and_secret):
    from django.urls import reverse

    endpoint, _ = endpoint_and_secret("https://93.184.215.14/broken")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=timezone.now(), failing_since=timezone.now() - timedelta(days=1)
    )
    response = modo.post(
        reverse("admin:moderation_webhookendpoint_changelist"),
        {"action": "enable", "_selected_action": [endpoint.pk]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.failing_since) == (None, None)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_workers_batch_of_verdicts_reaches_the_receiver_event_by_event(
    postgres, queue_url, httpserver, site, article, tmp_path
):
    from tests.conftest import stack_env, start_worker, stop, wait_until
    from tests.test_faults import send_classify, store_received, wait_ready
    from tests.tiny_model import write_tiny_model

    receiver = Receiver(httpserver)
    _, secret = services.webhook_endpoint_create(site=site, url=receiver.url, events=EVENTS)
    comments = [
        store_received(site, article, body=f"Merci pour l'article {i}.", author=f"r{i}") for i in range(3)
    ]
    env = stack_env(queue_url, VIGIE_MODEL_PATH=write_tiny_model(tmp_path / "model"))
    worker = start_worker(env, name="batch", log_dir=tmp_path)  # no beat: no sweep to make up for a loss
    try:
        wait_ready(tmp_path / "batch.log")
        send_classify(queue_url, comments[0].pk)  # one task: the claim takes the three waiting
        wait_until(lambda: len(receiver.calls) >= 3, timeout=60, message="three events")
        time.sleep(2)  # nothing more comes
    finally:
        stop(worker)
    payloads = [Webhook(secret).verify(body, headers) for headers, body in receiver.calls]
    assert sorted(p["data"]["comment_id"] for p in payloads) == [c.pk for c in comments]
    assert {p["type"] for p in payloads} == {"comment.published"}
    assert not WebhookEventBatch.objects.exists()
    assert (
        "expand_webhook_batch[" in (tmp_path / "batch.log").read_text()
    )  # the batch path, run by the worker
