"""Hypothesis strategies for the fuzzers: random text, token soups and grammar-shaped programs.

Grammar-shaped programs are drawn as small trees that know their own shape, so most
of them are valid programs. Each tree renders itself to expression text (with Python's
precedence and only the parentheses it needs, plus some it does not) and evaluates
itself with numpy, which gives the fuzzers a forward-value oracle that shares no code
with the engine.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

Shape = tuple[int, ...]

ELEMENTWISE = ["exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu"]
BINARY_FUNCS = ["max", "min"]
REDUCTIONS = ["sum", "mean"]
FUNCTIONS = ELEMENTWISE + BINARY_FUNCS + REDUCTIONS + ["dot", "softmax"]
BINARY_OPS = ["+", "-", "*", "/", "**"]

# Binding powers, loosest first: Python's order for the operators the language has.
ADD, MUL, UNARY, POW, POSTFIX, ATOM = 1, 2, 3, 4, 5, 6
_PREC = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "@": MUL, "**": POW}

_NAME_POOL = ["x", "y", "z", "w", "u", "v", "b", "W", "A", "B", "h", "p", "q", "s", "t"]


# ---------------------------------------------------------------- the program tree


@dataclass
class Node:
    shape: Shape
    paren: bool = field(default=False, kw_only=True)

    prec = ATOM

    def text(self) -> str:
        raise NotImplementedError

    def value(self, env: Env) -> np.ndarray:
        raise NotImplementedError


@dataclass
class Env:
    """Input and assigned values, and whether anything non-finite appeared on the way."""

    values: dict[str, np.ndarray]
    nonfinite: bool = False

    def seen(self, array: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(array)):
            self.nonfinite = True
        return array


def _wrap(node: Node, need: int) -> str:
    text = node.text()
    if node.paren or node.prec < need:
        return f"({text})"
    return text


@dataclass
class Name(Node):
    name: str = ""

    def text(self) -> str:
        return self.name

    def value(self, env: Env) -> np.ndarray:
        return env.values[self.name]


@dataclass
class Literal(Node):
    literal: str = "1"

    def text(self) -> str:
        return self.literal

    def value(self, env: Env) -> np.ndarray:
        return env.seen(np.float64(float(self.literal)))


@dataclass
class Unary(Node):
    op: str = "-"
    operand: Node | None = None
    prec = UNARY

    def text(self) -> str:
        assert self.operand is not None
        return self.op + _wrap(self.operand, UNARY)

    def value(self, env: Env) -> np.ndarray:
        assert self.operand is not None
        inner = self.operand.value(env)
        return env.seen(-inner if self.op == "-" else +inner)


@dataclass
class Binary(Node):
    op: str = "+"
    left: Node | None = None
    right: Node | None = None
    space: str = " "

    @property
    def prec(self) -> int:  # type: ignore[override]
        return _PREC[self.op]

    def text(self) -> str:
        assert self.left is not None and self.right is not None
        p = self.prec
        if self.op == "**":
            # Right-associative, and its right side may carry a unary sign: 2**-x.
            left, right = _wrap(self.left, POSTFIX), _wrap(self.right, UNARY)
        else:
            left, right = _wrap(self.left, p), _wrap(self.right, p + 1)
        return f"{left}{self.space}{self.op}{self.space}{right}"

    def value(self, env: Env) -> np.ndarray:
        assert self.left is not None and self.right is not None
        a, b = self.left.value(env), self.right.value(env)
        result = {
            "+": np.add,
            "-": np.subtract,
            "*": np.multiply,
            "/": np.divide,
            "**": np.power,
            "@": np.matmul,
        }[self.op](a, b)
        return env.seen(np.asarray(result, dtype=np.float64))


@dataclass
class Transpose(Node):
    operand: Node | None = None
    prec = POSTFIX

    def text(self) -> str:
        assert self.operand is not None
        return _wrap(self.operand, POSTFIX) + ".T"

    def value(self, env: Env) -> np.ndarray:
        assert self.operand is not None
        return np.asarray(self.operand.value(env)).T


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return np.asarray(np.where(a >= 0, 1 / (1 + np.exp(-a)), np.exp(a) / (1 + np.exp(a))))


def _softmax(a: np.ndarray) -> np.ndarray:
    shifted = a - np.max(a, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / np.sum(e, axis=-1, keepdims=True))


_REFERENCE = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda a: np.maximum(a, 0.0),
    "max": np.maximum,
    "min": np.minimum,
    "sum": np.sum,
    "mean": np.mean,
    "dot": np.dot,
    "softmax": _softmax,
}


@dataclass
class Call(Node):
    fn: str = "exp"
    args: list[Node] = field(default_factory=list)
    space: str = ""

    def text(self) -> str:
        inner = ("," + self.space).join(a.text() for a in self.args)
        return f"{self.fn}({inner})"

    def value(self, env: Env) -> np.ndarray:
        args = [a.value(env) for a in self.args]
        return env.seen(np.asarray(_REFERENCE[self.fn](*args), dtype=np.float64))


@dataclass
class Program:
    """Statements `name = tree`, then the output tree; plus the inputs' values."""

    statements: list[tuple[str, Node]]
    output: Node
    output_name: str | None
    inputs: dict[str, np.ndarray]
    separators: list[str]

    def __repr__(self) -> str:
        return f"Program(text={self.text()!r}, values={self.values_json()!r})"

    def text(self) -> str:
        parts = [f"{name} = {tree.text()}" for name, tree in self.statements]
        last = self.output.text()
        parts.append(f"{self.output_name} = {last}" if self.output_name else last)
        out = parts[0]
        for sep, part in zip(self.separators, parts[1:], strict=False):
            out += sep + part
        return out

    def live(self) -> Program:
        """The same program without the statements the output never uses."""
        needed = _names(self.output)
        kept: list[tuple[str, Node]] = []
        for name, tree in reversed(self.statements):
            if name in needed:
                kept.insert(0, (name, tree))
                needed |= _names(tree)
        inputs = {k: v for k, v in self.inputs.items() if k in needed}
        return Program(kept, self.output, self.output_name, inputs, ["; "] * len(kept))

    def values_json(self) -> dict[str, Any]:
        return {k: to_json_value(v) for k, v in self.inputs.items()}

    def reference(self) -> tuple[np.ndarray, bool]:
        """The output's value by numpy, and whether every intermediate stayed finite."""
        with np.errstate(all="ignore"):
            env = Env(dict(self.inputs))
            for name, tree in self.statements:
                env.values[name] = tree.value(env)
            out = self.output.value(env)
        return np.asarray(out, dtype=np.float64), not env.nonfinite


