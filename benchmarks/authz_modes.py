"""Decisions per second of the ABAC and Webhook authorization modes, each next to RBAC's.

One policy, written three ways: ``user-I`` may get, list and watch pods in namespace
``ns-(I mod 50)`` — as ``--users`` ABAC lines (default 1,000: "a line per user", the course's
"tougher with more users"), as the same number of RoleBindings to one ClusterRole (RBAC), and as
the answer of a policy service speaking SubjectAccessReview v1 over mutual TLS
(``_policy_server.py``, its own process: the Webhook mode's remote, as an OPA would be). The
requests are half allowed (a user's own namespace) and half refused (the next namespace); every
mode's decisions are checked against the policy before anything is timed.

* Direct: the authorizers called in this process, decisions per second, best of interleaved
  rounds — RBAC (``RBACAuthorizer`` over ``RBACIndex``), ABAC (``ABACAuthorizer`` over the
  file), Webhook cached (every request answered before: the 5 m / 30 s caches) and uncached (the
  caches' TTLs 0, so every decision is a round trip; one caller, then ``--concurrency``).
* Through the API server: ``kubeward up`` with ``--authorization-mode`` RBAC (the baseline,
  run first and last), ``ABAC,RBAC``, ``Webhook,RBAC`` and ``Webhook,RBAC`` with both cache
  TTLs ``0s`` (no cache, as kube-apiserver reads it), one after the other, each holding the same RoleBindings; ``--concurrency``
  clients POST SubjectAccessReviews over HTTPS. In the chains a refusal falls through to
  RBAC, which refuses too, as kube-apiserver chains them.

* ValidatingAdmissionPolicy: the 5-rule policy of ``benchmarks/admission_policy.py`` deciding
  Deployment creates (half refused), timed in the same interleaved rounds as the direct calls.

Usage: ``python benchmarks/authz_modes.py [--quick] [--users N]``. Not a test: nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import admission_policy  # type: ignore[import-not-found]
import aiohttp
import orjson
from _policy_server import NAMESPACES, READ, allowed, own_namespace  # type: ignore[import-not-found]
from _servers import (  # type: ignore[import-not-found]
    HERE,
    ROOT,
    Server,
    start_kubeward,
    temporary_directory,
)

from kubeward.api.user import ALL_AUTHENTICATED, UserInfo
from kubeward.authz.abac.authorizer import ABACAuthorizer
from kubeward.authz.interfaces import Attributes, Decision
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.webhook.authorizer import WebhookAuthorizer, WebhookSettings
from kubeward.client.webhook import WebhookClient

RBAC = "rbac.authorization.k8s.io"
JSON = {"Content-Type": "application/json"}


# --- the policy, three ways ------------------------------------------------------------------
def abac_lines(users: int) -> str:
    return "".join(
        orjson.dumps(
            {
                "apiVersion": "abac.authorization.kubernetes.io/v1beta1",
                "kind": "Policy",
                "spec": {
                    "user": f"user-{i}",
                    "namespace": own_namespace(i),
                    "resource": "pods",
                    "apiGroup": "",
                    "readonly": True,
                },
            }
        ).decode()
        + "\n"
        for i in range(users)
    )


POD_READER = {
    "apiVersion": f"{RBAC}/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "benchmark-pod-reader"},
    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": list(READ)}],
}


def role_binding(i: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"user-{i}", "namespace": own_namespace(i)},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "benchmark-pod-reader"},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": f"user-{i}"}],
    }


def requests_for(users: int, count: int, seed: int = 5) -> list[Attributes]:
    """Half allowed (own namespace), half refused (the next one); verbs get/list/watch."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        i = rng.randrange(users)
        namespace = own_namespace(i if n % 2 == 0 else i + 1)
        user = UserInfo(f"user-{i}", groups=(ALL_AUTHENTICATED,))
        out.append(Attributes(user, READ[n % 3], namespace=namespace, resource="pods"))
    return out


def review(a: Attributes) -> dict[str, Any]:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": a.user.name,
            "groups": list(a.user.groups),
            "resourceAttributes": {"namespace": a.namespace, "verb": a.verb, "resource": "pods"},
        },
    }


def expected(a: Attributes) -> bool:
    return allowed(review(a)["spec"])


# --- direct calls ----------------------------------------------------------------------------
def rate(
    decide: Callable[[Attributes], object], requests: list[Attributes], budget: float
) -> float:
    done = 0
    start = time.perf_counter()
    while True:
        for a in requests:
            decide(a)
            done += 1
        if time.perf_counter() - start >= budget:
            return done / (time.perf_counter() - start)


