"""The ABAC authorization mode (``--authorization-mode=ABAC --authorization-policy-file F``)."""

from kubeward.authz.abac.authorizer import (
    MODE_ABAC,
    NO_POLICY_MATCHED,
    ABACAuthorizer,
    PolicyGrant,
)
from kubeward.authz.abac.policy import Policy, PolicyLine, parse_policy_file

__all__ = [
    "MODE_ABAC",
    "NO_POLICY_MATCHED",
    "ABACAuthorizer",
    "Policy",
    "PolicyGrant",
    "PolicyLine",
    "parse_policy_file",
]
