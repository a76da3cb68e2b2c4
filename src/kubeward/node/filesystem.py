"""A container's filesystem, in memory: the image's few files and the volumes mounted into it.

The simulated runtime has no image layers; what a container can read is what Kubernetes puts
there. Rules:
 1. Paths are absolute and normalised (``/a/./b/../c`` is ``/a/c``); a directory exists when
    some file lies under it.
 2. A mount is a volume's files (relative path → bytes) at a mount path; the same dict is shared
    by every container mounting the volume (an emptyDir written by one is read by the other).
    The longest mount path containing a file wins, as with real bind mounts.
 3. The image contributes ``/etc/hostname`` (the pod's name) and ``/etc/hosts``, and busybox's
    top-level directories (``/tmp``, ``/etc``, ``/var``, …) exist even when empty.
 4. A container's own writes (``touch``, ``mkdir``, ``rm``) change its filesystem: files in a
    mount change the volume, so every container (and every exec) sharing it sees them.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

Files = dict[str, bytes]
IMAGE_DIRECTORIES = (
    "/bin",
    "/dev",
    "/etc",
    "/home",
    "/proc",
    "/root",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
)


def normalise(path: str, cwd: str = "/") -> str:
    """Rule 1."""
    return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")


@dataclass
class FileSystem:
    base: Files = field(default_factory=dict)
    mounts: dict[str, Files] = field(default_factory=dict)
    directories: set[str] = field(default_factory=lambda: set(IMAGE_DIRECTORIES))

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
        candidates = [*self.base, *self._mounted_paths(), *self.directories]
        for full in candidates:
            if full.startswith(prefix + "/"):
                names.add(full[len(prefix) + 1 :].split("/", 1)[0])
        if not names and path not in self.mounts and path not in self.directories and path != "/":
            return None
        return sorted(names)

    def make_directory(self, path: str) -> None:
        """Rule 4."""
        self.directories.add(normalise(path))

    def remove(self, path: str) -> bool:
        """Rule 4: remove a file, or a directory with all under it; whether anything went."""
        path = normalise(path)
        gone = False
        if path in self.directories or self.listing(path) is not None:
            for d in [d for d in self.directories if d == path or d.startswith(path + "/")]:
                self.directories.discard(d)
                gone = True
            for name in [n for n in self.base if n.startswith(path + "/")]:
                del self.base[name]
                gone = True
            for where, files in self.mounts.items():
                for inner in list(files):
                    full = f"{where.rstrip('/')}/{inner}"
                    if full.startswith(path + "/"):
                        del files[inner]
                        gone = True
        located = self._locate(path)
        if located is None:
            gone = self.base.pop(path, None) is not None or gone
        elif located[1] in located[0]:
            del located[0][located[1]]
            gone = True
        return gone

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
