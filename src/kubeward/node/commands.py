"""The few programs a simulated container can run, with busybox's output and exit codes.

kubeward runs no images; a container's ``command``/``args`` (and ``kubectl exec``'s command,
and an exec probe's) is interpreted here. Rules:
 1. No command at all is the image's own long-running server: it runs until stopped.
 2. ``sleep N`` (seconds, or busybox's ``s``/``m``/``h``/``d`` suffixes, or ``infinity``) takes
    N seconds of the clock the process runs on (``Process``); ``exit N`` ends with N.
    ``echo [-n] ARGS`` prints them. ``cat [FILES]`` prints files (stdin without any), ``ls
    [PATHS]`` lists directories one name a line, ``env`` prints the environment, ``true`` and
    ``false``; ``touch``, ``mkdir [-p]`` and ``rm [-r] [-f]`` change the container's filesystem
    (shared with every exec into it); missing files are busybox's messages with exit 1.
 3. ``sh -c SCRIPT`` (also ``/bin/sh``, ``bash``) runs SCRIPT's commands separated by ``;``,
    newlines, ``&&`` and ``||`` with ``$VAR``/``${VAR}`` expansion; ``>&2`` sends a command's
    output to stderr; the script's status is the last one's.
 3a. ``nc -l [-k] -p PORT -e cat`` (busybox's netcat serving ``cat``) is an echo server on
    PORT: it runs until stopped, and what a port-forwarded connection sends it comes back
    (:func:`echo_port`).
 4. Anything else is not found: ``sh: NAME: not found`` and 127 in a shell; as a process of
    its own the runtime's ``exec: "NAME": executable file not found in $PATH`` and 127.
 5. Load, for ``kubectl top`` and the horizontal pod autoscaler: a busy loop (``sh -c 'while
    true; do :; done'``, also ``while :``) runs until stopped using one core; the same loop
    with a ``sleep`` in its body runs idle. ``stress --cpu N [--vm N --vm-bytes SIZE]
    [--timeout T]`` (also ``stress-ng``, ``-c``/``-m``/``-t``) prints its ``dispatching hogs``
    line and uses N cores and N×SIZE bytes (256M by default) until stopped, or for T (``60``,
    ``60s``, ``2m``) and then ends with 0 as ``successful run completed in Ts``. What a process
    uses is on its ``Output``; the container's usage is capped by its limits
    (``node.kubelet_api``).

A program is a generator that yields the seconds it sleeps (``math.inf``: until stopped) and
returns its exit code; ``Process`` drives one on a clock, ``run`` to its end at once.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import shlex
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from kubeward.node.filesystem import FileSystem, normalise

NOT_FOUND = 127
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_STDOUT_FD = re.compile(r"(?<!\w)1>&")
_SLEEP_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SHELLS = ("sh", "bash", "ash")
_LOOP = re.compile(r"^\s*while\s+(?:true|:)\s*;?\s*do\b(?P<body>.*?);?\s*done\s*;?\s*$", re.S)
_SIZE = re.compile(r"^(\d+)([bBkKmMgG]?)$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
STRESS_VM_BYTES = 256 * 1024**2
Program = Generator[float, None, int]


@dataclass(frozen=True)
class Outcome:
    """What a program did: its output, and its exit code (None: it runs until stopped)."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = 0


RUNS = Outcome(exit_code=None)


@dataclass
class Output:
    """Where a program writes; ``on_write`` sees each write as it happens (the container log).
    It also carries what the program uses while it runs (rule 5)."""

    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    on_write: Callable[[bytes], None] | None = None
    cpu_cores: float = 0.0
    memory_bytes: int = 0

    def out(self, data: bytes) -> None:
        self.stdout += data
        if self.on_write is not None and data:
            self.on_write(data)

    def err(self, data: bytes) -> None:
        self.stderr += data
        if self.on_write is not None and data:
            self.on_write(data)


def _base(program: str) -> str:
    return os.path.basename(program)


