"""batch/v1 Job and CronJob: defaults, selector generation and validation as upstream's, and the
cron schedule parser (cases from pkg/apis/batch/validation/validation_test.go and robfig/cron)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubeward.api.validation import batch, cronjob
from kubeward.api.validation.cron import parse_schedule, schedule_error

UID = "1a2b3c4d-0000-4000-8000-000000000001"


def _template(restart: str = "OnFailure", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": dict(labels)},
        "spec": {"restartPolicy": restart, "containers": [{"name": "app", "image": "busybox"}]},
    }


def _job(**spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": "pi", "namespace": "default", "uid": UID},
        "spec": {"template": _template(), **spec},
    }
    batch.generate_selector(obj)
    batch.default_job(obj)
    return obj


def test_job_defaults_as_upstream() -> None:
    job = _job()
    spec = job["spec"]
    assert spec["completions"] == 1 and spec["parallelism"] == 1
    assert spec["backoffLimit"] == 6
    assert spec["completionMode"] == "NonIndexed"
    assert spec["suspend"] is False and spec["manualSelector"] is False
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert spec["selector"] == {"matchLabels": {batch.CONTROLLER_UID_LABEL: UID}}
    assert spec["template"]["metadata"]["labels"] == {
        "controller-uid": UID,
        "batch.kubernetes.io/controller-uid": UID,
        "job-name": "pi",
        "batch.kubernetes.io/job-name": "pi",
    }
    assert job["metadata"]["labels"] == spec["template"]["metadata"]["labels"]
    assert batch.validate_job(job) == []


def test_job_defaults_keep_what_is_given() -> None:
    spec = _job(parallelism=3, backoffLimitPerIndex=1, completionMode="Indexed", completions=5)[
        "spec"
    ]
    assert spec["completions"] == 5 and spec["parallelism"] == 3
    assert spec["backoffLimit"] == 2**31 - 1
    failure_policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "X"}]}]}
    spec = _job(podFailurePolicy=failure_policy)["spec"]
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"
    assert "completions" not in _job(parallelism=2)["spec"]


def test_manual_selector_generates_nothing() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "pi", "uid": UID},
        "spec": {
            "manualSelector": True,
            "selector": {"matchLabels": {"app": "pi"}},
            "template": _template(app="pi"),
        },
    }
    batch.generate_selector(obj)
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "pi"}}
    assert obj["spec"]["template"]["metadata"]["labels"] == {"app": "pi"}
    batch.default_job(obj)
    assert batch.validate_job(obj) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = obj
        for part in parents:
            target = target[part]
        target[last] = value

    return change


JOB_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    (
        "negative parallelism",
        _set("spec.parallelism", -1),
        "spec.parallelism",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "negative completions",
        _set("spec.completions", -1),
        "spec.completions",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "negative backoffLimit",
        _set("spec.backoffLimit", -1),
        "spec.backoffLimit",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "negative ttl",
        _set("spec.ttlSecondsAfterFinished", -1),
        "spec.ttlSecondsAfterFinished",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "negative activeDeadlineSeconds",
        _set("spec.activeDeadlineSeconds", -1),
        "spec.activeDeadlineSeconds",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "restartPolicy Always",
        _set("spec.template.spec.restartPolicy", "Always"),
        "spec.template.spec.restartPolicy",
        'Required value: valid values: "OnFailure", "Never"',
    ),
    (
        "restartPolicy unknown",
        _set("spec.template.spec.restartPolicy", "Sometimes"),
        "spec.template.spec.restartPolicy",
        'Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
    ),
    (
        "completionMode unknown",
        _set("spec.completionMode", "Sorted"),
        "spec.completionMode",
        'Unsupported value: "Sorted": supported values: "NonIndexed", "Indexed"',
    ),
    (
        "backoffLimitPerIndex without Indexed",
        _set("spec.backoffLimitPerIndex", 1),
        "spec.backoffLimitPerIndex",
        "Invalid value: 1: requires indexed completion mode",
    ),
    (
        "maxFailedIndexes without backoffLimitPerIndex",
        _set("spec.maxFailedIndexes", 1),
        "spec.backoffLimitPerIndex",
        "Required value: when maxFailedIndexes is specified",
    ),
    (
        "generated label changed",
        _set("spec.template.metadata.labels.controller-uid", "other"),
        "spec.template.metadata.labels[controller-uid]",
        f'Invalid value: {{"batch.kubernetes.io/controller-uid": "{UID}", '
        f'"batch.kubernetes.io/job-name": "pi", "controller-uid": "other", '
        f'"job-name": "pi"}}: must be \'{UID}\'',
    ),
    (
        "selector not generated",
        _set("spec.selector", {"matchLabels": {"app": "x"}}),
        "spec.selector",
        'Invalid value: {"matchLabels": {"app": "x"}}: `selector` not auto-generated',
    ),
    (
        "no containers",
        _set("spec.template.spec.containers", []),
        "spec.template.spec.containers",
        "Required value",
    ),
    (
        "podReplacementPolicy unknown",
        _set("spec.podReplacementPolicy", "Never"),
        "spec.podReplacementPolicy",
        'Unsupported value: "Never": supported values: "Failed", "TerminatingOrFailed"',
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "message"), [c[1:] for c in JOB_CASES], ids=[c[0] for c in JOB_CASES]
)
def test_job_validation(mutate: Callable[[dict[str, Any]], None], path: str, message: str) -> None:
    job = _job()
    mutate(job)
    causes = batch.validate_job(job)
    assert (path, message) in [(c.field, c.message) for c in causes], causes


def test_indexed_job_needs_completions_and_a_pod_hostname_that_fits() -> None:
    job = _job(completionMode="Indexed", completions=None, parallelism=1)
    job["spec"].pop("completions")
    messages = [(c.field, c.message) for c in batch.validate_job(job)]
    assert ("spec.completions", "Required value: when completion mode is Indexed") in messages
    long_name = "a" * 62
    job = _job(completionMode="Indexed", completions=10)
    job["metadata"]["name"] = long_name
    fields = [c.field for c in batch.validate_job(job)]
    assert "metadata.name" in fields


POD_FAILURE_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "action missing",
        {"onExitCodes": {"operator": "In", "values": [1]}},
        "spec.podFailurePolicy.rules[0].action",
        'Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
    ),
    (
        "action unknown",
        {"action": "Retry", "onExitCodes": {"operator": "In", "values": [1]}},
        "spec.podFailurePolicy.rules[0].action",
        'Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
    ),
    (
        "FailIndex without backoffLimitPerIndex",
        {"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}},
        "spec.podFailurePolicy.rules[0].action",
        'Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
    ),
    (
        "zero with In",
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [0, 1]}},
        "spec.podFailurePolicy.rules[0].onExitCodes.values[0]",
        "Invalid value: 0: must not be 0 for the In operator",
    ),
    (
        "unordered",
        {"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [2, 1]}},
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "Invalid value: [2, 1]: must be ordered",
    ),
    (
        "duplicate",
        {"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [1, 1]}},
        "spec.podFailurePolicy.rules[0].onExitCodes.values[1]",
        "Duplicate value: 1",
    ),
    (
        "no values",
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": []}},
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "Invalid value: []: at least one value is required",
    ),
    (
        "unknown container",
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": "x", "operator": "In", "values": [1]},
        },
        "spec.podFailurePolicy.rules[0].onExitCodes.containerName",
        'Invalid value: "x": must be one of the container or initContainer names in the pod template',
    ),
    (
        "neither requirement",
        {"action": "Ignore"},
        "spec.podFailurePolicy.rules[0]",
        "Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
    ),
    (
        "both requirements",
        {
            "action": "Ignore",
            "onExitCodes": {"operator": "In", "values": [1]},
            "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
        },
        "spec.podFailurePolicy.rules[0]",
        "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported",
    ),
    (
        "condition status unknown",
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "Maybe"}]},
        "spec.podFailurePolicy.rules[0].onPodConditions[0].status",
        'Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
    ),
]


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [c[1:] for c in POD_FAILURE_CASES],
    ids=[c[0] for c in POD_FAILURE_CASES],
)
def test_pod_failure_policy_validation(rule: dict[str, Any], path: str, message: str) -> None:
    job = _job(podFailurePolicy={"rules": [rule]})
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    causes = batch.validate_job(job)
    assert (path, message) in [(c.field, c.message) for c in causes], causes


def test_pod_failure_policy_needs_restart_policy_never() -> None:
    job = _job(
        podFailurePolicy={"rules": [{"action": "Ignore", "onPodConditions": [{"type": "X"}]}]}
    )
    causes = [(c.field, c.message) for c in batch.validate_job(job)]
    assert (
        "spec.template.spec.restartPolicy",
        'Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    ) in causes


def test_job_update_immutable_fields() -> None:
    old = _job()
    for key, value in (
        ("completions", 3),
        ("completionMode", "Indexed"),
        ("selector", {"matchLabels": {"a": "b"}}),
    ):
        new = copy.deepcopy(old)
        new["spec"][key] = value
        assert [c.field for c in batch.validate_job_update(new, old)] == [f"spec.{key}"]
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 4
    new["spec"]["suspend"] = True
    assert batch.validate_job_update(new, old) == []


def _cronjob(**spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {"spec": {"template": _template()}},
            **spec,
        },
    }
    cronjob.default_cronjob(obj)
    return obj


def test_cronjob_defaults_leave_the_job_template_alone() -> None:
    spec = _cronjob()["spec"]
    assert spec["concurrencyPolicy"] == "Allow"
    assert spec["suspend"] is False
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    assert spec["jobTemplate"]["spec"] == {"template": _template()}
    assert cronjob.validate_cronjob(_cronjob()) == []


CRONJOB_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("schedule missing", {"schedule": ""}, "spec.schedule", "Required value"),
    (
        "schedule out of range",
        {"schedule": "61 * * * *"},
        "spec.schedule",
        'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    ),
    (
        "schedule too few fields",
        {"schedule": "* * *"},
        "spec.schedule",
        'Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]',
    ),
    (
        "schedule unknown descriptor",
        {"schedule": "@sometimes"},
        "spec.schedule",
        'Invalid value: "@sometimes": unrecognized descriptor: @sometimes',
    ),
    (
        "TZ in schedule",
        {"schedule": "TZ=UTC 0 0 * * *"},
        "spec.schedule",
        'Invalid value: "TZ=UTC 0 0 * * *": cannot use TZ or CRON_TZ in schedule, use timeZone '
        "field instead",
    ),
    (
        "unknown time zone",
        {"timeZone": "Mars/Olympus"},
        "spec.timeZone",
        'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    ),
    (
        "Local time zone",
        {"timeZone": "Local"},
        "spec.timeZone",
        'Invalid value: "Local": timeZone must be an explicit time zone as defined in '
        "https://www.iana.org/time-zones",
    ),
    (
        "empty time zone",
        {"timeZone": ""},
        "spec.timeZone",
        'Invalid value: "": timeZone must be nil or non-empty string',
    ),
    (
        "concurrencyPolicy unknown",
        {"concurrencyPolicy": "Sometimes"},
        "spec.concurrencyPolicy",
        'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ),
    (
        "negative history",
        {"successfulJobsHistoryLimit": -1},
        "spec.successfulJobsHistoryLimit",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "negative starting deadline",
        {"startingDeadlineSeconds": -1},
        "spec.startingDeadlineSeconds",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "selector in template",
        {
            "jobTemplate": {
                "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": _template()}
            }
        },
        "spec.jobTemplate.spec.selector",
        'Invalid value: {"matchLabels": {"a": "b"}}: `selector` will be auto-generated',
    ),
    (
        "manualSelector in template",
        {"jobTemplate": {"spec": {"manualSelector": True, "template": _template()}}},
        "spec.jobTemplate.spec.manualSelector",
        'Unsupported value: true: supported values: "nil", "false"',
    ),
    (
        "template restartPolicy Always",
        {"jobTemplate": {"spec": {"template": _template("Always")}}},
        "spec.jobTemplate.spec.template.spec.restartPolicy",
        'Required value: valid values: "OnFailure", "Never"',
    ),
]


@pytest.mark.parametrize(
    ("spec", "path", "message"), [c[1:] for c in CRONJOB_CASES], ids=[c[0] for c in CRONJOB_CASES]
)
def test_cronjob_validation(spec: dict[str, Any], path: str, message: str) -> None:
    causes = cronjob.validate_cronjob(_cronjob(**spec))
    assert (path, message) in [(c.field, c.message) for c in causes], causes


def test_cronjob_name_limit_applies_on_create_only() -> None:
    obj = _cronjob()
    obj["metadata"]["name"] = "n" * 53
    assert [c.message for c in cronjob.validate_cronjob(obj)] == [
        f'Invalid value: "{"n" * 53}": must be no more than 52 characters'
    ]
    assert cronjob.validate_cronjob(obj, old=copy.deepcopy(obj)) == []


def test_cronjob_accepts_a_real_time_zone() -> None:
    assert cronjob.validate_cronjob(_cronjob(timeZone="Europe/Paris")) == []
    assert cronjob.validate_cronjob(_cronjob(timeZone="Etc/UTC")) == []


VALID_SCHEDULES = [
    "* * * * *",
    "*/15 * * * *",
    "0 0 1 1 *",
    "0 9-17 * * mon-fri",
    "5,10,15 0 * JAN,jul *",
    "0 0 * * SUN",
    "? * * * *",
    "1-59/2 * * * *",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "@every 1h30m",
]


@pytest.mark.parametrize("spec", VALID_SCHEDULES)
def test_valid_schedules(spec: str) -> None:
    assert schedule_error(spec) is None


INVALID_SCHEDULES = [
    ("", "empty spec string"),
    ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
    ("0 24 * * *", "end of range (24) above maximum (23): 24"),
    ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("0 0 * 13 *", "end of range (13) above maximum (12): 13"),
    ("0 0 * * 7", "end of range (7) above maximum (6): 7"),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("1/2/3 * * * *", "too many slashes: 1/2/3"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("@every soon", 'failed to parse duration @every soon: time: invalid duration "soon"'),
]


@pytest.mark.parametrize(
    ("spec", "error"), INVALID_SCHEDULES, ids=[c[0] or "empty" for c in INVALID_SCHEDULES]
)
def test_invalid_schedules(spec: str, error: str) -> None:
    assert schedule_error(spec) == error


def test_parsed_schedule_fields() -> None:
    schedule = parse_schedule("*/20 9-10 * jan,FEB mon-fri")
    assert schedule.minutes == {0, 20, 40}
    assert schedule.hours == {9, 10}
    assert schedule.months == {1, 2}
    assert schedule.days_of_week == {1, 2, 3, 4, 5}
    assert parse_schedule("@every 90s").every_seconds == 90.0


SUCCESS_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "not indexed",
        {"successPolicy": {"rules": [{"succeededCount": 1}]}},
        "spec.successPolicy",
        'Invalid value: {"rules": [{"succeededCount": 1}]}: requires indexed completion mode',
    ),
    (
        "no rules",
        {"completionMode": "Indexed", "completions": 5, "successPolicy": {"rules": []}},
        "spec.successPolicy.rules",
        "Required value: at least one rules must be specified when the successPolicy is specified",
    ),
    (
        "empty rule",
        {"completionMode": "Indexed", "completions": 5, "successPolicy": {"rules": [{}]}},
        "spec.successPolicy.rules[0]",
        "Required value: at least one of succeededCount or succeededIndexes must be specified",
    ),
    (
        "index too large",
        {
            "completionMode": "Indexed",
            "completions": 5,
            "successPolicy": {"rules": [{"succeededIndexes": "0,2-5"}]},
        },
        "spec.successPolicy.rules[0].succeededIndexes",
        'Invalid value: "0,2-5": error parsing succeededIndexes: too large index: "5"',
    ),
    (
        "indexes out of order",
        {
            "completionMode": "Indexed",
            "completions": 5,
            "successPolicy": {"rules": [{"succeededIndexes": "3,1"}]},
        },
        "spec.successPolicy.rules[0].succeededIndexes",
        'Invalid value: "3,1": error parsing succeededIndexes: non-increasing order, previous: 3, '
        "current: 1",
    ),
    (
        "count above completions",
        {
            "completionMode": "Indexed",
            "completions": 5,
            "successPolicy": {"rules": [{"succeededCount": 6}]},
        },
        "spec.successPolicy.rules[0].succeededCount",
        "Invalid value: 6: must be less than or equal to 5 (the number of specified completions)",
    ),
    (
        "count above indexes",
        {
            "completionMode": "Indexed",
            "completions": 5,
            "successPolicy": {"rules": [{"succeededIndexes": "0-1", "succeededCount": 3}]},
        },
        "spec.successPolicy.rules[0].succeededCount",
        "Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified "
        "succeededIndexes field)",
    ),
    (
        "managedBy not a path",
        {"managedBy": "queue"},
        "spec.managedBy",
        'Invalid value: "queue": must be a domain-prefixed path (such as "acme.io/foo")',
    ),
    (
        "managedBy too long",
        {"managedBy": "example.com/" + "q" * 60},
        "spec.managedBy",
        "Too long: may not be more than 63 bytes",
    ),
]


@pytest.mark.parametrize(
    ("spec", "path", "message"), [c[1:] for c in SUCCESS_CASES], ids=[c[0] for c in SUCCESS_CASES]
)
def test_success_policy_and_managed_by(spec: dict[str, Any], path: str, message: str) -> None:
    causes = batch.validate_job(_job(**spec))
    assert (path, message) in [(c.field, c.message) for c in causes], causes


def test_valid_success_policy_and_managed_by() -> None:
    job = _job(
        completionMode="Indexed",
        completions=5,
        managedBy="kueue.x-k8s.io/manager",
        successPolicy={"rules": [{"succeededIndexes": "0,2-4", "succeededCount": 3}]},
    )
    assert batch.validate_job(job) == []


def test_job_field_label_status_successful() -> None:
    from kubeward.api.resources.batch import JOBS, JobStrategy

    strategy = JobStrategy(JOBS)
    job = _job()
    job["status"] = {"succeeded": 2}
    assert strategy.field_set(job)["status.successful"] == "2"
    assert strategy.field_set(_job())["status.successful"] == "0"
    strategy.check_field_selector_labels(["status.successful", "metadata.name"])
