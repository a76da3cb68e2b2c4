"""A property-based fuzzer for kubeward's request bodies, over real TLS against a real server.

Used by ``test_api_fuzz.py`` (a bounded CI run) and ``tools/fuzz_api.py`` (long campaigns).
Every served kind is driven through every write it accepts — create, update, the ``status`` and
other subresources, JSON / merge / strategic merge patch, server-side apply, delete with a
DeleteOptions body — and the review endpoints, with bodies in JSON, YAML and (where the server
reads it) protobuf. Bodies start from a valid seed object and are then bent by hypothesis:
fields replaced by values of any JSON type (``-0.0``, integers past int64, huge floats, deep
nesting), values drawn from the kind's own OpenAPI schema so validation is reached deep down,
unknown fields, hostile YAML (alias bombs, ``!!binary``, ``!!python/...``, merge keys) and
schema-shaped random protobuf.

The properties checked for each request:

 1. the answer is never a 5xx;
 2. a refused request (4xx) changes nothing stored: the target kind's list (in its scope) is the
    same before and after;
 3. the server keeps answering ``/readyz`` with 200;
 4. what an accepted request stored reads back: the kind's list, as JSON and as a Table (what
    kubectl asks for), is never a 5xx.

Failures are recorded (not raised) so that a campaign reports all of them; the caller asserts.
"""

from __future__ import annotations

import collections
import datetime
import http.client
import json
import ssl
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import strategies as st

from kubeward.api.openapi import catalog
from kubeward.api.protobuf.kinds import MESSAGES, ROOTS
from kubeward.api.protobuf.schema import Field, Kind, Special
from kubeward.api.protobuf.wire import write_varint as _varint
from kubeward.api.resources import build_scheme
from kubeward.api.scheme import ResourceType

NAMESPACE = "fuzz"
SEED = "fz-seed"
JSON_TYPES = ("application/json",)
YAML_TYPE = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"


# --- targets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One kind of request: which verb on which URL, with which body kind."""

    label: str
    rt: ResourceType
    method: str
    sub: str = ""  # subresource
    body_kind: str = ""  # the kind the body is (Scale, Binding, DeleteOptions, ...)
    patch: str = ""  # patch content type, for PATCH

    def path(self, name: str) -> str:
        rt = self.rt
        prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
        if rt.namespaced:
            prefix += f"/namespaces/{NAMESPACE}"
        path = f"{prefix}/{rt.resource}"
        if name:
            path += f"/{name}"
        if self.sub:
            path += f"/{self.sub}"
        return path


_SUBRESOURCE_BODY = {"scale": "Scale", "binding": "Binding", "token": "TokenRequest"}
_PATCH_TYPES = (
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
)


# Answered by a node's kubelet, which the fuzzed cluster does not run: reaching no kubelet is
# a 5xx there, as kube-apiserver answers a failed dial (tests/integration/test_kubelet_streams.py).
_KUBELET_SUBRESOURCES = frozenset({"proxy", "exec", "attach", "portforward", "log"})


def targets() -> list[Target]:
    scheme, _ = build_scheme()
    out: list[Target] = []
    for rt in scheme:
        if not rt.stored:
            out.append(Target(f"{rt.kind}/create", rt, "POST", body_kind=rt.kind))
            continue
        out.append(Target(f"{rt.kind}/create", rt, "POST", body_kind=rt.kind))
        out.append(Target(f"{rt.kind}/update", rt, "PUT", body_kind=rt.kind))
        out.append(Target(f"{rt.kind}/delete", rt, "DELETE", body_kind="DeleteOptions"))
        out.append(Target(f"{rt.kind}/apply", rt, "PATCH", body_kind=rt.kind, patch="apply"))
        for patch in _PATCH_TYPES:
            short = patch.split("/")[1].split("+")[0]
            out.append(Target(f"{rt.kind}/{short}", rt, "PATCH", body_kind=rt.kind, patch=patch))
        for sub in rt.subresources:
            if sub.name in _KUBELET_SUBRESOURCES:
                continue
            kind = _SUBRESOURCE_BODY.get(sub.name, rt.kind)
            method = "POST" if sub.name in ("binding", "token") else "PUT"
            out.append(Target(f"{rt.kind}/{sub.name}", rt, method, sub=sub.name, body_kind=kind))
            if method == "PUT":
                out.append(
                    Target(
                        f"{rt.kind}/{sub.name}/merge",
                        rt,
                        "PATCH",
                        sub=sub.name,
                        body_kind=kind,
                        patch=_PATCH_TYPES[0],
                    )
                )
    return out


