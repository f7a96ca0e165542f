"""tokenize(): the expression's text as ASCII tokens with character spans.

The tokenizer never raises. A character that is not in the language becomes
an `error` token carrying its message, and the parser raises when it reaches
it: so `eval('1+1')` is reported as an unknown function at 0, the first
problem in reading order, not as a quote at 5.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Token(NamedTuple):
    kind: str  # number, name, op, (, ), ",", =, sep, .T, error, end
    text: str
    start: int
    end: int
    message: str = ""


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r]+)
  | (?P<comment>\#[^\n]*)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<transpose>\.T(?![A-Za-z0-9_]))
  | (?P<op>\*\*|[-+*/@])
  | (?P<sep>[;\n])
  | (?P<punct>[(),=])
    """,
    re.VERBOSE | re.ASCII,
)

_EXPLAIN = {
    "^": "'^' is not an operator here: use ** for powers (x**2)",
    "_": "names cannot start with '_': a name starts with a letter",
    "'": "quotes are not in the language: there are no strings",
    '"': "quotes are not in the language: there are no strings",
    ".": "'.' is only a decimal point (0.5) or the transpose '.T'",
    "[": "'[' is not in the language: give vectors and matrices as input values",
    "]": "']' is not in the language: give vectors and matrices as input values",
    "%": "'%' is not an operator here",
    "!": "'!' is not an operator here",
    "<": "comparisons are not in the language",
    ">": "comparisons are not in the language",
}


def _describe(char: str) -> str:
    if char in _EXPLAIN:
        return _EXPLAIN[char]
    if not char.isascii():
        return f"only ASCII characters are allowed; found {char!r} (U+{ord(char):04X})"
    if not char.isprintable():
        return f"unexpected control character (U+{ord(char):04X})"
    return f"unexpected character {char!r}"


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an `end` token; newlines inside parentheses are dropped."""
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN.match
    pos = 0
    n = len(text)
    parens = 0
    while pos < n:
        m = match(text, pos)
        if m is None:
            char = text[pos]
            end = pos + 1
            if char == "_":
                # Swallow the whole would-be name so the error spans it.
                while end < n and (text[end].isascii() and (text[end].isalnum() or text[end] == "_")):
                    end += 1
            append(Token("error", text[pos:end], pos, end, _describe(char)))
            pos = end
            continue
        kind = m.lastgroup
        end = m.end()
        if kind == "name":
            append(Token("name", m.group(), pos, end))
        elif kind == "op":
            append(Token("op", m.group(), pos, end))
        elif kind == "number":
            append(Token("number", m.group(), pos, end))
        elif kind == "punct":
            char = m.group()
            if char == "(":
                parens += 1
            elif char == ")":
                parens -= 1
            append(Token(char, char, pos, end))
        elif kind == "sep":
            # Inside parentheses a newline continues the line, as in Python.
            if not (parens > 0 and m.group() == "\n"):
                append(Token("sep", m.group(), pos, end))
        elif kind == "transpose":
            append(Token(".T", ".T", pos, end))
        pos = end
    append(Token("end", "", n, n))
    return tokens
