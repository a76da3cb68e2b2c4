"""Validation of the core workload kinds: 422 with Kubernetes' messages, case by case.

Cases follow ``pkg/apis/core/validation/validation.go`` and ``pkg/apis/discovery/validation``
(ValidateService, ValidateEndpoints, ValidateEndpointSlice, ValidateReplicationController,
ValidatePodTemplate, ValidatePersistentVolume(Claim), ValidateLimitRange, ValidateResourceQuota);
each expected message is the cause as the real API server words it.
"""

import asyncio
import copy

import pytest

from kubeward.api.allocation.ranges import IPRange, PortRange
from kubeward.api.allocation.services import ServiceAllocations
from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core_policy import LIMIT_RANGES, RESOURCE_QUOTAS
from kubeward.api.resources.core_services import ENDPOINTS, SERVICES
from kubeward.api.resources.core_storage import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES
from kubeward.api.resources.core_workloads import POD_TEMPLATES, REPLICATION_CONTROLLERS
from kubeward.api.resources.discovery import ENDPOINT_SLICES
from kubeward.errors import Invalid
from kubeward.storage.memory import MemoryBackend

SCHEME, STRATEGIES = build_scheme()
POD_SPEC = {"containers": [{"name": "c", "image": "nginx"}]}


async def _store(rt):
    backend = MemoryBackend()
    await backend.start()
    store = Store(rt, STRATEGIES[rt], backend)
    if rt is SERVICES:
        store.hooks = ServiceAllocations(
            backend, IPRange.parse("10.0.0.0/24"), PortRange.parse("30000-32767")
        )
    return store


def create(rt, obj):
    async def go():
        store = await _store(rt)
        return await store.create("default" if rt.namespaced else "", copy.deepcopy(obj))

    return asyncio.run(go())


def refusal(rt, obj):
    with pytest.raises(Invalid) as caught:
        create(rt, obj)
    assert caught.value.code == 422
    return str(caught.value)


def update_refusal(rt, obj, change):
    async def go():
        store = await _store(rt)
        ns = "default" if rt.namespaced else ""
        await store.create(ns, copy.deepcopy(obj))

        def mutate(current):
            change(current)
            return current

        with pytest.raises(Invalid) as caught:
            await store.guaranteed_update(ns, obj["metadata"]["name"], mutate)
        return str(caught.value)

    return asyncio.run(go())


def svc(**spec):
    spec.setdefault("ports", [{"port": 80}])
    return {"metadata": {"name": "s"}, "spec": spec}


