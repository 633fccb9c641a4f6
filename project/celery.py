import contextlib
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("vigie")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# /healthz knows a worker is alive by its heartbeat (moderation/heartbeat.py).
app.steps["consumer"].add("moderation.heartbeat:Heartbeat")


@worker_init.connect
def refuse_to_start_without_a_model(**kwargs):
    """A worker that cannot load the classifier would fail every task: stop at once, loudly.

    Celery runs Django's system checks at worker start but ignores their result, so the
    check's test runs here (loading the model, then cached for the pool). Comments keep
    waiting as `received` and the sweep hands them to a worker started with a good model.
    """
    from moderation.checks import ENCODER_HINT, MODEL_HINT, encoder_problem, model_problem

    problem = model_problem()
    if problem is not None:
        # SystemExit, unlike an Exception, is not swallowed by Celery's signal dispatch.
        raise SystemExit(
            f"vigie.E001: the classifier model cannot be loaded: {problem}. {MODEL_HINT} "
            "Comments stay `received` until then."
        )
    problem = encoder_problem()
    if problem is not None:
        # Not quietly half a model: without its encoder the cascade cannot decide what the
        # fast model is unsure of.
        raise SystemExit(
            f"vigie.E002: the classifier's encoder cannot be loaded: {problem}. {ENCODER_HINT} "
            "Comments stay `received` until then."
        )


@worker_process_init.connect
def warm_up_the_classifier(**kwargs):
    """Score two texts in each pool process before its first task.

    The first text that may be in neither French nor English loads lingua's language
    models (one to three seconds): paid here, at start, not by a reader's comment.
    """
    from django.conf import settings

    from moderation.classifier import ModelError, load_model

    # A bad model: refuse_to_start_without_a_model has already said so in the parent.
    with contextlib.suppress(ModelError):
        model = load_model(settings.VIGIE_MODEL_PATH)
        fast = model.score(["Bonjour à tous", "Hola, ¿qué tal?"], explain=False)
        if model.has_second_opinion and _consumes(settings.VIGIE_ENCODER_QUEUE):
            # The encoder's weights (~1 s to load) are read now, not by the first comment.
            model.second_opinion(["Bonjour à tous"], fast[:1])


def _consumes(queue: str) -> bool:
    """Does this worker consume ``queue``? The worker selects its queues (``-Q``) on the app
    before it forks its pool, so a pool process reads them there (worker_process_init's
    sender is only the host name)."""
    return queue in app.amqp.queues.consume_from
