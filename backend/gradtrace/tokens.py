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
from itertools import accumulate
from operator import itemgetter
from typing import NamedTuple


class Token(NamedTuple):
    kind: str  # number, name, op, (, ), ",", =, sep, .T, error, end
    text: str
    start: int
    end: int
    message: str = ""


# One regex finds every token and the blanks before it; findall runs it in C, and
# the kind of a token follows from its text (a table for the fixed ones, else
# its first character), so the Python loop per token stays short. The alternatives
# start with different characters, so their order changes no match: the most
# common (names) comes first because the regex tries them in order.
_SCAN = re.compile(
    r"""
    ([ \t\r]*)
    (
      [A-Za-z][A-Za-z0-9_]*                        # name
    | [0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?          # number
    | \.[0-9]+(?:[eE][+-]?[0-9]+)?                 # number from its decimal point
    | \*\*
    | \.T(?![A-Za-z0-9_])                          # transpose
    | \#[^\n]*                                     # comment
    | _[A-Za-z0-9_]*                               # a name that starts with _
    | [^ \t\r]                                      # one character: operator, punctuation or error
    )
    """,
    re.VERBOSE | re.ASCII | re.DOTALL,
)
# The same tokens without the blanks before them, for splitting the text on them.
_TOKENS = re.compile(_SCAN.pattern.replace("([ \\t\\r]*)", "", 1), _SCAN.flags)

_FIXED = {
    "+": "op", "-": "op", "*": "op", "/": "op", "@": "op", "**": "op",
    "(": "(", ")": ")", ",": ",", "=": "=", ";": "sep", "\n": "sep", ".T": ".T",
    ".": "error",
}
_FIRST = {c: "name" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}
_FIRST.update({c: "number" for c in "0123456789."})
_FIRST["#"] = "comment"
_SPECIAL = frozenset({"(", ")", "sep", "comment"})
# The kind of a token from its first character alone, for every character where that
# is enough ('.' starts a number, '.T' or an error, so it is not here).
_KIND_OF_FIRST = {chr(c): "error" for c in range(128)}
_KIND_OF_FIRST.update({c: k for c, k in _FIRST.items() if c != "."})
_KIND_OF_FIRST.update({c: k for c, k in _FIXED.items() if len(c) == 1 and c != "."})
del _KIND_OF_FIRST["."]
_FIRST_CHAR = itemgetter(0)

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


def scan(text: str) -> tuple[list[str], list[str], list[int]]:
    """Kinds, texts and start offsets of the tokens, ending with an `end` token.

    Parallel lists rather than one object per token: the parser indexes them,
    and a 100,000-op program has about a million tokens.
    """
    if "#" in text or not _parens_close_on_their_line(text):
        # Trailing blanks are cut first: the regex would otherwise retry them from every
        # position (blanks with no token after them), which is quadratic in their number.
        return _scan_slowly(_SCAN.findall(text.rstrip(" \t\r")), len(text))
    # No comment and no line break inside parentheses: every token is kept, so the
    # lists are built in C, without a Python step per token. Splitting on the tokens
    # leaves the blanks between them: [blanks, token, blanks, token, ..., blanks], so a
    # token starts where the pieces before it end. A token's first character gives
    # its kind, except for '.' and characters outside the table (None here), which
    # are looked up one by one.
    pieces = _TOKENS.split(text)
    texts = pieces[1::2]
    starts = list(accumulate(map(len, pieces)))[0:-1:2]
    kinds: list[str] = list(map(_KIND_OF_FIRST.get, map(_FIRST_CHAR, texts)))  # type: ignore[arg-type]
    if None in kinds:
        fixed = _FIXED.get
        first = _FIRST.get
        for k, kind in enumerate(kinds):
            if kind is None:
                token = texts[k]
                kinds[k] = fixed(token) or first(token[0], "error")
    kinds.append("end")
    texts.append("")
    starts.append(len(text))
    return kinds, texts, starts


def _parens_close_on_their_line(text: str) -> bool:
    """Whether every parenthesis is matched on its own line (so no newline continues one).

    Done on the text in C: drop all but brackets and newlines, then remove `()` pairs
    until none is left; anything left over is unmatched or spans a line break.
    """
    if "(" not in text and ")" not in text:
        return True
    brackets = _NOT_BRACKET.sub("", text)
    while "()" in brackets:
        brackets = brackets.replace("()", "")
    return "(" not in brackets and ")" not in brackets


_NOT_BRACKET = re.compile(r"[^()\n]+")


def _scan_slowly(pairs: list[tuple[str, str]], length: int) -> tuple[list[str], list[str], list[int]]:
    """`scan` one token at a time: comments are dropped, and a newline inside parentheses."""
    kinds: list[str] = []
    texts: list[str] = []
    starts: list[int] = []
    add_kind = kinds.append
    add_text = texts.append
    add_start = starts.append
    fixed = _FIXED.get
    first = _FIRST.get
    special = _SPECIAL
    parens = 0
    pos = 0
    for blanks, token in pairs:
        if blanks:
            pos += len(blanks)
        kind = fixed(token) or first(token[0], "error")
        if kind in special:
            if kind == "(":
                parens += 1
            elif kind == ")":
                parens -= 1
            elif kind == "comment" or (parens > 0 and token == "\n"):
                # Inside parentheses a newline continues the line, as in Python.
                pos += len(token)
                continue
        add_kind(kind)
        add_text(token)
        add_start(pos)
        pos += len(token)
    add_kind("end")
    add_text("")
    add_start(length)
    return kinds, texts, starts


def message_for(kind: str, text: str) -> str:
    """What is wrong with an error token."""
    return _describe(text[0]) if kind == "error" else ""


def tokenize(text: str) -> list[Token]:
    """The tokens of `text` as records (for tests and messages); the parser uses scan()."""
    kinds, texts, starts = scan(text)
    return [
        Token(kind, token, start, start + len(token), message_for(kind, token))
        for kind, token, start in zip(kinds, texts, starts, strict=True)
    ]
