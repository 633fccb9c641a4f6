"""Starting and stopping Vigie's processes (gunicorn, Celery workers) on 127.0.0.1.

Plain standard library, shared by the tests that need real processes and by bench/.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(args: list[str], *, env: dict, log_path: Path) -> subprocess.Popen:
    """A process in a session of its own (so stop() ends its children too), logged to a file."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def gunicorn(
    env: dict, *, port: int, log_path: Path, workers: int = 1, extra: tuple = ()
) -> subprocess.Popen:
    """gunicorn serving Vigie, returned once a worker answers HTTP (60 s at most)."""
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "project.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        # gunicorn 27's default control socket is one per user, shared by every gunicorn of
        # this machine's concurrent test runs.
        "--no-control-socket",
        *extra,
    ]
    proc = spawn(args, env=env, log_path=log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
            # The master listens at once; a worker answers only once it has loaded Django,
            # which on a busy machine takes longer than a test's first request may wait.
            if _answers(f"http://127.0.0.1:{port}/healthz"):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}") from None
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError("gunicorn did not start within 60 s")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - loopback only
            return True
    except urllib.error.HTTPError:
        return True  # any status: a worker is up
    except OSError:
        return False


def celery_worker(
    env: dict, *, name: str, log_path: Path, concurrency: int = 1, extra: tuple = ()
) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "project",
        "worker",
        f"--concurrency={concurrency}",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
        *extra,
    ]
    return spawn(args, env=env, log_path=log_path)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15) -> None:
    """Signal the process's whole session, then SIGKILL it if it has not gone in time."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_until(
    predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition", progress=None
):
    """The predicate's first truthy value, polled until timeout (then TimeoutError)."""
    deadline = time.monotonic() + timeout
    last = 0.0
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if progress and time.monotonic() - last > 2:
            progress()
            last = time.monotonic()
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
