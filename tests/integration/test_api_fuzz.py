"""The API fuzzer's bounded CI run: every served kind and write, JSON/YAML/protobuf, reviews.

Properties (see ``api_fuzz``): no 5xx, a refused request changes nothing stored, ``/readyz``
keeps answering. A long campaign runs with ``tools/fuzz_api.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_fuzz import Bodies, Fuzzer, Request, csr_pem, targets
from hypothesis import HealthCheck, Phase, given, settings

from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.testing import running_cluster

EXAMPLES = 800


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fuzzer, Bodies]]:
    # No controller manager: nothing but the fuzzer writes, so "nothing stored changed" is exact.
    with running_cluster(
        data_dir=tmp_path_factory.mktemp("fuzz"), controller_manager=False
    ) as cluster:
        credentials = ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig)
        fuzz = Fuzzer(cluster.port, credentials.ssl_context)
        csr = csr_pem()
        fuzz.setup(csr)
        try:
            yield fuzz, Bodies(csr)
        finally:
            fuzz.close()


def test_every_kind_has_every_write_it_serves() -> None:
    labels = {t.label for t in targets()}
    for expected in (
        "Pod/create",
        "Pod/update",
        "Pod/status",
        "Pod/binding",
        "Pod/merge-patch",
        "Pod/strategic-merge-patch",
        "Pod/json-patch",
        "Pod/apply",
        "Pod/delete",
        "ServiceAccount/token",
        "CertificateSigningRequest/approval",
        "TokenReview/create",
        "SelfSubjectReview/create",
        "SubjectAccessReview/create",
        "LocalSubjectAccessReview/create",
        "SelfSubjectAccessReview/create",
        "SelfSubjectRulesReview/create",
    ):
        assert expected in labels


def test_no_body_makes_a_5xx_or_a_stored_change(fuzzer: tuple[Fuzzer, Bodies]) -> None:
    fuzz, bodies = fuzzer

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=bodies.requests())
    def run(request: Request) -> None:
        fuzz.check(request)

    run()
    fuzz.check_ready()
    tally = fuzz.tally
    print(tally.summary())
    assert tally.examples >= EXAMPLES
    assert not tally.server_errors, tally.server_errors[:5]
    assert not tally.stored_changes, tally.stored_changes[:5]
    assert tally.not_ready == 0
    # The bodies reach past decoding: some are accepted, some refused by validation.
    assert any(200 <= code < 300 for code in tally.statuses)
    assert tally.statuses[400] and tally.statuses[422]
