"""A pod's volumes and environment, fetched through the API server as the node's identity.

What the kubelet's volume plugins and ``makeEnvironmentVariables`` do, for the sources a
simulated container can use. Rules:
 1. ``secret``, ``configMap``, ``downwardAPI``, ``emptyDir`` and ``projected`` volumes (with
    ``serviceAccountToken``, ``secret``, ``configMap`` and ``downwardAPI`` sources) become a dict
    of files; ``items`` pick and rename keys. Other volume types mount empty.
 2. A secret or config map that does not exist (and is not ``optional``) fails the pod's mount:
    the pod stays ``ContainerCreating`` and the kubelet's ``FailedMount`` text is kept:
    ``MountVolume.SetUp failed for volume "V" : secret "S" not found``.
 3. A ``serviceAccountToken`` source is a TokenRequest for the pod's service account bound to
    the pod (name and uid), with the source's audience and ``expirationSeconds`` (default 3600);
    its refresh is due at 80% of the token's life, as the kubelet's token manager refreshes.
 4. Environment: ``env`` values, ``fieldRef``, ``secretKeyRef`` and ``configMapKeyRef``,
    ``envFrom``; a missing reference is ``CreateContainerConfigError`` with the kubelet's text
    (``secret "S" not found``). ``HOSTNAME`` is the pod's name, ``PATH`` busybox's.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass, field
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import CONFIGMAPS, SECRETS
from kubeward.client.api import APIClient
from kubeward.errors import NotFound
from kubeward.node.filesystem import Files

JSONObject = dict[str, Any]
DEFAULT_TOKEN_SECONDS = 3600
REFRESH_SHARE = 0.8
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class PodVolumes:
    """Rule 1's files per volume name, or rule 2's failure; rule 3's refresh time."""

    files: dict[str, Files] = field(default_factory=dict)
    failure: str = ""
    refresh_at: datetime.datetime | None = None


def _field_value(pod: JSONObject, path: str) -> str:
    meta = m.metadata(pod)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": status.get("podIP", ""),
        "status.hostIP": status.get("hostIP", ""),
    }
    if path in simple:
        return str(simple[path])
    for key in ("labels", "annotations"):
        values = meta.get(key) or {}
        if path == f"metadata.{key}":
            return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
        prefix = f"metadata.{key}['"
        if path.startswith(prefix) and path.endswith("']"):
            return str(values.get(path[len(prefix) : -2], ""))
    return ""


