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


@dataclass(slots=True, eq=False)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span
    name_span: Span


Expr = Num | Name | Unary | Binary | Transpose | Call


@dataclass(slots=True, eq=False)
class Assign:
    name: str
    value: Expr
    span: Span
    name_span: Span


Statement = Assign | Expr


@dataclass(slots=True, frozen=True)
class Program:
    """A parsed program: its statements in order (the last one the output) and its text."""

    statements: tuple[Statement, ...]
    expression: str = ""


def children(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of a node, left to right."""
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary | Transpose):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def first_use(program: Program, name: str) -> Span | None:
    """The span of the first place `name` is used (read as an input), or None."""
    first: Span | None = None
    stack: list[Expr] = [s.value if isinstance(s, Assign) else s for s in program.statements]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            if node.name == name and (first is None or node.span < first):
                first = node.span
        else:
            stack.extend(children(node))
    return first


def free_names(program: Program) -> dict[str, Span]:
    """The names a program reads but never assigns (its inputs), each with its first use."""
    assigned = {s.name for s in program.statements if isinstance(s, Assign)}
    found: dict[str, Span] = {}
    stack: list[Expr] = [s.value if isinstance(s, Assign) else s for s in program.statements]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            name = node.name
            if name not in assigned and (name not in found or node.span < found[name]):
                found[name] = node.span
        else:
            stack.extend(children(node))
    return dict(sorted(found.items(), key=lambda item: item[1]))


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
        else:
            head = ""
            if isinstance(item, Unary):
                head = "neg" if item.op == "-" else "pos"
            elif isinstance(item, Binary):
                head = item.op
            elif isinstance(item, Transpose):
                head = ".T"
            elif isinstance(item, Call):
                head = item.func
            parts: list[Statement | str] = [")"]
            for child in reversed(children(item)):
                parts.extend([child, " "])
            parts.append("(" + head)
            stack.extend(parts)
    return "".join(out)
