"""The per-kind rules the generic store applies: defaults, validation, status, fields.

A :class:`Strategy` is what Kubernetes calls a ``RESTCreateStrategy`` / ``RESTUpdateStrategy``
rolled into one. The generic store calls, in order (after mutating admission, before validating
admission — ``api.registry.scope``):

 on create: ``prepare_for_create`` (with the request's scope: who asks) → ``default`` →
 ``validate`` + ``validate_create`` (→ 422 on any cause)
 on update: ``prepare_for_update`` → ``default`` → ``validate`` + ``validate_update``
 on a subresource update: ``prepare_for_subresource_update`` (for ``/status``: keeps everything
 but status) → ``default`` → ``validate`` + ``validate_subresource_update``.

Strategies never touch storage. Rules common to every kind (object names, labels,
annotations, immutable uid and creationTimestamp) live here so each kind adds only its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from kubeward.api.meta import JSONObject, get_path
from kubeward.api.registry.scope import RequestScope
from kubeward.api.scheme import ResourceType
from kubeward.api.validation import field
from kubeward.api.validation.meta import (
    NameCheck,
    check_dns1123_label,
    check_dns1123_subdomain,
    validate_annotations,
    validate_labels,
    validate_name,
)
from kubeward.errors import BadRequest, Cause

FieldExtractor = Callable[[JSONObject], Mapping[str, str]]


class Strategy:
    """Defaults and validation shared by every kind; subclasses add their own."""

    name_check: NameCheck = staticmethod(check_dns1123_subdomain)
    # Kind-specific field selector labels, beyond metadata.name and metadata.namespace.
    selectable_fields: tuple[str, ...] = ()
    # True when the kind has a status that the main resource must not change.
    has_status: bool = False
    # Fields of the object that bump metadata.generation when they change.
    generation_fields: tuple[str, ...] = ("spec",)

    def __init__(self, resource_type: ResourceType) -> None:
        self.resource_type = resource_type

    # --- hooks for subclasses -------------------------------------------------------------
    def default(self, obj: JSONObject) -> None:
        """Fill defaults in place."""

    def validate(self, obj: JSONObject) -> list[Cause]:
        """The kind's own rules (metadata is checked by the store)."""
        return []

    def validate_create(self, obj: JSONObject) -> list[Cause]:
        """Rules only a new object is held to (events.k8s.io/v1 Events), beside :meth:`validate`."""
        return []

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        """Rules that compare the new object with the stored one (immutable fields)."""
        return []

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        """Clear what a client may not set; ``scope`` is ``None`` for the server's own writes."""
        if self.has_status:
            obj.pop("status", None)

    def prepare_for_update(self, new: JSONObject, old: JSONObject) -> None:
        """An update of the main resource keeps the stored status."""
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)

    def prepare_for_status_update(self, new: JSONObject, old: JSONObject) -> JSONObject:
        """A ``/status`` update changes only status: everything else comes from the stored object."""
        merged = copy.deepcopy(old)
        if "status" in new:
            merged["status"] = copy.deepcopy(new["status"])
        else:
            merged.pop("status", None)
        # Labels and annotations may change through status too? Kubernetes keeps them; so do we.
        return merged

    def prepare_for_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> JSONObject:
        """What an update through ``subresource`` may change (``status``: only the status)."""
        if subresource == "status":
            return self.prepare_for_status_update(new, old)
        new = copy.deepcopy(new)
        self.prepare_for_update(new, old)
        return new

    def validate_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> list[Cause]:
        """Rules for an update through ``subresource``; by default those of the main resource."""
        return self.validate_update(new, old)

    def to_storage(self, obj: JSONObject) -> JSONObject:
        """The stored form of ``obj``: itself, unless another kind owns the storage (the
        events.k8s.io Event is stored as the core Event it is a view of)."""
        return obj

    def from_storage(self, obj: JSONObject) -> JSONObject:
        """This kind's view of a stored object; the inverse of :meth:`to_storage`."""
        return obj

    def check_delete(self, obj: JSONObject) -> None:
        """Raise a ``StatusError`` when ``obj`` may never be deleted (system PriorityClasses)."""

    def blocks_deletion(self, obj: JSONObject) -> bool:
        """True while something other than metadata.finalizers holds the object (namespaces)."""
        return False

    def mark_deleting(self, obj: JSONObject) -> None:
        """Change the object when its deletion starts but cannot finish yet."""

    # --- helpers the store uses -----------------------------------------------------------
    def field_set(self, obj: JSONObject) -> dict[str, str]:
        """The values field selectors can test (``metadata.name=web``, ``spec.nodeName=n1``)."""
        meta = obj.get("metadata") or {}
        fields = {"metadata.name": str(meta.get("name", ""))}
        if self.resource_type.namespaced:
            fields["metadata.namespace"] = str(meta.get("namespace", ""))
        for path in self.selectable_fields:
            value = get_path(obj, path)
            fields[path] = "" if value is None else _field_text(value)
        return fields

    def check_field_selector_labels(self, labels: list[str]) -> None:
        """400 for a field selector on a field this kind does not support, as upstream does."""
        allowed = {"metadata.name", *self.selectable_fields}
        if self.resource_type.namespaced:
            allowed.add("metadata.namespace")
        for label in labels:
            if label not in allowed:
                raise BadRequest(
                    f"field label not supported: {label}",
                )

    def generation_changed(self, new: JSONObject, old: JSONObject) -> bool:
        return any(new.get(f) != old.get(f) for f in self.generation_fields)

    def validate_metadata(self, obj: JSONObject, *, creating: bool) -> list[Cause]:
        meta = obj.get("metadata") or {}
        causes: list[Cause] = []
        name = str(meta.get("name") or "")
        if not name:
            if not (creating and meta.get("generateName")):
                causes.append(field.required("metadata.name", "name or generateName is required"))
        else:
            causes.extend(validate_name(name, "metadata.name", self.name_check))
        if self.resource_type.namespaced:
            ns = str(meta.get("namespace") or "")
            if not ns:
                causes.append(field.required("metadata.namespace"))
            else:
                causes.extend(validate_name(ns, "metadata.namespace", check_dns1123_label))
        elif meta.get("namespace"):
            causes.append(field.forbidden("metadata.namespace", "not allowed on this type"))
        causes.extend(validate_labels(meta.get("labels"), "metadata.labels"))
        causes.extend(validate_annotations(meta.get("annotations"), "metadata.annotations"))
        finalizers = meta.get("finalizers") or []
        if not isinstance(finalizers, list):
            causes.append(field.invalid("metadata.finalizers", finalizers, "must be a list"))
        return causes


def _field_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