def _names(node: Node | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, Name):
        return {node.name}
    found: set[str] = set()
    for child in (getattr(node, "operand", None), getattr(node, "left", None), getattr(node, "right", None)):
        found |= _names(child)
    for arg in getattr(node, "args", []):
        found |= _names(arg)
    return found


def to_json_value(array: np.ndarray | float) -> Any:
    a = np.asarray(array, dtype=np.float64)
    return float(a) if a.ndim == 0 else a.tolist()


# ---------------------------------------------------------------- numbers and values

# Literals that parse to finite float64 values, in every form the contract names.
finite_literals = st.one_of(
    st.integers(0, 1000).map(str),
    st.sampled_from(["0", "1", "2", "0.5", ".5", "1e-3", "2E5", "1.5e+2", "3.25", "10"]),
    st.sampled_from(["1e308", "1.7976931348623157e308", "1e-308", "5e-324", "1e-320", "1e-400"]),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False).map(repr).filter(
        lambda s: "inf" not in s and "nan" not in s
    ),
)

# Elements of input values: mostly ordinary, some at float64's edges.
edge_floats = st.sampled_from(
    [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-300, -1e-300, 5e-324, 1e300, -1e300, 1.7976931348623157e308, 700.0, -700.0, 1000.0]
)
element = st.one_of(
    st.integers(-5, 5).map(float),
    st.floats(-10, 10, allow_nan=False, allow_infinity=False),
    edge_floats,
)
gentle_element = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


