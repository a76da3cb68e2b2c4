"""Clusters the NetworkPolicy tests share, written as the manifests a user would apply."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import yaml

from kubeward.netpol.model import Endpoint, ExternalEndpoint, Inventory
from kubeward.netpol.objects import inventory_from_objects

# The cluster of the Kubernetes NetworkPolicy documentation's examples. Pod IPs live in
# 10.244.0.0/16 so that the documentation's 10.0.0.0/24 and 172.17.0.0/16 stay outside.
DOCS_CLUSTER = """
apiVersion: v1
kind: Namespace
metadata: {name: myproject, labels: {project: myproject}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {project: other}}
---
apiVersion: v1
kind: Namespace
metadata: {name: alice, labels: {user: alice}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: default, labels: {role: db}}
spec:
  containers:
  - name: redis
    ports: [{containerPort: 6379, name: redis}, {containerPort: 7777, protocol: SCTP, name: sctp}]
status: {podIP: 10.244.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: default, labels: {role: frontend}}
spec: {containers: [{name: web, ports: [{containerPort: 8080, name: http}]}]}
status: {podIP: 10.244.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {role: client}}
spec: {containers: [{name: c}]}
status: {podIP: 10.244.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: any, namespace: myproject, labels: {app: any}}
spec: {containers: [{name: c, ports: [{containerPort: 9090, name: http}]}]}
status: {podIP: 10.244.1.1}
---
apiVersion: v1
kind: Pod
metadata: {name: x, namespace: other, labels: {role: frontend}}
spec: {containers: [{name: c}]}
status: {podIP: 10.244.2.1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: alice, labels: {role: client}}
spec: {containers: [{name: c}]}
status: {podIP: 10.244.3.1}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: alice, labels: {role: other}}
spec: {containers: [{name: c}]}
status: {podIP: 10.244.3.2}
"""

# The course's three tiers: web, an API on 5000 and a database on 3306, in prod and in dev.
THREE_TIER = """
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: prod, labels: {app: web}}
  spec: {containers: [{name: web, ports: [{containerPort: 80, name: http}]}]}
  status: {podIP: 10.1.0.10}
- apiVersion: v1
  kind: Pod
  metadata: {name: api, namespace: prod, labels: {app: api}}
  spec: {containers: [{name: api, ports: [{containerPort: 5000, name: api}]}]}
  status: {podIP: 10.1.0.11}
- apiVersion: v1
  kind: Pod
  metadata: {name: db, namespace: prod, labels: {app: db}}
  spec: {containers: [{name: mysql, ports: [{containerPort: 3306, name: mysql}]}]}
  status: {podIP: 10.1.0.12}
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: dev, labels: {app: web}}
  spec: {containers: [{name: web, ports: [{containerPort: 80, name: http}]}]}
  status: {podIP: 10.2.0.10}
- apiVersion: v1
  kind: Pod
  metadata: {name: api, namespace: dev, labels: {app: api}}
  spec: {containers: [{name: api, ports: [{containerPort: 5000, name: api}]}]}
  status: {podIP: 10.2.0.11}
"""


def build(*texts: str) -> Inventory:
    """An inventory from YAML manifests (several texts are concatenated as documents)."""
    objects = [doc for text in texts for doc in yaml.safe_load_all(text) if doc is not None]
    flat: list[dict[str, Any]] = []
    for obj in objects:
        flat.extend(obj["items"] if obj.get("kind") == "List" else [obj])
    return inventory_from_objects(flat)


def endpoint(inventory: Inventory, text: str) -> Endpoint:
    """``ns/name`` for a pod, anything else for an address outside the cluster."""
    if "/" in text:
        return inventory.pods_by_key[text]
    return ExternalEndpoint(ipaddress.ip_address(text))


# THREE_TIER as a live kubeward cluster shows it: no pod has an IP (nothing runs them).
THREE_TIER_WITHOUT_IPS = re.sub(r"\n *status: \{podIP: [^}]*\}", "", THREE_TIER)

# The course's database policy: only the API pod of prod may reach the database on 3306, and
# so may the backup server outside the cluster, by IP; the database may send to the backup
# server on 80 and nothing else.
COURSE_DB_POLICY = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-policy, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
      namespaceSelector: {matchLabels: {env: prod}}
    - ipBlock: {cidr: 192.168.5.10/32}
    ports:
    - {protocol: TCP, port: 3306}
  egress:
  - to:
    - ipBlock: {cidr: 192.168.5.10/32}
    ports:
    - {protocol: TCP, port: 80}
"""
