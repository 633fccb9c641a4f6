"""Management commands an operator runs."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from moderation.management.commands.serve import DEMO_MODERATOR, demo_credentials
from moderation.models import Site, hash_api_key


def test_create_site_prints_the_key_as_its_last_line_and_stores_only_its_hash(db):
    out = StringIO()
    call_command("create_site", "Le Parisien", stdout=out, stderr=StringIO())
    key = out.getvalue().strip().splitlines()[-1]
    site = Site.objects.get(name="Le Parisien")
    assert site.api_key_hash == hash_api_key(key)
    assert key not in site.api_key_hash


def test_create_site_refuses_a_duplicate_name(db):
    call_command("create_site", "Le Parisien", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError):
        call_command("create_site", "Le Parisien", stdout=StringIO(), stderr=StringIO())
    assert Site.objects.count() == 1


def test_the_demo_moderator_may_tune_the_demo_site(db, settings, tmp_path, client):
    """Failed before the fix: the printed login could not open its own site in the admin."""
    settings.VAR_DIR = tmp_path
    site, _, _ = demo_credentials()
    user = User.objects.get(username=DEMO_MODERATOR)
    assert user.has_perm("moderation.manage_site") and user.has_perm("moderation.moderate_comment")
    client.force_login(user)
    assert client.get(f"/admin/moderation/site/{site.pk}/change/").status_code == 200
