"""The kinds a CustomResourceDefinition serves, and the strategy of their objects.

One :class:`~kubeward.api.scheme.ResourceType` per served version, all sharing one storage
prefix (``/registry/<group>/<plural>/``) and one :class:`~.conversion.Converter`: objects are
stored at the storage version and served at each version (``conversion.py``). A version marked
``deprecated`` carries its ``deprecationWarning`` (by default
``<group>/<version> <Kind> is deprecated``, as upstream) for the server to send with every
request made at it. Rules of the objects (:class:`CustomResourceStrategy`):

 1. On every write the version's schema defaults, prunes and validates the object
    (``schema.py``); a 422 lists every cause.
 2. With the ``status`` subresource, the main resource cannot change ``status`` and
    ``/status`` changes nothing else; without it, ``status`` is an ordinary field.
 3. ``metadata.generation`` moves on every change outside ``metadata`` (and outside
    ``status`` when the subresource is on).
 4. Field selectors: ``metadata.name``, ``metadata.namespace`` and the version's
    ``selectableFields``. Strategic merge patch is refused (415), as upstream.
 5. The schema's CEL rules (``x-kubernetes-validations``) are compiled once, when the kind is
    made, and run after the schema: on create with ``self`` only, on update with ``oldSelf``
    too (``rules.py``, ``rule_evaluation.py``). A blocking schema error (wrong type, missing,
    unsupported, too long, too many) skips them, with upstream's ``some validation rules were
    not checked`` cause. On update, a value equal to its old value is not refused by a rule
    that does not name ``oldSelf`` (ratcheting).
"""

from __future__ import annotations

from typing import Any

from kubeward.api.customresources.conversion import Converter, WebhookCaller
from kubeward.api.customresources.printer import printer_for_columns
from kubeward.api.customresources.rule_evaluation import (
    RULES_NOT_CHECKED,
    blocks_rules,
    evaluate_rules,
)
from kubeward.api.customresources.rules import compile_rules
from kubeward.api.customresources.schema import apply_defaults, prune, validate
from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ALL_VERBS, ResourceType, ScalePaths, Subresource
from kubeward.errors import Cause

_IGNORED_FOR_GENERATION = frozenset({"metadata", "apiVersion", "kind"})


class CustomResourceStrategy(Strategy):
    """Rules 1 to 4, reading the schema from the kind's descriptor."""

    def __init__(self, resource_type: ResourceType) -> None:
        super().__init__(resource_type)
        self.schema: dict[str, Any] = dict(resource_type.openapi_schema or {"type": "object"})
        self.has_status = resource_type.subresource("status") is not None
        self.selectable_fields = resource_type.selectable_fields
        self.last_pruned: list[str] = []
        # Compiled once per registered kind (a definition's rules were checked when it was written).
        self.rules, _ = compile_rules(self.schema)
        self.has_transition_rules = self.rules is not None and self.rules.any(transition=True)
        self._updating: int | None = None  # id() of the object whose update is being validated

    def default(self, obj: JSONObject) -> None:
        apply_defaults(obj, self.schema)
        self.last_pruned = prune(obj, self.schema)

    def validate(self, obj: JSONObject) -> list[Cause]:
        causes = validate(obj, self.schema)
        if self.rules is None:
            return causes
        if blocks_rules(causes):
            return [*causes, RULES_NOT_CHECKED]
        if self._updating == id(obj):
            return causes  # validate_update runs the rules, with the old object to ratchet
        return causes + evaluate_rules(self.rules, obj, transition=False)

    def validate_metadata(self, obj: JSONObject, *, creating: bool) -> list[Cause]:
        causes = super().validate_metadata(obj, creating=creating)
        # The store validates a write's metadata, then the object, then (on update) the
        # update, one after the other: this is how validate() learns a write is an update.
        self._updating = None if creating else id(obj)
        if creating and self.has_transition_rules and not blocks_rules(validate(obj, self.schema)):
            # The transition rules with optionalOldSelf run on create, oldSelf = optional.none().
            causes.extend(evaluate_rules(self.rules, obj, transition=True))
        return causes

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        updating, self._updating = self._updating == id(new), None
        if self.rules is None or blocks_rules(validate(new, self.schema)):
            return []  # validate() has said why the rules were not checked
        causes = []
        if updating:
            causes = evaluate_rules(self.rules, new, old, transition=False, ratchet=True)
        if self.has_transition_rules:
            causes += evaluate_rules(self.rules, new, old, transition=True)
        return causes

    def generation_changed(self, new: JSONObject, old: JSONObject) -> bool:
        ignored = _IGNORED_FOR_GENERATION | ({"status"} if self.has_status else set())
        keys = (set(new) | set(old)) - ignored
        return any(new.get(k) != old.get(k) for k in keys)


def deprecation_warning(crd: JSONObject, version: JSONObject) -> str:
    """The ``Warning`` a request at ``version`` gets: empty unless the version is deprecated."""
    if version.get("deprecated") is not True:
        return ""
    given = version.get("deprecationWarning")
    if isinstance(given, str):
        return given
    spec = crd.get("spec") or {}
    kind = (spec.get("names") or {}).get("kind", "")
    return f"{spec.get('group', '')}/{version.get('name', '')} {kind} is deprecated"


def served_kinds(
    crd: JSONObject, webhook_caller: WebhookCaller | None = None
) -> list[ResourceType]:
    """A descriptor for every served version of a (valid) definition.

    ``webhook_caller`` is how a ``Webhook`` conversion reaches its webhook (the server's
    HTTPS client); without one, such conversions fail.
    """
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    converter = Converter(crd, webhook_caller)
    kinds = []
    for version in spec.get("versions") or []:
        if not version.get("served"):
            continue
        schema = dict((version.get("schema") or {}).get("openAPIV3Schema") or {"type": "object"})
        selectable = tuple(
            str(f.get("jsonPath", "")).lstrip(".")
            for f in version.get("selectableFields") or []
            if isinstance(f, dict)
        )
        subresources = version.get("subresources") or {}
        subs = []
        if "status" in subresources:
            subs.append(Subresource("status", str(names["kind"]), ("get", "patch", "update")))
        scale = subresources.get("scale")
        if isinstance(scale, dict):
            paths = ScalePaths(
                spec_replicas=str(scale.get("specReplicasPath", "")).lstrip("."),
                status_replicas=str(scale.get("statusReplicasPath", "")).lstrip("."),
                label_selector=str(scale.get("labelSelectorPath") or "").lstrip("."),
            )
            subs.append(
                Subresource(
                    "scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1", paths
                )
            )
        kinds.append(
            ResourceType(
                str(spec["group"]),
                str(version["name"]),
                str(names["kind"]),
                str(names["plural"]),
                spec.get("scope") == "Namespaced",
                verbs=ALL_VERBS,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(subs),
                strategy=CustomResourceStrategy,
                printer=printer_for_columns(version.get("additionalPrinterColumns")),
                merge_root=None,
                openapi_schema=schema,
                selectable_fields=selectable,
                typed_list_items=True,
                keyed_by_group=True,
                singular_name=str(names.get("singular") or ""),
                converter=converter,
                deprecation_warning=deprecation_warning(crd, version),
            )
        )
    return kinds
