"""Joining several error messages into one, as Kubernetes' ``utilerrors.NewAggregate`` does.

Authorizer reasons and rule-resolution errors are compared with Kubernetes' own text, so the
joining rules are its rules:

 1. No messages: the empty string.
 2. One distinct message: that message.
 3. Several: ``[first, second]`` — duplicates dropped, order kept.
"""

from __future__ import annotations

from collections.abc import Iterable


def aggregate_messages(messages: Iterable[str]) -> str:
    distinct = list(dict.fromkeys(m for m in messages if m))
    if not distinct:
        return ""
    if len(distinct) == 1:
        return distinct[0]
    return "[" + ", ".join(distinct) + "]"
