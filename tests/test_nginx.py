"""deploy/nginx.conf in front of gunicorn: half-open connections no longer freeze the workers.

gunicorn's sync workers (deploy/gunicorn.conf.py) serve one connection each: as many clients
as workers that connect and send nothing hold every worker until gunicorn's timeout. Through
the shipped nginx configuration (TLS and names swapped for a free local port), those clients
wait in nginx and a real request is answered at once.
"""

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT, free_port, stop, wait_until
from tests.processes import spawn
from tests.tiny_model import write_tiny_model

WORKERS = 2


def local_config(shipped: str, *, port: int, upstream: int, static: str) -> str:
    """The shipped server block on plain HTTP, pointing at this test's gunicorn."""
    conf = shipped.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    conf = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{port};", conf)
    conf = re.sub(r"\n\s*ssl_certificate(_key)? [^\n]*;", "", conf)
    conf = conf.replace("alias /var/lib/vigie/static/;", f"alias {static}/;")
    return conf[: conf.rindex("server {")]  # without the port-80 redirect


def half_open(port: int, count: int) -> list[socket.socket]:
    """Clients that connect and send half a request line, then nothing."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(sock)
    return sockets


def answers_within(url: str, seconds: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=seconds):  # noqa: S310 - loopback only
            return True
    except urllib.error.HTTPError:
        return True  # 503 without a worker is still an answer
    except OSError:
        return False


@pytest.mark.slow
def test_half_open_connections_freeze_bare_gunicorn_but_not_gunicorn_behind_the_shipped_nginx(tmp_path):
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if nginx is None:
        pytest.skip("needs nginx (apt-get install nginx-light; .ci/run installs it)")
    upstream, port = free_port(), free_port()
    var = tmp_path / "var"
    env = {
        "PATH": f"{sys.executable.rsplit('/', 1)[0]}:/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "VIGIE_VAR_DIR": str(var),
        "VIGIE_MODEL_PATH": str(write_tiny_model(tmp_path / "model")),
        "VIGIE_BIND": f"127.0.0.1:{upstream}",
        "VIGIE_WEB_WORKERS": str(WORKERS),
        "HOME": str(tmp_path),
    }
    web = spawn(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "project.wsgi"],
        env=env,
        log_path=tmp_path / "web.log",
    )
    (tmp_path / "nginx").mkdir()
    (tmp_path / "vigie.conf").write_text(
        local_config((ROOT / "deploy" / "nginx.conf").read_text(), port=port, upstream=upstream, static=var)
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx-error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/nginx/body;\n"
        f"  proxy_temp_path {tmp_path}/nginx/proxy;\n  include {tmp_path}/vigie.conf;\n}}\n"
    )
    check = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    proxy = spawn(
        [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        env=env,
        log_path=tmp_path / "nginx.log",
    )
    held = []
    try:
        direct = f"http://127.0.0.1:{upstream}/healthz"
        proxied = f"http://127.0.0.1:{port}/healthz"
        wait_until(lambda: answers_within(direct, 5), timeout=90, message="gunicorn up")
        wait_until(lambda: answers_within(proxied, 5), timeout=20, message="nginx up")

        held = half_open(upstream, WORKERS)
        time.sleep(0.5)
        assert not answers_within(direct, 3)  # every sync worker waits on a silent client
        for sock in held:
            sock.close()
        wait_until(lambda: answers_within(direct, 3), timeout=40, message="gunicorn free again")

        held = half_open(port, WORKERS * 4)
        time.sleep(0.5)
        started = time.monotonic()
        assert answers_within(proxied, 3)
        assert time.monotonic() - started < 3
    finally:
        for sock in held:
            sock.close()
        stop(proxy)
        stop(web)
    assert "Control socket" not in (tmp_path / "web.log").read_text()  # --no-control-socket
    assert not (tmp_path / ".gunicorn").exists()