@st.composite
def arrays(draw: st.DrawFn, shape: Shape, elements: st.SearchStrategy[float] = element) -> np.ndarray:
    size = int(np.prod(shape)) if shape else 1
    flat = draw(st.lists(elements, min_size=size, max_size=size))
    return np.asarray(flat, dtype=np.float64).reshape(shape)


# ---------------------------------------------------------------- grammar-shaped programs


class _Builder:
    """Draws a typed tree of a requested shape, inventing inputs as it needs them."""

    def __init__(self, draw: st.DrawFn, elements: st.SearchStrategy[float]) -> None:
        self.draw = draw
        self.elements = elements
        self.inputs: dict[str, np.ndarray] = {}
        self.input_shapes: dict[str, Shape] = {}
        self.assigned: dict[str, Shape] = {}

    def fresh_name(self) -> str:
        taken = set(self.input_shapes) | set(self.assigned)
        pool = [n for n in _NAME_POOL if n not in taken]
        if pool and self.draw(st.booleans()):
            return self.draw(st.sampled_from(pool))
        name = self.draw(
            st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,6}\Z", fullmatch=True).filter(
                lambda n: n not in FUNCTIONS and n not in taken and n != "T"
            )
        )
        return str(name)

    def leaf(self, shape: Shape) -> Node:
        d = self.draw
        paren = d(st.integers(0, 9)) == 0
        if shape == () and d(st.booleans()):
            return Literal((), literal=d(finite_literals), paren=paren)
        same = [n for n, s in {**self.input_shapes, **self.assigned}.items() if s == shape]
        if same and d(st.booleans()):
            return Name(shape, name=d(st.sampled_from(same)), paren=paren)
        name = self.fresh_name()
        self.input_shapes[name] = shape
        self.inputs[name] = d(arrays(shape, self.elements))
        return Name(shape, name=name, paren=paren)

    def dim(self) -> int:
        return int(self.draw(st.integers(1, 3)))

    def broadcast_partner(self, shape: Shape) -> Shape:
        options: list[Shape] = [shape, ()]
        if len(shape) >= 1:
            options.append(shape[-1:])
        if len(shape) == 2:
            options += [(1, shape[1]), (shape[0], 1)]
        return self.draw(st.sampled_from(options))

    def tree(self, shape: Shape, depth: int) -> Node:
        d = self.draw
        if depth <= 0:
            return self.leaf(shape)
        kinds = ["leaf", "elementwise", "unary", "binary", "binary", "minmax"]
        if shape == ():
            kinds += ["reduce", "reduce", "dot", "vecvec"]
        if len(shape) == 1:
            kinds += ["matvec", "vecmat", "softmax"]
        if len(shape) == 2:
            kinds += ["matmat", "transpose", "softmax", "outer"]
        kind = d(st.sampled_from(kinds))
        paren = d(st.integers(0, 9)) == 0
        space = d(st.sampled_from([" ", "", "  "]))
        sub = depth - 1
        if kind == "leaf":
            return self.leaf(shape)
        if kind == "elementwise":
            fn = d(st.sampled_from(ELEMENTWISE))
            return Call(shape, fn=fn, args=[self.tree(shape, sub)], paren=paren)
        if kind == "unary":
            return Unary(shape, op=d(st.sampled_from(["-", "+"])), operand=self.tree(shape, sub), paren=paren)
        if kind in ("binary", "minmax"):
            other = self.broadcast_partner(shape)
            a, b = self.tree(shape, sub), self.tree(other, sub)
            if d(st.booleans()):
                a, b = b, a
            if kind == "minmax":
                return Call(shape, fn=d(st.sampled_from(BINARY_FUNCS)), args=[a, b], space=space, paren=paren)
            return Binary(shape, op=d(st.sampled_from(BINARY_OPS)), left=a, right=b, space=space, paren=paren)
        if kind == "outer":
            n, m = shape
            col = self.tree((n, 1), sub)
            row = self.tree(d(st.sampled_from([(m,), (1, m)])), sub)
            return Binary(shape, op=d(st.sampled_from(BINARY_OPS)), left=col, right=row, space=space, paren=paren)
        if kind == "reduce":
            inner_shape = d(st.sampled_from([(), (self.dim(),), (self.dim(), self.dim())]))
            return Call(shape, fn=d(st.sampled_from(REDUCTIONS)), args=[self.tree(inner_shape, sub)], paren=paren)
        if kind in ("dot", "vecvec"):
            k = self.dim()
            a, b = self.tree((k,), sub), self.tree((k,), sub)
            if kind == "dot":
                return Call(shape, fn="dot", args=[a, b], space=space, paren=paren)
            return Binary(shape, op="@", left=a, right=b, space=space, paren=paren)
        if kind == "matvec":
            k = self.dim()
            return Binary(shape, op="@", left=self.tree((shape[0], k), sub), right=self.tree((k,), sub), space=space, paren=paren)
        if kind == "vecmat":
            k = self.dim()
            return Binary(shape, op="@", left=self.tree((k,), sub), right=self.tree((k, shape[0]), sub), space=space, paren=paren)
        if kind == "matmat":
            k = self.dim()
            return Binary(shape, op="@", left=self.tree((shape[0], k), sub), right=self.tree((k, shape[1]), sub), space=space, paren=paren)
        if kind == "transpose":
            return Transpose(shape, operand=self.tree((shape[1], shape[0]), sub), paren=paren)
        if kind == "softmax":
            return Call(shape, fn="softmax", args=[self.tree(shape, sub)], paren=paren)
        raise AssertionError(kind)

    def any_shape(self) -> Shape:
        return self.draw(st.sampled_from([(), (self.dim(),), (self.dim(), self.dim()), (self.dim(), 1), (1, self.dim())]))


