"""The syntax tree: small dataclasses that keep each construct's span.

`span` is the [start, end) of the whole construct in the expression; binary
and unary operators also keep `op_span`, the operator itself, which is where
a shape error is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(slots=True, eq=False)
class Num:
    value: float
    text: str
    span: Span


@dataclass(slots=True, eq=False)
class Name:
    name: str
    span: Span


@dataclass(slots=True, eq=False)
class Unary:
    op: str  # "-" or "+"
    operand: Expr
    span: Span
    op_span: Span


@dataclass(slots=True, eq=False)
class Binary:
    op: str  # + - * / ** @
    left: Expr
    right: Expr
    span: Span
    op_span: Span


@dataclass(slots=True, eq=False)
class Transpose:
    operand: Expr
    span: Span
    op_span: Span


@dataclass(slots=True, frozen=True)
class Keyword:
    """A static parameter of a call, `axis=0`: a whole number, known before anything runs."""

    name: str
    value: int
    span: Span


@dataclass(slots=True, eq=False)
class Call:
    func: str  # the name as typed
    args: tuple[Expr, ...]
    span: Span
    name_span: Span
    op: str = ""  # the registry op it resolved to (max(v) is "amax", max(a, b) is "max")
    keywords: tuple[Keyword, ...] = ()
    defined: bool = False  # a function the program defines (def), inlined when lowering


@dataclass(slots=True, frozen=True)
class IndexItem:
    """One position of an index: a whole number (`start`), a range `start:stop` (either
    side may be missing: `:` is everything), or an input named in constants (`name`)."""

    start: int | None
    stop: int | None
    single: bool  # a number, not a range: it removes its axis
    span: Span
    name: str | None = None


@dataclass(slots=True, eq=False)
class Index:
    """`z[2]`, `W[0, :]`, `p[y]`: the operand, its index items, and the brackets' span."""

    operand: Expr
    items: tuple[IndexItem, ...]
    span: Span
    op_span: Span


Expr = Num | Name | Unary | Binary | Transpose | Call | Index


@dataclass(slots=True, eq=False)
class Assign:
    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass(slots=True, eq=False)
class Def:
    """`def neuron(w, x, b) = tanh(w @ x + b)`: a function of the program, inlined at each call.

    Its body reads only its parameters (and literals, pi, e, and the functions
    defined before it); `params` and `param_spans` are parallel.
    """

    name: str
    params: tuple[str, ...]
    body: Expr
    span: Span
    name_span: Span
    param_spans: tuple[Span, ...]


Statement = Assign | Def | Expr


@dataclass(slots=True, frozen=True)
class Program:
    """A parsed program: its statements in order (the last one the output) and its text."""

    statements: tuple[Statement, ...]
    expression: str = ""


def children(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of a node, left to right."""
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary | Transpose | Index):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def first_use(program: Program, name: str) -> Span | None:
    """The span of the first place `name` is used (read as an input), or None."""
    first: Span | None = None
    for found, span in _reads(program):
        if found == name and (first is None or span < first):
            first = span
    return first


def _reads(program: Program) -> list[tuple[str, Span]]:
    """Every name the program reads, as an operand or as an index, with its span (any order)."""
    reads: list[tuple[str, Span]] = []
    # A def's body reads its parameters, not the program's inputs.
    stack: list[Expr] = [
        s.value if isinstance(s, Assign) else s for s in program.statements if not isinstance(s, Def)
    ]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            reads.append((node.name, node.span))
            continue
        if isinstance(node, Index):
            reads.extend((item.name, item.span) for item in node.items if item.name is not None)
        stack.extend(children(node))
    return reads


def free_names(program: Program) -> dict[str, Span]:
    """The names a program reads but never assigns (its inputs), each with its first use."""
    assigned = {s.name for s in program.statements if isinstance(s, Assign)}
    found: dict[str, Span] = {}
    for name, span in _reads(program):
        if name not in assigned and (name not in found or span < found[name]):
            found[name] = span
    return dict(sorted(found.items(), key=lambda item: item[1]))


def index_text(item: IndexItem) -> str:
    """An index item as written: `2`, `-1`, `:`, `1:3`, `y`."""
    if item.name is not None:
        return item.name
    if item.single:
        return str(item.start)
    return ("" if item.start is None else str(item.start)) + ":" + ("" if item.stop is None else str(item.stop))


def sexpr(node: Statement) -> str:
    """An S-expression of the tree, for tests: `(* (+ x y) (max y z))`.

    Iterative, because a long chain such as x+x+...+x is a deep tree.
    """
    out: list[str] = []
    # Each stack entry is either a node to render or a literal string to emit.
    stack: list[Statement | str] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Num):
            out.append(item.text)
        elif isinstance(item, Name):
            out.append(item.name)
        elif isinstance(item, Assign):
            stack.extend([")", item.value, f"(= {item.name} "])
        elif isinstance(item, Def):
            stack.extend([")", item.body, f"(def {item.name} ({' '.join(item.params)}) "])
        else:
            head = ""
            if isinstance(item, Unary):
                head = "neg" if item.op == "-" else "pos"
            elif isinstance(item, Binary):
                head = item.op
            elif isinstance(item, Transpose):
                head = ".T"
            elif isinstance(item, Index):
                head = "[" + ", ".join(index_text(i) for i in item.items) + "]"
            elif isinstance(item, Call):
                head = item.func
            parts: list[Statement | str] = [")"]
            for child in reversed(children(item)):
                parts.extend([child, " "])
            parts.append("(" + head)
            stack.extend(parts)
    return "".join(out)
