"""The controller-manager's flags: Go durations, controller names, the token controller's key and
the root CA, and refusals that name the flag."""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
from pathlib import Path
from typing import Any, cast

import pytest

from kubeward.cli.controller_manager import (
    autoscaler_config,
    build_manager,
    leader_election_config,
    parse_duration,
)
from kubeward.client.api import APIClient
from kubeward.controllers import names
from kubeward.controllers.manager import ControllerManager, ManagerConfig
from kubeward.errors import InputError
from kubeward.pki.keys import generate_private_key, private_key_pem


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


def _kubeconfig(tmp_path: Path, ca: bytes) -> Path:
    path = tmp_path / "cm.conf"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n"
        f"    certificate-authority-data: {base64.b64encode(ca).decode()}\n"
        "users:\n- name: u\n  user:\n    token: t\n"
        "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
    )
    return path


def _manager(config: ManagerConfig) -> ControllerManager:
    return ControllerManager(cast(APIClient, object()), config)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("namespace", names.NAMESPACE),
        ("serviceaccount", names.SERVICEACCOUNT),
        ("serviceaccount-token", names.SERVICEACCOUNT_TOKEN),
        ("root-ca-cert-publisher", names.ROOT_CA_CERT_PUBLISHER),
        ("resourcequota", names.RESOURCEQUOTA),
        ("pv-protection", names.PV_PROTECTION),
        ("pvc-protection", names.PVC_PROTECTION),
    ],
)
def test_the_moved_controllers_have_kube_controller_managers_names(
    alias: str, canonical: str
) -> None:
    assert names.ControllerSelection.parse(["*"]).enabled(canonical)
    assert not names.ControllerSelection.parse(["*", f"-{alias}"]).enabled(canonical)
    assert names.ControllerSelection.parse([canonical]).enabled(canonical)


def test_the_token_controller_runs_with_the_managers_own_client() -> None:
    assert names.BY_NAME[names.SERVICEACCOUNT_TOKEN].service_account == ""
    assert names.BY_NAME[names.NAMESPACE].service_account == "namespace-controller"


def test_without_a_private_key_the_token_controller_is_disabled_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = _manager(
        ManagerConfig(controllers=names.ControllerSelection.parse(["serviceaccount-token"]))
    )
    with caplog.at_level(logging.WARNING, logger="kubeward.controllers"):
        built = asyncio.run(manager.build())
    assert built == []
    assert (
        "serviceaccount-token-controller is disabled because there is no private key" in caplog.text
    )


def test_with_a_private_key_the_token_controller_is_built(tmp_path: Path) -> None:
    key = tmp_path / "sa.key"
    key.write_bytes(private_key_pem(generate_private_key("ecdsa-p256")))
    selection = names.ControllerSelection.parse(["serviceaccount-token"])
    manager = _manager(ManagerConfig(controllers=selection, service_account_private_key_file=key))

    async def build() -> list[str]:
        built = await manager.build()
        await manager.factory.stop()
        return [c.name for c in built]

    assert asyncio.run(build()) == ["serviceaccount-token"]


def test_an_unusable_private_key_file_is_refused_naming_it(tmp_path: Path) -> None:
    key = tmp_path / "sa.key"
    key.write_text("not a key")
    with pytest.raises(InputError, match=r"sa\.key"):
        _manager(ManagerConfig(service_account_private_key_file=key))


def test_the_root_ca_is_the_flags_file_else_the_kubeconfigs_ca(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path, b"KUBECONFIG CA")
    root = tmp_path / "root.crt"
    root.write_bytes(b"ROOT CA FILE")
    assert _manager(ManagerConfig(kubeconfig=kubeconfig)).root_ca == b"KUBECONFIG CA"
    flagged = _manager(ManagerConfig(kubeconfig=kubeconfig, root_ca_file=root))
    assert flagged.root_ca == b"ROOT CA FILE"
    with pytest.raises(InputError, match=r"missing\.crt"):
        _manager(ManagerConfig(kubeconfig=kubeconfig, root_ca_file=tmp_path / "missing.crt"))


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
