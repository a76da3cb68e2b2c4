"""batch/v1 jobs and cronjobs: stored, defaulted and validated (``api.validation.batch`` and ``api.validation.cronjob``).

As upstream's Job strategy, a Job created without ``manualSelector: true`` gets its selector
and template labels generated from its uid and name before validation; status is written
only through ``/status``. The job, cronjob and ttl-after-finished controllers
(``controllers.job``, ``controllers.cronjob``, ``controllers.ttlafterfinished``) run them.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.resources.workload_templates import default_pod_template
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import batch as v
from kubeward.api.validation import cronjob
from kubeward.errors import Cause

_ALL = ("all",)
JOBS = ResourceType(
    "batch",
    "v1",
    "Job",
    "jobs",
    True,
    categories=_ALL,
    subresources=(Subresource("status", "Job", ("get", "patch", "update")),),
)
CRONJOBS = ResourceType(
    "batch",
    "v1",
    "CronJob",
    "cronjobs",
    True,
    short_names=("cj",),
    categories=_ALL,
    subresources=(Subresource("status", "CronJob", ("get", "patch", "update")),),
)
TYPES = (JOBS, CRONJOBS)


class JobStrategy(Strategy):
    has_status = True
    # Upstream's one Job field label: the number of succeeded pods, by another name.
    selectable_fields = ("status.successful",)

    def field_set(self, obj: JSONObject) -> dict[str, str]:
        fields = super().field_set(obj)
        succeeded = (obj.get("status") or {}).get("succeeded")
        fields["status.successful"] = str(succeeded if isinstance(succeeded, int) else 0)
        return fields

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {}  # Go's zero JobStatus, as upstream's strategy sets it
        v.generate_selector(obj)

    def default(self, obj: JSONObject) -> None:
        v.default_job(obj)
        spec: Any = obj.get("spec")
        if isinstance(spec, dict):
            default_pod_template(spec.get("template"))

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_job(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_job_update(new, old)

    def validate_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> list[Cause]:
        if subresource == "status":
            return v.validate_job_status(new)
        return self.validate_update(new, old)


class CronJobStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {}

    def default(self, obj: JSONObject) -> None:
        cronjob.default_cronjob(obj)
        job_template: Any = (obj.get("spec") or {}).get("jobTemplate")
        if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
            default_pod_template(job_template["spec"].get("template"))

    def validate(self, obj: JSONObject) -> list[Cause]:
        return cronjob.validate_cronjob(obj)


STRATEGIES: dict[ResourceType, type[Strategy]] = {JOBS: JobStrategy, CRONJOBS: CronJobStrategy}
