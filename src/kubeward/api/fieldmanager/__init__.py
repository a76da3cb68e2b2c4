"""Server-side apply and ``managedFields``: structured-merge-diff's semantics for every kind.

``fieldpath`` (paths, sets, ``fieldsV1``), ``schema`` (the shape of a kind), ``typed`` (field
sets, compare, merge, remove over that shape), ``updater`` (who owns what after a write) and
``manager`` (the ``managedFields`` entries kube-apiserver records). Callers use this face.
"""

from kubeward.api.fieldmanager.fieldpath import FieldSet
from kubeward.api.fieldmanager.manager import (
    FieldManager,
    check_options,
    for_kind,
    manager_from_user_agent,
)

__all__ = ["FieldManager", "FieldSet", "check_options", "for_kind", "manager_from_user_agent"]
