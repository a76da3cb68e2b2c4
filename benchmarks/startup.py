"""``kubeward up`` start-up: from the process's start to its "kubeward is up" line, next to the
same figure for another revision (``--compare``, default ``HEAD~1``) measured in the same run.

``kubeward up`` says it is up once the API server serves and the controller-manager has given
the initial namespaces their ``default`` service account (the serviceaccount controller runs in
the controller-manager, as in Kubernetes). Each revision starts alternately, ``--repeat`` times,
on a cold data directory (the PKI is made) and then on the same, warm, directory; the medians
are printed with their ratio to the other revision's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _servers import ROOT, describe, free_port, source_tree_at, temporary_directory

UP_LINE = b"kubeward is up"


def time_up(src: Path, data_dir: Path) -> float:
    """Seconds from spawning ``kubeward up`` to its "kubeward is up" line; then stops it."""
    env = dict(os.environ, PYTHONPATH=str(src), PYTHONWARNINGS="ignore")
    args = [sys.executable, "-m", "kubeward", "up", "--data-dir", str(data_dir)]
    started = time.monotonic()
    process = subprocess.Popen(
        [*args, "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.startswith(UP_LINE):
                return time.monotonic() - started
        raise SystemExit(f"kubeward up ({src}) exited with {process.wait()} before it was up")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", default="HEAD~1", help="git revision of the other start-up")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with temporary_directory() as tmp:
        work = Path(tmp)
        sources = {"current": ROOT / "src", "previous": source_tree_at(args.compare, work / "p")}
        cold: dict[str, list[float]] = {label: [] for label in sources}
        warm: dict[str, list[float]] = {label: [] for label in sources}
        for n in range(args.repeat):
            for label, src in sources.items():
                data_dir = work / f"data-{label}-{n}"
                cold[label].append(time_up(src, data_dir))
                warm[label].append(time_up(src, data_dir))
    print(f"previous: {describe(args.compare)}")
    for what, figures in (("cold (PKI made)", cold), ("warm directory", warm)):
        current = statistics.median(figures["current"])
        previous = statistics.median(figures["previous"])
        print(
            f"kubeward up, {what}: current {current:.2f} s, previous {previous:.2f} s"
            f" (median of {args.repeat}; {current / previous:.2f}x the previous)"
        )


if __name__ == "__main__":
    main()
