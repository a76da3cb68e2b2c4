"""Building the kubeconfig documents kubeward writes (admin.conf, kubelet-NAME.conf, ...).

A kubeconfig here is the plain ``dict`` shape kubectl reads (``apiVersion: v1``, ``kind: Config``,
``clusters``, ``users``, ``contexts``, ``current-context``), with certificates embedded as
base64 ``*-data`` fields so that the file is self-contained. Writing goes through the schema's
canonical form, so a generated file is byte-for-byte what kubectl writes for the same content.
"""

from __future__ import annotations

import os
from typing import Any

from kubeward.fileio import PRIVATE, write_atomic
from kubeward.kubeconfig.model import Kubeconfig
from kubeward.kubeconfig.save import serialize
from kubeward.kubeconfig.schema import encode_data as _b64


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
    """The YAML text of a kubeconfig, exactly as kubectl would write it.

    Raises:
        InputError: ``doc`` is not a valid kubeconfig.
    """
    return serialize(Kubeconfig.from_dict(doc, "kubeconfig"))


def write_kubeconfig(
    path: str | os.PathLike[str], doc: dict[str, Any], *, overwrite: bool = False
) -> None:
    """Write a kubeconfig atomically with mode 0600 (it holds a private key or a token)."""
    write_atomic(path, dump_kubeconfig(doc), PRIVATE, overwrite=overwrite)
