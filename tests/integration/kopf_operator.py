"""A small kopf operator for the end-to-end tests (``kopf run tests/integration/kopf_operator.py``).

It manages ``greetings.ops.example.com`` objects: on create it answers in ``status`` (kopf
stores a handler's result under ``status.<handler id>``), on update it patches ``status``, a
timer counts ticks in ``status``, and the delete handler (which makes kopf put its finalizer on
every object) writes what it saw to the file ``KOPF_TEST_LOG`` names, so the test can tell that
each handler ran.
"""

from __future__ import annotations

import json
import os
from typing import Any

import kopf

GROUP, VERSION, PLURAL = "ops.example.com", "v1", "greetings"


def _record(event: str, name: str, **details: Any) -> None:
    with open(os.environ["KOPF_TEST_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"event": event, "name": name, **details}) + "\n")


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.posting.enabled = True
    settings.watching.server_timeout = 10
    settings.peering.lifetime = 30


@kopf.on.create(GROUP, VERSION, PLURAL)
def created(spec: kopf.Spec, name: str, **_: Any) -> dict[str, str]:
    _record("create", name, message=spec.get("message"))
    return {"reply": f"hello, {spec.get('message')}"}


@kopf.on.update(GROUP, VERSION, PLURAL)
def updated(spec: kopf.Spec, name: str, patch: kopf.Patch, **_: Any) -> None:
    _record("update", name, message=spec.get("message"))
    patch.status["lastMessage"] = spec.get("message")


@kopf.timer(GROUP, VERSION, PLURAL, interval=0.5)
def ticking(status: kopf.Status, patch: kopf.Patch, **_: Any) -> None:
    patch.status["ticks"] = int(status.get("ticks") or 0) + 1


@kopf.on.delete(GROUP, VERSION, PLURAL)
def deleted(name: str, status: kopf.Status, **_: Any) -> None:
    _record("delete", name, ticks=status.get("ticks"))
