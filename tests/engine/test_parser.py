"""Tokenizer and parser: tables of input -> S-expression, and every syntax error's place."""

from __future__ import annotations

import pytest

from gradtrace.errors import TraceError
from gradtrace.limits import Limits
from gradtrace.parser import parse
from gradtrace.syntax import sexpr
from gradtrace.tokens import tokenize


def tree(text: str) -> list[str]:
    return [sexpr(s) for s in parse(text).statements]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2**2", "(neg (** 2 2))"),
        ("2**3**2", "(** 2 (** 3 2))"),
        ("2**-1", "(** 2 (neg 1))"),
        ("x**-y*z", "(* (** x (neg y)) z)"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b * c", "(* (/ a b) c)"),
        ("a + b * c", "(+ a (* b c))"),
        ("(x + y) * max(y, z)", "(* (+ x y) (max y z))"),
        ("W.T @ x", "(@ (.T W) x)"),
        ("-x.T", "(neg (.T x))"),
        ("x**y.T", "(** x (.T y))"),
        ("+x", "(pos x)"),
        ("A @ B @ C", "(@ (@ A B) C)"),
        ("sigmoid(W @ x + b)", "(sigmoid (+ (@ W x) b))"),
        ("1e-3 * .5 + 3.", "(+ (* 1e-3 .5) 3.)"),
        ("max(\n  x,\n  y\n)", "(max x y)"),
        ("x # a comment", "x"),
    ],
)
def test_precedence_and_associativity(text: str, expected: str) -> None:
    assert tree(text) == [expected]


def test_statements_by_newline_and_semicolon() -> None:
    assert tree("a = x + y\nb = max(y, z); f = a * b;\n") == [
        "(= a (+ x y))",
        "(= b (max y z))",
        "(= f (* a b))",
    ]


def test_spans_include_parentheses() -> None:
    (statement,) = parse("(x + y) * 2").statements
    assert statement.span == (0, 11)
    assert statement.left.span == (0, 7)  # type: ignore[union-attr]


def test_tokens_are_ascii_and_never_raise() -> None:
    kinds = [t.kind for t in tokenize("x é 1")]
    assert kinds == ["name", "error", "number", "end"]


