"""A Pratt parser of our own: text to a syntax tree, never through Python's eval or ast.

Binding powers follow Python's precedence: `+ -` < `* / @` < unary `- +` <
`**` (right-associative, and its right operand may itself be unary, so
`2**-1` works) < postfix `.T`. The parser recurses only at nesting (parentheses,
calls, unary operators, the right side of `**`) and counts that depth against
`max_depth`, so deep nesting becomes a limit_exceeded error, never a
RecursionError. A long flat chain `x + x + ... + x` is a loop, not recursion.
"""

from __future__ import annotations

from dataclasses import replace

from gradtrace.errors import (
    AssignmentError,
    LimitExceededError,
    SyntaxTraceError,
    TraceError,
    UnknownFunctionError,
    limit_exceeded,
)
from gradtrace.limits import SAFE_MAX_DEPTH
from gradtrace.ops import FUNCTIONS
from gradtrace.syntax import (
    Assign,
    Binary,
    Call,
    Expr,
    Name,
    Num,
    Program,
    Span,
    Statement,
    Transpose,
    Unary,
)
from gradtrace.tokens import Token, tokenize

# Left binding powers of the infix operators.
_INFIX = {"+": 10, "-": 10, "*": 20, "/": 20, "@": 20, "**": 40}
_UNARY_BP = 30
_POSTFIX_BP = 50
_OPERAND_HINT = "a number, a name, a function call or '('"


def _show(token: Token) -> str:
    if token.kind == "end":
        return "the end of the input"
    if token.kind == "sep":
        return "the end of the line" if token.text == "\n" else "';'"
    if token.kind == "name":
        return f"the name '{token.text}'"
    if token.kind == "number":
        return f"the number {token.text}"
    return f"'{token.text}'"


