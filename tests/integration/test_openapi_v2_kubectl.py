"""The real kubectl 1.32 and the Python client against a running kubeward: /openapi/v2, explain,
the scale subresource, WatchList and Status bytes (issue 11, items 4, 16 and 17)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_runner import Kubectl
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch
from kubernetes.client import models as client_models
from workloads import wait_for

from kubeward.kubeconfig.tls import ClientCredentials

# The course's SubjectAccessReview manifest, as the course gives it (authorization.k8s.io/v1beta1,
# which Kubernetes stopped serving in 1.22; kubeward answers it with upstream's deprecation
# warning).
COURSE_SAR = """\
apiVersion: authorization.k8s.io/v1beta1
kind: SubjectAccessReview
spec:
  user: jean.doe
  group:
  - foo
  - bar
  resourceAttributes:
    #group: blah.k8s.io
    namespace: kube-system
    resource: pods
    verb: get
    #name: web-xyz1234567-pqr89
"""
# The same review in the version Kubernetes 1.32 serves (``group`` became ``groups`` in v1).
COURSE_SAR_V1 = COURSE_SAR.replace("v1beta1", "v1").replace("  group:", "  groups:")
TOKEN_REVIEW = """\
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec:
  token: not-a-real-token
"""
UNKNOWN_KIND = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec: {}
"""


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_create_subject_access_review_from_file_with_validation(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    result = kubectl.run(
        "create", "-f", _write(tmp_path, "sar.yaml", COURSE_SAR_V1), "-o", "json", "-v=6"
    )
    review = json.loads(result.stdout)
    assert review["kind"] == "SubjectAccessReview"
    assert review["spec"]["groups"] == ["foo", "bar"]
    assert review["status"]["allowed"] is False
    assert "jean.doe" in review["status"]["reason"]
    assert re.search(r"GET https://\S+/openapi/v2\?timeout=\S+ 200 OK", result.stderr)
    assert "failed to download openapi" not in result.stderr


def test_the_course_v1beta1_manifest_is_answered_with_upstreams_deprecation_warning(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    """The course's file as written, validation on: answered, and the learner is told."""
    result = kubectl.run("create", "-f", _write(tmp_path, "sar.yaml", COURSE_SAR), "-o", "json")
    review = json.loads(result.stdout)
    assert review["apiVersion"] == "authorization.k8s.io/v1beta1"
    assert review["spec"]["group"] == ["foo", "bar"]
    assert review["status"]["allowed"] is False
    assert "jean.doe" in review["status"]["reason"]
    assert (
        "Warning: authorization.k8s.io/v1beta1 SubjectAccessReview is deprecated in v1.19+, "
        "unavailable in v1.22+; use authorization.k8s.io/v1 SubjectAccessReview"
    ) in result.stderr
    assert "failed to download openapi" not in result.stderr
    versions = kubectl.run("api-versions").stdout.split()
    assert "authorization.k8s.io/v1" in versions and "authorization.k8s.io/v1beta1" in versions


def test_create_token_review_from_file_with_validation(kubectl: Kubectl, tmp_path: Path) -> None:
    result = kubectl.run("create", "-f", _write(tmp_path, "tr.yaml", TOKEN_REVIEW), "-o", "json")
    review = json.loads(result.stdout)
    assert review["kind"] == "TokenReview"
    assert review["status"]["authenticated"] is False


def test_unknown_kind_gives_no_matches_for_kind(kubectl: Kubectl, tmp_path: Path) -> None:
    result = kubectl.run("create", "-f", _write(tmp_path, "w.yaml", UNKNOWN_KIND), check=False)
    assert result.returncode == 1
    assert 'no matches for kind "Widget" in version "example.com/v1"' in result.stderr
    assert "failed to download openapi" not in result.stderr


def test_client_side_validation_uses_the_v2_schemas(kubectl: Kubectl, tmp_path: Path) -> None:
    typo = COURSE_SAR_V1.replace("  user:", "  usr:")
    result = kubectl.run("create", "-f", _write(tmp_path, "typo.yaml", typo), check=False)
    assert result.returncode == 1
    assert (
        'ValidationError(SubjectAccessReview.spec): unknown field "usr" in '
        "io.k8s.api.authorization.v1.SubjectAccessReviewSpec" in result.stderr
    )


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_explain_prints_the_installed_clients_descriptions(kubectl: Kubectl) -> None:
    result = kubectl.run("explain", "pods.spec.containers.image")
    wanted = client_models.V1Container.model_fields["image"].description
    assert wanted
    assert _squash(wanted) in _squash(result.stdout)
    kind = kubectl.run("explain", "subjectaccessreviews").stdout
    spec_text = client_models.V1SubjectAccessReview.model_fields["kind"].description
    assert spec_text and _squash(spec_text) in _squash(kind)
    assert "<empty>" not in kind


# --- scale ------------------------------------------------------------------------------------
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}


@pytest.fixture(scope="module")
def apps(cluster: Any) -> k8s.AppsV1Api:
    api_client = k8s_config.new_client_from_config(str(cluster.admin_kubeconfig))
    return k8s.AppsV1Api(api_client)


def test_kubectl_scale_deployment(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("apply", "-f", _write(tmp_path, "d.yaml", yaml.safe_dump(DEPLOYMENT)))
    result = kubectl.run("scale", "deployment", "web", "--replicas=3")
    assert result.stdout.strip() == "deployment.apps/web scaled"
    assert kubectl.run("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "3"

    def read_scale() -> Any:
        raw = "/apis/apps/v1/namespaces/default/deployments/web/scale"
        found = json.loads(kubectl.run("get", "--raw", raw).stdout)
        return found if found["status"].get("replicas") == 3 else None

    # status.replicas is the deployment controller's count of the ReplicaSet's pods.
    scale = wait_for(read_scale, "the scale status to count three replicas")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 3, "selector": "app=web"}
    wrong = kubectl.run(
        "scale", "deployment", "web", "--current-replicas=2", "--replicas=4", check=False
    )
    assert wrong.returncode == 1
    assert "Expected replicas to be 2, was 3" in wrong.stderr


def test_python_client_reads_and_patches_the_scale(
    apps: k8s.AppsV1Api, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl.run("apply", "-f", _write(tmp_path, "d.yaml", yaml.safe_dump(DEPLOYMENT)))
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert scale.metadata.name == "web"
    assert scale.status.selector == "app=web"
    patched = apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 5}})
    assert patched.spec.replicas == 5
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 5
    with pytest.raises(k8s.ApiException) as caught:
        apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": -1}})
    assert caught.value.status == 422
    status = json.loads(caught.value.body)
    assert status["message"] == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    stale = k8s.V1Scale(
        metadata=k8s.V1ObjectMeta(name="web", resource_version="1"),
        spec=k8s.V1ScaleSpec(replicas=2),
    )
    with pytest.raises(k8s.ApiException) as conflict:
        apps.replace_namespaced_deployment_scale("web", "default", stale)
    assert conflict.value.status == 409


