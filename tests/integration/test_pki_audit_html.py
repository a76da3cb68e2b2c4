"""The audit's HTML page rendered by a real headless Chromium: the DOM and the pixels."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser import chromium, colour_counts, screenshot

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import build_subject
from kubeward.pki.profiles import Profile

CRITICAL_RED = (0xB3, 0x26, 0x1E)
OK_GREEN = (0x2B, 0x8A, 0x3E)


def kubeward(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeward", *args], capture_output=True, text=True, timeout=120
    )


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


def test_chromium_screenshot_shows_the_colours(
    page: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    image = screenshot(tmp_path, page[0].as_uri(), 1400, 1800)
    assert image.size == (1400, 1800)
    colours = colour_counts(image)
    assert len(colours) > 20  # a rendered page, not a blank one
    assert colours[CRITICAL_RED] > 50  # the critical card, badges and bars
    assert colours[OK_GREEN] > 50  # healthy bars in the timeline
