"""What `kubeward up` keeps private and bounded: directories, token lifetimes, durability, logs.

- The data directory and ``pki/`` are created 0700 whatever the umask; an existing looser one
  is reported with the command that fixes it.
- TokenRequest lifetimes are capped at 48 h by default (``--service-account-max-token-expiration``).
- ``--storage-sync`` chooses SQLite's durability.
- A request aiohttp cannot parse is one log line naming the peer and the fault, without a
  traceback and without any text of the request (it may hold an Authorization header).
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import ssl
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubeward.cli.main import cli
from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.server.wiring.local import MAX_TOKEN_EXPIRATION_SECONDS, local_config
from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_directories_are_private_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    data_dir = tmp_path / "new" / ".kubeward"
    notes: list[str] = []
    local_config(data_dir, 6443, note=notes.append)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "pki") == 0o700
    assert mode(data_dir / "pki" / "ca.key") == 0o600
    assert not [n for n in notes if "chmod" in n]


def test_an_existing_open_directory_is_reported(tmp_path: Path, open_umask: None) -> None:
    data_dir = tmp_path / ".kubeward"
    data_dir.mkdir(mode=0o777)
    notes: list[str] = []
    local_config(data_dir, 6443, note=notes.append)
    assert mode(data_dir) == 0o777  # never changed behind the user's back
    assert notes == [
        f"warning: {data_dir}: mode 777 lets other users reach the cluster's keys and "
        f"certificates; run: chmod 700 {data_dir}"
    ]


def test_up_defaults_cap_tokens_and_keep_normal_durability(tmp_path: Path) -> None:
    config, _ = local_config(tmp_path / "d", 6443)
    assert config.service_account_max_token_expiration_seconds == MAX_TOKEN_EXPIRATION_SECONDS
    assert config.storage_url.endswith("kubeward.db?synchronous=normal")
    full, _ = local_config(tmp_path / "d", 6443, storage_sync="full")
    assert full.storage_url.endswith("kubeward.db?synchronous=full")


def test_up_refuses_an_unknown_durability_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["up", "--data-dir", str(tmp_path), "--storage-sync", "none"])
    assert result.exit_code == 2
    assert "'none' is not one of 'normal', 'full'" in result.output


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # Of the controller-manager, only the serviceaccount controller: the token is requested for
    # the default account it creates.
    with running_cluster(controllers=("serviceaccount",)) as running:
        yield running


def test_a_ten_year_token_request_is_cut_to_48_hours(cluster: Cluster) -> None:
    credentials = ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig)
    request = urllib.request.Request(
        f"{cluster.url}/api/v1/namespaces/default/serviceaccounts/default/token",
        data=json.dumps(
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": 10 * 365 * 86400},
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, context=credentials.ssl_context, timeout=30) as answer:
        status = json.loads(answer.read())["status"]
    expires = datetime.datetime.fromisoformat(status["expirationTimestamp"].replace("Z", "+00:00"))
    left = expires - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(hours=47) < left <= datetime.timedelta(hours=48)


BAD_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET-TOKEN-1234\r\nBad Header Line\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: abc\r\nAuthorization: Basic U0VDUkVU\r\n\r\n",
    b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nAuthorization: Bearer SECRET-TOKEN-1234\r\n\r\n",
]


@pytest.mark.parametrize("payload", BAD_REQUESTS, ids=["bad-header", "bad-length", "long-line"])
def test_a_malformed_request_is_one_line_without_its_text(
    cluster: Cluster, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    with (
        caplog.at_level(logging.DEBUG, logger="kubeward.apiserver.connections"),
        socket.create_connection(("127.0.0.1", cluster.port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(payload)
        answer = tls.recv(100)
    assert answer.startswith(b"HTTP/1.0 400 Bad Request")
    records = [r for r in caplog.records if r.name == "kubeward.apiserver.connections"]
    assert len(records) == 1
    (record,) = records
    assert record.exc_info is None and record.levelno == logging.INFO
    text = record.getMessage()
    assert text.startswith("400 malformed request from 127.0.0.1: ")
    assert "SECRET" not in text and "U0VDUkVU" not in text and "Bad Header" not in text
