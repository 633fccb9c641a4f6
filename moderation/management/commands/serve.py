"""Run Vigie on one machine: migrate, make a demo site and moderator, start web + worker.

This is the README's first command. It supervises gunicorn and one Celery worker (with the
beat scheduler that runs the sweep): a process that exits is started again after a backoff
(1 s, 2 s, 4 s ... 30 s; back to 1 s once it has run for a minute), and Ctrl-C stops both.
With no environment it runs embedded (SQLite, filesystem broker under var/); with
DATABASE_URL / REDIS_URL it uses them. Production runs the same programs under supervisord
(deploy/supervisord.conf).
"""

import contextlib
import ctypes
import errno
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from moderation import services
from moderation.models import Site, hash_api_key
from project.files import write_private

log = logging.getLogger("vigie.serve")

DEMO_SITE = "Démo"
DEMO_MODERATOR = "moderateur"
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
# A process that ran this long before exiting was healthy: its next restart waits 1 s again.
STABLE_AFTER_SECONDS = 60.0
# On stop, how long the programs (and their children) have to exit before they are killed.
STOP_GRACE_SECONDS = 20.0


def demo_credentials() -> tuple[Site, str, str]:
    """The demo site, its key and the moderator login, the same from one start to the next.

    Only the key's hash is in the database; the key itself is kept in var/demo-site-key and
    reused while it still matches, so a newsroom page or a curl loop keeps working across
    restarts. A key that no longer matches (the site's key was rotated) is replaced.
    """
    key_file = settings.VAR_DIR / "demo-site-key"
    kept = key_file.read_text().strip() if key_file.exists() else ""
    site = Site.objects.filter(name=DEMO_SITE).first()
    if site is None:
        site, key = services.site_create(name=DEMO_SITE)
    elif kept and hash_api_key(kept) == site.api_key_hash:
        key = kept
    else:
        key = services.site_rotate_key(site=site)
    if key != kept:
        write_private(key_file, key)
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


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        # As gunicorn binds: a port left in TIME_WAIT by a previous run is not "busy".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def next_free_port(host: str, port: int) -> int | None:
    return next((p for p in range(port + 1, min(port + 100, 65536)) if port_is_free(host, p)), None)


