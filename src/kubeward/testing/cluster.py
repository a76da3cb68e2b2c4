"""A kubeward API server in a background thread, and identities to call it with."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import socket
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubeward.api.allocation.ranges import DEFAULT_SERVICE_CLUSTER_IP_RANGE
from kubeward.api.user import (
    ALL_AUTHENTICATED,
    service_account_groups,
    service_account_username,
    split_service_account_username,
)
from kubeward.controllers.clock import Clock
from kubeward.controllers.local import POD_NETWORK_CIDR, run_local_controller_manager
from kubeward.controllers.names import NODE_IPAM, ControllerSelection
from kubeward.kubeconfig.build import client_certificate_kubeconfig, write_kubeconfig
from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.node.local import run_local_nodes
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.scheduler.local import run_local_scheduler
from kubeward.server.wiring.builder import RunningServer, start_server
from kubeward.server.wiring.local import local_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running server: its URL, its data directory and the admin kubeconfig."""

    data_dir: Path
    port: int
    admin_kubeconfig: Path
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _running: RunningServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _ca: CertificateAuthority | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    def kubeconfig_for(
        self,
        user: str,
        groups: Sequence[str] = (),
        *,
        path: Path | None = None,
        validity: datetime.timedelta = datetime.timedelta(hours=1),
    ) -> Path:
        """A kubeconfig whose client certificate says CN=user, O=groups (signed by the cluster CA)."""
        if self._ca is None:
            self._ca = CertificateAuthority.from_dir(self.data_dir / "pki")
        key = generate_private_key("ecdsa-p256")
        cert = self._ca.issue_client_certificate(key.public_key(), user, list(groups), validity)
        doc = client_certificate_kubeconfig(
            cluster_name="kubeward",
            server=self.url,
            ca_pem=self._ca.cert_pem,
            user_name=user,
            cert_pem=certificate_pem(cert),
            key_pem=private_key_pem(key),
        )
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
        target = path or self.data_dir / "users" / f"{safe}.conf"
        write_kubeconfig(target, doc, overwrite=True)
        return target

    def kubeconfig_for_service_account(
        self, namespace: str, name: str, *, path: Path | None = None
    ) -> Path:
        """A kubeconfig that authenticates as ``system:serviceaccount:NAMESPACE:NAME``.

        It carries a client certificate with the service account's user name and groups, so RBAC
        sees exactly the identity the workload's token would give it.
        """
        return self.kubeconfig_for(
            service_account_username(namespace, name), service_account_groups(namespace), path=path
        )

    def can(
        self,
        user: str,
        verb: str,
        resource: str,
        *,
        groups: Sequence[str] = (),
        api_group: str = "",
        namespace: str = "",
        name: str = "",
        subresource: str = "",
    ) -> bool:
        """Ask the server (a SubjectAccessReview, as cluster admin) whether ``user`` may do this.

        Service accounts are named ``system:serviceaccount:NS:NAME``; their groups are added.
        """
        found = split_service_account_username(user)
        all_groups = [
            *groups,
            *(service_account_groups(found[0]) if found else ()),
            ALL_AUTHENTICATED,
        ]
        attributes = {
            "verb": verb,
            "resource": resource,
            "group": api_group,
            "namespace": namespace,
            "name": name,
            "subresource": subresource,
        }
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user,
                "groups": all_groups,
                "resourceAttributes": {k: v for k, v in attributes.items() if v},
            },
        }
        credentials = ClientCredentials.from_kubeconfig(self.admin_kubeconfig)
        request = urllib.request.Request(
            f"{self.url}/apis/authorization.k8s.io/v1/subjectaccessreviews",
            data=json.dumps(review).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(
            request, context=credentials.ssl_context, timeout=30
        ) as response:
            answer = json.loads(response.read())
        return bool(answer["status"]["allowed"])

    def _admin_request(self, method: str, path: str, body: object = None) -> Any:
        credentials = ClientCredentials.from_kubeconfig(self.admin_kubeconfig)
        headers = {"Content-Type": "application/merge-patch+json"} if body is not None else {}
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        with urllib.request.urlopen(
            request, context=credentials.ssl_context, timeout=30
        ) as response:
            return json.loads(response.read())

    def make_pods_ready(self, namespace: str, selector: str = "") -> list[str]:
        """Report the selected pods Running and Ready, as their kubelet would (admin writes
        ``pods/status``); returns the names of the pods it changed.

        Stands in for a node agent so that rollouts can be tested: pods already Ready, and
        pods being deleted, are left alone.
        """
        query = f"?labelSelector={urllib.parse.quote(selector)}" if selector else ""
        listed = self._admin_request("GET", f"/api/v1/namespaces/{namespace}/pods{query}")
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        changed = []
        for pod in listed.get("items") or []:
            meta = pod.get("metadata") or {}
            conditions = (pod.get("status") or {}).get("conditions") or []
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            if ready or meta.get("deletionTimestamp"):
                continue
            containers = (pod.get("spec") or {}).get("containers") or []
            status = {
                "phase": "Running",
                "startTime": now,
                "conditions": [
                    {"type": kind, "status": "True", "lastTransitionTime": now}
                    for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                ],
                "containerStatuses": [
                    {
                        "name": c.get("name"),
                        "image": c.get("image"),
                        "imageID": "",
                        "ready": True,
                        "started": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": now}},
                    }
                    for c in containers
                ],
            }
            name = meta.get("name")
            self._admin_request(
                "PATCH", f"/api/v1/namespaces/{namespace}/pods/{name}/status", {"status": status}
            )
            changed.append(str(name))
        return changed

    def finish_pods(
        self, namespace: str, selector: str = "", phase: str = "Succeeded", exit_code: int = -1
    ) -> list[str]:
        """Report the selected pods ended (``Succeeded`` or ``Failed``), as their kubelet would
        when their containers exit (admin writes ``pods/status``); returns the pods changed.

        Every container is reported terminated with ``exit_code`` (default: 0 for Succeeded,
        1 for Failed), so a Job's pod failure policy can match on it. Pods already ended, and
        pods being deleted, are left alone.
        """
        if phase not in ("Succeeded", "Failed"):
            raise ValueError(f"finish_pods: phase must be Succeeded or Failed, not {phase!r}")
        code = exit_code if exit_code >= 0 else (0 if phase == "Succeeded" else 1)
        query = f"?labelSelector={urllib.parse.quote(selector)}" if selector else ""
        listed = self._admin_request("GET", f"/api/v1/namespaces/{namespace}/pods{query}")
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        changed = []
        for pod in listed.get("items") or []:
            meta = pod.get("metadata") or {}
            old = pod.get("status") or {}
            if old.get("phase") in ("Succeeded", "Failed") or meta.get("deletionTimestamp"):
                continue
            reason = "Completed" if code == 0 else "Error"
            containers = (pod.get("spec") or {}).get("containers") or []
            status = {
                "phase": phase,
                "startTime": old.get("startTime") or now,
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                    {
                        "type": "Ready",
                        "status": "False",
                        "reason": "PodCompleted",
                        "lastTransitionTime": now,
                    },
                ],
                "containerStatuses": [
                    {
                        "name": c.get("name"),
                        "image": c.get("image"),
                        "imageID": "",
                        "ready": False,
                        "started": False,
                        "restartCount": 0,
                        "state": {
                            "terminated": {
                                "exitCode": code,
                                "reason": reason,
                                "startedAt": now,
                                "finishedAt": now,
                            }
                        },
                    }
                    for c in containers
                ],
            }
            name = meta.get("name")
            self._admin_request(
                "PATCH", f"/api/v1/namespaces/{namespace}/pods/{name}/status", {"status": status}
            )
            changed.append(str(name))
        return changed

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._running.stop(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)


