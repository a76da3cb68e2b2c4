"""``kubeward netpol``: evaluate, tabulate, explain, diff and lint NetworkPolicies.

Every command reads Namespaces, Pods and NetworkPolicies from ``-f PATH`` (files or folders,
repeatable or comma-separated as with kubectl) or from the live cluster of ``--kubeconfig``,
whose running pods carry the IPs their nodes gave them (``status.podIP``), so ``ipBlock`` rules
are judged against real addresses. Rules:

 1. Output is computed whole before anything is printed: bad input prints one ``error:`` line
    and nothing else.
 2. ``--from``/``--to`` take ``NAMESPACE/POD`` or an IP address; an IP that belongs to a pod
    stands for that pod, any other IP is outside the cluster. A verdict's first line names each
    pod with its IP.
 3. A named ``--port`` is resolved on the destination pod's container ports, as a named port in
    a policy is.
 4. ``check`` exits 0 when the connection is allowed and 1 when it is denied, as
    ``kubectl auth can-i`` does, so that a script can test it; ``lint`` exits 1 when it has
    findings, so that it can gate a pipeline. Usage errors exit 2 (click's).
 5. ``diff --kubeconfig K --after FILE`` compares the live cluster (before) with the live
    cluster and FILE's objects laid over it (after): a policy in FILE replaces the live one of
    the same namespace and name, or is added. ``diff --before … --after …`` compares two
    complete sets of files.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from kubeward.api.resources.core import NAMESPACES, PODS
from kubeward.api.resources.networking import NETWORK_POLICIES
from kubeward.cli.runtime import run_async
from kubeward.client.api import APIClient
from kubeward.errors import InputError, StatusError
from kubeward.netpol.diff import diff_inventories
from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.explain import explain_pod
from kubeward.netpol.lint import lint as lint_policies
from kubeward.netpol.load import load_inventory_from_files, read_documents
from kubeward.netpol.matrix import Probe, build_truth_table, parse_port
from kubeward.netpol.model import PROTOCOLS, Endpoint, ExternalEndpoint, Inventory, Pod
from kubeward.netpol.objects import Document, inventory_from_documents, overlay_documents
from kubeward.netpol.render import (
    to_json,
    truth_table_json,
    truth_table_text,
    verdict_json,
    verdict_text,
)
from kubeward.netpol.render_html import truth_table_html

F = TypeVar("F", bound=Callable[..., Any])


def split_paths(values: Iterable[str]) -> list[str]:
    """``-f a.yaml,b.yaml -f dir`` → ``[a.yaml, b.yaml, dir]``, as kubectl reads ``-f``."""
    return [part for value in values for part in value.split(",") if part]


_LIVE_TYPES = (NAMESPACES, PODS, NETWORK_POLICIES)


def load_live_inventory(kubeconfig: str) -> Inventory:
    """The live cluster's Namespaces, Pods and NetworkPolicies, read with the kubeconfig's identity."""
    return inventory_from_documents(read_live_documents(kubeconfig))


def read_live_documents(kubeconfig: str) -> list[Document]:
    """The live cluster's Namespaces, Pods and NetworkPolicies as documents naming the server."""
    return run_async(_read_live(kubeconfig))


async def _read_live(kubeconfig: str) -> list[Document]:
    objects: list[dict[str, Any]] = []
    try:
        async with APIClient.from_kubeconfig(kubeconfig, user_agent="kubeward-netpol") as client:
            for rt in _LIVE_TYPES:
                listed = await client.list(rt)
                objects.extend(
                    {"apiVersion": rt.api_version, "kind": rt.kind, **item}
                    for item in listed.get("items") or []
                )
            server = client.credentials.server
    except StatusError as exc:
        raise InputError(f"--kubeconfig {kubeconfig}: {exc.message}") from exc
    return [Document(obj, f"cluster {server}") for obj in objects]


def read_inventory(paths: Iterable[str], recursive: bool, kubeconfig: str | None) -> Inventory:
    files = split_paths(paths)
    if kubeconfig and files:
        raise InputError("give either -f PATH or --kubeconfig, not both")
    if kubeconfig:
        return load_live_inventory(kubeconfig)
    if not files:
        raise InputError("no input: give -f PATH (files or folders of manifests) or --kubeconfig")
    return load_inventory_from_files(files, recursive=recursive)


