"""The one exception tree of kubeward.

Every error that crosses a layer boundary is one of these. Library errors (sqlite3, aiohttp,
cryptography, yaml, ...) are wrapped with ``raise ... from`` at the layer that met them and
never leak past it.

::

    KubewardError
     ├── InputError               a file, flag or document the user gave us is unusable (CLI: one line, exit 1)
     ├── PKIError                 a certificate or key operation cannot be done as asked
     ├── AuthenticationError      a credential of an authenticator's kind that is not valid (401)
     ├── ImpersonationRefused     the requester may not impersonate what it asked for (403)
     ├── JSONPatchError           one JSON patch operation failed (its reason behind the 422)
     ├── WireError                bytes that are not a well-formed protobuf message (400)
     ├── WebhookCallError         a call to a webhook (CRD conversion) got no usable answer
     ├── LeaderElectionLost       the controller-manager could not renew its Lease: it stops
     ├── ReplicaSetSyncFailed     a controller could not create or delete pods (it retries)
     ├── DisruptionSyncFailed     a PodDisruptionBudget's status could not be computed (retried)
     ├── MetricUnavailable        an HPA metric could not be read or used (its conditions say why)
     ├── JobSyncFailed            the job or cronjob controller could not write what it must (it retries)
     ├── CELError                 a CEL expression that cannot be compiled or evaluated (cel/)
     │    ├── CELCompileError     a syntax or type error, worded as cel-go words it
     │    ├── CELEvaluationError  an error while evaluating (no such key, overflow, ...)
     │    └── CELCostExceeded     the runtime cost limit was reached
     ├── StorageError             the storage backend failed (maps to 500 InternalError)
     │    ├── KeyExistsError      create of a key that exists
     │    ├── KeyNotFoundError    get/update/delete of a key that does not exist
     │    ├── RevisionMismatch    compare-and-swap lost: the key's revision moved on
     │    └── CompactedError      the revision asked for was compacted away (410 Expired)
     └── StatusError              an API error with a Kubernetes ``Status`` body
          ├── BadRequest                  400 BadRequest
          ├── Unauthorized                401 Unauthorized
          ├── Forbidden                   403 Forbidden
          ├── NotFound                    404 NotFound
          ├── MethodNotAllowed            405 MethodNotAllowed
          ├── NotAcceptable               406 NotAcceptable
          ├── AlreadyExists               409 AlreadyExists
          ├── Conflict                    409 Conflict
          ├── Gone                        410 Expired (a compacted resourceVersion)
          ├── RequestEntityTooLarge       413 RequestEntityTooLarge
          ├── UnsupportedMediaType        415 UnsupportedMediaType
          ├── Invalid                     422 Invalid (with causes)
          ├── TooManyRequests             429 TooManyRequests
          ├── InternalError               500 InternalError
          ├── ConversionFailed            500 (no reason): a CRD conversion webhook failed
          ├── ServiceUnavailable          503 ServiceUnavailable
          ├── Timeout                     504 Timeout
          └── RemoteStatus                the code and reason another service chose (a webhook's refusal)

``StatusError.to_status()`` renders the ``metav1.Status`` body that kubectl and the Python client
read (``Error from server (<reason>): <message>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar


class KubewardError(Exception):
    """Base of every error kubeward raises on purpose."""


class InputError(KubewardError):
    """Something the user handed us (a file, a flag value, a document) cannot be used.

    The message names the thing and the problem in one line, e.g.
    ``ca.crt: not a PEM or DER certificate``.
    """


class AuthenticationError(KubewardError):
    """The credential is of this authenticator's kind but not valid. The message is for the log."""


class ImpersonationRefused(KubewardError):
    """The authenticated user may not impersonate one requested part (answer 403).

    ``attributes`` are the ``authz.interfaces.Attributes`` that were refused (typed loosely here:
    this module is below every layer).
    """

    def __init__(self, attributes: Any, reason: str = "") -> None:
        super().__init__(f"impersonation of {attributes.resource} {attributes.name!r} refused")
        self.attributes = attributes
        self.reason = reason


class JSONPatchError(KubewardError):
    """One JSON patch operation could not be applied; the reason the 422 hides."""


class WireError(KubewardError, ValueError):
    """The bytes are not a well-formed protobuf message."""


class WebhookCallError(KubewardError):
    """A webhook could not be called, or answered with something unusable.

    The message says what happened as Go's HTTP client words it, e.g.
    ``Post "https://conv.example:8443/convert?timeout=30s": connection refused``.
    """


class LeaderElectionLost(KubewardError):
    """A leader could not renew its Lease within the renew deadline; it must stop acting."""


class ReplicaSetSyncFailed(KubewardError):
    """Creating or deleting a ReplicaSet's pods failed; the controller retries with backoff."""


class MetricUnavailable(KubewardError):
    """A HorizontalPodAutoscaler's metric could not be read or turned into a replica count; the
    message is upstream's wording, which the controller puts in the HPA's conditions and events.
    """


class DisruptionSyncFailed(KubewardError):
    """A PodDisruptionBudget's expected pods could not be computed (an unknown controller, a
    value that is not a percentage); the disruption controller writes its fail-safe status and
    retries with backoff."""


class JobSyncFailed(KubewardError):
    """The job or cronjob controller could not create or delete what it must; it retries."""


class CELError(KubewardError):
    """A CEL expression could not be compiled or evaluated; the message is worded as cel-go's."""


