"""Secrets and privacy at rest: reader IPs in limit keys, files in var/, site key rotation."""

import hashlib
import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from moderation.api.throttling import ReaderIpThrottle
from moderation.management.commands import serve
from moderation.models import Site, hash_api_key
from project import files
from project import settings as project_settings
from tests.conftest import ROOT

IP = "203.0.113.7"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- reader IPs ---------------------------------------------------------------------------------


def test_a_reader_ip_is_kept_as_an_hmac_in_the_limit_key(settings):
    """Failed before the fix: the key held sha256(ip), which anyone can reverse over IPv4."""
    request = SimpleNamespace(auth=SimpleNamespace(pk=1), META={"HTTP_X_READER_IP": IP})
    key = ReaderIpThrottle().get_cache_key(request, None)
    plain = hashlib.sha256(IP.encode()).hexdigest()

    assert plain[:16] not in key
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    assert ReaderIpThrottle().get_cache_key(request, None) != key


# --- files --------------------------------------------------------------------------------------


def test_var_and_the_sqlite_file_are_private_even_when_they_existed_readable(tmp_path):
    """Failed before the fix: var/ 0755 and vigie.sqlite3 0644 under the usual umask."""
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    (var / "vigie.sqlite3").touch(mode=0o644)
    fresh = tmp_path / "fresh"
    code = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    for directory in (var, fresh):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIGIE_SECRET_KEY")}
        env.update(VIGIE_VAR_DIR=str(directory), DJANGO_SETTINGS_MODULE="project.settings")
        subprocess.run(
            ["sh", "-c", f'umask 022 && exec "{sys.executable}" -c "{code}"'],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
        )
        assert mode(directory) == 0o700
        assert mode(directory / "vigie.sqlite3") == 0o600
        assert mode(directory / "secret_key") == 0o600


@pytest.fixture
def writes(monkeypatch, tmp_path):
    """The permission bits of every file under tmp_path at the moment something is written in."""
    seen = []
    real_write, real_write_text = os.write, Path.write_text

    def write(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path)):
            seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    def write_text(self, *args, **kwargs):
        result = real_write_text(self, *args, **kwargs)
        if str(self).startswith(str(tmp_path)):
            seen.append(mode(self))
        return result

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(Path, "write_text", write_text)
    old = os.umask(0)  # the worst case: nothing masked
    yield seen
    os.umask(old)


def test_secret_files_are_never_readable_by_others_not_even_for_a_moment(writes, tmp_path, monkeypatch):
    """Failed before the fix: written with the umask's mode, then chmod-ed."""
    monkeypatch.delenv("VIGIE_SECRET_KEY", raising=False)
    monkeypatch.setattr(project_settings, "VAR_DIR", tmp_path)
    key = project_settings._secret_key()
    files.write_private(tmp_path / "other", "v1")
    (tmp_path / "other").chmod(0o644)
    files.write_private(tmp_path / "other", "v2")

    assert writes and set(writes) == {0o600}
    assert (tmp_path / "secret_key").read_text() == key
    assert (mode(tmp_path / "secret_key"), mode(tmp_path / "other")) == (0o600, 0o600)
    assert (tmp_path / "other").read_text() == "v2"


def test_serve_writes_the_demo_secrets_private(writes, db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    serve.demo_credentials()

    assert writes and set(writes) == {0o600}
    assert mode(tmp_path / "demo-site-key") == mode(tmp_path / "demo-moderator-password") == 0o600


# --- rotating a site key ------------------------------------------------------------------------


def _can_read(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.get("/api/v1/articles/nope").status_code


def test_rotate_site_key_prints_the_new_key_last_and_the_old_one_stops_working(site, site_key):
    out = StringIO()
    call_command("rotate_site_key", site.name, stdout=out, stderr=StringIO())
    new_key = out.getvalue().strip().splitlines()[-1]

    site.refresh_from_db()
    assert site.api_key_hash == hash_api_key(new_key)
    assert (_can_read(site_key), _can_read(new_key)) == (401, 404)
    call_command("rotate_site_key", str(site.pk), stdout=StringIO(), stderr=StringIO())
    assert _can_read(new_key) == 401


def test_rotate_site_key_refuses_an_unknown_site(db):
    with pytest.raises(CommandError, match="No site"):
        call_command("rotate_site_key", "Nulle part", stdout=StringIO(), stderr=StringIO())


def test_the_site_admin_rotates_a_key_and_shows_it_once(client, site, site_key, other_site):
    manager = User.objects.create_user("chef", password="chef-pass-1234", is_staff=True)
    manager.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["moderate_comment", "manage_site", "change_site", "view_site"]
        )
    )
    site.moderators.add(manager)
    client.force_login(manager)

    response = client.post(
        "/admin/moderation/site/", {"action": "rotate_key", "_selected_action": [site.pk]}, follow=True
    )

    assert response.status_code == 200
    site.refresh_from_db()
    page = response.content.decode()
    [new_key] = [w for w in page.replace("<", " ").replace(">", " ").split() if w.startswith("vg_")]
    assert site.api_key_hash == hash_api_key(new_key)
    assert _can_read(site_key) == 401
    again = client.get("/admin/moderation/site/").content.decode()
    assert new_key not in again
    # Another site's key cannot be rotated from here (the manager does not see it).
    before = Site.objects.get(pk=other_site.pk).api_key_hash
    client.post("/admin/moderation/site/", {"action": "rotate_key", "_selected_action": [other_site.pk]})
    assert Site.objects.get(pk=other_site.pk).api_key_hash == before
