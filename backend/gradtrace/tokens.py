"""scan() and tokenize(): the expression's text as ASCII tokens with character spans.

The tokenizer never raises. A character that is not in the language becomes
an `error` token (its message comes from `message_for`), and the parser raises
when it reaches it: so eval applied to a quoted string is reported as an
unknown function at 0, the first problem in reading order, not as a quote at 5.
`scan` returns parallel lists for the parser; `tokenize` returns Token records
for tests.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Token(NamedTuple):
    kind: str  # number, name, op, (, ), [, ], :, ",", =, sep, .T, error, end
    text: str
    start: int
    end: int
    message: str = ""


# One regex finds every token and the blanks before it (findall runs it in C); the
# kind of a token follows from its text: a table for the fixed ones, else its
# first character.
_SCAN = re.compile(
    r"""
    ([ \t\r]*)
    (
      [A-Za-z][A-Za-z0-9_]*                        # name
    | [0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?          # number
    | \.[0-9]+(?:[eE][+-]?[0-9]+)?                 # number from its decimal point
    | \*\*
    | \.T(?![A-Za-z0-9_])                          # transpose
    | \^T(?![A-Za-z0-9_])                          # the lecture's transpose: an error with a hint
    | \#[^\n]*                                     # comment
    | _[A-Za-z0-9_]*                               # a name that starts with _
    | [^ \t\r]                                      # one character: operator, punctuation or error
    )
    """,
    re.VERBOSE | re.ASCII | re.DOTALL,
)

_FIXED = {
    "+": "op", "-": "op", "*": "op", "/": "op", "@": "op", "**": "op",
    "(": "(", ")": ")", ",": ",", "=": "=", ";": "sep", "\n": "sep", ".T": ".T",
    "[": "[", "]": "]", ":": ":",
    ".": "error", "^T": "error",
}
_FIRST = {c: "name" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}
_FIRST.update({c: "number" for c in "0123456789."})
_FIRST["#"] = "comment"

_EXPLAIN = {
    "^": "'^' is not an operator here: use ** for powers (x**2)",
    "_": "names cannot start with '_': a name starts with a letter",
    "'": "quotes are not in the language: there are no strings",
    '"': "quotes are not in the language: there are no strings",
    ".": "'.' is only a decimal point (0.5) or the transpose '.T'",
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


def scan(text: str) -> tuple[list[str], list[str], list[int]]:
    """Kinds, texts and start offsets of the tokens, ending with an `end` token.

    Comments are dropped, and so is a newline inside parentheses or brackets
    (it continues the line, as in Python). Parallel lists rather than one object per token:
    the parser indexes them.
    """
    kinds: list[str] = []
    texts: list[str] = []
    starts: list[int] = []
    parens = 0
    pos = 0
    # Trailing blanks are cut first: the regex would otherwise retry them from every
    # position (blanks with no token after them), which is quadratic in their number.
    for blanks, token in _SCAN.findall(text.rstrip(" \t\r")):
        pos += len(blanks)
        kind = _FIXED.get(token) or _FIRST.get(token[0], "error")
        if kind in ("(", "["):
            parens += 1
        elif kind in (")", "]"):
            parens -= 1
        elif kind == "comment" or (parens > 0 and token == "\n"):
            pos += len(token)
            continue
        kinds.append(kind)
        texts.append(token)
        starts.append(pos)
        pos += len(token)
    kinds.append("end")
    texts.append("")
    starts.append(len(text))
    return kinds, texts, starts


def message_for(kind: str, text: str) -> str:
    """What is wrong with an error token (the parser words `^T` with its operands)."""
    if kind != "error":
        return ""
    if text == "^T":
        return "'^T' is the lecture's transpose; here it is written '.T' (u.T @ h)"
    return _describe(text[0])


def tokenize(text: str) -> list[Token]:
    """The tokens of `text` as records (for tests and messages); the parser uses scan()."""
    kinds, texts, starts = scan(text)
    return [
        Token(kind, token, start, start + len(token), message_for(kind, token))
        for kind, token, start in zip(kinds, texts, starts, strict=True)
    ]
