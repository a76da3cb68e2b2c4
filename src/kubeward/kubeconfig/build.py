"""Building the kubeconfig documents kubeward writes (admin.conf, kubelet-NAME.conf, ...).

A kubeconfig here is the plain ``dict`` shape kubectl reads (``apiVersion: v1``, ``kind: Config``,
``clusters``, ``users``, ``contexts``, ``current-context``), with certificates embedded as
base64 ``*-data`` fields so that the file is self-contained.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import yaml

from kubeward.fileio import PRIVATE, write_atomic


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def client_certificate_kubeconfig(
    *,
    cluster_name: str,
    server: str,
    ca_pem: bytes,
    user_name: str,
    cert_pem: bytes,
    key_pem: bytes,
    namespace: str = "",
) -> dict[str, Any]:
    """A one-cluster, one-user, one-context kubeconfig authenticating with a client certificate.

    The context is named ``USER@CLUSTER`` as kubeadm names it, and is the current context.
    """
    context_name = f"{user_name}@{cluster_name}"
    context: dict[str, Any] = {"cluster": cluster_name, "user": user_name}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user_name,
                "user": {
                    "client-certificate-data": _b64(cert_pem),
                    "client-key-data": _b64(key_pem),
                },
            }
        ],
        "contexts": [{"name": context_name, "context": context}],
        "current-context": context_name,
    }


def dump_kubeconfig(doc: dict[str, Any]) -> bytes:
    """The YAML text of a kubeconfig, keys in kubectl's order."""
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).encode("utf-8")


def write_kubeconfig(
    path: str | os.PathLike[str], doc: dict[str, Any], *, overwrite: bool = False
) -> None:
    """Write a kubeconfig atomically with mode 0600 (it holds a private key or a token)."""
    write_atomic(path, dump_kubeconfig(doc), PRIVATE, overwrite=overwrite)
