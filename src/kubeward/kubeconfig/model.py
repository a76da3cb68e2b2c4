"""A typed, immutable kubeconfig that keeps everything it does not understand.

Each named entry (a cluster, a user — client-go calls it an ``AuthInfo`` — or a context) keeps
its mapping exactly as the schema canonicalised it, with typed read accessors on top. Changes
make new values: ``cluster.updated({"server": url})``, ``config.with_entry(cluster)``.

Rules:
 1. Fields, extensions, exec and auth-provider settings and unknown keys survive a load/save round
    trip (see :mod:`kubeward.kubeconfig.schema` for the canonical form).
 2. An entry remembers the file that defined it (``source``, client-go's ``LocationOfOrigin``)
    so that an edit is written back to that file; ``source`` is not part of equality.
 3. Names are unique per list; :meth:`Kubeconfig.with_entry` replaces an entry of the same name.
 4. The serialised form lists entries sorted by name, as kubectl writes them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Self, TypeVar

from kubeward.errors import InputError
from kubeward.kubeconfig import schema


@dataclass(frozen=True)
class NamedEntry:
    """One item of a named list: ``{name: ..., cluster|user|context: {...}}``."""

    list_key: ClassVar[str]
    item_key: ClassVar[str]
    specs: ClassVar[tuple[schema.FieldSpec, ...]]

    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False)

    def _str(self, key: str) -> str:
        value = self.fields.get(key)
        return value if isinstance(value, str) else ""

    def _bool(self, key: str) -> bool:
        return self.fields.get(key) is True

    def _data(self, key: str) -> bytes | None:
        value = self.fields.get(key)
        if not isinstance(value, str) or not value:
            return None
        return schema.decode_data(value, f"{self.list_key}[{self.name}].{key}")

    def updated(self, changes: Mapping[str, Any]) -> Self:
        """A copy with fields set; ``None`` removes a field and ``bytes`` are base64-encoded.

        Raises:
            InputError: a value has the wrong type for its field.
        """
        fields = copy.deepcopy(dict(self.fields))
        for key, value in changes.items():
            if value is None:
                fields.pop(key, None)
            elif isinstance(value, bytes):
                fields[key] = schema.encode_data(value)
            else:
                fields[key] = value
        where = f"{self.list_key}[{self.name}].{self.item_key}"
        return replace(self, fields=schema.canonical_struct(fields, self.specs, where))

    def renamed(self, name: str) -> Self:
        return replace(self, name=name)

    def with_source(self, source: str | None) -> Self:
        return replace(self, source=source)

    def to_item(self) -> dict[str, Any]:
        """The list item as written to a file."""
        where = f"{self.list_key}[{self.name}].{self.item_key}"
        item: dict[str, Any] = {
            "name": self.name,
            self.item_key: schema.canonical_struct(self.fields, self.specs, where),
        }
        item.update(copy.deepcopy(dict(self.extra)))
        return item


@dataclass(frozen=True)
class Cluster(NamedEntry):
    """A ``clusters`` entry: where the API server is and how to trust it."""

    list_key = "clusters"
    item_key = "cluster"
    specs = schema.CLUSTER_FIELDS

    @property
    def server(self) -> str:
        return self._str("server")

    @property
    def tls_server_name(self) -> str:
        return self._str("tls-server-name")

    @property
    def insecure_skip_tls_verify(self) -> bool:
        return self._bool("insecure-skip-tls-verify")

    @property
    def certificate_authority(self) -> str:
        """Path of the CA bundle file, as written (maybe relative to :attr:`source`'s folder)."""
        return self._str("certificate-authority")

    @property
    def certificate_authority_data(self) -> bytes | None:
        return self._data("certificate-authority-data")

    @property
    def proxy_url(self) -> str:
        return self._str("proxy-url")


@dataclass(frozen=True)
class AuthInfo(NamedEntry):
    """A ``users`` entry (client-go's ``AuthInfo``): the credentials to present."""

    list_key = "users"
    item_key = "user"
    specs = schema.AUTH_INFO_FIELDS

    @property
    def client_certificate(self) -> str:
        return self._str("client-certificate")

    @property
    def client_certificate_data(self) -> bytes | None:
        return self._data("client-certificate-data")

    @property
    def client_key(self) -> str:
        return self._str("client-key")

    @property
    def client_key_data(self) -> bytes | None:
        return self._data("client-key-data")

    @property
    def token(self) -> str:
        return self._str("token")

    @property
    def token_file(self) -> str:
        return self._str("tokenFile")

    @property
    def username(self) -> str:
        return self._str("username")

    @property
    def password(self) -> str:
        return self._str("password")

    @property
    def impersonate(self) -> str:
        return self._str("as")

    @property
    def impersonate_groups(self) -> tuple[str, ...]:
        groups = self.fields.get("as-groups")
        return tuple(groups) if isinstance(groups, list) else ()

    @property
    def exec(self) -> Mapping[str, Any] | None:
        value = self.fields.get("exec")
        return value if isinstance(value, dict) else None

    @property
    def auth_provider(self) -> Mapping[str, Any] | None:
        value = self.fields.get("auth-provider")
        return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Context(NamedEntry):
    """A ``contexts`` entry: a cluster, a user and a default namespace."""

    list_key = "contexts"
    item_key = "context"
    specs = schema.CONTEXT_FIELDS

    @property
    def cluster(self) -> str:
        return self._str("cluster")

    @property
    def user(self) -> str:
        return self._str("user")

    @property
    def namespace(self) -> str:
        return self._str("namespace")


EntryT = TypeVar("EntryT", bound=NamedEntry)

_HEADER_KEYS = ("apiVersion", "kind", "preferences", "current-context", "extensions")


def _entries(doc: dict[str, Any], entry_type: type[EntryT], source: str) -> tuple[EntryT, ...]:
    """One named list of a document, checked (unique names) and canonicalised."""
    list_key = entry_type.list_key
    items = doc.get(list_key)
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InputError(f"{source}: {list_key}: must be a list of named entries")
    entries: dict[str, EntryT] = {}
    for index, item in enumerate(items):
        name, inner, extra = schema.canonical_named_item(item, list_key, index, source)
        if name in entries:
            raise InputError(f"{source}: {list_key}: duplicate name {name!r}")
        entries[name] = entry_type(name=name, fields=inner, extra=extra, source=source)
    return tuple(entries.values())


@dataclass(frozen=True)
class Kubeconfig:
    """A whole kubeconfig: one file, or several merged by the KUBECONFIG rules."""

    clusters: tuple[Cluster, ...] = ()
    users: tuple[AuthInfo, ...] = ()
    contexts: tuple[Context, ...] = ()
    current_context: str = ""
    preferences: Mapping[str, Any] = field(default_factory=dict)
    extensions: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Any, source: str = "kubeconfig") -> Kubeconfig:
        """Check a parsed document and build the model; entries get ``source`` as their origin.

        Raises:
            InputError: the document is not a kubeconfig, naming ``source`` and the field.
        """
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            kind = "a list" if isinstance(doc, list) else f"a {type(doc).__name__}"
            raise InputError(f"{source}: not a kubeconfig: the document is {kind}, not a mapping")
        schema.check_header(doc, source)
        clusters = _entries(doc, Cluster, source)
        users = _entries(doc, AuthInfo, source)
        contexts = _entries(doc, Context, source)
        current = doc.get("current-context")
        if current is not None and not isinstance(current, str):
            raise InputError(f"{source}: current-context: must be a string")
        preferences = schema.canonical_struct(
            doc.get("preferences"), schema.PREFERENCES_FIELDS, f"{source}: preferences"
        )
        extensions: list[dict[str, Any]] = []
        if doc.get("extensions") is not None:
            extensions = schema.canonical_extensions(doc["extensions"], f"{source}: extensions")
        known = (*_HEADER_KEYS, *schema.NAMED_LISTS)
        return cls(
            clusters=clusters,
            users=users,
            contexts=contexts,
            current_context=current or "",
            preferences=preferences,
            extensions=tuple(extensions),
            extra={str(k): copy.deepcopy(v) for k, v in doc.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical document, in client-go's field order, entries sorted by name."""

        def items(entries: tuple[NamedEntry, ...]) -> list[dict[str, Any]] | None:
            if not entries:
                return None
            return [e.to_item() for e in sorted(entries, key=lambda e: e.name)]

        doc: dict[str, Any] = {
            "kind": "Config",
            "apiVersion": "v1",
            "preferences": copy.deepcopy(dict(self.preferences)),
            "clusters": items(self.clusters),
            "users": items(self.users),
            "contexts": items(self.contexts),
            "current-context": self.current_context,
        }
        if self.extensions:
            doc["extensions"] = [copy.deepcopy(dict(e)) for e in self.extensions]
        doc.update(copy.deepcopy(dict(self.extra)))
        return doc

    # --- lookups -------------------------------------------------------------------------

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def user(self, name: str) -> AuthInfo | None:
        return next((u for u in self.users if u.name == name), None)

    def context(self, name: str) -> Context | None:
        return next((c for c in self.contexts if c.name == name), None)

    # --- edits ---------------------------------------------------------------------------

    def with_entry(self, entry: NamedEntry) -> Kubeconfig:
        """A copy with ``entry`` replacing the entry of the same name, or appended."""
        existing: tuple[NamedEntry, ...] = getattr(self, entry.list_key)
        if any(e.name == entry.name for e in existing):
            updated = tuple(entry if e.name == entry.name else e for e in existing)
        else:
            updated = (*existing, entry)
        changes: dict[str, Any] = {entry.list_key: updated}
        return replace(self, **changes)

    def without_entry(self, list_key: str, name: str) -> Kubeconfig:
        """A copy without the named entry of ``clusters``, ``users`` or ``contexts``."""
        existing: tuple[NamedEntry, ...] = getattr(self, list_key)
        changes: dict[str, Any] = {list_key: tuple(e for e in existing if e.name != name)}
        return replace(self, **changes)

    def with_current_context(self, name: str) -> Kubeconfig:
        return replace(self, current_context=name)

    def with_preferences(self, preferences: Mapping[str, Any]) -> Kubeconfig:
        return replace(self, preferences=preferences)

    def is_empty(self) -> bool:
        return not (
            self.clusters
            or self.users
            or self.contexts
            or self.current_context
            or self.preferences
            or self.extensions
            or self.extra
        )