# --- seeds ----------------------------------------------------------------------------------
def _csr_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz")]))
        .sign(key, hashes.SHA256())
    )
    import base64

    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


def seed(kind: str, name: str, csr: str, group: str = "") -> dict[str, Any]:
    """A valid object of ``kind`` (of ``group`` when two groups name the same kind) named
    ``name``, the starting point of every body."""
    container = {"name": "c", "image": "nginx"}
    job_template = {"spec": {"restartPolicy": "Never", "containers": [container]}}
    selected = {"selector": {"matchLabels": {"app": "a"}}}
    labelled = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [container]}}
    if (group, kind) == ("events.k8s.io", "Event"):
        return {
            "metadata": {"name": name},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "example.com/fuzz",
            "reportingInstance": "fuzz-1",
            "action": "Fuzz",
            "reason": "Fuzzed",
            "type": "Normal",
            "regarding": {"kind": "Pod", "name": "p", "namespace": NAMESPACE},
        }
    nothing_written = {
        "apiGroups": ["fuzz.example.com"],
        "apiVersions": ["v1"],
        "operations": ["CREATE"],
        "resources": ["nothing"],
    }
    specs: dict[str, dict[str, Any]] = {
        "StatefulSet": {"spec": {**selected, "serviceName": "s", "template": labelled}},
        "DaemonSet": {"spec": {**selected, "template": labelled}},
        "ControllerRevision": {"data": {"spec": {}}, "revision": 1},
        "Job": {"spec": {"template": job_template}},
        "CronJob": {
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": job_template}}}
        },
        "HorizontalPodAutoscaler": {
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
                "maxReplicas": 3,
            }
        },
        "PodDisruptionBudget": {"spec": {"minAvailable": 1, **selected}},
        "Ingress": {"spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}},
        "IngressClass": {"spec": {"controller": "example.com/ingress"}},
        "StorageClass": {"provisioner": "example.com/fast"},
        "CSIDriver": {"spec": {}},
        "CSINode": {"spec": {"drivers": [{"name": "csi.example.com", "nodeID": "n1"}]}},
        "VolumeAttachment": {
            "spec": {
                "attacher": "csi.example.com",
                "nodeName": "n1",
                "source": {"persistentVolumeName": "pv1"},
            }
        },
        "PriorityClass": {"value": 10},
        "Eviction": {},
        "Pod": {"spec": {"containers": [container]}},
        "Node": {"spec": {}},
        "Namespace": {},
        "ConfigMap": {"data": {"a": "b"}},
        "Secret": {"data": {"a": "Yg=="}},
        "ServiceAccount": {},
        "Event": {"involvedObject": {"kind": "Pod", "name": "p"}, "reason": "R", "message": "m"},
        "Deployment": {
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "a"}},
                "template": {
                    "metadata": {"labels": {"app": "a"}},
                    "spec": {"containers": [container]},
                },
            }
        },
        "ReplicaSet": {
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "r"}},
                "template": {
                    "metadata": {"labels": {"app": "r"}},
                    "spec": {"containers": [container]},
                },
            }
        },
        "Lease": {"spec": {"holderIdentity": "h", "leaseDurationSeconds": 10}},
        "NetworkPolicy": {"spec": {"podSelector": {}}},
        "Role": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
        "ClusterRole": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
        "RoleBinding": {
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}],
        },
        "ClusterRoleBinding": {
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}],
        },
        "CertificateSigningRequest": {
            "spec": {
                "request": csr,
                "signerName": "kubernetes.io/kube-apiserver-client",
                "usages": ["client auth"],
            }
        },
        "TokenReview": {"spec": {"token": "abc.def.ghi"}},
        "SelfSubjectReview": {},
        "SubjectAccessReview": {
            "spec": {"user": "u", "resourceAttributes": {"verb": "get", "resource": "pods"}}
        },
        "LocalSubjectAccessReview": {
            "spec": {
                "user": "u",
                "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": NAMESPACE},
            }
        },
        "SelfSubjectAccessReview": {
            "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}
        },
        "SelfSubjectRulesReview": {"spec": {"namespace": NAMESPACE}},
        "TokenRequest": {"spec": {"audiences": ["a"], "expirationSeconds": 3600}},
        "Scale": {"spec": {"replicas": 2}},
        "Binding": {"target": {"kind": "Node", "name": "fz-seed"}},
        "DeleteOptions": {"gracePeriodSeconds": 0},
        "FlowSchema": {
            "spec": {
                "priorityLevelConfiguration": {"name": "global-default"},
                "matchingPrecedence": 5000,
                "rules": [
                    {
                        "subjects": [{"kind": "User", "user": {"name": "fz"}}],
                        "resourceRules": [
                            {
                                "verbs": ["get"],
                                "apiGroups": [""],
                                "resources": ["pods"],
                                "namespaces": ["*"],
                            }
                        ],
                    }
                ],
            }
        },
        "PriorityLevelConfiguration": {
            "spec": {
                "type": "Limited",
                "limited": {"nominalConcurrencyShares": 5, "limitResponse": {"type": "Reject"}},
            }
        },
        # core workload kinds (issue 14)
        "Service": {"spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}},
        "Endpoints": {"subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}]},
        "EndpointSlice": {"addressType": "IPv4", "endpoints": [{"addresses": ["192.0.2.1"]}]},
        "ReplicationController": {
            "spec": {
                "replicas": 1,
                "template": {
                    "metadata": {"labels": {"app": "a"}},
                    "spec": {"containers": [container]},
                },
            }
        },
        "PodTemplate": {"template": {"spec": {"containers": [container]}}},
        "PersistentVolume": {
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/fz"},
            }
        },
        "PersistentVolumeClaim": {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            }
        },
        "LimitRange": {"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}},
        "ResourceQuota": {"spec": {"hard": {"pods": "10"}}},
        # admission policies (issue 18): they match a kind nothing writes
        "ValidatingAdmissionPolicy": {
            "spec": {
                "matchConstraints": {"resourceRules": [nothing_written]},
                "validations": [{"expression": "true"}],
            }
        },
        "ValidatingAdmissionPolicyBinding": {
            "spec": {
                "policyName": "fz-seed",
                "validationActions": ["Deny"],
                "matchResources": {"resourceRules": [nothing_written]},
            }
        },
    }
    obj: dict[str, Any] = json.loads(json.dumps(specs.get(kind, {})))
    if kind == "CustomResourceDefinition":
        return _crd_seed(name)
    if kind != "DeleteOptions":
        obj["metadata"] = {"name": name}
    return obj


