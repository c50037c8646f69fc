"""The process settings (config/): one object read from the environment as it is now, empty as
unset, refusals naming the variable, and README's table drawn from the same fields."""

from __future__ import annotations

import os
import re
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import settings as settings_for_hypothesis
from hypothesis import strategies as st

from config import TASK_QUEUE, SettingsError, settings
from config.defaults import MAX_CACHED_WORKFLOWS
from config.environment import Settings, table, variables

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- settings table: python -m config -->\n"
END = "\n<!-- end of settings table -->"


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in variables():
        monkeypatch.delenv(name, raising=False)


def test_readme_table_is_the_settings_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "README lost its settings table markers"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert shown.splitlines() == table(), "README is stale: paste the output of python -m config"


def test_every_field_has_a_row_and_a_meaning() -> None:
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `([A-Z_]+)` \|", text, flags=re.MULTILINE))
    assert set(variables()) <= named
    assert all(info.description for info in Settings.model_fields.values())


def test_defaults() -> None:
    now = settings()
    assert now.data_dir == Path("data")
    assert now.task_queue == TASK_QUEUE
    assert now.max_cached_workflows == MAX_CACHED_WORKFLOWS
    assert now.namespace == "default"
    assert now.console_port is None and now.console_users is None
    assert not now.console_demo_users


def test_empty_and_blank_values_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", "")
    monkeypatch.setenv("SRO_TASK_QUEUE", "  ")
    monkeypatch.setenv("SRO_CONSOLE_SECRET", " ")
    monkeypatch.setenv("SRO_MAX_CACHED_WORKFLOWS", "")
    now = settings()
    assert now.data_dir == Path("data")
    assert now.task_queue == TASK_QUEUE
    assert now.console_secret is None
    assert now.max_cached_workflows == MAX_CACHED_WORKFLOWS


def test_exact_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("sro_data_dir", "elsewhere")
    assert settings().data_dir == Path("data")


def test_follows_the_environment_without_clearing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings().user_name is None
    monkeypatch.setenv("SRO_USER_NAME", " Ann Smith ")
    assert settings().user_name == "Ann Smith"
    monkeypatch.setenv("SRO_USER_NAME", "Bo")
    assert settings().environ("SRO_USER_") == {"SRO_USER_NAME": "Bo"}


def test_flags_read_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, on in [("1", True), ("YES", True), ("true", True), ("0", False), ("maybe", False)]:
        monkeypatch.setenv("SRO_CONSOLE_HTTPS_ONLY", text)
        assert settings().console_https_only is on


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "SRO_MAX_CACHED_WORKFLOWS",
            "0",
            "SRO_MAX_CACHED_WORKFLOWS must be a whole number above 0",
        ),
        ("SRO_MAX_CACHED_WORKFLOWS", "lots", "not 'lots'"),
        ("SRO_CODEC_PORT", "port", "SRO_CODEC_PORT='port' is not a port number"),
        ("SRO_UI_PORT", "70000", "SRO_UI_PORT=70000 is not a port number (1-65535)"),
        ("SRO_CONSOLE_IDLE_MINUTES", "soon", "SRO_CONSOLE_IDLE_MINUTES must be a whole number"),
        ("SRO_CONSOLE_SESSION_MINUTES", "0", "SRO_CONSOLE_SESSION_MINUTES must be at least 1"),
    ],
)
def test_refusals_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        settings()
    monkeypatch.delenv(variable)
    settings()  # a refusal is not remembered


def test_the_metrics_address_is_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import SettingsError, settings

    monkeypatch.setenv("SRO_METRICS_ADDRESS", "0.0.0.0:9464")
    assert settings().metrics_address == "0.0.0.0:9464"
    for bad in ("9464", "localhost", "host:99999", "host:port"):
        monkeypatch.setenv("SRO_METRICS_ADDRESS", bad)
        with pytest.raises(SettingsError, match="SRO_METRICS_ADDRESS"):
            settings()


_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "0", "1", "yes", "8123", "70000", "-5", "data", "a:1", "x y"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
)


def _reading(direct: bool) -> dict[str, object] | str:
    from config.environment import _settings_for

    values = tuple(os.environ.get(name) for name in variables())
    try:
        return _settings_for(values, direct).model_dump()
    except SettingsError as err:
        return f"refused: {err}"


@settings_for_hypothesis(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(variables()), _VALUES, max_size=8))
def test_the_command_lines_direct_reading_is_pydantic_settings(
    chosen: dict[str, str | None],
) -> None:
    """`sro` validates the same model from the same variables without pydantic-settings'
    import (`config.read_directly`): the same settings, or the same refusal."""
    given_env = {k: v for k, v in chosen.items() if v is not None}
    with mock.patch.dict(os.environ, given_env):
        for name in set(variables()) - set(given_env):
            os.environ.pop(name, None)
        assert _reading(direct=True) == _reading(direct=False)


def test_values_now_are_the_fields_variables_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cache key of what is built from a few settings (the register's sealer and place).
    from config.environment import values_now

    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    assert values_now("database_url", "data_dir") == ("sqlite:///elsewhere.db", None)
    monkeypatch.setenv("SRO_DATA_DIR", " data2 ")
    assert values_now("data_dir") == (" data2 ",)  # as set: a key, not a setting
