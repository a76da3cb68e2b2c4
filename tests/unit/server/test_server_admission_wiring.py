"""The server's admission wiring: the flags build the chain the handlers run.

``build_server`` over the in-memory backend, for every plugin kubeward has; the chain's
behaviour through real HTTPS is in tests/integration/test_admission_seam.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubeward.admission.registry import DEFAULT_ENABLED, KUBEWARD_PLUGINS
from kubeward.api.resources.rbac import CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, ROLE_BINDINGS, ROLES
from kubeward.errors import InputError
from kubeward.server.config import ServerConfig
from kubeward.server.wiring.admission_wiring import delete_options, operation_options
from kubeward.server.wiring.builder import ServerParts, build_server
from kubeward.storage.memory import MemoryBackend


def built(enable: tuple[str, ...] = (), disable: tuple[str, ...] = ()) -> ServerParts:
    config = ServerConfig(
        tls_cert_file=Path("unused.crt"),
        tls_private_key_file=Path("unused.key"),
        enable_admission_plugins=enable,
        disable_admission_plugins=disable,
    )

    async def go() -> ServerParts:
        backend = MemoryBackend()
        await backend.start()
        try:
            return await build_server(config, backend)
        finally:
            await backend.close()

    return asyncio.run(go())


def test_the_default_chain_is_every_default_on_plugin_kubeward_has() -> None:
    assert built().server.handlers.admission.names == DEFAULT_ENABLED


@pytest.mark.parametrize("name", KUBEWARD_PLUGINS)
def test_each_plugin_follows_the_flags(name: str) -> None:
    assert name in built(enable=(name,)).server.handlers.admission.names
    assert name not in built(disable=(name,)).server.handlers.admission.names


@pytest.mark.parametrize(
    ("enable", "disable", "message"),
    [
        (("Bogus",), (), 'enable-admission-plugins plugin "Bogus" is unknown'),
        ((), ("Bogus",), 'disable-admission-plugins plugin "Bogus" is unknown'),
        (("EventRateLimit",), (), "plugin 'EventRateLimit' is not implemented by kubeward"),
    ],
    ids=["unknown-enable", "unknown-disable", "not-implemented"],
)
def test_bad_flags_stop_the_server_from_being_built(
    enable: tuple[str, ...], disable: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        built(enable, disable)
    assert message in str(caught.value)


def test_the_rbac_stores_carry_the_escalation_check_and_no_other_store_does() -> None:
    stores = built().server.stores
    rbac = {ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS}
    for rt, store in stores.items():
        assert len(store.write_checks) == (1 if rt in rbac else 0), rt.resource


def test_plugins_see_upstreams_options_objects() -> None:
    query = {"fieldManager": "kubectl", "fieldValidation": "Strict", "propagationPolicy": "Orphan"}
    assert operation_options("CREATE", query, ["All"]) == {
        "kind": "CreateOptions",
        "apiVersion": "meta.k8s.io/v1",
        "dryRun": ["All"],
        "fieldManager": "kubectl",
        "fieldValidation": "Strict",
    }
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "u"}}
    assert operation_options("DELETE", query, [], delete_options(body, 0, query)) == {
        "kind": "DeleteOptions",
        "apiVersion": "meta.k8s.io/v1",
        "preconditions": {"uid": "u"},
        "gracePeriodSeconds": 0,
        "propagationPolicy": "Orphan",
    }
    assert operation_options("UPDATE", {}, [])["kind"] == "UpdateOptions"


def test_the_store_reader_waits_for_an_object_on_the_informer_not_by_asking_again() -> None:
    from kubeward.admission.interfaces import ObjectWaiter
    from kubeward.api.registry.store import Store
    from kubeward.api.resources import build_scheme
    from kubeward.api.resources.core import SERVICEACCOUNTS
    from kubeward.controllers.factory import InformerFactory
    from kubeward.controllers.sources import StoreSources
    from kubeward.server.wiring.admission_wiring import StoreReader

    class CountingReader(StoreReader):
        gets = 0

        async def get(self, resource: str, namespace: str, name: str) -> dict[str, object] | None:
            CountingReader.gets += 1
            return await super().get(resource, namespace, name)

    async def go() -> tuple[bool, object, object, int]:
        backend = MemoryBackend()
        await backend.start()
        scheme, strategies = build_scheme()
        stores = {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}
        informers = InformerFactory(StoreSources(stores), resync=0)
        reader = CountingReader(stores, informers)
        waiting = asyncio.create_task(reader.wait_for("serviceaccounts", "ns", "default", 30))
        await asyncio.sleep(0.05)  # the waiter is registered and has looked once
        await stores[SERVICEACCOUNTS].create("ns", {"metadata": {"name": "default"}})
        found = await waiting
        missing = await reader.wait_for("serviceaccounts", "ns", "absent", 0.05)
        await informers.stop()
        await backend.close()
        return isinstance(reader, ObjectWaiter), found, missing, CountingReader.gets

    is_waiter, found, missing, gets = asyncio.run(go())
    assert is_waiter
    assert isinstance(found, dict) and found["metadata"]["name"] == "default"
    assert missing is None
    assert gets == 2  # one look per wait: the arrival came from the informer