SERVICE_CASES = [
    ("ports-required", svc(ports=[]), "spec.ports: Required value"),
    (
        "port-out-of-range",
        svc(ports=[{"port": 65536}]),
        "spec.ports[0].port: Invalid value: 65536: must be between 1 and 65535, inclusive",
    ),
    (
        "port-name-required-when-several",
        svc(ports=[{"port": 80, "name": "a"}, {"port": 81}]),
        "spec.ports[1].name: Required value",
    ),
    (
        "port-name-duplicate",
        svc(ports=[{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]),
        'spec.ports[1].name: Duplicate value: "a"',
    ),
    (
        "port-duplicate",
        svc(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]),
        'spec.ports[1]: Duplicate value: {"port": 80, "protocol": "TCP"}',
    ),
    (
        "protocol-unsupported",
        svc(ports=[{"port": 80, "protocol": "HTTP"}]),
        'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ),
    (
        "type-unsupported",
        svc(type="Magic"),
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"',
    ),
    (
        "external-name-required",
        svc(type="ExternalName", ports=[]),
        "spec.externalName: Required value",
    ),
    (
        "external-name-not-dns",
        svc(type="ExternalName", externalName="Bad_Name", ports=[]),
        'spec.externalName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
    ),
    (
        "external-name-with-cluster-ip",
        svc(type="ExternalName", externalName="db.example.com", clusterIP="10.0.0.5"),
        "spec.clusterIPs: Forbidden: may not be set for ExternalName services",
    ),
    (
        "node-port-on-cluster-ip",
        svc(ports=[{"port": 80, "nodePort": 30001}]),
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ),
    (
        "headless-node-port",
        svc(type="NodePort", clusterIP="None"),
        "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services",
    ),
    (
        "cluster-ip-not-an-ip",
        svc(clusterIP="10.0.0.300"),
        'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address',
    ),
    (
        "session-affinity-unsupported",
        svc(sessionAffinity="Sticky"),
        'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
    ),
    (
        "external-traffic-policy-on-cluster-ip",
        svc(externalTrafficPolicy="Local"),
        'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for '
        "externally-accessible services",
    ),
    (
        "name-not-dns-1035",
        {"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}},
        'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of',
    ),
    (
        "load-balancer-class-on-cluster-ip",
        svc(loadBalancerClass="example.com/lb"),
        "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ),
    (
        "health-check-port-without-local-policy",
        svc(type="NodePort", healthCheckNodePort=30100),
        "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is "
        "'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ),
    (
        "family-not-configured",
        svc(ipFamilies=["IPv6"]),
        'spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster',
    ),
    (
        "dual-stack-required",
        svc(ipFamilyPolicy="RequireDualStack"),
        'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured '
        "for dual-stack services",
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in SERVICE_CASES], ids=[c[0] for c in SERVICE_CASES]
)
def test_service_refusals(obj, message):
    assert message in refusal(SERVICES, obj)


def test_selector_on_external_name_is_accepted_as_upstream_does():
    created = create(
        SERVICES, svc(type="ExternalName", externalName="db.example.com", selector={"a": "b"})
    )
    assert created["spec"]["selector"] == {"a": "b"}


def test_service_cluster_ip_and_type_updates():
    message = update_refusal(
        SERVICES, svc(), lambda s: s["spec"].update(clusterIP="10.0.0.99", clusterIPs=["10.0.0.99"])
    )
    assert 'spec.clusterIPs[0]: Invalid value: ["10.0.0.99"]: may not change once set' in message


EP = {"metadata": {"name": "e"}}
ENDPOINTS_CASES = [
    (
        "subset-needs-addresses",
        {**EP, "subsets": [{"ports": [{"port": 80}]}]},
        "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
    ),
    (
        "not-an-ip",
        {**EP, "subsets": [{"addresses": [{"ip": "nope"}]}]},
        'subsets[0].addresses[0].ip: Invalid value: "nope": must be a valid IP address',
    ),
    (
        "loopback",
        {**EP, "subsets": [{"addresses": [{"ip": "127.0.0.1"}]}]},
        'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range',
    ),
    (
        "link-local",
        {**EP, "subsets": [{"addresses": [{"ip": "169.254.1.1"}]}]},
        "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
    ),
    (
        "port-range",
        {**EP, "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 0}]}]},
        "subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
    (
        "port-name-when-several",
        {
            **EP,
            "subsets": [
                {
                    "addresses": [{"ip": "192.0.2.1"}],
                    "ports": [{"port": 1}, {"port": 2, "name": "b"}],
                }
            ],
        },
        "subsets[0].ports[0].name: Required value",
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in ENDPOINTS_CASES], ids=[c[0] for c in ENDPOINTS_CASES]
)
def test_endpoints_refusals(obj, message):
    assert message in refusal(ENDPOINTS, obj)


ES = {"metadata": {"name": "es"}}
SLICE_CASES = [
    ("address-type-required", {**ES}, "addressType: Required value"),
    (
        "address-type-unsupported",
        {**ES, "addressType": "IPv5"},
        'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
    ),
    (
        "addresses-required",
        {**ES, "addressType": "IPv4", "endpoints": [{"addresses": []}]},
        "endpoints[0].addresses: Required value: must contain at least 1 address",
    ),
    (
        "address-of-other-family",
        {**ES, "addressType": "IPv4", "endpoints": [{"addresses": ["2001:db8::1"]}]},
        'endpoints[0].addresses[0]: Invalid value: "2001:db8::1": must be an IPv4 address',
    ),
    (
        "port-protocol",
        {**ES, "addressType": "IPv4", "ports": [{"port": 80, "protocol": "ICMP"}]},
        'ports[0].protocol: Unsupported value: "ICMP"',
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in SLICE_CASES], ids=[c[0] for c in SLICE_CASES]
)
def test_endpoint_slice_refusals(obj, message):
    assert message in refusal(ENDPOINT_SLICES, obj)


def test_endpoint_slice_address_type_is_immutable():
    message = update_refusal(
        ENDPOINT_SLICES, {**ES, "addressType": "IPv4"}, lambda s: s.update(addressType="FQDN")
    )
    assert 'addressType: Invalid value: "FQDN": field is immutable' in message


def rc(**spec):
    spec.setdefault("template", {"metadata": {"labels": {"app": "a"}}, "spec": dict(POD_SPEC)})
    return {"metadata": {"name": "rc"}, "spec": spec}


RC_CASES = [
    (
        "negative-replicas",
        rc(replicas=-1),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "template-required",
        {"metadata": {"name": "rc"}, "spec": {"selector": {"app": "a"}}},
        "spec.template: Required value",
    ),
    (
        "selector-required",
        {"metadata": {"name": "rc"}, "spec": {"template": {"spec": dict(POD_SPEC)}}},
        "spec.selector: Required value",
    ),
    (
        "selector-mismatch",
        rc(selector={"app": "b"}),
        'spec.template.metadata.labels: Invalid value: {"app": "a"}: `selector` does not match '
        "template `labels`",
    ),
    (
        "restart-policy",
        rc(
            template={
                "metadata": {"labels": {"app": "a"}},
                "spec": {**POD_SPEC, "restartPolicy": "OnFailure"},
            }
        ),
        'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    ),
    (
        "containers-required",
        rc(template={"metadata": {"labels": {"app": "a"}}, "spec": {}}),
        "spec.template.spec.containers: Required value",
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in RC_CASES], ids=[c[0] for c in RC_CASES]
)
def test_replication_controller_refusals(obj, message):
    assert message in refusal(REPLICATION_CONTROLLERS, obj)


def test_pod_template_refusal():
    message = refusal(POD_TEMPLATES, {"metadata": {"name": "t"}, "template": {"spec": {}}})
    assert "template.spec.containers: Required value" in message


def pv(**spec):
    base = {
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"],
        "hostPath": {"path": "/d"},
    }
    base.update(spec)
    return {"metadata": {"name": "pv"}, "spec": {k: v for k, v in base.items() if v is not None}}


PV_CASES = [
    (
        "access-modes-required",
        pv(accessModes=None),
        "spec.accessModes: Required value: at least 1 access mode is required",
    ),
    (
        "access-mode-unsupported",
        pv(accessModes=["ReadSometimes"]),
        'spec.accessModes: Unsupported value: "ReadSometimes": supported values: "ReadOnlyMany", '
        '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    ),
    ("capacity-required", pv(capacity=None), "spec.capacity: Required value"),
    (
        "capacity-only-storage",
        pv(capacity={"storage": "1Gi", "cpu": "1"}),
        "spec.capacity: Unsupported value:",
    ),
    (
        "capacity-positive",
        pv(capacity={"storage": "0"}),
        'spec.capacity[storage]: Invalid value: "0": must be greater than zero',
    ),
    ("volume-type-required", pv(hostPath=None), "spec: Required value: must specify a volume type"),
    (
        "one-volume-type",
        pv(nfs={"server": "s", "path": "/p"}),
        "spec.nfs: Forbidden: may not specify more than 1 volume type",
    ),
    ("host-path-required", pv(hostPath={}), "spec.hostPath.path: Required value"),
    (
        "reclaim-policy",
        pv(persistentVolumeReclaimPolicy="Keep"),
        'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: '
        '"Delete", "Recycle", "Retain"',
    ),
    (
        "rwop-alone",
        pv(accessModes=["ReadWriteOncePod", "ReadWriteOnce"]),
        "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in PV_CASES], ids=[c[0] for c in PV_CASES]
)
def test_persistent_volume_refusals(obj, message):
    assert message in refusal(PERSISTENT_VOLUMES, obj)


def pvc(**spec):
    base = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    base.update(spec)
    return {"metadata": {"name": "c"}, "spec": {k: v for k, v in base.items() if v is not None}}


PVC_CASES = [
    (
        "access-modes-required",
        pvc(accessModes=[]),
        "spec.accessModes: Required value: at least 1 access mode is required",
    ),
    ("storage-required", pvc(resources={}), "spec.resources[storage]: Required value"),
    (
        "storage-positive",
        pvc(resources={"requests": {"storage": "0"}}),
        'spec.resources[storage]: Invalid value: "0": must be greater than zero',
    ),
    (
        "storage-quantity",
        pvc(resources={"requests": {"storage": "lots"}}),
        'spec.resources[storage]: Invalid value: "lots": quantities must match the regular expression',
    ),
    (
        "volume-mode",
        pvc(volumeMode="Raw"),
        'spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"',
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in PVC_CASES], ids=[c[0] for c in PVC_CASES]
)
def test_persistent_volume_claim_refusals(obj, message):
    assert message in refusal(PERSISTENT_VOLUME_CLAIMS, obj)


def test_claim_spec_is_immutable_while_unbound():
    message = update_refusal(
        PERSISTENT_VOLUME_CLAIMS,
        pvc(),
        lambda c: c["spec"].update(resources={"requests": {"storage": "2Gi"}}),
    )
    assert (
        "spec: Forbidden: spec is immutable after creation except resources.requests and "
        "volumeAttributesClassName for bound claims"
    ) in message


def limits(*items):
    return {"metadata": {"name": "l"}, "spec": {"limits": list(items)}}


LIMIT_CASES = [
    (
        "min-above-max",
        limits({"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}}),
        'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    ),
    (
        "default-above-max",
        limits({"type": "Container", "max": {"cpu": "1"}, "default": {"cpu": "2"}}),
        'spec.limits[0].default[cpu]: Invalid value: "1": default value 2 is greater than max value 1',
    ),
    (
        "pod-default",
        limits({"type": "Pod", "default": {"cpu": "1"}}),
        "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'",
    ),
    (
        "pvc-needs-storage-bound",
        limits({"type": "PersistentVolumeClaim"}),
        "spec.limits[0].limits: Required value: either minimum or maximum storage value is "
        "required, but neither was provided",
    ),
    (
        "type-listed-once",
        limits({"type": "Container"}, {"type": "Container"}),
        'spec.limits[1].type: Duplicate value: "Container"',
    ),
    (
        "negative",
        limits({"type": "Container", "max": {"cpu": "-1"}}),
        'spec.limits[0].max[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES]
)
def test_limit_range_refusals(obj, message):
    assert message in refusal(LIMIT_RANGES, obj)


def quota(**spec):
    return {"metadata": {"name": "q"}, "spec": spec}


QUOTA_CASES = [
    (
        "negative",
        quota(hard={"cpu": "-1"}),
        'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ),
    (
        "object-count-integer",
        quota(hard={"pods": "1500m"}),
        'spec.hard[pods]: Invalid value: "1500m": must be an integer',
    ),
    (
        "not-a-quantity",
        quota(hard={"memory": "much"}),
        'spec.hard[memory]: Invalid value: "much": quantities must match',
    ),
    (
        "scope",
        quota(hard={"pods": "1"}, scopes=["Sometimes"]),
        'spec.scopes[0]: Unsupported value: "Sometimes"',
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in QUOTA_CASES], ids=[c[0] for c in QUOTA_CASES]
)
def test_resource_quota_refusals(obj, message):
    assert message in refusal(RESOURCE_QUOTAS, obj)


def test_defaults_of_the_new_kinds():
    lr = create(
        LIMIT_RANGES, limits({"type": "Container", "max": {"cpu": "2"}, "min": {"cpu": "1"}})
    )
    assert lr["spec"]["limits"][0]["default"] == {"cpu": "2"}
    assert lr["spec"]["limits"][0]["defaultRequest"] == {"cpu": "2"}
    volume = create(PERSISTENT_VOLUMES, pv())
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["volumeMode"] == "Filesystem" and volume["status"]["phase"] == "Pending"
    claim = create(PERSISTENT_VOLUME_CLAIMS, pvc())
    assert claim["status"] == {"phase": "Pending"} and claim["spec"]["volumeMode"] == "Filesystem"
    controller = create(REPLICATION_CONTROLLERS, rc())
    assert controller["spec"]["selector"] == {"app": "a"} and controller["spec"]["replicas"] == 1
    template_spec = controller["spec"]["template"]["spec"]
    assert (
        template_spec["restartPolicy"] == "Always"
        and "status" not in controller["spec"]["template"]
    )
    endpoints = create(
        ENDPOINTS,
        {**EP, "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}]},
    )
    assert endpoints["subsets"][0]["ports"][0]["protocol"] == "TCP"


def test_a_volume_phase_change_through_status_stamps_the_transition_time():
    async def go():
        store = await _store(PERSISTENT_VOLUMES)
        created = await store.create("", pv())

        def bind(obj):
            obj["status"] = {"phase": "Available"}
            return obj

        updated = await store.guaranteed_update("", "pv", bind, subresource="status")
        return created, updated

    created, updated = asyncio.run(go())
    assert created["status"]["lastPhaseTransitionTime"].endswith("Z")
    assert updated["status"]["phase"] == "Available"
    assert updated["status"]["lastPhaseTransitionTime"].endswith("Z")