def _crd_seed(name: str) -> dict[str, Any]:
    """A valid definition; its name must be ``<plural>.<group>``, so it is derived from ``name``."""
    plural = "".join(c for c in name.lower() if c.isalpha()) or "fz"
    return {
        "metadata": {"name": f"{plural}.fuzz.example.com"},
        "spec": {
            "group": "fuzz.example.com",
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": plural.capitalize()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


# --- values ---------------------------------------------------------------------------------
def _all_field_names() -> list[str]:
    names: set[str] = set()
    for schema in catalog.all_schemas().values():
        names.update((schema.get("properties") or {}).keys())
    return sorted(names)


FIELD_NAMES = _all_field_names()
_text = st.text(alphabet=string.printable + "é☃\x00", max_size=12)
_nasty_strings = st.sampled_from(
    [
        "",
        "x",
        "1e999",
        "-0.0",
        "2026-01-01T00:00:00Z",
        "not-a-time",
        "Zm9v",
        "===",
        "a/b",
        "default",
        "kube-system",
        "*",
        "system:masters",
        "-1",
        "18446744073709551616",
        "100m",
        "1Gi",
        "http",
        "TCP",
        "Always",
        "A" * 300,
    ]
)
_nasty_numbers = st.sampled_from(
    [0, -1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -0.0, 0.5, 1e308, 1.0, -1e-300]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**66), max_value=2**66),
    _nasty_numbers,
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
    _nasty_strings,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(_text | st.sampled_from(FIELD_NAMES), children, max_size=3)
    ),
    max_leaves=8,
)


