"""Moving custom objects between the versions of their CustomResourceDefinition.

Every object of a definition is stored at the definition's storage version and served at
whichever version the request names; :class:`Converter` does the move, as the
apiextensions-apiserver's converters do. Rules:

 1. An object already at the wanted ``apiVersion`` is not touched (and, for a list, not sent).
 2. ``strategy: None`` rewrites ``apiVersion`` and nothing else.
 3. ``strategy: Webhook`` POSTs one ``ConversionReview`` (the first of the definition's
    ``conversionReviewVersions`` that is ``v1`` or ``v1beta1``) holding every object to convert,
    with a fresh ``uid`` and the ``desiredAPIVersion``, to ``clientConfig.url`` or to the
    service's address, ``https://<name>.<namespace>.svc:<port><path>`` (port 443 by default),
    with ``?timeout=30s`` as kube-apiserver's client adds it. The server's certificate is
    checked against ``caBundle`` (the system's roots when there is none).
 4. The answer must be a ``ConversionReview`` of the version sent (``v1``: the same ``uid``),
    with ``result.status: Success`` (else its ``result.message`` is the error) and one object
    per object sent, each at the desired group-version, of the same kind, name, namespace and
    uid. Of the returned metadata only ``labels`` and ``annotations`` are kept (checked like
    any labels and annotations); the rest is the original's.
 5. Any failure is :class:`~kubeward.errors.ConversionFailed` (500, no reason), worded as
    upstream: ``conversion webhook for <group>/<version>, Kind=<Kind> failed: <why>``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from kubeward.api.meta import JSONObject
from kubeward.api.validation.meta import validate_annotations, validate_labels
from kubeward.errors import ConversionFailed, WebhookCallError

REVIEW_VERSIONS = ("v1", "v1beta1")  # the ConversionReview versions kube-apiserver speaks
WEBHOOK_TIMEOUT_SECONDS = 30.0
_REVIEW_GROUP = "apiextensions.k8s.io"


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where a conversion webhook is called, and what its certificate must chain to."""

    url: str
    ca_bundle: bytes = b""  # PEM; empty: the system's roots
    server_name: str = ""  # the name the certificate must carry; empty: the URL's host


class WebhookCaller(Protocol):
    """POSTs a JSON body to a webhook and returns the answer's body.

    Raises:
        WebhookCallError: no answer, a TLS failure, or an HTTP error status.
    """

    async def __call__(self, endpoint: WebhookEndpoint, body: bytes, timeout: float) -> bytes: ...


def service_endpoint(client_config: JSONObject) -> WebhookEndpoint:
    """Rule 3: the endpoint a ``clientConfig`` names (``url`` first, else ``service``)."""
    try:
        ca_bundle = base64.b64decode(str(client_config.get("caBundle") or ""), validate=True)
    except (binascii.Error, ValueError):
        ca_bundle = b""
    url = client_config.get("url")
    if isinstance(url, str) and url:
        return WebhookEndpoint(_with_timeout(url), ca_bundle)
    service = client_config.get("service") or {}
    host = f"{service.get('name', '')}.{service.get('namespace', '')}.svc"
    port = int(service.get("port") or 443)
    path = str(service.get("path") or "")
    return WebhookEndpoint(_with_timeout(f"https://{host}:{port}{path}"), ca_bundle, host)


def _with_timeout(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}timeout={int(WEBHOOK_TIMEOUT_SECONDS)}s"


def gvk_text(api_version: str, kind: str) -> str:
    """A group-version-kind as Go's ``schema.GroupVersionKind`` prints it."""
    return f"{api_version}, Kind={kind}"


