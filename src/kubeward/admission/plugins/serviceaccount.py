"""The ``ServiceAccount`` admission plugin: every pod runs as a service account with its token.

On pod creation (mirror pods excepted), as upstream's plugin does:

 1. an empty ``spec.serviceAccountName`` becomes ``default``;
 2. a pod whose service account does not exist is refused (403, ``error looking up service
    account NS/NAME: serviceaccount "NAME" not found``);
 3. unless ``automountServiceAccountToken`` is false on the pod — or, when the pod says
    nothing, on the service account — a projected volume ``kube-api-access-XXXXX`` is added
    (a ``serviceAccountToken`` source with ``expirationSeconds: 3607`` and path ``token``, the
    ``kube-root-ca.crt`` ConfigMap's ``ca.crt``, and the namespace from the downward API) and
    mounted read-only at ``/var/run/secrets/kubernetes.io/serviceaccount`` in every container
    and init container that does not already mount something there;
 4. a pod without ``imagePullSecrets`` gets the service account's.
"""

from __future__ import annotations

import secrets
from typing import Any

from kubeward.admission.interfaces import (
    CREATE,
    AdmissionRequest,
    ObjectReader,
    ObjectWaiter,
    forbidden,
)

PLUGIN_NAME = "ServiceAccount"
DEFAULT_SERVICE_ACCOUNT = "default"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
TOKEN_EXPIRATION_SECONDS = 3607
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
# utilrand.String's alphabet: no vowels (no words), no 0/1/3 (no look-alikes).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def volume_name() -> str:
    return VOLUME_PREFIX + "".join(secrets.choice(_NAME_ALPHABET) for _ in range(5))


def token_volume(name: str) -> dict[str, Any]:
    """The projected volume of rule 3."""
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {
                    "serviceAccountToken": {
                        "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                        "path": "token",
                    }
                },
                {
                    "configMap": {
                        "name": ROOT_CA_CONFIGMAP,
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }


def should_automount(pod_spec: dict[str, Any], service_account: dict[str, Any]) -> bool:
    on_pod = pod_spec.get("automountServiceAccountToken")
    if isinstance(on_pod, bool):
        return on_pod
    on_sa = service_account.get("automountServiceAccountToken")
    return on_sa if isinstance(on_sa, bool) else True


def mount_token(spec: dict[str, Any]) -> None:
    """Rule 3 on a pod spec that should get the token."""
    volumes: list[dict[str, Any]] = spec.setdefault("volumes", []) or []
    spec["volumes"] = volumes
    existing = next((v for v in volumes if str(v.get("name", "")).startswith(VOLUME_PREFIX)), None)
    name = str(existing["name"]) if existing is not None else volume_name()
    needs_volume = False
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            mounts = container.setdefault("volumeMounts", []) or []
            container["volumeMounts"] = mounts
            if any(mount.get("mountPath") == TOKEN_MOUNT_PATH for mount in mounts):
                continue
            mounts.append({"name": name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH})
            needs_volume = True
    if needs_volume and existing is None:
        volumes.append(token_volume(name))
    if not volumes:
        spec.pop("volumes")


async def _wait_for_default(reader: ObjectReader, namespace: str) -> dict[str, Any] | None:
    """The ``default`` account of a namespace created a moment ago.

    ``kubectl apply -f`` of a Namespace and its Pods sends them back to back; the serviceaccount
    controller creates ``default`` right after the namespace. Waiting for it briefly (told by
    the server's informer when it appears), rather than refusing the pods, is what makes that
    one-file apply work. A reader that cannot wait gets no second look.
    """
    if not isinstance(reader, ObjectWaiter):
        return None
    return await reader.wait_for(
        "serviceaccounts", namespace, DEFAULT_SERVICE_ACCOUNT, _DEFAULT_WAIT_SECONDS
    )


_DEFAULT_WAIT_SECONDS = 2.0


class ServiceAccountPlugin:
    """Mutates pods on creation (rules 1, 3, 4) and refuses them without their account (2)."""

    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if not request.is_pod() or request.operation != CREATE:
            return
        pod = request.object
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        if MIRROR_POD_ANNOTATION in annotations:
            return
        spec: dict[str, Any] = pod.setdefault("spec", {})
        sa_name = str(
            spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
        )
        spec["serviceAccountName"] = sa_name
        spec["serviceAccount"] = sa_name  # the deprecated alias, kept equal as upstream does
        service_account = await reader.get("serviceaccounts", request.namespace, sa_name)
        if service_account is None and sa_name == DEFAULT_SERVICE_ACCOUNT:
            service_account = await _wait_for_default(reader, request.namespace)
        if service_account is None:
            raise forbidden(
                request,
                f"error looking up service account {request.namespace}/{sa_name}: "
                f'serviceaccount "{sa_name}" not found',
            )
        if should_automount(spec, service_account):
            mount_token(spec)
        if not spec.get("imagePullSecrets") and service_account.get("imagePullSecrets"):
            spec["imagePullSecrets"] = [
                {"name": ref.get("name", "")}
                for ref in service_account["imagePullSecrets"]
                if isinstance(ref, dict)
            ]