def _deep(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


DEEP_VALUES = st.integers(min_value=95, max_value=105).map(_deep)


class SchemaValues:
    """Hypothesis strategies for values shaped by the OpenAPI schemas (mostly well-typed)."""

    def __init__(self) -> None:
        self.schemas = catalog.all_schemas()
        self.cache: dict[tuple[str, int], st.SearchStrategy[Any]] = {}

    def for_kind(self, kind: str, group: str, version: str) -> st.SearchStrategy[Any]:
        name = catalog.schema_name(group, version, kind)
        if name is None:
            return JSON_VALUES
        return self.named(name, 0)

    def named(self, name: str, depth: int) -> st.SearchStrategy[Any]:
        key = (name, depth)
        if key not in self.cache:
            self.cache[key] = st.deferred(lambda: self.build(self.schemas[name], depth))
        return self.cache[key]

    def build(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if depth > 7:
            return SCALARS
        target = catalog.ref_target(schema)
        if target is not None:
            return self.named(target, depth)
        if schema.get("x-kubernetes-int-or-string"):
            return st.integers(-5, 70000) | st.sampled_from(["http", "25%", "8080", ""])
        if "oneOf" in schema:
            return st.sampled_from(["100m", "1Gi", "1", "-1", "1e3", "x", "0.5"]) | st.integers(
                -2, 10
            )
        kind = schema.get("type")
        props = schema.get("properties")
        if props:
            keys = sorted(props)
            return st.lists(st.sampled_from(keys), max_size=4, unique=True).flatmap(
                lambda chosen: st.fixed_dictionaries(
                    {k: self.maybe_wrong(props[k], depth + 1) for k in chosen}
                )
            )
        if kind == "array":
            return st.lists(self.maybe_wrong(schema.get("items") or {}, depth + 1), max_size=3)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            return st.dictionaries(_text, self.maybe_wrong(additional, depth + 1), max_size=3)
        fmt = schema.get("format")
        if kind == "string" and fmt == "date-time":
            return st.datetimes(
                min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 1, 1)
            ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")) | st.sampled_from(["x", ""])
        if kind == "string" and fmt == "byte":
            return st.binary(max_size=12).map(lambda b: __import__("base64").b64encode(b).decode())
        if kind == "string":
            return _nasty_strings | _text
        if kind == "integer":
            return st.integers(-(2**64), 2**64) | _nasty_numbers
        if kind == "boolean":
            return st.booleans()
        return JSON_VALUES

    def maybe_wrong(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        """Mostly a value of the schema's type; sometimes null or a scalar of any type."""
        if depth <= 1:
            return self.build(schema, depth)
        return st.one_of(self.build(schema, depth), st.just(None), SCALARS)


# --- bodies ---------------------------------------------------------------------------------
_HOSTILE_YAML = [
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    b"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
    b"metadata: {name: x}\ndata: !!binary aGVsbG8=\n",
    b"metadata: !!set {a, b}\n",
    b"metadata: {name: !!timestamp 2001-12-14}\n",
    b"metadata: !!python/object:os.system [ls]\n",
    b"metadata: !local {name: x}\n",
    b"metadata: {name: x}\n---\nmetadata: {name: y}\n",
    b"base: &b {name: x}\nmetadata:\n  <<: *b\n  labels: {a: b}\n",
    b"metadata:\n  <<: [1, 2]\n",
    b"metadata: {? [a]: b}\n",
    b"metadata: {1: x, true: y, null: z, 1.5: w}\n",
    b"a: &x [*x]\n",
    b"metadata: {name: .inf}\ndata: {a: .nan}\n",
    b"spec: {replicas: 0x7fffffffffffffff}\n",
    b"spec: {replicas: 99999999999999999999999}\n",
    b"[" * 20000,
    b"- " * 20000,
    b"metadata: {name: x}\ndata: {a: 1_000, b: 0o17, c: 190:20:30, d: yes, e: ~}\n",
    b"\xff\xfe\x00garbage",
    b"\x00",
    b"",
]


def _to_yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode()


def _to_json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False).encode()


@dataclass(frozen=True)
class Request:
    target: str
    method: str
    path: str
    content_type: str
    body: bytes


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _paths(value: Any, prefix: list[str | int] | None = None) -> Iterator[list[str | int]]:
    prefix = prefix or []
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, [*prefix, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, [*prefix, index])


def _set(obj: Any, path: list[str | int], value: Any) -> Any:
    if not path:
        return value
    node = obj
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return obj


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], schema_values: st.SearchStrategy[Any]) -> Any:
    """``base`` bent by a few random edits."""
    obj: Any = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["set", "schema", "unknown", "delete", "deep", "whole"]))
        if how == "whole":
            obj = draw(JSON_VALUES)
            continue
        if how == "schema":
            generated = draw(schema_values)
            if isinstance(obj, dict) and isinstance(generated, dict):
                meta = obj.get("metadata")
                obj.update(generated)
                if isinstance(meta, dict) and draw(st.booleans()):
                    obj["metadata"] = meta
            continue
        paths = list(_paths(obj))
        path = draw(st.sampled_from(paths))
        if how == "set":
            obj = _set(obj, path, draw(JSON_VALUES))
        elif how == "deep":
            obj = _set(obj, path, draw(DEEP_VALUES))
        elif how == "unknown":
            node = obj
            for step in path:
                node = node[step]
            if isinstance(node, dict):
                node[draw(_text | st.sampled_from(FIELD_NAMES))] = draw(JSON_VALUES)
        elif how == "delete" and path:
            node = obj
            for step in path[:-1]:
                node = node[step]
            del node[path[-1]]
    return obj


