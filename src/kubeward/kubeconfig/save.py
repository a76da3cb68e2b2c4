"""Writing kubeconfig changes back to the right files (client-go's ``clientcmd.ModifyConfig``).

A command loads the merged view (:func:`kubeward.kubeconfig.load.load_merged`), changes it, and
hands both versions to :func:`save_changes`, which works out what changed and where it belongs.

Rules (client-go's, so that kubectl and kubeward edit the same files the same way):
 1. A changed or deleted cluster, user or context is written to the file it came from; a new one
    goes to the default file (:meth:`KubeconfigPaths.default_filename`).
 2. A new non-empty ``current-context`` goes to the explicit file, else the default file; clearing
    it clears the first file in the list that sets it.
 3. Each touched file is re-read just before it is changed, so entries that came from other files
    are never copied into it; a missing file starts empty.
 4. For a changed cluster or user, relative file references are resolved against the file it is
    written to and made relative to that file's folder when they need no ``../``; otherwise they
    stay absolute (``RelativizeClusterLocalPaths`` / ``RelativizeAuthInfoLocalPaths``).
 5. While changing, every file of the list is locked with ``FILE.lock`` (created exclusively, the
    lock kubectl takes); a lock that exists means someone else is editing, and nothing is written.
 6. Each file is written atomically, mode 0600, in kubectl's canonical layout; a symbolic link is
    written through, to its target, so a linked ``~/.kube/config`` stays linked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator

from kubeward.errors import InputError
from kubeward.fileio import PRIVATE, write_atomic
from kubeward.kubeconfig.encoding import dump_yaml
from kubeward.kubeconfig.load import KubeconfigPaths, load_if_exists
from kubeward.kubeconfig.model import AuthInfo, Cluster, Kubeconfig, NamedEntry

_LIST_KEYS = ("clusters", "contexts", "users")


def serialize(config: Kubeconfig) -> bytes:
    """The YAML text kubectl would write for ``config``."""
    return dump_yaml(config.to_dict())


def write_config_file(path: str, config: Kubeconfig) -> None:
    """Write one kubeconfig file (rule 6), replacing what is there."""
    write_atomic(os.path.realpath(path), serialize(config), PRIVATE, overwrite=True)


@contextlib.contextmanager
def locked(paths: Iterable[str]) -> Iterator[None]:
    """Hold kubectl's ``FILE.lock`` for every path (rule 5), in sorted order as kubectl does."""
    taken: list[str] = []
    try:
        for path in sorted(set(paths)):
            lock = path + ".lock"
            try:
                os.makedirs(os.path.dirname(os.path.abspath(lock)), exist_ok=True)
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError as exc:
                raise InputError(
                    f"{lock}: exists: another kubectl or kubeward is editing {path} "
                    "(remove the lock file if nothing is)"
                ) from exc
            except OSError as exc:
                raise InputError(f"{lock}: cannot create lock: {exc.strerror or exc}") from exc
            os.close(fd)
            taken.append(lock)
        yield
    finally:
        for lock in taken:
            with contextlib.suppress(OSError):
                os.unlink(lock)


def _relativize(reference: str, base: str) -> str:
    if not reference:
        return reference
    absolute = reference if os.path.isabs(reference) else os.path.join(base, reference)
    absolute = os.path.normpath(absolute)
    relative = os.path.relpath(absolute, base)
    return absolute if relative.startswith("../") else relative


def relativize_entry(entry: NamedEntry, destination: str) -> NamedEntry:
    """Rule 4 for one cluster or user about to be written to ``destination``."""
    base = os.path.dirname(os.path.abspath(destination))
    if isinstance(entry, Cluster):
        keys = ["certificate-authority"]
    elif isinstance(entry, AuthInfo):
        keys = ["client-certificate", "client-key", "tokenFile"]
    else:
        return entry
    changes: dict[str, object] = {}
    for key in keys:
        value = entry.fields.get(key)
        if isinstance(value, str) and value:
            changes[key] = _relativize(value, base)
    if isinstance(entry, AuthInfo) and entry.exec is not None:
        command = entry.exec.get("command")
        if isinstance(command, str) and os.sep in command:
            changes["exec"] = {**entry.exec, "command": _relativize(command, base)}
    return entry.updated(changes) if changes else entry


class _PendingFiles:
    """Files re-read on first touch (rule 3) and written once at the end."""

    def __init__(self) -> None:
        self.configs: dict[str, Kubeconfig] = {}

    def get(self, path: str) -> Kubeconfig:
        if path not in self.configs:
            self.configs[path] = load_if_exists(path)
        return self.configs[path]

    def put(self, path: str, config: Kubeconfig) -> None:
        self.configs[path] = config

    def write_all(self) -> list[str]:
        for path, config in self.configs.items():
            write_config_file(path, config)
        return list(self.configs)


def _apply_current_context(
    paths: KubeconfigPaths, pending: _PendingFiles, current_context: str
) -> None:
    if paths.explicit or current_context:
        target = paths.precedence[0] if paths.explicit else paths.default_filename()
        pending.put(target, pending.get(target).with_current_context(current_context))
        return
    for path in paths.precedence:
        if os.path.exists(path) and pending.get(path).current_context:
            pending.put(path, pending.get(path).with_current_context(""))
            return
    raise InputError(f"{paths.describe()}: no kubeconfig file sets current-context to clear")


def _apply_preferences(paths: KubeconfigPaths, pending: _PendingFiles, after: Kubeconfig) -> None:
    candidates = paths.precedence[:1] if paths.explicit else paths.precedence
    for path in candidates:
        config = pending.get(path)
        if config.preferences != after.preferences:
            pending.put(path, config.with_preferences(after.preferences))
            return


def save_changes(
    paths: KubeconfigPaths, before: Kubeconfig, after: Kubeconfig, *, relativize: bool = True
) -> list[str]:
    """Write the differences between ``before`` and ``after`` to the files they belong to.

    Args:
        paths: the files the command loaded ``before`` from.
        before: the merged kubeconfig as loaded.
        after: the same, changed by the command.
        relativize: apply rule 4 to changed clusters and users (kubectl always does).

    Returns:
        The files written.

    Raises:
        InputError: a file cannot be read, parsed, locked or written. Files already written stay
            written, as with kubectl; each single file is either old or new, never half.
    """
    if before == after:
        return []
    with locked(paths.precedence):
        pending = _PendingFiles()
        if before.current_context != after.current_context:
            _apply_current_context(paths, pending, after.current_context)
        if before.preferences != after.preferences:
            _apply_preferences(paths, pending, after)
        default = paths.default_filename()
        for list_key in _LIST_KEYS:
            old_entries: dict[str, NamedEntry] = {e.name: e for e in getattr(before, list_key)}
            new_entries: dict[str, NamedEntry] = {e.name: e for e in getattr(after, list_key)}
            for name, entry in new_entries.items():
                if old_entries.get(name) == entry:
                    continue
                destination = entry.source or default
                entry = entry.with_source(destination)
                if relativize:
                    entry = relativize_entry(entry, destination)
                pending.put(destination, pending.get(destination).with_entry(entry))
            for name, entry in old_entries.items():
                if name not in new_entries:
                    destination = entry.source or default
                    config = pending.get(destination).without_entry(list_key, name)
                    pending.put(destination, config)
        return pending.write_all()