@st.composite
def programs(
    draw: st.DrawFn, max_depth: int = 4, max_statements: int = 3, elements: st.SearchStrategy[float] = element
) -> Program:
    """A valid program whose output is one number, with its inputs' values."""
    b = _Builder(draw, elements)
    statements: list[tuple[str, Node]] = []
    for _ in range(draw(st.integers(0, max_statements))):
        shape = b.any_shape()
        tree = b.tree(shape, draw(st.integers(0, max_depth)))
        name = b.fresh_name()
        b.assigned[name] = shape
        statements.append((name, tree))
    out_shape = draw(st.sampled_from([(), (), (), (1,), (1, 1)]))
    out = b.tree(out_shape, draw(st.integers(0, max_depth)))
    output_name = b.fresh_name() if draw(st.booleans()) else None
    seps = draw(st.lists(st.sampled_from(["; ", ";", "\n", " ;\n", "\r\n", ";\n\n"]), min_size=len(statements), max_size=len(statements)))
    return Program(statements, out, output_name, b.inputs, seps)


# ---------------------------------------------------------------- deep and long


@st.composite
def deep_programs(draw: st.DrawFn, max_depth: int = 260) -> tuple[str, int]:
    """One scalar input under `depth` levels of one nesting form: (text, depth)."""
    depth = draw(st.integers(1, max_depth))
    form = draw(st.sampled_from(["paren", "call", "neg", "pow", "mixed"]))
    if form == "paren":
        return "(" * depth + "x" + ")" * depth, depth
    if form == "call":
        fn = draw(st.sampled_from(["sin", "tanh", "sigmoid", "relu", "abs", "cos"]))
        return f"{fn}(" * depth + "x" + ")" * depth, depth
    if form == "neg":
        return "-" * depth + "x", depth
    if form == "pow":
        return "**".join(["x"] * (depth + 1)), depth
    text = "x"
    for i in range(depth):
        text = ["(", "-(", "sin(", "max(1, "][i % 4] + text + ")"
    return text, depth


