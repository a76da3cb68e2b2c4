"""The controller-manager's flags: Go durations, and refusals that name the flag."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from kubeward.cli.controller_manager import build_manager, parse_duration
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