def error_of(text: str, **kwargs: object) -> TraceError:
    with pytest.raises(TraceError) as caught:
        parse(text, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("text", "type_", "start", "words"),
    [
        ("__import__('os').system('id')", "syntax_error", 0, "_"),
        ("x.__class__", "syntax_error", 1, ".T"),
        ("eval('1+1')", "unknown_function", 0, "sigmoid"),
        ("", "syntax_error", 0, "empty"),
        ("((x + y)", "syntax_error", 0, "unclosed"),
        ("x + y)", "syntax_error", 5, "')'"),
        ("x + * y", "syntax_error", 4, "operand"),
        ("x +", "syntax_error", 3, "end of input"),
        ("x^2", "syntax_error", 1, "**"),
        ("foo(x)", "unknown_function", 0, "foo"),
        ("max(x, x, x)", "syntax_error", 0, "max(a, b) or max(v)"),
        ("sigmoid(x, x)", "syntax_error", 0, "1 argument"),
        ("exp + 1", "syntax_error", 0, "function"),
        ("2x", "syntax_error", 1, "*"),
        ("x == y", "syntax_error", 3, "operand"),
        ("x + y; 2", "syntax_error", 0, "last statement"),
        ("exp = 3", "assignment_error", 0, "function"),
        ("x\n  + )", "syntax_error", 6, "operand"),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, type_: str, start: int, words: str) -> None:
    error = error_of(text)
    assert error.type == type_
    assert error.span is not None and error.span[0] == start
    assert words in error.message
    detail = error.to_dict()
    assert set(detail) >= {"type", "message", "span", "line", "column"}
    assert detail["span"][0] == start


def test_line_and_column_count_from_one() -> None:
    error = error_of("a = x + y\nb = a +* 2")
    assert (error.line, error.column) == (2, 8)


def test_nesting_past_the_limit_is_refused_at_the_first_paren_past_it() -> None:
    text = "(" * 300 + "x" + ")" * 300
    error = error_of(text, max_depth=Limits().max_depth)
    assert error.type == "limit_exceeded"
    assert error.to_dict()["limit"] == "max_depth"
    assert error.span == (200, 201)
    assert "max_depth" in error.message


@pytest.mark.parametrize("text", ["-" * 5000 + "x", "2" + "**2" * 5000, "exp(" * 3000 + "x" + ")" * 3000])
def test_deep_nesting_never_raises_recursion_error(text: str) -> None:
    assert error_of(text).type == "limit_exceeded"


def test_long_flat_chain_is_not_recursion() -> None:
    text = " + ".join(["x"] * 50_000)
    (statement,) = parse(text).statements
    assert statement.span == (0, len(text))


def test_length_limit_is_checked_before_tokenizing() -> None:
    error = error_of("x" * 20001, max_length=20000)
    assert error.type == "limit_exceeded"
    assert error.message == (
        "the expression is 20001 characters long; the limit (max_expression_length) is 20000"
    )


def test_statement_limit_is_named() -> None:
    error = error_of("a = x\n" * 5 + "a", max_statements=3)
    assert error.limit == "max_statements"


def test_statements_keep_their_spans() -> None:
    program = parse("a = x * 2\nb = max(a, y)\nc = tanh(b)\nd = -c\ne = (a + b)")
    assert [sexpr(s) for s in program.statements] == [
        "(= a (* x 2))",
        "(= b (max a y))",
        "(= c (tanh b))",
        "(= d (neg c))",
        "(= e (+ a b))",
    ]
    spans = [(s.span, s.name_span, s.value.span) for s in program.statements[:3]]  # type: ignore[union-attr]
    assert spans == [((0, 9), (0, 1), (4, 9)), ((10, 23), (10, 11), (14, 23)), ((24, 35), (24, 25), (28, 35))]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("1e400", (0, 5)),
        ("x + 1e309 * 2", (4, 9)),
        ("9" * 400, (0, 400)),
        ("1.7976931348623159e308", (0, 22)),
        ("a = 2\nb = a * " + "1" * 310 + ".5", (14, 326)),
    ],
)
def test_a_literal_too_large_for_a_float64_is_refused_at_its_place(text: str, span: tuple[int, int]) -> None:
    with pytest.raises(TraceError) as caught:
        parse(text)
    assert caught.value.type == "syntax_error"
    assert caught.value.span == span
    assert "too large for a float64" in str(caught.value)


def test_the_largest_float64_and_underflowing_literals_are_numbers() -> None:
    (largest,) = parse("1.7976931348623157e308").statements
    assert sexpr(largest) == "1.7976931348623157e308"
    (tiny,) = parse("0." + "0" * 400 + "1").statements
    assert tiny.value == 0.0  # type: ignore[union-attr]


@pytest.mark.parametrize("separator", ["", "\n"])
def test_twenty_kilobytes_of_nested_parentheses_stop_at_the_depth_limit(separator: str) -> None:
    depth = 19_999 // (2 + len(separator))
    text = ("(" + separator) * depth + "x" + ")" * depth
    assert 19_000 <= len(text) <= 20_000
    with pytest.raises(TraceError) as caught:
        parse(text, Limits().max_depth, max_length=Limits().max_expression_length)
    assert caught.value.type == "limit_exceeded" and caught.value.limit == "max_depth"
    start = caught.value.span[0]  # type: ignore[index]
    assert text[start] == "(" and text[:start].count("(") == Limits().max_depth


def test_tokens_of_twenty_kilobytes_of_parentheses_are_read_once() -> None:
    # Every character is one token: the scan is a single pass, however deep the nesting.
    text = "(" * 10_000 + ")" * 10_000
    tokens = tokenize(text)
    assert len(tokens) == 20_001
    assert [t.start for t in tokens[:-1]] == list(range(20_000))
