"""The horizontal pod autoscaler: sets a workload's replica count from its pods' resource
usage (kube-controller-manager's ``horizontalpodautoscaling``, ``pkg/controller/podautoscaler``).

Rules:

 1. Each HorizontalPodAutoscaler (autoscaling/v2) is looked at when it appears or its spec
    changes, and then every sync period (``--horizontal-pod-autoscaler-sync-period``, 15 s).
    Its own status writes do not bring it back early.
 2. The target is read and scaled through its ``scale`` subresource (any kind that serves one,
    found by discovery). A target that cannot be read sets ``AbleToScale`` False
    ``FailedGetScale``; else it is True ``SucceededGetScale``.
 3. A target at 0 replicas (with ``minReplicas`` above 0) is not autoscaled: ``ScalingActive``
    False ``ScalingDisabled``. Above ``maxReplicas`` or below ``minReplicas`` it is brought
    within them without reading metrics.
 4. Otherwise each metric proposes a count (``podautoscaler_replicas``): ``Resource`` and
    ``ContainerResource`` metrics from ``metrics.k8s.io`` (``podautoscaler_metrics``), over the
    pods the target's scale selector picks (no selector, or pods another HPA's last selector
    also picks, sets ``ScalingActive`` False ``InvalidSelector`` / ``AmbiguousSelector``). The
    highest proposal wins. A metric that fails sets ``ScalingActive`` False with its reason
    (``FailedGetResourceMetric`` …) and a Warning event; when every metric failed, or some did
    and the rest would scale down, nothing is scaled (event ``FailedComputeMetricsReplicas``).
    Else ``ScalingActive`` is True ``ValidMetricFound``. Pods, Object and External metrics need
    a custom or external metrics API, which kubeward does not serve: they fail.
 5. The proposal is normalized (``podautoscaler_scaling``): stabilization, scale rates, bounds,
    setting ``AbleToScale`` and ``ScalingLimited``. A different count is written to the
    target's scale (``SuccessfulRescale`` ``New size: N; reason: …``; a failed write is
    ``FailedRescale`` and ``AbleToScale`` False ``FailedUpdateScale``) and ``lastScaleTime``
    is set.
 6. Status: ``currentReplicas``, ``desiredReplicas``, ``currentMetrics``, ``lastScaleTime`` and
    the conditions (a condition's ``lastTransitionTime`` moves only when its status does); it
    is written only when it changed.
 7. Time comes from ``clock`` (``controllers.clock``), so tests move it instead of waiting out
    windows; a moved fake clock makes every HPA be looked at again at once.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import logging
from dataclasses import dataclass, field
from fractions import Fraction

from kubeward.api import meta as m
from kubeward.api.quantity import format_quantity, milli_value, quantity_or_zero
from kubeward.api.resources.autoscaling import HORIZONTAL_POD_AUTOSCALERS
from kubeward.api.selectors import LabelSelector, parse_label_selector
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.clock import Clock, RealClock, on_loop
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.informer import Informer
from kubeward.controllers.podautoscaler_metrics import ResourceMetricsClient
from kubeward.controllers.podautoscaler_replicas import (
    CalculatorConfig,
    PodMetric,
    Proposal,
    average_value_replicas,
    resource_replicas,
)
from kubeward.controllers.podautoscaler_scaling import Normalized, ScalingHistory
from kubeward.controllers.scales import ScaleReader
from kubeward.errors import BadRequest, KubewardError, MetricUnavailable, NotFound, StatusError

log = logging.getLogger("kubeward.controllers")

HPA = HORIZONTAL_POD_AUTOSCALERS
ABLE_TO_SCALE = "AbleToScale"
SCALING_ACTIVE = "ScalingActive"
SCALING_LIMITED = "ScalingLimited"
_FAILED_REASON = {
    "Resource": "FailedGetResourceMetric",
    "ContainerResource": "FailedGetContainerResourceMetric",
    "Pods": "FailedGetPodsMetric",
    "Object": "FailedGetObjectMetric",
    "External": "FailedGetExternalMetric",
}


@dataclass(frozen=True)
class AutoscalerConfig:
    """kube-controller-manager's ``--horizontal-pod-autoscaler-*`` flags."""

    sync_period: datetime.timedelta = datetime.timedelta(seconds=15)
    downscale_stabilization: datetime.timedelta = datetime.timedelta(minutes=5)
    calculator: CalculatorConfig = field(default_factory=CalculatorConfig)


