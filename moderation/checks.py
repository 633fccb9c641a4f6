"""System checks: refuse to start with a model that cannot be loaded."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def classifier_model_check(app_configs=None, **kwargs):
    from moderation.classifier import ModelError, load_model

    try:
        load_model(settings.VIGIE_MODEL_PATH)
    except ModelError as exc:
        return [
            Error(
                f"The classifier model cannot be loaded: {exc}",
                hint="Set VIGIE_MODEL_PATH to a model directory made by "
                "`manage.py train_classifier`, or unset it to use the shipped model.",
                id="vigie.E001",
            )
        ]
    return []