class _Parser:
    def __init__(
        self, text: str, tokens: list[Token], max_depth: int, max_statements: int | None
    ) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0
        self.max_depth = max_depth
        self.max_statements = max_statements

    # -- helpers ---------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, message: str, span: Span) -> SyntaxTraceError:
        return SyntaxTraceError(message, span)

    def unexpected(self, token: Token, expected: str) -> TraceError:
        if token.kind == "error":
            return SyntaxTraceError(token.message, (token.start, token.end))
        if token.kind == "end":
            return SyntaxTraceError(
                f"unexpected end of input: expected {expected}", (token.start, token.end)
            )
        return SyntaxTraceError(
            f"expected {expected}, found {_show(token)}", (token.start, token.end)
        )

    def nest(self, depth: int, token: Token) -> int:
        depth += 1
        if depth > self.max_depth:
            raise limit_exceeded(
                "max_depth",
                "the nesting depth here",
                f"over {self.max_depth}",
                self.max_depth,
                (token.start, token.end),
            )
        return depth

    # -- statements ------------------------------------------------------
    def program(self) -> Program:
        statements: list[Statement] = []
        while True:
            token = self.peek()
            if token.kind == "sep":
                self.advance()
                continue
            if token.kind == "end":
                break
            if self.max_statements is not None and len(statements) >= self.max_statements:
                raise limit_exceeded(
                    "max_statements",
                    "the number of statements",
                    f"over {self.max_statements}",
                    self.max_statements,
                    (token.start, token.end),
                )
            statements.append(self.statement())
            after = self.peek()
            if after.kind not in ("sep", "end"):
                raise self.after_operand(after)
        if not statements:
            raise SyntaxTraceError(
                "the expression is empty: type one, for example (x + y) * max(y, z)", (0, 0)
            )
        for statement in statements[:-1]:
            if not isinstance(statement, Assign):
                raise SyntaxTraceError(
                    "only the last statement can be a bare expression: "
                    "name this one (a = ...) or remove it",
                    statement.span,
                )
        return Program(tuple(statements))

    def after_operand(self, token: Token) -> TraceError:
        if token.kind == ")":
            return SyntaxTraceError("unexpected ')': there is no '(' to close", (token.start, token.end))
        if token.kind == "=":
            return SyntaxTraceError(
                "unexpected '=': an assignment is 'name = expression' at the start of a statement",
                (token.start, token.end),
            )
        if token.kind in ("name", "number", "("):
            return SyntaxTraceError(
                f"expected an operator or the end of the statement, found {_show(token)} "
                "(multiplication needs a '*')",
                (token.start, token.end),
            )
        return self.unexpected(token, "an operator or the end of the statement")

    def statement(self) -> Statement:
        first = self.peek()
        if first.kind == "name" and self.tokens[self.pos + 1].kind == "=":
            if first.text in FUNCTIONS:
                raise AssignmentError(
                    f"cannot assign to '{first.text}': it is a function",
                    (first.start, first.end),
                )
            self.advance()
            self.advance()
            value = self.expr(0, 0)
            return Assign(first.text, value, (first.start, value.span[1]), (first.start, first.end))
        return self.expr(0, 0)

    # -- expressions -----------------------------------------------------
    def expr(self, rbp: int, depth: int) -> Expr:
        left = self.prefix(depth)
        tokens = self.tokens
        while True:
            token = tokens[self.pos]
            kind = token.kind
            if kind == "op":
                lbp = _INFIX[token.text]
                if lbp <= rbp:
                    return left
                self.pos += 1
                if token.text == "**":
                    # Right-associative: the right side may hold more '**', so it nests.
                    right = self.expr(lbp - 1, self.nest(depth, token))
                else:
                    right = self.expr(lbp, depth)
                left = Binary(
                    token.text, left, right, (left.span[0], right.span[1]), (token.start, token.end)
                )
            elif kind == ".T":
                if _POSTFIX_BP <= rbp:
                    return left
                self.pos += 1
                left = Transpose(left, (left.span[0], token.end), (token.start, token.end))
            else:
                return left

    def prefix(self, depth: int) -> Expr:
        token = self.advance()
        kind = token.kind
        if kind == "name":
            return self.name_or_call(token, depth)
        if kind == "number":
            return Num(float(token.text), token.text, (token.start, token.end))
        if kind == "(":
            inner = self.expr(0, self.nest(depth, token))
            close = self.advance()
            if close.kind == ")":
                # The parentheses belong to the construct: its span (and its text) includes them.
                return replace(inner, span=(token.start, close.end))
            self.pos -= 1
            if close.kind in ("end", "sep"):
                raise SyntaxTraceError(
                    "unclosed '(': expected ')' before " + _show(close), (token.start, token.end)
                )
            raise self.unexpected_in_parens(close)
        if kind == "op" and token.text in ("-", "+"):
            operand = self.expr(_UNARY_BP, self.nest(depth, token))
            return Unary(
                token.text, operand, (token.start, operand.span[1]), (token.start, token.end)
            )
        self.pos -= 1
        raise self.unexpected(token, f"an operand ({_OPERAND_HINT})")

    def unexpected_in_parens(self, token: Token) -> TraceError:
        if token.kind in ("name", "number", "("):
            return SyntaxTraceError(
                f"expected ')' or an operator, found {_show(token)} (multiplication needs a '*')",
                (token.start, token.end),
            )
        return self.unexpected(token, "')' or an operator")

    def name_or_call(self, token: Token, depth: int) -> Expr:
        name = token.text
        span = (token.start, token.end)
        if self.peek().kind != "(":
            if name in FUNCTIONS:
                raise SyntaxTraceError(
                    f"'{name}' is a function: call it as {FUNCTIONS[name][1]}", span
                )
            return Name(name, span)
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise UnknownFunctionError(
                f"unknown function '{name}'; the functions are: {known}", span
            )
        arity, syntax = FUNCTIONS[name]
        open_paren = self.advance()
        inner_depth = self.nest(depth, open_paren)
        args: list[Expr] = []
        if self.peek().kind != ")":
            while True:
                args.append(self.expr(0, inner_depth))
                sep = self.advance()
                if sep.kind == ",":
                    continue
                if sep.kind == ")":
                    break
                self.pos -= 1
                if sep.kind in ("end", "sep"):
                    raise SyntaxTraceError(
                        f"unclosed '(' of {name}(: expected ')' before {_show(sep)}",
                        (open_paren.start, open_paren.end),
                    )
                raise self.unexpected(sep, "',' or ')'")
        else:
            self.advance()
        close = self.tokens[self.pos - 1]
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise SyntaxTraceError(
                f"{name} takes {arity} {plural}: {syntax}; got {len(args)}",
                (token.start, close.end),
            )
        return Call(name, tuple(args), (token.start, close.end), span)


def parse(
    text: str,
    max_depth: int = SAFE_MAX_DEPTH,
    max_statements: int | None = None,
    max_length: int | None = None,
) -> Program:
    """Parse a program; raise a TraceError (with line and column) if it is not one."""
    try:
        if max_length is not None and len(text) > max_length:
            raise limit_exceeded(
                "max_expression_length",
                "the expression",
                f"{len(text)} characters long",
                max_length,
                (max_length, len(text)),
            )
        parser = _Parser(text, tokenize(text), min(max_depth, SAFE_MAX_DEPTH), max_statements)
        try:
            return parser.program()
        except RecursionError:
            # Only reachable when the caller is already deep in its own stack.
            token = parser.peek()
            raise LimitExceededError(
                "the expression is nested too deeply for this process",
                (token.start, token.end),
                limit="max_depth",
            ) from None
    except TraceError as error:
        raise error.locate(text) from None
