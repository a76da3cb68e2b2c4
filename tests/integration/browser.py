"""A real headless Chromium for tests of kubeward's HTML pages, and a look at its screenshots."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

from PIL import Image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Without the background-networking flags Chromium tries to reach hosts this machine cannot.
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def chromium(tmp_path: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile in ``tmp_path``; fails the test if it fails."""
    return subprocess.run(
        [CHROMIUM, *_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def screenshot(tmp_path: Path, url: str, width: int, height: int) -> Image.Image:
    shot = tmp_path / "screenshot.png"
    chromium(tmp_path, f"--window-size={width},{height}", f"--screenshot={shot}", url)
    with Image.open(shot) as image:
        return image.convert("RGB")


def colour_counts(image: Image.Image) -> Counter[tuple[int, int, int]]:
    """How many pixels of each RGB colour the image has."""
    counts = image.getcolors(maxcolors=image.width * image.height)
    assert counts is not None
    return Counter({colour: n for n, colour in counts})