def _cat(args: list[str], fs: FileSystem, stdin: bytes, out: Output) -> int:
    if not args:
        out.out(stdin)
        return 0
    code = 0
    for name in args:
        if fs.is_dir(name):
            out.err(b"cat: read error: Is a directory\n")
            code = 1
            continue
        data = fs.read(name)
        if data is None:
            out.err(f"cat: can't open '{name}': No such file or directory\n".encode())
            code = 1
        else:
            out.out(data)
    return code


def _ls(args: list[str], fs: FileSystem, out: Output) -> int:
    paths = [a for a in args if not a.startswith("-")] or ["."]
    lines, code = [], 0
    for path in paths:
        names = fs.listing(normalise(path))
        if names is None:
            if fs.read(path) is not None:
                lines.append(path)
                continue
            out.err(f"ls: {path}: No such file or directory\n".encode())
            code = 1
            continue
        if len(paths) > 1:
            lines.append(f"{path}:")
        lines.extend(names)
    out.out("".join(f"{line}\n" for line in lines).encode())
    return code


def _parent_exists(fs: FileSystem, path: str) -> bool:
    parent = os.path.dirname(normalise(path))
    return parent == "/" or fs.is_dir(parent)


def _touch(args: list[str], fs: FileSystem, out: Output) -> int:
    code = 0
    for name in (a for a in args if not a.startswith("-")):
        if fs.is_dir(name) or fs.read(name) is not None:
            continue
        if not _parent_exists(fs, name):
            out.err(f"touch: {name}: No such file or directory\n".encode())
            code = 1
            continue
        fs.write(name, b"")
    return code


def _mkdir(args: list[str], fs: FileSystem, out: Output) -> int:
    parents = any(a.startswith("-") and "p" in a for a in args)
    code = 0
    for name in (a for a in args if not a.startswith("-")):
        exists = fs.is_dir(name) or fs.read(name) is not None
        if exists and parents:
            continue
        if exists or (not parents and not _parent_exists(fs, name)):
            why = "File exists" if exists else "No such file or directory"
            out.err(f"mkdir: can't create directory '{name}': {why}\n".encode())
            code = 1
            continue
        path = normalise(name)
        while path != "/":
            fs.make_directory(path)
            path = os.path.dirname(path)
    return code


def _rm(args: list[str], fs: FileSystem, out: Output) -> int:
    flags = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
    force, recursive = "f" in flags, "r" in flags or "R" in flags
    code = 0
    for name in (a for a in args if not a.startswith("-")):
        if fs.is_dir(name) and not recursive:
            out.err(f"rm: '{name}' is a directory\n".encode())
            code = 1
            continue
        if not fs.remove(name) and not force:
            out.err(f"rm: can't remove '{name}': No such file or directory\n".encode())
            code = 1
    return code


def sleep_seconds(args: list[str]) -> float | None:
    """Rule 2: the seconds ``sleep ARGS`` takes (summed, as busybox does); None when invalid."""
    total = 0.0
    for arg in args:
        if arg in ("inf", "infinity"):
            return math.inf
        match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if match is None:
            return None
        total += float(match.group(1)) * _SLEEP_UNITS[match.group(2)]
    return total if args else None


