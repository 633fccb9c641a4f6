from django.apps import AppConfig


class ModerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "moderation"
    verbose_name = "Modération"

    def ready(self) -> None:
        from moderation import checks  # noqa: F401  (registers the system checks)
