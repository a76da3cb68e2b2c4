"""Tables of the workload kinds beyond Deployment, as Kubernetes' ``printers.go`` prints them.

Rules, per kind:

1. StatefulSet (apps): READY is ``<readyReplicas>/<spec.replicas>``; wide: containers, images.
2. DaemonSet (apps): DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE from the status counts;
   NODE SELECTOR is the template's node selector as ``k=v`` pairs (``<none>`` when empty);
   wide: containers, images and the selector.
3. ControllerRevision (apps): CONTROLLER is ``<kind>.<group>/<name>`` (lower-case kind) of the
   controlling owner, ``<none>`` without one; REVISION is the number.
4. Job (batch): STATUS is Complete, Failed, Terminating, Suspended, FailureTarget,
   SuccessCriteriaMet or Running, checked in that order; COMPLETIONS is
   ``<succeeded>/<completions>``, or ``<succeeded>/1 of <parallelism>`` when completions is
   unset and parallelism above 1, else ``<succeeded>/1``; DURATION runs from ``startTime``
   to ``completionTime`` (or now), empty before the start; wide: containers, images, selector.
5. CronJob (batch): SCHEDULE, TIMEZONE (``<none>`` when unset), SUSPEND (``True``/``False``,
   ``<unset>``), ACTIVE (how many jobs), LAST SCHEDULE (age, ``<none>`` before the first run);
   wide: containers, images and the job template's selector (``<none>``).
6. HorizontalPodAutoscaler (autoscaling, v2; a v1 object is printed from its v2 form): REFERENCE is ``<kind>/<name>``; TARGETS lists each
   metric as ``<current>/<target>`` (``<unknown>`` current until measured); MINPODS (``<unset>``),
   MAXPODS, REPLICAS (current).
7. PodDisruptionBudget (policy): MIN AVAILABLE and MAX UNAVAILABLE, ``N/A`` when unset;
   ALLOWED DISRUPTIONS from the status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.autoscaling_v1 import to_v2
from kubeward.api.tables._access import count, integer, items, string_map, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import (
    NONE,
    format_label_selector,
    format_labels,
    human_duration,
    parse_timestamp,
    translate_timestamp_since,
)


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


def _containers(template_owner: Mapping[str, Any], *path: str) -> tuple[str, str]:
    containers = items(template_owner, *path, "template", "spec", "containers")
    return (
        ",".join(text(c, "name") for c in containers),
        ",".join(text(c, "image") for c in containers),
    )


def _int_or_none(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "<unset>"
    return str(value)


_CONTAINERS = column("Containers", "Names of each container in the template.", priority=1)
_IMAGES = column("Images", "Images referenced by each container in the template.", priority=1)

# --- StatefulSet -------------------------------------------------------------------------

STATEFULSET_COLUMNS = (
    NAME_COLUMN,
    column("Ready", "Number of the pod with ready state"),
    AGE_COLUMN,
    _CONTAINERS,
    _IMAGES,
)


def print_statefulset(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    replicas = value_at(obj, "spec", "replicas")
    desired = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    names, images = _containers(obj, "spec")
    ready = integer(obj, "status", "readyReplicas")
    return PrintedRow((_name(obj), f"{ready}/{desired}", _age(obj, now), names, images))


# --- DaemonSet ---------------------------------------------------------------------------

DAEMONSET_COLUMNS = (
    NAME_COLUMN,
    column(
        "Desired",
        "The desired number of nodes that should be running the daemon pod.",
        type="integer",
    ),
    column("Current", "The number of nodes running at least one daemon pod.", type="integer"),
    column("Ready", "The number of nodes running the daemon pod with a Ready pod.", type="integer"),
    column("Up-to-date", "The number of nodes running the updated daemon pod.", type="integer"),
    column("Available", "The number of nodes whose daemon pod is available.", type="integer"),
    column("Node Selector", "Which nodes the daemon pod may run on."),
    AGE_COLUMN,
    _CONTAINERS,
    _IMAGES,
    column("Selector", "A label query over pods that are managed by the daemon set.", priority=1),
)


def print_daemonset(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    names, images = _containers(obj, "spec")
    return PrintedRow(
        (
            _name(obj),
            integer(obj, "status", "desiredNumberScheduled"),
            integer(obj, "status", "currentNumberScheduled"),
            integer(obj, "status", "numberReady"),
            integer(obj, "status", "updatedNumberScheduled"),
            integer(obj, "status", "numberAvailable"),
            format_labels(string_map(obj, "spec", "template", "spec", "nodeSelector")),
            _age(obj, now),
            names,
            images,
            format_label_selector(value_at(obj, "spec", "selector")),
        )
    )


# --- ControllerRevision ------------------------------------------------------------------

CONTROLLER_REVISION_COLUMNS = (
    NAME_COLUMN,
    column("Controller", "The controller that owns this revision."),
    column("Revision", "The revision number.", type="integer"),
    AGE_COLUMN,
)


def controller_name(obj: Mapping[str, Any]) -> str:
    """``<kind>.<group>/<name>`` of the controlling owner reference, or ``<none>``."""
    for ref in items(obj, "metadata", "ownerReferences"):
        if ref.get("controller") is True:
            api_version = text(ref, "apiVersion")
            group = api_version.split("/")[0] if "/" in api_version else ""
            kind = text(ref, "kind")
            qualified = f"{kind}.{group}" if group else kind
            return f"{qualified.lower()}/{text(ref, 'name')}"
    return NONE


def print_controller_revision(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow((_name(obj), controller_name(obj), integer(obj, "revision"), _age(obj, now)))


# --- Job -----------------------------------------------------------------------------------

JOB_COLUMNS = (
    NAME_COLUMN,
    column("Status", "Status of the job."),
    column("Completions", "The completion status of the job."),
    column("Duration", "Time required to complete the job."),
    AGE_COLUMN,
    _CONTAINERS,
    _IMAGES,
    column("Selector", "A label query over pods that should match the pod count.", priority=1),
)
_JOB_STATES = (
    "Complete",
    "Failed",
    "Terminating",
    "Suspended",
    "FailureTarget",
    "SuccessCriteriaMet",
)


def job_status(obj: Mapping[str, Any]) -> str:
    true_conditions = {
        text(c, "type") for c in items(obj, "status", "conditions") if text(c, "status") == "True"
    }
    for state in _JOB_STATES:
        if state == "Terminating":
            if value_at(obj, "metadata", "deletionTimestamp"):
                return state
        elif state in true_conditions:
            return state
    return "Running"


def job_completions(obj: Mapping[str, Any]) -> str:
    succeeded = integer(obj, "status", "succeeded")
    completions = value_at(obj, "spec", "completions")
    parallelism = value_at(obj, "spec", "parallelism")
    if isinstance(completions, int) and not isinstance(completions, bool):
        return f"{succeeded}/{completions}"
    if isinstance(parallelism, int) and not isinstance(parallelism, bool) and parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def job_duration(obj: Mapping[str, Any], now: datetime) -> str:
    start = parse_timestamp(value_at(obj, "status", "startTime"))
    if start is None:
        return ""
    end = parse_timestamp(value_at(obj, "status", "completionTime")) or now
    return human_duration(end - start)


def print_job(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    names, images = _containers(obj, "spec")
    return PrintedRow(
        (
            _name(obj),
            job_status(obj),
            job_completions(obj),
            job_duration(obj, now),
            _age(obj, now),
            names,
            images,
            format_label_selector(value_at(obj, "spec", "selector")),
        )
    )


# --- CronJob -------------------------------------------------------------------------------

CRONJOB_COLUMNS = (
    NAME_COLUMN,
    column("Schedule", "The schedule in Cron format."),
    column("Timezone", "The time zone name for the given schedule."),
    column("Suspend", "Whether the controller suspends subsequent executions.", type="boolean"),
    column("Active", "How many jobs are running.", type="integer"),
    column("Last Schedule", "When the job was last scheduled."),
    AGE_COLUMN,
    _CONTAINERS,
    _IMAGES,
    column("Selector", "A label query over pods that should match the pod count.", priority=1),
)


def _bool_pointer(value: object) -> str:
    if value is True:
        return "True"
    if value is False:
        return "False"
    return "<unset>"


def print_cronjob(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    names, images = _containers(obj, "spec", "jobTemplate", "spec")
    last = value_at(obj, "status", "lastScheduleTime")
    time_zone = value_at(obj, "spec", "timeZone")
    selector = value_at(obj, "spec", "jobTemplate", "spec", "selector")
    return PrintedRow(
        (
            _name(obj),
            text(obj, "spec", "schedule"),
            time_zone if isinstance(time_zone, str) else NONE,
            _bool_pointer(value_at(obj, "spec", "suspend")),
            count(obj, "status", "active"),
            translate_timestamp_since(last, now) if last else NONE,
            _age(obj, now),
            names,
            images,
            format_label_selector(selector) if selector is not None else NONE,
        )
    )


# --- HorizontalPodAutoscaler -----------------------------------------------------------------

HPA_COLUMNS = (
    NAME_COLUMN,
    column("Reference", "reference to the target object"),
    column("Targets", "the current and target metrics"),
    column("MinPods", "the minimum number of replicas"),
    column("MaxPods", "the maximum number of replicas", type="integer"),
    column("Replicas", "the current number of replicas", type="integer"),
    AGE_COLUMN,
)


def _target_text(target: Mapping[str, Any]) -> str:
    kind = text(target, "type")
    if kind == "Utilization":
        return f"{value_at(target, 'averageUtilization')}%"
    if kind == "AverageValue":
        return str(value_at(target, "averageValue"))
    return str(value_at(target, "value"))


def hpa_targets(obj: Mapping[str, Any]) -> str:
    """Each metric as ``<current>/<target>``; current values are ``<unknown>`` until measured."""
    specs = items(obj, "spec", "metrics")
    if not specs:
        return NONE
    current = items(obj, "status", "currentMetrics")
    cells = []
    for i, metric in enumerate(specs):
        key = {"Resource": "resource", "ContainerResource": "containerResource"}.get(
            text(metric, "type"), text(metric, "type").lower()
        )
        target = value_at(metric, key, "target")
        shown = _target_text(target) if isinstance(target, Mapping) else "<unknown>"
        measured = "<unknown>"
        if i < len(current) and isinstance(value_at(current[i], key, "current"), Mapping):
            now_value = value_at(current[i], key, "current")
            if isinstance(target, Mapping) and text(target, "type") == "Utilization":
                measured = f"{value_at(now_value, 'averageUtilization')}%"
            else:
                measured = str(value_at(now_value, "averageValue") or value_at(now_value, "value"))
        prefix = (
            f"{value_at(metric, key, 'name')}: " if key in ("resource", "containerResource") else ""
        )
        cells.append(f"{prefix}{measured}/{shown}")
    return ", ".join(cells)


def print_hpa(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    if not isinstance(value_at(obj, "spec", "metrics"), list):
        obj = to_v2(dict(obj))  # an autoscaling/v1 object: printed from its v2 form
    reference = f"{text(obj, 'spec', 'scaleTargetRef', 'kind')}/{text(obj, 'spec', 'scaleTargetRef', 'name')}"
    return PrintedRow(
        (
            _name(obj),
            reference,
            hpa_targets(obj),
            _int_or_none(value_at(obj, "spec", "minReplicas")),
            integer(obj, "spec", "maxReplicas"),
            integer(obj, "status", "currentReplicas"),
            _age(obj, now),
        )
    )


# --- PodDisruptionBudget ---------------------------------------------------------------------

PDB_COLUMNS = (
    NAME_COLUMN,
    column("Min Available", "The minimum number of pods that must be available."),
    column("Max Unavailable", "The maximum number of pods that may be unavailable."),
    column(
        "Allowed Disruptions",
        "Calculated number of pods that may be disrupted at this time.",
        type="integer",
    ),
    AGE_COLUMN,
)


def print_pdb(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    def shown(key: str) -> str:
        value = value_at(obj, "spec", key)
        return "N/A" if value is None else str(value)

    return PrintedRow(
        (
            _name(obj),
            shown("minAvailable"),
            shown("maxUnavailable"),
            integer(obj, "status", "disruptionsAllowed"),
            _age(obj, now),
        )
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    ("apps", "StatefulSet"): TablePrinter(STATEFULSET_COLUMNS, print_statefulset),
    ("apps", "DaemonSet"): TablePrinter(DAEMONSET_COLUMNS, print_daemonset),
    ("apps", "ControllerRevision"): TablePrinter(
        CONTROLLER_REVISION_COLUMNS, print_controller_revision
    ),
    ("batch", "Job"): TablePrinter(JOB_COLUMNS, print_job),
    ("batch", "CronJob"): TablePrinter(CRONJOB_COLUMNS, print_cronjob),
    ("autoscaling", "HorizontalPodAutoscaler"): TablePrinter(HPA_COLUMNS, print_hpa),
    ("policy", "PodDisruptionBudget"): TablePrinter(PDB_COLUMNS, print_pdb),
}
"""The printers of this module, keyed by (API group, kind)."""
