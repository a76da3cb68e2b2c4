"""Decode the protobuf request bodies kubectl 1.32 sends for its typed commands.

kubectl 1.32 and 1.33 send ``Content-Type: application/vnd.kubernetes.protobuf`` for
``auth can-i``, ``auth whoami``, ``create token``, ``certificate approve|deny`` and every
``kubectl create <generator>``, and do not retry in JSON when refused. kubeward answers in JSON
but must read these bodies. The decoder is schema-table driven: one small table per message
type, with the field numbers of Kubernetes' ``generated.proto`` files (see :mod:`.schema` for the
rules and :mod:`.kinds` for the kinds covered).

Public API:
 - :func:`decode_protobuf` -- the body's bytes to the JSON-shaped object (400 on bad input).
 - ``KINDS_SUPPORTED`` -- the ``(apiVersion, kind)`` pairs the decoder reads.
"""

from __future__ import annotations

from typing import Final

from kubeward.api.protobuf.decoder import MAGIC, PROTOBUF_CONTENT_TYPE, decode_protobuf
from kubeward.api.protobuf.kinds import ROOTS

KINDS_SUPPORTED: Final[frozenset[tuple[str, str]]] = frozenset(ROOTS)

__all__ = ["KINDS_SUPPORTED", "MAGIC", "PROTOBUF_CONTENT_TYPE", "decode_protobuf"]