async def async_rate(
    decide: Callable[[Attributes], Awaitable[object]],
    requests: list[Attributes],
    budget: float,
    callers: int,
) -> float:
    done = [0]
    stop = time.perf_counter() + budget
    start = time.perf_counter()

    async def caller(offset: int) -> None:
        n = offset
        while time.perf_counter() < stop:
            await decide(requests[n % len(requests)])
            n += callers
            done[0] += 1

    await asyncio.gather(*(caller(i) for i in range(callers)))
    return done[0] / (time.perf_counter() - start)


@contextlib.contextmanager
def policy_server(directory: Path) -> Iterator[Path]:
    directory.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    process = subprocess.Popen(
        [sys.executable, str(HERE / "_policy_server.py"), str(directory)],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise SystemExit("the policy server did not start")
        yield directory / "webhook.kubeconfig"
    finally:
        process.terminate()
        process.wait(timeout=30)


def check(name: str, decide: Callable[[Attributes], bool], requests: list[Attributes]) -> None:
    for a in requests:
        if decide(a) != expected(a):
            raise SystemExit(f"{name} decided {a} wrongly")


async def direct(
    users: int, workdir: Path, kubeconfig: Path, budget: float, concurrency: int
) -> list[str]:
    requests = requests_for(users, 400)
    policy_file = workdir / "abac.jsonl"
    policy_file.write_text(abac_lines(users))
    abac = ABACAuthorizer(policy_file)
    index = RBACIndex()
    index.load([POD_READER, *(role_binding(i) for i in range(users))])
    rbac = RBACAuthorizer(index)
    cached_client = WebhookClient(kubeconfig, user_agent="kube-apiserver")
    uncached_client = WebhookClient(kubeconfig, user_agent="kube-apiserver")
    cached = WebhookAuthorizer(cached_client, WebhookSettings(version="v1"))
    uncached = WebhookAuthorizer(
        uncached_client, WebhookSettings(version="v1", authorized_ttl=0, unauthorized_ttl=0)
    )
    try:
        check("RBAC", lambda a: rbac.authorize(a).decision is Decision.ALLOW, requests)
        check("ABAC", lambda a: abac.authorize(a).decision is Decision.ALLOW, requests)
        for a in requests:  # fills the cache, and checks the remote's answers
            for webhook in (cached, uncached):
                result = await webhook.authorize_async(a)
                if result.error or result.allowed != expected(a):
                    raise SystemExit(f"Webhook decided {a} wrongly: {result}")

        async def cached_decide(a: Attributes) -> object:
            return await cached.authorize_async(a)

        async def uncached_decide(a: Attributes) -> object:
            return await uncached.authorize_async(a)

        admissions = [admission_policy.request(i, matched=True) for i in range(200)]
        best: dict[str, float] = dict.fromkeys(
            ["RBAC", "ABAC", "cached", "uncached-1", f"uncached-{concurrency}", "VAP"], 0.0
        )
        rounds = 3
        for _ in range(rounds):  # interleaved: a busy machine slows all of them alike
            best["RBAC"] = max(best["RBAC"], rate(rbac.authorize, requests, budget / rounds))
            best["ABAC"] = max(best["ABAC"], rate(abac.authorize, requests, budget / rounds))
            best["cached"] = max(
                best["cached"], await async_rate(cached_decide, requests, budget / rounds, 1)
            )
            vap, refused = await admission_policy.policy_rate(admissions, budget / rounds)
            best["VAP"] = max(best["VAP"], vap)
            for callers in (1, concurrency):
                label = f"uncached-{callers}"
                best[label] = max(
                    best[label],
                    await async_rate(uncached_decide, requests, budget / rounds, callers),
                )
    finally:
        await cached_client.close()
        await uncached_client.close()
    r = best["RBAC"]
    lines = [
        f"direct calls, {users:,} users, best of {rounds} interleaved rounds (ratio to RBAC):",
        f"  RBAC ({users:,} RoleBindings)       {r:>12,.0f} decisions/s",
        f"  ABAC ({users:,} lines)              {best['ABAC']:>12,.0f} decisions/s"
        f"  {best['ABAC'] / r:.3f}x",
        f"  Webhook, cached                  {best['cached']:>12,.0f} decisions/s"
        f"  {best['cached'] / r:.3f}x",
    ]
    for callers in (1, concurrency):
        value = best[f"uncached-{callers}"]
        lines.append(
            f"  Webhook, uncached, {callers:>2} caller(s)   {value:>12,.0f} decisions/s"
            f"  {value / r:.4f}x  (mTLS round trip to the policy process)"
        )
    lines.append(
        f"  ValidatingAdmissionPolicy, 5 rules {best['VAP']:>10,.0f} decisions/s"
        f"  {best['VAP'] / r:.3f}x  ({refused}/{len(admissions)} creates refused)"
    )
    return lines


# --- through the API server -------------------------------------------------------------------
async def populate_rbac(server: Server, users: int) -> None:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=server.context, limit=16)
    ) as session:

        async def post(path: str, obj: dict[str, Any]) -> None:
            async with session.post(
                server.url + path, data=orjson.dumps(obj), headers=JSON
            ) as response:
                await response.read()
                if response.status != 201:
                    raise SystemExit(f"POST {path}: HTTP {response.status}")

        for ns in range(NAMESPACES):
            await post("/api/v1/namespaces", {"metadata": {"name": f"ns-{ns}"}})
        await post(f"/apis/{RBAC}/v1/clusterroles", POD_READER)
        queue = list(range(users))

        async def creator() -> None:
            while queue:
                i = queue.pop()
                await post(
                    f"/apis/{RBAC}/v1/namespaces/{own_namespace(i)}/rolebindings", role_binding(i)
                )

        await asyncio.gather(*(creator() for _ in range(16)))


