"""The exec pieces the official client's suite leans on: ``>&2``, the ``nc`` echo server, which
execs are interactive, and channel messages sent as text frames."""

from __future__ import annotations

import pytest
from aiohttp import WSMessage, WSMsgType

from kubeward.node import commands
from kubeward.node.filesystem import FileSystem
from kubeward.node.streams import channel_message, interactive_shell, streaming_cat


@pytest.mark.parametrize(
    ("script", "stdout", "stderr"),
    [
        ("echo test string 2 >&2", b"", b"test string 2\n"),
        ("echo a 1>&2; echo b", b"b\n", b"a\n"),
        ("echo 1 >&2", b"", b"1\n"),
        ("echo a > b", b"a > b\n", b""),  # file redirection is not simulated: printed as words
        (
            "cat /nope >&2 || echo fallback",
            b"fallback\n",
            b"cat: can't open '/nope': No such file or directory\n",
        ),
    ],
    ids=["to-stderr", "fd-1-to-stderr", "number-argument", "file-redirect", "error-then-or"],
)
def test_stdout_to_stderr(script: str, stdout: bytes, stderr: bytes) -> None:
    outcome = commands.run(["sh", "-c", script], FileSystem(), {})
    assert (outcome.stdout, outcome.stderr) == (stdout, stderr)


@pytest.mark.parametrize(
    ("argv", "port"),
    [
        (["nc", "-lk", "-p", "1234", "-e", "cat"], 1234),
        (["/bin/nc", "-l", "-p", "1235", "-e", "/bin/cat"], 1235),
        (["nc", "-lp", "80", "-e", "cat"], 80),
        (["nc", "-p", "1234", "-e", "cat"], None),  # not listening
        (["nc", "-l", "-p", "1234", "-e", "sh"], None),  # not an echo
        (["cat"], None),
    ],
    ids=["lk", "paths", "lp", "client", "shell", "not-nc"],
)
def test_the_nc_echo_server_and_its_port(argv: list[str], port: int | None) -> None:
    assert commands.echo_port(argv) == port
    if port is not None:
        assert commands.run(argv, FileSystem(), {}).exit_code is None  # runs until stopped


def test_which_execs_read_stdin_as_it_comes() -> None:
    assert interactive_shell(["/bin/sh"]) and interactive_shell(["bash"])
    assert not interactive_shell(["sh", "-c", "echo hi"])
    assert streaming_cat(["cat"]) and streaming_cat(["/bin/sh", "-c", "cat"])
    assert not streaming_cat(["cat", "/etc/hosts"]) and not streaming_cat(["sh", "-c", "cat x"])


def test_text_and_binary_frames_carry_a_channel() -> None:
    assert channel_message(WSMessage(WSMsgType.TEXT, "\x00echo hi\n", None)) == (0, b"echo hi\n")
    assert channel_message(WSMessage(WSMsgType.BINARY, b"\xff\x00", None)) == (255, b"\x00")
    assert channel_message(WSMessage(WSMsgType.BINARY, b"", None)) is None
    assert channel_message(WSMessage(WSMsgType.CLOSE, 1000, None)) is None
