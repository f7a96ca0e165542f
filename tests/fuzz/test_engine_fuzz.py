"""Fuzz the Python API: any text gives a trace or a TraceError, and valid programs give the truth.

Grammar-shaped programs are valid by construction, so they must trace, and their value
must match numpy's evaluation of the same tree wherever every intermediate stayed finite.
Random text and token soups may give either answer, but never any other exception.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

import gradtrace
from tests.fuzz import tally
from tests.fuzz.contract import check_trace, check_trace_error, decode
from tests.fuzz.known_bugs import reports_known_bugs, run_tolerating
from tests.fuzz.profiles import FUZZ, FUZZ_SLOW
from tests.fuzz.strategies import (
    Program,
    deep_programs,
    long_chains,
    long_statement_chains,
    mutated_programs,
    names_in,
    programs,
    random_text,
    token_soups,
    values_for,
)

SERVER_LIMITS = gradtrace.Limits()


def trace_or_error(family: str, expression: str, values: dict[str, Any], **kwargs: Any) -> Any:
    """Run the engine; return the trace dict, or the TraceError after checking its form."""
    return run_tolerating(lambda: _trace_or_error(family, expression, values, **kwargs))


def _trace_or_error(family: str, expression: str, values: dict[str, Any], **kwargs: Any) -> Any:
    note(f"expression={expression!r} values={values!r}")
    with tally.timed(family):
        try:
            result = gradtrace.trace(expression, values, **kwargs)
        except gradtrace.TraceError as error:
            tally.count(family, error.type)
            check_trace_error(error, expression)
            return error
    tally.count(family, "trace")
    body = result.to_dict()
    check_trace(body, expression, values)
    return body


def assert_matches_reference(body: dict[str, Any], program: Program) -> None:
    expected, all_finite = program.reference()
    got = decode(body["value"]).reshape(-1)
    if all_finite:
        np.testing.assert_allclose(got, expected.reshape(-1), rtol=1e-7, atol=1e-9)


@reports_known_bugs
@FUZZ
@given(program=programs(), check=st.booleans())
def test_valid_programs_trace_and_match_numpy(program: Program, check: bool) -> None:
    def attempt(p: Program) -> None:
        text, values = p.text(), p.values_json()
        body = _trace_or_error("engine: grammar programs", text, values, check=check, limits=SERVER_LIMITS)
        assert isinstance(body, dict), f"a valid program was refused: {body!r}\n{text}\n{values}"
        assert_matches_reference(body, p)
        if check:
            assert body["check"] is not None and set(body["check"]) <= set(values)

    live = program.live()
    pruned = (lambda: attempt(live)) if len(live.statements) < len(program.statements) else None
    run_tolerating(lambda: attempt(program), pruned)


@reports_known_bugs
@FUZZ
@given(text=random_text, data=st.data())
def test_random_text_gives_trace_or_trace_error(text: str, data: st.DataObject) -> None:
    values = data.draw(values_for(text))
    trace_or_error("engine: random text", text, values, limits=SERVER_LIMITS)


@reports_known_bugs
@FUZZ
@given(case=mutated_programs())
def test_programs_one_typo_away_give_trace_or_trace_error(case: tuple[str, dict[str, Any]]) -> None:
    text, values = case
    trace_or_error("engine: mutated programs", text, values, limits=SERVER_LIMITS)


@reports_known_bugs
@FUZZ
@given(text=token_soups(), data=st.data())
def test_token_soups_give_trace_or_trace_error(text: str, data: st.DataObject) -> None:
    values = data.draw(values_for(text))
    trace_or_error("engine: token soups", text, values, limits=SERVER_LIMITS)


@reports_known_bugs
@FUZZ_SLOW
@given(case=deep_programs(max_depth=260), x=st.sampled_from([0.5, -0.25, 2.0, 0.0]))
def test_deep_nesting_is_traced_or_refused_by_the_depth_limit(case: tuple[str, int], x: float) -> None:
    text, depth = case
    result = trace_or_error("engine: deep nesting (limits)", text, {"x": x}, limits=SERVER_LIMITS)
    if isinstance(result, gradtrace.TraceError):
        assert result.type == "limit_exceeded", (result.type, result.message, depth)
        assert depth >= 50, f"refused at depth {depth}, far below the documented limit"


@reports_known_bugs
@FUZZ_SLOW
@given(case=deep_programs(max_depth=3000))
def test_deep_nesting_without_limits_never_overflows_the_stack(case: tuple[str, int]) -> None:
    # The Python API applies no limits by default: depth must still not become a RecursionError.
    text, _ = case
    trace_or_error("engine: deep nesting (no limits)", text, {"x": 0.5})


@reports_known_bugs
@FUZZ_SLOW
@given(text=st.one_of(long_chains(), long_statement_chains()), x=st.floats(-2, 2), y=st.floats(0.5, 2))
def test_long_chains_trace_or_hit_a_named_limit(text: str, x: float, y: float) -> None:
    values = {k: v for k, v in {"x": x, "y": y}.items() if k in names_in(text)}
    result = trace_or_error("engine: long chains", text, values, limits=SERVER_LIMITS)
    if isinstance(result, gradtrace.TraceError):
        assert result.type == "limit_exceeded", (result.type, result.message)
