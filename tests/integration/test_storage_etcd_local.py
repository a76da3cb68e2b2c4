"""The local etcd cluster's own security: peers must hold a certificate from the etcd CA.

(Clients are covered in test_storage_etcd_server.py.) A member whose peer certificate comes
from another CA is refused by the others, so it never joins; the two good members keep quorum.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from kubeward.storage.etcd.local import LocalCluster, ensure_etcd_pki

DEADLINE = 30.0


def test_a_member_with_a_peer_certificate_from_another_ca_cannot_join(tmp_path: Path) -> None:
    pki = ensure_etcd_pki(tmp_path / "good", 3, service_cidr="10.0.0.0/24")
    foreign = ensure_etcd_pki(
        tmp_path / "foreign", 3, service_cidr="10.0.0.0/24"
    )  # same names, another etcd CA
    for suffix in ("crt", "key"):
        shutil.copy(
            foreign / "etcd" / f"peer-etcd-2.{suffix}", pki / "etcd" / f"peer-etcd-2.{suffix}"
        )
    cluster = LocalCluster(pki, tmp_path / "data", 3, fast_elections=True)
    good, intruder = cluster.members[:2], cluster.members[2]
    try:
        cluster.start_members([intruder, *good])
        cluster.wait_healthy(DEADLINE, good)  # the two good members have quorum
        end = time.monotonic() + DEADLINE
        refused = False
        while not refused:
            assert time.monotonic() < end, "no member logged refusing the intruder"
            logs = " ".join(m.log_file.read_text(errors="replace") for m in good)
            refused = "certificate signed by unknown authority" in logs or "bad certificate" in logs
            time.sleep(0.05)
        assert not cluster.is_healthy(intruder)
    finally:
        cluster.stop(grace=1.0)
