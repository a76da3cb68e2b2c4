"""ValidatingAdmissionPolicy on plain values: matching, parameters, variables, match conditions,
messages and reasons, the three validation actions, audit annotations and failure policies —
against a fake object reader."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from kubeward.admission.interfaces import CREATE, DELETE, UPDATE, AdmissionRequest
from kubeward.admission.policy import ValidatingAdmissionPolicyPlugin
from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, AuthzResult, Decision
from kubeward.errors import RemoteStatus

POLICIES = "validatingadmissionpolicies.admissionregistration.k8s.io"
BINDINGS = "validatingadmissionpolicybindings.admissionregistration.k8s.io"


def deployment(replicas: int, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "dev", "labels": labels or {}},
        "spec": {"replicas": replicas},
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
        "object": obj if obj is not None else deployment(5),
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


def policy(name: str, validations: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": RULES},
            "validations": validations,
            **spec,
        },
    }


def binding(name: str, policy_name: str, actions: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"policyName": policy_name, "validationActions": actions, **spec},
    }


def run(reader: Reader, req: AdmissionRequest | None = None) -> AdmissionRequest:
    req = req or request()
    asyncio.run(ValidatingAdmissionPolicyPlugin().validate(req, reader))
    return req


def refusal(reader: Reader, req: AdmissionRequest | None = None) -> RemoteStatus:
    with pytest.raises(RemoteStatus) as caught:
        run(reader, req)
    return caught.value


def limit_reader(max_replicas: str = "3", **binding_spec: Any) -> Reader:
    reader = Reader()
    reader.put(
        POLICIES,
        policy(
            "max-replicas",
            [
                {
                    "expression": "object.spec.replicas <= int(params.data.max)",
                    "messageExpression": "'at most ' + params.data.max + ' replicas'",
                }
            ],
            paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
        ),
    )
    reader.put(
        "configmaps",
        {"metadata": {"name": "limit", "namespace": "dev"}, "data": {"max": max_replicas}},
    )
    spec = {"paramRef": {"name": "limit", "parameterNotFoundAction": "Deny"}, **binding_spec}
    reader.put(BINDINGS, binding("max-replicas-dev", "max-replicas", ["Deny"], **spec))
    return reader


def test_a_param_refuses_with_the_policys_message_and_422() -> None:
    error = refusal(limit_reader())
    expected = (
        "ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-dev' denied request:"
        " at most 3 replicas"
    )
    assert error.message == f'deployments.apps "web" is forbidden: {expected}'
    assert (error.code, error.reason) == (422, "Invalid")
    status = error.to_status()
    assert status["details"]["causes"][0]["message"] == expected


def test_within_the_param_is_admitted() -> None:
    run(limit_reader("9"))


def test_a_missing_param_follows_parameter_not_found_action() -> None:
    reader = limit_reader()
    reader.objects["configmaps"] = []
    assert "failed to configure binding: no params found for policy binding with `Deny`" in (
        refusal(reader).message
    )
    reader.put(
        BINDINGS,
        binding(
            "max-replicas-dev",
            "max-replicas",
            ["Deny"],
            paramRef={"name": "limit", "parameterNotFoundAction": "Allow"},
        ),
    )
    run(reader)


def test_a_param_selector_evaluates_every_selected_param() -> None:
    reader = limit_reader(
        paramRef={"selector": {"matchLabels": {"kind": "limit"}}, "parameterNotFoundAction": "Deny"}
    )
    reader.objects["configmaps"] = [
        {
            "metadata": {"name": n, "namespace": "dev", "labels": {"kind": "limit"}},
            "data": {"max": m},
        }
        for n, m in (("a", "9"), ("b", "4"))
    ]
    assert refusal(reader).message.endswith("at most 4 replicas")


def test_the_binding_namespace_selector_limits_the_policy() -> None:
    reader = limit_reader(matchResources={"namespaceSelector": {"matchLabels": {"limits": "on"}}})
    run(reader)  # the namespace has no label
    reader.namespace_labels = {"limits": "on"}
    refusal(reader)


@pytest.mark.parametrize(
    ("constraints", "applies"),
    [
        ({"resourceRules": RULES}, True),
        ({"resourceRules": [{**RULES[0], "resourceNames": ["other"]}]}, False),
        ({"resourceRules": RULES, "excludeResourceRules": RULES}, False),
        ({"resourceRules": RULES, "objectSelector": {"matchLabels": {"app": "x"}}}, False),
        ({"resourceRules": [{**RULES[0], "operations": ["DELETE"]}]}, False),
    ],
    ids=["rules", "resource-names", "excluded", "object-selector", "operation"],
)
def test_match_constraints(constraints: dict[str, Any], applies: bool) -> None:
    reader = Reader()
    reader.put(POLICIES, policy("never", [{"expression": "false"}], matchConstraints=constraints))
    reader.put(BINDINGS, binding("never", "never", ["Deny"]))
    if applies:
        assert refusal(reader).message.endswith("denied request: failed expression: false")
    else:
        run(reader)


def test_warn_and_audit_actions_do_not_refuse() -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy(
            "labels",
            [{"expression": "has(object.metadata.labels.team)", "message": "needs a team"}],
            auditAnnotations=[
                {"key": "replicas", "valueExpression": "string(object.spec.replicas)"}
            ],
        ),
    )
    reader.put(BINDINGS, binding("labels", "labels", ["Warn", "Audit"]))
    req = run(reader)
    assert req.warnings == [
        "Validation failed for ValidatingAdmissionPolicy 'labels' with binding 'labels': needs a team"
    ]
    assert req.audit_annotations["labels/replicas"] == "5"
    failure = json.loads(
        req.audit_annotations["validation.policy.admission.k8s.io/validation_failure"]
    )
    assert failure == [
        {
            "message": "needs a team",
            "policy": "labels",
            "binding": "labels",
            "expressionIndex": 0,
            "validationActions": ["Warn", "Audit"],
        }
    ]


def test_variables_match_conditions_and_reason() -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy(
            "big",
            [{"expression": "!variables.big", "message": "too big", "reason": "Forbidden"}],
            variables=[{"name": "big", "expression": "object.spec.replicas > 3"}],
            matchConditions=[
                {"name": "not-admin", "expression": "request.userInfo.username != 'admin'"}
            ],
        ),
    )
    reader.put(BINDINGS, binding("big", "big", ["Deny"]))
    error = refusal(reader)
    assert (error.code, error.reason) == (403, "Forbidden")
    run(reader, request(user=UserInfo("admin")))


@pytest.mark.parametrize(
    ("failure_policy", "actions", "refused", "warned"),
    [
        ("Fail", ["Deny"], True, False),
        ("Fail", ["Warn"], False, True),
        ("Ignore", ["Deny"], False, False),
    ],
    ids=["fail-deny", "fail-warn", "ignore"],
)
def test_evaluation_errors_follow_the_failure_policy_and_actions(
    failure_policy: str, actions: list[str], refused: bool, warned: bool
) -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy("broken", [{"expression": "object.spec.missing > 1"}], failurePolicy=failure_policy),
    )
    reader.put(BINDINGS, binding("broken", "broken", actions))
    error = "expression 'object.spec.missing > 1' resulted in error: no such key: missing"
    if refused:
        assert error in refusal(reader).message
    else:
        warnings = run(reader).warnings
        assert (
            warnings
            == [
                f"Validation failed for ValidatingAdmissionPolicy 'broken' with binding 'broken': {error}"
            ]
        ) is warned
        assert warned or warnings == []


def test_an_audit_annotation_error_denies_whatever_the_actions() -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy(
            "annotating",
            [{"expression": "true"}],
            auditAnnotations=[{"key": "k", "valueExpression": "object.spec.missing"}],
        ),
    )
    reader.put(BINDINGS, binding("annotating", "annotating", ["Audit"]))
    assert "resulted in error: no such key: missing" in refusal(reader).message


def test_old_object_and_delete() -> None:
    reader = Reader()
    rules = [{**RULES[0], "operations": ["UPDATE", "DELETE"]}]
    reader.put(
        POLICIES,
        policy(
            "no-shrink",
            [{"expression": "object == null || object.spec.replicas >= oldObject.spec.replicas"}],
            matchConstraints={"resourceRules": rules},
        ),
    )
    reader.put(BINDINGS, binding("no-shrink", "no-shrink", ["Deny"]))
    refusal(reader, request(deployment(1), operation=UPDATE, old_object=deployment(3)))
    run(reader, request(deployment(3), operation=DELETE, old_object=deployment(3)))


def test_policies_and_bindings_are_exempt() -> None:
    reader = Reader()
    everything = [
        {"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}
    ]
    reader.put(
        POLICIES,
        policy(
            "deny-all", [{"expression": "false"}], matchConstraints={"resourceRules": everything}
        ),
    )
    reader.put(BINDINGS, binding("deny-all", "deny-all", ["Deny"]))
    run(
        reader,
        request(
            {"metadata": {"name": "b"}},
            group="admissionregistration.k8s.io",
            resource="validatingadmissionpolicybindings",
            namespace="",
        ),
    )
    refusal(reader)


def test_the_cost_limit_holds_for_large_objects_only() -> None:
    reader = Reader()
    quadratic = "object.spec.items.all(x, object.spec.items.all(y, x == y))"
    reader.put(POLICIES, policy("costly", [{"expression": quadratic}]))
    reader.put(BINDINGS, binding("costly", "costly", ["Deny"]))
    small = deployment(1)
    small["spec"]["items"] = ["same"] * 5
    run(reader, request(small))
    large = deployment(1)
    large["spec"]["items"] = ["same"] * 1100
    assert (
        "operation cancelled: actual cost limit exceeded" in refusal(reader, request(large)).message
    )


def test_a_binding_without_param_ref_evaluates_with_null_params() -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy(
            "nullable",
            [{"expression": "params == null", "message": "params were given"}],
            paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
        ),
    )
    reader.put(BINDINGS, binding("nullable", "nullable", ["Deny"]))
    run(reader)


def test_an_unknown_param_kind_misconfigures_the_policy() -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy(
            "widgets",
            [{"expression": "true"}],
            paramKind={"apiVersion": "example.com/v1", "kind": "Widget"},
        ),
    )
    reader.put(BINDINGS, binding("widgets", "widgets", ["Deny"], paramRef={"name": "w"}))
    assert refusal(reader).message == (
        "deployments.apps \"web\" is forbidden: ValidatingAdmissionPolicy 'widgets' denied request:"
        " failed to configure policy: failed to find resource referenced by paramKind:"
        " 'example.com/v1, Kind=Widget'"
    )


class OnlyAdmins:
    """Allows ``admin`` to update deployments' scale, anyone to get /healthz."""

    name = "Fake"

    def __init__(self) -> None:
        self.asked: list[Attributes] = []

    def authorize(self, attributes: Attributes) -> AuthzResult:
        self.asked.append(attributes)
        if attributes.path == "/healthz" or attributes.user.name == "admin":
            return AuthzResult(Decision.ALLOW, "allowed by the fake")
        return AuthzResult(Decision.NO_OPINION, "")


