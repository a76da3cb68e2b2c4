"""Reading Namespaces, Pods and NetworkPolicies from files, as ``kubectl apply -f`` reads them.

Rules:

 1. A path is a file or a folder; a folder contributes its ``.yaml``, ``.yml`` and ``.json``
    files in name order (and those of its subfolders with ``recursive=True``, kubectl's ``-R``).
 2. A file holds one or more YAML documents (JSON is YAML); empty documents are skipped.
 3. A ``kind: List`` (or ``PodList``, ``NamespaceList``, ...) contributes its ``items``, as
    ``kubectl get -o yaml`` writes them.
 4. Each object is named in errors by file and, in a multi-document file, document number
    (``all.yaml#2``), so that a problem points at one place.
 5. Nothing is returned unless every file reads, parses and builds: callers print nothing on
    bad input.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.netpol.model import Inventory
from kubeward.netpol.objects import Document, inventory_from_documents

SUFFIXES = (".yaml", ".yml", ".json")

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML without libyaml
    _Loader = yaml.SafeLoader


def load_inventory_from_files(
    paths: Iterable[str | os.PathLike[str]], *, recursive: bool = False
) -> Inventory:
    """Read every object under ``paths`` and build the inventory.

    Raises:
        InputError: a path is missing or unreadable, a file does not parse, or an object is
            unusable (see :mod:`kubeward.netpol.objects`).
    """
    return inventory_from_documents(read_documents(paths, recursive=recursive))


def read_documents(
    paths: Iterable[str | os.PathLike[str]], *, recursive: bool = False
) -> list[Document]:
    """Every object under ``paths``, each tagged with where it came from."""
    documents: list[Document] = []
    for path in _expand(paths, recursive):
        documents.extend(_documents_in(path))
    return documents


def _expand(paths: Iterable[str | os.PathLike[str]], recursive: bool) -> Iterator[Path]:
    given = list(paths)
    if not given:
        raise InputError("no input: give -f PATH (a file or folder of manifests)")
    for raw in given:
        path = Path(raw)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            found = sorted(
                p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in SUFFIXES
            )
            if not found:
                raise InputError(f"{path}: no .yaml, .yml or .json files in this folder")
            yield from found
        else:
            yield path


def _documents_in(path: Path) -> Iterator[Document]:
    data = read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text") from exc
    try:
        parsed = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"{path}: cannot parse{at}: {problem}") from exc
    several = len(parsed) > 1
    for n, obj in enumerate(parsed, start=1):
        if obj is None:
            continue
        origin = f"{path}#{n}" if several else str(path)
        yield from _unwrap(obj, origin)


def _unwrap(obj: object, origin: str) -> Iterator[Document]:
    if isinstance(obj, Mapping) and str(obj.get("kind", "")).endswith("List"):
        items = obj.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            raise InputError(f"{origin}: {obj.get('kind')} items must be a list")
        for i, item in enumerate(items):
            yield from _unwrap(item, f"{origin} items[{i}]")
        return
    yield Document(obj, origin)  # type: ignore[arg-type]  # checked by the builder
