from django.core.management.base import BaseCommand, CommandError

from moderation import services
from moderation.models import ModerationMode, Site


class Command(BaseCommand):
    help = "Create a site and print its API key (shown once; only its hash is stored) as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--mode", choices=ModerationMode.values, default=ModerationMode.POST)

    def handle(self, name, mode, **options):
        if Site.objects.filter(name=name).exists():
            raise CommandError(f"A site named {name!r} exists already.")
        site, key = services.site_create(name=name, moderation_mode=mode)
        self.stderr.write(f"Created site {site.name!r} (id {site.pk}). Keep this API key; it is shown once:")
        self.stdout.write(key)
