"""The Pod Security Standards' checks, as ``k8s.io/pod-security-admission/policy`` words them.

Each check reads a pod's metadata and spec and returns ``None`` or a :class:`Violation` with
upstream's reason and detail, e.g. ``allowPrivilegeEscalation != false`` /
``container "app" must set securityContext.allowPrivilegeEscalation=false``. Rules:

 1. ``baseline`` forbids the known privilege escalations: host namespaces, privileged
    containers, capabilities beyond the default set, hostPath volumes, host ports, AppArmor
    and SELinux overrides, unmasked /proc, an ``Unconfined`` seccomp profile, unsafe sysctls,
    Windows HostProcess.
 2. ``restricted`` adds the hardening practices: only ephemeral-ish volume types, no privilege
    escalation, running as non-root (and never as uid 0), a RuntimeDefault or Localhost seccomp
    profile, and ``drop: ["ALL"]`` with at most ``NET_BIND_SERVICE`` added. Windows pods
    (``spec.os.name: windows``) are exempt from the Linux-only restricted checks, as upstream.
 3. ``privileged`` checks nothing. Checks run over containers, init containers and ephemeral
    containers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
_VOLUME_TYPES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "portworxVolume",
    "photonPersistentDisk",
    "scaleIO",
    "storageos",
    "image",
)
_SAFE_SYSCTLS: tuple[tuple[int, frozenset[str]], ...] = (
    (
        0,
        frozenset(
            {
                "kernel.shm_rmid_forced",
                "net.ipv4.ip_local_port_range",
                "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range",
                "net.ipv4.ip_unprivileged_port_start",
            }
        ),
    ),
    (27, frozenset({"net.ipv4.ip_local_reserved_ports"})),
    (
        29,
        frozenset(
            {
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            }
        ),
    ),
    (32, frozenset({"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"})),
)
_SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


@dataclass(frozen=True)
class Violation:
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                yield container


def _sc(obj: dict[str, Any]) -> dict[str, Any]:
    value = obj.get("securityContext")
    return value if isinstance(value, dict) else {}


def _quote(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _containers_phrase(names: list[str]) -> str:
    return f"{'container' if len(names) == 1 else 'containers'} {_quote(names)}"


def _setters(pod_bad: bool, containers: list[str]) -> str:
    parts = ["pod"] if pod_bad else []
    if containers:
        parts.append(_containers_phrase(containers))
    return " and ".join(parts)


def _is_windows(spec: dict[str, Any]) -> bool:
    return ((spec.get("os") or {}).get("name")) == "windows"


# --- baseline -------------------------------------------------------------------------------
def host_namespaces(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    used = sorted(k for k in ("hostIPC", "hostNetwork", "hostPID") if spec.get(k) is True)
    return Violation("host namespaces", ", ".join(f"{k}=true" for k in used)) if used else None


def privileged(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    bad = [str(c.get("name")) for c in _containers(spec) if _sc(c).get("privileged") is True]
    if not bad:
        return None
    return Violation(
        "privileged", f"{_containers_phrase(bad)} must not set securityContext.privileged=true"
    )


def baseline_capabilities(
    meta: dict[str, Any], spec: dict[str, Any], minor: int
) -> Violation | None:
    bad: list[str] = []
    caps: set[str] = set()
    for c in _containers(spec):
        added = [str(x) for x in (_sc(c).get("capabilities") or {}).get("add") or []]
        extra = [x for x in added if x not in BASELINE_CAPABILITIES]
        if extra:
            bad.append(str(c.get("name")))
            caps.update(extra)
    if not bad:
        return None
    return Violation(
        "non-default capabilities",
        f"{_containers_phrase(bad)} must not include {_quote(sorted(caps))} in securityContext.capabilities.add",
    )


def host_path_volumes(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    bad = [
        str(v.get("name"))
        for v in spec.get("volumes") or []
        if isinstance(v, dict) and "hostPath" in v
    ]
    if not bad:
        return None
    return Violation(
        "hostPath volumes", f"{'volume' if len(bad) == 1 else 'volumes'} {_quote(bad)}"
    )


def host_ports(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    bad: list[str] = []
    ports: list[str] = []
    for c in _containers(spec):
        used = [
            str(p.get("hostPort"))
            for p in c.get("ports") or []
            if isinstance(p, dict) and p.get("hostPort")
        ]
        if used:
            bad.append(str(c.get("name")))
            ports.extend(used)
    if not bad:
        return None
    verb = "uses" if len(bad) == 1 else "use"
    noun = "hostPort" if len(ports) == 1 else "hostPorts"
    return Violation("hostPort", f"{_containers_phrase(bad)} {verb} {noun} {', '.join(ports)}")


def app_armor(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    bad: list[str] = []
    for key, value in sorted((meta.get("annotations") or {}).items()):
        if (
            key.startswith(_APPARMOR_ANNOTATION)
            and value != "runtime/default"
            and not str(value).startswith("localhost/")
        ):
            bad.append(f'{key}="{value}"')
    pod_profile = (
        _sc({"securityContext": spec.get("securityContext")}).get("appArmorProfile") or {}
    ).get("type")
    pod_bad = pod_profile not in (None, "RuntimeDefault", "Localhost")
    containers = [
        str(c.get("name"))
        for c in _containers(spec)
        if (_sc(c).get("appArmorProfile") or {}).get("type")
        not in (None, "RuntimeDefault", "Localhost")
    ]
    if pod_bad or containers:
        bad.append(
            f'{_setters(pod_bad, containers)} must not set securityContext.appArmorProfile.type to "Unconfined"'
        )
    return (
        Violation("forbidden AppArmor profile" + ("s" if len(bad) > 1 else ""), ", ".join(bad))
        if bad
        else None
    )


def se_linux_options(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    problems: set[str] = set()
    bad_types: set[str] = set()

    def bad(options: Any) -> bool:
        if not isinstance(options, dict):
            return False
        found = False
        if str(options.get("type") or "") not in _SELINUX_TYPES:
            bad_types.add(str(options.get("type")))
            found = True
        for key in ("user", "role"):
            if options.get(key):
                problems.add(f"{key} may not be set")
                found = True
        return found

    pod_bad = bad(_sc({"securityContext": spec.get("securityContext")}).get("seLinuxOptions"))
    containers = [
        str(c.get("name")) for c in _containers(spec) if bad(_sc(c).get("seLinuxOptions"))
    ]
    if not (pod_bad or containers):
        return None
    details = []
    if bad_types:
        details.append(f"type {_quote(sorted(bad_types))}")
    details.extend(sorted(problems))
    return Violation(
        "seLinuxOptions",
        f"{_setters(pod_bad, containers)} set forbidden securityContext.seLinuxOptions: {'; '.join(details)}",
    )


def proc_mount(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    bad: list[str] = []
    values: set[str] = set()
    for c in _containers(spec):
        value = _sc(c).get("procMount")
        if value not in (None, "Default"):
            bad.append(str(c.get("name")))
            values.add(str(value))
    if not bad:
        return None
    return Violation(
        "procMount",
        f"{_containers_phrase(bad)} must not set securityContext.procMount to {_quote(sorted(values))}",
    )


def seccomp_baseline(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    pod_bad = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get(
        "type"
    ) == "Unconfined"
    containers = [
        str(c.get("name"))
        for c in _containers(spec)
        if (_sc(c).get("seccompProfile") or {}).get("type") == "Unconfined"
    ]
    if not (pod_bad or containers):
        return None
    return Violation(
        "seccompProfile",
        f'{_setters(pod_bad, containers)} must not set securityContext.seccompProfile.type to "Unconfined"',
    )


def sysctls(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    allowed: set[str] = set()
    for since, names in _SAFE_SYSCTLS:
        if minor >= since:
            allowed |= names
    bad = [
        str(s.get("name"))
        for s in (spec.get("securityContext") or {}).get("sysctls") or []
        if s.get("name") not in allowed
    ]
    return Violation("forbidden sysctls", ", ".join(bad)) if bad else None


def host_process(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    def on(sc: dict[str, Any]) -> bool:
        return (sc.get("windowsOptions") or {}).get("hostProcess") is True

    pod_bad = on(spec.get("securityContext") or {})
    containers = [str(c.get("name")) for c in _containers(spec) if on(_sc(c))]
    if not (pod_bad or containers):
        return None
    return Violation(
        "hostProcess",
        f"{_setters(pod_bad, containers)} must not set securityContext.windowsOptions.hostProcess=true",
    )


# --- restricted -----------------------------------------------------------------------------
def restricted_volumes(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    bad: list[str] = []
    types: set[str] = set()
    for volume in spec.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        kinds = [k for k in volume if k != "name"]
        forbidden = [k for k in kinds if k not in RESTRICTED_VOLUME_TYPES]
        if forbidden:
            bad.append(str(volume.get("name")))
            types.update(forbidden)
    if not bad:
        return None
    verb = "uses" if len(bad) == 1 else "use"
    noun = "type" if len(types) == 1 else "types"
    return Violation(
        "restricted volume types",
        f"{'volume' if len(bad) == 1 else 'volumes'} {_quote(bad)} {verb} restricted volume {noun} {_quote(sorted(types))}",
    )


def allow_privilege_escalation(
    meta: dict[str, Any], spec: dict[str, Any], minor: int
) -> Violation | None:
    if _is_windows(spec):
        return None
    bad = [
        str(c.get("name"))
        for c in _containers(spec)
        if _sc(c).get("allowPrivilegeEscalation") is not False
    ]
    if not bad:
        return None
    return Violation(
        "allowPrivilegeEscalation != false",
        f"{_containers_phrase(bad)} must set securityContext.allowPrivilegeEscalation=false",
    )


def run_as_non_root(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    pod_value = (spec.get("securityContext") or {}).get("runAsNonRoot")
    explicit = [
        str(c.get("name")) for c in _containers(spec) if _sc(c).get("runAsNonRoot") is False
    ]
    implicit = [
        str(c.get("name"))
        for c in _containers(spec)
        if "runAsNonRoot" not in _sc(c) and pod_value is not True
    ]
    if pod_value is False or explicit:
        return Violation(
            "runAsNonRoot != true",
            f"{_setters(pod_value is False, explicit)} must not set securityContext.runAsNonRoot=false",
        )
    if implicit:
        return Violation(
            "runAsNonRoot != true",
            f"pod or {_containers_phrase(implicit)} must set securityContext.runAsNonRoot=true",
        )
    return None


def run_as_user(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    pod_bad = (spec.get("securityContext") or {}).get("runAsUser") == 0
    containers = [str(c.get("name")) for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    if not (pod_bad or containers):
        return None
    return Violation("runAsUser=0", f"{_setters(pod_bad, containers)} must not set runAsUser=0")


def seccomp_restricted(meta: dict[str, Any], spec: dict[str, Any], minor: int) -> Violation | None:
    if _is_windows(spec):
        return None
    good = ("RuntimeDefault", "Localhost")
    pod_type = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    pod_bad = pod_type is not None and pod_type not in good
    values = {str(pod_type)} if pod_bad else set()
    explicit: list[str] = []
    implicit: list[str] = []
    for c in _containers(spec):
        profile = _sc(c).get("seccompProfile")
        if isinstance(profile, dict):
            if profile.get("type") not in good:
                explicit.append(str(c.get("name")))
                values.add(str(profile.get("type")))
        elif pod_type not in good:
            implicit.append(str(c.get("name")))
    if pod_bad or explicit:
        return Violation(
            "seccompProfile",
            f"{_setters(pod_bad, explicit)} must not set securityContext.seccompProfile.type to {_quote(sorted(values))}",
        )
    if implicit:
        return Violation(
            "seccompProfile",
            f'pod or {_containers_phrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
        )
    return None


def restricted_capabilities(
    meta: dict[str, Any], spec: dict[str, Any], minor: int
) -> Violation | None:
    if _is_windows(spec):
        return None
    missing_drop: list[str] = []
    adding: list[str] = []
    caps: set[str] = set()
    for c in _containers(spec):
        capabilities = _sc(c).get("capabilities") or {}
        if "ALL" not in [str(x) for x in capabilities.get("drop") or []]:
            missing_drop.append(str(c.get("name")))
        extra = [str(x) for x in capabilities.get("add") or [] if x != "NET_BIND_SERVICE"]
        if extra:
            adding.append(str(c.get("name")))
            caps.update(extra)
    details = []
    if missing_drop:
        details.append(
            f'{_containers_phrase(missing_drop)} must set securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        details.append(
            f"{_containers_phrase(adding)} must not include {_quote(sorted(caps))} in securityContext.capabilities.add"
        )
    return Violation("unrestricted capabilities", "; ".join(details)) if details else None


Check = Callable[[dict[str, Any], dict[str, Any], int], "Violation | None"]

# Upstream's order: baseline then restricted, each by check id (the order of violations in messages).
BASELINE_CHECKS: tuple[Check, ...] = (
    app_armor,
    baseline_capabilities,
    host_namespaces,
    host_path_volumes,
    host_ports,
    host_process,
    privileged,
    proc_mount,
    se_linux_options,
    seccomp_baseline,
    sysctls,
)
RESTRICTED_CHECKS: tuple[Check, ...] = (
    allow_privilege_escalation,
    restricted_capabilities,
    restricted_volumes,
    run_as_non_root,
    run_as_user,
    seccomp_restricted,
)


def check_pod(
    level: str, minor: int, meta: dict[str, Any], spec: dict[str, Any]
) -> list[Violation]:
    """Every violation of ``level`` (privileged, baseline or restricted) at version 1.``minor``."""
    if level == "privileged":
        return []
    checks = BASELINE_CHECKS + (RESTRICTED_CHECKS if level == "restricted" else ())
    found = [check(meta, spec, minor) for check in checks]
    return [v for v in found if v is not None]
