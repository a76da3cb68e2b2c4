"""Run the benchmarks: every ``benchmarks/*.py`` except this runner, or the ones named.

Usage::

    python benchmarks/run.py            # all of them, one after the other
    python benchmarks/run.py pki        # just benchmarks/pki.py (the .py is optional)

Each benchmark is its own process (so one's imports and caches do not help another) and prints
its figures next to a baseline measured in the same run. Benchmarks are not tests: nothing here
gates CI on absolute times. The exit code is non-zero only when a benchmark itself fails.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[Path]:
    return sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )


def select(names: list[str]) -> list[Path]:
    if not names:
        return available()
    chosen = []
    for name in names:
        path = HERE / (name if name.endswith(".py") else f"{name}.py")
        if not path.is_file() or path.name == Path(__file__).name:
            known = ", ".join(p.stem for p in available())
            raise SystemExit(f"error: no benchmark {name!r} (known: {known})")
        chosen.append(path)
    return chosen


def main(argv: list[str]) -> int:
    failures = 0
    for path in select(argv):
        print(f"=== {path.stem} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(path)], check=False)
        print(
            f"--- {path.stem}: exit {result.returncode} after {time.perf_counter() - started:.1f}s\n",
            flush=True,
        )
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
