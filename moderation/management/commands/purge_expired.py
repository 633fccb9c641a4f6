from django.core.management.base import BaseCommand

from moderation import services


class Command(BaseCommand):
    help = (
        "Apply the sites' retention rules (Site.retention_days): blank the bodies of comments rejected "
        "longer ago, and the reporter ids of older reports. Celery beat runs it daily."
    )

    def handle(self, **options):
        counts = services.personal_data_purge_expired()
        self.stdout.write(
            f"purged {counts['comments']} comment body(ies), {counts['reports']} reporter id(s)"
        )
