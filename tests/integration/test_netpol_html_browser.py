"""The ``netpol matrix -o html`` page in a real headless Chromium.

The page is made by the real command (a subprocess), opened from a file with no network, and
checked twice: the DOM Chromium builds after running the page's script (every cell present,
coloured and explained), and a screenshot whose pixels must show the heat map's colours.
"""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import chromium, colour_counts, screenshot

SRC = Path(__file__).resolve().parents[2] / "src"

CLUSTER = """
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod, labels: {app: web}},
   spec: {containers: [{name: c, ports: [{containerPort: 80, name: http}]}]}, status: {podIP: 10.1.0.10}}
- {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: prod, labels: {app: api}},
   spec: {containers: [{name: c, ports: [{containerPort: 5000, name: api}]}]}, status: {podIP: 10.1.0.11}}
- {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: prod, labels: {app: db}},
   spec: {containers: [{name: c, ports: [{containerPort: 3306, name: mysql}]}]}, status: {podIP: 10.1.0.12}}
- {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: dev, labels: {app: api}},
   spec: {containers: [{name: c, ports: [{containerPort: 5000, name: api}]}]}, status: {podIP: 10.2.0.11}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: prod}}
      podSelector: {matchLabels: {app: api}}
    - ipBlock: {cidr: 192.168.5.10/32}
    ports: [{port: 3306}]
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("netpol-html")
    (folder / "cluster.yaml").write_text(CLUSTER)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubeward",
            "netpol",
            "matrix",
            "-f",
            str(folder / "cluster.yaml"),
            "--port",
            "3306/TCP",
            "--port",
            "mysql",
            "-o",
            "html",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    path = folder / "matrix.html"
    path.write_text(result.stdout)
    return path


class Cells(HTMLParser):
    """Collects the table cells Chromium rendered, and the tab buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.tabs = 0
        self.sections = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "td":
            self.cells.append(values)
        elif tag == "button" and values.get("role") == "tab":
            self.tabs += 1
        elif tag == "section" and "probe" in values.get("class", ""):
            self.sections += 1


def test_rendered_dom_has_every_cell_explained(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    parsed = Cells()
    parsed.feed(dom)
    assert parsed.tabs == 2 and parsed.sections == 2
    assert len(parsed.cells) == 2 * 4 * 4
    by_pair = {(c["data-i"], c["data-j"], n // 16): c for n, c in enumerate(parsed.cells)}
    # Pods: dev/api, prod/api, prod/db, prod/web; prod/db is index 2.
    allowed = by_pair[("1", "2", 0)]
    assert allowed["class"].split()[0] == "a"
    assert allowed["title"].startswith("prod/api \u2192 prod/db on 3306/TCP: ALLOWED")
    assert (
        "Ingress of prod/db: isolated for ingress by prod/db; allowed by prod/db ingress rule 0 (peer 0, port 0)"
        in allowed["title"]
    )
    denied = by_pair[("0", "2", 0)]
    assert denied["class"].split()[0] == "d"
    assert "DENIED" in denied["title"] and "no ingress rule of theirs matches" in denied["title"]
    no_port = by_pair[("2", "1", 1)]
    assert no_port["class"].split()[0] == "n"
    assert "prod/api has no TCP container port named mysql" in no_port["title"]
    assert sum(c["class"].startswith("d") for c in parsed.cells[:16]) == 3


def test_screenshot_shows_the_heat_map(page: Path, tmp_path: Path) -> None:
    image = screenshot(tmp_path, page.as_uri(), 1000, 700)
    assert image.size == (1000, 700)
    colours = colour_counts(image)
    green = colours.get((0x2E, 0x9D, 0x4F), 0)
    red = colours.get((0xD0, 0x45, 0x3B), 0)
    # 13 green and 3 red cells of at least 20x20 pixels each, plus the legend's swatches.
    assert green > 13 * 300, colours.get((0x2E, 0x9D, 0x4F))
    assert red > 3 * 300
    assert green > 3 * red
