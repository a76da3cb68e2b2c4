"""The x509 authenticator's path building and its refusals (rules 1-4 of authn/x509.py)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeward.authn.interfaces import AuthRequest
from kubeward.authn.x509 import X509Authenticator
from kubeward.errors import AuthenticationError
from kubeward.pki.keys import generate_private_key

DAY = datetime.timedelta(days=1)
# Midnight today: authenticate() reads the clock, verify() is also given NOW.
NOW = datetime.datetime.now(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate(
    subject: str,
    key,
    issuer: x509.Certificate | None = None,
    issuer_key=None,
    *,
    ca: bool | None = None,
    client_auth: bool | None = True,
    start: datetime.datetime = NOW - DAY,
    end: datetime.datetime = NOW + 2 * DAY,
) -> x509.Certificate:
    """A certificate with only the extensions asked for (none: as the course's openssl makes).

    cryptography builds v3 certificates only; the v1 ones of the course's openssl sequence are
    covered by tests/integration/test_server_client_certificates.py. For every rule of the
    authenticator an extension-less v3 certificate reads the same as a v1 one.
    """
    name = x509.Name.from_rfc4514_string(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    if client_auth is not None:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client_auth else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope="module")
def keys():
    return {name: generate_private_key("ecdsa-p256") for name in ("root", "int", "leaf", "x")}


@pytest.fixture(scope="module")
def root(keys):
    return certificate("CN=KUBERNETES-CA", keys["root"], client_auth=None)  # no extensions at all


def authenticate(roots, *chain, now=NOW):
    return X509Authenticator(list(roots)).verify(chain, now)


def test_extension_less_root_and_leaf_are_accepted(keys, root):
    leaf = certificate(
        "CN=kube-admin,O=system:masters", keys["leaf"], root, keys["root"], client_auth=None
    )
    assert authenticate([root], leaf) == (leaf, root)
    response = X509Authenticator([root]).authenticate(
        AuthRequest(headers={}, peer_certificates=(leaf,))
    )
    assert response is not None
    assert response.user.name == "kube-admin" and response.user.groups == ("system:masters",)


def test_intermediate_sent_by_the_client_completes_the_path(keys, root):
    intermediate = certificate(
        "CN=team-ca", keys["int"], root, keys["root"], ca=True, client_auth=None
    )
    leaf = certificate("CN=jane", keys["leaf"], intermediate, keys["int"])
    assert authenticate([root], leaf, intermediate) == (leaf, intermediate, root)
    with pytest.raises(AuthenticationError, match="signed by unknown authority"):
        authenticate([root], leaf)


def test_an_intermediate_that_is_not_a_ca_is_refused_and_named(keys, root):
    not_ca = certificate("CN=team-ca", keys["int"], root, keys["root"], ca=False)
    leaf = certificate("CN=jane", keys["leaf"], not_ca, keys["int"])
    with pytest.raises(AuthenticationError) as refused:
        authenticate([root], leaf, not_ca)
    assert 'the intermediate "CN=team-ca" is not a CA' in str(refused.value)


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (NOW - 3 * DAY, NOW - DAY, f"is after {stamp(NOW - DAY)}"),
        (NOW + DAY, NOW + 3 * DAY, f"is before {stamp(NOW + DAY)}"),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_dates_are_refused_with_gos_words_and_the_certificate(keys, root, start, end, words):
    leaf = certificate("CN=late", keys["leaf"], root, keys["root"], start=start, end=end)
    with pytest.raises(AuthenticationError) as refused:
        authenticate([root], leaf)
    message = str(refused.value)
    assert (
        f"x509: certificate has expired or is not yet valid: current time {stamp(NOW)}" in message
    )
    assert words in message
    assert 'subject "CN=late", issuer "CN=KUBERNETES-CA", valid ' in message


def test_an_expired_intermediate_is_named(keys, root):
    intermediate = certificate(
        "CN=team-ca", keys["int"], root, keys["root"], ca=True, end=NOW - DAY
    )
    leaf = certificate("CN=jane", keys["leaf"], intermediate, keys["int"])
    with pytest.raises(
        AuthenticationError, match='the intermediate certificate: subject "CN=team-ca"'
    ):
        authenticate([root], leaf, intermediate)


def test_foreign_and_same_named_cas(keys, root):
    foreign_root = certificate("CN=other-ca", keys["x"], client_auth=None)
    leaf = certificate("CN=mallory", keys["leaf"], foreign_root, keys["x"])
    with pytest.raises(AuthenticationError, match="signed by unknown authority; subject"):
        authenticate([root], leaf)
    remade = certificate("CN=KUBERNETES-CA", keys["x"], client_auth=None)
    leaf = certificate("CN=jane", keys["leaf"], remade, keys["x"])
    with pytest.raises(AuthenticationError, match="is trusted but did not sign it"):
        authenticate([root], leaf)


def test_a_server_only_certificate_is_an_incompatible_usage(keys, root):
    leaf = certificate("CN=web", keys["leaf"], root, keys["root"], client_auth=False)
    with pytest.raises(AuthenticationError, match="incompatible key usage"):
        authenticate([root], leaf)


def test_a_subject_without_common_name_is_refused(keys, root):
    leaf = certificate("O=dev", keys["leaf"], root, keys["root"])
    with pytest.raises(AuthenticationError, match="no common name"):
        X509Authenticator([root]).authenticate(AuthRequest(headers={}, peer_certificates=(leaf,)))


def test_no_certificate_is_not_mine(root):
    assert X509Authenticator([root]).authenticate(AuthRequest(headers={})) is None


def test_cn_attribute_order_is_irrelevant(keys, root):
    leaf = certificate("O=a,O=b,CN=ann", keys["leaf"], root, keys["root"])
    user = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert user == "ann"
    assert authenticate([root], leaf)[0] == leaf
