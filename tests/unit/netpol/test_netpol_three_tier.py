"""The course's three-tier example: web, an API on 5000, a database on 3306.

Only the API pod may reach the database on 3306; then only the API pod of namespace prod; then
also a backup server outside the cluster, by IP.
"""

from __future__ import annotations

import pytest
from netpol_fixtures import THREE_TIER, build, endpoint

from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.matrix import Probe, build_truth_table
from kubeward.netpol.reference import is_allowed

ONLY_API = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-only-from-api, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
    ports:
    - {protocol: TCP, port: 3306}
"""

# Written to be reused from any namespace: the API pod must be in prod (AND in one peer).
ONLY_PROD_API = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-only-from-prod-api, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: prod}}
      podSelector: {matchLabels: {app: api}}
    ports:
    - {protocol: TCP, port: 3306}
"""

# The classic mistake: two peers (OR) where one peer (AND) was meant.
PROD_OR_API = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-prod-or-api, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: prod}}
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: api}}
    ports:
    - {protocol: TCP, port: 3306}
"""

BACKUP = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-backup, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - ipBlock: {cidr: 192.168.5.10/32}
    ports:
    - {protocol: TCP, port: 3306}
"""

CASES = [
    ("api-to-db", ONLY_API, "prod/api", "prod/db", 3306, True),
    ("web-to-db", ONLY_API, "prod/web", "prod/db", 3306, False),
    ("api-to-db-wrong-port", ONLY_API, "prod/api", "prod/db", 5000, False),
    ("dev-api-to-prod-db", ONLY_API, "dev/api", "prod/db", 3306, False),
    ("web-to-api-untouched", ONLY_API, "prod/web", "prod/api", 5000, True),
    ("db-to-api-untouched", ONLY_API, "prod/db", "prod/api", 5000, True),
    ("external-to-db", ONLY_API, "192.168.5.10", "prod/db", 3306, False),
    ("prod-api-to-db", ONLY_PROD_API, "prod/api", "prod/db", 3306, True),
    ("prod-dev-api-to-db", ONLY_PROD_API, "dev/api", "prod/db", 3306, False),
    ("prod-web-to-db", ONLY_PROD_API, "prod/web", "prod/db", 3306, False),
    ("or-mistake-lets-prod-web-in", PROD_OR_API, "prod/web", "prod/db", 3306, True),
    ("or-mistake-lets-dev-api-in", PROD_OR_API, "dev/api", "prod/db", 3306, True),
    ("or-mistake-keeps-dev-web-out", PROD_OR_API, "dev/web", "prod/db", 3306, False),
    ("backup-server", ONLY_PROD_API + BACKUP, "192.168.5.10", "prod/db", 3306, True),
    ("backup-neighbour", ONLY_PROD_API + BACKUP, "192.168.5.11", "prod/db", 3306, False),
    ("backup-wrong-port", ONLY_PROD_API + BACKUP, "192.168.5.10", "prod/db", 22, False),
    ("backup-keeps-api", ONLY_PROD_API + BACKUP, "prod/api", "prod/db", 3306, True),
    ("backup-keeps-web-out", ONLY_PROD_API + BACKUP, "prod/web", "prod/db", 3306, False),
    ("db-may-call-backup", ONLY_PROD_API + BACKUP, "prod/db", "192.168.5.10", 873, True),
]


@pytest.mark.parametrize(
    ("policies", "source", "destination", "port", "allowed"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_three_tier(policies: str, source: str, destination: str, port: int, allowed: bool) -> None:
    inventory = build(THREE_TIER, policies)
    src, dst = endpoint(inventory, source), endpoint(inventory, destination)
    assert Evaluator(inventory).check(src, dst, port, "TCP").allowed is allowed
    assert is_allowed(inventory, src, dst, port, "TCP") is allowed


def test_three_tier_matrix_column_of_the_database() -> None:
    inventory = build(THREE_TIER, ONLY_PROD_API + BACKUP)
    table = build_truth_table(Evaluator(inventory), [Probe(3306)])
    pods = [p.key for p in table.pods]
    assert pods == ["dev/api", "dev/web", "prod/api", "prod/db", "prod/web"]
    db = pods.index("prod/db")
    column = {pods[i]: row[db] for i, row in enumerate(table.probes[0].matrix)}
    assert column == {
        "dev/api": False,
        "dev/web": False,
        "prod/api": True,
        "prod/db": False,
        "prod/web": False,
    }
    # Nothing else is isolated: every other column is all allowed.
    for i in range(len(pods)):
        assert all(cell for j, cell in enumerate(table.probes[0].matrix[i]) if j != db)