class Converter:
    """Rules 1 to 5 for one definition; shared by every served version of it."""

    def __init__(
        self,
        crd: JSONObject,
        caller: WebhookCaller | None = None,
        *,
        timeout: float = WEBHOOK_TIMEOUT_SECONDS,
    ) -> None:
        spec = crd.get("spec") or {}
        group = str(spec.get("group", ""))
        storage = next(
            (v.get("name") for v in spec.get("versions") or [] if v.get("storage") is True), ""
        )
        self.storage_api_version = f"{group}/{storage}"
        conversion = spec.get("conversion") or {}
        self.strategy = str(conversion.get("strategy") or "None")
        webhook = conversion.get("webhook") or {}
        self._endpoint = service_endpoint(webhook.get("clientConfig") or {})
        self._review_versions = [str(v) for v in webhook.get("conversionReviewVersions") or []]
        self._caller = caller
        self._timeout = timeout

    async def convert_one(self, obj: JSONObject, api_version: str) -> JSONObject:
        """``obj`` at ``api_version`` (the same object when it is there already)."""
        return (await self.convert([obj], api_version))[0]

    async def convert(
        self, objects: Sequence[JSONObject], api_version: str, *, listing: bool = False
    ) -> list[JSONObject]:
        """Every object at ``api_version``, in order; ``listing`` names the list in errors."""
        pending = [i for i, obj in enumerate(objects) if obj.get("apiVersion") != api_version]
        out = list(objects)
        if not pending:
            return out
        if self.strategy != "Webhook":
            for i in pending:
                out[i] = {**objects[i], "apiVersion": api_version}
            return out
        first = objects[pending[0]]
        gvk = gvk_text(str(first.get("apiVersion", "")), str(first.get("kind", "")))
        if listing:
            gvk += "List"
        converted = await self._call(gvk, [objects[i] for i in pending], api_version)
        for i, obj in zip(pending, converted, strict=True):
            out[i] = obj
        return out

    async def _call(
        self, gvk: str, objects: list[JSONObject], api_version: str
    ) -> list[JSONObject]:
        review_version = next((v for v in self._review_versions if v in REVIEW_VERSIONS), "")
        if not review_version:
            raise ConversionFailed("no supported conversion review versions")
        if self._caller is None:
            raise ConversionFailed(f"conversion webhook for {gvk} failed: no webhook client")
        uid = str(uuid.uuid4())
        review_api_version = f"{_REVIEW_GROUP}/{review_version}"
        body = orjson.dumps(
            {
                "kind": "ConversionReview",
                "apiVersion": review_api_version,
                "request": {"uid": uid, "desiredAPIVersion": api_version, "objects": objects},
            }
        )
        try:
            answer = await self._caller(self._endpoint, body, self._timeout)
        except WebhookCallError as exc:
            raise ConversionFailed(f"conversion webhook for {gvk} failed: {exc}") from exc
        try:
            returned = _converted_objects(answer, review_api_version, uid)
        except ValueError as exc:
            raise ConversionFailed(f"conversion webhook for {gvk} failed: {exc}") from exc
        if len(returned) != len(objects):
            raise ConversionFailed(
                f"conversion webhook for {gvk} returned {len(returned)} objects, "
                f"expected {len(objects)}"
            )
        result = []
        for index, (original, converted) in enumerate(zip(objects, returned, strict=True)):
            try:
                result.append(_checked(original, converted, api_version))
            except ValueError as exc:
                raise ConversionFailed(
                    f"conversion webhook for {gvk} returned invalid converted object "
                    f"at index {index}: {exc}"
                ) from exc
        return result


def _converted_objects(answer: bytes, review_api_version: str, uid: str) -> list[Any]:
    """Rule 4's checks of the review itself."""
    try:
        review = orjson.loads(answer)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the server responded with an invalid body: {exc}") from exc
    if not isinstance(review, dict):
        raise ValueError("the server responded with an invalid body")
    strict = review_api_version.endswith("/v1")
    if strict:
        got = gvk_text(str(review.get("apiVersion", "")), str(review.get("kind", "")))
        wanted = gvk_text(review_api_version, "ConversionReview")
        if got != wanted:
            raise ValueError(f"expected webhook response of {wanted}, got {got}")
    response = review.get("response")
    if not isinstance(response, dict):
        raise ValueError("no response provided")
    if strict and response.get("uid") != uid:
        raise ValueError(f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
    result = response.get("result") or {}
    if result.get("status") != "Success":
        if result.get("message"):
            raise ValueError(str(result["message"]))
        raise ValueError(f"response.result.status was '{result.get('status', '')}', not 'Success'")
    objects = response.get("convertedObjects") or []
    if not isinstance(objects, list):
        raise ValueError("response.convertedObjects must be a list")
    return objects


def _checked(original: JSONObject, converted: Any, api_version: str) -> JSONObject:
    """Rule 4's checks of one converted object, with the original's metadata restored."""
    if not isinstance(converted, dict):
        raise ValueError("invalid type, expected=Unstructured")
    got_version = str(converted.get("apiVersion", ""))
    if got_version != api_version:
        raise ValueError(f"invalid groupVersion (expected {api_version}, received {got_version})")
    want_kind, got_kind = original.get("kind", ""), converted.get("kind", "")
    if want_kind != got_kind:
        raise ValueError(f"invalid kind (expected {want_kind}, received {got_kind})")
    before = original.get("metadata") or {}
    after = converted.get("metadata")
    for key, label in (("name", "name"), ("namespace", "namespace"), ("uid", "UID")):
        old = before.get(key, "")
        new = (after or {}).get(key, "") if isinstance(after, dict) else ""
        if old != new:
            raise ValueError(f"must have the same {label}: {old} != {new}")
    if not isinstance(after, dict):
        raise ValueError("missing metadata in converted object")
    restored = copy.deepcopy(before)
    for key in ("labels", "annotations"):
        value = after.get(key)
        if value is None:
            restored.pop(key, None)
            continue
        if not isinstance(value, dict):
            raise ValueError(f"invalid metadata.{key} of type {type(value).__name__}")
        for k, v in value.items():
            if not isinstance(v, str):
                raise ValueError(f"metadata.{key}[{k}] must be a string")
        if value != before.get(key):
            causes = (
                validate_labels(value, "metadata.labels")
                if key == "labels"
                else validate_annotations(value, "metadata.annotation")
            )
            if causes:
                raise ValueError(", ".join(c.message for c in causes))
        restored[key] = value
    return {**converted, "metadata": restored}