class VolumeSource:
    """Reads what a pod's volumes and environment name, caching each object per pod start."""

    def __init__(self, client: APIClient, pod: JSONObject) -> None:
        self.client = client
        self.pod = pod
        self.namespace = str(m.metadata(pod).get("namespace", ""))
        self._objects: dict[tuple[str, str], JSONObject | None] = {}

    async def _data(self, kind: str, name: str) -> dict[str, bytes] | None:
        key = (kind, name)
        if key not in self._objects:
            rt = SECRETS if kind == "secret" else CONFIGMAPS
            try:
                self._objects[key] = await self.client.get(rt, name, self.namespace)
            except NotFound:
                self._objects[key] = None
        obj = self._objects[key]
        if obj is None:
            return None
        if kind == "secret":
            return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data

    async def _keyed(self, kind: str, source: JSONObject, volume: str) -> Files | str:
        name = str(source.get("secretName" if kind == "secret" else "name", ""))
        data = await self._data(kind, name)
        if data is None:
            if source.get("optional"):
                return {}
            return f'MountVolume.SetUp failed for volume "{volume}" : {kind} "{name}" not found'
        items = source.get("items")
        if not items:
            return dict(data)
        return {str(i["path"]): data[i["key"]] for i in items if i.get("key") in data}

    def _downward(self, source: JSONObject) -> Files:
        return {
            str(item["path"]): _field_value(
                self.pod, str((item.get("fieldRef") or {}).get("fieldPath", ""))
            ).encode()
            for item in source.get("items") or []
            if item.get("path")
        }

    async def token(self, source: JSONObject) -> tuple[bytes, datetime.datetime]:
        """Rule 3: a bound token and when to refresh it."""
        meta, spec = m.metadata(self.pod), self.pod.get("spec") or {}
        account = spec.get("serviceAccountName") or "default"
        seconds = int(source.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS)
        request: JSONObject = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "expirationSeconds": seconds,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta.get("name"),
                    "uid": meta.get("uid"),
                },
            },
        }
        if source.get("audience"):
            request["spec"]["audiences"] = [source["audience"]]
        path = f"/api/v1/namespaces/{self.namespace}/serviceaccounts/{account}/token"
        answer = await self.client.create_raw(path, request)
        status = answer.get("status") or {}
        issued = m.now()
        expires = m.parse_time(str(status.get("expirationTimestamp"))) or (
            issued + datetime.timedelta(seconds=seconds)
        )
        return str(status.get("token", "")).encode(), issued + (expires - issued) * REFRESH_SHARE

    async def volumes(self) -> PodVolumes:
        """Rules 1-3 for every volume of the pod."""
        result = PodVolumes()
        for volume in (self.pod.get("spec") or {}).get("volumes") or []:
            name = str(volume.get("name", ""))
            files: Files = {}
            if "secret" in volume or "configMap" in volume:
                kind = "secret" if "secret" in volume else "configmap"
                got = await self._keyed(kind, volume.get("secret") or volume["configMap"], name)
                if isinstance(got, str):
                    return PodVolumes(failure=got)
                files = got
            elif "downwardAPI" in volume:
                files = self._downward(volume["downwardAPI"])
            elif "projected" in volume:
                for source in (volume["projected"] or {}).get("sources") or []:
                    if "serviceAccountToken" in source:
                        sat = source["serviceAccountToken"]
                        token, refresh = await self.token(sat)
                        files[str(sat.get("path", "token"))] = token
                        if result.refresh_at is None or refresh < result.refresh_at:
                            result.refresh_at = refresh
                    elif "secret" in source or "configMap" in source:
                        kind = "secret" if "secret" in source else "configmap"
                        got = await self._keyed(kind, source.get(kind) or source["configMap"], name)
                        if isinstance(got, str):
                            return PodVolumes(failure=got)
                        files.update(got)
                    elif "downwardAPI" in source:
                        files.update(self._downward(source["downwardAPI"]))
            result.files[name] = files
        return result

    async def environment(self, container: JSONObject) -> dict[str, str] | str:
        """Rule 4: the variables, or the reason the container cannot be configured."""
        env = {"PATH": PATH, "HOSTNAME": str(m.metadata(self.pod).get("name", ""))}
        for source in container.get("envFrom") or []:
            kind = "secret" if "secretRef" in source else "configmap"
            ref = source.get("secretRef") or source.get("configMapRef") or {}
            data = await self._data(kind, str(ref.get("name", "")))
            if data is None:
                if ref.get("optional"):
                    continue
                return f'{kind} "{ref.get("name", "")}" not found'
            prefix = str(source.get("prefix", ""))
            env.update({prefix + k: v.decode(errors="replace") for k, v in data.items()})
        for var in container.get("env") or []:
            name = str(var.get("name", ""))
            value_from = var.get("valueFrom") or {}
            if "fieldRef" in value_from:
                env[name] = _field_value(self.pod, str(value_from["fieldRef"].get("fieldPath")))
            elif "secretKeyRef" in value_from or "configMapKeyRef" in value_from:
                kind = "secret" if "secretKeyRef" in value_from else "configmap"
                ref = value_from.get("secretKeyRef") or value_from["configMapKeyRef"]
                data = await self._data(kind, str(ref.get("name", "")))
                key = str(ref.get("key", ""))
                if data is None or key not in data:
                    if ref.get("optional"):
                        continue
                    if data is None:
                        return f'{kind} "{ref.get("name", "")}" not found'
                    return f"couldn't find key {key} in {kind.capitalize()} {self.namespace}/{ref.get('name')}"
                env[name] = data[key].decode(errors="replace")
            else:
                env[name] = str(var.get("value", ""))
        return env