def set_condition(
    status: m.JSONObject, kind: str, value: str, reason: str, message: str, now: datetime.datetime
) -> None:
    """Rule 6 (``setCondition``): add or change one condition in place."""
    conditions = status.setdefault("conditions", [])
    for cond in conditions:
        if cond.get("type") == kind:
            break
    else:
        cond = {"type": kind}
        conditions.append(cond)
    if cond.get("status") != value:
        cond["lastTransitionTime"] = m.format_time(now)
    cond.update(status=value, reason=reason, message=message)


def _milli(value: int) -> str:
    return format_quantity(Fraction(value, 1000))


@dataclass
class _Pass:
    """One reconcile's working state of an HPA."""

    hpa: m.JSONObject
    key: str
    now: datetime.datetime

    @property
    def status(self) -> m.JSONObject:
        status: m.JSONObject = self.hpa.setdefault("status", {})
        return status

    @property
    def spec(self) -> m.JSONObject:
        return self.hpa.get("spec") or {}

    def condition(self, kind: str, value: str, reason: str, message: str) -> None:
        set_condition(self.status, kind, value, reason, message, self.now)


@dataclass
class _MetricsOutcome:
    replicas: int = 0
    metric: str = ""
    statuses: list[m.JSONObject] = field(default_factory=list)
    error: str | None = None
    failed: bool = False