def _stress_options(name: str, args: list[str], out: Output) -> tuple[int, int, int, float] | None:
    """Rule 5: (cpu hogs, vm hogs, bytes per vm hog, timeout seconds or inf), or None after a
    FAIL."""
    cpu = vm = 0
    vm_bytes, timeout = STRESS_VM_BYTES, math.inf
    pairs = {"--cpu": "cpu", "-c": "cpu", "--vm": "vm", "-m": "vm", "--vm-bytes": "bytes"}
    pairs |= {"--timeout": "timeout", "-t": "timeout", "--io": "", "-i": ""}
    i = 0
    while i < len(args):
        what = pairs.get(args[i])
        value = args[i + 1] if i + 1 < len(args) else ""
        i += 1 if what is None else 2
        size = _SIZE.match(value)
        if what in ("cpu", "vm") and not value.isdigit():
            out.err(f"{name}: FAIL: invalid number '{value}'\n".encode())
            return None
        if what == "cpu":
            cpu = int(value)
        elif what == "vm":
            vm = int(value)
        elif what == "bytes":
            if size is None:
                out.err(f"{name}: FAIL: invalid size '{value}'\n".encode())
                return None
            vm_bytes = int(size.group(1)) * _SIZE_UNITS[size.group(2).lower()]
        elif what == "timeout":
            seconds = sleep_seconds([value])
            if seconds is None:
                out.err(f"{name}: FAIL: invalid time '{value}'\n".encode())
                return None
            timeout = seconds
    return cpu, vm, vm_bytes, timeout


def _stress(name: str, args: list[str], out: Output) -> Program:
    """Rule 5 for ``stress``/``stress-ng``."""
    options = _stress_options(name, args, out)
    if options is None:
        return 1
    cpu, vm, vm_bytes, timeout = options
    memory = vm * vm_bytes
    out.out(f"{name}: info: [1] dispatching hogs: {cpu} cpu, 0 io, {vm} vm, 0 hdd\n".encode())
    out.cpu_cores, out.memory_bytes = out.cpu_cores + cpu, out.memory_bytes + memory
    try:
        yield timeout
    finally:
        out.cpu_cores, out.memory_bytes = out.cpu_cores - cpu, out.memory_bytes - memory
    out.out(f"{name}: info: [1] successful run completed in {timeout:g}s\n".encode())
    return 0


def _loop(body: str, out: Output) -> Program:
    """Rule 5 for ``while true; do BODY; done``: idle when BODY sleeps, else one core."""
    busy = re.search(r"(^|[;&|\s])sleep\b", body) is None
    if busy:
        out.cpu_cores += 1.0
    try:
        yield math.inf
    finally:
        if busy:
            out.cpu_cores -= 1.0
    return 0


def program(
    argv: list[str],
    fs: FileSystem,
    env: dict[str, str],
    out: Output,
    *,
    stdin: bytes = b"",
    in_shell: bool = False,
) -> Program:
    """Rules 1-4 for one program."""
    if not argv:
        yield math.inf
        return 0
    name, args = _base(argv[0]), argv[1:]
    if name in _SHELLS and len(args) >= 2 and args[0] == "-c":
        return (yield from script(args[1], fs, env, out, stdin=stdin))
    if name in _SHELLS and not args:
        return (yield from script(stdin.decode(errors="replace"), fs, env, out))
    if name == "sleep":
        seconds = sleep_seconds(args)
        if seconds is None:
            out.err(f"sleep: invalid number '{' '.join(args)}'\n".encode())
            return 1
        if seconds > 0:
            yield seconds
        return 0
    if name == "nc" and echo_port(argv) is not None:
        yield math.inf
        return 0
    if name in ("stress", "stress-ng"):
        return (yield from _stress(name, args, out))
    if name == "exit":
        try:
            return int(args[0]) % 256 if args else 0
        except ValueError:
            out.err(b"sh: exit: Illegal number\n")
            return 2
    simple: dict[str, Callable[[], int]] = {
        "true": lambda: 0,
        "false": lambda: 1,
        "cat": lambda: _cat(args, fs, stdin, out),
        "ls": lambda: _ls(args, fs, out),
        "touch": lambda: _touch(args, fs, out),
        "mkdir": lambda: _mkdir(args, fs, out),
        "rm": lambda: _rm(args, fs, out),
    }
    if name in simple:
        return simple[name]()
    if name == "echo":
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        out.out((" ".join(args) + ("\n" if newline else "")).encode())
        return 0
    if name in ("env", "printenv"):
        out.out("".join(f"{k}={v}\n" for k, v in env.items()).encode())
        return 0
    if in_shell:
        out.err(f"sh: {argv[0]}: not found\n".encode())
        return NOT_FOUND
    out.err(f'exec: "{argv[0]}": executable file not found in $PATH\n'.encode())
    return NOT_FOUND


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


