"""Admission policies: CEL rules stored as API objects and bound to writes by bindings.

``plugin`` is the ValidatingAdmissionPolicy admission plugin, ``mutating`` the
MutatingAdmissionPolicy one (``patchers`` applies its mutations); ``dispatch`` is what both do
before evaluating; ``matching`` decides which writes a
policy or binding applies to, ``params`` finds a binding's parameter objects, ``evaluation`` runs
one policy's expressions. The CEL environment is shared with the kinds' validation
(``api.validation.policy_cel``), so an expression is compiled once.
"""

from kubeward.admission.policy.mutating import MutatingAdmissionPolicyPlugin
from kubeward.admission.policy.plugin import ValidatingAdmissionPolicyPlugin

__all__ = ["MutatingAdmissionPolicyPlugin", "ValidatingAdmissionPolicyPlugin"]