class CELCompileError(CELError):
    """Syntax or type errors: ``ERROR: <input>:1:5: undeclared reference to 'x' ...``."""


class CELEvaluationError(CELError):
    """An evaluation error: ``no such key: x``, ``integer overflow``, ``division by zero``."""


class CELCostExceeded(CELError):
    """The expression's runtime cost went over the limit it was evaluated with."""


class PKIError(KubewardError):
    """A certificate, key or CSR operation cannot be done as asked."""


class StorageError(KubewardError):
    """The storage backend failed in a way the caller cannot fix by retrying differently."""


class KeyExistsError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} already exists")
        self.key = key


class KeyNotFoundError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} not found")
        self.key = key


class RevisionMismatch(StorageError):
    """A compare-and-swap lost: the key's current revision is not the one expected."""

    def __init__(self, key: str, expected: int, actual: int | None) -> None:
        super().__init__(f"key {key!r}: expected revision {expected}, found {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class CompactedError(StorageError):
    """The revision asked for is older than the compaction window."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(
            f"required revision {requested} has been compacted (oldest available {compacted + 1})"
        )
        self.requested = requested
        self.compacted = compacted


class StorageUnavailable(StorageError):
    """No storage member could answer (connection refused, quorum lost): the API answers 503."""


class StorageTimeout(StorageError):
    """A storage request timed out: whether a write was applied is unknown (the API answers 504)."""


@dataclass(frozen=True)
class Cause:
    """One entry of ``Status.details.causes``: ``FieldValueInvalid`` at ``metadata.name``."""

    reason: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(frozen=True)
class StatusDetails:
    name: str = ""
    group: str = ""
    kind: str = ""
    uid: str = ""
    causes: tuple[Cause, ...] = field(default_factory=tuple)
    retry_after_seconds: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.group:
            out["group"] = self.group
        if self.kind:
            out["kind"] = self.kind
        if self.uid:
            out["uid"] = self.uid
        if self.causes:
            out["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after_seconds:
            out["retryAfterSeconds"] = self.retry_after_seconds
        return out


class StatusError(KubewardError):
    """An error the API server answers with a ``Status`` body."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"

    def __init__(self, message: str, details: StatusDetails | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_status(self) -> dict[str, Any]:
        """The ``metav1.Status`` body, its keys in the order kube-apiserver writes them.

        Go encodes a struct's fields in declaration order and leaves out empty ``omitempty``
        ones: kind, apiVersion, metadata (always, even empty), status, message, reason,
        details, code. Clients that compare bodies byte for byte see the same layout.
        """
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
        }
        if self.message:
            body["message"] = self.message
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details.to_dict()
        if self.code:
            body["code"] = self.code
        return body


class BadRequest(StatusError):
    code = 400
    reason = "BadRequest"


class Unauthorized(StatusError):
    code = 401
    reason = "Unauthorized"


class Forbidden(StatusError):
    code = 403
    reason = "Forbidden"


class NotFound(StatusError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(StatusError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptable(StatusError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(StatusError):
    code = 409
    reason = "AlreadyExists"


class Conflict(StatusError):
    code = 409
    reason = "Conflict"


class Gone(StatusError):
    code = 410
    reason = "Expired"


class RequestEntityTooLarge(StatusError):
    code = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(StatusError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(StatusError):
    code = 422
    reason = "Invalid"


class TooManyRequests(StatusError):
    code = 429
    reason = "TooManyRequests"


class InternalError(StatusError):
    code = 500
    reason = "InternalError"


class ConversionFailed(StatusError):
    """A custom resource could not be converted between versions (its webhook failed).

    As upstream, the error reaches the client as a plain error would: 500 with no reason
    (``StatusReasonUnknown``), so kubectl prints ``Error from server: conversion webhook for
    <group>/<version>, Kind=<Kind> failed: ...``.
    """

    code = 500
    reason = ""


class ServiceUnavailable(StatusError):
    code = 503
    reason = "ServiceUnavailable"


class Timeout(StatusError):
    code = 504
    reason = "Timeout"


def invalid(kind: str, name: str, causes: Sequence[Cause], group: str = "") -> Invalid:
    """Build the 422 Kubernetes sends for a failed validation.

    The message reads as Kubernetes writes it:
    ``Pod "web" is invalid: [metadata.name: Required value, spec.containers: Required value]``.
    """
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qualified = f"{kind}.{group}" if group else kind
    return Invalid(
        f'{qualified} "{name}" is invalid: {joined}',
        StatusDetails(name=name, group=group, kind=kind, causes=tuple(causes)),
    )


class RemoteStatus(StatusError):
    """A refusal whose code and reason another service chose, such as an admission webhook's."""

    def __init__(
        self, message: str, code: int, reason: str, details: StatusDetails | None = None
    ) -> None:
        super().__init__(message, details)
        self.code = code  # type: ignore[misc]
        self.reason = reason  # type: ignore[misc]


def storage_status(exc: StorageError) -> StatusError:
    """The Status a storage failure is answered with: 503 when no storage member could answer
    (retry later), 504 when a request timed out with its outcome unknown, 500 otherwise."""
    if isinstance(exc, StorageUnavailable):
        return ServiceUnavailable(f"the storage is unavailable: {exc}")
    if isinstance(exc, StorageTimeout):
        return Timeout(
            f"Timeout: the storage did not answer in time; the request may have been applied ({exc})"
        )
    return InternalError(str(exc))
