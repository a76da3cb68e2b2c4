"""Server-side apply as lightkube users see it: ``Client.apply`` with field managers."""

from __future__ import annotations

from typing import Any

import pytest
from lightkube import ApiError, Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap


def test_lightkube_apply_conflict_and_force(cluster: Any) -> None:
    client = Client(KubeConfig.from_file(str(cluster.admin_kubeconfig)), namespace="default")
    try:
        _apply_conflict_and_force(client)
    finally:
        client.close()


def _apply_conflict_and_force(client: Client) -> None:
    mine = ConfigMap(metadata=ObjectMeta(name="lk"), data={"owner": "me", "mine": "1"})
    applied = client.apply(mine, field_manager="lk-one")
    assert applied.data == {"owner": "me", "mine": "1"}
    assert [(e.manager, e.operation) for e in applied.metadata.managedFields] == [
        ("lk-one", "Apply")
    ]
    theirs = ConfigMap(metadata=ObjectMeta(name="lk"), data={"owner": "them"})
    with pytest.raises(ApiError) as caught:
        client.apply(theirs, field_manager="lk-two")
    assert caught.value.status.code == 409
    assert caught.value.status.message == (
        'Apply failed with 1 conflict: conflict with "lk-one": .data.owner'
    )
    taken = client.apply(theirs, field_manager="lk-two", force=True)
    assert taken.data == {"owner": "them", "mine": "1"}
    # lk-one no longer applies "mine": it goes, as no one else owns it.
    left = client.apply(ConfigMap(metadata=ObjectMeta(name="lk"), data={}), field_manager="lk-one")
    assert left.data == {"owner": "them"}
