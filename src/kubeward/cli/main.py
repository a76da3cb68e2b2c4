"""The ``kubeward`` entry point.

Command groups live in their own modules and are imported only when invoked, so that
``kubeward --help`` and short commands start fast and a broken optional module cannot break
the others. Every :class:`kubeward.errors.KubewardError` that reaches the top is printed as one
line on stderr with exit code 1 — never a traceback; so is an operating-system error that no
layer turned into one (a file or port the system refused), as a last resort.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from kubeward import __version__
from kubeward.errors import KubewardError

# name -> (module, attribute, one-line help shown by ``kubeward --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "up": (
        "kubeward.cli.up",
        "up",
        "Start a secured control plane on this machine (PKI, API server, controllers).",
    ),
    "serve": ("kubeward.cli.serve", "serve", "Run the API server (kube-apiserver flags)."),
    "controller-manager": (
        "kubeward.cli.controller_manager",
        "controller_manager",
        "Run the controller-manager (CSR signing, service accounts, ...).",
    ),
    "scheduler": (
        "kubeward.cli.scheduler",
        "scheduler",
        "Run the scheduler (binds pending pods to nodes).",
    ),
    "node": (
        "kubeward.cli.node",
        "node",
        "Run a node agent (a kubelet whose container runtime is simulated).",
    ),
    "pki": ("kubeward.cli.pki", "pki", "Create, inspect, audit and renew a cluster PKI."),
    "etcd": (
        "kubeward.cli.etcd",
        "etcd",
        "Run, inspect and back up a local etcd cluster secured by the etcd PKI.",
    ),
    "config": (
        "kubeward.cli.config",
        "config",
        "Read and edit kubeconfig files with kubectl's semantics.",
    ),
    "rbac": ("kubeward.cli.rbac", "rbac", "Explain RBAC decisions and find who can do what."),
    "token": (
        "kubeward.cli.token",
        "token",
        "Create, list and delete bootstrap tokens (kubeadm token).",
    ),
    "netpol": (
        "kubeward.cli.netpol",
        "netpol",
        "Evaluate, tabulate, lint and diff NetworkPolicies.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, _ = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    module_name = COMMANDS[name][0]
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kubeward")
def cli() -> None:
    """kubeward: a Kubernetes-compatible control plane whose security is real."""


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; print kubeward errors as one line and exit 1."""
    try:
        return cli.main(args=argv, prog_name="kubeward", standalone_mode=True)
    except KubewardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