def _json_patch_ops(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    paths = [_pointer(p) for p in _paths(base)]
    op = st.fixed_dictionaries(
        {
            "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
            "path": st.sampled_from(paths) | _text | st.sampled_from(["/metadata/-", "/x/0", ""]),
        },
        optional={"value": JSON_VALUES | DEEP_VALUES, "from": st.sampled_from(paths) | _text},
    )
    return draw(st.lists(op, max_size=4) | JSON_VALUES)


# --- protobuf -------------------------------------------------------------------------------
def _ld(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


_SPECIAL_TABLES: dict[Special, dict[int, Field]] = {
    Special.TIME: {1: Field("seconds", Kind.INT64), 2: Field("nanos", Kind.INT32)},
    Special.MICRO_TIME: {1: Field("seconds", Kind.INT64), 2: Field("nanos", Kind.INT32)},
    Special.QUANTITY: {1: Field("string", Kind.STRING)},
    Special.INT_OR_STRING: {
        1: Field("type", Kind.INT64),
        2: Field("intVal", Kind.INT32),
        3: Field("strVal", Kind.STRING),
    },
    Special.FIELDS_V1: {1: Field("raw", Kind.RAW)},
    Special.STRING_LIST: {1: Field("items", Kind.STRING, repeated=True)},
}
_PROTO_INTS = st.integers(-(2**63), 2**64 - 1) | st.sampled_from(
    [0, 1, -1, 2**31, 2**63, 253402300800]
)


@st.composite
def proto_message(draw: st.DrawFn, table: Any, depth: int = 0) -> bytes:
    out = bytearray()
    numbers = sorted(table)
    for number in draw(st.lists(st.sampled_from(numbers), max_size=4)) if numbers else []:
        out += draw(proto_field(number, table[number], depth))
    if draw(st.integers(0, 9)) == 0:  # an unknown field number, or a known one with a bad wire type
        out += _varint(draw(st.integers(1, 200)) << 3 | draw(st.integers(0, 7)))
        out += draw(st.binary(max_size=6))
    return bytes(out)


@st.composite
def proto_field(draw: st.DrawFn, number: int, spec: Field, depth: int) -> bytes:
    def value() -> bytes:
        if spec.kind is Kind.MESSAGE:
            sub = (
                _SPECIAL_TABLES[spec.message]
                if isinstance(spec.message, Special)
                else MESSAGES.get(spec.message, {})
            )
            inner = draw(proto_message(sub, depth + 1)) if depth < 6 else b""
            return _ld(2, inner) if spec.is_map else inner
        if spec.kind in (Kind.STRING, Kind.BYTES, Kind.RAW):
            raw = draw(
                st.binary(max_size=10)
                | _text.map(str.encode)
                | st.sampled_from([b'{"f:a":{}}', b"[" * 300, b'{"a":1e999}', b"null"])
            )
            return _ld(2, raw) if spec.is_map else raw
        return _varint(draw(_PROTO_INTS))

    payload = value()
    if spec.is_map:
        key = draw(_text).encode()
        return _ld(number, _ld(1, key) + payload)
    if spec.kind in (Kind.BOOL, Kind.INT32, Kind.INT64):
        return _varint(number << 3) + payload
    return _ld(number, payload)


def protobuf_body(draw: st.DrawFn, api_version: str, kind: str) -> bytes:
    root = ROOTS.get((api_version, kind))
    raw = draw(proto_message(MESSAGES[root])) if root else draw(st.binary(max_size=30))
    type_meta = _ld(1, api_version.encode()) + _ld(2, kind.encode())
    envelope = _ld(1, type_meta) + _ld(2, raw)
    if draw(st.integers(0, 9)) == 0:
        envelope = draw(st.binary(max_size=40))
    return b"k8s\x00" + envelope


# --- requests -------------------------------------------------------------------------------
class Bodies:
    """Draws a :class:`Request` for any target."""

    def __init__(self, csr: str) -> None:
        self.csr = csr
        self.targets = targets()
        self.schema_values = SchemaValues()

    def requests(self) -> st.SearchStrategy[Request]:
        return st.sampled_from(self.targets).flatmap(self.request_for)

    def request_for(self, target: Target) -> st.SearchStrategy[Request]:
        return _request(self, target)


@st.composite
def _request(draw: st.DrawFn, bodies: Bodies, target: Target) -> Request:
    rt = target.rt
    creating = target.method == "POST" and not target.sub
    name = "" if creating else SEED
    if target.method == "DELETE" and draw(st.booleans()):
        name = "fz-absent"
    body_name = draw(st.sampled_from([f"fz-{draw(st.integers(0, 10**6))}", SEED]))
    base = seed(target.body_kind, body_name if creating else SEED, bodies.csr, rt.group)
    if target.body_kind in ("Scale", "Binding", "TokenRequest", "DeleteOptions"):
        group, version = ("autoscaling", "v1") if target.body_kind == "Scale" else ("", "v1")
        if target.body_kind == "TokenRequest":
            group = "authentication.k8s.io"
    else:
        group, version = rt.group, rt.version
        base = {"apiVersion": rt.api_version, "kind": target.body_kind, **base}
    schema_values = bodies.schema_values.for_kind(target.body_kind, group, version)
    query: list[str] = []
    fv = draw(st.sampled_from(["", "", "Strict", "Warn", "Ignore", "bogus"]))
    if fv:
        query.append(f"fieldValidation={fv}")
    if target.method in ("POST", "PUT", "PATCH") and draw(st.integers(0, 3)) == 0:
        query.append("dryRun=All")
    if target.method == "DELETE" and name == SEED:
        query.append("dryRun=All")  # keep the seed (a dry run still decodes and admits)
    if target.method == "DELETE" and draw(st.integers(0, 4)) == 0:
        query.append(
            "gracePeriodSeconds="
            + draw(st.sampled_from(["1e999", "-1", "99999999999999999999", "x"]))
        )
    content_type = YAML_TYPE
    if target.patch == "application/json-patch+json":
        body = _to_json(_json_patch_ops(draw, base))
        content_type = target.patch
    elif target.patch == "apply":
        query.append("fieldManager=fuzz")
        body = _to_yaml(draw(mutated(base, schema_values)))
        content_type = "application/apply-patch+yaml"
    elif target.patch:
        body = _to_json(draw(mutated(base, schema_values) | JSON_VALUES))
        content_type = target.patch
    else:
        encoding = draw(st.sampled_from(["json", "json", "yaml", "hostile", "protobuf"]))
        if encoding == "protobuf":
            api_version = draw(st.sampled_from([rt.api_version, "v1"]))
            body = protobuf_body(draw, api_version, target.body_kind)
            content_type = PROTOBUF
        elif encoding == "hostile":
            body = draw(st.sampled_from(_HOSTILE_YAML))
        elif encoding == "yaml":
            body = _to_yaml(draw(mutated(base, schema_values)))
        else:
            body = _to_json(draw(mutated(base, schema_values)))
            content_type = draw(
                st.sampled_from(["application/json", "", "application/json; charset=utf-8"])
            )
    path = target.path(name)
    if query:
        path += "?" + "&".join(query)
    return Request(target.label, target.method, path, content_type, body)


# --- the runner -----------------------------------------------------------------------------
@dataclass
class Tally:
    examples: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    by_target: collections.Counter[str] = field(default_factory=collections.Counter)
    server_errors: list[tuple[Request, int, bytes]] = field(default_factory=list)
    stored_changes: list[tuple[Request, int]] = field(default_factory=list)
    not_ready: int = 0

    def summary(self) -> str:
        histogram = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"examples={self.examples} statuses={{{histogram}}} 5xx={len(self.server_errors)} "
            f"stored_changes={len(self.stored_changes)} readyz_failures={self.not_ready}"
        )


class Fuzzer:
    """Sends requests to a running server and checks the three properties."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        self.port = port
        self.context = context
        self.conn: http.client.HTTPSConnection | None = None
        self.tally = Tally()

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "",
        accept: str = "",
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": content_type} if content_type else {}
        if accept:
            headers["Accept"] = accept
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(
                    "127.0.0.1", self.port, context=self.context, timeout=60
                )
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def setup(self, csr: str) -> None:
        """The namespace and one seed object of every stored kind."""
        status, _ = self.send(
            "POST",
            "/api/v1/namespaces",
            _to_json({"metadata": {"name": NAMESPACE}}),
            "application/json",
        )
        assert status in (201, 409), status
        for target in targets():
            if target.method != "POST" or target.sub or not target.rt.stored:
                continue
            body = {
                "apiVersion": target.rt.api_version,
                "kind": target.rt.kind,
                **seed(target.rt.kind, SEED, csr, target.rt.group),
            }
            status, data = self.send("POST", target.path(""), _to_json(body), "application/json")
            assert status in (201, 409), (target.label, status, data[:300])

    def snapshot(self, request: Request) -> Any:
        path = request.path.split("?", 1)[0]
        collection = _collection_of(path)
        if collection is None:
            return None
        status, data = self.send("GET", collection)
        if status != 200:
            return (status, data)
        return json.loads(data).get("items")

    def check(self, request: Request) -> int:
        before = self.snapshot(request)
        status, data = self.send(request.method, request.path, request.body, request.content_type)
        tally = self.tally
        tally.examples += 1
        tally.statuses[status] += 1
        tally.by_target[request.target] += 1
        if status >= 500:
            tally.server_errors.append((request, status, data[:500]))
        elif status >= 400 and before is not None and self.snapshot(request) != before:
            tally.stored_changes.append((request, status))
        elif status < 300 and before is not None:
            self.read_back(request)
        if tally.examples % 25 == 0:
            self.check_ready()
        return status

    def read_back(self, request: Request) -> None:
        collection = _collection_of(request.path.split("?", 1)[0])
        if collection is None:
            return
        status, data = self.send("GET", collection, accept=TABLE)
        if status >= 500:
            self.tally.server_errors.append((request, status, b"reading back: " + data[:480]))

    def check_ready(self) -> None:
        status, _ = self.send("GET", "/readyz")
        if status != 200:
            self.tally.not_ready += 1


def _collection_of(path: str) -> str | None:
    """The list URL of the kind a request path writes (None for review endpoints)."""
    parts = path.strip("/").split("/")
    base = parts[:2] if parts[0] == "api" else parts[:3]
    rest = parts[len(base) :]
    if parts[0] == "api" and rest[:1] == ["namespaces"] and rest[2:] in (["status"], ["finalize"]):
        base += rest[:1]
    elif rest[:1] == ["namespaces"] and len(rest) >= 3:
        base += rest[:3]
    elif rest:
        base += rest[:1]
    resource = base[-1]
    if resource.endswith("reviews"):
        return None
    return "/" + "/".join(base)


def csr_pem() -> str:
    return _csr_pem()


Check = Callable[[Request], int]
