"""What a pod or a persistent volume lets its node read: the names it refers to.

As upstream's ``podutil.VisitPodSecretNames``, ``VisitPodConfigmapNames`` and
``pvutil.VisitPVSecretNames``. Rules:

 1. A pod refers to the Secrets of its ``imagePullSecrets``; of the ``secretKeyRef`` and
    ``secretRef`` of every container's ``env`` and ``envFrom`` — containers, init containers and
    ephemeral containers alike; and of its volumes (``secret``, projected ``secret`` sources and
    the ``secretRef``/``nodePublishSecretRef`` of the volume plugins that take one).
 2. A pod refers to the ConfigMaps of ``configMapKeyRef``/``configMapRef`` in every container
    and of ``configMap`` volumes and projected ``configMap`` sources.
 3. A pod refers to the PersistentVolumeClaims of its ``persistentVolumeClaim`` volumes, and of
    its ``ephemeral`` volumes (named ``<pod>-<volume>``); and to the ResourceClaims of
    ``resourceClaims`` — by ``resourceClaimName``, or for a template, the claim named in
    ``status.resourceClaimStatuses`` once there is one.
 4. A persistent volume refers to the Secrets that the kubelet reads for it (not those only the
    provisioner or attacher reads); a reference without a namespace is in the claim's namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

JSON = Mapping[str, Any]

# Volume plugins whose ``secretRef`` names a Secret the kubelet reads (rule 1).
_SECRET_REF_VOLUMES = ("cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi", "storageos")


def _mapping(value: object) -> JSON:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(value: object, key: str = "name") -> str:
    found = _mapping(value).get(key)
    return found if isinstance(found, str) else ""


def _containers(spec: JSON) -> Iterator[JSON]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _list(spec.get(key)):
            yield _mapping(container)


def _env_refs(spec: JSON, key_ref: str, from_ref: str) -> Iterator[str]:
    for container in _containers(spec):
        for env in _list(container.get("env")):
            yield _name(_mapping(_mapping(env).get("valueFrom")).get(key_ref))
        for env_from in _list(container.get("envFrom")):
            yield _name(_mapping(env_from).get(from_ref))


def _projected(volume: JSON, kind: str) -> Iterator[str]:
    for source in _list(_mapping(volume.get("projected")).get("sources")):
        yield _name(_mapping(source).get(kind))


def pod_secret_names(pod: JSON) -> set[str]:
    """Rule 1."""
    spec = _mapping(pod.get("spec"))
    names = {_name(ref) for ref in _list(spec.get("imagePullSecrets"))}
    names.update(_env_refs(spec, "secretKeyRef", "secretRef"))
    for raw in _list(spec.get("volumes")):
        volume = _mapping(raw)
        names.add(_name(volume.get("secret"), "secretName"))
        names.add(_name(volume.get("azureFile"), "secretName"))
        names.add(_name(_mapping(volume.get("csi")).get("nodePublishSecretRef")))
        for plugin in _SECRET_REF_VOLUMES:
            names.add(_name(_mapping(volume.get(plugin)).get("secretRef")))
        names.update(_projected(volume, "secret"))
    names.discard("")
    return names


def pod_configmap_names(pod: JSON) -> set[str]:
    """Rule 2."""
    spec = _mapping(pod.get("spec"))
    names = set(_env_refs(spec, "configMapKeyRef", "configMapRef"))
    for raw in _list(spec.get("volumes")):
        volume = _mapping(raw)
        names.add(_name(volume.get("configMap")))
        names.update(_projected(volume, "configMap"))
    names.discard("")
    return names


def pod_claim_names(pod: JSON) -> set[str]:
    """Rule 3: PersistentVolumeClaims."""
    pod_name = _name(pod.get("metadata"))
    names: set[str] = set()
    for raw in _list(_mapping(pod.get("spec")).get("volumes")):
        volume = _mapping(raw)
        claim = _name(volume.get("persistentVolumeClaim"), "claimName")
        if claim:
            names.add(claim)
        elif "ephemeral" in volume and _name(volume):
            names.add(f"{pod_name}-{_name(volume)}")
    return names


def pod_resource_claim_names(pod: JSON) -> set[str]:
    """Rule 3: ResourceClaims."""
    statuses = {
        _name(s): _name(s, "resourceClaimName")
        for s in _list(_mapping(pod.get("status")).get("resourceClaimStatuses"))
    }
    names: set[str] = set()
    for raw in _list(_mapping(pod.get("spec")).get("resourceClaims")):
        claim = _mapping(raw)
        direct = _name(claim, "resourceClaimName")
        generated = statuses.get(_name(claim), "") if claim.get("resourceClaimTemplateName") else ""
        names.add(direct or generated)
    names.discard("")
    return names


def pv_secret_refs(pv: JSON) -> set[tuple[str, str]]:
    """Rule 4: ``(namespace, name)`` of the Secrets the kubelet reads for ``pv``."""
    spec = _mapping(pv.get("spec"))
    claim_namespace = _name(spec.get("claimRef"), "namespace")
    refs: set[tuple[str, str]] = set()

    def add(ref: object, default_namespace: str) -> None:
        name = _name(ref)
        if name:
            refs.add((_name(ref, "namespace") or default_namespace, name))

    azure = _mapping(spec.get("azureFile"))
    if _name(azure, "secretName"):
        refs.add((_name(azure, "secretNamespace") or claim_namespace, _name(azure, "secretName")))
    # Older objects name no namespace: these plugins then read the claim's.
    for plugin in ("cephfs", "flexVolume", "rbd", "scaleIO", "iscsi"):
        add(_mapping(spec.get(plugin)).get("secretRef"), claim_namespace)
    # These name theirs; the CSI controller-side secrets are not the kubelet's.
    for plugin in ("cinder", "storageos"):
        add(_mapping(spec.get(plugin)).get("secretRef"), "")
    csi = _mapping(spec.get("csi"))
    for key in ("nodePublishSecretRef", "nodeStageSecretRef", "nodeExpandSecretRef"):
        add(csi.get(key), "")
    return refs
