"""RBAC decisions per second: kubeward's indexed authorizer against evaluators that visit bindings.

For 10, 1,000, 10,000 and 100,000 bindings spread over namespaces and subjects, the same
requests (half allowed, half refused) are decided by:

* kubeward, explained — ``RBACAuthorizer`` over ``RBACIndex``, recording near misses;
* kubeward, decide-only — the same with ``explain_denials=False``;
* visit-all — a straightforward evaluator that visits every binding on every request;
* k8s-style — what Kubernetes' own RBAC authorizer visits: every ClusterRoleBinding, and every
  RoleBinding of the request's namespace (its listers index RoleBindings by namespace).

All three share kubeward's rule matching and parsed objects, so the difference is what each
visits. Their decisions are checked to agree before anything is timed.

Run: ``python benchmarks/rbac.py [--quick]`` (or through ``benchmarks/run.py rbac``)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, Decision
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.rbac.objects import CLUSTER_ROLE_BINDING, GROUP, USER, Binding, Role
from kubeward.authz.rbac.rules import rule_allows

RBAC = "rbac.authorization.k8s.io"
SIZES = (10, 1_000, 10_000, 100_000)
AUTHENTICATED = "system:authenticated"


def _rule(verbs: str, resources: str, groups: Sequence[str] = ("",)) -> dict[str, Any]:
    return {"apiGroups": list(groups), "resources": resources.split(), "verbs": verbs.split()}


def build_objects(
    bindings: int, seed: int = 7
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Roles and ``bindings`` bindings: 10% cluster-wide, the rest over bindings/50 namespaces.

    Returns the objects and, per binding, (user, namespace) of one user it names.
    """
    rng = random.Random(seed)
    namespaces = [f"ns-{i}" for i in range(max(1, bindings // 50))]
    groups = [f"team-{i}" for i in range(max(1, bindings // 20))]
    objects: list[dict[str, Any]] = [
        {
            "kind": "ClusterRole",
            "metadata": {"name": "view"},
            "rules": [_rule("get list watch", "pods services configmaps")],
        },
        {
            "kind": "ClusterRole",
            "metadata": {"name": "edit"},
            "rules": [
                _rule(
                    "get list watch create update patch delete", "pods services configmaps secrets"
                ),
                _rule("get list create", "deployments", ("apps",)),
            ],
        },
        {
            "kind": "ClusterRole",
            "metadata": {"name": "basic"},
            "rules": [{"nonResourceURLs": ["/api", "/api/*", "/healthz"], "verbs": ["get"]}],
        },
        {
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "basic"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "basic"},
            "subjects": [{"kind": "Group", "apiGroup": RBAC, "name": AUTHENTICATED}],
        },
    ]
    for ns in namespaces:
        objects.append(
            {
                "kind": "Role",
                "metadata": {"name": "deployer", "namespace": ns},
                "rules": [_rule("create update", "deployments", ("apps",))],
            }
        )
    who: list[tuple[str, str]] = []
    for i in range(bindings):
        user = f"user-{i}"
        subjects = [{"kind": "User", "apiGroup": RBAC, "name": user}]
        if i % 10 == 3:
            subjects.append({"kind": "Group", "apiGroup": RBAC, "name": rng.choice(groups)})
        if i % 10 == 0:
            objects.append(
                {
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": f"crb-{i}"},
                    "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
                    "subjects": subjects,
                }
            )
            who.append((user, rng.choice(namespaces)))
        else:
            ns = rng.choice(namespaces)
            kind, role = rng.choice(
                [("ClusterRole", "view"), ("ClusterRole", "edit"), ("Role", "deployer")]
            )
            objects.append(
                {
                    "kind": "RoleBinding",
                    "metadata": {"name": f"rb-{i}", "namespace": ns},
                    "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
                    "subjects": subjects,
                }
            )
            who.append((user, ns))
    return objects, who


def build_requests(who: list[tuple[str, str]], count: int, seed: int = 11) -> list[Attributes]:
    rng = random.Random(seed)
    requests = []
    for i in range(count):
        user_name, ns = rng.choice(who)
        user = UserInfo(
            user_name, groups=(f"team-{rng.randrange(max(1, len(who) // 20))}", AUTHENTICATED)
        )
        kind = i % 4
        if kind == 0:
            requests.append(
                Attributes(user, "list", namespace=ns, resource="pods")
            )  # mostly allowed
        elif kind == 1:
            requests.append(
                Attributes(user, "create", namespace=ns, api_group="apps", resource="deployments")
            )
        elif kind == 2:
            requests.append(
                Attributes(user, "delete", namespace="elsewhere", resource="secrets", name="s")
            )
        else:
            requests.append(Attributes(user, "delete", resource="nodes", name="n1"))  # refused
    return requests


class VisitingEvaluator:
    """An evaluator that checks bindings one by one, as Kubernetes' RBAC authorizer does.

    With ``all_namespaces`` it visits every binding; otherwise every ClusterRoleBinding and the
    RoleBindings of the request's namespace (Kubernetes' listers index them by namespace).
    """

    def __init__(self, objects: list[dict[str, Any]], all_namespaces: bool) -> None:
        self.roles: dict[tuple[str, str], Role] = {}
        self.cluster_roles: dict[str, Role] = {}
        self.cluster_bindings: list[Binding] = []
        self.by_namespace: dict[str, list[Binding]] = {}
        self.all_bindings: list[Binding] = []
        self.all_namespaces = all_namespaces
        for obj in objects:
            kind = obj["kind"]
            if kind == "Role":
                role = Role.from_dict(obj, kind)
                self.roles[(role.namespace, role.name)] = role
            elif kind == "ClusterRole":
                role = Role.from_dict(obj, kind)
                self.cluster_roles[role.name] = role
            else:
                binding = Binding.from_dict(obj, kind)
                self.all_bindings.append(binding)
                if kind == CLUSTER_ROLE_BINDING:
                    self.cluster_bindings.append(binding)
                else:
                    self.by_namespace.setdefault(binding.namespace, []).append(binding)

    def _applies(self, binding: Binding, user: UserInfo) -> Any:
        for subject in binding.subjects:
            key = binding.subject_key(subject)
            if key is None:
                continue
            if (key[0] == USER and key[1] == user.name) or (
                key[0] == GROUP and key[1] in user.groups
            ):
                return subject
        return None

    def authorize(self, a: Attributes) -> tuple[Decision, str]:
        if self.all_namespaces:
            candidates = [
                b
                for b in self.all_bindings
                if b.kind == CLUSTER_ROLE_BINDING or (a.namespace and b.namespace == a.namespace)
            ]
        else:
            candidates = self.cluster_bindings + (
                self.by_namespace.get(a.namespace, []) if a.namespace else []
            )
        for binding in candidates:
            subject = self._applies(binding, a.user)
            if subject is None:
                continue
            ref = binding.role_ref
            role = (
                self.cluster_roles.get(ref.name)
                if ref.kind == "ClusterRole"
                else self.roles.get((binding.namespace, ref.name))
            )
            if role is None:
                continue
            for rule in role.rules:
                if rule_allows(a, rule):
                    return Decision.ALLOW, f"RBAC: allowed by {binding.describe(subject)}"
        return Decision.NO_OPINION, ""


def rate(
    decide: Callable[[Attributes], object], requests: list[Attributes], budget: float
) -> float:
    """Decisions per second over at least ``budget`` seconds (and at least 20 decisions)."""
    done = 0
    start = time.perf_counter()
    while True:
        for a in requests:
            decide(a)
            done += 1
            if done >= 10 and time.perf_counter() - start >= budget:
                return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing budget")
    args = parser.parse_args(argv)
    budget = 0.5 if args.quick else 3.0
    rounds = 5

    print("decisions per second, best of interleaved rounds; ratio = kubeward / baseline")
    print(
        f"{'bindings':>9} {'load s':>7} {'explained':>10} {'decide-only':>12} {'visit-all':>10}"
        f" {'k8s-style':>10}  {'vs visit-all (expl/dec)':>24}  {'vs k8s-style (expl/dec)':>24}"
    )
    for size in SIZES:
        objects, who = build_objects(size)
        index = RBACIndex()
        started = time.perf_counter()
        index.load(objects)
        load_seconds = time.perf_counter() - started
        explained = RBACAuthorizer(index)
        decide_only = RBACAuthorizer(index, explain_denials=False)
        visit_all = VisitingEvaluator(objects, all_namespaces=True)
        k8s_style = VisitingEvaluator(objects, all_namespaces=False)
        requests = build_requests(who, 400)

        allowed = 0
        for a in requests:  # all must agree before they are compared
            ours = explained.authorize(a)
            assert decide_only.authorize(a).decision is ours.decision
            for other in (visit_all, k8s_style):
                decision, reason = other.authorize(a)
                assert decision is ours.decision, (a, decision, ours)
                if decision is Decision.ALLOW:
                    assert reason.startswith("RBAC: allowed by ")  # order may differ
            allowed += ours.decision is Decision.ALLOW

        evaluators: dict[str, Callable[[Attributes], object]] = {
            "explained": explained.authorize,
            "decide-only": decide_only.authorize,
            "visit-all": visit_all.authorize,
            "k8s-style": k8s_style.authorize,
        }
        best = dict.fromkeys(evaluators, 0.0)
        for _ in range(rounds):  # interleaved, so a busy machine slows all of them alike
            for label, decide in evaluators.items():
                best[label] = max(best[label], rate(decide, requests, budget / rounds))
        e, q, v, k = (best[label] for label in evaluators)
        print(
            f"{size:>9,} {load_seconds:>7.2f} {e:>10,.0f} {q:>12,.0f} {v:>10,.0f} {k:>10,.0f}"
            f"  {e / v:>11.1f}x /{q / v:>9.1f}x  {e / k:>11.1f}x /{q / k:>9.1f}x"
            f"  ({allowed}/{len(requests)} allowed)"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
