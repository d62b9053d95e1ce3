"""Where Reflex keeps each tab's UI state follows the topology (issue 11 §7), and a topology that
would split a person's tab between processes is refused by `portal check-config`."""

from __future__ import annotations

import importlib

import pytest

from patient_portal import cli
from patient_portal.settings import get_settings, reset_settings


@pytest.fixture
def topology(monkeypatch):
    for name in ("REFLEX_REDIS_URL", "REFLEX_STATE_MANAGER_MODE", "GRANIAN_WORKERS"):
        monkeypatch.delenv(name, raising=False)

    def use(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        return get_settings()
    return use


def test_one_process_keeps_ui_state_in_memory(topology):
    assert topology().state_manager_mode == "memory"
    assert get_settings().problems_for_start() == []


def test_shared_ui_state_goes_to_redis(topology):
    s = topology(REFLEX_REDIS_URL="redis://127.0.0.1:6379/0", GRANIAN_WORKERS="2")
    assert s.state_manager_mode == "redis"
    assert s.problems_for_start() == []


def test_an_explicit_choice_wins(topology):
    assert topology(REFLEX_STATE_MANAGER_MODE="disk").state_manager_mode == "disk"


def test_several_workers_without_redis_are_refused_even_in_the_demo(topology, capsys):
    s = topology(GRANIAN_WORKERS="2")
    assert any("GRANIAN_WORKERS=2 needs REFLEX_REDIS_URL" in p for p in s.problems_for_start())
    assert cli.main(["check-config"]) == 1
    assert "GRANIAN_WORKERS" in capsys.readouterr().err


@pytest.mark.parametrize("env", [{"REFLEX_STATE_MANAGER_MODE": "redis"}, {"REFLEX_STATE_MANAGER_MODE": "files"}])
def test_an_impossible_choice_is_refused(topology, env):
    assert topology(**env).problems_for_start()


def test_rxconfig_hands_the_choice_to_reflex(topology, monkeypatch):
    import rxconfig

    topology(REFLEX_REDIS_URL="redis://127.0.0.1:6379/0")
    assert importlib.reload(rxconfig).config.state_manager_mode == "redis"
    monkeypatch.delenv("REFLEX_REDIS_URL")
    assert importlib.reload(rxconfig).config.state_manager_mode == "memory"
