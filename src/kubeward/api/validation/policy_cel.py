"""The CEL environment of admission policies, shared by their validation and their evaluation.

Rules (``k8s.io/apiserver/pkg/admission/plugin/cel`` of 1.32):
 1. Expressions see ``object``, ``oldObject``, ``request``, ``params``, ``namespaceObject``,
    ``variables`` (the policy's named variables) and ``authorizer`` (``cel.library.authz``).
    Objects are untyped (``dyn``) here; the policy's status reports the fields the kinds it
    matches do not declare (``admission.policy.typecheck``).
 2. An expression that does not compile is refused as ``compilation failed: <cel-go's
    message>``; one whose type cannot be what its field needs (``bool`` for validations and
    match conditions, ``string`` for message expressions, ``string`` or ``null`` for audit
    annotation values) as ``must evaluate to T but got U``; ``dyn`` is accepted for any.
 3. Each source is compiled once per environment (a bounded cache keyed by source and the
    expected types), so the validation of a policy and its evaluation share the work.
 4. The environment declares MutatingAdmissionPolicy's ``JSONPatch`` type (``op``, ``path``
    and ``from`` strings, ``value`` any JSON value), as upstream's mutation library declares it,
    so a JSONPatch literal is type-checked field by field (``mutation_cel``). Upstream declares
    it for mutations only; here every policy expression could build one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from kubeward import cel
from kubeward.cel import types
from kubeward.errors import CELCompileError

VARIABLES: dict[str, types.CELType] = {
    "object": types.DYN,
    "oldObject": types.DYN,
    "request": types.DYN,
    "params": types.DYN,
    "namespaceObject": types.DYN,
    "variables": types.map_of(types.STRING, types.DYN),
    "authorizer": types.OPAQUE,  # cel.library.authz
}


#: Rule 4: the ``JSONPatch`` type of MutatingAdmissionPolicy's JSONPatch mutations.
JSONPATCH = types.Message(
    "JSONPatch",
    (("op", types.STRING), ("path", types.STRING), ("from", types.STRING), ("value", types.DYN)),
)


BOOL = ("bool",)
STRING = ("string",)
STRING_OR_NULL = ("string", "null_type")
ANY = ("dyn",)

_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Compiled:
    """A compiled expression, or the reason it cannot be (rule 2)."""

    program: cel.Program | None
    error: str = ""


class PolicyCompiler:
    """Rule 3: compile an expression of a policy, once."""

    def __init__(self) -> None:
        self._environment = cel.Environment(VARIABLES, messages=(JSONPATCH,))
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], Compiled] = OrderedDict()

    def compile(self, source: str, returns: tuple[str, ...]) -> Compiled:
        key = (source, returns)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        try:
            program = self._environment.compile(source)
        except CELCompileError as exc:
            compiled = Compiled(None, f"compilation failed: {exc}")
        else:
            got = program.result_type
            if got == "dyn" or returns == ANY or got in returns:
                compiled = Compiled(program)
            else:
                wanted = returns[0] if len(returns) == 1 else f"one of [{' '.join(returns)}]"
                compiled = Compiled(None, f"must evaluate to {wanted} but got {got}")
        self._cache[key] = compiled
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return compiled


COMPILER = PolicyCompiler()
"""The one compiler of the process (its environment is built once)."""
