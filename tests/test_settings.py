"""Settings come from the environment and a bad value is a clear error."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from project import settings as project_settings


def test_it_reads_typed_values(monkeypatch):
    monkeypatch.setenv("VIGIE_X", "42")
    assert project_settings.env_int("VIGIE_X", 1) == 42
    monkeypatch.setenv("VIGIE_X", "off")
    assert project_settings.env_bool("VIGIE_X", True) is False
    monkeypatch.setenv("VIGIE_X", "a, b,,c")
    assert project_settings.env_list("VIGIE_X", []) == ["a", "b", "c"]
    monkeypatch.delenv("VIGIE_X")
    assert project_settings.env_int("VIGIE_X", 7) == 7


@pytest.mark.parametrize(
    ("helper", "value"),
    [("env_int", "many"), ("env_int", "-1"), ("env_bool", "perhaps"), ("env_float", "x")],
)
def test_it_refuses_a_bad_value_with_the_variable_named(monkeypatch, helper, value):
    monkeypatch.setenv("VIGIE_X", value)
    with pytest.raises(ImproperlyConfigured, match="VIGIE_X"):
        getattr(project_settings, helper)("VIGIE_X", 1)


def test_a_bad_database_url_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "nosuchdb://x")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        project_settings._databases()


def test_the_readme_documents_every_variable_vigie_reads():
    # Failed before: VIGIE_CSRF_TRUSTED_ORIGINS, VIGIE_DEBUG, VIGIE_CACHE_URL, VIGIE_RATE_REPORT,
    # VIGIE_DB_CONN_MAX_AGE and VIGIE_LOG_LEVEL were read but not in the operator's table.
    import re

    from tests.conftest import ROOT

    sources = [ROOT / "project" / "settings.py", ROOT / "deploy" / "gunicorn.conf.py"]
    sources += (ROOT / "moderation").rglob("*.py")
    read = set()
    for path in sources:
        text = path.read_text()
        read |= set(re.findall(r"env_(?:str|bool|int|float|list)\(\s*\"([A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"os\.environ(?:\.get)?[(\[]\s*\"([A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"os\.environ\.setdefault\(\s*\"([A-Z0-9_]+)\"", text))
    read.discard("DJANGO_SETTINGS_MODULE")
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Running in production") :]
    assert {"VIGIE_CSRF_TRUSTED_ORIGINS", "VIGIE_LOG_LEVEL", "DATABASE_URL"} <= read
    missing = sorted(name for name in read if f"`{name}`" not in table)
    assert not missing, f"read by Vigie but not in README's production table: {missing}"