@st.composite
def long_chains(draw: st.DrawFn, max_terms: int = 4000) -> str:
    """A long flat chain of binary operators over a few inputs."""
    n = draw(st.integers(1, max_terms))
    ops = draw(st.lists(st.sampled_from(["+", "-", "*", "/"]), min_size=1, max_size=4))
    names = draw(st.lists(st.sampled_from(["x", "y"]), min_size=1, max_size=2))
    parts = [names[0]]
    for i in range(1, n):
        parts.append(ops[i % len(ops)])
        parts.append(names[i % len(names)])
    return " ".join(parts)


@st.composite
def long_statement_chains(draw: st.DrawFn, max_statements: int = 800) -> str:
    n = draw(st.integers(1, max_statements))
    fn = draw(st.sampled_from(["sin", "tanh", "sigmoid"]))
    lines = ["a0 = x"] + [f"a{i} = {fn}(a{i - 1}) + x" for i in range(1, n)]
    return "\n".join(lines)


# ---------------------------------------------------------------- token soups and text

TOKENS = [
    "x", "y", "z", "W", "b", "u", "a1", "x_2", "T", "e", "E", "inf", "nan",
    *FUNCTIONS,
    "eval", "exec", "__import__", "os", "_x", "__class__", "lambda", "import",
    "0", "1", "2.5", ".5", "5.", "1e3", "1e", "1e+", "1e309", "1e-400", "0x1F", "1_0", "007",
    "+", "-", "*", "/", "**", "@", "^", "%", "//", "==", "<", ">", "!", "~", "&", "|",
    "(", ")", "(", ")", "[", "]", "{", "}", ",", ";", "=", ".", ".T", ":", "?",
    "'", '"', "`", "\\", "#", "$",
    " ", "  ", "\t", "\n", "\r\n", "\r", "\x00", "\x0b", "\x0c",
    "\u202e", "\u200b", "\u00a0", "\ufeff", "\u0661", "\uff12", "\u00b2", "\u0445", "\U0001f600",
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "&lt;",
]
_SEPARATORS = ["", "", " ", "\n", ";"]


@st.composite
def token_soups(draw: st.DrawFn, max_tokens: int = 40) -> str:
    tokens = draw(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=max_tokens))
    out = ""
    for tok in tokens:
        out += draw(st.sampled_from(_SEPARATORS)) + tok
    return out


grammar_alphabet = st.sampled_from(list("xyzWbuT0123456789.eE+-*/@()[],;=_ \n\t^") + ["**", "sum(", "max(", ".T", "exp("])
grammar_text = st.lists(grammar_alphabet, max_size=60).map("".join)
random_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.printable, max_size=80),
    grammar_text,
)


def names_in(text: str) -> list[str]:
    """The identifier-shaped runs in a text, for giving some of them values."""
    import re

    found = re.findall(r"[A-Za-z][A-Za-z0-9_]*", text, flags=re.ASCII)
    return sorted(set(found) - set(FUNCTIONS) - {"T"})


@st.composite
def values_for(draw: st.DrawFn, text: str) -> dict[str, Any]:
    """Values for most of a text's names, of random small shapes."""
    values: dict[str, Any] = {}
    for name in names_in(text)[:12]:
        if draw(st.integers(0, 5)) == 0:
            continue
        shape = draw(st.sampled_from([(), (), (2,), (3,), (2, 3), (3, 1), (1, 3), (3, 3)]))
        values[name] = to_json_value(draw(arrays(shape)))
    return values


# JSON of any shape, for the values field and whole bodies.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.sampled_from([10**400, -(10**400), 2**63, 2**64 + 1, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1", "", "x", "__proto__"]),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=3),
    ),
    max_leaves=20,
)


_MUTATIONS = list("()+-*/@,;=.T^_ \n0123456789eExyz#'[]") + ["**", ".T", "\u202e", "\u00a0", "\uff10"]


@st.composite
def mutated_programs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid program with one to three characters inserted, deleted or replaced:
    text one typo away from the grammar, where error positions are easiest to get wrong."""
    program = draw(programs(max_depth=3))
    text = program.text()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(_MUTATIONS))
        if kind == "insert" or not text:
            text = text[:i] + piece + text[i:]
        elif kind == "delete":
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i] + piece + text[i + 1 :]
    return text, program.values_json()
