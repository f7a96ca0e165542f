"""The op registry: one entry per primitive, holding everything about it.

Each `Op` has its numpy forward, its VJP (what computes gradients on
tensors, reverse mode), its JVP (the tangent rule of forward mode), the
arithmetic each of those three counts (`work`), its local Jacobian (built only to be shown), a scalar rule on
Python floats that returns the value together with its local derivatives,
shape inference, its kinks and ties, its domain for the tests, and how it
reads: syntax, step template, LaTeX, intuition, operator symbol and
precedence. The parser, the engine, the warnings, the step texts and
GET /api/v1/ops all read the registry, so adding an op is one entry here
(docs/architecture.md, "How to add an op"); the registry-wide tests pick it
up by themselves.

Scalar graphs are the common case in class, so `scalar` uses the math module;
where math raises (1/0, log(0), exp(1000), sqrt(-1)...) it falls back to
numpy so that the result is exactly numpy's inf or nan.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Shape = tuple[int, ...]
INF = math.inf
NAN = math.nan


class ShapeMismatch(ValueError):
    """Raised by shape inference; the graph turns it into a ShapeError at the op's place."""


def show_shape(shape: Shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _describe(shape: Shape) -> str:
    kind = {0: "scalar", 1: "vector", 2: "matrix"}.get(len(shape), "tensor")
    return f"{kind} {show_shape(shape)}" if shape else "scalar []"


def _np(func: Callable[..., Any], *args: Any) -> float:
    """numpy's answer for one scalar case that math refuses (keeps inf/nan semantics exact)."""
    with np.errstate(all="ignore"):
        return float(func(*(np.float64(a) for a in args)))


# ---------------------------------------------------------------------------
# Shared helpers: unbroadcast and elementwise Jacobians
# ---------------------------------------------------------------------------


def unbroadcast(grad: Any, shape: Shape) -> Any:
    """Sum a gradient back to the shape of the input that numpy broadcast."""
    if np.shape(grad) == shape:
        return grad
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def unbroadcast_rows(grad: Any, shape: Shape) -> Any:
    """`unbroadcast` for a batch of gradients, one per row: the leading axis is kept.

    A rows VJP, `rows_vjp(wanted, G, out, *args)`, is an op's VJP applied to every row of
    G at once (row i the upstream of backward pass i); it returns each argument's rows of
    downstream, or None for an argument not `wanted` (one that needs no gradient, such as
    data). Elementwise VJPs broadcast over the extra leading axis as they are; only the
    sum back to an argument's shape must leave that axis alone, which this does. Each
    downstream is a new array or G itself, never out or an argument (the caller may
    write into it).
    """
    rows = np.shape(grad)[0]
    if np.shape(grad) == (rows, *shape):
        return grad
    grad = np.asarray(grad)
    while grad.ndim > len(shape) + 1:
        grad = grad.sum(axis=1)
    for axis, size in enumerate(shape, start=1):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def tangent_sum(out: Any, *terms: Any) -> Any:
    """A JVP's output tangent: the sum of the terms that exist (None: an argument without a
    tangent), at the output's shape; zero when no argument carries one."""
    total: Any = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    if total is None:
        return np.zeros(np.shape(out))[()]
    if np.shape(total) != np.shape(out):
        total = np.broadcast_to(total, np.shape(out)).copy()
    return total


def elementwise_jacobian(local: Any, arg_shape: Shape, out_shape: Shape) -> Array:
    """The Jacobian of an elementwise op: diag(local), with broadcast inputs mapped to their element."""
    out_size = math.prod(out_shape)
    arg_size = math.prod(arg_shape)
    jac = np.zeros((out_size, arg_size))
    source = np.broadcast_to(np.arange(arg_size).reshape(arg_shape), out_shape).ravel()
    jac[np.arange(out_size), source] = np.broadcast_to(local, out_shape).ravel()
    return jac.reshape(out_shape + arg_shape)


def broadcast_shape(a: Shape, b: Shape) -> Shape:
    if a == b:
        return a
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ShapeMismatch(
            f"shapes {show_shape(a)} and {show_shape(b)} do not broadcast "
            "(numpy's rule: compare from the right; sizes must be equal or 1)"
        ) from None


def same_shape(a: Shape) -> Shape:
    return a


def to_scalar(a: Shape) -> Shape:
    return ()


# ---------------------------------------------------------------------------
# Work: the arithmetic an op's forward, VJP and JVP count
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """Arithmetic counted, not timed: multiplications (and divisions), additions (and
    subtractions), and other elementwise evaluations (exp, log, comparisons...), each
    one per element. A sum of k >= 2 terms counts k additions (one multiply-add per term
    of a product, so an n x k by k x m matmul is the usual 2nkm FLOPs); a single term
    counts none (an outer product sums nothing)."""

    multiplications: int = 0
    additions: int = 0
    functions: int = 0

    @property
    def flops(self) -> int:
        return self.multiplications + self.additions + self.functions

    def __add__(self, other: Work) -> Work:
        return Work(
            self.multiplications + other.multiplications,
            self.additions + other.additions,
            self.functions + other.functions,
        )

    def __mul__(self, times: int) -> Work:
        return Work(self.multiplications * times, self.additions * times, self.functions * times)

    __rmul__ = __mul__


NO_WORK = Work()
MUL = Work(multiplications=1)
ADD = Work(additions=1)
FUNCTION = Work(functions=1)
MULTIPLY_ADD = Work(multiplications=1, additions=1)


@dataclass(frozen=True)
class OpWork:
    """One application of an op at given shapes: its forward; per argument its VJP (that
    argument's downstream from the upstream, summed back where broadcast); per argument
    its JVP term (its share of the output's tangent; the terms' sum is counted by whoever
    adds them). Locals are taken as known: the forward pass computes them once."""

    forward: Work
    vjp: tuple[Work, ...]
    jvp: tuple[Work, ...]


def summed(terms: int, elements: int) -> Work:
    """Additions of `elements` sums of `terms` terms each: none when a sum has one term."""
    return ADD * (terms * elements) if terms >= 2 else NO_WORK


def elementwise_work(forward: Work, products: tuple[Work, ...]) -> Callable[..., OpWork]:
    """The work of an elementwise op from what one element costs: `forward`, and per argument
    the product upstream x local (MUL; NO_WORK for a local of 1; ADD, a negation, for -1).
    A broadcast argument's downstream is summed back to its shape."""

    def work(out: Shape, *args: Shape) -> OpWork:
        size = math.prod(out)
        vjp = tuple(
            p * size + summed(size // max(1, math.prod(arg)), math.prod(arg))
            for p, arg in zip(products, args, strict=True)
        )
        return OpWork(forward * size, vjp, tuple(p * size for p in products))

    return work


def product_work(out: Shape, a: Shape, b: Shape) -> OpWork:
    """a @ b (or dot): n x k by k x m is nkm multiply-adds; so is each VJP (dA = G B^T,
    dB = A^T G) and each JVP term (ta @ b, a @ tb). A vector stands for a row or a column."""
    n = a[0] if len(a) == 2 else 1
    k = a[-1]
    m = b[1] if len(b) == 2 else 1
    forward = MUL * (n * k * m) + summed(k, n * m)
    # dA = G (n x m) B^T (m x k): sums of m terms; dB = A^T (k x n) G (n x m): sums of n terms.
    da = MUL * (n * k * m) + summed(m, n * k)
    db = MUL * (n * k * m) + summed(n, k * m)
    return OpWork(forward, (da, db), (forward, forward))


# ---------------------------------------------------------------------------
# The Op record
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """Everything about one primitive: how it computes, how it differentiates, how it reads.

    The engine reads the first group, the warnings the kinks, the step texts and
    the page (through `describe`, served by GET /api/v1/ops and embedded in the
    page) the rest. Every field after `local_latex` has a default, so a new op
    states only what it has.
    """

    # -- what it is and how it is written
    name: str  # registry name, the node's `op` in a trace
    label: str  # what the graph shows on its node
    syntax: str  # how it is written, with placeholder arguments: "max(a, b)", "a * b"
    template: str  # its step text, {0} and {1} the arguments' texts: "max({0}, {1})"
    arity: int
    # -- how it computes and differentiates
    forward: Callable[..., Any]
    vjp: Callable[..., tuple[Any, ...]]  # (upstream, out, *args) -> downstream per argument
    jacobian: Callable[..., tuple[Any, ...]]  # (out, *args) -> local Jacobian per argument
    shape: Callable[..., Shape]  # argument shapes -> output shape, or ShapeMismatch
    # -- how it reads: LaTeX of its definition and of its local gradient per argument
    forward_latex: str
    local_latex: tuple[str, ...]
    # Forward mode: (tangents, out, *args) -> the output's tangent, where tangents holds
    # one tangent per argument (its shape) or None for an argument that carries none.
    # It is the Jacobian applied to the tangents, never built. (Defaulted only so that
    # the field can follow the required ones; the registry tests require it of every op.)
    jvp: Callable[..., Any] | None = None
    # The arithmetic it counts, from shapes alone: (out shape, *argument shapes) -> OpWork.
    # The counted costs of forward and reverse mode (modes.py) add it up over a graph.
    work: Callable[..., OpWork] | None = None
    intuition: str | None = None  # a sentence: why the gradient flows as it does
    short_intuition: str | None = None  # that rule in a few words: "+ distributes"
    elementwise: bool = False
    # The scalar rule on Python floats: floats in, (value, local per argument) out.
    # None: the op is not legal on scalars.
    scalar: Callable[..., tuple[float, ...]] | None = None
    # Per argument: "real", "positive" or "nonzero" (for the tests' random inputs).
    domain: tuple[str, ...] = ()
    # A tie or kink that decided the local gradient, from the argument values
    # (floats or arrays): (kind, message) or None. `convention` says the same
    # for the ops listing, in words.
    kink: Callable[..., tuple[str, str] | None] | None = None
    convention: str | None = None
    is_function: bool = False  # written as a call, name(args)
    # An operator's symbol as typed ("+", "**", unary "-", ".T") and its binding
    # power (Python's order: + - < * / @ < unary < ** < .T). None for functions.
    symbol: str | None = None
    precedence: int | None = None
    right_associative: bool = False  # only "**": 2**3**2 is 2**(3**2)
    # The op applied to its arguments in LaTeX, #1 and #2 standing for the
    # arguments' LaTeX (TeX's own notation for macro parameters): "\\frac{#1}{#2}".
    latex: str = ""
    # For an op that routes (max, min): which input receives the whole gradient.
    routes_to: str | None = None
    # The op as the lecture writes a gate: a class whose forward(self, x[, y]) returns
    # z and keeps what backward(self, dz) needs to return [dx[, dy]], in Python and
    # numpy a student can read. Only shown, never run by the server; the registry
    # tests run it against forward and vjp (docs/write-your-own-gate.md).
    gate: str = ""
    # The local gradient per argument in the program's own names, for the "By hand"
    # derivation: LaTeX with #0 for the output's name and #1, #2 for the arguments'.
    # An elementwise op gives its one-number derivative (the derivation writes
    # diag(...) around it for a vector); the others give their Jacobian form,
    # or a function of the argument shapes where the form depends on them (@).
    closed_form: tuple[str, ...] | Callable[[tuple[Shape, ...]], tuple[str, ...]] = ()
    # The elementwise ops' local-derivative rule ("local" or "locals"), for tests and tools;
    # and "rows_vjp", where an op has one: its VJP applied to many upstreams at once (see
    # `unbroadcast_rows`), for the m backward passes of a Jacobian (jacobians.rows_at_once).
    extra: dict[str, Any] = field(default_factory=dict)
    # The name a call writes when it is not `name`, or when an operator may also be
    # called: "max" for amax (max(v)), "sum" for sum_axis, "transpose" for .T. Several
    # ops may share a call name; the number of arguments and the keywords choose.
    call: str | None = None
    # Static parameters (an index, an axis) and the values this Op is bound to. The
    # rules (forward, vjp, jvp, jacobian, shape, scalar, kink) take them as keyword
    # arguments, and {name} in the label and template shows them. The registry holds
    # the entry bound to these defaults (what its tests run); the lowering binds each
    # node's own values with `bind`, from the same entry. A call writes them as
    # keywords (sum(A, axis=0)); indexing's one parameter is what the brackets hold.
    params: dict[str, Any] = field(default_factory=dict)
    # A remark its argument shapes call for, warned as kind "no_effect" (.T of a
    # vector changes nothing): argument shapes -> a message, or None.
    note: Callable[..., str | None] | None = None

    @property
    def operator(self) -> bool:
        """Whether it is written with a symbol, so its operands may need parentheses."""
        return self.symbol is not None

    def describe(self) -> dict[str, Any]:
        """The op as GET /api/v1/ops sends it (the v1 fields first, then the extensions)."""
        return {
            "name": self.name,
            "label": self.label,
            "syntax": self.syntax,
            "arity": self.arity,
            "forward_latex": self.forward_latex,
            "local_latex": list(self.local_latex),
            "intuition": self.intuition,
            "elementwise": self.elementwise,
            "short_intuition": self.short_intuition,
            "template": self.template,
            "latex": self.latex,
            "function": self.is_function,
            "symbol": self.symbol,
            "precedence": self.precedence,
            "right_associative": self.right_associative,
            "has_kink": self.kink is not None,
            "convention": self.convention,
            "routes_to": self.routes_to,
            "gate": self.gate,
            "closed_form": list(self.closed_form) if isinstance(self.closed_form, tuple) else None,
            "call": self.call_name,
            "params": list(self.params),
        }

    @property
    def call_name(self) -> str | None:
        """The name it is called by, name(args); None for an operator that is never called."""
        return self.call or (self.name if self.is_function else None)

    def closed_forms(self, shapes: tuple[Shape, ...]) -> tuple[str, ...]:
        """The local gradient per argument in LaTeX templates (#0 out, #1 and #2 the arguments)."""
        forms = self.closed_form(shapes) if callable(self.closed_form) else self.closed_form
        return forms if forms else tuple(f"\\frac{{\\partial #0}}{{\\partial #{k + 1}}}" for k in range(self.arity))


def _code(text: str) -> str:
    """A gate's source as written in its entry, without the blank lines around it."""
    return text.strip("\n") + "\n"


OPS: dict[str, Op] = {}
# Views of the registry for the parser, kept current by `register`: a binary
# operator's symbol -> op name, a unary prefix operator's, a postfix one's, and
# every function's name -> (arity, syntax), and each operator symbol's precedence.
BINARY: dict[str, str] = {}
UNARY: dict[str, str] = {}
POSTFIX: dict[str, str] = {}
FUNCTIONS: dict[str, tuple[int, str]] = {}
PRECEDENCE: dict[str, int] = {}
# Every call name -> the ops it may mean (max: max(a, b) and max(v)), in registry order.
CALLS: dict[str, list[str]] = {}


def register(op: Op) -> Op:
    """Add `op` to the registry: the parser, the engine, the texts and the listing see it."""
    if op.is_function and op.symbol is not None:
        raise ValueError(f"{op.name}: an op is a function or an operator, not both")
    if op.symbol is not None and op.precedence is None:
        raise ValueError(f"{op.name}: an operator needs a precedence")
    if op.params:
        op = bind(op)
    OPS[op.name] = op
    call = op.call_name
    if call is not None:
        syntax = op.syntax if op.is_function else f"{call}(a)"
        FUNCTIONS.setdefault(call, (op.arity, syntax))
        CALLS.setdefault(call, []).append(op.name)
    if op.symbol is not None:
        table = BINARY if op.arity == 2 else POSTFIX if op.template.startswith("{0}") else UNARY
        table[op.symbol] = op.name
        if op.arity == 2:
            PRECEDENCE[op.symbol] = op.precedence  # type: ignore[assignment]
    return op


def unregister(name: str) -> None:
    """Remove an op again (for tests that register one of their own)."""
    op = OPS.pop(name)
    call = op.call_name
    if call is not None and name in CALLS.get(call, ()):
        CALLS[call].remove(name)
        if not CALLS[call]:
            del CALLS[call]
            FUNCTIONS.pop(call, None)
    for table in (BINARY, UNARY, POSTFIX):
        if op.symbol is not None and table.get(op.symbol) == name:
            del table[op.symbol]
            if table is BINARY:
                del PRECEDENCE[op.symbol]


# The rules a parameterised op's parameters are given to (see `Op.params`).
_RULES = ("forward", "vjp", "jvp", "jacobian", "shape", "scalar", "kink", "work")


def show_param(value: Any) -> str:
    """A parameter as it is written: 0, -1, ':' for a whole axis, 1:3, '0, :' for an index."""
    if isinstance(value, tuple):
        return ", ".join(show_param(item) for item in value)
    if isinstance(value, slice):
        start = "" if value.start is None else str(value.start)
        stop = "" if value.stop is None else str(value.stop)
        return f"{start}:{stop}"
    return str(value)


def bind(op: Op, values: dict[str, Any] | None = None, shown: dict[str, str] | None = None) -> Op:
    """The op with its static parameters set: what one node of it runs.

    Every bound op is made from its registry entry's rules (kept in `extra`), so
    a parameterised op stays one entry. `shown` overrides how a parameter reads in
    the label and the template (`p[y]` rather than `p[1]`).
    """
    rules: Op = op.extra.get("rules", op)
    params = {**rules.params, **(values or {})}
    texts = {name: show_param(value) for name, value in params.items()} | (shown or {})

    def text(template: str) -> str:
        for name, shown_as in texts.items():
            template = template.replace("{" + name + "}", shown_as)
        return template

    bound: dict[str, Any] = {
        rule: functools.partial(getattr(rules, rule), **params)
        for rule in _RULES
        if hasattr(rules, rule) and getattr(rules, rule) is not None
    }
    return replace(
        rules,
        label=text(rules.label),
        template=text(rules.template),
        latex=text(rules.latex),
        params=params,
        extra={**rules.extra, "rules": rules},
        **bound,
    )


# ---------------------------------------------------------------------------
# Elementwise binary ops: + - * / ** max min
# ---------------------------------------------------------------------------


def _binary(
    name: str,
    label: str,
    forward: Callable[[Any, Any], Any],
    locals_: Callable[[Any, Any, Any], tuple[Any, Any]],
    scalar: Callable[[float, float], tuple[float, float, float]],
    forward_latex: str,
    local_latex: tuple[str, str],
    intuition: str | None = None,
    domain: tuple[str, str] = ("real", "real"),
    kink: Callable[..., tuple[str, str] | None] | None = None,
    vjp: Callable[..., tuple[Any, Any]] | None = None,
    template: str | None = None,
    syntax: str | None = None,
    jvp: Callable[..., Any] | None = None,
    work: tuple[Work, tuple[Work, Work]] = (FUNCTION, (MUL, MUL)),
    **reads: Any,
) -> Op:
    """Register an elementwise two-input op from its local derivatives `locals_(out, a, b)`.

    `vjp` and `jvp` replace the rules built from the locals where a cheaper one exists;
    `work` is what one element costs: its forward, and per argument upstream x local.
    `reads` are the Op's reading fields (symbol, precedence, latex, short_intuition...).
    """

    def generic_jvp(tangents: tuple[Any, Any], out: Any, a: Any, b: Any) -> Any:
        ta, tb = tangents
        la, lb = locals_(out, a, b)
        return tangent_sum(out, None if ta is None else la * ta, None if tb is None else lb * tb)

    def generic_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
        la, lb = locals_(out, a, b)
        return unbroadcast(g * la, np.shape(a)), unbroadcast(g * lb, np.shape(b))

    def jacobian(out: Any, a: Any, b: Any) -> tuple[Array, Array]:
        la, lb = locals_(out, a, b)
        shape = np.shape(out)
        return (
            elementwise_jacobian(la, np.shape(a), shape),
            elementwise_jacobian(lb, np.shape(b), shape),
        )

    def checked_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
        assert vjp is not None
        da, db = vjp(g, out, a, b)
        return unbroadcast(da, np.shape(a)), unbroadcast(db, np.shape(b))

    def rows_vjp(wanted: tuple[bool, bool], g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
        if vjp is not None:
            da, db = vjp(g, out, a, b)
        else:
            la, lb = locals_(out, a, b)
            da, db = g * la, g * lb
        return (
            unbroadcast_rows(da, np.shape(a)) if wanted[0] else None,
            unbroadcast_rows(db, np.shape(b)) if wanted[1] else None,
        )

    return register(
        Op(
            name=name,
            label=label,
            syntax=syntax or f"a {label} b",
            template=template or ("{0} " + label + " {1}"),
            arity=2,
            forward=forward,
            vjp=checked_vjp if vjp is not None else generic_vjp,
            jacobian=jacobian,
            shape=broadcast_shape,
            forward_latex=forward_latex,
            local_latex=local_latex,
            jvp=jvp if jvp is not None else generic_jvp,
            work=elementwise_work(*work),
            intuition=intuition,
            elementwise=True,
            scalar=scalar,
            domain=domain,
            kink=kink,
            is_function=syntax is not None,
            extra={"locals": locals_, "rows_vjp": rows_vjp},
            **reads,
        )
    )


def _s_add(a: float, b: float) -> tuple[float, float, float]:
    return a + b, 1.0, 1.0


def _s_sub(a: float, b: float) -> tuple[float, float, float]:
    return a - b, 1.0, -1.0


def _s_mul(a: float, b: float) -> tuple[float, float, float]:
    return a * b, b, a


def _s_div(a: float, b: float) -> tuple[float, float, float]:
    if b != 0.0:
        out = a / b
        return out, 1.0 / b, -out / b
    out = _np(np.divide, a, b)
    return out, _np(np.divide, 1.0, b), _np(np.divide, -out, b)


def _s_log_raw(a: float) -> float:
    if a > 0.0:
        return math.log(a)
    return _np(np.log, a)


def _s_pow_raw(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        return _np(np.power, a, b)


def _s_pow(a: float, b: float) -> tuple[float, float, float]:
    out = _s_pow_raw(a, b)
    # PyTorch's conventions: d/da a**0 = 0, and d/db a**b = 0 at a = 0 for b >= 0.
    da = 0.0 if b == 0.0 else b * _s_pow_raw(a, b - 1.0)
    db = 0.0 if (a == 0.0 and b >= 0.0) else out * _s_log_raw(a)
    return out, da, db


def _s_max(a: float, b: float) -> tuple[float, float, float]:
    if a > b:
        return a, 1.0, 0.0
    if b > a:
        return b, 0.0, 1.0
    if a == b:
        return a, 0.5, 0.5
    return NAN, NAN, NAN


def _s_min(a: float, b: float) -> tuple[float, float, float]:
    if a < b:
        return a, 1.0, 0.0
    if b < a:
        return b, 0.0, 1.0
    if a == b:
        return a, 0.5, 0.5
    return NAN, NAN, NAN


def _pow_locals(out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    with np.errstate(all="ignore"):
        da = np.where(b == 0.0, 0.0, b * np.power(a, b - 1.0))
        db = np.where((a == 0.0) & (b >= 0.0), 0.0, out * np.log(a))
    return da, db


def _select_locals(first: Any, second: Any) -> tuple[Any, Any]:
    """Locals of max/min given masks of 'a wins' and 'b wins': ties split 0.5/0.5, NaN stays NaN."""
    tie = ~(first | second)
    la = np.where(first, 1.0, 0.0) + np.where(tie, 0.5, 0.0)
    lb = np.where(second, 1.0, 0.0) + np.where(tie, 0.5, 0.0)
    return la, lb


def _max_locals(out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    la, lb = _select_locals(a > b, b > a)
    nan = np.isnan(out)
    return np.where(nan, NAN, la), np.where(nan, NAN, lb)


def _min_locals(out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    la, lb = _select_locals(a < b, b < a)
    nan = np.isnan(out)
    return np.where(nan, NAN, la), np.where(nan, NAN, lb)


def _tie(name: str) -> Callable[..., tuple[str, str] | None]:
    def kink(a: Any, b: Any) -> tuple[str, str] | None:
        tied = a == b if type(a) is float and type(b) is float else np.any(np.equal(a, b))
        if tied:
            return (
                "tie",
                f"{name}: the two arguments are equal, so the upstream gradient is split "
                "0.5 / 0.5 between them (PyTorch's convention)",
            )
        return None

    return kink


def _pow_kink(a: Any, b: Any) -> tuple[str, str] | None:
    scalar = type(a) is float and type(b) is float
    if b == 0.0 if scalar else np.any(np.equal(b, 0.0)):
        return ("kink", "x**0: its local gradient in x is taken as 0 (PyTorch's convention)")
    if (a == 0.0 and b >= 0.0) if scalar else np.any(np.equal(a, 0.0) & np.greater_equal(b, 0.0)):
        return ("kink", "0**y: its local gradient in y is taken as 0 (PyTorch's convention)")
    return None


def _ones_like_broadcast(out: Any) -> Any:
    return np.ones(np.shape(out))


register_add = _binary(
    "add", "+", np.add, lambda out, a, b: (_ones_like_broadcast(out), _ones_like_broadcast(out)),
    _s_add, "a + b", ("1", "1"),
    intuition="+ distributes: it passes the upstream gradient unchanged to each of its inputs",
    vjp=lambda g, out, a, b: (g, g),
    jvp=lambda t, out, a, b: tangent_sum(out, t[0], t[1]), work=(ADD, (NO_WORK, NO_WORK)),
    short_intuition="+ distributes", symbol="+", precedence=10, latex="#1 + #2", closed_form=("1", "1"),
    gate=_code("""
class AddGate:
    def forward(self, x, y):
        z = x + y
        return z  # nothing to keep: the local gradients are 1 and 1

    def backward(self, dz):
        dx = dz  # + distributes: [dz/dx = 1] * dL/dz
        dy = dz
        return [dx, dy]
"""),
)
register_sub = _binary(
    "sub", "-", np.subtract,
    lambda out, a, b: (_ones_like_broadcast(out), -_ones_like_broadcast(out)),
    _s_sub, "a - b", ("1", "-1"),
    intuition="- distributes like +, with the sign flipped for the subtracted input",
    vjp=lambda g, out, a, b: (g, -g),
    jvp=lambda t, out, a, b: tangent_sum(out, t[0], None if t[1] is None else -t[1]),
    work=(ADD, (NO_WORK, ADD)),
    short_intuition="- distributes", symbol="-", precedence=10, latex="#1 - #2", closed_form=("1", "-1"),
    gate=_code("""
class SubtractGate:
    def forward(self, x, y):
        z = x - y
        return z

    def backward(self, dz):
        dx = dz  # [dz/dx = 1] * dL/dz
        dy = -dz  # [dz/dy = -1] * dL/dz
        return [dx, dy]
"""),
)
register_mul = _binary(
    "mul", "*", np.multiply,
    lambda out, a, b: (np.broadcast_to(b, np.shape(out)), np.broadcast_to(a, np.shape(out))),
    _s_mul, r"a \cdot b", ("b", "a"),
    intuition="* switches: each input gets the upstream gradient times the other input's value",
    vjp=lambda g, out, a, b: (g * b, g * a),
    jvp=lambda t, out, a, b: tangent_sum(out, None if t[0] is None else t[0] * b, None if t[1] is None else a * t[1]),
    work=(MUL, (MUL, MUL)),
    short_intuition="* switches", symbol="*", precedence=20, latex=r"#1 \cdot #2", closed_form=("#2", "#1"),
    gate=_code("""
class MultiplyGate:
    def forward(self, x, y):
        z = x * y
        self.x = x  # must keep these around!
        self.y = y
        return z

    def backward(self, dz):
        dx = self.y * dz  # [dz/dx * dL/dz]
        dy = self.x * dz  # [dz/dy * dL/dz]
        return [dx, dy]
"""),
)
register_div = _binary(
    "div", "/", np.divide,
    lambda out, a, b: (np.broadcast_to(1.0 / b, np.shape(out)), -out / b),
    _s_div, r"\frac{a}{b}", (r"\frac{1}{b}", r"-\frac{a}{b^{2}}"), work=(MUL, (MUL, MUL)),
    domain=("real", "nonzero"), symbol="/", precedence=20, latex=r"\frac{#1}{#2}", closed_form=(r"\frac{1}{#2}", r"-\frac{#1}{{#2}^{2}}"),
    gate=_code("""
class DivideGate:
    def forward(self, x, y):
        z = x / y
        self.y = y
        self.z = z
        return z

    def backward(self, dz):
        dx = dz / self.y  # [dz/dx = 1/y]
        dy = -self.z / self.y * dz  # [dz/dy = -x/y**2 = -z/y]
        return [dx, dy]
"""),
)
register_pow = _binary(
    "pow", "**", np.power, _pow_locals, _s_pow, "a^{b}", (r"b\,a^{b-1}", r"a^{b}\ln a"),
    domain=("positive", "real"), kink=_pow_kink, template="{0}**{1}",
    symbol="**", precedence=40, right_associative=True, latex="{#1}^{#2}",
    convention="d/da a**0 = 0, and d/db a**b = 0 at a = 0 for b >= 0 (PyTorch's conventions)", closed_form=(r"#2\,{#1}^{#2 - 1}", r"{#1}^{#2}\ln #1"),
    gate=_code("""
class PowerGate:
    def forward(self, x, y):
        z = x ** y
        self.x = x
        self.y = y
        self.z = z
        return z

    def backward(self, dz):
        # The engine also takes dx = 0 where y = 0, and dy = 0 where x = 0 (PyTorch's conventions).
        dx = self.y * self.x ** (self.y - 1) * dz  # [dz/dx = y x**(y-1)]
        dy = self.z * np.log(self.x) * dz  # [dz/dy = x**y ln x]
        return [dx, dy]
"""),
)
register_max = _binary(
    "max", "max", np.maximum, _max_locals, _s_max, r"\max(a, b)",
    (r"\mathbf{1}(a > b)", r"\mathbf{1}(b > a)"),
    intuition="max routes: the whole upstream gradient goes to the larger input, none to the other",
    kink=_tie("max"), template="max({0}, {1})", syntax="max(a, b)",
    short_intuition="max routes", routes_to="larger", latex=r"\max(#1, #2)",
    convention="max(a, b) with a == b: the upstream gradient is split 0.5 / 0.5 (PyTorch's convention)", closed_form=(r"\mathbf{1}(#1 > #2)", r"\mathbf{1}(#2 > #1)"),
    gate=_code("""
class MaxGate:
    def forward(self, x, y):
        z = np.maximum(x, y)
        self.x = x
        self.y = y
        return z

    def backward(self, dz):
        # max routes: all of dz to the larger input; a tie splits it 0.5 / 0.5
        share = np.where(self.x > self.y, 1.0, np.where(self.x < self.y, 0.0, 0.5))
        dx = share * dz
        dy = (1 - share) * dz
        return [dx, dy]
"""),
)
register_min = _binary(
    "min", "min", np.minimum, _min_locals, _s_min, r"\min(a, b)",
    (r"\mathbf{1}(a < b)", r"\mathbf{1}(b < a)"),
    intuition="min routes: the whole upstream gradient goes to the smaller input, none to the other",
    kink=_tie("min"), template="min({0}, {1})", syntax="min(a, b)",
    short_intuition="min routes", routes_to="smaller", latex=r"\min(#1, #2)",
    convention="min(a, b) with a == b: the upstream gradient is split 0.5 / 0.5 (PyTorch's convention)", closed_form=(r"\mathbf{1}(#1 < #2)", r"\mathbf{1}(#2 < #1)"),
    gate=_code("""
class MinGate:
    def forward(self, x, y):
        z = np.minimum(x, y)
        self.x = x
        self.y = y
        return z

    def backward(self, dz):
        # min routes: all of dz to the smaller input; a tie splits it 0.5 / 0.5
        share = np.where(self.x < self.y, 1.0, np.where(self.x > self.y, 0.0, 0.5))
        dx = share * dz
        dy = (1 - share) * dz
        return [dx, dy]
"""),
)


# ---------------------------------------------------------------------------
# Elementwise unary ops: - + exp log sqrt abs sin cos tanh sigmoid relu
# ---------------------------------------------------------------------------


def _unary(
    name: str,
    label: str,
    forward: Callable[[Any], Any],
    local: Callable[[Any, Any], Any],
    scalar: Callable[[float], tuple[float, float]],
    forward_latex: str,
    local_latex: str,
    intuition: str | None = None,
    domain: str = "real",
    kink: Callable[..., tuple[str, str] | None] | None = None,
    template: str | None = None,
    syntax: str | None = None,
    work: tuple[Work, Work] = (FUNCTION, MUL),
    **reads: Any,
) -> Op:
    """Register an elementwise one-input op from its local derivative `local(out, a)`.

    `work` is what one element costs: its forward, and upstream x local."""

    def vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
        return (g * local(out, a),)

    def rows_vjp(wanted: tuple[bool], g: Any, out: Any, a: Any) -> tuple[Any]:
        return vjp(g, out, a) if wanted[0] else (None,)

    def jvp(tangents: tuple[Any], out: Any, a: Any) -> Any:
        (t,) = tangents
        return tangent_sum(out, None if t is None else local(out, a) * t)

    def jacobian(out: Any, a: Any) -> tuple[Array]:
        return (elementwise_jacobian(local(out, a), np.shape(a), np.shape(out)),)

    is_function = template is None
    return register(
        Op(
            name=name,
            label=label,
            syntax=syntax or f"{name}(x)",
            template=template or (name + "({0})"),
            arity=1,
            forward=forward,
            vjp=vjp,
            jvp=jvp,
            work=elementwise_work(work[0], (work[1],)),
            jacobian=jacobian,
            shape=same_shape,
            forward_latex=forward_latex,
            local_latex=(local_latex,),
            intuition=intuition
            or (
                "an elementwise function: its Jacobian is diagonal, diag(f'(x)), so each "
                "element's upstream gradient is multiplied by its own local slope"
                if is_function
                else None
            ),
            elementwise=True,
            scalar=scalar,
            domain=(domain,),
            kink=kink,
            is_function=is_function,
            extra={"local": local, "rows_vjp": rows_vjp},
            **{"latex": f"\\operatorname{{{name}}}(#1)", **reads},
        )
    )


def _at_zero(message: str) -> Callable[..., tuple[str, str] | None]:
    def kink(a: Any) -> tuple[str, str] | None:
        at_zero = a == 0.0 if type(a) is float else np.any(np.equal(a, 0.0))
        return ("kink", message) if at_zero else None

    return kink


def _s_neg(a: float) -> tuple[float, float]:
    return -a, -1.0


def _s_pos(a: float) -> tuple[float, float]:
    return a, 1.0


def _s_exp(a: float) -> tuple[float, float]:
    try:
        out = math.exp(a)
    except OverflowError:
        out = INF
    return out, out


def _s_log(a: float) -> tuple[float, float]:
    if a > 0.0:
        return math.log(a), 1.0 / a
    if a == 0.0:
        return -INF, math.copysign(INF, a)
    return _np(np.log, a), 1.0 / a if a == a else NAN


def _s_sqrt(a: float) -> tuple[float, float]:
    out = math.sqrt(a) if a >= 0.0 else NAN
    if out == 0.0:
        return out, INF  # sqrt'(0) = +inf, at -0.0 too (the contract's convention)
    return out, 0.5 / out


def _s_abs(a: float) -> tuple[float, float]:
    if a > 0.0:
        return a, 1.0
    if a < 0.0:
        return -a, -1.0
    return abs(a), 0.0 if a == 0.0 else NAN


def _s_sin(a: float) -> tuple[float, float]:
    try:
        return math.sin(a), math.cos(a)
    except ValueError:
        return NAN, NAN


def _s_cos(a: float) -> tuple[float, float]:
    try:
        return math.cos(a), -math.sin(a)
    except ValueError:
        return NAN, NAN


def _s_tanh(a: float) -> tuple[float, float]:
    out = math.tanh(a)
    return out, 1.0 - out * out


def _s_sigmoid(a: float) -> tuple[float, float]:
    # With e = exp(-|a|) <= 1 nothing overflows, and 1 - sigmoid(a) is computed
    # directly rather than by cancellation (sigmoid'(30) keeps its digits).
    if a != a:
        return NAN, NAN
    e = math.exp(-abs(a))
    s = 1.0 / (1.0 + e)
    if a >= 0.0:
        return s, s * (e * s)
    return e * s, (e * s) * s


def _s_relu(a: float) -> tuple[float, float]:
    if a > 0.0:
        return a, 1.0
    return (0.0 if a == a else a), 0.0


def _sigmoid_parts(a: Any) -> tuple[Any, Any]:
    """sigmoid(a) and 1 - sigmoid(a), each without overflow or cancellation."""
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(a))
        s = 1.0 / (1.0 + e)
        positive = np.greater_equal(a, 0.0)
        return np.where(positive, s, e * s), np.where(positive, e * s, s)


def _sigmoid(a: Any) -> Any:
    return _sigmoid_parts(a)[0][()]


def _sigmoid_local(out: Any, a: Any) -> Any:
    value, complement = _sigmoid_parts(a)
    return value * complement


def _relu(a: Any) -> Any:
    return np.where(np.greater(a, 0.0), a, np.where(np.isnan(a), a, 0.0))[()]


def _sqrt_local(out: Any, a: Any) -> Any:
    with np.errstate(all="ignore"):
        return np.where(out == 0.0, INF, 0.5 / out)


register_neg = _unary("neg", "-", np.negative, lambda out, a: -np.ones(np.shape(a)), _s_neg,
                      "-a", "-1", template="-{0}", syntax="-a", work=(ADD, ADD),
                      symbol="-", precedence=30, latex="-#1", closed_form=("-1",),
    gate=_code("""
class NegateGate:
    def forward(self, x):
        z = -x
        return z

    def backward(self, dz):
        dx = -dz  # [dz/dx = -1]
        return [dx]
"""),
)
register_pos = _unary("pos", "+", np.positive, lambda out, a: np.ones(np.shape(a)), _s_pos,
                      "+a", "1", template="+{0}", syntax="+a", work=(NO_WORK, NO_WORK),
                      symbol="+", precedence=30, latex="+#1", closed_form=("1",),
    gate=_code("""
class PlusGate:
    def forward(self, x):
        z = +x
        return z

    def backward(self, dz):
        dx = dz  # [dz/dx = 1]
        return [dx]
"""),
)
register_exp = _unary("exp", "exp", np.exp, lambda out, a: out, _s_exp, "e^{x}", "e^{x}",
                      latex=r"\exp(#1)", closed_form=(r"e^{#1}",),
    gate=_code("""
class ExpGate:
    def forward(self, x):
        z = np.exp(x)
        self.z = z  # exp is its own derivative: keep the output
        return z

    def backward(self, dz):
        dx = self.z * dz  # [dz/dx = e**x = z]
        return [dx]
"""),
)
register_log = _unary("log", "log", np.log, lambda out, a: 1.0 / a, _s_log, r"\ln x",
                      r"\frac{1}{x}", domain="positive", latex=r"\log(#1)", closed_form=(r"\frac{1}{#1}",),
    gate=_code("""
class LogGate:
    def forward(self, x):
        z = np.log(x)
        self.x = x
        return z

    def backward(self, dz):
        dx = dz / self.x  # [dz/dx = 1/x]
        return [dx]
"""),
)
register_sqrt = _unary("sqrt", "sqrt", np.sqrt, _sqrt_local, _s_sqrt, r"\sqrt{x}",
                       r"\frac{1}{2\sqrt{x}}", domain="positive",
                       kink=_at_zero("sqrt at 0: its local gradient is +inf (sqrt'(0) = +inf)"),
                       convention="sqrt'(0) = +inf", latex=r"\sqrt{#1}", closed_form=(r"\frac{1}{2\sqrt{#1}}",),
    gate=_code("""
class SqrtGate:
    def forward(self, x):
        z = np.sqrt(x)
        self.z = z
        return z

    def backward(self, dz):
        dx = dz / (2 * self.z)  # [dz/dx = 1 / (2 sqrt(x))]: +inf at x = 0
        return [dx]
"""),
)
register_abs = _unary("abs", "abs", np.abs, lambda out, a: np.sign(a), _s_abs, "|x|",
                      r"\operatorname{sign}(x)",
                      kink=_at_zero("abs at 0: its local gradient is taken as 0 (PyTorch's convention)"),
                      convention="abs'(0) = 0 (PyTorch's convention)", latex=r"\left|#1\right|", closed_form=(r"\operatorname{sign}(#1)",),
    gate=_code("""
class AbsGate:
    def forward(self, x):
        z = np.abs(x)
        self.x = x
        return z

    def backward(self, dz):
        dx = np.sign(self.x) * dz  # [dz/dx = sign(x)], 0 at x = 0
        return [dx]
"""),
)
register_sin = _unary("sin", "sin", np.sin, lambda out, a: np.cos(a), _s_sin, r"\sin x", r"\cos x",
                      latex=r"\sin(#1)", closed_form=(r"\cos #1",),
    gate=_code("""
class SinGate:
    def forward(self, x):
        z = np.sin(x)
        self.x = x
        return z

    def backward(self, dz):
        dx = np.cos(self.x) * dz  # [dz/dx = cos x]
        return [dx]
"""),
)
register_cos = _unary("cos", "cos", np.cos, lambda out, a: -np.sin(a), _s_cos, r"\cos x",
                      r"-\sin x", latex=r"\cos(#1)", closed_form=(r"-\sin #1",),
    gate=_code("""
class CosGate:
    def forward(self, x):
        z = np.cos(x)
        self.x = x
        return z

    def backward(self, dz):
        dx = -np.sin(self.x) * dz  # [dz/dx = -sin x]
        return [dx]
"""),
)
register_tanh = _unary("tanh", "tanh", np.tanh, lambda out, a: 1.0 - out * out, _s_tanh,
                       r"\tanh x", r"1 - \tanh^{2} x", latex=r"\tanh(#1)", closed_form=(r"1 - \tanh^{2} #1",),
    gate=_code("""
class TanhGate:
    def forward(self, x):
        z = np.tanh(x)
        self.z = z
        return z

    def backward(self, dz):
        dx = (1 - self.z * self.z) * dz  # [dz/dx = 1 - tanh(x)**2]
        return [dx]
"""),
)
register_sigmoid = _unary("sigmoid", "sigmoid", _sigmoid, _sigmoid_local,
                          _s_sigmoid, r"\sigma(x) = \frac{1}{1 + e^{-x}}",
                          r"\sigma(x)\,(1 - \sigma(x))", latex=r"\sigma(#1)", closed_form=(r"\sigma'(#1)",),
    gate=_code("""
class SigmoidGate:
    def forward(self, x):
        z = 1 / (1 + np.exp(-x))
        self.z = z
        return z

    def backward(self, dz):
        dx = self.z * (1 - self.z) * dz  # [dz/dx = sigma(x) (1 - sigma(x))]
        return [dx]
"""),
)
register_relu = _unary("relu", "relu", _relu,
                       lambda out, a: np.where(np.greater(a, 0.0), 1.0, 0.0), _s_relu,
                       r"\max(0, x)", r"\mathbf{1}(x > 0)",
                       kink=_at_zero("relu at 0: its local gradient is taken as 0 (relu'(0) = 0, PyTorch's convention)"),
                       convention="relu'(0) = 0 (PyTorch's convention)", closed_form=(r"\mathbf{1}(#1 > 0)",),
    gate=_code("""
class ReluGate:
    def forward(self, x):
        z = np.maximum(x, 0)
        self.x = x
        return z

    def backward(self, dz):
        dx = (self.x > 0) * dz  # [dz/dx = 1 where x > 0, else 0; relu'(0) = 0]
        return [dx]
"""),
)


# ---------------------------------------------------------------------------
# Reductions and structure: sum mean softmax .T dot @
# ---------------------------------------------------------------------------


def _s_identity(a: float) -> tuple[float, float]:
    return a, 1.0


def _s_softmax(a: float) -> tuple[float, float]:
    # One element: softmax is 1 whatever a is (unless a is not finite).
    out = 1.0 if a - a == 0.0 else NAN
    return out, out - out * out


def _softmax(a: Any) -> Any:
    with np.errstate(all="ignore"):
        shifted = np.exp(a - np.max(a, axis=-1, keepdims=True)) if np.ndim(a) else np.exp(a - a)
        return (shifted / np.sum(shifted, axis=-1, keepdims=True))[()] if np.ndim(a) else shifted


def _softmax_vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
    if np.ndim(out) == 0:
        return (g * (out - out * out),)
    return (out * (g - np.sum(g * out, axis=-1, keepdims=True)),)


def _softmax_jvp(tangents: tuple[Any], out: Any, a: Any) -> Any:
    # The Jacobian diag(s) - s s^T is symmetric, so the tangent rule is the VJP's.
    (t,) = tangents
    return tangent_sum(out, None if t is None else _softmax_vjp(t, out, a)[0])


def _softmax_work(out: Shape, a: Shape) -> OpWork:
    # exp of each element, the sums along the last axis, a division each; the VJP (and the
    # JVP, the same product) s * (g - sum(g * s)) is two multiplications and two additions each.
    size = math.prod(a)
    row = a[-1] if a else 1
    sums = summed(row, size // max(1, row))
    forward = FUNCTION * size + sums + MUL * size
    vjp = MUL * (2 * size) + sums + ADD * size
    return OpWork(forward, (vjp,), (vjp,))


def _softmax_jacobian(out: Any, a: Any) -> tuple[Array]:
    s = np.asarray(out, dtype=np.float64)
    if s.ndim == 0:
        return (np.asarray(s - s * s),)
    if s.ndim == 1:
        return (np.diag(s) - np.outer(s, s),)
    rows, cols = s.shape
    jac = np.zeros((rows, cols, rows, cols))
    for i in range(rows):
        jac[i, :, i, :] = np.diag(s[i]) - np.outer(s[i], s[i])
    return (jac,)


register_sum = register(Op(
    name="sum", label="sum", syntax="sum(x)", template="sum({0})", arity=1,
    forward=lambda a: np.float64(np.sum(a)),
    vjp=lambda g, out, a: (np.broadcast_to(g, np.shape(a)).copy(),),
    jvp=lambda t, out, a: tangent_sum(out, None if t[0] is None else np.float64(np.sum(t[0]))),
    # Its downstream is the upstream copied to every element: nothing to compute.
    work=lambda out, a: OpWork(summed(math.prod(a), 1), (NO_WORK,), (summed(math.prod(a), 1),)),
    jacobian=lambda out, a: (np.ones(np.shape(a)),),
    shape=to_scalar, forward_latex=r"\sum_i x_i", local_latex=(r"\mathbf{1}^{\top}",),
    intuition="sum distributes like +: every element gets the upstream gradient",
    short_intuition="sum distributes", latex=r"\operatorname{sum}(#1)",
    scalar=_s_identity, domain=("real",), is_function=True,
    closed_form=(r"\mathbf{1}^{\top}",),
    gate=_code("""
class SumGate:
    def forward(self, x):
        z = np.sum(x)
        self.shape = np.shape(x)
        return z

    def backward(self, dz):
        dx = np.ones(self.shape) * dz  # sum distributes: every element gets dz
        return [dx]
"""),
))
register_mean = register(Op(
    name="mean", label="mean", syntax="mean(x)", template="mean({0})", arity=1,
    forward=lambda a: np.float64(np.mean(a)),
    vjp=lambda g, out, a: (np.full(np.shape(a), g / max(1, np.size(a))),),
    jvp=lambda t, out, a: tangent_sum(out, None if t[0] is None else np.float64(np.mean(t[0]))),
    work=lambda out, a: OpWork(summed(math.prod(a), 1) + MUL, (MUL,), (summed(math.prod(a), 1) + MUL,)),
    jacobian=lambda out, a: (np.full(np.shape(a), 1.0 / np.size(a)),),
    shape=to_scalar, forward_latex=r"\frac{1}{n}\sum_i x_i",
    local_latex=(r"\frac{1}{n}\mathbf{1}^{\top}",),
    intuition="mean distributes the upstream gradient evenly: each element gets 1/n of it",
    latex=r"\operatorname{mean}(#1)",
    scalar=_s_identity, domain=("real",), is_function=True,
    closed_form=(r"\frac{1}{n}\mathbf{1}^{\top}",),
    gate=_code("""
class MeanGate:
    def forward(self, x):
        z = np.mean(x)
        self.shape = np.shape(x)
        self.n = np.size(x)
        return z

    def backward(self, dz):
        dx = np.ones(self.shape) * dz / self.n  # each element gets 1/n of dz
        return [dx]
"""),
))
register_softmax = register(Op(
    name="softmax", label="softmax", syntax="softmax(x)", template="softmax({0})", arity=1,
    forward=_softmax, vjp=_softmax_vjp, jvp=_softmax_jvp, work=_softmax_work,
    jacobian=_softmax_jacobian, shape=same_shape,
    forward_latex=r"s_i = \frac{e^{x_i}}{\sum_j e^{x_j}}",
    local_latex=(r"\operatorname{diag}(s) - s\,s^{\top}",),
    intuition="softmax couples its elements (along the last axis): its Jacobian is not diagonal",
    latex=r"\operatorname{softmax}(#1)",
    scalar=_s_softmax, domain=("real",), is_function=True,
    closed_form=(r"\operatorname{diag}(#0) - #0\,{#0}^{\top}",),
    gate=_code("""
class SoftmaxGate:
    def forward(self, x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))  # shifted: nothing overflows
        z = e / np.sum(e, axis=-1, keepdims=True)
        self.z = z
        return z

    def backward(self, dz):
        # The Jacobian diag(z) - z z^T, applied to dz without building it.
        dx = self.z * (dz - np.sum(dz * self.z, axis=-1, keepdims=True))
        return [dx]
"""),
))


def _transpose_jacobian(out: Any, a: Any) -> tuple[Array]:
    shape = np.shape(a)
    if len(shape) < 2:
        return (elementwise_jacobian(np.ones(shape), shape, shape),)
    rows, cols = shape
    # out[i, j] = a[j, i], so d out[i, j] / d a[k, l] = [j == k][i == l].
    return (np.einsum("il,jk->ijkl", np.eye(cols), np.eye(rows)),)


def _transpose_note(a: Shape) -> str | None:
    if len(a) != 1:
        return None
    return (
        ".T of a vector changes nothing (numpy's convention: a 1-D array is neither a row "
        "nor a column, and u.T @ h is u @ h); for a column vector give a matrix of one "
        "column, [[1], [2]], or a row, [[1, 2]]"
    )


register_identity = register(Op(
    name="identity", label="=", syntax="b = a", template="{0}", arity=1,
    forward=lambda a: a,
    vjp=lambda g, out, a: (g,),
    jvp=lambda t, out, a: tangent_sum(out, t[0]),
    work=lambda out, a: OpWork(NO_WORK, (NO_WORK,), (NO_WORK,)),
    jacobian=lambda out, a: (elementwise_jacobian(np.ones(np.shape(a)), np.shape(a), np.shape(a)),),
    shape=same_shape, forward_latex="b = a", local_latex=(r"I",),
    intuition="an output that is an earlier value: the gradient passes through unchanged",
    elementwise=True, scalar=_s_identity, domain=("real",), latex="#1",
    closed_form=("1",),
    gate=_code("""
class IdentityGate:
    def forward(self, x):
        z = x
        return z

    def backward(self, dz):
        dx = dz  # the gradient passes through unchanged
        return [dx]
"""),
))
register_transpose = register(Op(
    name="transpose", label=".T", syntax="a.T", template="{0}.T", arity=1,
    forward=lambda a: np.transpose(a)[()],
    vjp=lambda g, out, a: (np.transpose(g)[()],),
    jvp=lambda t, out, a: tangent_sum(out, None if t[0] is None else np.transpose(t[0])[()]),
    work=lambda out, a: OpWork(NO_WORK, (NO_WORK,), (NO_WORK,)),
    jacobian=_transpose_jacobian,
    shape=lambda a: tuple(reversed(a)),
    forward_latex=r"A^{\top}", local_latex=(r"\frac{\partial (A^{\top})_{ij}}{\partial A_{kl}} = \mathbf{1}(j = k)\,\mathbf{1}(i = l)",),
    intuition=".T routes each upstream element back to the element it came from, transposed",
    symbol=".T", precedence=50, latex=r"{#1}^{\top}",
    scalar=_s_identity, domain=("real",),
    closed_form=(r"P_{\top}",),
    call="transpose", note=_transpose_note,
    gate=_code("""
class TransposeGate:
    def forward(self, x):
        z = np.transpose(x)
        return z

    def backward(self, dz):
        dx = np.transpose(dz)  # each element goes back to where it came from
        return [dx]
"""),
))


# ---------------------------------------------------------------------------
# Products: the one place that handles subnormal numbers
# ---------------------------------------------------------------------------

_TINY = float(np.finfo(np.float64).tiny)
_SPECS = {(2, 2): "ij,jk->ik", (2, 1): "ij,j->i", (1, 2): "j,jk->k", (1, 1): "j,j->"}


#: Arrays whose smallest magnitude is known, by where their numbers are (address, shape,
#: strides): set by `known_operands` while a Jacobian's passes reuse the same values.
_KNOWN: ContextVar[dict[tuple[int, tuple[int, ...], tuple[int, ...]], float] | None] = ContextVar(
    "known_smallest", default=None
)


def _where(x: Any) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    return (x.__array_interface__["data"][0], x.shape, x.strides)


def _smallest(x: Any) -> float:
    """The smallest nonzero magnitude in x (inf when there is none; NaN is ignored)."""
    known = _KNOWN.get()
    if known is not None and isinstance(x, np.ndarray):
        found = known.get(_where(x))
        if found is not None:
            return found
    magnitude = np.abs(np.asarray(x, dtype=np.float64))
    return float(np.fmin.reduce(magnitude, axis=None, where=magnitude > 0.0, initial=np.inf))


@contextmanager
def known_operands(values: Iterable[Any]) -> Iterator[None]:
    """Within it, `product` finds the smallest magnitude of each of these arrays (and of a
    matrix's transpose) once, not at every product: a Jacobian's many passes multiply by
    the same values (W in W @ x), and the scan costs as much as a matrix-vector product.
    The values must not change inside it (the passes only read them)."""
    known: dict[tuple[int, tuple[int, ...], tuple[int, ...]], float] = {}
    for value in values:
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.size > 64:
            smallest = _smallest(value)
            known[_where(value)] = smallest
            known[_where(value.T)] = smallest
    token = _KNOWN.set(known)
    try:
        yield
    finally:
        _KNOWN.reset(token)


def product(a: Any, b: Any) -> Any:
    """a @ b (vectors as rows or columns, as np.matmul takes them), never slowed by subnormals.

    BLAS is up to a few hundred times slower when the products it sums are subnormal
    (below 2.2e-308), so a small request could take seconds. When some product of an
    element of a and one of b could be that small, numpy's own loops (einsum, which
    stay fast) compute it instead; otherwise BLAS does. The two differ only in the
    order of the sum, so in the last bits of a result.
    """
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return np.multiply(a, b)
    with np.errstate(all="ignore"):
        if _smallest(a) * _smallest(b) < _TINY:
            return np.einsum(_SPECS[np.ndim(a), np.ndim(b)], a, b)[()]
    return np.matmul(a, b)[()]


def _product_jvp(tangents: tuple[Any, Any], out: Any, a: Any, b: Any) -> Any:
    """The tangent of a product (dot, @): the product rule, ta b + a tb, each term one product."""
    ta, tb = tangents
    return tangent_sum(out, None if ta is None else product(ta, b), None if tb is None else product(a, tb))


def _dot_shape(a: Shape, b: Shape) -> Shape:
    if len(a) != 1 or len(b) != 1:
        raise ShapeMismatch(
            f"dot needs two vectors; got a {_describe(a)} and a {_describe(b)} (use @ for matrices)"
        )
    if a != b:
        raise ShapeMismatch(f"dot needs vectors of the same length; got {show_shape(a)} and {show_shape(b)}")
    return ()


register_dot = register(Op(
    name="dot", label="dot", syntax="dot(a, b)", template="dot({0}, {1})", arity=2,
    forward=product,
    vjp=lambda g, out, a, b: (g * b, g * a),
    jvp=_product_jvp, work=product_work,
    jacobian=lambda out, a, b: (np.asarray(b, dtype=np.float64).copy(), np.asarray(a, dtype=np.float64).copy()),
    shape=_dot_shape, forward_latex=r"a \cdot b = \sum_i a_i b_i",
    local_latex=(r"b^{\top}", r"a^{\top}"),
    intuition="dot switches like *: each vector's gradient is the upstream times the other vector",
    latex=r"#1 \cdot #2",
    domain=("real", "real"), is_function=True,
    closed_form=(r"{#2}^{\top}", r"{#1}^{\top}"),
    gate=_code("""
class DotGate:
    def forward(self, x, y):
        z = np.dot(x, y)
        self.x = x
        self.y = y
        return z

    def backward(self, dz):
        dx = self.y * dz  # dot switches, as * does
        dy = self.x * dz
        return [dx, dy]
"""),
))


def _matmul_shape(a: Shape, b: Shape) -> Shape:
    if not a or not b:
        raise ShapeMismatch(
            f"@ needs vectors or matrices; got a {_describe(a)} and a {_describe(b)} (use * to scale)"
        )
    inner_a = a[-1]
    inner_b = b[0]
    if inner_a != inner_b:
        raise ShapeMismatch(
            f"@ cannot multiply a {_describe(a)} by a {_describe(b)}: the inner sizes "
            f"{inner_a} and {inner_b} differ"
        )
    return a[:-1] + b[1:]


def _matmul_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    # Shape convention: dA = G B^T and dB = A^T G, with vectors as the rows or
    # columns they stand for (an outer product where one side is a vector).
    a_rank, b_rank = np.ndim(a), np.ndim(b)
    if a_rank == 2 and b_rank == 2:
        return product(g, np.transpose(b)), product(np.transpose(a), g)
    if a_rank == 2:  # matrix @ vector
        return np.outer(g, b), product(np.transpose(a), g)
    if b_rank == 2:  # vector @ matrix
        return product(b, g), np.outer(a, g)
    return g * b, g * a  # vector @ vector: a scalar


def _matmul_rows_vjp(wanted: tuple[bool, bool], g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """_matmul_vjp for a batch of upstreams, one per row of g (see unbroadcast_rows); a matrix
    that needs no gradient (W as data) gets none, which saves a product of W's size per row."""
    rows = np.shape(g)[0]
    a_rank, b_rank = np.ndim(a), np.ndim(b)
    da = db = None
    if a_rank == 2 and b_rank == 2:  # per row dA = G B^T, dB = A^T G: the rows stacked as one product
        p, q = np.shape(g)[1:]
        if wanted[0]:
            da = product(np.reshape(g, (rows * p, q)), np.transpose(b)).reshape(rows, p, -1)
        if wanted[1]:
            flipped = np.reshape(np.transpose(g, (0, 2, 1)), (rows * q, p))  # dB^T = G^T A
            db = np.transpose(product(flipped, a).reshape(rows, q, -1), (0, 2, 1))
    elif a_rank == 2:  # matrix @ vector: dA = g b^T, db = A^T g, i.e. the rows g times A
        if wanted[0]:
            da = g[:, :, None] * b
        if wanted[1]:
            db = product(g, a)
    elif b_rank == 2:  # vector @ matrix: da = B g, i.e. the rows g times B^T; dB = a g^T
        if wanted[0]:
            da = product(g, np.transpose(b))
        if wanted[1]:
            db = a[:, None] * g[:, None, :]
    else:  # vector @ vector
        da = g[:, None] * b if wanted[0] else None
        db = g[:, None] * a if wanted[1] else None
    return da, db


def _matmul_jacobian(out: Any, a: Any, b: Any) -> tuple[Array, Array]:
    a2 = np.asarray(a if np.ndim(a) == 2 else np.reshape(a, (1, -1)), dtype=np.float64)
    b2 = np.asarray(b if np.ndim(b) == 2 else np.reshape(b, (-1, 1)), dtype=np.float64)
    n, k = a2.shape[0], b2.shape[1]
    # out[i, j] = sum_l A[i, l] B[l, j]
    jac_a = np.einsum("ip,qj->ijpq", np.eye(n), b2)
    jac_b = np.einsum("ip,qj->ijpq", a2, np.eye(k))
    out_shape = np.shape(out)
    return (
        jac_a.reshape(out_shape + np.shape(a)),
        jac_b.reshape(out_shape + np.shape(b)),
    )


def _matmul_closed_form(shapes: tuple[Shape, ...]) -> tuple[str, str]:
    """@'s Jacobians in the Jacobian form, with matrices flattened row by row (⊗: Kronecker)."""
    a, b = (len(shape) for shape in shapes)
    if a == 1 and b == 1:
        return r"{#2}^{\top}", r"{#1}^{\top}"  # u @ h: a dot product
    if a == 2 and b == 1:
        return r"I \otimes {#2}^{\top}", "#1"  # W @ x: dz/dx = W
    if a == 1:
        return r"{#2}^{\top}", r"{#1}^{\top} \otimes I"  # x @ W
    return r"I \otimes {#2}^{\top}", r"#1 \otimes I"  # A @ B


register_matmul = register(Op(
    name="matmul", label="@", syntax="A @ B", template="{0} @ {1}", arity=2,
    forward=product,
    vjp=_matmul_vjp, jvp=_product_jvp, work=product_work, jacobian=_matmul_jacobian, shape=_matmul_shape,
    extra={"rows_vjp": _matmul_rows_vjp},
    forward_latex=r"(AB)_{ij} = \sum_k A_{ik} B_{kj}",
    local_latex=(r"\frac{\partial (AB)_{ij}}{\partial A_{kl}} = \mathbf{1}(i = k)\,B_{lj}",
                 r"\frac{\partial (AB)_{ij}}{\partial B_{kl}} = A_{ik}\,\mathbf{1}(j = l)"),
    intuition="@ switches like *: dA = G B^T and dB = A^T G for the upstream gradient G",
    symbol="@", precedence=20, latex=r"#1\,#2",
    domain=("real", "real"),
    closed_form=_matmul_closed_form,
    gate=_code("""
class MatMulGate:
    def forward(self, x, y):
        z = x @ y
        self.x = x
        self.y = y
        return z

    def backward(self, dz):
        # dx = dz y^T and dy = x^T dz, a vector x standing for a row, a vector y for a column.
        x2 = np.reshape(self.x, (-1, np.shape(self.x)[-1]))
        y2 = np.reshape(self.y, (np.shape(self.y)[0], -1))
        dz2 = np.reshape(dz, (x2.shape[0], y2.shape[1]))
        dx = np.reshape(dz2 @ y2.T, np.shape(self.x))
        dy = np.reshape(x2.T @ dz2, np.shape(self.y))
        return [dx, dy]
"""),
))


# ---------------------------------------------------------------------------
# What courses write: indexing, reductions along an axis, max(v) and min(v),
# outer, norm, logsumexp, log_softmax. The parameterised ones (an index, an
# axis) are one entry each, bound per node by `bind` (see Op.params).
# ---------------------------------------------------------------------------


def _by_vjp(vjp: Callable[..., tuple[Any, ...]]) -> Callable[..., tuple[Array, ...]]:
    """A linear map's local Jacobian, row by row from its VJP (built only to be shown)."""

    def jacobian(out: Any, *args: Any, **params: Any) -> tuple[Array, ...]:
        out_shape = np.shape(out)
        jacobians = [np.zeros(out_shape + np.shape(a)) for a in args]
        for at in np.ndindex(out_shape):
            seed = np.zeros(out_shape)
            seed[at] = 1.0
            for k, d in enumerate(vjp(seed[()], out, *args, **params)):
                jacobians[k][at] = d
        return tuple(jacobians)

    return jacobian


def _index_shape(a: Shape, index: tuple[Any, ...] = (0,)) -> Shape:
    if not a:
        raise ShapeMismatch("a scalar cannot be indexed: it has no axes")
    if len(index) > len(a):
        raise ShapeMismatch(
            f"{len(index)} indices for a {_describe(a)}: it has {len(a)} "
            f"{'axis' if len(a) == 1 else 'axes'}"
        )
    out: list[int] = []
    for axis, (item, size) in enumerate(zip(index, a, strict=False)):
        if isinstance(item, slice):
            taken = len(range(*item.indices(size)))
            if taken == 0:
                raise ShapeMismatch(
                    f"the range {show_param(item)} takes nothing of axis {axis} (size {size})"
                )
            out.append(taken)
        elif not -size <= item < size:
            raise ShapeMismatch(
                f"index {item} is out of range for axis {axis} of a {_describe(a)}: "
                f"from 0 to {size - 1} (or -{size} to -1 from the end)"
            )
    return tuple(out) + a[len(index):]


def _index_forward(a: Any, index: tuple[Any, ...] = (0,)) -> Any:
    picked = np.asarray(a, dtype=np.float64)[index]
    return picked.copy() if isinstance(picked, np.ndarray) else np.float64(picked)


def _index_vjp(g: Any, out: Any, a: Any, index: tuple[Any, ...] = (0,)) -> tuple[Any]:
    downstream = np.zeros(np.shape(a))
    downstream[index] = g
    return (downstream,)


register_index = register(Op(
    name="index", label="[{index}]", syntax="a[i], W[i, :], W[:, j]", template="{0}[{index}]",
    arity=1, forward=_index_forward, vjp=_index_vjp,
    jvp=lambda t, out, a, index=(0,): tangent_sum(out, None if t[0] is None else _index_forward(t[0], index)),
    work=lambda out, a, index=(0,): OpWork(NO_WORK, (NO_WORK,), (NO_WORK,)),
    jacobian=_by_vjp(_index_vjp), shape=_index_shape,
    forward_latex=r"z = x_{i}", local_latex=(r"e_{i}^{\top}",),
    intuition="indexing routes: the picked elements get the upstream gradient, every other element 0",
    short_intuition="[ ] routes", symbol="[]", precedence=50, latex=r"{#1}_{[{index}]}",
    domain=("real",), params={"index": (0,)}, closed_form=(r"e_{i}^{\top}",),
    gate=_code("""
class IndexGate:
    index = 0  # what the brackets hold: 2, (0, slice(None)) for W[0, :]...

    def forward(self, x):
        z = x[self.index]
        self.shape = np.shape(x)
        return z

    def backward(self, dz):
        dx = np.zeros(self.shape)
        dx[self.index] = dz  # the picked elements get dz, the others 0
        return [dx]
"""),
))


def _axis_shape(a: Shape, axis: int = 0) -> Shape:
    if not a:
        raise ShapeMismatch("a scalar has no axis: sum(x) or mean(x) without axis= reduce it")
    if not -len(a) <= axis < len(a):
        axes = "0" if len(a) == 1 else "0 and 1 (or -1 and -2)"
        raise ShapeMismatch(f"axis {axis} is out of range for a {_describe(a)}: its axes are {axes}")
    axis %= len(a)
    return a[:axis] + a[axis + 1:]


def _spread(g: Any, a: Any, axis: int) -> Any:
    """An upstream of a reduction along `axis`, copied back along that axis."""
    return np.broadcast_to(np.expand_dims(g, axis), np.shape(a)).copy()


def _sum_axis_vjp(g: Any, out: Any, a: Any, axis: int = 0) -> tuple[Any]:
    return (_spread(g, a, axis),)


def _mean_axis_vjp(g: Any, out: Any, a: Any, axis: int = 0) -> tuple[Any]:
    return (_spread(g, a, axis) / np.shape(a)[axis],)


def _axis_work(mean: bool) -> Callable[..., OpWork]:
    def work(out: Shape, a: Shape, axis: int = 0) -> OpWork:
        size = math.prod(out)
        forward = summed(a[axis], size) + (MUL * size if mean else NO_WORK)
        return OpWork(forward, (MUL * math.prod(a) if mean else NO_WORK,), (forward,))

    return work


def _axis_reduction(name: str, mean: bool) -> Op:
    """sum(A, axis=k) or mean(A, axis=k): one entry, its axis a parameter (see Op.params)."""
    reduce = "mean" if mean else "sum"
    vjp = _mean_axis_vjp if mean else _sum_axis_vjp
    numpy_reduce = np.mean if mean else np.sum
    scale, scale_latex = (" / self.shape[self.axis]", r"\frac{1}{n}") if mean else ("", "")
    return register(Op(
        name=name, label=f"{reduce} axis {{axis}}", syntax=f"{reduce}(A, axis=k)",
        template=f"{reduce}({{0}}, axis={{axis}})", arity=1,
        forward=lambda a, axis=0: np.asarray(numpy_reduce(a, axis=axis))[()],
        vjp=vjp,
        jvp=lambda t, out, a, axis=0: tangent_sum(
            out, None if t[0] is None else np.asarray(numpy_reduce(t[0], axis=axis))[()]
        ),
        work=_axis_work(mean=mean), jacobian=_by_vjp(vjp), shape=_axis_shape,
        forward_latex=rf"z_j = {scale_latex}\sum_i A_{{ij}} \text{{ (axis 0)}}",
        local_latex=(rf"{scale_latex}\mathbf{{1}}^{{\top}} \text{{ along the axis}}",),
        intuition=(
            "mean along an axis gives each element 1/n of its own mean's upstream gradient"
            if mean
            else "sum along an axis distributes like +: each element gets the upstream gradient of its own sum"
        ),
        short_intuition=None if mean else "sum distributes",
        latex=rf"\operatorname{{{reduce}}}_{{{{axis}}}}(#1)",
        domain=("real",), is_function=True, call=reduce, params={"axis": 0},
        closed_form=(rf"{scale_latex}\mathbf{{1}}^{{\top}}",),
        gate=_code(f"""
class {reduce.capitalize()}AxisGate:
    axis = 0  # {reduce}(A, axis=0): one {reduce} per column

    def forward(self, x):
        z = np.{reduce}(x, axis=self.axis)
        self.shape = np.shape(x)
        return z

    def backward(self, dz):
        # each element gets its own {reduce}'s dz{" / n" if mean else ""}
        dx = np.expand_dims(dz, self.axis) * np.ones(self.shape){scale}
        return [dx]
"""),
    ))


register_sum_axis = _axis_reduction("sum_axis", mean=False)
register_mean_axis = _axis_reduction("mean_axis", mean=True)


def _extreme_share(out: Any, a: Any) -> Any:
    """Which elements are the max (or min), each with its share: ties share evenly (amax)."""
    a = np.asarray(a, dtype=np.float64)
    picked = (a == out) | (np.isnan(a) & np.isnan(out))
    return picked / max(1, int(np.count_nonzero(picked)))


def _extreme_vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
    return ((g * _extreme_share(out, a))[()],)


def _extreme_jvp(t: tuple[Any], out: Any, a: Any) -> Any:
    return tangent_sum(out, None if t[0] is None else np.float64(np.sum(t[0] * _extreme_share(out, a))))


def _extreme_kink(which: str, reduce: Callable[..., Any]) -> Callable[..., tuple[str, str] | None]:
    def kink(a: Any) -> tuple[str, str] | None:
        tied = int(np.count_nonzero(np.asarray(a) == reduce(a)))
        if tied < 2:
            return None
        return (
            "tie",
            f"{which}(v): {tied} elements share the {'largest' if which == 'max' else 'smallest'} "
            f"value, so the upstream gradient is split evenly, 1/{tied} to each (PyTorch's "
            f"a{which} convention)",
        )

    return kink


def _extreme_work(out: Shape, a: Shape) -> OpWork:
    size = math.prod(a)
    return OpWork(FUNCTION * size, (MUL * size,), (MUL * size + summed(size, 1),))


def _extreme(name: str, which: str, reduce: Callable[..., Any], routes: str) -> Op:
    return register(Op(
        name=name, label=which, syntax=f"{which}(v)", template=f"{which}({{0}})", arity=1,
        forward=lambda a: np.float64(reduce(a)), vjp=_extreme_vjp, jvp=_extreme_jvp,
        work=_extreme_work, jacobian=_by_vjp(_extreme_vjp), shape=to_scalar,
        forward_latex=rf"\{which}_i x_i", local_latex=(r"e_{k}^{\top},\ k = \operatorname{arg" + which + "}",),
        intuition=f"{which}(v) routes: the whole upstream gradient goes to the {routes} element "
        "(ties share it evenly)",
        short_intuition=f"{which} routes", routes_to=routes, latex=rf"\{which}(#1)",
        scalar=_s_identity, domain=("real",), is_function=True, call=which,
        kink=_extreme_kink(which, reduce),
        convention=f"{which}(v) with tied elements: the upstream gradient is split evenly among "
        f"them (PyTorch's a{which})",
        closed_form=(r"e_{k}^{\top}",),
        gate=_code(f"""
class {which.capitalize()}ReduceGate:
    def forward(self, x):
        z = np.{which}(x)
        self.x = x
        self.z = z
        return z

    def backward(self, dz):
        picked = self.x == self.z  # the {routes} element(s); a tie shares dz evenly
        dx = picked / np.sum(picked) * dz
        return [dx]
"""),
    ))


register_amax = _extreme("amax", "max", np.max, "largest")
register_amin = _extreme("amin", "min", np.min, "smallest")


def _outer_shape(a: Shape, b: Shape) -> Shape:
    if len(a) != 1 or len(b) != 1:
        raise ShapeMismatch(f"outer needs two vectors; got a {_describe(a)} and a {_describe(b)}")
    return (a[0], b[0])


def _outer_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return product(g, b), product(np.transpose(g), a)


def _outer_work(out: Shape, a: Shape, b: Shape) -> OpWork:
    n, m = out
    return OpWork(MUL * (n * m), (MUL * (n * m) + summed(m, n), MUL * (n * m) + summed(n, m)),
                  (MUL * (n * m), MUL * (n * m)))


register_outer = register(Op(
    name="outer", label="outer", syntax="outer(a, b)", template="outer({0}, {1})", arity=2,
    forward=np.outer, vjp=_outer_vjp,
    jvp=lambda t, out, a, b: tangent_sum(
        out, None if t[0] is None else np.outer(t[0], b), None if t[1] is None else np.outer(a, t[1])
    ),
    work=_outer_work, jacobian=_by_vjp(_outer_vjp), shape=_outer_shape,
    forward_latex=r"(a b^{\top})_{ij} = a_i b_j",
    local_latex=(r"\frac{\partial (ab^{\top})_{ij}}{\partial a_k} = \mathbf{1}(i = k)\,b_j",
                 r"\frac{\partial (ab^{\top})_{ij}}{\partial b_k} = a_i\,\mathbf{1}(j = k)"),
    intuition="outer switches like *: da = G b and db = G^T a for the upstream gradient G",
    short_intuition="outer switches", latex=r"#1\,{#2}^{\top}",
    domain=("real", "real"), is_function=True,
    closed_form=(r"I \otimes #2", r"#1 \otimes I"),
    gate=_code("""
class OuterGate:
    def forward(self, x, y):
        z = np.outer(x, y)
        self.x = x
        self.y = y
        return z

    def backward(self, dz):
        dx = dz @ self.y  # outer switches, as * does
        dy = dz.T @ self.x
        return [dx, dy]
"""),
))


def _norm_vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
    with np.errstate(all="ignore"):
        return (np.where(out == 0.0, 0.0, g * np.asarray(a) / out)[()],)


def _s_norm(a: float) -> tuple[float, float]:
    return abs(a), (1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0 if a == 0.0 else NAN)


register_norm = register(Op(
    name="norm", label="norm", syntax="norm(x)", template="norm({0})", arity=1,
    forward=lambda a: np.float64(np.sqrt(np.sum(np.square(a)))), vjp=_norm_vjp,
    jvp=lambda t, out, a: tangent_sum(out, None if t[0] is None else np.float64(np.sum(_norm_vjp(t[0], out, a)[0]))),
    work=lambda out, a: OpWork(MULTIPLY_ADD * math.prod(a) + FUNCTION, (MUL * (2 * math.prod(a)),),
                               (MULTIPLY_ADD * math.prod(a) + MUL,)),
    jacobian=_by_vjp(_norm_vjp), shape=to_scalar,
    forward_latex=r"\lVert x \rVert = \sqrt{\textstyle\sum_i x_i^{2}}",
    local_latex=(r"\frac{x^{\top}}{\lVert x \rVert}",),
    intuition="norm sends each element the upstream gradient times its share of the length, x / |x|",
    latex=r"\left\lVert #1 \right\rVert", scalar=_s_norm, domain=("real",), is_function=True,
    kink=lambda a: None if np.any(np.asarray(a) != 0.0) else (
        "kink", "norm at 0: its local gradient is taken as 0 (PyTorch's convention)"),
    convention="norm'(0) = 0 (PyTorch's convention)",
    closed_form=(r"\frac{{#1}^{\top}}{\lVert #1 \rVert}",),
    gate=_code("""
class NormGate:
    def forward(self, x):
        z = np.sqrt(np.sum(x * x))
        self.x = x
        self.z = z
        return z

    def backward(self, dz):
        dx = self.x / self.z * dz  # [dz/dx = x / |x|]
        return [dx]
"""),
))


def _logsumexp(a: Any) -> Any:
    with np.errstate(all="ignore"):
        top = np.max(a)
        shift = top if np.isfinite(top) else 0.0
        return np.float64(shift + np.log(np.sum(np.exp(np.asarray(a) - shift))))


def _logsumexp_vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
    with np.errstate(all="ignore"):
        return ((g * np.exp(np.asarray(a) - out))[()],)


def _log_softmax(a: Any) -> Any:
    with np.errstate(all="ignore"):
        if np.ndim(a) == 0:
            return np.float64(a - a)
        top = np.max(a, axis=-1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        shifted = a - top
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _log_softmax_vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
    if np.ndim(out) == 0:
        return (g * 0.0,)
    return (g - np.exp(out) * np.sum(g, axis=-1, keepdims=True),)


def _s_log_softmax(a: float) -> tuple[float, float]:
    # One element: log softmax is 0 whatever a is (unless a is not finite), and so is its slope.
    out = a - a
    return out, out


register_logsumexp = register(Op(
    name="logsumexp", label="logsumexp", syntax="logsumexp(x)", template="logsumexp({0})", arity=1,
    forward=_logsumexp, vjp=_logsumexp_vjp,
    jvp=lambda t, out, a: tangent_sum(out, None if t[0] is None else np.float64(np.sum(_logsumexp_vjp(t[0], out, a)[0]))),
    work=lambda out, a: OpWork(FUNCTION * (2 * math.prod(a)) + summed(math.prod(a), 1) + FUNCTION,
                               (FUNCTION * math.prod(a) + MUL * math.prod(a),),
                               (FUNCTION * math.prod(a) + MULTIPLY_ADD * math.prod(a),)),
    jacobian=_by_vjp(_logsumexp_vjp), shape=to_scalar,
    forward_latex=r"\log \sum_i e^{x_i}", local_latex=(r"\operatorname{softmax}(x)^{\top}",),
    intuition="logsumexp is a soft max: each element gets the upstream gradient times its softmax share",
    latex=r"\log\sum e^{#1}", scalar=_s_identity, domain=("real",), is_function=True,
    closed_form=(r"\operatorname{softmax}(#1)^{\top}",),
    gate=_code("""
class LogSumExpGate:
    def forward(self, x):
        top = np.max(x)
        z = top + np.log(np.sum(np.exp(x - top)))  # shifted: nothing overflows
        self.x = x
        self.z = z
        return z

    def backward(self, dz):
        dx = np.exp(self.x - self.z) * dz  # [dz/dx = softmax(x)]
        return [dx]
"""),
))
register_log_softmax = register(Op(
    name="log_softmax", label="log_softmax", syntax="log_softmax(x)", template="log_softmax({0})",
    arity=1, forward=_log_softmax, vjp=_log_softmax_vjp,
    jvp=lambda t, out, a: tangent_sum(out, None if t[0] is None else (
        t[0] * 0.0 if np.ndim(out) == 0 else t[0] - np.sum(np.exp(out) * t[0], axis=-1, keepdims=True)
    )),
    work=_softmax_work, jacobian=_by_vjp(_log_softmax_vjp), shape=same_shape,
    forward_latex=r"x_i - \log \sum_j e^{x_j}", local_latex=(r"I - \mathbf{1}\,s^{\top}",),
    intuition="log_softmax couples its elements (along the last axis): each gets its upstream "
    "gradient minus its softmax share of their sum",
    latex=r"\log\operatorname{softmax}(#1)", scalar=_s_log_softmax, domain=("real",),
    is_function=True, closed_form=(r"I - \mathbf{1}\operatorname{softmax}(#1)^{\top}",),
    gate=_code("""
class LogSoftmaxGate:
    def forward(self, x):
        shifted = x - np.max(x, axis=-1, keepdims=True)  # nothing overflows
        z = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
        self.z = z
        return z

    def backward(self, dz):
        dx = dz - np.exp(self.z) * np.sum(dz, axis=-1, keepdims=True)  # softmax = exp(z)
        return [dx]
"""),
))

#: Named numbers of the language: a name not assigned and not given in values reads as one,
#: a constant node like a literal. Name -> (value, LaTeX).
CONSTANTS: dict[str, tuple[float, str]] = {"pi": (math.pi, r"\pi"), "e": (math.e, "e")}


def describe_constants() -> list[dict[str, Any]]:
    """The named numbers, as the page's reference card lists them."""
    return [{"name": name, "value": value, "latex": latex} for name, (value, latex) in CONSTANTS.items()]


def describe_ops() -> list[dict[str, Any]]:
    """Every op: name, syntax, arity, LaTeX of its formula and local gradients, intuition."""
    return [op.describe() for op in OPS.values()]
