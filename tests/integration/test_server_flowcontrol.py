"""API Priority and Fairness against a real server: the flowcontrol kinds through kubectl and
the official client, the response headers, configuration changes, and the 429 of a full level."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubectl_runner import Kubectl
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kubeward.kubeconfig.tls import ClientCredentials

FS_HEADER = "X-Kubernetes-PF-FlowSchema-UID"
PL_HEADER = "X-Kubernetes-PF-PriorityLevel-UID"


@pytest.fixture(scope="module")
def api_client(cluster: object) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))  # type: ignore[attr-defined]
    yield api
    api.close()


def uids(api_client: client.ApiClient) -> tuple[dict[str, str], dict[str, str]]:
    flowcontrol = client.FlowcontrolApiserverV1Api(api_client)
    schemas = {s.metadata.name: s.metadata.uid for s in flowcontrol.list_flow_schema().items}
    levels = {
        p.metadata.name: p.metadata.uid
        for p in flowcontrol.list_priority_level_configuration().items
    }
    return schemas, levels


def headers_for(kubeconfig: Path, url: str) -> dict[str, str]:
    credentials = ClientCredentials.from_kubeconfig(kubeconfig)
    with urllib.request.urlopen(url, context=credentials.ssl_context, timeout=30) as response:
        return dict(response.headers)


def test_kubectl_gets_both_kinds_with_upstreams_columns(kubectl: Kubectl) -> None:
    out = kubectl.run("get", "flowschemas,prioritylevelconfigurations").stdout
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "PRIORITYLEVEL",
        "MATCHINGPRECEDENCE",
        "DISTINGUISHERMETHOD",
        "AGE",
        "MISSINGPL",
    ]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("flowschema")}
    assert rows["flowschema.flowcontrol.apiserver.k8s.io/exempt"][:3] == ["exempt", "1", "*"]
    assert rows["flowschema.flowcontrol.apiserver.k8s.io/global-default"][:3] == [
        "global-default",
        "9900",
        "ByUser",
    ]
    header = next(line for line in lines if line.startswith("NAME") and "TYPE" in line)
    assert header.split() == [
        "NAME",
        "TYPE",
        "NOMINALCONCURRENCYSHARES",
        "QUEUES",
        "HANDSIZE",
        "QUEUELENGTHLIMIT",
        "AGE",
    ]
    assert any(
        line.split()[:6]
        == [
            "prioritylevelconfiguration.flowcontrol.apiserver.k8s.io/workload-low",
            "Limited",
            "100",
            "128",
            "6",
            "50",
        ]
        for line in lines
    )
    names = kubectl.run("get", "flowschemas", "-o", "name").stdout.split()
    assert len(names) == 13
    levels = kubectl.run("get", "prioritylevelconfigurations", "-o", "name").stdout.split()
    assert len(levels) == 8


def test_missing_priority_level_is_reported_in_the_status(kubectl: Kubectl) -> None:
    manifest = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": "orphan"},
        "spec": {
            "priorityLevelConfiguration": {"name": "no-such-level"},
            "matchingPrecedence": 3000,
            "rules": [
                {
                    "subjects": [{"kind": "User", "user": {"name": "nobody"}}],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                }
            ],
        },
    }
    kubectl.run("create", "-f", "-", input=json.dumps(manifest))
    try:
        missing = ""
        for _ in range(100):  # the status is written by the server after the create
            out = kubectl.run("get", "flowschema", "orphan", "--no-headers").stdout.split()
            missing = out[-1]
            if missing == "True":
                break
            time.sleep(0.1)
        assert missing == "True"
    finally:
        kubectl.run("delete", "flowschema", "orphan")


def test_bad_objects_are_refused_with_upstreams_wording(kubectl: Kubectl) -> None:
    manifest = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": "tiny"},
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 1,
                "limitResponse": {
                    "type": "Queue",
                    "queuing": {"queues": 2, "handSize": 4, "queueLengthLimit": 1},
                },
            },
        },
    }
    result = kubectl.run("create", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode == 1
    assert 'The PriorityLevelConfiguration "tiny" is invalid' in result.stderr
    assert "spec.limited.limitResponse.queuing.handSize: Invalid value: 4" in result.stderr


def test_responses_name_the_flow_schema_and_priority_level(
    cluster: object, api_client: client.ApiClient
) -> None:
    schemas, levels = uids(api_client)
    core = client.CoreV1Api(api_client)
    _, status, headers = core.list_namespace_with_http_info()
    assert status == 200
    # kubernetes-admin (kubeadm:cluster-admins) is an ordinary authenticated user upstream too.
    assert headers[FS_HEADER] == schemas["global-default"]
    assert headers[PL_HEADER] == levels["global-default"]
    masters = cluster.kubeconfig_for("break-glass", groups=["system:masters"])  # type: ignore[attr-defined]
    url = cluster.url + "/api/v1/namespaces"  # type: ignore[attr-defined]
    found = headers_for(masters, url)
    assert (found[FS_HEADER], found[PL_HEADER]) == (schemas["exempt"], levels["exempt"])
    robot = cluster.kubeconfig_for_service_account("default", "robot")  # type: ignore[attr-defined]
    request = urllib.request.Request(url)
    credentials = ClientCredentials.from_kubeconfig(robot)
    with pytest.raises(urllib.error.HTTPError) as refused:  # 403, and still classified
        urllib.request.urlopen(request, context=credentials.ssl_context, timeout=30)
    refused.value.close()
    assert refused.value.code == 403
    assert refused.value.headers[FS_HEADER] == schemas["service-accounts"]
    assert refused.value.headers[PL_HEADER] == levels["workload-low"]


def test_a_new_flow_schema_takes_effect(cluster: object, api_client: client.ApiClient) -> None:
    flowcontrol = client.FlowcontrolApiserverV1Api(api_client)
    level = flowcontrol.create_priority_level_configuration(
        {
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "PriorityLevelConfiguration",
            "metadata": {"name": "jane-only"},
            "spec": {
                "type": "Limited",
                "limited": {"nominalConcurrencyShares": 1, "limitResponse": {"type": "Reject"}},
            },
        }
    )
    schema = flowcontrol.create_flow_schema(
        {
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "FlowSchema",
            "metadata": {"name": "jane"},
            "spec": {
                "priorityLevelConfiguration": {"name": "jane-only"},
                "matchingPrecedence": 50,
                "distinguisherMethod": {"type": "ByUser"},
                "rules": [
                    {
                        "subjects": [{"kind": "User", "user": {"name": "jane"}}],
                        "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                    }
                ],
            },
        }
    )
    assert schema.spec.matching_precedence == 50
    assert level.spec.limited.lendable_percent == 0  # defaulted
    jane = cluster.kubeconfig_for("jane")  # type: ignore[attr-defined]
    url = cluster.url + "/version"  # type: ignore[attr-defined]
    try:
        found: dict[str, str] = {}
        for _ in range(100):  # applied from the watch: at the latest a few requests later
            found = headers_for(jane, url)
            if found.get(FS_HEADER) == schema.metadata.uid:
                break
            time.sleep(0.05)
        assert found[FS_HEADER] == schema.metadata.uid
        assert found[PL_HEADER] == level.metadata.uid
    finally:
        flowcontrol.delete_flow_schema("jane")
        flowcontrol.delete_priority_level_configuration("jane-only")


def test_deleting_a_mandatory_object_brings_it_back(api_client: client.ApiClient) -> None:
    flowcontrol = client.FlowcontrolApiserverV1Api(api_client)
    before = flowcontrol.read_flow_schema("catch-all").metadata.uid
    flowcontrol.delete_flow_schema("catch-all")
    restored = None
    for _ in range(100):
        try:
            restored = flowcontrol.read_flow_schema("catch-all")
            break
        except ApiException as exc:
            assert exc.status == 404
            time.sleep(0.05)
    assert restored is not None
    assert restored.metadata.uid != before
    assert restored.spec.matching_precedence == 10000
