"""How the server writes numbers and nodes for people: one number format, one display name.

The number format is written down in docs/number-format.md, and the page's
format.js follows the same rules; tests/fixtures/number-format.json holds
the cases both are tested against. A node's display name is made here only,
sent as each node's `display_name` and used by every step text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradtrace.graph import Graph

#: Significant digits of a number in a text.
DIGITS = 4
#: Integers below this (in magnitude) are written with all their digits.
WHOLE_BELOW = 1e9
#: Up to this many elements a tensor is written out whole in a step text (the
#: neural layer's 2 x 3 gradient and its 2 x 2 x 3 local Jacobian).
MAX_ELEMENTS = 16
#: A larger one is still written in numbers, as numpy prints a large array: along
#: each axis longer than twice this many, the first and the last this many items
#: with "…" between. Fewer per axis as the rank grows, so that a text stays short.
EDGE_ITEMS = {1: 3, 2: 3, 3: 2}
ELLIPSIS = "…"
#: A node whose source text is longer than this is named by its id.
MAX_NAME_LENGTH = 24


def format_number(v: float) -> str:
    """One float64 as text: "NaN", "inf", "-inf"; 0 for both zeros; integers whole; else 4 digits.

    Beyond integers, %g's rule with 4 significant digits (ties to even, as
    the binary value decides): exponent form when the rounded exponent is
    below -4 or at least 4, written without "+" or leading zeros ("1.5e-7").
    """
    if v - v != 0.0:
        return "NaN" if v != v else ("inf" if v > 0.0 else "-inf")
    if v == 0.0:
        return "0"
    if v.is_integer() and -WHOLE_BELOW < v < WHOLE_BELOW:
        return format(v, ".0f")
    text = format(v, ".4g")
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text


def format_value(v: Any) -> str:
    """A float or an array as text: numbers as format_number, written out as nested lists.

    Up to MAX_ELEMENTS elements all of them; a larger tensor with each long
    axis cut to its first and last `edge_items` items around "…".
    """
    if type(v) is float:
        return format_number(v)
    array = np.asarray(v, dtype=np.float64)
    if array.ndim == 0:
        return format_number(float(array))
    if array.size <= MAX_ELEMENTS:
        return _nested(array.tolist())
    return _elided(array, edge_items(array.ndim))


def edge_items(ndim: int) -> int:
    """How many items a large tensor of this rank shows at each end of a long axis."""
    return EDGE_ITEMS.get(ndim, 1)


def shown_items(n: int, edge: int) -> int:
    """How many entries (items and the "…") a list of n items shows: all, or 2 x edge + 1."""
    return n if n <= 2 * edge else 2 * edge + 1


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return format_number(items)


def _elided(array: Any, edge: int) -> str:
    n = array.shape[0]
    kept = range(n) if n <= 2 * edge else [*range(edge), -1, *range(n - edge, n)]
    parts = [
        ELLIPSIS if k < 0 else (format_number(float(array[k])) if array.ndim == 1 else _elided(array[k], edge))
        for k in kept
    ]
    return "[" + ", ".join(parts) + "]"


def shape_text(shape: tuple[int, ...]) -> str:
    """A local Jacobian too large to send (its `local` is null): its shape, <2x3>."""
    return "<" + "x".join(str(n) for n in shape) + ">"


def as_operand(text: str) -> str:
    """A number's or a name's text as an operator's operand: a leading minus gets parentheses.

    Required left of ** (-2**2 is -4 in the language) and under unary minus and
    .T; kept everywhere else so that 3 * (-2) and 1 - (-2) read as the lecture writes them.
    """
    return f"({text})" if text.startswith("-") else text


def enclosed(text: str) -> bool:
    """Whether text is one parenthesised group, "(x + y)" but not "(a) + (b)"."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    last = len(text) - 1
    for k, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and k < last:
            return False
    return True


def strip_parens(text: str) -> str:
    """"(x + y)" -> "x + y": a display name adds its own parentheses where needed."""
    text = text.strip()
    while enclosed(text):
        text = text[1:-1].strip()
    return text


def output_name(graph: Graph) -> str:
    """What an unnamed output is called: f, as in the lecture, unless the program uses f."""
    taken = set(graph.name)
    for candidate in ("f", "out", "output"):
        if candidate not in taken:
            return candidate
    return f"n{graph.output}"


def display_names(graph: Graph) -> list[str]:
    """Each node's one display name, used by the step texts and sent as `display_name`.

    The name it was given or assigned to; a constant's literal; an unnamed
    output's `output_name`; else the text it came from (parentheses around it
    stripped) when that is one line of at most 24 characters; else its id.
    """
    text = graph.expression
    names = graph.name
    kinds = graph.kind
    out: list[str] = []
    for i, (name, (start, end)) in enumerate(zip(names, graph.span, strict=True)):
        if name is not None:
            out.append(name)
        elif kinds[i] == "constant":
            out.append(graph.label[i])
        elif i == graph.output:
            out.append(output_name(graph))
        else:
            # Long spans are never sliced: in a chain x + x + ... + x they nest, and
            # slicing each would copy the text once per node.
            source = strip_parens(text[start:end]) if end - start <= 3 * MAX_NAME_LENGTH else ""
            if source and len(source) <= MAX_NAME_LENGTH and "\n" not in source and ";" not in source:
                out.append(source)
            else:
                out.append(f"n{i}")
    return out