async def sar_rate(
    server: Server, requests: list[Attributes], seconds: float, clients: int
) -> float:
    bodies = [(orjson.dumps(review(a)), expected(a)) for a in requests]
    url = f"{server.url}/apis/authorization.k8s.io/v1/subjectaccessreviews"
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=server.context, limit=clients)
    ) as session:

        async def one(n: int) -> None:
            body, wanted = bodies[n % len(bodies)]
            async with session.post(url, data=body, headers=JSON) as response:
                answer = orjson.loads(await response.read())
                if response.status != 201 or answer["status"].get("allowed", False) != wanted:
                    raise SystemExit(f"SubjectAccessReview {n}: {response.status} {answer}")

        for n in range(len(bodies)):  # checks every decision, and warms the caches
            await one(n)
        done = [0]
        stop = time.perf_counter() + seconds
        start = time.perf_counter()

        async def client(offset: int) -> None:
            n = offset
            while time.perf_counter() < stop:
                await one(n)
                n += clients
                done[0] += 1

        await asyncio.gather(*(client(i) for i in range(clients)))
        return done[0] / (time.perf_counter() - start)


def through_server(
    users: int, workdir: Path, kubeconfig: Path, seconds: float, clients: int
) -> list[str]:
    requests = requests_for(users, 400, seed=9)
    policy_file = workdir / "abac.jsonl"
    webhook = ("--authorization-webhook-config-file", str(kubeconfig))
    webhook += ("--authorization-webhook-version", "v1")
    uncached = (
        "--authorization-webhook-cache-authorized-ttl",
        "0s",
        "--authorization-webhook-cache-unauthorized-ttl",
        "0s",
    )
    abac = ("--authorization-mode", "ABAC,RBAC", "--authorization-policy-file", str(policy_file))
    setups: list[tuple[str, tuple[str, ...]]] = [
        ("RBAC", ("--authorization-mode", "RBAC")),
        ("ABAC,RBAC", abac),
        ("Webhook,RBAC cached", ("--authorization-mode", "Webhook,RBAC", *webhook)),
        ("Webhook,RBAC uncached", ("--authorization-mode", "Webhook,RBAC", *webhook, *uncached)),
        ("RBAC again", ("--authorization-mode", "RBAC")),
    ]
    rates: dict[str, float] = {}
    for n, (label, flags) in enumerate(setups):
        server = start_kubeward(f"sar-{n}", ROOT / "src", workdir, flags)
        try:  # every server holds the bindings: RBAC decides what the first mode leaves
            asyncio.run(populate_rbac(server, users))
            rates[label] = asyncio.run(sar_rate(server, requests, seconds, clients))
        finally:
            server.stop()
        print(f"  ({label}: {rates[label]:,.0f}/s)", file=sys.stderr)
    base = (rates["RBAC"] + rates["RBAC again"]) / 2
    lines = [
        f"SubjectAccessReview over HTTPS, kubeward up, {clients} clients, {seconds:.0f} s each"
        " (every server holds the RoleBindings; ratio to the mean of the two RBAC runs):",
        f"  RBAC ({users:,} RoleBindings), first  {rates['RBAC']:>10,.0f} decisions/s",
        f"  RBAC, last                         {rates['RBAC again']:>10,.0f} decisions/s",
    ]
    for label in list(rates)[1:-1]:
        lines.append(
            f"  {label:<32} {rates[label]:>12,.0f} decisions/s  {rates[label] / base:.3f}x"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--users", type=int, default=1000, help="ABAC lines / RoleBindings")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent callers")
    args = parser.parse_args()
    budget = 1.5 if args.quick else 6.0
    seconds = 2.0 if args.quick else 8.0
    with temporary_directory() as tmp:
        workdir = Path(tmp)
        with policy_server(workdir / "policy") as kubeconfig:
            lines = asyncio.run(direct(args.users, workdir, kubeconfig, budget, args.concurrency))
            print("\n".join(lines), flush=True)
            lines = through_server(args.users, workdir, kubeconfig, seconds, args.concurrency)
            print("\n".join(lines))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
