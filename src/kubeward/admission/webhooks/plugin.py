"""The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins.

Rules (``k8s.io/apiserver/pkg/admission/plugin/webhook``, kube-apiserver 1.32):
 1. The configurations (Mutating/ValidatingWebhookConfiguration) are read from the server's
    informer when the reader offers one, so a write costs no extra storage read; webhooks are
    taken in the order of their configuration's name, then their place in it.
 2. A webhook is called when one of its rules, its namespace selector and its object selector
    match the write (``webhooks.matching``). A dry-run write is refused (400 ``admission
    webhook "NAME" does not support dry run``) by a matching webhook whose ``sideEffects`` is
    not None or NoneOnDryRun.
 3. The call is an AdmissionReview v1 (``webhooks.review``) POSTed over HTTPS to
    ``clientConfig.url``, trusting ``caBundle`` (the system's trust without one), within
    ``timeoutSeconds``. Service references need the cluster network kubeward does not have:
    such a call fails, and ``failurePolicy`` decides.
 4. A call that fails (unreachable, timeout, an error answer, a malformed review) is, with
    ``failurePolicy: Fail``, a 500 ``failed calling webhook "NAME": ...``; with ``Ignore`` it is
    logged and skipped.
 5. A refusal stops the write with the webhook's status (``webhooks.review`` rule 3); the
    webhook's ``warnings`` reach the client as ``Warning`` headers.
 6. A mutating webhook's JSON Patch is applied to the object in place. A webhook with
    ``reinvocationPolicy: IfNeeded`` is called once more when a later webhook of the chain
    changed the object after it, or — in the admission chain's second pass
    (``admission.interfaces`` rule 6) — when a later plugin did; never more than twice.
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from kubeward.admission.interfaces import AdmissionRequest, ObjectReader
from kubeward.admission.webhooks.matching import (
    namespace_labels_needed,
    namespace_selector_matches,
    object_selector_matches,
    rules_match,
)
from kubeward.admission.webhooks.review import denial, patch_bytes, review_request, review_response
from kubeward.api.patch.jsonpatch import apply_json_patch
from kubeward.errors import BadRequest, InputError, InternalError, StatusError
from kubeward.webhook_calls import Backoff, ReviewTransport, post_review

log = logging.getLogger("kubeward.admission")

# (url, PEM CA bundle or "") -> the HTTPS client of that webhook (``client.webhook``).
TransportFactory = Callable[[str, str], ReviewTransport]
ONE_ATTEMPT = Backoff(attempts=1)
GROUP = "admissionregistration.k8s.io"


class WebhookPlugin:
    """What both plugins share: finding the webhooks of a write and calling one."""

    name = ""
    resource = ""

    def __init__(self) -> None:
        self._transport_for: TransportFactory | None = None
        self._transports: dict[tuple[str, str], ReviewTransport] = {}

    def set_webhook_transport(self, factory: TransportFactory) -> None:
        self._transport_for = factory

    async def _configurations(self, reader: ObjectReader) -> list[dict[str, Any]]:
        """Rule 1."""
        cached: Callable[[str], Awaitable[list[dict[str, Any]]]] | None = getattr(
            reader, "cached", None
        )
        qualified = f"{self.resource}.{GROUP}"
        items = await (cached(qualified) if cached else reader.list(qualified, ""))
        return sorted(items, key=lambda c: str((c.get("metadata") or {}).get("name", "")))

    async def matching(
        self, request: AdmissionRequest, reader: ObjectReader
    ) -> list[dict[str, Any]]:
        """Rule 2: the webhooks this write goes to, in order."""
        hooks: list[dict[str, Any]] = []
        namespace_labels: dict[str, str] | None = None
        for configuration in await self._configurations(reader):
            for hook in configuration.get("webhooks") or []:
                if not isinstance(hook, dict) or not rules_match(hook, request):
                    continue
                if not object_selector_matches(hook, request):
                    continue
                if namespace_labels is None and namespace_labels_needed(hook, request):
                    namespace = await reader.get("namespaces", "", request.namespace) or {}
                    namespace_labels = dict((namespace.get("metadata") or {}).get("labels") or {})
                if not namespace_selector_matches(hook, request, namespace_labels or {}):
                    continue
                if request.dry_run and hook.get("sideEffects") not in ("None", "NoneOnDryRun"):
                    raise BadRequest(
                        f'admission webhook "{hook.get("name")}" does not support dry run'
                    )
                hooks.append(hook)
        return hooks

    def _transport(self, hook: dict[str, Any]) -> ReviewTransport:
        config = hook.get("clientConfig") or {}
        url = config.get("url")
        if not isinstance(url, str):
            raise InputError("service references need the cluster network; give clientConfig.url")
        bundle = config.get("caBundle") or ""
        ca_pem = ""
        if bundle:
            ca_pem = base64.b64decode(str(bundle)).decode("ascii", errors="replace")
        if self._transport_for is None:
            raise InputError("no HTTPS client for webhooks was configured")
        key = (url, ca_pem)
        transport = self._transports.get(key)
        if transport is None:
            transport = self._transports[key] = self._transport_for(url, ca_pem)
        return transport

    async def call(self, hook: dict[str, Any], request: AdmissionRequest) -> dict[str, Any] | None:
        """Rules 3-5: the webhook's response, or None when it failed and is ignored."""
        name = str(hook.get("name", ""))
        review = review_request(request)
        try:
            transport = self._transport(hook)
            answer = await post_review(
                transport, review, float(hook.get("timeoutSeconds", 10)), ONE_ATTEMPT
            )
            response = review_response(answer, review["request"]["uid"])
        except (StatusError, InputError) as exc:
            message = f'failed calling webhook "{name}": {exc}'
            if hook.get("failurePolicy", "Fail") == "Ignore":
                log.warning("%s (failurePolicy Ignore)", message)
                return None
            raise InternalError(f"Internal error occurred: {message}") from exc
        request.warnings.extend(str(w) for w in response.get("warnings") or [])
        if response.get("allowed") is not True:
            raise denial(name, response.get("status") or {})
        return response


