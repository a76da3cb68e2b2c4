"""kube-apiserver's ``--kubelet-*`` flags: how the API server reaches the nodes' kubelet API.

:func:`kubelet_client_flags` adds them to a command (which takes them in ``**kwargs``);
:func:`kubelet_client_config` turns them into ``ServerConfig`` fields. An unknown address type
is refused in one line, as kube-apiserver validates the flag.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kubeward.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])
ADDRESS_TYPES = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")

_OPTIONS = (
    click.option(
        "--kubelet-client-certificate",
        type=click.Path(path_type=Path),
        default=None,
        help="The client certificate the API server presents to kubelets (apiserver-kubelet-client.crt).",
    ),
    click.option(
        "--kubelet-client-key",
        type=click.Path(path_type=Path),
        default=None,
        help="The key of --kubelet-client-certificate.",
    ),
    click.option(
        "--kubelet-certificate-authority",
        type=click.Path(path_type=Path),
        default=None,
        help="The CA that signs kubelets' serving certificates (unset: they are not verified).",
    ),
    click.option(
        "--kubelet-preferred-address-types",
        default=",".join(ADDRESS_TYPES),
        show_default=True,
        help="The node address types to reach a kubelet at, in order of preference.",
    ),
)


def kubelet_client_flags(command: F) -> F:
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def kubelet_client_config(flags: dict[str, Any]) -> dict[str, Any]:
    """The ``ServerConfig`` fields (InputError naming a bad address type); consumes the flags."""
    types = tuple(
        t.strip() for t in str(flags.pop("kubelet_preferred_address_types")).split(",") if t.strip()
    )
    for kind in types:
        if kind not in ADDRESS_TYPES:
            raise InputError(
                f'--kubelet-preferred-address-types: unsupported address type "{kind}" '
                f"(one of {', '.join(ADDRESS_TYPES)})"
            )
    certificate = flags.pop("kubelet_client_certificate")
    key = flags.pop("kubelet_client_key")
    if (certificate is None) != (key is None):
        raise InputError("--kubelet-client-certificate and --kubelet-client-key go together")
    return {
        "kubelet_client_certificate": certificate,
        "kubelet_client_key": key,
        "kubelet_certificate_authority": flags.pop("kubelet_certificate_authority"),
        "kubelet_preferred_address_types": types,
    }
