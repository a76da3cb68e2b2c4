"""MutatingAdmissionPolicy on plain values: JSONPatch and ApplyConfiguration mutations, params,
match conditions, variables, failure policies and reinvocation — against a fake object reader.

Cases follow upstream's ``policy/mutating`` tests (``patch/json_patch_test.go``,
``patch/smd_test.go``, ``dispatcher_test.go``), written here for kubeward's plugin."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from kubeward.admission.interfaces import CREATE, DELETE, UPDATE, AdmissionRequest
from kubeward.admission.policy import MutatingAdmissionPolicyPlugin
from kubeward.api.user import UserInfo
from kubeward.errors import InternalError, RemoteStatus

POLICIES = "mutatingadmissionpolicies.admissionregistration.k8s.io"
BINDINGS = "mutatingadmissionpolicybindings.admissionregistration.k8s.io"


def deployment(labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "dev", "labels": labels or {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }


def request(obj: dict[str, Any] | None = None, **changes: Any) -> AdmissionRequest:
    base: dict[str, Any] = {
        "operation": CREATE,
        "group": "apps",
        "version": "v1",
        "resource": "deployments",
        "kind": "Deployment",
        "subresource": "",
        "namespace": "dev",
        "name": "web",
        "user": UserInfo("alice", groups=("dev",)),
        "object": obj if obj is not None else deployment(),
    }
    base.update(changes)
    return AdmissionRequest(**base)


class Reader:
    """Objects by qualified resource; configmaps are the only parameter kind it serves."""

    def __init__(self, namespace_labels: dict[str, str] | None = None) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {POLICIES: [], BINDINGS: []}
        self.namespace_labels = namespace_labels or {}

    def put(self, resource: str, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        items = self.objects.setdefault(resource, [])
        items[:] = [o for o in items if o["metadata"]["name"] != name] + [obj]

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        if resource == "namespaces":
            return {"metadata": {"name": name, "labels": self.namespace_labels}}
        return None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.objects.get(resource, [])
            if not namespace or o["metadata"].get("namespace") == namespace
        ]

    def resource_for(self, api_version: str, kind: str) -> tuple[str, bool] | None:
        return ("configmaps", True) if (api_version, kind) == ("v1", "ConfigMap") else None


RULES = [
    {
        "operations": ["CREATE", "UPDATE"],
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "resources": ["deployments"],
    }
]


def json_patch(expression: str) -> dict[str, Any]:
    return {"patchType": "JSONPatch", "jsonPatch": {"expression": expression}}


def apply_configuration(expression: str) -> dict[str, Any]:
    return {"patchType": "ApplyConfiguration", "applyConfiguration": {"expression": expression}}


def policy(name: str, mutations: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "reinvocationPolicy": "Never",
            "matchConstraints": {"resourceRules": RULES},
            "mutations": mutations,
            **spec,
        },
    }


def binding(name: str, policy_name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"policyName": policy_name, **spec}}


def reader_with(*policies: dict[str, Any]) -> Reader:
    reader = Reader()
    for p in policies:
        reader.put(POLICIES, p)
        reader.put(BINDINGS, binding(f"{p['metadata']['name']}-binding", p["metadata"]["name"]))
    return reader


def run(reader: Reader, req: AdmissionRequest | None = None) -> AdmissionRequest:
    req = req or request()
    asyncio.run(MutatingAdmissionPolicyPlugin().admit(req, reader))
    return req


def refusal(reader: Reader, req: AdmissionRequest | None = None) -> RemoteStatus:
    with pytest.raises(RemoteStatus) as caught:
        run(reader, req)
    return caught.value


ADD_LABEL = '[JSONPatch{op: "add", path: "/metadata/labels/environment", value: "test"}]'


@pytest.mark.parametrize(
    ("mutation", "check"),
    [
        # json_patch_test.go: a single add, replace, remove, copy and move.
        (json_patch(ADD_LABEL), lambda o: o["metadata"]["labels"]["environment"] == "test"),
        (
            json_patch('[JSONPatch{op: "replace", path: "/spec/replicas", value: 3}]'),
            lambda o: o["spec"]["replicas"] == 3,
        ),
        (
            json_patch('[JSONPatch{op: "remove", path: "/metadata/labels/app"}]'),
            lambda o: "app" not in o["metadata"]["labels"],
        ),
        (
            json_patch(
                '[JSONPatch{op: "copy", from: "/metadata/labels/app", path: "/metadata/labels/copied"}]'
            ),
            lambda o: o["metadata"]["labels"]["copied"] == "web",
        ),
        (
            json_patch(
                '[JSONPatch{op: "move", from: "/metadata/labels/app", path: "/metadata/labels/moved"}]'
            ),
            lambda o: o["metadata"]["labels"] == {"moved": "web"},
        ),
        # A value computed from the object, and an Object literal as a patch's value.
        (
            json_patch(
                '[JSONPatch{op: "add", path: "/metadata/annotations", '
                'value: {"name": object.metadata.name}}]'
            ),
            lambda o: o["metadata"]["annotations"] == {"name": "web"},
        ),
        (
            json_patch(
                '[JSONPatch{op: "add", path: "/spec/template/spec/containers/-", value: '
                'Object.spec.template.spec.containers{name: "sidecar", image: "busybox"}}]'
            ),
            lambda o: (
                o["spec"]["template"]["spec"]["containers"][1]
                == {"name": "sidecar", "image": "busybox"}
            ),
        ),
        # jsonpatch.escapeKey for a label key with a slash.
        (
            json_patch(
                '[JSONPatch{op: "add", path: "/metadata/labels/" + '
                'jsonpatch.escapeKey("example.com/team"), value: "a"}]'
            ),
            lambda o: o["metadata"]["labels"]["example.com/team"] == "a",
        ),
        # A test that does not hold leaves the object as it was (and is not an error).
        (
            json_patch(
                '[JSONPatch{op: "test", path: "/spec/replicas", value: 9}, '
                'JSONPatch{op: "replace", path: "/spec/replicas", value: 3}]'
            ),
            lambda o: o["spec"]["replicas"] == 1,
        ),
        # smd_test.go: an apply configuration merges maps and sets scalars.
        (
            apply_configuration(
                'Object{metadata: Object.metadata{labels: {"environment": "test"}}}'
            ),
            lambda o: o["metadata"]["labels"] == {"app": "web", "environment": "test"},
        ),
        (
            apply_configuration("Object{spec: Object.spec{replicas: 5}}"),
            lambda o: o["spec"]["replicas"] == 5 and o["spec"]["selector"] is not None,
        ),
        # Containers are a list keyed by name: the named item merges, the others stay.
        (
            apply_configuration(
                "Object{spec: Object.spec{template: Object.spec.template{spec: "
                "Object.spec.template.spec{containers: [Object.spec.template.spec.containers{"
                'name: "web", image: "nginx:2"}, Object.spec.template.spec.containers{'
                'name: "log", image: "busybox"}]}}}}'
            ),
            lambda o: (
                o["spec"]["template"]["spec"]["containers"]
                == [{"name": "web", "image": "nginx:2"}, {"name": "log", "image": "busybox"}]
            ),
        ),
    ],
)
def test_a_mutation_changes_the_object(mutation: dict[str, Any], check: Any) -> None:
    req = run(reader_with(policy("mutate", [mutation])))
    assert check(req.object), req.object


def test_mutations_run_in_order_each_seeing_the_last() -> None:
    mutations = [
        json_patch('[JSONPatch{op: "replace", path: "/spec/replicas", value: 2}]'),
        json_patch(
            '[JSONPatch{op: "replace", path: "/spec/replicas", value: object.spec.replicas * 10}]'
        ),
    ]
    assert run(reader_with(policy("ordered", mutations))).object["spec"]["replicas"] == 20


def test_variables_see_the_object() -> None:
    p = policy(
        "variables",
        [
            json_patch(
                '[JSONPatch{op: "add", path: "/metadata/labels/owner", value: variables.who}]'
            )
        ],
        variables=[{"name": "who", "expression": "request.userInfo.username"}],
    )
    assert run(reader_with(p)).object["metadata"]["labels"]["owner"] == "alice"


def test_params_drive_the_mutation() -> None:
    p = policy(
        "from-param",
        [
            apply_configuration(
                "Object{metadata: Object.metadata{labels: {'tier': params.data.tier}}}"
            )
        ],
        paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
    )
    reader = Reader()
    reader.put(POLICIES, p)
    reader.put(
        BINDINGS,
        binding(
            "from-param-binding",
            "from-param",
            paramRef={"name": "tiers", "parameterNotFoundAction": "Deny"},
        ),
    )
    reader.put(
        "configmaps", {"metadata": {"name": "tiers", "namespace": "dev"}, "data": {"tier": "gold"}}
    )
    assert run(reader).object["metadata"]["labels"]["tier"] == "gold"
    reader.objects["configmaps"] = []
    error = refusal(reader)
    assert error.message == (
        "policy 'from-param' with binding 'from-param-binding' denied request: failed to "
        "configure binding: no params found for policy binding with `Deny` "
        "parameterNotFoundAction"
    )
    assert (error.code, error.reason) == (403, "Forbidden")


@pytest.mark.parametrize(
    ("spec", "labels", "mutated"),
    [
        (
            {"matchConditions": [{"name": "web", "expression": "object.metadata.name == 'web'"}]},
            {},
            True,
        ),
        (
            {"matchConditions": [{"name": "db", "expression": "object.metadata.name == 'db'"}]},
            {},
            False,
        ),
        ({}, {"stage": "prod"}, False),  # the binding's namespace selector below
        ({}, {"stage": "dev"}, True),
    ],
)
def test_match_conditions_and_selectors_decide_whether_it_runs(
    spec: dict[str, Any], labels: dict[str, str], mutated: bool
) -> None:
    reader = Reader(labels)
    reader.put(POLICIES, policy("p", [json_patch(ADD_LABEL)], **spec))
    match = {"namespaceSelector": {"matchLabels": {"stage": "dev"}}} if labels else None
    reader.put(BINDINGS, binding("b", "p", **({"matchResources": match} if match else {})))
    req = run(reader)
    assert ("environment" in req.object["metadata"]["labels"]) is mutated


def test_an_unbound_policy_does_nothing() -> None:
    reader = Reader()
    reader.put(POLICIES, policy("p", [json_patch(ADD_LABEL)]))
    assert run(reader).object == deployment()


@pytest.mark.parametrize("operation", [DELETE])
def test_a_write_without_an_object_is_not_mutated(operation: str) -> None:
    req = run(reader_with(policy("p", [json_patch(ADD_LABEL)])), request(operation=operation))
    assert req.object == deployment()


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (
            json_patch('[JSONPatch{op: "remove", path: "/spec/missing"}]'),
            "JSONPath: ",
        ),
        (
            json_patch('[JSONPatch{op: "add", path: "/metadata/labels/x", value: object.nope}]'),
            'expression \'[JSONPatch{op: "add", path: "/metadata/labels/x", value: object.nope}]\' resulted in error: no such key: nope',
        ),
        (
            apply_configuration("Object{spec: Object.spec{selector: Object.spec.wrong{}}}"),
            'type mismatch: unexpected type name "Object.spec.wrong", expected '
            '"Object.spec.selector"',
        ),
        (
            apply_configuration(
                'Object{spec: Object.spec{selector: Object.spec.selector{matchLabels: {"a": "b"}}}}'
            ),
            "error applying patch: invalid ApplyConfiguration: may not mutate atomic arrays, "
            "maps or structs: .spec.selector",
        ),
    ],
)
def test_errors_refuse_under_fail_and_are_dropped_under_ignore(
    mutation: dict[str, Any], message: str
) -> None:
    error = refusal(reader_with(policy("p", [mutation])))
    assert error.message.startswith("policy 'p' with binding 'p-binding' denied request: ")
    assert message in error.message
    assert (error.code, error.reason) == (403, "Invalid")
    assert error.to_status()["details"]["causes"][0]["message"] == error.message
    req = run(reader_with(policy("p", [mutation], failurePolicy="Ignore")))
    assert req.object == deployment()


def test_an_unknown_param_kind_misconfigures_the_policy() -> None:
    p = policy("p", [json_patch(ADD_LABEL)], paramKind={"apiVersion": "v1", "kind": "Nope"})
    error = refusal(reader_with(p))
    assert error.message == (
        'policy "p" denied request: failed to configure policy: failed to find resource '
        "referenced by paramKind: 'v1, Kind=Nope'"
    )


def test_if_needed_policies_run_again_after_a_later_change() -> None:
    # "a" copies the replicas into a label; "b" (later by name) changes the replicas.
    copy_replicas = json_patch(
        '[JSONPatch{op: "add", path: "/metadata/labels/replicas", '
        "value: string(object.spec.replicas)}]"
    )
    scale = json_patch('[JSONPatch{op: "replace", path: "/spec/replicas", value: 4}]')
    for reinvocation, label in (("IfNeeded", "4"), ("Never", "1")):
        reader = reader_with(
            policy("a", [copy_replicas], reinvocationPolicy=reinvocation), policy("b", [scale])
        )
        assert run(reader).object["metadata"]["labels"]["replicas"] == label


def test_an_update_sees_the_old_object() -> None:
    old = deployment({"app": "web", "version": "1"})
    p = policy(
        "keep-version",
        [
            apply_configuration(
                "Object{metadata: Object.metadata{labels: {'version': oldObject.metadata.labels.version}}}"
            )
        ],
    )
    req = run(reader_with(p), request(operation=UPDATE, old_object=copy.deepcopy(old)))
    assert req.object["metadata"]["labels"]["version"] == "1"


def test_a_json_patch_result_that_does_not_decode_is_an_internal_error() -> None:
    p = policy("p", [json_patch('[JSONPatch{op: "replace", path: "/spec/replicas", value: "x"}]')])
    for failure_policy in ("Fail", "Ignore"):
        p["spec"]["failurePolicy"] = failure_policy
        with pytest.raises(InternalError) as caught:
            run(reader_with(p))
        assert caught.value.message.startswith("Internal error occurred: ")
        assert "replicas" in caught.value.message
    unknown = policy("p", [json_patch('[JSONPatch{op: "add", path: "/spec/nope", value: 1}]')])
    with pytest.raises(InternalError, match=r'strict decoding error: unknown field "spec\.nope"'):
        run(reader_with(unknown))


def test_an_apply_configuration_with_an_undeclared_field_is_refused() -> None:
    p = policy("p", [apply_configuration("Object{spec: Object.spec{nope: 1}}")])
    assert refusal(reader_with(p)).message.endswith(
        "error applying patch: failed to convert patch object to typed object: .spec.nope: "
        "field not declared in schema"
    )


WIDGET_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                }
            },
        }
    },
}


class CustomResourceReader(Reader):
    """Also serves the example.com/v1 Widget kind's schema, as the server's reader does."""

    def schema_for(self, api_version: str, kind: str) -> dict[str, Any] | None:
        return WIDGET_SCHEMA if (api_version, kind) == ("example.com/v1", "Widget") else None


def test_a_custom_resource_merges_by_its_own_schema() -> None:
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "dev"},
        "spec": {"ports": [{"name": "http", "port": 80}]},
    }
    rules = [{**RULES[0], "apiGroups": ["example.com"], "resources": ["widgets"]}]
    mutation = apply_configuration(
        'Object{spec: Object.spec{ports: [Object.spec.ports{name: "metrics", port: 9090}]}}'
    )
    p = policy("p", [mutation], matchConstraints={"resourceRules": rules})
    req = request(
        copy.deepcopy(widget), group="example.com", resource="widgets", kind="Widget", name="w"
    )
    reader = CustomResourceReader()
    reader.put(POLICIES, p)
    reader.put(BINDINGS, binding("b", "p"))
    assert run(reader, req).object["spec"]["ports"] == [
        {"name": "http", "port": 80},
        {"name": "metrics", "port": 9090},
    ]
    # Without the schema the list is deduced atomic, and setting it is refused.
    plain = Reader()
    plain.objects = reader.objects
    req = request(
        copy.deepcopy(widget), group="example.com", resource="widgets", kind="Widget", name="w"
    )
    assert refusal(plain, req).message.endswith(
        "may not mutate atomic arrays, maps or structs: .spec.ports"
    )
