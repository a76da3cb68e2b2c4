"""AdmissionReview v1: what a webhook is sent and what its answer means.

Rules (``k8s.io/api/admission/v1``, ``webhook/request`` and ``webhook/errors`` upstream):
 1. The request carries a fresh ``uid``, the kind and resource (also as ``requestKind`` and
    ``requestResource``), the subresource, name, namespace, operation, the user, the object
    (``null`` on DELETE) and the old object (on UPDATE and DELETE), ``dryRun`` and the options.
 2. The answer must be an AdmissionReview of the same version with ``response.uid`` equal to the
    request's; anything else is an error of the call.
 3. ``allowed: false`` is a refusal with the webhook's status: its code (raised to at least 400)
    and ``admission webhook "NAME" denied the request: MESSAGE`` (the reason when there is no
    message; ``without explanation`` when neither).
 4. A mutating webhook's ``patch`` is a base64 JSON Patch (``patchType: JSONPatch``).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from kubeward.admission.interfaces import DELETE, AdmissionRequest
from kubeward.errors import InputError, RemoteStatus, StatusError

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"


def review_request(request: AdmissionRequest) -> dict[str, Any]:
    """Rule 1."""
    user = request.user
    user_info: dict[str, Any] = {"username": user.name}
    if user.uid:
        user_info["uid"] = user.uid
    if user.groups:
        user_info["groups"] = list(user.groups)
    if user.extra:
        user_info["extra"] = {k: list(v) for k, v in user.extra.items()}
    kind = {"group": request.group, "version": request.version, "kind": request.kind}
    resource = {"group": request.group, "version": request.version, "resource": request.resource}
    body: dict[str, Any] = {
        "uid": str(uuid.uuid4()),
        "kind": kind,
        "resource": resource,
        "requestKind": kind,
        "requestResource": resource,
        "name": request.name,
        "namespace": request.namespace,
        "operation": request.operation,
        "userInfo": user_info,
        "object": None if request.operation == DELETE else request.object,
        "oldObject": request.old_object,
        "dryRun": request.dry_run,
        "options": request.options or None,
    }
    if request.subresource:
        body["subResource"] = request.subresource
        body["requestSubResource"] = request.subresource
    return {"apiVersion": API_VERSION, "kind": KIND, "request": body}


def review_response(answer: dict[str, Any], uid: str) -> dict[str, Any]:
    """Rule 2 (InputError naming what is wrong)."""
    if answer.get("apiVersion") != API_VERSION or answer.get("kind") != KIND:
        raise InputError(
            f"expected webhook response of {API_VERSION}, Kind={KIND},"
            f" got {answer.get('apiVersion')}, Kind={answer.get('kind')}"
        )
    response = answer.get("response")
    if not isinstance(response, dict):
        raise InputError("webhook response was absent")
    if response.get("uid") != uid:
        raise InputError(f"expected response.uid={uid!r}, got {response.get('uid')!r}")
    return response


def denial(name: str, status: dict[str, Any]) -> StatusError:
    """Rule 3."""
    denied_by = f'admission webhook "{name}" denied the request'
    message, reason = str(status.get("message") or ""), str(status.get("reason") or "")
    if message:
        text = f"{denied_by}: {message}"
    elif reason:
        text = f"{denied_by}: {reason}"
    else:
        text = f"{denied_by} without explanation"
    code = status.get("code")
    return RemoteStatus(text, max(code if isinstance(code, int) else 400, 400), reason)


def patch_bytes(response: dict[str, Any]) -> bytes | None:
    """Rule 4: the JSON Patch to apply, or None."""
    patch = response.get("patch")
    if not patch:
        return None
    if response.get("patchType") not in (None, "JSONPatch"):
        raise InputError(f"unsupported patch type {response.get('patchType')!r}")
    try:
        return base64.b64decode(str(patch), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("the webhook's patch is not base64") from exc
