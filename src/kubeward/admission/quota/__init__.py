"""Resource quota: what an object counts against a ResourceQuota, shared by the ResourceQuota
admission plugin and the controller that recalculates usage."""

from kubeward.admission.quota.usage import matches_scopes, quota_usage

__all__ = ["matches_scopes", "quota_usage"]
