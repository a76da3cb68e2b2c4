"""A container's filesystem, in memory: the image's few files and the volumes mounted into it.

The simulated runtime has no image layers; what a container can read is what Kubernetes puts
there. Rules:
 1. Paths are absolute and normalised (``/a/./b/../c`` is ``/a/c``); a directory exists when
    some file lies under it.
 2. A mount is a volume's files (relative path → bytes) at a mount path; the same dict is shared
    by every container mounting the volume (an emptyDir written by one is read by the other).
    The longest mount path containing a file wins, as with real bind mounts.
 3. The image contributes ``/etc/hostname`` (the pod's name) and ``/etc/hosts``; nothing else.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

Files = dict[str, bytes]


def normalise(path: str, cwd: str = "/") -> str:
    """Rule 1."""
    return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")


@dataclass
class FileSystem:
    base: Files = field(default_factory=dict)
    mounts: dict[str, Files] = field(default_factory=dict)

    def mount(self, path: str, files: Files) -> None:
        self.mounts[normalise(path)] = files

    def _locate(self, path: str) -> tuple[Files, str] | None:
        """Rule 2: the mount holding ``path`` (longest first) and the path inside it."""
        for where in sorted(self.mounts, key=len, reverse=True):
            if path == where:
                return self.mounts[where], ""
            if path.startswith(where.rstrip("/") + "/"):
                return self.mounts[where], path[len(where.rstrip("/")) + 1 :]
        return None

    def read(self, path: str) -> bytes | None:
        path = normalise(path)
        located = self._locate(path)
        if located is None:
            return self.base.get(path)
        files, inner = located
        return files.get(inner)

    def write(self, path: str, data: bytes) -> None:
        path = normalise(path)
        located = self._locate(path)
        if located is None:
            self.base[path] = data
        else:
            located[0][located[1]] = data

    def listing(self, path: str) -> list[str] | None:
        """The names directly under directory ``path``; None when it is not a directory."""
        path = normalise(path)
        prefix = "" if path == "/" else path
        names: set[str] = set()
        candidates = [*self.base, *self._mounted_paths()]
        for full in candidates:
            if full.startswith(prefix + "/"):
                names.add(full[len(prefix) + 1 :].split("/", 1)[0])
        if not names and path not in self.mounts:
            return None
        return sorted(names)

    def _mounted_paths(self) -> list[str]:
        paths = []
        for where, files in self.mounts.items():
            paths.append(where)  # a mount point is a directory even when empty
            paths.extend(f"{where.rstrip('/')}/{inner}" for inner in files)
        return paths

    def is_dir(self, path: str) -> bool:
        return self.listing(path) is not None


def image_files(pod_name: str, pod_ip: str) -> Files:
    """Rule 3."""
    hosts = f"127.0.0.1\tlocalhost\n::1\tlocalhost\n{pod_ip}\t{pod_name}\n"
    return {"/etc/hostname": f"{pod_name}\n".encode(), "/etc/hosts": hosts.encode()}
