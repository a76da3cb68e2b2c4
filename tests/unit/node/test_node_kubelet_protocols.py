"""The kubelet API's pure parts: the authorization mapping, SPDY framing, exec statuses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.api.user import UserInfo
from kubeward.errors import ServiceUnavailable
from kubeward.node import spdy
from kubeward.node.kubelet_auth import (
    KubeletAuth,
    NodeAttributes,
    certificate_user,
    forbidden_text,
)
from kubeward.node.streams import exit_status


@pytest.mark.parametrize(
    ("method", "path", "verb", "subresource"),
    [
        ("GET", "/pods", "get", "proxy"),
        ("GET", "/stats/summary", "get", "stats"),
        ("GET", "/metrics/resource", "get", "metrics"),
        ("GET", "/logs/syslog", "get", "log"),
        ("POST", "/exec/ns/p/c", "create", "proxy"),
        ("GET", "/containerLogs/ns/p/c", "get", "proxy"),
        ("PUT", "/x", "update", "proxy"),
        ("DELETE", "/x", "delete", "proxy"),
    ],
)
def test_requests_map_to_node_subresources_as_the_kubelet_maps_them(
    method: str, path: str, verb: str, subresource: str
) -> None:
    assert NodeAttributes.of(method, path) == NodeAttributes(verb, subresource)


def test_a_verified_certificate_names_the_user_and_its_groups() -> None:
    peer = {
        "subject": (
            (("organizationName", "kubeadm:cluster-admins"),),
            (("commonName", "kube-apiserver-kubelet-client"),),
        )
    }
    assert certificate_user(peer) == UserInfo(
        name="kube-apiserver-kubelet-client", groups=("kubeadm:cluster-admins",)
    )
    assert certificate_user(None) is None
    assert certificate_user({"subject": ((("organizationName", "x"),),)}) is None


def test_a_refusal_is_worded_as_the_kubelet_words_it() -> None:
    text = forbidden_text(UserInfo(name="bob"), NodeAttributes("get", "stats"))
    assert text == "Forbidden (user=bob, verb=get, resource=nodes, subresource=stats)"


def test_spdy_frames_round_trip_split_anywhere() -> None:
    client, server = spdy.Framer(), spdy.Framer()
    wire = client.syn_stream(1, {"streamtype": "data", "port": "80", "requestid": "0"})
    wire += client.data(1, b"GET / HTTP/1.1\r\n\r\n", fin=True)
    wire += client.syn_stream(3, {"streamtype": "error", "port": "80", "requestid": "1"})
    frames = [f for i in range(0, len(wire), 7) for f in server.feed(wire[i : i + 7])]
    assert [(f.control, f.kind, f.stream_id) for f in frames] == [
        (True, spdy.SYN_STREAM, 1),
        (False, 0, 1),
        (True, spdy.SYN_STREAM, 3),
    ]
    assert frames[0].headers == {"streamtype": "data", "port": "80", "requestid": "0"}
    assert frames[1].fin and frames[1].payload == b"GET / HTTP/1.1\r\n\r\n"
    assert frames[2].headers["requestid"] == "1"  # one compression stream for the connection
    reply = client.feed(server.syn_reply(1))
    assert (reply[0].kind, reply[0].stream_id, reply[0].headers) == (spdy.SYN_REPLY, 1, {})


def test_the_exit_code_travels_as_the_exit_code_cause() -> None:
    assert exit_status(["true"], 0) == {"metadata": {}, "status": "Success"}
    failed = exit_status(["sh", "-c", "exit 3"], 3)
    assert failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


class FakeReviews:
    """The API server's review endpoints, answering from a table and counting calls."""

    def __init__(self, allowed: set[str], tokens: dict[str, str]) -> None:
        self.allowed = allowed
        self.tokens = tokens
        self.calls: list[str] = []

    async def create_raw(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(path.rsplit("/", 1)[-1])
        spec = obj["spec"]
        if path.endswith("tokenreviews"):
            user = self.tokens.get(spec["token"])
            if user is None:
                return {"status": {"authenticated": False}}
            return {"status": {"authenticated": True, "user": {"username": user, "groups": ["g"]}}}
        if spec["user"] == "broken":
            raise ServiceUnavailable("the API server is down")
        return {"status": {"allowed": spec["user"] in self.allowed}}


def test_tokens_and_decisions_are_asked_once_and_cached() -> None:
    reviews = FakeReviews({"alice"}, {"t-alice": "alice", "t-bob": "bob"})
    auth = KubeletAuth(reviews, "node-1")  # type: ignore[arg-type]
    proxy = NodeAttributes("get", "proxy")

    async def scenario() -> list[object]:
        alice = await auth.user_of_token("t-alice")
        assert alice is not None and alice.groups == ("g",)
        bob = await auth.user_of_token("t-bob")
        assert bob is not None
        return [
            await auth.user_of_token("t-alice"),
            await auth.user_of_token("nope"),
            await auth.user_of_token("nope"),
            await auth.allowed(alice, proxy),
            await auth.allowed(alice, proxy),
            await auth.allowed(bob, proxy),
            await auth.allowed(bob, proxy),
            await auth.allowed(UserInfo(name="broken"), proxy),
            await auth.allowed(UserInfo(name="broken"), proxy),
        ]

    results = asyncio.run(scenario())
    assert results[1:] == [None, None, True, True, False, False, False, False]
    # One review per token and per decision; a failed review is not cached.
    assert reviews.calls.count("tokenreviews") == 3
    assert reviews.calls.count("subjectaccessreviews") == 4
