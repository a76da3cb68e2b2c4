"""Benchmark: the NetworkPolicy truth table against a straightforward per-pair evaluation.

The inventory: 1,000 pods in 50 namespaces under 200 NetworkPolicies (default-deny, same-
namespace allows, cross-namespace selectors, AND-ed peers, ipBlocks, named ports, port ranges,
egress rules), probed on two ports (80/TCP and 5432/TCP).

 * kubeward: ``Evaluator`` + ``build_truth_table`` (selectors matched once per (selector,
   namespace), then bitmask arithmetic), including building the evaluator.
 * baseline: ``kubeward.netpol.reference.is_allowed`` for every cell, which re-matches every
   selector for every pair, as a straightforward implementation does.

The baseline is slow enough that by default it runs on an evenly spread sample of source rows
and its time is scaled to the full table (said so in the output); ``--full`` runs all of it.
Every sampled cell is also checked to agree with kubeward's table.

Run: ``PYTHONPATH=src python benchmarks/netpol.py [--full] [--rows N]``
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import time

from kubeward.api.selectors import LabelSelector
from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.matrix import Probe, build_truth_table
from kubeward.netpol.model import (
    EGRESS,
    INGRESS,
    ContainerPort,
    Inventory,
    IPBlock,
    Namespace,
    NetworkPolicy,
    Peer,
    Pod,
    PolicyPort,
    Rule,
)
from kubeward.netpol.reference import is_allowed

NAMESPACES = 50
PODS_PER_NAMESPACE = 20
POLICIES_PER_NAMESPACE = 4
APPS = ("web", "api", "db", "cache", "worker")
TEAMS = ("blue", "green", "red", "gold")


def sel(**labels: str) -> LabelSelector:
    return LabelSelector.from_dict({"matchLabels": labels})


def build_inventory(seed: int = 7) -> Inventory:
    rng = random.Random(seed)
    namespaces = []
    pods = []
    policies = []
    for n in range(NAMESPACES):
        ns = f"ns-{n:02d}"
        team = TEAMS[n % len(TEAMS)]
        namespaces.append(Namespace.with_name_label(ns, {"team": team, "tier": str(n % 3)}))
        for p in range(PODS_PER_NAMESPACE):
            app = APPS[p % len(APPS)]
            ports = (
                ContainerPort(80, "TCP", "http"),
                ContainerPort(5432 if app == "db" else 8080, "TCP", "db" if app == "db" else "alt"),
            )
            pods.append(
                Pod(
                    ns,
                    f"{app}-{p:02d}",
                    {"app": app, "release": f"r{p % 3}"},
                    ipaddress.ip_address(f"10.{n}.{p // 250}.{p % 250 + 1}"),
                    ports,
                )
            )
        other_team = TEAMS[(n + 1) % len(TEAMS)]
        policies.extend(
            [
                NetworkPolicy(ns, "default-deny", policy_types=(INGRESS,)),
                NetworkPolicy(
                    ns,
                    "web-from-anywhere-in-team",
                    sel(app="web"),
                    (INGRESS,),
                    ingress=(
                        Rule(
                            (Peer(namespace_selector=sel(team=team)),),
                            (PolicyPort("TCP", "http"),),
                        ),
                        Rule(
                            (
                                Peer(
                                    ip_block=IPBlock(
                                        ipaddress.ip_network("0.0.0.0/0"),
                                        (ipaddress.ip_network("10.0.0.0/8"),),
                                    )
                                ),
                            )
                        ),
                    ),
                ),
                NetworkPolicy(
                    ns,
                    "db-from-api",
                    sel(app="db"),
                    (INGRESS, EGRESS),
                    ingress=(
                        Rule(
                            (
                                Peer(pod_selector=sel(app="api")),
                                Peer(
                                    pod_selector=sel(app="worker"),
                                    namespace_selector=sel(team=other_team),
                                ),
                            ),
                            (PolicyPort("TCP", 5000, 5500),),
                        ),
                    ),
                    egress=(
                        Rule(
                            (
                                Peer(
                                    ip_block=IPBlock(
                                        ipaddress.ip_network(
                                            f"10.{rng.randrange(NAMESPACES)}.0.0/16"
                                        )
                                    )
                                ),
                            ),
                            (PolicyPort("TCP", 80),),
                        ),
                    ),
                ),
                NetworkPolicy(
                    ns,
                    "api-and-cache",
                    LabelSelector.from_dict(
                        {
                            "matchExpressions": [
                                {"key": "app", "operator": "In", "values": ["api", "cache"]}
                            ]
                        }
                    ),
                    (INGRESS, EGRESS),
                    ingress=(
                        Rule((Peer(pod_selector=sel(app="web")),), (PolicyPort("TCP", 80),)),
                        Rule((Peer(namespace_selector=sel(tier=str(rng.randrange(3)))),)),
                    ),
                    egress=(
                        Rule((Peer(pod_selector=sel(app="db")),), (PolicyPort("TCP", "db"),)),
                        Rule(
                            (Peer(namespace_selector=LabelSelector(())),),
                            (PolicyPort("TCP", 80),),
                        ),
                    ),
                ),
            ]
        )
    assert len(pods) == 1000 and len(policies) == 200
    return Inventory(tuple(namespaces), tuple(pods), tuple(policies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="run the baseline on every cell")
    parser.add_argument("--rows", type=int, default=25, help="baseline sample: source rows")
    args = parser.parse_args()

    inventory = build_inventory()
    probes = [Probe(80, "TCP"), Probe(5432, "TCP")]
    pods = inventory.pods
    cells = len(pods) * len(pods) * len(probes)

    start = time.perf_counter()
    evaluator = Evaluator(inventory)
    table = build_truth_table(evaluator, probes)
    fast = time.perf_counter() - start

    rows = (
        list(range(len(pods))) if args.full else list(range(0, len(pods), len(pods) // args.rows))
    )
    start = time.perf_counter()
    sampled = 0
    for result in table.probes:
        assert isinstance(result.probe.port, int)
        for i in rows:
            for j, destination in enumerate(pods):
                allowed = is_allowed(inventory, pods[i], destination, result.probe.port, "TCP")
                if allowed != result.matrix[i][j]:
                    raise SystemExit(f"disagreement at {pods[i].key} -> {destination.key}")
                sampled += 1
    measured = time.perf_counter() - start
    baseline = measured * cells / sampled

    allowed_cells = sum(cell for result in table.probes for row in result.matrix for cell in row)
    print(
        f"inventory: {len(pods)} pods, {len(inventory.namespaces)} namespaces, "
        f"{len(inventory.policies)} policies, probes {', '.join(map(str, probes))}"
    )
    print(f"cells: {cells:,} ({allowed_cells:,} allowed)")
    print(f"kubeward truth table:      {fast:8.3f} s")
    if args.full:
        print(f"per-pair baseline:         {baseline:8.3f} s")
    else:
        print(
            f"per-pair baseline:         {baseline:8.3f} s  (measured {measured:.3f} s on "
            f"{sampled:,} cells = {len(rows)} source rows, scaled to all {cells:,})"
        )
    print(f"ratio: {baseline / fast:.1f}x faster; every compared cell agrees")


if __name__ == "__main__":
    main()
