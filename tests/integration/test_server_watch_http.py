"""Watch responses on the wire: chunk framing, whole event lines, order, nothing lost.

The broadcaster writes each connection's pending events as one chunk straight to the
transport (server/watch_writer.py); these tests read the raw HTTP/1.1 bytes over real TLS and
parse the chunked body strictly, so a bad frame, a line split across chunks or a lost event
fails them.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import urllib.request
from pathlib import Path
from typing import Any

import yaml


def admin_context(cluster: Any, tmp_path: Path) -> ssl.SSLContext:
    doc = yaml.safe_load(Path(cluster.admin_kubeconfig).read_text())
    user = doc["users"][0]["user"]
    (tmp_path / "admin.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
    (tmp_path / "admin.key").write_bytes(base64.b64decode(user["client-key-data"]))
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    context.load_cert_chain(str(tmp_path / "admin.crt"), str(tmp_path / "admin.key"))
    return context


def request(cluster: Any, context: ssl.SSLContext, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        cluster.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, context=context, timeout=30) as response:
        return json.loads(response.read())


class RawWatch:
    """One watch over a TLS socket; ``read_all`` returns the chunk payloads of the response."""

    def __init__(self, cluster: Any, context: ssl.SSLContext, path: str) -> None:
        raw = socket.create_connection(("127.0.0.1", cluster.port), timeout=30)
        self.sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
        )
        self.data = b""
        while b"\r\n\r\n" not in self.data:  # the head comes before any event is written
            self.data += self.sock.recv(65536)
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        self.head = head.decode().lower()

    def read_all(self) -> list[bytes]:
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.data += chunk
            if self.data.endswith(b"0\r\n\r\n"):
                break
        self.sock.close()
        chunks, rest = [], self.data
        while True:
            size_line, sep, rest = rest.partition(b"\r\n")
            assert sep, "a chunk size line without CRLF"
            size = int(size_line, 16)
            if size == 0:
                assert rest == b"\r\n", "bytes after the last chunk"
                return chunks
            assert rest[size : size + 2] == b"\r\n", "a chunk not followed by CRLF"
            chunks.append(rest[:size])
            rest = rest[size + 2 :]


def test_concurrent_watchers_get_whole_lines_in_well_framed_chunks_every_event_in_order(
    cluster: Any, tmp_path: Path
) -> None:
    context = admin_context(cluster, tmp_path)
    start = request(cluster, context, "GET", "/api/v1/namespaces/default/configmaps?limit=1")
    rv = start["metadata"]["resourceVersion"]
    path = f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=4"
    watches = [RawWatch(cluster, context, path) for _ in range(3)]
    names = [f"wire-{i:03}" for i in range(60)]

    def write(part: list[str]) -> None:
        for name in part:
            request(
                cluster,
                context,
                "POST",
                "/api/v1/namespaces/default/configmaps",
                {"metadata": {"name": name}, "data": {"k": "v" * 300}},
            )

    writers = [threading.Thread(target=write, args=(names[i::3],)) for i in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    for watch in watches:
        assert "200 ok" in watch.head.splitlines()[0]
        assert "transfer-encoding: chunked" in watch.head
        chunks = watch.read_all()
        events = []
        for payload in chunks:
            assert payload.endswith(b"\n"), "an event line split across chunks"
            events += [json.loads(line) for line in payload.splitlines()]
        seen = [e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"]
        assert sorted(seen) == names
        revisions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
        assert all(e["object"]["kind"] == "ConfigMap" for e in events)
    for name in names:
        request(cluster, context, "DELETE", f"/api/v1/namespaces/default/configmaps/{name}")


def test_a_list_through_https_is_the_objects_a_get_returns(cluster: Any, tmp_path: Path) -> None:
    """The spliced list items are the stored objects with their resourceVersion, untyped."""
    context = admin_context(cluster, tmp_path)
    request(cluster, context, "POST", "/api/v1/namespaces", {"metadata": {"name": "splice"}})
    for i in range(5):
        request(
            cluster,
            context,
            "POST",
            "/api/v1/namespaces/splice/configmaps",
            {"metadata": {"name": f"s-{i}", "labels": {"n": str(i % 2)}}, "data": {"i": str(i)}},
        )
    base = "/api/v1/namespaces/splice/configmaps"
    first = request(cluster, context, "GET", f"{base}?limit=3")
    at = first["metadata"]["resourceVersion"]
    full = request(
        cluster, context, "GET", f"{base}?resourceVersion={at}&resourceVersionMatch=Exact"
    )
    assert first["kind"] == full["kind"] == "ConfigMapList"
    assert first["metadata"]["remainingItemCount"] == len(full["items"]) - 3
    items, page = list(first["items"]), first
    while page["metadata"].get("continue"):
        page = request(
            cluster, context, "GET", f"{base}?limit=3&continue={page['metadata']['continue']}"
        )
        items += page["items"]
    assert items == full["items"]
    assert {f"s-{i}" for i in range(5)} <= {i["metadata"]["name"] for i in items}
    for item in items:
        got = request(
            cluster,
            context,
            "GET",
            f"/api/v1/namespaces/splice/configmaps/{item['metadata']['name']}",
        )
        got.pop("apiVersion")
        got.pop("kind")
        assert item == got
    selected = request(
        cluster, context, "GET", "/api/v1/namespaces/splice/configmaps?labelSelector=n%3D1"
    )
    assert [i["metadata"]["name"] for i in selected["items"]] == ["s-1", "s-3"]
