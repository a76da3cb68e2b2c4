"""``--authorization-config`` on ``serve`` and ``up``: exclusive with ``--authorization-mode`` and
the ``--authorization-webhook-*`` flags, with kube-apiserver's message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from kubeward.cli.auth_flags import auth_config, auth_flags
from kubeward.cli.main import main

CONFLICT = (
    "error: --authorization-config can not be specified when --authorization-mode or"
    " --authorization-webhook-* flags are defined"
)


@pytest.mark.parametrize(
    "legacy",
    [
        "--authorization-mode=RBAC",
        "--authorization-webhook-version=v1",
        "--authorization-webhook-cache-authorized-ttl=1m",
        "--authorization-webhook-cache-unauthorized-ttl=1s",
        "--authorization-webhook-config-file=/etc/webhook.kubeconfig",
    ],
)
def test_serve_refuses_legacy_flags_with_a_configuration(
    legacy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "serve",
                "--tls-cert-file=x.crt",
                "--tls-private-key-file=x.key",
                f"--data-dir={tmp_path}",
                f"--authorization-config={tmp_path / 'authz.yaml'}",
                legacy,
            ]
        )
    assert exited.value.code == 1
    assert capsys.readouterr().err.strip() == CONFLICT


def test_up_refuses_them_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "up",
                f"--data-dir={tmp_path}",
                f"--authorization-config={tmp_path / 'authz.yaml'}",
                "--authorization-mode=Node,RBAC",
            ]
        )
    assert exited.value.code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == CONFLICT
    assert not (tmp_path / "pki").exists()  # refused before anything was made


def test_the_file_reaches_the_server_configuration(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    @click.command()
    @click.option("--authorization-mode", default="RBAC")
    @auth_flags
    def command(authorization_mode: str, **auth: Any) -> None:
        seen.update(auth_config(auth))

    result = CliRunner().invoke(command, [f"--authorization-config={tmp_path / 'a.yaml'}"])
    assert result.exit_code == 0, result.output
    assert seen["authorization_config_file"] == tmp_path / "a.yaml"
    # The defaults of the flags it excludes are not "defined".
    assert CliRunner().invoke(command, []).exit_code == 0
    assert seen["authorization_config_file"] is None
