from django.core.management.base import BaseCommand, CommandError

from moderation import services
from moderation.models import Site


class Command(BaseCommand):
    help = (
        "Give a site a new API key (by name or id) and print it as the last line; "
        "the old key stops working at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("site", help="the site's name or id")

    def handle(self, site, **options):
        found = Site.objects.filter(name=site).first()
        if found is None and site.isascii() and site.isdigit() and int(site) <= 2**62:
            found = Site.objects.filter(pk=int(site)).first()
        if found is None:
            raise CommandError(f"No site named {site!r} (nor with that id).")
        key = services.site_rotate_key(site=found)
        self.stderr.write(
            f"New API key for {found.name!r} (id {found.pk}); the old one no longer works. "
            "Keep this key; it is shown once:"
        )
        self.stdout.write(key)
