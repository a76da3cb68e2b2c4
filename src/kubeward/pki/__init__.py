"""The cluster PKI: keys, names, certificate authorities, the kubeadm layout, audit and renewal.

Modules, lowest first:

- ``duration``, ``keys``: Go-style durations; generating, encoding and describing keys.
- ``reading``: bytes (PEM or DER) to certificates, CSRs and keys, with one-line errors.
- ``names``, ``profiles``: subjects, SANs and the well-known identities; key usages by profile.
- ``verify``: signatures and finding a certificate's issuer.
- ``ca``, ``csr``: issuing and signing (``CertificateAuthority``), building requests.
- ``kubeconfigs``: the credentials inside kubeconfig files.
- ``layout``, ``bundle``: ``pki init`` (``ensure_bundle``, also called by ``kubeward up``).
- ``inventory``, ``trust``: what a directory holds and who signed what.
- ``inspect``, ``check``, ``renew``: the ``pki inspect|check|renew`` commands' logic.
- ``findings``, ``audit_rules``, ``audit``, ``report``, ``report_html``, ``textable``: ``pki audit``.
"""
