"""The fast evaluator and truth table against the straightforward reference, on generated clusters.

Random (seeded) namespaces, pods and policies mixing every feature — empty and non-empty
selectors, AND-ed and OR-ed peers, ipBlocks with excepts over pod and outside IPs, named ports,
ranges, protocol-only ports, empty rule lists — are judged three ways: the reference
(re-matching everything per pair), ``Evaluator.check`` and the bitmask truth table. They must
agree on every cell.
"""

from __future__ import annotations

import ipaddress
import random

import pytest

from kubeward.api.selectors import LabelSelector
from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.matrix import Probe, build_truth_table, resolve_port
from kubeward.netpol.model import (
    EGRESS,
    INGRESS,
    ContainerPort,
    ExternalEndpoint,
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

LABELS = {"app": ("a", "b", "c"), "tier": ("x", "y")}
PORTS = ((80, "TCP", "http"), (443, "TCP", "https"), (53, "UDP", "dns"), (7777, "SCTP", "sig"))


def _selector(rng: random.Random) -> LabelSelector:
    roll = rng.random()
    if roll < 0.3:
        return LabelSelector(())
    key = rng.choice(sorted(LABELS))
    if roll < 0.7:
        return LabelSelector.from_dict({"matchLabels": {key: rng.choice(LABELS[key])}})
    operator = rng.choice(["In", "NotIn", "Exists", "DoesNotExist"])
    expr: dict[str, object] = {"key": key, "operator": operator}
    if operator in ("In", "NotIn"):
        expr["values"] = rng.sample(LABELS[key], 2)
    return LabelSelector.from_dict({"matchExpressions": [expr]})


def _peer(rng: random.Random) -> Peer:
    roll = rng.random()
    if roll < 0.3:
        return Peer(pod_selector=_selector(rng))
    if roll < 0.55:
        return Peer(namespace_selector=_selector(rng))
    if roll < 0.8:
        return Peer(pod_selector=_selector(rng), namespace_selector=_selector(rng))
    cidr = ipaddress.ip_network(rng.choice(["10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0"]))
    excepts = (ipaddress.ip_network("10.1.2.0/24"),) if rng.random() < 0.5 else ()
    if cidr.prefixlen >= 16:
        excepts = ()
    return Peer(ip_block=IPBlock(cidr, excepts))


def _port(rng: random.Random) -> PolicyPort:
    number, protocol, name = rng.choice(PORTS)
    roll = rng.random()
    if roll < 0.4:
        return PolicyPort(protocol, number)
    if roll < 0.6:
        return PolicyPort(protocol, name)
    if roll < 0.8:
        return PolicyPort(protocol, number - 10, number + 10)
    return PolicyPort(protocol)


def _rule(rng: random.Random) -> Rule:
    peers = tuple(_peer(rng) for _ in range(rng.choice([0, 1, 1, 2, 3])))
    ports = tuple(_port(rng) for _ in range(rng.choice([0, 1, 2])))
    return Rule(peers, ports)


def generate(seed: int) -> Inventory:
    rng = random.Random(seed)
    namespaces = []
    pods = []
    for n in range(4):
        name = f"ns{n}"
        labels = {k: rng.choice(v) for k, v in LABELS.items() if rng.random() < 0.7}
        namespaces.append(Namespace.with_name_label(name, labels))
        for p in range(rng.randint(1, 5)):
            labels = {k: rng.choice(v) for k, v in LABELS.items() if rng.random() < 0.8}
            ports = tuple(
                ContainerPort(number + rng.choice([0, 0, 1]), protocol, name)
                for number, protocol, name in PORTS
                if rng.random() < 0.6
            )
            ip = ipaddress.ip_address(f"10.{rng.choice([1, 2])}.{rng.choice([2, 3])}.{n * 10 + p}")
            pods.append(Pod(name, f"pod{p}", labels, ip, ports))
    policies = []
    for k in range(rng.randint(1, 7)):
        types = rng.choice([(INGRESS,), (EGRESS,), (INGRESS, EGRESS)])
        policies.append(
            NetworkPolicy(
                f"ns{rng.randrange(4)}",
                f"policy{k}",
                _selector(rng),
                types,
                tuple(_rule(rng) for _ in range(rng.choice([0, 1, 2]))),
                tuple(_rule(rng) for _ in range(rng.choice([0, 1, 2]))),
            )
        )
    return Inventory(tuple(namespaces), tuple(pods), tuple(policies))


PROBES = [Probe(80), Probe(443), Probe(81), Probe(53, "UDP"), Probe(7777, "SCTP"), Probe("http")]
EXTERNALS = ["10.1.2.9", "10.1.5.5", "192.0.2.1"]


@pytest.mark.parametrize("ip_block_matches_pods", [True, False], ids=["cni-calico", "cni-cilium"])
@pytest.mark.parametrize("seed", range(40), ids=[f"seed{s}" for s in range(40)])
def test_fast_paths_agree_with_reference(seed: int, ip_block_matches_pods: bool) -> None:
    inventory = generate(seed)
    evaluator = Evaluator(inventory, ip_block_matches_pods=ip_block_matches_pods)
    table = build_truth_table(evaluator, PROBES)
    pods = table.pods
    for result in table.probes:
        for i, source in enumerate(pods):
            for j, destination in enumerate(pods):
                number = resolve_port(destination, result.probe)
                if number is None:
                    assert result.matrix[i][j] is False
                    continue
                protocol = result.probe.protocol
                expected = is_allowed(
                    inventory,
                    source,
                    destination,
                    number,
                    protocol,
                    ip_block_matches_pods=ip_block_matches_pods,
                )
                verdict = evaluator.check(source, destination, number, protocol)
                assert verdict.allowed is expected, (source.key, destination.key, result.probe)
                assert result.matrix[i][j] is expected, (source.key, destination.key)


@pytest.mark.parametrize("seed", range(40), ids=[f"seed{s}" for s in range(40)])
def test_external_endpoints_agree_with_reference(seed: int) -> None:
    inventory = generate(seed)
    evaluator = Evaluator(inventory)
    for text in EXTERNALS:
        outside = ExternalEndpoint(ipaddress.ip_address(text))
        for pod in inventory.pods:
            for number, protocol, _ in PORTS:
                for source, destination in ((outside, pod), (pod, outside)):
                    expected = is_allowed(inventory, source, destination, number, protocol)
                    verdict = evaluator.check(source, destination, number, protocol)
                    assert verdict.allowed is expected, (source.key, destination.key, number)
