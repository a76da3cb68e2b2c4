"""``--feature-gates`` and ``--runtime-config`` on ``serve`` and ``up``: a bad value is one line
naming the flag and exit 1, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeward.cli.main import main


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (
            "--feature-gates=Bogus=true",
            'error: invalid argument "Bogus=true" for "--feature-gates" flag: unrecognized '
            "feature gate: Bogus",
        ),
        (
            "--runtime-config=example.com/v1=true",
            'error: invalid argument "example.com/v1=true" for "--runtime-config" flag: '
            'runtime-config: group "example.com" is not served by kubeward',
        ),
    ],
)
@pytest.mark.parametrize("command", ["serve", "up"])
def test_a_bad_value_is_one_line_and_exit_1(
    command: str, flag: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = (
        ["serve", "--tls-cert-file=x.crt", "--tls-private-key-file=x.key", flag]
        if command == "serve"
        else ["up", f"--data-dir={tmp_path / 'data'}", flag]
    )
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == message
    assert not (tmp_path / "data").exists()  # refused before the PKI is made
