"""``kubeward controller-manager``: kube-controller-manager's controllers, as a client of the
API server.

Flags keep kube-controller-manager's names and defaults (``--kubeconfig``, ``--controllers``,
``--use-service-account-credentials``, ``--leader-elect`` (on), ``--leader-elect-lease-duration``
15s, ``--leader-elect-renew-deadline`` 10s, ``--leader-elect-retry-period`` 2s,
``--cluster-signing-cert-file``, ``--cluster-signing-key-file``,
``--cluster-signing-duration``, ``--horizontal-pod-autoscaler-sync-period`` 15s,
``--horizontal-pod-autoscaler-tolerance`` 0.1,
``--horizontal-pod-autoscaler-downscale-stabilization`` 5m,
``--horizontal-pod-autoscaler-cpu-initialization-period`` 5m,
``--horizontal-pod-autoscaler-initial-readiness-delay`` 30s, and for the node-IPAM controller
``--allocate-node-cidrs``, ``--cluster-cidr``, ``--node-cidr-mask-size`` (``-ipv4`` 24,
``-ipv6`` 64) and ``--service-cluster-ip-range``). The renew deadline must be shorter than
the lease duration and longer than the retry period, as upstream validates. One flag is kubeward's own:
``--cluster-signing-allow-system-masters``, without which kube-apiserver-client requests for the
``system:masters`` group are failed instead of signed.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import click

from kubeward.cli.runtime import run_async, setup_logging, until_signalled
from kubeward.client.api import APIClient
from kubeward.controllers.leader import LeaderElectionConfig
from kubeward.controllers.manager import ControllerManager, ManagerConfig
from kubeward.controllers.names import ControllerSelection
from kubeward.controllers.nodeipam_config import NodeIpamConfig, node_ipam_config
from kubeward.controllers.podautoscaler import AutoscalerConfig
from kubeward.controllers.podautoscaler_replicas import CalculatorConfig
from kubeward.controllers.signing import SigningConfig
from kubeward.errors import InputError
from kubeward.pki.ca import CertificateAuthority

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str, flag: str) -> datetime.timedelta:
    """A Go duration (``8760h``, ``1h30m``, ``90s``) as kube-controller-manager reads it."""
    if not text or _DURATION_PART.sub("", text) != "":
        raise InputError(f"{flag} {text!r}: not a duration (examples: 8760h, 1h30m, 600s)")
    seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise InputError(f"{flag} {text!r}: must be positive")
    return datetime.timedelta(seconds=seconds)


def leader_election_config(
    enabled: bool, lease_duration: str, renew_deadline: str, retry_period: str
) -> LeaderElectionConfig | None:
    """The ``--leader-elect*`` flags (InputError when they cannot work together)."""
    if not enabled:
        return None
    lease = parse_duration(lease_duration, "--leader-elect-lease-duration").total_seconds()
    renew = parse_duration(renew_deadline, "--leader-elect-renew-deadline").total_seconds()
    retry = parse_duration(retry_period, "--leader-elect-retry-period").total_seconds()
    if lease <= renew:
        raise InputError(
            "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline"
        )
    if renew <= retry:
        raise InputError(
            "--leader-elect-renew-deadline must be greater than --leader-elect-retry-period"
        )
    return LeaderElectionConfig(lease_duration=lease, renew_deadline=renew, retry_period=retry)


def autoscaler_config(
    sync_period: str,
    tolerance: float,
    downscale_stabilization: str,
    cpu_initialization_period: str,
    initial_readiness_delay: str,
) -> AutoscalerConfig:
    """The ``--horizontal-pod-autoscaler-*`` flags (InputError for unusable values)."""
    if tolerance < 0:
        raise InputError(f"--horizontal-pod-autoscaler-tolerance {tolerance}: must not be negative")
    prefix = "--horizontal-pod-autoscaler-"
    return AutoscalerConfig(
        sync_period=parse_duration(sync_period, f"{prefix}sync-period"),
        downscale_stabilization=parse_duration(
            downscale_stabilization, f"{prefix}downscale-stabilization"
        ),
        calculator=CalculatorConfig(
            tolerance=tolerance,
            cpu_initialization_period=parse_duration(
                cpu_initialization_period, f"{prefix}cpu-initialization-period"
            ),
            initial_readiness_delay=parse_duration(
                initial_readiness_delay, f"{prefix}initial-readiness-delay"
            ),
        ),
    )


def build_manager(
    kubeconfig: Path,
    cert_file: Path | None,
    key_file: Path | None,
    duration: str,
    allow_system_masters: bool,
    *,
    controllers: tuple[str, ...] = ("*",),
    use_service_account_credentials: bool = False,
    leader_election: LeaderElectionConfig | None = None,
    node_ipam: NodeIpamConfig | None = None,
    autoscaler: AutoscalerConfig | None = None,
) -> ControllerManager:
    """The manager the flags describe (InputError for unusable flags or files)."""
    selection = ControllerSelection.parse(controllers)
    if (cert_file is None) != (key_file is None):
        raise InputError(
            "--cluster-signing-cert-file and --cluster-signing-key-file go together: give both"
        )
    signing = None
    if cert_file is not None and key_file is not None:
        signing = SigningConfig(
            ca=CertificateAuthority.from_files(cert_file, key_file),
            duration=parse_duration(duration, "--cluster-signing-duration"),
            allow_system_masters=allow_system_masters,
        )
    client = APIClient.from_kubeconfig(
        kubeconfig, user_agent="kubeward-controller-manager", max_connections=0
    )
    config = ManagerConfig(
        signing=signing,
        source=str(kubeconfig),
        controllers=selection,
        use_service_account_credentials=use_service_account_credentials,
        kubeconfig=kubeconfig,
        leader_election=leader_election,
        node_ipam=node_ipam,
        autoscaler=autoscaler or AutoscalerConfig(),
    )
    return ControllerManager(client, config)


@click.command("controller-manager")
@click.option(
    "--kubeconfig",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Kubeconfig with the controller-manager's own credential.",
)
@click.option(
    "--cluster-signing-cert-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM CA certificate used to sign certificate requests.",
)
@click.option(
    "--cluster-signing-key-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM private key of that CA.",
)
@click.option(
    "--cluster-signing-duration",
    default="8760h",
    show_default=True,
    help="The longest validity of a signed certificate (spec.expirationSeconds may ask less).",
)
@click.option(
    "--cluster-signing-allow-system-masters",
    is_flag=True,
    help="Sign kube-apiserver-client requests for the system:masters group (unrevocable "
    "superusers). Off by default.",
)
@click.option(
    "--controllers",
    multiple=True,
    default=("*",),
    show_default=True,
    help="Controllers to enable: '*' for all on by default, 'name' to enable, '-name' to "
    "disable (comma-separated or repeated).",
)
@click.option(
    "--use-service-account-credentials",
    type=click.BOOL,
    default=False,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Run each controller as its own service account in kube-system, with a token it "
    "requests and refreshes.",
)
@click.option(
    "--leader-elect",
    type=click.BOOL,
    default=True,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Act only while holding the kube-system/kube-controller-manager Lease "
    "(--leader-elect=false to run without).",
)
@click.option(
    "--leader-elect-lease-duration",
    default="15s",
    show_default=True,
    help="How long a standby waits after the last renewal before taking the lease.",
)
@click.option(
    "--leader-elect-renew-deadline",
    default="10s",
    show_default=True,
    help="How long the leader keeps trying to renew before it stops.",
)
@click.option(
    "--leader-elect-retry-period",
    default="2s",
    show_default=True,
    help="How often candidates try to acquire, and the leader to renew.",
)
@click.option(
    "--allocate-node-cidrs",
    type=click.BOOL,
    default=False,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Give each Node a pod range (spec.podCIDR) from --cluster-cidr.",
)
@click.option(
    "--cluster-cidr",
    default="",
    help="The range of pod IPs in the cluster (two, comma-separated, for dual-stack).",
)
@click.option(
    "--node-cidr-mask-size",
    type=click.IntRange(1, 128),
    default=None,
    help="Mask size of a node's range (single-stack clusters).",
)
@click.option(
    "--node-cidr-mask-size-ipv4",
    type=click.IntRange(1, 32),
    default=None,
    help="Mask size of a node's IPv4 range (default 24).",
)
@click.option(
    "--node-cidr-mask-size-ipv6",
    type=click.IntRange(1, 128),
    default=None,
    help="Mask size of a node's IPv6 range (default 64).",
)
@click.option(
    "--service-cluster-ip-range",
    default="",
    help="The Services' range(s), kept out of the nodes' pod ranges.",
)
@click.option(
    "--horizontal-pod-autoscaler-sync-period",
    "hpa_sync_period",
    default="15s",
    show_default=True,
    help="How often each HorizontalPodAutoscaler is looked at.",
)
@click.option(
    "--horizontal-pod-autoscaler-tolerance",
    "hpa_tolerance",
    type=float,
    default=0.1,
    show_default=True,
    help="How far the usage ratio may be from 1.0 before the autoscaler acts.",
)
@click.option(
    "--horizontal-pod-autoscaler-downscale-stabilization",
    "hpa_downscale_stabilization",
    default="5m",
    show_default=True,
    help="How far back the autoscaler looks for a higher recommendation before scaling down.",
)
@click.option(
    "--horizontal-pod-autoscaler-cpu-initialization-period",
    "hpa_cpu_initialization_period",
    default="5m",
    show_default=True,
    help="After a pod starts, how long its CPU samples count only once it has been ready for "
    "a whole metric window.",
)
@click.option(
    "--horizontal-pod-autoscaler-initial-readiness-delay",
    "hpa_initial_readiness_delay",
    default="30s",
    show_default=True,
    help="After a pod starts, how long readiness changes are taken as its first readiness.",
)
@click.option("-v", "--verbose", count=True, help="More logging.")
def controller_manager(
    kubeconfig: Path,
    cluster_signing_cert_file: Path | None,
    cluster_signing_key_file: Path | None,
    cluster_signing_duration: str,
    cluster_signing_allow_system_masters: bool,
    controllers: tuple[str, ...],
    use_service_account_credentials: bool,
    leader_elect: bool,
    leader_elect_lease_duration: str,
    leader_elect_renew_deadline: str,
    leader_elect_retry_period: str,
    allocate_node_cidrs: bool,
    cluster_cidr: str,
    node_cidr_mask_size: int | None,
    node_cidr_mask_size_ipv4: int | None,
    node_cidr_mask_size_ipv6: int | None,
    service_cluster_ip_range: str,
    hpa_sync_period: str,
    hpa_tolerance: float,
    hpa_downscale_stabilization: str,
    hpa_cpu_initialization_period: str,
    hpa_initial_readiness_delay: str,
    verbose: int,
) -> None:
    """Run kube-controller-manager's controllers (certificates, replicaset, replicationcontroller,
    deployment, statefulset, daemonset, horizontal pod autoscaler, garbage collector …) against
    an API server."""
    setup_logging(max(verbose, 1))
    node_ipam = None
    if allocate_node_cidrs:
        node_ipam = node_ipam_config(
            cluster_cidr,
            service_cluster_ip_range=service_cluster_ip_range,
            mask_size=node_cidr_mask_size,
            mask_size_ipv4=node_cidr_mask_size_ipv4,
            mask_size_ipv6=node_cidr_mask_size_ipv6,
        )
    manager = build_manager(
        kubeconfig,
        cluster_signing_cert_file,
        cluster_signing_key_file,
        cluster_signing_duration,
        cluster_signing_allow_system_masters,
        controllers=controllers,
        use_service_account_credentials=use_service_account_credentials,
        leader_election=leader_election_config(
            leader_elect,
            leader_elect_lease_duration,
            leader_elect_renew_deadline,
            leader_elect_retry_period,
        ),
        node_ipam=node_ipam,
        autoscaler=autoscaler_config(
            hpa_sync_period,
            hpa_tolerance,
            hpa_downscale_stabilization,
            hpa_cpu_initialization_period,
            hpa_initial_readiness_delay,
        ),
    )
    run_async(until_signalled(manager.run(), manager.client.close))
