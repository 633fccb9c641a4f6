"""Named actors and the real services, shared by every test file.

Actors: ``site`` (Le Quotidien, its key in ``site_key``), ``other_site`` (L'Autre Journal),
``moderator`` (staff with the moderation permission on ``site``), ``stranger`` (logged in,
not staff), and API clients for each.
"""

import os
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from rest_framework.test import APIClient

from moderation import services
from moderation.models import Comment
from project.celery import app as celery_app
from tests import environment, processes
from tests.processes import ROOT, free_port, stop, wait_until  # noqa: F401 - re-exported to tests

# --- services --------------------------------------------------------------------------------


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if environment.REQUIRE_SERVICES:
        pytest.fail(f"VIGIE_REQUIRE_SERVICES=1: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres():
    _need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL or 127.0.0.1:5432)")


@pytest.fixture
def redis_url():
    _need(environment.REDIS_URL is not None, "needs Redis (REDIS_URL or 127.0.0.1:6379)")
    return environment.REDIS_URL


@pytest.fixture
def queue_url(redis_url):
    """A Redis database of its own on the shared server, empty, for worker processes.

    VIGIE_TEST_REDIS_DB picks it, so that two test runs on one machine do not collide.
    """
    import redis

    url = redis_url.rsplit("/", 1)[0] + "/" + os.environ.get("VIGIE_TEST_REDIS_DB", "13")
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture(autouse=True)
def _eager_tasks():
    """In the test process tasks run in-line; queue behaviour is tested with real workers."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


# --- actors ----------------------------------------------------------------------------------


@pytest.fixture
def site_and_key(db):
    return services.site_create(name="Le Quotidien")


@pytest.fixture
def site(site_and_key):
    return site_and_key[0]


@pytest.fixture
def site_key(site_and_key):
    return site_and_key[1]


@pytest.fixture
def other_site_and_key(db):
    return services.site_create(name="L'Autre Journal")


@pytest.fixture
def other_site(other_site_and_key):
    return other_site_and_key[0]


def _api(key: str | None = None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def site_api(site_key):
    return _api(site_key)


@pytest.fixture
def other_site_api(other_site_and_key):
    return _api(other_site_and_key[1])


@pytest.fixture
def anonymous_api():
    return _api()


@pytest.fixture
def moderator(db, site):
    user = User.objects.create_user("modo", password="modo-pass-1234", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    site.moderators.add(user)
    return User.objects.get(pk=user.pk)  # fresh, so the permission cache is empty


@pytest.fixture
def stranger(db):
    return User.objects.create_user("stranger", password="stranger-pass-1234")


@pytest.fixture
def moderator_api(moderator):
    client = APIClient()
    client.force_authenticate(moderator)
    return client


@pytest.fixture
def article(site):
    article, _ = services.article_upsert(site=site, external_id="art-1", title="Réforme des retraites")
    return article


@pytest.fixture
def make_comment(site, article):
    """Post a comment as a site would, through the service, optionally classified."""

    def make(body="Très bon article, merci.", *, author="reader-1", parent=None, classify=False, art=None):
        comment, _ = services.comment_create(
            site=site,
            article_external_id=(art or article).external_id,
            author_external_id=author,
            author_name=author.title(),
            body=body,
            parent_id=parent.pk if parent else None,
        )
        if classify:
            classify_now([comment.pk])
            comment.refresh_from_db()
        return comment

    return make


def classify_now(comment_ids: list[int]) -> None:
    """Both stages of the cascade, in this process (on_commit never fires inside a test's
    transaction, so the fast stage's hand-off to the encoder queue is made here)."""
    services.comments_classify(comment_ids=comment_ids)
    services.comments_second_opinion(comment_ids=comment_ids)


def set_status(comment: Comment, status: str) -> Comment:
    """Put a test comment in a status directly (setup only; the code under test never does)."""
    Comment.objects.filter(pk=comment.pk).update(status=status)
    comment.refresh_from_db()
    return comment


# --- processes -------------------------------------------------------------------------------


def stack_env(redis_url: str, **extra) -> dict:
    """The environment of a web or worker process sharing this test's database."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=redis_url,
        VIGIE_TASKS_EAGER="0",
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="project.settings",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker(
    env: dict, *, name: str, concurrency: int = 1, beat: bool = False, log_dir: Path, queues: str = ""
) -> subprocess.Popen:
    extra = ["--loglevel=INFO", "--pool=prefork"]
    if queues:  # e.g. "celery" (the fast stage only) or "encoder" (the second opinion only)
        extra += ["-Q", queues]
    if beat:
        extra += ["--beat", f"--schedule={log_dir / (name + '-beat')}"]
    return processes.celery_worker(
        env, name=name, concurrency=concurrency, log_path=log_dir / f"{name}.log", extra=tuple(extra)
    )


def start_web(env: dict, *, port: int, log_dir: Path, workers: int = 1) -> subprocess.Popen:
    return processes.gunicorn(
        env, port=port, workers=workers, log_path=log_dir / "web.log", extra=("--access-logfile=-",)
    )