# --- WatchList and Status bytes ---------------------------------------------------------------
def _get(cluster: Any, path: str) -> tuple[int, bytes]:
    credentials = ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig)
    request = urllib.request.Request(cluster.url + path, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, context=credentials.ssl_context, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_watch_list_request_of_client_go(cluster: Any, kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("apply", "-f", _write(tmp_path, "d.yaml", yaml.safe_dump(DEPLOYMENT)))
    status, body = _get(
        cluster,
        "/apis/apps/v1/namespaces/default/deployments?watch=true&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&resourceVersion=&allowWatchBookmarks=true"
        "&timeoutSeconds=1",
    )
    assert status == 200
    events = [json.loads(line) for line in body.splitlines()]
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["metadata"]["name"] == "web"
    end = events[1]
    assert end["type"] == "BOOKMARK"
    assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(end["object"]["metadata"]["resourceVersion"]) >= int(
        events[0]["object"]["metadata"]["resourceVersion"]
    )


def test_watch_list_with_the_python_client(
    apps: k8s.AppsV1Api, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl.run("apply", "-f", _write(tmp_path, "d.yaml", yaml.safe_dump(DEPLOYMENT)))
    stream = watch.Watch().stream(
        apps.list_namespaced_deployment,
        "default",
        send_initial_events=True,
        resource_version_match="NotOlderThan",
        allow_watch_bookmarks=True,
        timeout_seconds=1,
    )
    events = list(stream)
    assert [e["type"] for e in events[:2]] == ["ADDED", "BOOKMARK"]
    assert events[0]["object"].metadata.name == "web"
    bookmark = events[1]["object"]
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_without_initial_events_starts_now(
    cluster: Any, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl.run("apply", "-f", _write(tmp_path, "d.yaml", yaml.safe_dump(DEPLOYMENT)))
    status, body = _get(
        cluster,
        "/apis/apps/v1/namespaces/default/deployments?watch=true&sendInitialEvents=false"
        "&resourceVersionMatch=NotOlderThan&resourceVersion=&timeoutSeconds=1",
    )
    assert status == 200
    assert [json.loads(line)["type"] for line in body.splitlines()] == []


def test_watch_refusal_is_kube_apiservers_status(cluster: Any) -> None:
    status, body = _get(
        cluster, "/apis/apps/v1/namespaces/default/deployments?watch=true&sendInitialEvents=true"
    )
    assert status == 422
    assert body == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"ListOptions.meta.k8s.io \\"\\" is invalid: resourceVersionMatch: Forbidden: '
        b'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",'
        b'"reason":"Invalid","details":{"group":"meta.k8s.io","kind":"ListOptions",'
        b'"causes":[{"reason":"FieldValueForbidden","message":"Forbidden: sendInitialEvents '
        b'requires setting resourceVersionMatch to NotOlderThan","field":"resourceVersionMatch"}]},'
        b'"code":422}\n'
    )


def test_not_found_status_bytes(cluster: Any) -> None:
    status, body = _get(cluster, "/api/v1/namespaces/default/pods/nope")
    assert status == 404
    assert body == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"pods \\"nope\\" not found","reason":"NotFound",'
        b'"details":{"name":"nope","kind":"pods"},"code":404}\n'
    )
