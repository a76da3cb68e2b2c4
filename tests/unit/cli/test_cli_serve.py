"""``kubeward serve``'s priority-and-fairness and timeout flags: values and refusals."""

from __future__ import annotations

import pytest

from kubeward.cli.main import main
from kubeward.cli.serve import timeout_seconds
from kubeward.errors import InputError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("32s", 32.0), ("1m30s", 90.0), ("500ms", 0.5), ("45", 45.0), ("2.5", 2.5)],
    ids=str,
)
def test_timeouts_are_go_durations_or_seconds(text: str, seconds: float) -> None:
    assert timeout_seconds("--request-header-timeout", text) == seconds


@pytest.mark.parametrize("text", ["soon", "0", "-5s"], ids=str)
def test_bad_timeouts_are_refused_naming_the_flag(text: str) -> None:
    with pytest.raises(InputError, match=r"^--idle-connection-timeout: "):
        timeout_seconds("--idle-connection-timeout", text)


def test_a_bad_flag_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "serve",
                "--tls-cert-file=x.crt",
                "--tls-private-key-file=x.key",
                "--request-body-timeout=abc",
            ]
        )
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --request-body-timeout: 'abc': not a duration")
    assert len(err.strip().splitlines()) == 1
