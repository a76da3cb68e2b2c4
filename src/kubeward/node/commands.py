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
    ``&&`` and ``||`` with ``$VAR``/``${VAR}`` expansion; the script's status is the last one's.
 4. Anything else is not found: ``sh: NAME: not found`` and 127 in a shell; as a process of
    its own the runtime's ``exec: "NAME": executable file not found in $PATH`` and 127.
 5. Load, for ``kubectl top`` and the horizontal pod autoscaler: a busy loop (``sh -c 'while
    true; do :; done'``, also ``while :``) runs until stopped using one core; the same loop
    with a ``sleep`` in its body runs idle. ``stress --cpu N [--vm N --vm-bytes SIZE]`` (also
    ``stress-ng``, ``-c``/``-m``) runs until stopped using N cores and N×SIZE bytes (256M by
    default), after printing its ``dispatching hogs`` line. Under exec (which cannot run in
    the background here) both return at once with 0. The container's usage is capped by its
    limits (``node.kubelet_api``).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from kubeward.node.filesystem import FileSystem, normalise

NOT_FOUND = 127
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_LOOP = re.compile(r"^\s*while\s+(?:true|:)\s*;?\s*do\b(?P<body>.*?);?\s*done\s*;?\s*$", re.S)
_SIZE = re.compile(r"^(\d+)([bBkKmMgG]?)$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
STRESS_VM_BYTES = 256 * 1024**2


@dataclass(frozen=True)
class Outcome:
    """What a program did: its output, and its exit code (None: it runs until stopped)."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = 0
    cpu_cores: float = 0.0  # rule 5: the load of a process that runs until stopped
    memory_bytes: int = 0


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


def _stress(program: str, args: list[str], main: bool) -> Outcome:
    """Rule 5 for ``stress``/``stress-ng``."""
    cpu = vm = 0
    vm_bytes = STRESS_VM_BYTES
    i = 0
    while i < len(args):
        flag, value = args[i], args[i + 1] if i + 1 < len(args) else ""
        if flag in ("--cpu", "-c", "--vm", "-m", "--vm-bytes", "--timeout", "-t", "--io", "-i"):
            i += 2
        else:
            i += 1
            continue
        size = _SIZE.match(value)
        if flag in ("--cpu", "-c", "--vm", "-m") and not value.isdigit():
            return Outcome(
                stderr=f"{program}: FAIL: invalid number '{value}'\n".encode(), exit_code=1
            )
        if flag in ("--cpu", "-c"):
            cpu = int(value)
        elif flag in ("--vm", "-m"):
            vm = int(value)
        elif flag == "--vm-bytes":
            if size is None:
                message = f"{program}: FAIL: invalid size '{value}'\n"
                return Outcome(stderr=message.encode(), exit_code=1)
            vm_bytes = int(size.group(1)) * _SIZE_UNITS[size.group(2).lower()]
    line = f"{program}: info: [1] dispatching hogs: {cpu} cpu, 0 io, {vm} vm, 0 hdd\n".encode()
    if not main:
        return Outcome(line)
    return Outcome(line, exit_code=None, cpu_cores=float(cpu), memory_bytes=vm * vm_bytes)


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
    if program in ("stress", "stress-ng"):
        return _stress(program, args, main)
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


def _expand(word: str, env: dict[str, str], status: int) -> str:
    word = word.replace("$?", str(status))
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), word)


def run_script(
    script: str, fs: FileSystem, env: dict[str, str], *, stdin: bytes = b"", main: bool = False
) -> Outcome:
    """Rules 3 and 5."""
    loop = _LOOP.match(script)
    if loop is not None:
        if not main:
            return Outcome()
        idle = re.search(r"(^|[;&|\s])sleep\b", loop.group("body")) is not None
        return Outcome(exit_code=None, cpu_cores=0.0 if idle else 1.0)
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    out, err, status = b"", b"", 0
    words: list[str] = []
    tokens = [*lexer, ";"]
    skip = False
    for token in tokens:
        if token not in (";", "&&", "||", "\n"):
            words.append(_expand(token, env, status))
            continue
        if words and not skip:
            outcome = run(words, fs, env, stdin=stdin, main=main, in_shell=True)
            out, err = out + outcome.stdout, err + outcome.stderr
            if outcome.exit_code is None:
                return Outcome(out, err, None, outcome.cpu_cores, outcome.memory_bytes)
            status = outcome.exit_code
            if words[0] == "exit":
                return Outcome(out, err, status)
        words = []
        skip = (token == "&&" and status != 0) or (token == "||" and status == 0)
    return Outcome(out, err, status)
