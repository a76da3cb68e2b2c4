"""The kubeconfig schema as client-go reads and writes it: validation and the canonical form.

client-go decodes a kubeconfig into typed structs (``k8s.io/client-go/tools/clientcmd/api/v1``)
and encodes it back; whatever kubectl writes or shows is that round trip. kubeward keeps every
entry as the plain mapping from the file (so that nothing it does not know is lost) and uses this
module to check it and to bring it into the same canonical shape.

Rules (each one what client-go does, except rule 6):
 1. A known field has one JSON type; any other type is an error naming the field. ``null`` means
    "absent". ``apiVersion`` must be ``v1`` and ``kind`` ``Config`` when given.
 2. ``*-data`` fields are base64 (line breaks allowed); the canonical form re-encodes them.
 3. Named lists (clusters, users, contexts, extensions) may not repeat a name.
 4. Optional fields that are empty are dropped (``omitempty``); required ones are always written
    (``server``, a context's ``cluster`` and ``user``, ``current-context``, ``preferences``, the
    three lists, which are ``null`` when empty, and an exec plugin's ``args``, ``env`` and
    ``provideClusterInfo``).
 5. An exec plugin of API version ``client.authentication.k8s.io/v1alpha1`` or ``v1beta1``
    without ``interactiveMode`` gets ``IfAvailable``, client-go's default.
 6. Unlike client-go, fields this schema does not know are kept, after the known ones, so a
    kubeconfig written by a newer tool is not silently stripped by an edit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from kubeward.errors import InputError
from kubeward.kubeconfig.encoding import sort_keys_bytewise

EXEC_DEFAULTED_API_VERSIONS = (
    "client.authentication.k8s.io/v1alpha1",
    "client.authentication.k8s.io/v1beta1",
)

# Field kinds: how a value is checked and made canonical (the Go type, in words).
STR = "string"
BOOL = "bool"
DATA = "base64 bytes"
STR_LIST = "[]string"
STR_LIST_MAP = "map[string][]string"
STR_MAP = "map[string]string"
EXTENSIONS = "[]NamedExtension"
EXEC = "ExecConfig"
AUTH_PROVIDER = "AuthProviderConfig"
ENV = "[]ExecEnvVar"

# (field, kind, written even when empty) in the Go struct's field order.
FieldSpec = tuple[str, str, bool]

CLUSTER_FIELDS: tuple[FieldSpec, ...] = (
    ("server", STR, True),
    ("tls-server-name", STR, False),
    ("insecure-skip-tls-verify", BOOL, False),
    ("certificate-authority", STR, False),
    ("certificate-authority-data", DATA, False),
    ("proxy-url", STR, False),
    ("disable-compression", BOOL, False),
    ("extensions", EXTENSIONS, False),
)
AUTH_INFO_FIELDS: tuple[FieldSpec, ...] = (
    ("client-certificate", STR, False),
    ("client-certificate-data", DATA, False),
    ("client-key", STR, False),
    ("client-key-data", DATA, False),
    ("token", STR, False),
    ("tokenFile", STR, False),
    ("as", STR, False),
    ("as-uid", STR, False),
    ("as-groups", STR_LIST, False),
    ("as-user-extra", STR_LIST_MAP, False),
    ("username", STR, False),
    ("password", STR, False),
    ("auth-provider", AUTH_PROVIDER, False),
    ("exec", EXEC, False),
    ("extensions", EXTENSIONS, False),
)
CONTEXT_FIELDS: tuple[FieldSpec, ...] = (
    ("cluster", STR, True),
    ("user", STR, True),
    ("namespace", STR, False),
    ("extensions", EXTENSIONS, False),
)
EXEC_FIELDS: tuple[FieldSpec, ...] = (
    ("command", STR, True),
    ("args", STR_LIST, True),
    ("env", ENV, True),
    ("apiVersion", STR, False),
    ("installHint", STR, False),
    ("provideClusterInfo", BOOL, True),
    ("interactiveMode", STR, False),
)
AUTH_PROVIDER_FIELDS: tuple[FieldSpec, ...] = (
    ("name", STR, True),
    ("config", STR_MAP, True),
)
ENV_VAR_FIELDS: tuple[FieldSpec, ...] = (("name", STR, True), ("value", STR, True))
PREFERENCES_FIELDS: tuple[FieldSpec, ...] = (
    ("colors", BOOL, False),
    ("extensions", EXTENSIONS, False),
)

# list key in the file -> (key of the inner mapping, its fields)
NAMED_LISTS: dict[str, tuple[str, tuple[FieldSpec, ...]]] = {
    "clusters": ("cluster", CLUSTER_FIELDS),
    "users": ("user", AUTH_INFO_FIELDS),
    "contexts": ("context", CONTEXT_FIELDS),
}

_TYPE_NAMES = {str: "a string", bool: "a boolean", list: "a list", dict: "a mapping"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise InputError(f"{where}: must be {_TYPE_NAMES[kind]}, not {_type_name(value)}")


def decode_data(text: str, where: str) -> bytes:
    """Decode a ``*-data`` field: standard base64, line breaks ignored (as Go does)."""
    compact = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{where}: not valid base64") from exc


def encode_data(data: bytes) -> str:
    """The ``*-data`` text for raw bytes (PEM, usually)."""
    return base64.b64encode(data).decode("ascii")


def _canonical_value(kind: str, value: Any, where: str) -> Any:
    handler = _KIND_HANDLERS[kind]
    return handler(value, where)


def _canonical_str(value: Any, where: str) -> str:
    _expect(value, str, where)
    return str(value)


def _canonical_bool(value: Any, where: str) -> bool:
    _expect(value, bool, where)
    return bool(value)


def _canonical_data(value: Any, where: str) -> str:
    _expect(value, str, where)
    return encode_data(decode_data(value, where))


def _canonical_str_list(value: Any, where: str) -> list[str]:
    _expect(value, list, where)
    return [_canonical_str(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _canonical_str_map(value: Any, where: str) -> dict[str, str]:
    _expect(value, dict, where)
    return {str(k): _canonical_str(v, f"{where}.{k}") for k, v in sorted(value.items())}


def _canonical_str_list_map(value: Any, where: str) -> dict[str, list[str]]:
    _expect(value, dict, where)
    return {str(k): _canonical_str_list(v, f"{where}.{k}") for k, v in sorted(value.items())}


def canonical_extensions(value: Any, where: str) -> list[dict[str, Any]]:
    """A named ``extensions`` list: unique names, sorted by name, raw values kept (rule 3)."""
    _expect(value, list, where)
    by_name: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(value):
        _expect(item, dict, f"{where}[{i}]")
        name = "" if item.get("name") is None else item["name"]
        _expect(name, str, f"{where}[{i}].name")
        if name in by_name:
            raise InputError(f"{where}: duplicate name {name!r}")
        by_name[name] = {"name": name, "extension": sort_keys_bytewise(item.get("extension"))}
    return [by_name[name] for name in sorted(by_name)]


def _canonical_env(value: Any, where: str) -> list[dict[str, Any]]:
    _expect(value, list, where)
    return [canonical_struct(item, ENV_VAR_FIELDS, f"{where}[{i}]") for i, item in enumerate(value)]


def _canonical_exec(value: Any, where: str) -> dict[str, Any]:
    out = canonical_struct(value, EXEC_FIELDS, where)
    if not out.get("interactiveMode") and out.get("apiVersion") in EXEC_DEFAULTED_API_VERSIONS:
        out["interactiveMode"] = "IfAvailable"
        out = _reorder(out, EXEC_FIELDS)
    return out


def _canonical_auth_provider(value: Any, where: str) -> dict[str, Any]:
    return canonical_struct(value, AUTH_PROVIDER_FIELDS, where)


_KIND_HANDLERS: dict[str, Callable[[Any, str], Any]] = {
    STR: _canonical_str,
    BOOL: _canonical_bool,
    DATA: _canonical_data,
    STR_LIST: _canonical_str_list,
    STR_MAP: _canonical_str_map,
    STR_LIST_MAP: _canonical_str_list_map,
    EXTENSIONS: canonical_extensions,
    ENV: _canonical_env,
    EXEC: _canonical_exec,
    AUTH_PROVIDER: _canonical_auth_provider,
}


def _is_empty(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {})


def _reorder(fields: dict[str, Any], specs: tuple[FieldSpec, ...]) -> dict[str, Any]:
    known = [name for name, _, _ in specs]
    out = {name: fields[name] for name in known if name in fields}
    out.update((k, v) for k, v in fields.items() if k not in out)
    return out


def canonical_struct(value: Any, specs: tuple[FieldSpec, ...], where: str) -> dict[str, Any]:
    """Check a typed mapping and return it in canonical form (rules 1, 2, 4 and 6).

    ``value`` may be ``None`` (an empty struct). Unknown keys follow the known ones unchanged.
    """
    if value is None:
        value = {}
    _expect(value, dict, where)
    out: dict[str, Any] = {}
    known = set()
    for name, kind, required in specs:
        known.add(name)
        raw = value.get(name)
        if raw is None:
            if required:
                out[name] = _EMPTY_REQUIRED[kind]
            continue
        canonical = _canonical_value(kind, raw, f"{where}.{name}")
        if required or not _is_empty(canonical):
            out[name] = canonical
    for key, raw in value.items():
        if str(key) not in known:
            out[str(key)] = sort_keys_bytewise(raw)
    return out


_EMPTY_REQUIRED: dict[str, Any] = {
    STR: "",
    BOOL: False,
    STR_LIST: None,
    ENV: None,
    STR_MAP: None,
}


def check_header(doc: dict[str, Any], source: str) -> None:
    """Rule 1 for ``apiVersion`` and ``kind``."""
    api_version = doc.get("apiVersion")
    kind = doc.get("kind")
    if api_version is not None:
        _expect(api_version, str, f"{source}: apiVersion")
    if kind is not None:
        _expect(kind, str, f"{source}: kind")
    if api_version not in (None, "", "v1") or kind not in (None, "", "Config"):
        raise InputError(
            f"{source}: not a kubeconfig: kind {kind!r} in version {api_version!r} "
            "(expected kind Config, apiVersion v1)"
        )


def canonical_named_item(
    item: Any, list_key: str, index: int, source: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Check one entry of ``clusters``/``users``/``contexts``.

    Returns:
        (name, canonical inner mapping, unknown keys of the list item itself).
    """
    item_key, specs = NAMED_LISTS[list_key]
    at = f"{source}: {list_key}[{index}]"
    _expect(item, dict, at)
    name = "" if item.get("name") is None else item["name"]
    _expect(name, str, f"{at}.name")
    inner = canonical_struct(item.get(item_key), specs, f"{at}.{item_key}")
    extra = {str(k): v for k, v in item.items() if k not in ("name", item_key)}
    return name, inner, extra
