"""The few programs a simulated container can run, with busybox's output and exit codes.

kubeward runs no images; a container's ``command``/``args`` (and ``kubectl exec``'s command)
is interpreted here. Rules:
 1. No command at all is the image's own long-running server: it runs until stopped.
 2. ``sleep N`` runs (as a container's main process: until stopped; under exec it returns at
    once with 0, since a simulated sleep has nothing to wait for). ``exit N`` ends with N.
    ``echo [-n] ARGS`` prints them. ``cat [FILES]`` prints files (stdin without any), ``ls
    [PATHS]`` lists directories one name a line, ``env`` prints the environment, ``true`` and
    ``false``; missing files are busybox's messages with exit 1.
 3. ``sh -c SCRIPT`` (also ``/bin/sh``, ``bash``) runs SCRIPT's commands separated by ``;``,
    ``&&`` and ``||`` with ``$VAR``/``${VAR}`` expansion; ``>&2`` sends a command's output to
    stderr; the script's status is the last one's.
 3a. ``nc -l [-k] -p PORT -e cat`` (busybox's netcat serving ``cat``) is an echo server on
    PORT: it runs until stopped, and what a port-forwarded connection sends it comes back
    (:func:`echo_port`).
 4. Anything else is not found: ``sh: NAME: not found`` and 127 in a shell; as a process of
    its own the runtime's ``exec: "NAME": executable file not found in $PATH`` and 127.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from kubeward.node.filesystem import FileSystem, normalise

NOT_FOUND = 127
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_STDOUT_FD = re.compile(r"(?<!\w)1>&")


@dataclass(frozen=True)
class Outcome:
    """What a program did: its output, and its exit code (None: it runs until stopped)."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = 0


RUNS = Outcome(exit_code=None)


def _base(program: str) -> str:
    return os.path.basename(program)


def _cat(args: list[str], fs: FileSystem, stdin: bytes) -> Outcome:
    if not args:
        return Outcome(stdin)
    out, err, code = b"", b"", 0
    for name in args:
        if fs.is_dir(name):
            err += b"cat: read error: Is a directory\n"
            code = 1
            continue
        data = fs.read(name)
        if data is None:
            err += f"cat: can't open '{name}': No such file or directory\n".encode()
            code = 1
        else:
            out += data
    return Outcome(out, err, code)


def _ls(args: list[str], fs: FileSystem) -> Outcome:
    paths = [a for a in args if not a.startswith("-")] or ["."]
    out, err, code = [], b"", 0
    for path in paths:
        names = fs.listing(normalise(path))
        if names is None:
            if fs.read(path) is not None:
                out.append(path)
                continue
            err += f"ls: {path}: No such file or directory\n".encode()
            code = 1
            continue
        if len(paths) > 1:
            out.append(f"{path}:")
        out.extend(names)
    text = "".join(f"{line}\n" for line in out)
    return Outcome(text.encode(), err, code)


def run(
    argv: list[str],
    fs: FileSystem,
    env: dict[str, str],
    *,
    stdin: bytes = b"",
    main: bool = False,
    in_shell: bool = False,
) -> Outcome:
    """Rules 1-4 for one program; ``main`` when it is the container's own process."""
    if not argv:
        return RUNS
    program, args = _base(argv[0]), argv[1:]
    if program in ("sh", "bash", "ash") and len(args) >= 2 and args[0] == "-c":
        return run_script(args[1], fs, env, stdin=stdin, main=main)
    if program in ("sh", "bash", "ash") and not args:
        return run_script(stdin.decode(errors="replace"), fs, env, main=main)
    if program == "sleep":
        return RUNS if main else Outcome()
    if program == "nc" and echo_port(argv) is not None:
        return RUNS
    if program == "exit":
        try:
            return Outcome(exit_code=int(args[0]) % 256 if args else 0)
        except ValueError:
            return Outcome(stderr=b"sh: exit: Illegal number\n", exit_code=2)
    if program == "true":
        return Outcome()
    if program == "false":
        return Outcome(exit_code=1)
    if program == "echo":
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        return Outcome((" ".join(args) + ("\n" if newline else "")).encode())
    if program == "cat":
        return _cat(args, fs, stdin)
    if program == "ls":
        return _ls(args, fs)
    if program in ("env", "printenv"):
        return Outcome("".join(f"{k}={v}\n" for k, v in env.items()).encode())
    if in_shell:
        return Outcome(stderr=f"sh: {argv[0]}: not found\n".encode(), exit_code=NOT_FOUND)
    message = f'exec: "{argv[0]}": executable file not found in $PATH\n'
    return Outcome(stderr=message.encode(), exit_code=NOT_FOUND)


def echo_port(argv: list[str]) -> int | None:
    """Rule 3a: the port ``nc -l … -p PORT -e cat`` echoes on, else None."""
    if not argv or _base(argv[0]) != "nc":
        return None
    listening, port, program = False, None, ""
    args = iter(argv[1:])
    for arg in args:
        if arg.startswith("-") and not arg.startswith("--") and "l" in arg[1:]:
            listening = True
        if arg == "-p" or (arg.startswith("-") and arg.endswith("p") and len(arg) > 2):
            value = next(args, "")
            port = int(value) if value.isdigit() else None
        elif arg == "-e" or (arg.startswith("-") and arg.endswith("e") and len(arg) > 2):
            program = _base(next(args, ""))
    return port if listening and program == "cat" else None


def _expand(word: str, env: dict[str, str], status: int) -> str:
    word = word.replace("$?", str(status))
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), word)


def run_script(
    script: str, fs: FileSystem, env: dict[str, str], *, stdin: bytes = b"", main: bool = False
) -> Outcome:
    """Rule 3."""
    script = _STDOUT_FD.sub(">&", script)  # ``1>&2`` is ``>&2``
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|>")
    lexer.whitespace_split = True
    out, err, status = b"", b"", 0
    words: list[str] = []
    tokens = [*lexer, ";"]
    skip = False
    to_stderr = False  # ``>&2``: this command's stdout goes to stderr
    redirect = False
    for token in tokens:
        if redirect:
            to_stderr, redirect = token == "2", False
            continue
        if token == ">&":
            redirect = True
            continue
        if token not in (";", "&&", "||", "\n"):
            words.append(_expand(token, env, status))
            continue
        if words and not skip:
            outcome = run(words, fs, env, stdin=stdin, main=main, in_shell=True)
            if to_stderr:
                outcome = Outcome(b"", outcome.stdout + outcome.stderr, outcome.exit_code)
            out, err = out + outcome.stdout, err + outcome.stderr
            if outcome.exit_code is None:
                return Outcome(out, err, None)
            status = outcome.exit_code
            if words[0] == "exit":
                return Outcome(out, err, status)
        words, to_stderr = [], False
        skip = (token == "&&" and status != 0) or (token == "||" and status == 0)
    return Outcome(out, err, status)