@dataclass
class Program:
    """One supervised process: started again after a backoff when it exits."""

    name: str
    args: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float = 0.0

    def start(self) -> None:
        # A session (so a process group) of its own: stopping the program reaches its
        # children too (gunicorn's workers, Celery's pool and beat), and a Ctrl-C in serve's
        # terminal reaches serve alone, which then stops each program as below.
        self.proc = subprocess.Popen(self.args, start_new_session=True, preexec_fn=_die_with_parent)
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    def check(self, now: float) -> None:
        """Start the process when due; notice it exited and schedule its restart."""
        if self.proc is None:
            if now >= self.restart_at:
                self.start()
            return
        code = self.proc.poll()
        if code is None:
            return
        ran = now - self.started_at
        self.quick_exits = 0 if ran >= STABLE_AFTER_SECONDS else self.quick_exits + 1
        delay = min(BACKOFF_FIRST_SECONDS * 2 ** max(self.quick_exits - 1, 0), BACKOFF_MAX_SECONDS)
        log.warning(
            "%s (pid %d) exited with code %s after %.0f s; restarting it in %.0f s",
            self.name,
            self.proc.pid,
            code,
            ran,
            delay,
        )
        # What it left behind (a Celery pool child whose master died) must not run beside
        # the program started in its place.
        if group_members(self.proc.pid):
            log.warning("%s (pid %d) left processes behind: killed", self.name, self.proc.pid)
            signal_group(self.proc.pid, signal.SIGKILL)
        self.proc = None
        self.restart_at = now + delay

    def terminate(self) -> None:
        """Ask the program to stop (its own graceful shutdown stops its children)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def wait(self, timeout: float) -> None:
        """Wait until the program and every process of its group have gone.

        Children that outlive the program are asked to stop (SIGTERM); whatever is still
        there after `timeout` seconds, the program or any child, is killed (SIGKILL).
        """
        if self.proc is None:
            return
        pgid = self.proc.pid
        deadline = time.monotonic() + timeout
        asked_leftovers = False
        while True:
            leader_done = self.proc.poll() is not None
            if not group_members(pgid):
                break
            if leader_done and not asked_leftovers:
                signal_group(pgid, signal.SIGTERM)
                signal_group(pgid, signal.SIGCONT)  # a stopped process acts on it too
                asked_leftovers = True
            if time.monotonic() >= deadline:
                log.warning("%s (pid %d) did not stop in %.0f s: killed", self.name, pgid, timeout)
                signal_group(pgid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=10)
                break
            time.sleep(0.1)


try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
except (OSError, AttributeError):
    _prctl = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: a SIGTERM when serve dies, even by SIGKILL (Linux only)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group pgid."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: whether the group has any process at all
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # After the command's closing parenthesis: state, ppid, pgrp, ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def supervise(programs: list[Program], *, poll_seconds: float = 0.2) -> None:
    """Keep every program running until SIGINT or SIGTERM, then stop them all."""
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for program in programs:
            program.start()
        while not stopping:
            now = time.monotonic()
            for program in programs:
                program.check(now)
            time.sleep(poll_seconds)
    finally:
        for program in programs:
            program.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for program in programs:
            program.wait(timeout=max(deadline - time.monotonic(), 0))
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Command(BaseCommand):
    help = "Migrate, create the demo site and moderator, and run the web server and a Celery worker."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
        demo = parser.add_mutually_exclusive_group()
        demo.add_argument(
            "--demo-anyway",
            action="store_true",
            help="Add the demo site and moderator login even if the database already has other sites.",
        )
        demo.add_argument(
            "--no-demo", action="store_true", help="Serve without creating the demo site and login."
        )

    def handle(self, port, host, web_workers, concurrency, demo_anyway, no_demo, **options):
        # On one machine the site's webhook receiver is usually on it too (127.0.0.1).
        os.environ.setdefault("VIGIE_WEBHOOK_ALLOW_PRIVATE", "1")
        if not port_is_free(host, port):
            free = next_free_port(host, port)
            if free is None:
                raise CommandError(_("port %(port)d busy: try another --port") % {"port": port})
            raise CommandError(_("port %(port)d busy: try --port %(free)d") % {"port": port, "free": free})
        if not no_demo:
            # The reader's demo page (/demo/) is mounted only in processes that ask for it.
            os.environ.setdefault("VIGIE_DEMO", "1")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        base = f"http://{host}:{port}"
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
        lines = ["", f"Vigie on {base}  (database: {database}, broker: {broker})"]
        if not no_demo:
            others = Site.objects.exclude(name=DEMO_SITE).count()
            if others and not demo_anyway and not Site.objects.filter(name=DEMO_SITE).exists():
                raise CommandError(
                    _(
                        "this database already has %(count)d site(s): serve would add a demo site "
                        "and the moderator login %(login)s to it. Pass --demo-anyway to add them, "
                        "or --no-demo to serve without them."
                    )
                    % {"count": others, "login": DEMO_MODERATOR}
                )
            site, key, password = demo_credentials()
            lines += [
                f"  site API key ({site.name}):  {key}",
                f"  moderator login:             {DEMO_MODERATOR} / {password}   ->  {base}/admin/",
                f"  reader demo page:            {base}/demo/",
            ]
        lines += [
            f"  API docs:                    {base}/api/docs/",
            "Ctrl-C stops the web server and the worker.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
        web = Program(
            "web",
            [
                sys.executable, "-m", "gunicorn", "project.wsgi",
                f"--bind={host}:{port}", f"--workers={web_workers}",
                # Threads: with no buffering proxy in front, a slow client holds one
                # thread rather than a whole worker.
                "--worker-class=gthread", "--threads=4",
                "--access-logfile=-", "--logger-class=project.logs.GunicornLogger",
                # gunicorn's default control socket is one per user (~/.gunicorn/): two
                # instances on one machine would share it. This one's is in var/.
                f"--control-socket={settings.VAR_DIR / 'gunicorn.ctl'}",
            ],
        )  # fmt: skip
        worker = Program(
            "worker",
            [
                # --quiet: no start-up banner (serve prints its own; the banner's date is
                # in local time, every log line in UTC).
                sys.executable, "-m", "celery", "-A", "project", "--quiet", "worker", "--beat",
                f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--loglevel=INFO",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ],
        )  # fmt: skip
        supervise([web, worker])
        with contextlib.suppress(OSError):
            (settings.VAR_DIR / "gunicorn.ctl").unlink(missing_ok=True)