def input_options(command: F) -> F:
    """``-f``, ``-R``, ``--kubeconfig`` and the ipBlock choice, shared by every command."""
    options = [
        click.option(
            "-f",
            "--filename",
            "filenames",
            multiple=True,
            metavar="PATH",
            help="File or folder of YAML/JSON manifests (repeat, or separate with commas).",
        ),
        click.option(
            "-R", "--recursive", is_flag=True, help="Read folders given with -f recursively."
        ),
        click.option(
            "--kubeconfig",
            metavar="PATH",
            help="Read the objects from the live cluster of this kubeconfig instead.",
        ),
        _ipblock_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


_ipblock_option = click.option(
    "--ipblock-matches-pods/--no-ipblock-matches-pods",
    default=True,
    show_default=True,
    help="Whether ipBlock peers also match pod IPs (Calico, iptables plugins) or only "
    "addresses outside the cluster (Cilium).",
)

_output = click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def _emit(text: str) -> None:
    click.echo(text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def netpol() -> None:
    """Evaluate, tabulate, lint and diff NetworkPolicies."""


# --- check -----------------------------------------------------------------------------------


def resolve_endpoint(inventory: Inventory, text: str, flag: str) -> Endpoint:
    """Rule 2."""
    if "/" in text:
        pod = inventory.pods_by_key.get(text)
        if pod is None:
            raise InputError(f'{flag} {text}: pod "{text}" not found in the input')
        return pod
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise InputError(f"{flag} {text}: want NAMESPACE/POD or an IP address") from None
    owners = inventory.pods_by_ip.get(ip, ())
    if len(owners) > 1:
        names = ", ".join(p.key for p in owners)
        raise InputError(f"{flag} {text}: several pods have this IP ({names}); name one")
    return owners[0] if owners else ExternalEndpoint(ip)


def resolve_check_port(destination: Endpoint, text: str, protocol: str | None) -> tuple[int, str]:
    """Rule 3: the number and protocol a ``--port`` means on ``destination``."""
    port = parse_port(text, f"--port {text}")
    if isinstance(port, int):
        return port, protocol or "TCP"
    if not isinstance(destination, Pod):
        raise InputError(f"--port {text}: a named port needs a pod as --to, not an IP address")
    found = destination.named_port(port, protocol)
    if found is None:
        which = f"{protocol} " if protocol else ""
        raise InputError(f"--port {text}: pod {destination.key} has no {which}port named {port}")
    return found.number, found.protocol


@netpol.command()
@input_options
@click.option("--from", "source", required=True, metavar="NS/POD|IP", help="Who connects.")
@click.option("--to", "destination", required=True, metavar="NS/POD|IP", help="Who is reached.")
@click.option("--port", required=True, metavar="N|NAME", help="Destination port, or its name.")
@click.option(
    "--protocol",
    type=click.Choice(PROTOCOLS, case_sensitive=False),
    help="TCP unless the named port says otherwise.",
)
@_output
def check(
    filenames: tuple[str, ...],
    recursive: bool,
    kubeconfig: str | None,
    ipblock_matches_pods: bool,
    source: str,
    destination: str,
    port: str,
    protocol: str | None,
    output: str,
) -> None:
    """Whether one connection is allowed, and which policies and rules decided.

    Exits 0 when it is allowed, 1 when it is denied.
    """
    inventory = read_inventory(filenames, recursive, kubeconfig)
    src = resolve_endpoint(inventory, source, "--from")
    dst = resolve_endpoint(inventory, destination, "--to")
    if isinstance(src, ExternalEndpoint) and isinstance(dst, ExternalEndpoint):
        raise InputError(
            f"--from {source} --to {destination}: both are outside the cluster; "
            "NetworkPolicies do not apply"
        )
    number, proto = resolve_check_port(dst, port, protocol.upper() if protocol else None)
    evaluator = Evaluator(inventory, ip_block_matches_pods=ipblock_matches_pods)
    verdict = evaluator.check(src, dst, number, proto)
    _emit(verdict_json(verdict) if output == "json" else verdict_text(verdict))
    sys.exit(0 if verdict.allowed else 1)


# --- matrix ----------------------------------------------------------------------------------


@netpol.command()
@input_options
@click.option(
    "--port",
    "ports",
    multiple=True,
    metavar="PORT/PROTOCOL",
    help="A probe, e.g. 80/TCP, 53/UDP or http/TCP (repeatable; default 80/TCP).",
)
@click.option("-n", "--namespace", "namespaces", multiple=True, help="Show only these namespaces.")
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
def matrix(
    filenames: tuple[str, ...],
    recursive: bool,
    kubeconfig: str | None,
    ipblock_matches_pods: bool,
    ports: tuple[str, ...],
    namespaces: tuple[str, ...],
    output: str,
) -> None:
    """The truth table of every pod to every pod, one per probed port."""
    probes = [Probe.parse(p) for p in ports] or [Probe(80)]
    inventory = read_inventory(filenames, recursive, kubeconfig)
    evaluator = Evaluator(inventory, ip_block_matches_pods=ipblock_matches_pods)
    table = build_truth_table(evaluator, probes, namespaces)
    if output == "json":
        _emit(truth_table_json(table))
    elif output == "html":
        _emit(truth_table_html(evaluator, table))
    else:
        _emit(truth_table_text(table))


# --- explain ---------------------------------------------------------------------------------


@netpol.command()
@input_options
@click.option("--pod", required=True, metavar="NS/NAME", help="The pod to explain.")
@_output
def explain(
    filenames: tuple[str, ...],
    recursive: bool,
    kubeconfig: str | None,
    ipblock_matches_pods: bool,
    pod: str,
    output: str,
) -> None:
    """Which policies select a pod for ingress and egress, and what each lets in or out."""
    inventory = read_inventory(filenames, recursive, kubeconfig)
    found = inventory.pods_by_key.get(pod)
    if found is None:
        raise InputError(f'--pod {pod}: pod "{pod}" not found in the input (want NAMESPACE/NAME)')
    evaluator = Evaluator(inventory, ip_block_matches_pods=ipblock_matches_pods)
    explained = explain_pod(evaluator, found)
    _emit(to_json(explained.to_dict()) if output == "json" else explained.to_text())


# --- diff ------------------------------------------------------------------------------------


@netpol.command()
@click.option(
    "--before", multiple=True, metavar="PATH", help="Manifests before the change (repeatable)."
)
@click.option(
    "--after",
    multiple=True,
    required=True,
    metavar="PATH",
    help="Manifests after the change (repeatable).",
)
@click.option("-R", "--recursive", is_flag=True, help="Read folders recursively.")
@click.option(
    "--kubeconfig",
    metavar="PATH",
    help="Take the live cluster as the before state, and it with --after laid over as the after.",
)
@_ipblock_option
@click.option(
    "--port", "ports", multiple=True, metavar="PORT/PROTOCOL", help="Also compare these ports."
)
@_output
def diff(
    before: tuple[str, ...],
    after: tuple[str, ...],
    recursive: bool,
    kubeconfig: str | None,
    ipblock_matches_pods: bool,
    ports: tuple[str, ...],
    output: str,
) -> None:
    """The flows a policy change opens and closes, over all pod pairs and the ports in play."""
    extra = [Probe.parse(p) for p in ports]
    for probe in extra:
        if not isinstance(probe.port, int):
            raise InputError(f"--port {probe}: diff compares port numbers; give a number")
    if bool(split_paths(before)) == bool(kubeconfig):
        raise InputError("give the state before the change: --before PATH or --kubeconfig")
    changed = read_documents(split_paths(after), recursive=recursive)
    if kubeconfig:
        live = read_live_documents(kubeconfig)
        old = inventory_from_documents(live)
        new = inventory_from_documents(overlay_documents(live, changed))
    else:
        old = load_inventory_from_files(split_paths(before), recursive=recursive)
        new = inventory_from_documents(changed)
    changes = diff_inventories(old, new, extra, ip_block_matches_pods=ipblock_matches_pods)
    _emit(to_json(changes.to_dict()) if output == "json" else changes.to_text())


# --- lint ------------------------------------------------------------------------------------


@netpol.command()
@input_options
@_output
def lint(
    filenames: tuple[str, ...],
    recursive: bool,
    kubeconfig: str | None,
    ipblock_matches_pods: bool,
    output: str,
) -> None:
    """Policies selecting nothing, rules that can never match, and shadowed policies.

    Exits 1 when there are findings.
    """
    inventory = read_inventory(filenames, recursive, kubeconfig)
    evaluator = Evaluator(inventory, ip_block_matches_pods=ipblock_matches_pods)
    findings = lint_policies(evaluator)
    if output == "json":
        _emit(to_json({"findings": [f.to_dict() for f in findings]}))
    elif findings:
        _emit("\n".join(str(f) for f in findings))
    else:
        _emit(f"no findings in {len(inventory.policies)} NetworkPolicies")
    if findings:
        sys.exit(1)
