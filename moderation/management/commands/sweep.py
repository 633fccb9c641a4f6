from django.core.management.base import BaseCommand

from moderation import services


class Command(BaseCommand):
    help = "Re-enqueue comments left in `received` longer than --older-than seconds."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=None)

    def handle(self, older_than, **options):
        count = services.comments_sweep_received(older_than_seconds=older_than)
        self.stdout.write(f"re-enqueued {count} comment(s)")
        edits = services.revisions_sweep(older_than_seconds=older_than)
        if edits:
            self.stdout.write(f"re-enqueued {edits} edit(s)")