class ValidatingWebhooks(WebhookPlugin):
    name = "ValidatingAdmissionWebhook"
    resource = "validatingwebhookconfigurations"

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        for hook in await self.matching(request, reader):
            await self.call(hook, request)


class MutatingWebhooks(WebhookPlugin):
    name = "MutatingAdmissionWebhook"
    resource = "mutatingwebhookconfigurations"

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        hooks = await self.matching(request, reader)
        context = request.reinvocation
        if context.second_pass:  # rule 6, after a later plugin changed the object
            for hook in hooks:
                if context.due(_invocation(hook), request.object):
                    await self._mutate(hook, request)
                    context.ran(_invocation(hook), request.object, again=True)
            return
        changed_after: dict[int, bool] = {}
        for index, hook in enumerate(hooks):
            if await self._mutate(hook, request):
                for earlier in range(index):
                    changed_after[earlier] = True
            if hook.get("reinvocationPolicy") == "IfNeeded":
                context.ran(_invocation(hook), request.object)
        for index, hook in enumerate(hooks):  # rule 6
            if changed_after.get(index) and hook.get("reinvocationPolicy") == "IfNeeded":
                await self._mutate(hook, request)
                context.ran(_invocation(hook), request.object, again=True)

    async def _mutate(self, hook: dict[str, Any], request: AdmissionRequest) -> bool:
        """Call one webhook and apply its patch; True when the object changed."""
        response = await self.call(hook, request)
        if response is None:
            return False
        try:
            patch = patch_bytes(response)
        except InputError as exc:
            raise InternalError(
                f'Internal error occurred: failed calling webhook "{hook.get("name")}": {exc}'
            ) from exc
        if patch is None:
            return False
        before = copy.deepcopy(request.object)
        try:
            patched = apply_json_patch(request.object, patch)
        except StatusError as exc:
            raise InternalError(
                f'Internal error occurred: webhook "{hook.get("name")}" returned a patch that does'
                f" not apply: {patch.decode(errors='replace')}"
            ) from exc
        if not isinstance(patched, dict):
            raise InternalError(
                f'Internal error occurred: webhook "{hook.get("name")}" patched the object into a non-object'
            )
        request.object.clear()
        request.object.update(patched)
        return patched != before


def _invocation(hook: dict[str, Any]) -> str:
    return f"MutatingAdmissionWebhook/{hook.get('name')}"
