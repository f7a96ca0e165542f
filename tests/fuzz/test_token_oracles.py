"""Fuzz the tokens with exact oracles: number literals and characters outside the language.

- Any ASCII decimal literal the contract allows, however long or extreme, traces to
  exactly Python's correctly rounded float() of its text (infinity included), or is refused
  by a named limit; never another error, and no Python integer is ever built from it.
- Any character outside printable ASCII (and not a blank or a newline), put anywhere in a
  valid program, is refused with a span that starts exactly at that character.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

import gradtrace
from tests.fuzz import tally
from tests.fuzz.contract import check_trace, check_trace_error, decode
from tests.fuzz.known_bugs import reports_known_bugs
from tests.fuzz.profiles import FUZZ

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=400)
EXPONENT = st.builds(lambda e, sign, digits: e + sign + digits, st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), st.text(alphabet="0123456789", min_size=1, max_size=6))

literals = st.one_of(
    DIGITS,
    st.builds(lambda a, b: f"{a}.{b}", DIGITS, DIGITS),
    st.builds(lambda b: f".{b}", DIGITS),
    st.builds(lambda a, e: a + e, DIGITS, EXPONENT),
    st.builds(lambda a, b, e: f"{a}.{b}{e}", DIGITS, DIGITS, EXPONENT),
    st.builds(lambda b, e: f".{b}{e}", DIGITS, EXPONENT),
)


@reports_known_bugs
@FUZZ
@given(literal=literals)
def test_number_literals_trace_to_their_correctly_rounded_float(literal: str) -> None:
    family = "engine: number literals"
    with tally.timed(family):
        try:
            trace = gradtrace.trace(literal, {}, limits=gradtrace.Limits())
        except gradtrace.TraceError as error:
            tally.count(family, error.type)
            check_trace_error(error, literal)
            if math.isinf(float(literal)):  # a literal no float64 holds is refused
                assert error.type == "syntax_error", (literal[:80], error)
                assert "too large for a float64" in error.message, (literal[:80], error)
                return
            assert error.type == "limit_exceeded", (literal[:80], error)
            return
    tally.count(family, "trace")
    body = trace.to_dict()
    check_trace(body, literal, {})
    want = float(literal)
    got = float(decode(body["value"]))
    assert got == want or (math.isinf(want) and got == want), (literal[:80], got, want)


valid_names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,8}\Z", fullmatch=True).filter(
    lambda n: n not in {"y", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "max", "min", "sum", "mean", "dot", "softmax", "T"}
)
foreign = st.characters(
    blacklist_characters=" \t\r\n",
    blacklist_categories=["Cs"],
).filter(lambda c: not (c.isascii() and c.isprintable()))


@reports_known_bugs
@FUZZ
@given(name=valid_names, char=foreign, data=st.data())
def test_a_foreign_character_is_refused_exactly_where_it_stands(name: str, char: str, data: st.DataObject) -> None:
    family = "engine: foreign characters"
    program = f"y = {name} * 2\ny + {name}"
    where = data.draw(st.integers(0, len(program)))
    text = program[:where] + char + program[where:]
    tally.count(family)
    with tally.timed(family):
        try:
            gradtrace.trace(text, {name: 1.5}, limits=gradtrace.Limits())
        except gradtrace.TraceError as error:
            check_trace_error(error, text)
            assert error.span is not None and error.span[0] == where, (text, where, error)
            return
    raise AssertionError(f"{char!r} (U+{ord(char):04X}) at {where} was accepted in {text!r}")
