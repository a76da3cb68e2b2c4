"""Kubernetes' own API descriptions, read at run time from the user's ``kubernetes`` package.

``kubectl explain`` prints the ``description`` of each schema and field of the OpenAPI
documents. Kubernetes writes that prose in its Go sources and publishes it in its OpenAPI
documents; kubeward does not copy it into its repository. The official ``kubernetes`` Python
client, when the user has installed it, carries the same text in its generated model classes,
so kubeward reads it from there, in the user's environment, when it builds a document.

Rules:

1. Nothing is imported unless the ``kubernetes`` package is importable; without it every
   schema keeps the one-line description ``schemas.json`` gives its kind, if any, and fields
   have none. ``KUBEWARD_OPENAPI_DESCRIPTIONS=0`` turns the lookup off.
2. A schema ``io.k8s.api.<group>.<version>.<Name>`` (or the apimachinery
   ``io.k8s.apimachinery.pkg.apis.meta.<version>.<Name>``) is the client's class
   ``<Group><Version><Name>`` when the client had to qualify the name (``CoreV1Event``), else
   ``<Version><Name>`` (``V1Pod``). A schema without a class keeps what it has.
3. A field's description is found through the class's ``attribute_map`` (JSON name to Python
   attribute), then the pydantic field's ``description`` (clients from 35 on) or the property's
   docstring (older clients: the paragraph between "Gets the ..." and ``:return:``).
   A kind's description is the first paragraph of the class docstring, unless that is the
   generator's "auto generated" notice.
4. Descriptions are added to copies; the catalog's schemas are never changed (catalog rule 1).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
from collections.abc import Mapping
from types import ModuleType
from typing import Any

_ENV_SWITCH = "KUBEWARD_OPENAPI_DESCRIPTIONS"
_API_PREFIX = "io.k8s.api."
_META_PREFIX = "io.k8s.apimachinery.pkg.apis.meta."
_NOQA = re.compile(r"\s*# noqa: E501\s*$")


def _client_models() -> ModuleType | None:
    if os.environ.get(_ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        return importlib.import_module("kubernetes.client.models")
    except Exception:  # not installed, or broken: descriptions are optional (rule 1)
        return None


def class_names(schema_name: str) -> tuple[str, ...]:
    """The client class names a schema may have, most specific first (rule 2)."""
    for prefix in (_API_PREFIX, _META_PREFIX):
        if schema_name.startswith(prefix):
            rest = schema_name[len(prefix) :].split(".")
            if prefix == _META_PREFIX:
                rest = ["meta", *rest]
            if len(rest) != 3:
                return ()
            group, version, name = rest
            return (
                f"{group.capitalize()}{version.capitalize()}{name}",
                f"{version.capitalize()}{name}",
            )
    return ()


def _paragraphs(text: str) -> list[str]:
    cleaned = inspect.cleandoc(text)
    parts = [
        " ".join(_NOQA.sub("", line).strip() for line in p.splitlines())
        for p in cleaned.split("\n\n")
    ]
    return [p.strip() for p in parts if p.strip()]


def kind_description(cls: type) -> str:
    """The first paragraph of the class docstring, unless it is the generator's notice."""
    doc = cls.__doc__ or ""
    paragraphs = _paragraphs(doc)
    if not paragraphs:
        return ""
    first = paragraphs[0]
    if first.startswith(("NOTE: This class is auto generated", "Attributes:")):
        return ""
    return first


def field_description(cls: type, attribute: str) -> str:
    """A field's description from the pydantic field or the property docstring (rule 3)."""
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, Mapping) and attribute in fields:
        text = getattr(fields[attribute], "description", None)
        return text.strip() if isinstance(text, str) else ""
    prop = inspect.getattr_static(cls, attribute, None)
    if isinstance(prop, property) and prop.__doc__:
        kept = [
            p
            for p in _paragraphs(prop.__doc__)
            if not p.startswith(("Gets the ", ":return:", ":rtype:"))
        ]
        return "\n\n".join(kept)
    return ""


def _descriptions_of(cls: type) -> tuple[str, dict[str, str]]:
    attribute_map = getattr(cls, "attribute_map", None)
    fields: dict[str, str] = {}
    if isinstance(attribute_map, Mapping):
        for attribute, json_name in attribute_map.items():
            text = field_description(cls, str(attribute))
            if text:
                fields[str(json_name)] = text
    return kind_description(cls), fields


@functools.cache
def _lookup(schema_name: str) -> tuple[str, Mapping[str, str]] | None:
    models = _client_models()
    if models is None:
        return None
    for class_name in class_names(schema_name):
        try:
            cls = getattr(models, class_name, None)
        except Exception:  # a broken lazily-imported model module
            cls = None
        if isinstance(cls, type):
            return _descriptions_of(cls)
    return None


def describe(schema_name: str, schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with the client's descriptions, or ``schema`` itself when there are none."""
    found = _lookup(schema_name)
    if found is None:
        return schema
    kind_text, field_texts = found
    properties = schema.get("properties")
    if not kind_text and not (field_texts and isinstance(properties, Mapping)):
        return schema
    described: dict[str, Any] = dict(schema)
    if kind_text:
        described["description"] = kind_text
    if isinstance(properties, Mapping) and field_texts:
        described["properties"] = {
            name: ({**prop, "description": field_texts[name]} if name in field_texts else prop)
            for name, prop in properties.items()
        }
    return described


def available() -> bool:
    """True when descriptions come from an installed ``kubernetes`` package (rule 1)."""
    return _client_models() is not None