@contextlib.contextmanager
def running_cluster(
    *,
    data_dir: Path | None = None,
    authorization_mode: str = "Node,RBAC",
    token_auth_file: Path | None = None,
    basic_auth_file: Path | None = None,
    anonymous_auth: bool = True,
    controller_manager: bool = True,
    scheduler: bool = True,
    nodes: int = 0,
    use_service_account_credentials: bool = True,
    controllers: Sequence[str] = ("*", "tokencleaner"),
    pod_network_cidr: str = POD_NETWORK_CIDR,
    private_registries: tuple[str, ...] = (),
    port: int | None = None,
    enable_admission_plugins: tuple[str, ...] = (),
    disable_admission_plugins: tuple[str, ...] = (),
    server_options: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
) -> Iterator[Cluster]:
    """Start a server on a free port of 127.0.0.1 and stop it on exit.

    ``server_options`` sets other :class:`~kubeward.server.config.ServerConfig` fields, e.g.
    ``{"max_requests_inflight": 20, "request_body_timeout_seconds": 2.0}``;
    ``{"authorization_config_file": path}`` is ``--authorization-config`` (it replaces
    ``authorization_mode``).

    With ``controller_manager`` (the default) the controllers run in the same process as
    separate clients (``kubeward.controllers.local``): the manager authenticated by
    ``controller-manager.conf``, each controller by its own service account's token unless
    ``use_service_account_credentials`` is False; ``controllers`` is ``--controllers``;
    ``pod_network_cidr`` is the node-IPAM controller's ``--cluster-cidr`` (kubeadm's
    ``--pod-network-cidr``), from which nodes get their /24 pod ranges. With
    ``scheduler`` (the default) so does the scheduler, as ``scheduler.conf``; ``nodes`` starts
    that many node agents (``node-1`` …), each as its own ``system:node:NAME``, with
    ``private_registries`` as their ``--private-registry`` hosts.
    ``port`` keeps a restarted cluster on the port its data directory's kubeconfigs name.
    ``clock`` is the time the job, cronjob and ttl-after-finished controllers read: pass a
    :class:`~kubeward.controllers.clock.FakeClock` and ``step`` it to make schedules fall due
    and deadlines pass without waiting.
    """
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kubeward-")))
        port = port or free_port()
        service_range = dict(server_options or {}).get(
            "service_cluster_ip_range", DEFAULT_SERVICE_CLUSTER_IP_RANGE
        )
        config, admin = local_config(
            data_dir,
            port,
            "127.0.0.1",
            authorization_mode,
            service_cluster_ip_range=str(service_range),
        )
        config = replace(
            config,
            token_auth_file=token_auth_file,
            basic_auth_file=basic_auth_file,
            anonymous_auth=anonymous_auth,
            # kubeward up's plugins (NodeRestriction), plus those asked for, less those disabled.
            enable_admission_plugins=(
                *(p for p in config.enable_admission_plugins if p not in disable_admission_plugins),
                *(p for p in enable_admission_plugins if p not in config.enable_admission_plugins),
            ),
            disable_admission_plugins=disable_admission_plugins,
            **dict(server_options or {}),
        )
        # The stdlib loop, not uvloop: a test process starts and closes many loops, and uvloop's
        # TLS transports can still schedule callbacks on a closed one. `kubeward up` and `serve`
        # run on uvloop, and tests/integration/test_up.py covers that path.
        loop = asyncio.new_event_loop()
        started: dict[str, object] = {}
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                try:
                    started["server"] = running = await start_server(config)
                    if controller_manager:
                        manager = run_local_controller_manager(
                            admin.parent,
                            use_service_account_credentials=use_service_account_credentials,
                            controllers=controllers,
                            service_cluster_ip_range=str(service_range),
                            cluster_cidr=pod_network_cidr,
                            clock=clock,
                        )
                        running.background.append(asyncio.create_task(manager))
                    if scheduler:
                        binder = run_local_scheduler(admin.parent)
                        running.background.append(asyncio.create_task(binder))
                    if nodes:
                        agents = run_local_nodes(
                            admin.parent,
                            f"https://127.0.0.1:{port}",
                            nodes,
                            private_registries=private_registries,
                            allocate_node_cidrs=controller_manager
                            and ControllerSelection.parse(controllers).enabled(NODE_IPAM),
                        )
                        running.background.append(asyncio.create_task(agents))
                except BaseException as exc:  # reported to the caller below
                    started["error"] = exc
                finally:
                    ready.set()

            boot_task = loop.create_task(boot())
            loop.run_forever()
            del boot_task
            loop.close()

        thread = threading.Thread(target=run, name="kubeward-apiserver", daemon=True)
        thread.start()
        ready.wait(timeout=60)
        error = started.get("error")
        if error is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            assert isinstance(error, BaseException)
            raise error
        running = started["server"]
        assert isinstance(running, RunningServer)
        cluster = Cluster(data_dir, port, admin, loop, running, thread)
        try:
            yield cluster
        finally:
            cluster.stop()
