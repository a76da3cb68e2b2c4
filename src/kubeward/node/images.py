"""Image "pulls": what a registry the node is told is private demands.

kubeward pulls nothing; an image is available at once unless its registry is one of the node's
``--private-registry`` hosts. Rules (the kubelet's image manager and credential keyring):
 1. An image's registry is its first path component when that looks like a host (it has a
    ``.`` or a ``:``, or is ``localhost``); otherwise Docker Hub.
 2. A private registry's image needs a ``kubernetes.io/dockerconfigjson`` secret among the
    pod's ``imagePullSecrets`` (the ServiceAccount admission plugin copies the service
    account's into pods that name none) whose ``auths`` names the host (a key may carry a
    scheme or a path: ``https://HOST/v1/``).
 3. Without one the pull fails: the container waits in ``ErrImagePull`` with the runtime's
    message (Event ``Failed``: ``Failed to pull image "IMAGE": …``); later attempts wait in
    ``ImagePullBackOff`` (``Back-off pulling image "IMAGE"``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from kubeward.api.resources.core import SECRETS
from kubeward.client.api import APIClient
from kubeward.errors import NotFound

DOCKER_HUB = "docker.io"
DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"


def registry_of(image: str) -> str:
    """Rule 1."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def _host(key: str) -> str:
    return key.split("://", 1)[-1].split("/", 1)[0]


def secret_hosts(secret: dict[str, Any]) -> set[str]:
    """Rule 2: the hosts a dockerconfigjson secret has credentials for."""
    if secret.get("type") != DOCKER_CONFIG_JSON:
        return set()
    try:
        raw = base64.b64decode((secret.get("data") or {}).get(".dockerconfigjson", ""))
        auths = json.loads(raw).get("auths") or {}
    except (binascii.Error, ValueError, AttributeError):
        return set()
    return {_host(str(key)) for key in auths} if isinstance(auths, dict) else set()


def pull_error(image: str) -> str:
    """Rule 3's message for an image the node has no credentials for."""
    return (
        f'failed to pull and unpack image "{image}": failed to resolve reference "{image}": '
        "pull access denied, repository does not exist or may require authorization: "
        "authorization failed: no basic auth credentials"
    )


async def missing_credentials(
    client: APIClient, pod: dict[str, Any], private_registries: tuple[str, ...]
) -> str | None:
    """Rule 2: the first image the pod cannot pull, or None when all can be."""
    spec = pod.get("spec") or {}
    namespace = str((pod.get("metadata") or {}).get("namespace", ""))
    images = [
        str(c.get("image", ""))
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
    ]
    wanted = [i for i in images if registry_of(i) in private_registries]
    if not wanted:
        return None
    hosts: set[str] = set()
    for ref in spec.get("imagePullSecrets") or []:
        try:
            secret = await client.get(SECRETS, str(ref.get("name", "")), namespace)
        except NotFound:
            continue
        hosts |= secret_hosts(secret)
    for image in wanted:
        if registry_of(image) not in hosts:
            return image
    return None
