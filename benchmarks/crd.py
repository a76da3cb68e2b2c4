"""Custom-object creates with CEL rules next to ConfigMap creates, and CEL next to a Python lambda.

One ``kubeward up`` (this checkout's ``src/``, on uvloop) serves two CRDs with the same
20-field schema: one with 5 CEL validation rules (``x-kubernetes-validations``) and one without.
N concurrent clients create objects over HTTPS with client certificates and keep-alive, taking
turns between ConfigMaps (the baseline), custom objects without rules and custom objects with
the 5 rules; each measurement is repeated ``--repeat`` times and medians are printed with the
ratios to ConfigMaps (the issue's aim: custom objects with rules at ≥ 0.7× ConfigMaps).

Then, in this process: evaluations per second of one typical rule through kubeward's CEL engine
(``kubeward.cel``, compiled once), next to the same rule as a Python lambda.

Usage: ``python benchmarks/crd.py [--quick]``. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop
from _servers import ROOT, Server, start_kubeward, temporary_directory  # type: ignore[import-not-found]

from kubeward.cel import Environment, types

JSON = {"Content-Type": "application/json"}
NAMES = itertools.count()
GROUP = "bench.example.com"
RULES = [
    {"rule": "self.minReplicas <= self.replicas", "message": "replicas below minimum"},
    {"rule": "self.replicas <= self.maxReplicas", "message": "replicas above maximum"},
    {"rule": "self.name.startsWith('svc-')", "message": "name must start with svc-"},
    {"rule": "self.ports.all(p, p > 0 && p < 65536)", "message": "bad port"},
    {"rule": "quantity(self.memory).isLessThan(quantity('64Gi'))", "message": "too much memory"},
]
TYPICAL_RULE = "self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas"


def twenty_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {
        "replicas": {"type": "integer"},
        "minReplicas": {"type": "integer"},
        "maxReplicas": {"type": "integer"},
        "name": {"type": "string", "maxLength": 63},
        "memory": {"type": "string", "maxLength": 16},
        "ports": {"type": "array", "maxItems": 16, "items": {"type": "integer"}},
    }
    for i in range(20 - len(fields)):
        fields[f"field{i}"] = {"type": "string", "maxLength": 64}
    return fields


def crd(plural: str, rules: list[dict[str, str]]) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "object", "properties": twenty_fields()}
    if rules:
        spec["x-kubernetes-validations"] = rules
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": plural.capitalize()[:-1]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}},
                }
            ],
        },
    }


def object_spec() -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": 3,
        "minReplicas": 1,
        "maxReplicas": 5,
        "name": "svc-web",
        "memory": "512Mi",
        "ports": [80, 443],
    }
    for i in range(14):
        spec[f"field{i}"] = f"value-{i}"
    return spec


def request(server: Server, method: str, path: str, body: object | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method, headers=JSON)
    try:
        with urllib.request.urlopen(req, context=server.context, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def install(server: Server, definition: dict[str, Any]) -> None:
    status = request(
        server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition
    )
    if status != 201:
        raise SystemExit(f"creating the CRD answered {status}")
    plural = definition["spec"]["names"]["plural"]
    deadline = time.monotonic() + 30
    while request(server, "GET", f"/apis/{GROUP}/v1/namespaces/default/{plural}") != 200:
        if time.monotonic() > deadline:
            raise SystemExit(f"{plural} was not served within 30s")
        time.sleep(0.05)


async def create_rate(
    server: Server, path: str, body_of: Any, clients: int, seconds: float
) -> float:
    done = 0
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=server.context, limit=clients)
    ) as session:
        stop = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                async with session.post(
                    server.url + path, data=orjson.dumps(body_of()), headers=JSON
                ) as response:
                    await response.read()
                    if response.status != 201:
                        raise SystemExit(f"create answered {response.status}")
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return done / (time.monotonic() - started)


def configmap() -> dict[str, Any]:
    return {"metadata": {"name": f"c-{next(NAMES)}"}, "data": {"k": "v" * 64}}


def custom(kind: str) -> Any:
    def body() -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/v1",
            "kind": kind,
            "metadata": {"name": f"o-{next(NAMES)}"},
            "spec": object_spec(),
        }

    return body


def evaluations_per_second(evaluate: Any, seconds: float) -> float:
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            evaluate()
        count += 200
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, once")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    repeat = 1 if args.quick else args.repeat
    rates: dict[str, list[float]] = {"configmaps": [], "plain": [], "rules": []}
    with temporary_directory() as tmp:
        server = start_kubeward("current", ROOT / "src", Path(tmp))
        try:
            install(server, crd("plainobjects", []))
            install(server, crd("ruledobjects", RULES))
            targets = {
                "configmaps": ("/api/v1/namespaces/default/configmaps", configmap),
                "plain": (
                    f"/apis/{GROUP}/v1/namespaces/default/plainobjects",
                    custom("Plainobject"),
                ),
                "rules": (
                    f"/apis/{GROUP}/v1/namespaces/default/ruledobjects",
                    custom("Ruledobject"),
                ),
            }
            for n in range(repeat):
                order = list(targets) if n % 2 == 0 else list(targets)[::-1]
                for label in order:
                    path, body_of = targets[label]
                    rates[label].append(
                        uvloop.run(create_rate(server, path, body_of, args.clients, seconds))
                    )
        finally:
            server.stop()
    base = statistics.median(rates["configmaps"])
    print(f"creates/s, {args.clients} clients, median of {repeat} x {seconds:.0f}s:")
    print(f"  ConfigMaps (baseline)                         {base:8.0f}/s")
    for label, text in (
        ("plain", "20-field schema, no rules"),
        ("rules", "20-field schema, 5 CEL rules"),
    ):
        got = statistics.median(rates[label])
        print(f"  custom objects, {text:29} {got:8.0f}/s  {got / base:.2f}x")

    env = Environment({"self": types.DYN})
    program = env.compile(TYPICAL_RULE)
    value = object_spec()
    rule_rate = evaluations_per_second(
        lambda: program.evaluate({"self": value}), 1.0 if args.quick else 3.0
    )
    lam = lambda s: s["minReplicas"] <= s["replicas"] <= s["maxReplicas"]  # noqa: E731
    lambda_rate = evaluations_per_second(lambda: lam(value), 1.0 if args.quick else 3.0)
    print(f"evaluations/s of `{TYPICAL_RULE}`:")
    print(f"  Python lambda (baseline)  {lambda_rate:12,.0f}/s")
    print(f"  kubeward.cel              {rule_rate:12,.0f}/s  {rule_rate / lambda_rate:.3f}x")


if __name__ == "__main__":
    main()
