"""Finding and loading kubeconfig files with kubectl's rules (client-go ``clientcmd``).

Which files (``PathOptions.GetLoadingPrecedence``):
 1. ``--kubeconfig FILE`` alone, if given.
 2. Otherwise the ``KUBECONFIG`` path list (``:``-separated, duplicates dropped, empty items
    ignored) if it is set and not empty.
 3. Otherwise ``~/.kube/config`` (``$HOME`` decides ``~``).

How they merge (``ClientConfigLoadingRules.Load``):
 4. A missing file is skipped — also the explicit one, which then reads as an empty kubeconfig,
    as kubectl does. A file that exists but cannot be read or parsed is an error.
 5. For clusters, users and contexts the first file that defines a name wins, entirely: a later
    file's entry of the same name is ignored, even fields the first one lacks. The same holds for
    extensions (top-level and in ``preferences``).
 6. ``current-context`` and ``preferences.colors`` come from the first file that sets them.
 7. Every entry remembers the file it came from (its ``source``), so that edits go back there.
    Relative paths inside an entry (``certificate-authority``, ``client-certificate``,
    ``client-key``, ``tokenFile``) stay as written and are relative to that file's folder;
    :func:`resolve_path` resolves them.

Where new things are written (``PathOptions.GetDefaultFilename``):
 8. The explicit file; else with one ``KUBECONFIG`` entry, that file; else the first listed file
    that exists; else the last one listed; without ``KUBECONFIG``, ``~/.kube/config``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeward.fileio import read_bytes
from kubeward.kubeconfig.encoding import parse_yaml
from kubeward.kubeconfig.model import Kubeconfig, NamedEntry

ENV_VAR = "KUBECONFIG"


def parse_kubeconfig(data: bytes, source: str) -> Kubeconfig:
    """Parse kubeconfig text; every entry's ``source`` is set to ``source``.

    An empty text is an empty kubeconfig, as in client-go.

    Raises:
        InputError: not YAML, or not a kubeconfig (one line naming ``source``).
    """
    if not data.strip():
        return Kubeconfig()
    return Kubeconfig.from_dict(parse_yaml(data, source), source)


def load_kubeconfig(path: str | os.PathLike[str]) -> Kubeconfig:
    """Load one kubeconfig file that must exist.

    Raises:
        InputError: the file is missing, unreadable or not a kubeconfig.
    """
    source = os.fspath(path)
    return parse_kubeconfig(read_bytes(source), source)


def load_if_exists(path: str) -> Kubeconfig:
    """Load one file, or an empty kubeconfig if it does not exist (client-go's ``getConfigFromFile``)."""
    if not os.path.exists(path):
        return Kubeconfig()
    return load_kubeconfig(path)


def resolve_path(path: str, source: str | None) -> str:
    """An entry's file reference made absolute against the folder of the file it came from."""
    if not path or os.path.isabs(path):
        return path
    base = os.path.dirname(os.path.abspath(source)) if source else os.getcwd()
    return os.path.normpath(os.path.join(base, path))


def home_kubeconfig(environ: Mapping[str, str] | None = None) -> str:
    """``~/.kube/config``, with ``~`` from ``$HOME`` as client-go's ``homedir.HomeDir`` does."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".kube", "config")


@dataclass(frozen=True)
class KubeconfigPaths:
    """The files a command reads and writes (client-go's ``PathOptions``)."""

    precedence: tuple[str, ...]
    explicit: bool = False
    from_env: bool = False

    @classmethod
    def resolve(
        cls, explicit: str | None = None, environ: Mapping[str, str] | None = None
    ) -> KubeconfigPaths:
        """Rules 1–3: ``--kubeconfig``, else ``$KUBECONFIG``, else ``~/.kube/config``."""
        env = os.environ if environ is None else environ
        if explicit:
            return cls((explicit,), explicit=True)
        listed = [p for p in env.get(ENV_VAR, "").split(os.pathsep) if p]
        if listed:
            return cls(tuple(dict.fromkeys(listed)), from_env=True)
        return cls((home_kubeconfig(env),))

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> KubeconfigPaths:
        """Exactly one file, as ``--kubeconfig`` gives."""
        return cls((os.fspath(path),), explicit=True)

    def default_filename(self) -> str:
        """Rule 8: the file that receives new entries and a new current-context."""
        if self.explicit or len(self.precedence) == 1 or not self.from_env:
            return self.precedence[0]
        for path in self.precedence:
            if os.path.exists(path):
                return path
        return self.precedence[-1]

    def describe(self) -> str:
        return ":".join(self.precedence)


def merge(configs: list[Kubeconfig]) -> Kubeconfig:
    """Rules 5 and 6 over already-loaded files, in precedence order."""
    merged = Kubeconfig()
    seen: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    current = ""
    colors = False
    preference_extensions: dict[str, Any] = {}
    extensions: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for config in configs:
        for list_key, names in seen.items():
            entries: tuple[NamedEntry, ...] = getattr(config, list_key)
            for entry in entries:
                if entry.name not in names:
                    names.add(entry.name)
                    merged = merged.with_entry(entry)
        current = current or config.current_context
        colors = colors or config.preferences.get("colors") is True
        for ext in config.preferences.get("extensions") or []:
            preference_extensions.setdefault(ext["name"], ext)
        for ext in config.extensions:
            extensions.setdefault(ext["name"], ext)
        for key, value in config.extra.items():
            extra.setdefault(key, value)
    preferences: dict[str, Any] = {}
    if colors:
        preferences["colors"] = True
    if preference_extensions:
        preferences["extensions"] = [
            preference_extensions[k] for k in sorted(preference_extensions)
        ]
    return Kubeconfig(
        clusters=merged.clusters,
        users=merged.users,
        contexts=merged.contexts,
        current_context=current,
        preferences=preferences,
        extensions=tuple(extensions[k] for k in sorted(extensions)),
        extra=extra,
    )


def load_merged(paths: KubeconfigPaths) -> Kubeconfig:
    """Load and merge the files of ``paths`` (rules 4–7).

    Raises:
        InputError: a file exists but is unreadable or not a kubeconfig.
    """
    configs = [load_kubeconfig(p) for p in paths.precedence if os.path.exists(p)]
    if len(configs) == 1:
        return configs[0]
    return merge(configs)
