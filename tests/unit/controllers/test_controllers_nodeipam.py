"""The node-IPAM controller: its CIDR set, its flags, and the range allocator against seeded
informers and a recording client."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import pytest
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.core import NODES
from kubeward.controllers.cidrset import CIDRSet
from kubeward.controllers.names import ControllerSelection
from kubeward.controllers.nodeipam import NodeIpamController
from kubeward.controllers.nodeipam_config import NodeIpamConfig, node_ipam_config
from kubeward.controllers.queue import WorkQueue
from kubeward.errors import InputError

net = ipaddress.ip_network


def test_blocks_are_given_round_robin_and_a_released_one_is_not_given_again_at_once() -> None:
    blocks = CIDRSet(net("10.244.0.0/22"), 24)
    assert [str(blocks.allocate_next()) for _ in range(3)] == [
        "10.244.0.0/24",
        "10.244.1.0/24",
        "10.244.2.0/24",
    ]
    assert blocks.release(net("10.244.0.0/24"))
    assert str(blocks.allocate_next()) == "10.244.3.0/24"
    assert str(blocks.allocate_next()) == "10.244.0.0/24"  # wrapped around to the free one
    assert blocks.allocate_next() is None
    assert blocks.allocated == 4


@pytest.mark.parametrize(
    ("occupied", "expected_first", "touched"),
    [
        ("10.244.0.0/24", "10.244.1.0/24", True),
        ("10.244.0.16/28", "10.244.1.0/24", True),  # smaller than a block: its block
        ("10.244.0.0/23", "10.244.2.0/24", True),  # two blocks
        ("10.0.0.0/8", None, True),  # holds the whole cluster CIDR
        ("10.96.0.0/12", "10.244.0.0/24", False),  # elsewhere
        ("fd00::/64", "10.244.0.0/24", False),  # the other family
    ],
    ids=["block", "inside-a-block", "two-blocks", "everything", "outside", "ipv6"],
)
def test_occupy_marks_every_block_a_range_touches(
    occupied: str, expected_first: str | None, touched: bool
) -> None:
    blocks = CIDRSet(net("10.244.0.0/22"), 24)
    assert blocks.occupy(net(occupied)) is touched
    first = blocks.allocate_next()
    assert (str(first) if first else None) == expected_first


def test_ipv6_blocks_and_the_ipv6_size_limit() -> None:
    blocks = CIDRSet(net("fd00:10:244::/56"), 64)
    assert str(blocks.allocate_next()) == "fd00:10:244::/64"
    assert str(blocks.allocate_next()) == "fd00:10:244:1::/64"
    with pytest.raises(InputError, match="the node CIDR size is too big"):
        CIDRSet(net("fd00::/32"), 64)


def test_flags_default_mask_sizes_per_family() -> None:
    config = node_ipam_config(
        "10.244.0.0/16,fd00:10:244::/56", service_cluster_ip_range="10.0.0.0/24"
    )
    assert config.node_mask_sizes == (24, 64)
    assert [str(c) for c in config.service_cidrs] == ["10.0.0.0/24"]
    assert node_ipam_config("10.244.0.0/16", mask_size=26).node_mask_sizes == (26,)
    assert node_ipam_config("10.244.0.0/16", mask_size_ipv4=25).node_mask_sizes == (25,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cluster_cidr": ""}, "Must specify --cluster-cidr if --allocate-node-cidrs is set"),
        ({"cluster_cidr": "10.244.0.0/16,10.245.0.0/16"}, "not configured as dual stack"),
        ({"cluster_cidr": "nonsense"}, "invalid CIDR address: nonsense"),
        (
            {"cluster_cidr": "10.244.0.0/16,fd00::/56", "mask_size": 24},
            "usage of --node-cidr-mask-size is not allowed with dual-stack clusters",
        ),
        (
            {"cluster_cidr": "10.244.0.0/16", "mask_size_ipv6": 64},
            "usage of --node-cidr-mask-size-ipv6 is not allowed for a single-stack IPv4 cluster",
        ),
        (
            {"cluster_cidr": "10.244.0.0/16", "mask_size": 24, "mask_size_ipv4": 24},
            "is not allowed if --node-cidr-mask-size is set",
        ),
        (
            {"cluster_cidr": "10.244.0.0/25"},
            "mask size of cluster CIDR must be less than or equal to --node-cidr-mask-size",
        ),
    ],
    ids=["missing", "two-v4", "garbage", "dual-one-mask", "v6-mask-on-v4", "both", "too-small"],
)
def test_flags_are_refused_with_kube_controller_managers_words(
    kwargs: dict[str, Any], message: str
) -> None:
    cluster_cidr = kwargs.pop("cluster_cidr")
    with pytest.raises(InputError, match=message):
        node_ipam_config(cluster_cidr, **kwargs)


def test_the_controller_is_known_by_its_upstream_name_and_alias() -> None:
    assert ControllerSelection.parse(["*,-nodeipam"]).entries == ("*", "-node-ipam-controller")


def node(name: str, *cidrs: str) -> dict[str, Any]:
    spec = {"podCIDR": cidrs[0], "podCIDRs": list(cidrs)} if cidrs else {}
    return {"metadata": {"name": name, "uid": f"uid-{name}"}, "spec": spec}


CONFIG = NodeIpamConfig(
    (net("10.244.0.0/22"),), (24,), (net("10.244.2.0/24"),)
)  # the Service range sits in the cluster CIDR


async def controller(nodes: list[dict[str, Any]]) -> tuple[NodeIpamController, RecordingClient]:
    client = RecordingClient()
    ipam = NodeIpamController(await seeded(NODES, nodes), client.as_client(), CONFIG)
    ipam.recover()
    return ipam, client


def written(client: RecordingClient) -> dict[str, list[str]]:
    return {
        target.split("/", 1)[1]: patch["spec"]["podCIDRs"]
        for _, target, patch in client.of("patch")
    }


def test_existing_ranges_are_recovered_and_the_service_range_is_never_given() -> None:
    async def scenario() -> None:
        ipam, client = await controller([node("old", "10.244.0.0/24"), node("new")])
        await ipam.reconcile("old")
        await ipam.reconcile("new")
        assert written(client) == {"new": ["10.244.1.0/24"]}
        patch = client.of("patch")[0][2]
        assert patch["spec"]["podCIDR"] == "10.244.1.0/24"
        await ipam.reconcile("new")  # the cache has not caught up: no second range
        assert len(client.of("patch")) == 1

    asyncio.run(scenario())


def test_a_full_cluster_cidr_gives_an_event_and_a_deleted_node_frees_its_range() -> None:
    async def scenario() -> None:
        ipam, client = await controller(
            [node("a", "10.244.0.0/24"), node("b", "10.244.1.0/24"), node("c")]
        )
        ipam.sets[0].occupy(net("10.244.3.0/24"))
        await ipam.reconcile("c")
        await asyncio.sleep(0)  # the event is sent in the background
        assert written(client) == {}
        [event] = client.events
        assert (event["reason"], event["type"]) == ("CIDRNotAvailable", "Normal")
        assert event["message"] == "Node c status is now: CIDRNotAvailable"
        assert event["involvedObject"]["kind"] == "Node"
        assert event["source"]["component"] == "cidrAllocator"

        ipam.queue = WorkQueue()  # forget the keys of the first list
        gone = ipam.informer._forget("a")
        assert gone is not None
        ipam.informer._deleted(gone)
        # a (gone) and c (still without a range) are looked at again
        assert sorted(ipam.queue._order) == ["a", "c"]
        await ipam.reconcile("c")
        assert written(client) == {"c": ["10.244.0.0/24"]}

    asyncio.run(scenario())


def test_dual_stack_nodes_get_one_range_of_each_family() -> None:
    async def scenario() -> None:
        client = RecordingClient()
        config = node_ipam_config("10.244.0.0/16,fd00:10:244::/56")
        ipam = NodeIpamController(await seeded(NODES, [node("n")]), client.as_client(), config)
        ipam.recover()
        await ipam.reconcile("n")
        assert written(client) == {"n": ["10.244.0.0/24", "fd00:10:244::/64"]}

    asyncio.run(scenario())
