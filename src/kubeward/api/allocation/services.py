"""Service cluster IPs and node ports, allocated in storage around a Service's own writes.

The store's :class:`~kubeward.api.registry.scope.WriteHooks` for ``services``, as upstream's
``pkg/registry/core/service/storage/alloc.go``. Rules:

 1. ExternalName Services get no address. Otherwise ``ipFamilyPolicy`` defaults to
    ``SingleStack`` (``RequireDualStack`` for a headless Service without a selector, which then
    lists both families), ``ipFamilies`` to the family of the cluster range, and asking for a
    family or for dual-stack the range cannot give is 422 on that field.
 2. A headless Service (``clusterIP: None``) gets no address. Any other gets the address it
    names, or the next free one: ``clusterIP`` and ``clusterIPs`` both show it.
 3. A named address outside the range, or already taken, is 422 on ``spec.clusterIPs`` worded as
    upstream (``failed to allocate IP …: provided IP is already allocated``); a full range is 500.
 4. NodePort Services, and LoadBalancer Services unless ``allocateLoadBalancerNodePorts`` is
    false, get a node port per port; ports that share a port number share a node port. A named
    node port outside the range or taken is 422 on ``spec.ports[i].nodePort``. A LoadBalancer
    with ``externalTrafficPolicy: Local`` also gets a ``healthCheckNodePort``.
 5. An update allocates what the new object needs that the old did not have and releases what
    the old had that the new does not — the releases only once the update is stored.
 6. A failed write releases what it allocated; a deleted Service releases everything it held.
 7. Every allocation is a key in storage (``api.allocation.stored``); an address's key holds a
    ``networking.k8s.io/v1`` ``IPAddress`` whose ``parentRef`` names the Service, as upstream.
 8. ``repair`` (run by the server at start, as upstream's repair controllers run) frees
    allocations no Service holds — left by a crash between an allocation and the Service's
    write — once they are older than a grace period, so that another API server's allocation
    in flight is never taken back; and records again any a stored Service holds but storage
    lacks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kubeward.api import meta as m
from kubeward.api.allocation.ranges import IPRange, PortRange
from kubeward.api.allocation.stored import StoredAllocator
from kubeward.api.registry.scope import FinishWrite
from kubeward.api.validation import field as f
from kubeward.errors import Cause, InternalError, invalid
from kubeward.storage.interfaces import Backend

IP_PREFIX = "/registry/ipaddresses/"  # kube-apiserver's key for IPAddress objects
NODE_PORT_PREFIX = "/registry/servicenodeports/"
MANAGED_BY = "ipallocator.k8s.io"


def _spec(obj: m.JSONObject) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _ports(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in spec.get("ports") or [] if isinstance(p, dict)]


def is_headless(spec: dict[str, Any]) -> bool:
    ips = spec.get("clusterIPs") or []
    return spec.get("clusterIP") == "None" or (bool(ips) and ips[0] == "None")


def needs_node_ports(spec: dict[str, Any]) -> bool:
    kind = spec.get("type", "ClusterIP")
    if kind == "NodePort":
        return True
    return kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True) is not False


def needs_health_check(spec: dict[str, Any]) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def node_ports_of(spec: dict[str, Any]) -> set[int]:
    ports = {int(p["nodePort"]) for p in _ports(spec) if isinstance(p.get("nodePort"), int)}
    ports.discard(0)
    health = spec.get("healthCheckNodePort")
    if isinstance(health, int) and health:
        ports.add(health)
    return ports


def addresses_of(spec: dict[str, Any]) -> list[str]:
    if spec.get("type") == "ExternalName" or is_headless(spec):
        return []
    return [ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str) and ip]


@dataclass
class _Operation:
    """What one write has taken and what it will give back once stored (rules 5 and 6)."""

    allocations: ServiceAllocations
    dry_run: bool
    taken_ips: list[str] = field(default_factory=list)
    taken_ports: list[int] = field(default_factory=list)
    release_ips: list[str] = field(default_factory=list)
    release_ports: list[int] = field(default_factory=list)

    async def finish(self, stored: bool) -> None:
        if self.dry_run:
            return
        ips, ports = (
            (self.release_ips, self.release_ports) if stored else (self.taken_ips, self.taken_ports)
        )
        for ip in ips:
            await self.allocations.addresses.release(ip)
        for port in ports:
            await self.allocations.node_ports.release(str(port))


class ServiceAllocations:
    """Allocates from ``ip_range`` and ``port_range`` through keys in ``backend``."""

    def __init__(self, backend: Backend, ip_range: IPRange, port_range: PortRange) -> None:
        self.ip_range = ip_range
        self.port_range = port_range
        self.addresses = StoredAllocator(
            backend,
            IP_PREFIX,
            ip_range.size,
            ip_range.static_band,
            lambda offset: str(ip_range.address(offset)),
            self._ip_offset,
        )
        self.node_ports = StoredAllocator(
            backend,
            NODE_PORT_PREFIX,
            port_range.size,
            port_range.static_band,
            lambda offset: str(port_range.base + offset),
            self._port_offset,
        )

    def _ip_offset(self, text: str) -> int:
        try:
            return self.ip_range.offset(ipaddress.ip_address(text))
        except ValueError:
            return -1

    def _port_offset(self, text: str) -> int:
        if not text.isdigit() or not self.port_range.contains(int(text)):
            return -1
        return int(text) - self.port_range.base

    # --- the store's hooks -------------------------------------------------------------------
    async def begin_create(self, obj: m.JSONObject, dry_run: bool) -> FinishWrite:
        op = _Operation(self, dry_run)
        try:
            await self._allocate(obj, None, op)
        except BaseException:
            await op.finish(False)
            raise
        return op.finish

    async def begin_update(
        self, new: m.JSONObject, old: m.JSONObject, dry_run: bool
    ) -> FinishWrite:
        op = _Operation(self, dry_run)
        try:
            await self._allocate(new, old, op)
        except BaseException:
            await op.finish(False)
            raise
        return op.finish

    async def after_delete(self, obj: m.JSONObject) -> None:
        spec = _spec(obj)
        for ip in addresses_of(spec):
            await self.addresses.release(ip)
        for port in sorted(node_ports_of(spec)):
            await self.node_ports.release(str(port))

    # --- repair ------------------------------------------------------------------------------
    async def repair(
        self, services: list[m.JSONObject], now: datetime, grace: timedelta
    ) -> tuple[int, int]:
        """Rule 8; returns how many allocations were freed and how many recorded again."""
        held_ips: dict[str, m.JSONObject] = {}
        held_ports: dict[str, m.JSONObject] = {}
        for service in services:
            spec = _spec(service)
            for ip in addresses_of(spec):
                held_ips[ip] = service
            for port in node_ports_of(spec):
                held_ports[str(port)] = service
        freed = recorded = 0
        for allocator, held in ((self.addresses, held_ips), (self.node_ports, held_ports)):
            present = set()
            for item, record in await allocator.records():
                present.add(item)
                created = m.parse_time(
                    str((record.get("metadata") or {}).get("creationTimestamp") or "")
                )
                if item not in held and (created is None or now - created > grace):
                    await allocator.release(item)
                    freed += 1
            for item, service in held.items():
                if item in present:
                    continue
                if allocator is self.addresses:
                    if self._ip_offset(item) < 0:
                        continue
                    record = self._ip_record(service)(item)
                else:
                    if self._port_offset(item) < 0:
                        continue
                    record = self._port_record(service, item)
                if await allocator.allocate(item, record):
                    recorded += 1
        return freed, recorded

    # --- allocation --------------------------------------------------------------------------
    async def _allocate(self, obj: m.JSONObject, old: m.JSONObject | None, op: _Operation) -> None:
        spec = _spec(obj)
        old_spec = _spec(old) if old is not None else None
        self._init_families(obj, spec, old_spec)
        old_ips = addresses_of(old_spec) if old_spec is not None else []
        new_ips = addresses_of(spec)
        if spec.get("type") != "ExternalName" and not is_headless(spec):
            wanted = new_ips[0] if new_ips else ""
            if not (old_ips and wanted == old_ips[0]):
                ip = await self._take_ip(obj, wanted, op)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
        op.release_ips = [ip for ip in old_ips if ip not in addresses_of(spec)]
        await self._allocate_node_ports(obj, spec, old_spec, op)

    def _init_families(
        self, obj: m.JSONObject, spec: dict[str, Any], old_spec: dict[str, Any] | None
    ) -> None:
        """Rule 1, for a cluster with one service range (kubeward's single-stack ranges)."""
        if spec.get("type") == "ExternalName":
            return
        family = self.ip_range.family
        headless_selectorless = is_headless(spec) and not spec.get("selector")
        if spec.get("ipFamilyPolicy") is None:
            if old_spec is not None and old_spec.get("ipFamilyPolicy") is not None:
                spec["ipFamilyPolicy"] = old_spec["ipFamilyPolicy"]
            elif headless_selectorless:
                spec["ipFamilyPolicy"] = "RequireDualStack"
            else:
                spec["ipFamilyPolicy"] = "SingleStack"
        policy = spec["ipFamilyPolicy"]
        families = [x for x in spec.get("ipFamilies") or [] if isinstance(x, str)]
        causes: list[Cause] = []
        ips = [ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str)]
        for i, ip in enumerate(ips):
            if ip == "None":
                break
            try:
                ip_family = "IPv4" if ipaddress.ip_address(ip).version == 4 else "IPv6"
            except ValueError:
                break  # validation reports it
            if i >= len(families):
                if ip_family != family:
                    causes.append(
                        f.invalid(
                            f"spec.clusterIPs[{i}]",
                            ips,
                            f"{ip_family} is not configured on this cluster",
                        )
                    )
                else:
                    families.append(ip_family)
        if causes:
            raise invalid("Service", m.name_of(obj), causes)
        if headless_selectorless:
            if not families:
                families = [family]
            if len(families) < 2 and policy != "SingleStack":
                families.append("IPv6" if families[0] == "IPv4" else "IPv4")
            spec["ipFamilies"] = families
            return
        if policy == "RequireDualStack":
            causes.append(
                f.invalid(
                    "spec.ipFamilyPolicy",
                    policy,
                    "this cluster is not configured for dual-stack services",
                )
            )
        for i, requested in enumerate(families):
            if requested != family:
                causes.append(
                    f.invalid(f"spec.ipFamilies[{i}]", requested, "not configured on this cluster")
                )
        if causes:
            raise invalid("Service", m.name_of(obj), causes)
        spec["ipFamilies"] = families or [family]

    async def _take_ip(self, obj: m.JSONObject, wanted: str, op: _Operation) -> str:
        record = self._ip_record(obj)
        if op.dry_run:
            if not wanted:
                free = await self.addresses.next_free()
                if free is None:
                    raise InternalError("failed to allocate a serviceIP: range is full")
                return free
            self._check_ip(obj, wanted)
            if not await self.addresses.is_free(wanted):
                raise self._ip_refused(obj, wanted, "provided IP is already allocated")
            return wanted
        if not wanted:
            taken = await self.addresses.allocate_next(record)
            if taken is None:
                raise InternalError("failed to allocate a serviceIP: range is full")
            op.taken_ips.append(taken)
            return taken
        self._check_ip(obj, wanted)
        if not await self.addresses.allocate(wanted, record(wanted)):
            raise self._ip_refused(obj, wanted, "provided IP is already allocated")
        op.taken_ips.append(wanted)
        return wanted

    def _check_ip(self, obj: m.JSONObject, wanted: str) -> None:
        try:
            address = ipaddress.ip_address(wanted)
        except ValueError:
            raise self._ip_refused(obj, wanted, "not a valid IP address") from None
        if self.ip_range.offset(address) < 0:
            raise self._ip_refused(
                obj,
                wanted,
                f"provided IP is not in the valid range. The range of valid IPs is {self.ip_range}",
            )

    @staticmethod
    def _ip_refused(obj: m.JSONObject, ip: str, why: str) -> Exception:
        ips = _spec(obj).get("clusterIPs") or [ip]
        return invalid(
            "Service",
            m.name_of(obj),
            [f.invalid("spec.clusterIPs", ips, f"failed to allocate IP {ip}: {why}")],
        )

    @staticmethod
    def _ip_record(obj: m.JSONObject) -> Callable[[str], m.JSONObject]:
        meta = obj.get("metadata") or {}

        def record(ip: str) -> m.JSONObject:
            return {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "IPAddress",
                "metadata": {
                    "name": ip,
                    "labels": {
                        "ipaddress.kubernetes.io/managed-by": MANAGED_BY,
                        "ipaddress.kubernetes.io/ip-family": "IPv4"
                        if ipaddress.ip_address(ip).version == 4
                        else "IPv6",
                    },
                    "creationTimestamp": m.format_time(m.now()),
                },
                "spec": {
                    "parentRef": {
                        "group": "",
                        "resource": "services",
                        "namespace": meta.get("namespace", ""),
                        "name": meta.get("name", ""),
                    }
                },
            }

        return record

    async def _allocate_node_ports(
        self,
        obj: m.JSONObject,
        spec: dict[str, Any],
        old_spec: dict[str, Any] | None,
        op: _Operation,
    ) -> None:
        """Rule 4, and rule 5 for node ports."""
        held = node_ports_of(old_spec) if old_spec is not None else set()
        claimed: set[int] = set()
        by_port: dict[Any, int] = {}
        allocate_all = needs_node_ports(spec)
        if spec.get("type", "ClusterIP") in ("NodePort", "LoadBalancer"):
            for i, port in enumerate(_ports(spec)):
                requested = port.get("nodePort")
                if not isinstance(requested, int) or requested == 0:
                    if not allocate_all:
                        continue
                    shared = by_port.get(port.get("port"))
                    if shared is not None:
                        port["nodePort"] = shared
                        continue
                    port["nodePort"] = await self._next_port(obj, op)
                    claimed.add(port["nodePort"])
                elif requested not in held and requested not in claimed:
                    await self._take_port(obj, f"spec.ports[{i}].nodePort", requested, op)
                    claimed.add(requested)
                by_port.setdefault(port.get("port"), port["nodePort"])
        if needs_health_check(spec):
            requested = spec.get("healthCheckNodePort")
            if not isinstance(requested, int) or requested == 0:
                spec["healthCheckNodePort"] = await self._next_port(obj, op)
            elif requested not in held and requested not in claimed:
                await self._take_port(obj, "spec.healthCheckNodePort", requested, op)
        op.release_ports = sorted(held - node_ports_of(spec))

    async def _next_port(self, obj: m.JSONObject, op: _Operation) -> int:
        if op.dry_run:
            free = await self.node_ports.next_free()
        else:
            free = await self.node_ports.allocate_next(lambda item: self._port_record(obj, item))
        if free is None:
            raise InternalError("failed to allocate a nodePort: range is full")
        if not op.dry_run:
            op.taken_ports.append(int(free))
        return int(free)

    async def _take_port(self, obj: m.JSONObject, path: str, port: int, op: _Operation) -> None:
        why = ""
        if not self.port_range.contains(port):
            why = (
                "provided port is not in the valid range. "
                f"The range of valid ports is {self.port_range}"
            )
        elif op.dry_run:
            if not await self.node_ports.is_free(str(port)):
                why = "provided port is already allocated"
        elif await self.node_ports.allocate(str(port), self._port_record(obj, str(port))):
            op.taken_ports.append(port)
        else:
            why = "provided port is already allocated"
        if why:
            raise invalid("Service", m.name_of(obj), [f.invalid(path, port, why)])

    @staticmethod
    def _port_record(obj: m.JSONObject, port: str) -> m.JSONObject:
        meta = obj.get("metadata") or {}
        return {
            "metadata": {"name": port, "creationTimestamp": m.format_time(m.now())},
            "port": int(port),
            "service": {"namespace": meta.get("namespace", ""), "name": meta.get("name", "")},
        }
