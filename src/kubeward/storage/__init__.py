"""Revisioned key-value storage under the API server.

Code above this layer depends on :class:`Backend` and gets one from :func:`backend_from_url`;
only ``storage/factory.py`` knows the implementations.
"""

from kubeward.storage.factory import backend_from_url
from kubeward.storage.interfaces import Backend, Event, EventType, KeyValue, ListResult

__all__ = ["Backend", "Event", "EventType", "KeyValue", "ListResult", "backend_from_url"]
