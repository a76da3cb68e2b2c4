"""The controller-manager's flags: Go durations, and refusals that name the flag."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from kubeward.cli.controller_manager import (
    autoscaler_config,
    build_manager,
    leader_election_config,
    parse_duration,
)
from kubeward.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8760h", datetime.timedelta(hours=8760)),
        ("1h30m", datetime.timedelta(minutes=90)),
        ("600s", datetime.timedelta(seconds=600)),
        ("1.5h", datetime.timedelta(minutes=90)),
    ],
    ids=["year", "hours-minutes", "seconds", "fraction"],
)
def test_parse_duration(text: str, expected: datetime.timedelta) -> None:
    assert parse_duration(text, "--cluster-signing-duration") == expected


@pytest.mark.parametrize(
    "text", ["", "1y", "h", "0s", "10"], ids=["empty", "years", "no-number", "zero", "no-unit"]
)
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(InputError, match="--cluster-signing-duration"):
        parse_duration(text, "--cluster-signing-duration")


def test_cert_without_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="go together"):
        build_manager(tmp_path / "cm.conf", tmp_path / "ca.crt", None, "8760h", False)


def test_missing_kubeconfig_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cm\.conf"):
        build_manager(tmp_path / "cm.conf", None, None, "8760h", False)


def test_leader_election_defaults_are_kube_controller_managers() -> None:
    config = leader_election_config(True, "15s", "10s", "2s")
    assert config is not None
    assert (config.lease_duration, config.renew_deadline, config.retry_period) == (15, 10, 2)
    assert (config.namespace, config.name) == ("kube-system", "kube-controller-manager")
    assert leader_election_config(False, "15s", "10s", "2s") is None


@pytest.mark.parametrize(
    ("lease", "renew", "retry", "message"),
    [
        ("10s", "10s", "2s", "lease-duration must be greater than --leader-elect-renew-deadline"),
        ("15s", "2s", "2s", "renew-deadline must be greater than --leader-elect-retry-period"),
        ("15s", "10s", "soon", "--leader-elect-retry-period"),
    ],
)
def test_leader_election_flags_that_cannot_work_are_refused(
    lease: str, renew: str, retry: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        leader_election_config(True, lease, renew, retry)


def test_unknown_controller_flag_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match='"statefulsetz" is not in the list of known controllers'):
        build_manager(
            tmp_path / "cm.conf", None, None, "8760h", False, controllers=("*", "statefulsetz")
        )


def test_autoscaler_flags_default_to_kube_controller_managers() -> None:
    config = autoscaler_config("15s", 0.1, "5m", "5m", "30s")
    assert config.sync_period == datetime.timedelta(seconds=15)
    assert config.downscale_stabilization == datetime.timedelta(minutes=5)
    assert config.calculator.tolerance == 0.1
    assert config.calculator.cpu_initialization_period == datetime.timedelta(minutes=5)
    assert config.calculator.initial_readiness_delay == datetime.timedelta(seconds=30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("soon", 0.1, "5m", "5m", "30s"), "--horizontal-pod-autoscaler-sync-period 'soon'"),
        (("15s", -1.0, "5m", "5m", "30s"), "--horizontal-pod-autoscaler-tolerance -1.0"),
    ],
    ids=["sync period", "negative tolerance"],
)
def test_autoscaler_flags_that_cannot_work_are_refused(args: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        autoscaler_config(*args)
