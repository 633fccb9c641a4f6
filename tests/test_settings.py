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
