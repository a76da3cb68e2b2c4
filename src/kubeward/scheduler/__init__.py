"""The scheduler: binds pending pods to nodes (``kubeward scheduler``, in-process in ``up``)."""

from kubeward.scheduler.scheduler import SCHEDULER_NAME, Scheduler, is_pending

__all__ = ["SCHEDULER_NAME", "Scheduler", "is_pending"]
