"""System checks: refuse to start with a model that cannot be loaded."""

from django.conf import settings
from django.core.checks import Error, register

MODEL_HINT = (
    "Set VIGIE_MODEL_PATH to a model directory made by `manage.py train_classifier`, "
    "or unset it to use the shipped model."
)


def model_problem() -> str | None:
    """Why the configured classifier model cannot be loaded, or None if it loads.

    Used by the system check and by the Celery worker's start (which runs the checks but
    ignores their result).
    """
    from moderation.classifier import ModelError, load_model

    try:
        load_model(settings.VIGIE_MODEL_PATH)
    except ModelError as exc:
        return str(exc)
    return None


@register()
def classifier_model_check(app_configs=None, **kwargs):
    problem = model_problem()
    if problem is None:
        return []
    return [Error(f"The classifier model cannot be loaded: {problem}", hint=MODEL_HINT, id="vigie.E001")]
