"""A long fuzzing campaign against a fresh kubeward server: ``python tools/fuzz_api.py 20000``.

Runs the fuzzer of ``tests/integration/api_fuzz.py`` (the same one CI runs with a few hundred
examples) for N examples over real TLS on 127.0.0.1, then prints the number of examples, the
histogram of response codes, the 5xx answers and the refused requests that changed something
stored. Exits 1 when any property failed.

Usage: PYTHONPATH=src python3 tools/fuzz_api.py [N] [--seed S] [--show K]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

from api_fuzz import Bodies, Fuzzer, Request, csr_pem
from hypothesis import HealthCheck, Phase, given, seed, settings

from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.testing import running_cluster


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", type=int, nargs="?", default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=10, help="failures to print in full")
    args = parser.parse_args()
    started = time.monotonic()
    with running_cluster(controller_manager=False) as cluster:
        credentials = ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig)
        fuzz = Fuzzer(cluster.port, credentials.ssl_context)
        csr = csr_pem()
        fuzz.setup(csr)
        bodies = Bodies(csr)

        @seed(args.seed)
        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(request=bodies.requests())
        def run(request: Request) -> None:
            fuzz.check(request)
            if fuzz.tally.examples % 1000 == 0:
                print(f"  {fuzz.tally.summary()}", flush=True)

        try:
            run()
        finally:
            fuzz.check_ready()
            fuzz.close()
    tally = fuzz.tally
    print(f"{tally.summary()} in {time.monotonic() - started:.0f} s")
    print("by target:", dict(sorted(tally.by_target.items())))
    for request, status, body in tally.server_errors[: args.show]:
        print(f"5xx {status} {request.method} {request.path} {request.content_type}")
        print(f"    body: {request.body[:300]!r}\n    answer: {body[:300]!r}")
    for request, status in tally.stored_changes[: args.show]:
        print(f"changed by a refused request ({status}): {request.method} {request.path}")
        print(f"    body: {request.body[:300]!r}")
    failed = tally.server_errors or tally.stored_changes or tally.not_ready
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