def _to_stderr(out: Output) -> Output:
    """``>&2``: an Output whose stdout is ``out``'s stderr (the log still sees every write)."""
    return Output(stdout=out.stderr, stderr=out.stderr, on_write=out.on_write)


def _expand(word: str, env: dict[str, str], status: int) -> str:
    word = word.replace("$?", str(status))
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), word)


def script(
    text: str, fs: FileSystem, env: dict[str, str], out: Output, *, stdin: bytes = b""
) -> Program:
    """Rules 3 and 5."""
    loop = _LOOP.match(text)
    if loop is not None:
        return (yield from _loop(loop.group("body"), out))
    text = _STDOUT_FD.sub(">&", text)  # ``1>&2`` is ``>&2``
    lexer = shlex.shlex(text.replace("\n", ";"), posix=True, punctuation_chars=";&|>")
    lexer.whitespace_split = True
    status = 0
    words: list[str] = []
    skip = False
    to_stderr = redirect = False  # ``>&2``: this command's stdout goes to stderr
    for token in [*lexer, ";"]:
        if redirect:
            to_stderr, redirect = token == "2", False
            continue
        if token == ">&":
            redirect = True
            continue
        if token not in (";", "&&", "||", ";;"):
            words.append(_expand(token, env, status))
            continue
        if words and not skip:
            target = _to_stderr(out) if to_stderr else out
            status = yield from program(words, fs, env, target, stdin=stdin, in_shell=True)
            if words[0] == "exit":
                return status
        words, to_stderr = [], False
        skip = (token == "&&" and status != 0) or (token == "||" and status == 0)
    return status


class Process:
    """A program running on a clock: it advances to ``now``, sleeping as it goes.

    ``wake_at`` is when it next does something (None: it has ended, or sleeps until stopped);
    ``now`` is the moment it has run up to, when its writes happen.
    """

    def __init__(
        self,
        argv: list[str],
        fs: FileSystem,
        env: dict[str, str],
        started: datetime.datetime,
        *,
        stdin: bytes = b"",
        on_write: Callable[[datetime.datetime, bytes], None] | None = None,
    ) -> None:
        self.now = started
        self.wake_at: datetime.datetime | None = started
        self.exit_code: int | None = None
        writer = None if on_write is None else (lambda data: on_write(self.now, data))
        self.output = Output(on_write=writer)
        self._program = program(argv, fs, env, self.output, stdin=stdin)
        self.advance(started)

    @property
    def running(self) -> bool:
        return self.exit_code is None

    def advance(self, now: datetime.datetime) -> None:
        while self.exit_code is None and self.wake_at is not None and self.wake_at <= now:
            self.now = self.wake_at
            try:
                seconds = next(self._program)
            except StopIteration as stop:
                self.exit_code, self.wake_at = int(stop.value), None
                return
            self.wake_at = (
                None if math.isinf(seconds) else self.now + datetime.timedelta(seconds=seconds)
            )

    def kill(self, code: int, at: datetime.datetime) -> None:
        """Stopped from outside (SIGKILL: 137)."""
        if self.exit_code is None:
            self._program.close()
            self.now, self.exit_code, self.wake_at = at, code, None


def run(argv: list[str], fs: FileSystem, env: dict[str, str], *, stdin: bytes = b"") -> Outcome:
    """Run a program to its end at once, its sleeps taking no time; exit None if it never ends."""
    out = Output()
    steps = program(argv, fs, env, out, stdin=stdin)
    try:
        while True:
            if math.isinf(next(steps)):
                steps.close()
                return Outcome(bytes(out.stdout), bytes(out.stderr), None)
    except StopIteration as stop:
        return Outcome(bytes(out.stdout), bytes(out.stderr), int(stop.value))
