"""The node-lifecycle controller's toleration rule."""

from __future__ import annotations

import pytest

from kubeward.controllers.nodelifecycle import tolerates

UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}


@pytest.mark.parametrize(
    ("tolerations", "expected"),
    [
        ([], (False, None)),
        (
            [
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
            (True, 300),
        ),
        ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}], (True, None)),
        ([{"operator": "Exists"}], (True, None)),
        (
            [
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                }
            ],
            (False, None),
        ),
        ([{"key": "other", "operator": "Exists"}], (False, None)),
    ],
    ids=["none", "for-a-while", "for-ever", "everything", "other-effect", "other-key"],
)
def test_tolerations(
    tolerations: list[dict[str, object]], expected: tuple[bool, int | None]
) -> None:
    assert tolerates({"spec": {"tolerations": tolerations}}, UNREACHABLE) == expected
