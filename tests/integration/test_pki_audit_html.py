"""The audit's HTML page rendered by a real headless Chromium: the DOM and the pixels."""

import datetime
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import build_subject
from kubeward.pki.profiles import Profile

CHROMIUM = "/usr/bin/chromium"
CRITICAL_RED = (0xB3, 0x26, 0x1E)
OK_GREEN = (0x2B, 0x8A, 0x3E)


def kubeward(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeward", *args], capture_output=True, text=True, timeout=120
    )


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("html")
    cluster = root / "cluster"
    assert (
        kubeward(
            "pki", "init", "--dir", str(cluster), "--key-algorithm", "ecdsa-p256", "--node", "w1"
        ).returncode
        == 0
    )
    ca = CertificateAuthority.from_dir(cluster)
    now = datetime.datetime.now(datetime.UTC)
    for name, issued, days in [
        ("expired-client", now - datetime.timedelta(days=40), 30),
        ("soon-client", now, 12),
    ]:
        key = generate_private_key("ecdsa-p256")
        cert = ca.issue(
            key.public_key(),
            build_subject(name),
            Profile.CLIENT,
            datetime.timedelta(days=days),
            now=issued,
        )
        (cluster / "pki" / f"{name}.crt").write_bytes(certificate_pem(cert))
        (cluster / "pki" / f"{name}.key").write_bytes(private_key_pem(key))
        os.chmod(cluster / "pki" / f"{name}.key", 0o600)
    html = root / "audit.html"
    result = kubeward("pki", "audit", str(cluster), "-o", "html", "--out", str(html))
    assert result.returncode == 5, result.stderr
    report = json.loads(kubeward("pki", "audit", str(cluster), "-o", "json").stdout)
    return html, report


def test_page_is_self_contained(page: tuple[Path, dict[str, object]]) -> None:
    text = page[0].read_text()
    for external in ("<script", "<link", "src=", "@import", "url(", "http://", "https://"):
        assert external not in text.replace("https://127.0.0.1", ""), external


def test_chromium_dom_has_every_part(page: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    html, report = page
    result = chromium(tmp_path, "--dump-dom", html.as_uri())
    assert result.returncode == 0, result.stderr
    dom = result.stdout
    certificates = report["certificates"]
    assert isinstance(certificates, list)
    for section in (
        'id="summary"',
        'id="problems"',
        'id="timeline-chart"',
        'id="trust-tree"',
        'id="certificates"',
    ):
        assert section in dom
    assert dom.count('class="bar"') == len(certificates)
    assert (
        'data-status="critical"' in dom
        and 'data-status="warning"' in dom
        and 'data-status="ok"' in dom
    )
    assert dom.count('data-code="') == len(report["findings"])  # type: ignore[arg-type]
    for name in ("ca", "etcd-ca", "front-proxy-ca", "apiserver", "admin.conf", "etcd-peer"):
        assert f'<li data-name="{name}">' in dom
    tree = dom[dom.index('id="trust-tree"') :]
    etcd_branch = tree[tree.index('<li data-name="etcd-ca">') :]
    assert etcd_branch.index('data-name="etcd-peer"') < etcd_branch.index("</ul>")


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and body[12] == 0  # 8-bit, not interlaced
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            chunks += body
        pos += 12 + length
    raw = zlib.decompress(chunks)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, channels, rows


def _has_colour(rows: list[bytes], channels: int, colour: tuple[int, int, int]) -> int:
    target = bytes(colour)
    return sum(
        1 for row in rows for i in range(0, len(row), channels * 4) if row[i : i + 3] == target
    )


def test_chromium_screenshot_shows_the_colours(
    page: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    shot = tmp_path / "audit.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1800", page[0].as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr
    width, channels, rows = _png_pixels(shot.read_bytes())
    assert width == 1400 and len(rows) == 1800
    distinct = {row[i : i + 3] for row in rows[::20] for i in range(0, len(row), channels * 10)}
    assert len(distinct) > 20  # a rendered page, not a blank one
    assert _has_colour(rows, channels, CRITICAL_RED) > 50  # the critical card, badges and bars
    assert _has_colour(rows, channels, OK_GREEN) > 50  # healthy bars in the timeline
