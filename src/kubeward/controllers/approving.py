"""The csrapproving controller: approves node client certificate requests the requester may make.

As Kubernetes' ``pkg/controller/certificates/approver`` (sarapprove.go):

 1. Only pending requests (neither Approved nor Denied, no certificate) to
    ``kubernetes.io/kube-apiserver-client-kubelet`` that are valid node client requests
    (``controllers.signers`` rule 2) are considered; others are left for a person.
 2. A request whose subject CN is the requester's own username is a *self* node client request:
    it is approved if a SubjectAccessReview says the requester may ``create``
    ``certificatesigningrequests/selfnodeclient``.
 3. Otherwise (or if that is refused) it is approved if the requester may ``create``
    ``certificatesigningrequests/nodeclient``.
 4. The Approved condition has reason ``AutoApproved`` and Kubernetes' messages; nothing is
    ever denied automatically.
 5. As upstream, a requester allowed ``nodeclient`` (kubeadm binds it to the group of its
    bootstrap tokens) gets a request for a new node's name approved: the token is the proof of
    trust. What that node may then do is fenced by the Node authorizer and NodeRestriction.
 6. Beyond upstream: a bootstrap identity's (``system:bootstrap:…``) request for the name of a
    Node that already exists is not approved automatically but left for a person, so a leaked
    or shared bootstrap token cannot mint the credentials of a node that has already joined.
    (A node renewing its own certificate asks as itself: rule 2.)
"""

from __future__ import annotations

import copy
import logging

from kubeward.api import meta as m
from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.api.resources.certificates import GROUP
from kubeward.api.resources.core import NODES
from kubeward.api.user import NODE_USER_PREFIX
from kubeward.api.validation import certificates as v
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.controllers.signers import common_name, kubelet_client_problem
from kubeward.errors import NotFound

log = logging.getLogger("kubeward.controllers")
BOOTSTRAP_USER_PREFIX = "system:bootstrap:"

SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
SELF_MESSAGE = "Auto approving self kubelet client certificate after SubjectAccessReview."
NODE_MESSAGE = "Auto approving kubelet client certificate after SubjectAccessReview."


class ApprovingController(Controller):
    name = "csrapproving"

    def __init__(self, informer: Informer, client: APIClient) -> None:
        super().__init__(informer)
        self.client = client

    async def reconcile(self, key: str) -> float | None:
        csr = self.cached(key)
        if csr is None or _decided(csr):
            return None
        spec = csr.get("spec") or {}
        if spec.get("signerName") != v.KUBE_APISERVER_CLIENT_KUBELET:
            return None
        try:
            request = v.parse_request(csr)
        except ValueError:
            return None
        if kubelet_client_problem(request, [str(u) for u in spec.get("usages") or []]):
            return None
        candidates = []
        if common_name(request) == spec.get("username"):
            candidates.append(("selfnodeclient", SELF_MESSAGE))
        if not await self._takes_over_a_node(spec, common_name(request)):
            candidates.append(("nodeclient", NODE_MESSAGE))
        for subresource, message in candidates:
            if await self._allowed(csr, subresource):
                await self._approve(csr, message)
                return None
        return None

    async def _takes_over_a_node(self, spec: m.JSONObject, subject: str) -> bool:
        """Rule 6: a bootstrap identity asking for an existing node's name."""
        if not str(spec.get("username", "")).startswith(BOOTSTRAP_USER_PREFIX):
            return False
        node = subject.removeprefix(NODE_USER_PREFIX)
        try:
            await self.client.get(NODES, node)
        except NotFound:
            return False
        log.warning(
            "csr from %s for the existing node %s is left for an administrator",
            spec.get("username"),
            node,
        )
        return True

    async def _allowed(self, csr: m.JSONObject, subresource: str) -> bool:
        spec = csr.get("spec") or {}
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": spec.get("username", ""),
                "uid": spec.get("uid", ""),
                "groups": spec.get("groups") or [],
                "extra": spec.get("extra") or {},
                "resourceAttributes": {
                    "group": GROUP,
                    "resource": "certificatesigningrequests",
                    "verb": "create",
                    "subresource": subresource,
                    "version": "*",
                },
            },
        }
        answer = await self.client.create_raw(SAR_PATH, review)
        return bool((answer.get("status") or {}).get("allowed"))

    async def _approve(self, csr: m.JSONObject, message: str) -> None:
        updated = copy.deepcopy(csr)
        now = m.format_time(m.now())
        updated.setdefault("status", {}).setdefault("conditions", []).append(
            {
                "type": v.APPROVED,
                "status": "True",
                "reason": "AutoApproved",
                "message": message,
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            }
        )
        await self.client.update(CSRS, updated, subresource="approval")


def _decided(csr: m.JSONObject) -> bool:
    return (
        v.has_condition(csr, v.APPROVED)
        or v.has_condition(csr, v.DENIED)
        or bool(v.certificate_bytes(csr))
    )
