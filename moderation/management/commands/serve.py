"""Run Vigie on one machine: migrate, make a demo site and moderator, start web + worker.

This is the README's first command. It supervises gunicorn and one Celery worker (with
the beat scheduler that runs the sweep) and stops both on Ctrl-C. With no environment it
runs embedded (SQLite, filesystem broker under var/); with DATABASE_URL / REDIS_URL it uses
them. Production runs gunicorn, `celery worker` and `celery beat` under its own supervisor.
"""

import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import BaseCommand

from moderation import services
from moderation.models import Site
from project.files import write_private

DEMO_SITE = "Démo"
DEMO_MODERATOR = "moderateur"


def demo_credentials() -> tuple[Site, str, str]:
    """The demo site (its key renewed at each start, since only its hash is stored) and login."""
    site = Site.objects.filter(name=DEMO_SITE).first()
    if site is None:
        site, key = services.site_create(name=DEMO_SITE)
    else:
        key = services.site_rotate_key(site=site)
    write_private(settings.VAR_DIR / "demo-site-key", key)
    password_file = settings.VAR_DIR / "demo-moderator-password"
    user = User.objects.filter(username=DEMO_MODERATOR).first()
    if user is None or not password_file.exists():
        password = secrets.token_urlsafe(12)
        user = user or User(username=DEMO_MODERATOR, is_staff=True)
        user.set_password(password)
        user.save()
        write_private(password_file, password)
    # Moderates the demo site and may tune it (thresholds, word lists) in the admin.
    user.user_permissions.add(*Permission.objects.filter(codename__in=["moderate_comment", "manage_site"]))
    site.moderators.add(user)
    return site, key, password_file.read_text()


class Command(BaseCommand):
    help = "Migrate, create the demo site and moderator, and run the web server and a Celery worker."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, port, host, web_workers, concurrency, **options):
        # On one machine the site's webhook receiver is usually on it too (127.0.0.1).
        os.environ.setdefault("VIGIE_WEBHOOK_ALLOW_PRIVATE", "1")
        # The reader's demo page (/demo/) is mounted only in processes that ask for it.
        os.environ.setdefault("VIGIE_DEMO", "1")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        site, key, password = demo_credentials()
        base = f"http://{host}:{port}"
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Vigie on {base}  (database: {database}, broker: {broker})",
                    f"  site API key ({site.name}):  {key}",
                    f"  moderator login:             {DEMO_MODERATOR} / {password}   ->  {base}/admin/",
                    f"  API docs:                    {base}/api/docs/",
                    f"  reader demo page:            {base}/demo/",
                    "Ctrl-C stops the web server and the worker.",
                    "",
                ]
            )
        )
        processes = [
            subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "project.wsgi",
                    f"--bind={host}:{port}", f"--workers={web_workers}", "--access-logfile=-",
                    "--worker-class=gthread", "--threads=4",
                ]
            ),
            subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "project", "worker", "--beat",
                    f"--concurrency={concurrency}", "--loglevel=INFO",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                ]
            ),
        ]
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if not stopping:
            self.stderr.write("a process exited; stopped the others")
            sys.exit(1)
