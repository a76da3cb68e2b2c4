"""What the client credentials say about missing kubeconfigs and missing referenced files."""

from pathlib import Path

import pytest

from kubeward.errors import InputError
from kubeward.kubeconfig.tls import ClientCredentials

THREE_MISSING = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: missing-ca.crt
users:
- name: u
  user:
    client-certificate: missing.crt
    client-key: missing.key
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
"""


def test_every_missing_file_is_reported_not_only_the_first(tmp_path: Path) -> None:
    config = tmp_path / "three.conf"
    config.write_text(THREE_MISSING)
    with pytest.raises(InputError) as refused:
        ClientCredentials.from_default_locations(str(config))
    message = str(refused.value)
    assert "\n" not in message
    for field, name in (
        ("client-cert", "missing.crt"),
        ("client-key", "missing.key"),
        ("certificate-authority", "missing-ca.crt"),
    ):
        assert f"unable to read {field}" in message
        assert f"{tmp_path / name}: no such file" in message
    assert message.index("client-cert") < message.index("certificate-authority")


@pytest.mark.parametrize("how", ["flag", "env", "home"])
def test_a_missing_kubeconfig_is_named_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    missing = tmp_path / "nope.conf"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    explicit = None
    if how == "flag":
        explicit = str(missing)
    elif how == "env":
        monkeypatch.setenv("KUBECONFIG", str(missing))
    with pytest.raises(InputError) as refused:
        ClientCredentials.from_default_locations(explicit)
    message = str(refused.value)
    assert "no such file" in message and "current-context" not in message
    expected = tmp_path / ".kube" / "config" if how == "home" else missing
    assert message.startswith(str(expected))
