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
#: Up to this many elements a tensor is written out in a step text (the neural
#: layer's 2 x 3 gradient and its 2 x 2 x 3 local Jacobian); a larger one as its shape, <64x64>.
MAX_ELEMENTS = 16
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
    """A float or an array as text: numbers as format_number; up to 16 elements written out as nested lists, else <shape>."""
    if type(v) is float:
        return format_number(v)
    array = np.asarray(v, dtype=np.float64)
    if array.ndim == 0:
        return format_number(float(array))
    if array.size <= MAX_ELEMENTS:
        return _nested(array.tolist())
    return shape_text(array.shape)


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return format_number(items)


def shape_text(shape: tuple[int, ...]) -> str:
    """A tensor too large to write out: its shape, <2x3>."""
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
