"""Test helpers: a real kubeward API server per test, and a kubeconfig for any identity.

For operator and controller authors::

    from kubeward.testing import running_cluster

    with running_cluster() as cluster:
        jane = cluster.kubeconfig_for("jane", groups=["dev"])   # a client certificate for jane
        ...  # point kubectl, the kubernetes client, kr8s or kopf at `jane`

With pytest, the ``kubeward_cluster`` fixture (installed as a pytest plugin) does the same and
stops the server after the test. The server is the real one: HTTPS with client certificates on
127.0.0.1, the embedded SQLite store in a temporary directory; it runs in a background thread
so that synchronous tests can call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeward.controllers.clock import FakeClock
    from kubeward.testing.cluster import Cluster, running_cluster

__all__ = ["Cluster", "FakeClock", "running_cluster"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that loading the pytest plugin costs nothing until a test uses it.
    if name == "FakeClock":
        from kubeward.controllers.clock import FakeClock

        return FakeClock
    if name in __all__:
        from kubeward.testing import cluster

        return getattr(cluster, name)
    raise AttributeError(name)
