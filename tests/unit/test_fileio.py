"""fileio: atomic private writes, and files the server follows."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from kubeward.errors import InputError
from kubeward.fileio import PRIVATE, ReloadingFile, make_private_dirs, write_atomic


def parse_numbers(text: str, source: str) -> list[int]:
    numbers = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip().isdigit():
            raise InputError(f"{source}:{number}: not a number: {line!r}")
        numbers.append(int(line))
    return numbers


def test_write_atomic_is_private_and_does_not_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    write_atomic(target, b"secret", PRIVATE)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(InputError):
        write_atomic(target, b"other", PRIVATE)
    assert target.read_bytes() == b"secret"


def test_make_private_dirs_is_0700(tmp_path: Path) -> None:
    make_private_dirs(tmp_path / "a" / "b")
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700


def test_a_bad_file_at_start_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "n.txt"
    path.write_text("1\nx\n")
    with pytest.raises(InputError, match=r"n.txt:2: not a number: 'x'"):
        ReloadingFile(path, parse_numbers)


def test_a_missing_file_at_start_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        ReloadingFile(tmp_path / "absent", parse_numbers)


def test_changes_are_followed_and_broken_edits_keep_the_last_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "n.txt"
    path.write_text("1\n")
    followed = ReloadingFile(path, parse_numbers, check_interval=0)
    assert followed.value == [1]

    path.write_text("1\n2\n")
    assert followed.value == [1, 2]

    with caplog.at_level(logging.ERROR):
        path.write_text("1\nbroken\n")
        assert followed.value == [1, 2]
    assert "keeping the previous contents" in caplog.text and "n.txt:2" in caplog.text

    path.unlink()
    assert followed.value == [1, 2]  # a deleted file keeps the last good contents too

    replacement = tmp_path / "new.txt"
    replacement.write_text("3\n")
    os.replace(replacement, path)  # how editors and config managers write
    assert followed.value == [3]


def test_checks_are_rate_limited(tmp_path: Path) -> None:
    path = tmp_path / "n.txt"
    path.write_text("1\n")
    followed = ReloadingFile(path, parse_numbers, check_interval=3600)
    path.write_text("2\n")
    assert followed.value == [1]