def test_the_authorizer_variable_asks_the_servers_authorizer_once_per_check() -> None:
    reader = Reader()
    scale = "authorizer.group('apps').resource('deployments').subresource('scale')"
    reader.put(
        POLICIES,
        policy(
            "scalers",
            [
                {
                    "expression": f"{scale}.namespace(object.metadata.namespace).check('update').allowed()",
                    "message": "only scalers may create big deployments",
                },
                {"expression": "authorizer.path('/healthz').check('get').allowed()"},
                {
                    "expression": f"!{scale}.namespace(object.metadata.namespace).check('update').errored()"
                },
            ],
        ),
    )
    reader.put(BINDINGS, binding("scalers", "scalers", ["Deny"]))
    plugin = ValidatingAdmissionPolicyPlugin()
    fake = OnlyAdmins()
    plugin.set_authorizer(fake)
    with pytest.raises(RemoteStatus, match="only scalers may create big deployments"):
        asyncio.run(plugin.validate(request(), reader))
    resource_checks = [a for a in fake.asked if a.resource_request]
    assert len(resource_checks) == 1  # decided once for the two expressions asking it
    asked = resource_checks[0]
    assert (asked.user.name, asked.verb, asked.api_group, asked.resource, asked.subresource) == (
        "alice",
        "update",
        "apps",
        "deployments",
        "scale",
    )
    assert asked.namespace == "dev"
    asyncio.run(plugin.validate(request(user=UserInfo("admin")), reader))


def test_service_account_checks_ask_as_the_service_account() -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy(
            "as-sa",
            [
                {
                    "expression": "authorizer.serviceAccount('ci', 'deployer').group('').resource('pods').check('list').allowed()"
                }
            ],
        ),
    )
    reader.put(BINDINGS, binding("as-sa", "as-sa", ["Deny"]))
    plugin = ValidatingAdmissionPolicyPlugin()
    fake = OnlyAdmins()
    plugin.set_authorizer(fake)
    with pytest.raises(RemoteStatus):
        asyncio.run(plugin.validate(request(user=UserInfo("admin")), reader))
    user = fake.asked[0].user
    assert user.name == "system:serviceaccount:ci:deployer"
    assert set(user.groups) == {
        "system:serviceaccounts",
        "system:serviceaccounts:ci",
        "system:authenticated",
    }


def test_without_an_authorizer_a_check_is_an_evaluation_error() -> None:
    reader = Reader()
    reader.put(
        POLICIES,
        policy("no-authz", [{"expression": "authorizer.path('/x').check('get').allowed()"}]),
    )
    reader.put(BINDINGS, binding("no-authz", "no-authz", ["Deny"]))
    assert "resulted in error: authorizer is not available" in refusal(reader).message