class HorizontalController(Controller):
    name = "horizontalpodautoscaling"

    def __init__(
        self,
        autoscalers: Informer,
        pods: Informer,
        client: APIClient,
        *,
        config: AutoscalerConfig | None = None,
        clock: Clock | None = None,
        metrics: ResourceMetricsClient | None = None,
        scales: ScaleReader | None = None,
        workers: int = 5,
    ) -> None:
        self._generations: dict[str, object] = {}  # rule 1; read as the informer replays
        self._selectors: dict[str, LabelSelector] = {}  # rule 4: each HPA's last selector
        super().__init__(autoscalers, workers=workers)
        self.pods = pods
        self.client = client
        self.config = config or AutoscalerConfig()
        self.clock: Clock = clock or RealClock()
        self.metrics = metrics or ResourceMetricsClient(client)
        self.scales = scales or ScaleReader(client)
        self.history = ScalingHistory(self.config.downscale_stabilization)
        self.events = EventRecorder(client, "horizontal-pod-autoscaler")
        self.depends_on(pods)

    async def run(self) -> None:
        self.clock.subscribe(on_loop(asyncio.get_running_loop(), self._requeue_all))
        await super().run()

    def _requeue_all(self) -> None:
        """Rule 7."""
        for key in list(self.informer.cache):
            self.queue.add(key)

    # --- rule 1 ---------------------------------------------------------------------------
    def _enqueue(self, key: str, obj: m.JSONObject | None) -> None:
        if obj is not None:
            generation = m.metadata(obj).get("generation")
            if key in self._generations and self._generations[key] == generation:
                return  # a status write (ours) or a resync: the sync period covers it
            self._generations[key] = generation
        else:
            self._generations.pop(key, None)
        self.queue.add(key)

    async def reconcile(self, key: str) -> float | None:
        cached = self.cached(key)
        if cached is None:
            self.history.forget(key)
            self._selectors.pop(key, None)
            return None
        try:
            await self.reconcile_autoscaler(key, cached)
        except (KubewardError, OSError) as exc:
            log.warning("%s: %s: %s", self.name, key, exc)
        return self.config.sync_period.total_seconds()

    # --- rules 2-6 ------------------------------------------------------------------------
    async def reconcile_autoscaler(self, key: str, cached: m.JSONObject) -> None:
        run = _Pass(copy.deepcopy(cached), key, self.clock.now())
        original = copy.deepcopy(cached.get("status") or {})
        hpa, spec = run.hpa, run.spec
        target = spec.get("scaleTargetRef") or {}
        namespace = m.namespace_of(hpa)
        reference = f"{target.get('kind')}/{namespace}/{target.get('name')}"
        try:
            path, scale = await self._get_scale(target, namespace)
        except (KubewardError, OSError) as exc:
            self.events.event(hpa, HPA, WARNING, "FailedGetScale", str(exc))
            run.condition(
                ABLE_TO_SCALE,
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {exc}",
            )
            await self._write_status(run, original)
            log.info("%s: failed to query scale subresource for %s: %s", key, reference, exc)
            return
        run.condition(
            ABLE_TO_SCALE,
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        )
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        self.history.record_initial(key, current, run.now)
        min_replicas = spec.get("minReplicas")
        minimum = 1 if min_replicas is None else int(min_replicas)
        maximum = int(spec.get("maxReplicas") or 0)
        statuses: list[m.JSONObject] = []
        desired, reason, rescale = 0, "", True
        if current == 0 and minimum != 0:
            rescale = False
            run.condition(
                SCALING_ACTIVE,
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif current > maximum:
            desired, reason = maximum, "Current number of replicas above Spec.MaxReplicas"
        elif current < minimum:
            desired, reason = minimum, "Current number of replicas below Spec.MinReplicas"
        else:
            outcome = await self._compute_metrics(run, scale)
            statuses = outcome.statuses
            if outcome.failed:
                self._set_status(
                    run, current, int(run.status.get("desiredReplicas") or 0), statuses
                )
                await self._write_status(run, original)
                self.events.event(
                    hpa, HPA, WARNING, "FailedComputeMetricsReplicas", outcome.error or ""
                )
                return
            desired = max(outcome.replicas, 0)
            if desired > current:
                reason = f"{outcome.metric} above target"
            if desired < current:
                reason = "All metrics below target"
            normalized = self._normalize(run, current, desired, minimum, maximum)
            desired = normalized.replicas
            rescale = desired != current
        if rescale:
            try:
                await self._set_scale(path, scale, desired)
            except (KubewardError, OSError) as exc:
                self.events.event(
                    hpa,
                    HPA,
                    WARNING,
                    "FailedRescale",
                    f"New size: {desired}; reason: {reason}; error: {exc}",
                )
                run.condition(
                    ABLE_TO_SCALE,
                    "False",
                    "FailedUpdateScale",
                    f"the HPA controller was unable to update the target scale: {exc}",
                )
                self._set_status(
                    run, current, int(run.status.get("desiredReplicas") or 0), statuses
                )
                await self._write_status(run, original)
                return
            run.condition(
                ABLE_TO_SCALE,
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
            )
            self.events.event(
                hpa, HPA, NORMAL, "SuccessfulRescale", f"New size: {desired}; reason: {reason}"
            )
            self.history.record_scale(key, spec.get("behavior"), current, desired, run.now)
            log.info("%s: rescaled %s from %d to %d: %s", key, reference, current, desired, reason)
        else:
            desired = current
        self._set_status(run, current, desired, statuses, rescaled=rescale)
        await self._write_status(run, original)

    def _normalize(
        self, run: _Pass, current: int, proposed: int, minimum: int, maximum: int
    ) -> Normalized:
        behavior = run.spec.get("behavior")
        if isinstance(behavior, dict):
            normalized = self.history.normalize_with_behavior(
                run.key, behavior, current, proposed, minimum, maximum, run.now
            )
        else:
            normalized = self.history.normalize(
                run.key, current, proposed, minimum, maximum, run.now
            )
        able, limited = normalized.able, normalized.limited
        run.condition(ABLE_TO_SCALE, able.status, able.reason, able.message)
        run.condition(SCALING_LIMITED, limited.status, limited.reason, limited.message)
        return normalized

    # --- the target's scale (rule 2) ------------------------------------------------------
    async def _get_scale(self, target: m.JSONObject, namespace: str) -> tuple[str, m.JSONObject]:
        api_version, kind = str(target.get("apiVersion") or ""), str(target.get("kind") or "")
        rt = await self.scales.mapping(api_version, kind)
        if rt is None:
            group = api_version.rpartition("/")[0]
            raise MetricUnavailable(f'no matches for kind "{kind}" in group "{group}"')
        path = self.client.path(rt, namespace, str(target.get("name") or ""), "scale")
        scale: m.JSONObject = await self.client.request("GET", path)
        return path, scale

    async def _set_scale(self, path: str, scale: m.JSONObject, replicas: int) -> None:
        body = copy.deepcopy(scale)
        body.setdefault("spec", {})["replicas"] = replicas
        await self.client.request("PUT", path, body=body)

    # --- metrics (rule 4) -----------------------------------------------------------------
    def _parse_selector(self, run: _Pass, scale: m.JSONObject) -> LabelSelector:
        text = str((scale.get("status") or {}).get("selector") or "")
        if not text:
            self.events.event(run.hpa, HPA, WARNING, "SelectorRequired", "selector is required")
            run.condition(
                SCALING_ACTIVE,
                "False",
                "InvalidSelector",
                "the HPA target's scale is missing a selector",
            )
            raise MetricUnavailable("selector is required")
        try:
            return parse_label_selector(text)
        except BadRequest as exc:
            message = (
                "couldn't convert selector into a corresponding internal selector object:"
                f" {exc.message}"
            )
            self.events.event(run.hpa, HPA, WARNING, "InvalidSelector", message)
            run.condition(SCALING_ACTIVE, "False", "InvalidSelector", message)
            raise MetricUnavailable(message) from exc

    def _selected_pods(
        self, run: _Pass, scale: m.JSONObject
    ) -> tuple[LabelSelector, list[m.JSONObject]]:
        """Rule 4's selector and the pods it picks (``validateAndParseSelector``).

        Raises:
            MetricUnavailable: no selector, one that does not parse, or pods that another
                HPA's selector also picks (``AmbiguousSelector``).
        """
        selector = self._parse_selector(run, scale)
        namespace = m.namespace_of(run.hpa)
        self._selectors[run.key] = selector
        pods = [
            p
            for p in self.pods.in_namespace(namespace)
            if selector.matches(m.metadata(p).get("labels") or {})
        ]
        label_sets = [m.metadata(p).get("labels") or {} for p in pods]
        sharing = sorted(
            key
            for key, other in self._selectors.items()
            if key.partition("/")[0] == namespace and any(other.matches(ls) for ls in label_sets)
        )
        if len(sharing) > 1:
            text = str((scale.get("status") or {}).get("selector") or "")
            message = (
                f"pods by selector {text} are controlled by multiple HPAs: [{' '.join(sharing)}]"
            )
            self.events.event(run.hpa, HPA, WARNING, "AmbiguousSelector", message)
            run.condition(SCALING_ACTIVE, "False", "AmbiguousSelector", message)
            raise MetricUnavailable(message)
        return selector, pods

    async def _compute_metrics(self, run: _Pass, scale: m.JSONObject) -> _MetricsOutcome:
        """Rule 4 (``computeReplicasForMetrics``)."""
        try:
            selector, pods = self._selected_pods(run, scale)
        except MetricUnavailable as exc:
            return _MetricsOutcome(error=str(exc), failed=True)
        spec_replicas = int((scale.get("spec") or {}).get("replicas") or 0)
        specs = list(run.spec.get("metrics") or [])
        outcome = _MetricsOutcome(statuses=[{"type": ""} for _ in specs])
        invalid, first_error, first_condition = 0, "", ("", "")
        for i, metric in enumerate(specs):
            kind = str(metric.get("type") or "")
            try:
                proposal, name, status = await self._metric(
                    run, metric, spec_replicas, selector, pods
                )
            except MetricUnavailable as exc:
                if invalid == 0:
                    first_error = str(exc)
                    reason = _FAILED_REASON.get(kind, "InvalidMetricSourceType")
                    first_condition = (
                        reason,
                        f"the HPA was unable to compute the replica count: {exc.__cause__ or exc}",
                    )
                invalid += 1
                continue
            outcome.statuses[i] = status
            if outcome.replicas == 0 or proposal.replicas > outcome.replicas:
                outcome.replicas, outcome.metric = proposal.replicas, name
        if invalid:
            outcome.error = (
                f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is:"
                f" {first_error}"
            )
        if invalid >= len(specs) or (invalid and outcome.replicas < spec_replicas):
            run.condition(SCALING_ACTIVE, "False", *first_condition)
            outcome.failed = True
            return outcome
        run.condition(
            SCALING_ACTIVE,
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {outcome.metric}",
        )
        return outcome

    async def _metric(
        self,
        run: _Pass,
        metric: m.JSONObject,
        current: int,
        selector: LabelSelector,
        pods: list[m.JSONObject],
    ) -> tuple[Proposal, str, m.JSONObject]:
        """One metric's proposal, its name for messages and its status.

        Raises:
            MetricUnavailable: with upstream's wrapped message; ``__cause__`` is the inner
                error the condition and the Warning event name.
        """
        kind = str(metric.get("type") or "")
        if kind not in ("Resource", "ContainerResource"):
            source = metric.get(kind[:1].lower() + kind[1:]) or {}
            name = str((source.get("metric") or {}).get("name") or "")
            inner = MetricUnavailable(
                f"unable to get metric {name}: no {'external' if kind == 'External' else 'custom'}"
                " metrics API is served"
            )
            self.events.event(run.hpa, HPA, WARNING, _FAILED_REASON.get(kind, kind), str(inner))
            raise MetricUnavailable(
                f"failed to get {kind.lower()} metric value: {inner}"
            ) from inner
        key = "resource" if kind == "Resource" else "containerResource"
        source = metric.get(key) or {}
        resource = str(source.get("name") or "")
        container = str(source.get("container") or "") if kind == "ContainerResource" else ""
        target = source.get("target") or {}
        try:
            proposal, name, current_status = await self._resource_metric(
                run, resource, container, target, current, selector, pods
            )
        except MetricUnavailable as inner:
            self.events.event(run.hpa, HPA, WARNING, _FAILED_REASON[kind], str(inner))
            what = f"{resource} resource" if kind == "Resource" else f"{container} container"
            raise MetricUnavailable(f"failed to get {what} metric value: {inner}") from inner
        status: m.JSONObject = {"type": kind, key: {"name": resource, "current": current_status}}
        if container:
            status[key]["container"] = container
        if kind == "ContainerResource" and proposal.utilization is not None:
            name = f"{resource} container resource utilization (percentage of request)"
        return proposal, name, status

    async def _resource_metric(
        self,
        run: _Pass,
        resource: str,
        container: str,
        target: m.JSONObject,
        current: int,
        selector: LabelSelector,
        pods: list[m.JSONObject],
    ) -> tuple[Proposal, str, m.JSONObject]:
        namespace = m.namespace_of(run.hpa)
        names = [m.name_of(p) for p in pods]
        calculator = self.config.calculator
        average_value = target.get("averageValue")
        if average_value is not None:
            wanted = milli_value(quantity_or_zero(average_value))
            try:
                metrics = await self._read(resource, namespace, selector, names, container)
                proposal = average_value_replicas(
                    current, wanted, resource, pods, metrics, calculator, run.now
                )
            except MetricUnavailable as exc:
                raise MetricUnavailable(f"failed to get {resource} usage: {exc}") from exc
            return proposal, f"{resource} resource", {"averageValue": _milli(proposal.average)}
        utilization = target.get("averageUtilization")
        if utilization is None:
            raise MetricUnavailable(
                "invalid resource metric source: neither an average utilization target nor an"
                " average value (usage) target was set"
            )
        try:
            metrics = await self._read(resource, namespace, selector, names, container)
            proposal = resource_replicas(
                current, int(utilization), resource, pods, metrics, calculator, run.now, container
            )
        except MetricUnavailable as exc:
            raise MetricUnavailable(f"failed to get {resource} utilization: {exc}") from exc
        status = {
            "averageUtilization": proposal.utilization,
            "averageValue": _milli(proposal.average),
        }
        return proposal, f"{resource} resource utilization (percentage of request)", status

    async def _read(
        self,
        resource: str,
        namespace: str,
        selector: LabelSelector,
        names: list[str],
        container: str,
    ) -> dict[str, PodMetric]:
        try:
            return await self.metrics.pod_metrics(resource, namespace, selector, names, container)
        except MetricUnavailable as exc:
            raise MetricUnavailable(
                f"unable to get metrics for resource {resource}: {exc}"
            ) from exc

    # --- status (rule 6) ------------------------------------------------------------------
    def _set_status(
        self,
        run: _Pass,
        current: int,
        desired: int,
        statuses: list[m.JSONObject],
        *,
        rescaled: bool = False,
    ) -> None:
        old = run.status
        status: m.JSONObject = {}
        if current:
            status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        last = m.format_time(run.now) if rescaled else old.get("lastScaleTime")
        if last:
            status["lastScaleTime"] = last
        if statuses:
            status["currentMetrics"] = statuses
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        run.hpa["status"] = status

    async def _write_status(self, run: _Pass, original: m.JSONObject) -> None:
        if run.status == original:
            return
        try:
            await self.client.update(
                HPA, run.hpa, namespace=m.namespace_of(run.hpa), subresource="status"
            )
        except NotFound:
            return
        except StatusError as exc:
            self.events.event(run.hpa, HPA, WARNING, "FailedUpdateStatus", str(exc))
            raise
