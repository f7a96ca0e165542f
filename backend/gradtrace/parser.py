"""A Pratt parser of our own: text to a syntax tree, never through Python's eval or ast.

Binding powers follow Python's precedence, as the op registry records them
(each operator's `precedence`): `+ -` < `* / @` < unary `- +` < `**`
(right-associative, and its right operand may itself be unary, so `2**-1`
works) < postfix `.T`. A number literal too large for a float64 is refused
at its place. The parser recurses only at nesting (parentheses,
calls, unary operators, the right side of `**`) and counts that depth against
`max_depth`, so deep nesting becomes a limit_exceeded error, never a
RecursionError. A long flat chain `x + x + ... + x` is a loop, not recursion.
"""

from __future__ import annotations

import math
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
from gradtrace.ops import BINARY, CALLS, FUNCTIONS, OPS, POSTFIX, PRECEDENCE, UNARY
from gradtrace.syntax import (
    Assign,
    Binary,
    Call,
    Def,
    Expr,
    Index,
    IndexItem,
    Keyword,
    Name,
    Num,
    Program,
    Span,
    Statement,
    Transpose,
    Unary,
)
from gradtrace.tokens import message_for, scan

# Binding powers come from the registry (each operator's `precedence`): infix
# operators by symbol in PRECEDENCE, the prefix and postfix ones here.
_UNARY_BP = OPS[UNARY["-"]].precedence or 0
_POSTFIX_BP = OPS[POSTFIX[".T"]].precedence or 0
_INDEX_BP = OPS[POSTFIX["[]"]].precedence or 0
_OPERAND_HINT = "a number, a name, a function call or '('"
# Python's statement words a student may try (`import os`): named as Python, not as a
# missing '*'. Only the ones that start a statement or join two operands.
_PYTHON_WORDS = frozenset(
    "import from def class return lambda for while if else elif print del global with "
    "try except raise assert yield not and or in is pass".split()
)


def _show(kind: str, text: str) -> str:
    if kind == "end":
        return "the end of the input"
    if kind == "sep":
        return "the end of the line" if text == "\n" else "';'"
    if kind == "name":
        return f"the name '{text}'"
    if kind == "number":
        return f"the number {text}"
    return f"'{text}'"


def _number(text: str, start: int) -> Num:
    """A number literal as a float64; one too large for a float64 is refused at its place."""
    value = float(text)
    span = (start, start + len(text))
    if value == math.inf:
        shown = text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"
        raise SyntaxTraceError(
            f"the number {shown} is too large for a float64 (the largest is about 1.8e308)", span
        )
    return Num(value, text, span)


def resolve_call(name: str, n_args: int, keywords: list[Keyword], span: Span) -> str:
    """The registry op a call means: the one of its name with this many arguments and these
    keywords (max(a, b) is max, max(v) is amax, sum(A, axis=0) is sum_axis)."""
    given = [k.name for k in keywords]
    for op_name in CALLS[name]:
        op = OPS[op_name]
        if op.arity == n_args and sorted(given) == sorted(op.params):
            return op_name
    forms = " or ".join(OPS[op_name].syntax if OPS[op_name].is_function else f"{name}(a)" for op_name in CALLS[name])
    known = {p for op_name in CALLS[name] for p in OPS[op_name].params}
    for keyword in keywords:
        if keyword.name not in known or given.count(keyword.name) > 1:
            said = "twice" if keyword.name in known else "no keyword " + repr(keyword.name)
            raise SyntaxTraceError(f"{name} takes {said}: {forms}", keyword.span)
    if len(CALLS[name]) == 1 and not OPS[CALLS[name][0]].params:
        arity, syntax = FUNCTIONS[name]
        plural = "argument" if arity == 1 else "arguments"
        raise SyntaxTraceError(f"{name} takes {arity} {plural}: {syntax}; got {n_args}", span)
    plural = "argument" if n_args == 1 else "arguments"
    raise SyntaxTraceError(f"{name} is written {forms}; got {n_args} {plural}", span)


class _Parser:
    """Recursive descent by binding power over the token lists of `scan`."""

    def __init__(
        self, text: str, max_depth: int, max_statements: int | None
    ) -> None:
        self.text = text
        self.kinds, self.texts, self.starts = scan(text)
        self.pos = 0
        self.max_depth = max_depth
        self.max_statements = max_statements
        # The program's own functions so far (def), by name; the one being defined, and the
        # parameters its body may read; the functions called anywhere.
        self.defined: dict[str, Def] = {}
        self.defining: Def | None = None
        self.called: set[str] = set()

    # -- helpers ---------------------------------------------------------
    def span(self, pos: int) -> Span:
        start = self.starts[pos]
        return (start, start + len(self.texts[pos]))

    def show(self, pos: int) -> str:
        return _show(self.kinds[pos], self.texts[pos])

    def unexpected(self, pos: int, expected: str) -> TraceError:
        kind = self.kinds[pos]
        if kind == "error":
            if self.texts[pos] == "^T":
                return self.lecture_transpose(pos)
            return SyntaxTraceError(message_for(kind, self.texts[pos]), self.span(pos))
        if kind == "end":
            return SyntaxTraceError(f"unexpected end of input: expected {expected}", self.span(pos))
        return SyntaxTraceError(f"expected {expected}, found {self.show(pos)}", self.span(pos))

    def nest(self, depth: int, pos: int) -> int:
        depth += 1
        if depth > self.max_depth:
            raise limit_exceeded(
                "max_depth",
                "the nesting depth here",
                f"over {self.max_depth}",
                self.max_depth,
                self.span(pos),
            )
        return depth

    # -- statements ------------------------------------------------------
    def program(self) -> Program:
        items: list[Statement] = []
        add = items.append
        kinds = self.kinds
        limit = self.max_statements
        while True:
            kind = kinds[self.pos]
            if kind == "sep":
                self.pos += 1
                continue
            if kind == "end":
                break
            if limit is not None and len(items) >= limit:
                raise limit_exceeded(
                    "max_statements",
                    "the number of statements",
                    f"over {limit}",
                    limit,
                    self.span(self.pos),
                )
            add(self.statement())
            if kinds[self.pos] not in ("sep", "end"):
                raise self.after_operand(self.pos)
        if not items:
            raise SyntaxTraceError(
                "the expression is empty: type one, for example (x + y) * max(y, z)", (0, 0)
            )
        for statement in items[:-1]:
            if not isinstance(statement, Assign | Def):
                raise SyntaxTraceError(
                    "only the last statement can be a bare expression: "
                    "name this one (a = ...) or remove it",
                    statement.span,
                )
        if isinstance(items[-1], Def):
            raise SyntaxTraceError(
                "the program ends with a def: its last statement is what it computes, "
                f"for example {items[-1].name}({', '.join(items[-1].params)}) with inputs of those names",
                items[-1].span,
            )
        for definition in self.defined.values():
            if definition.name not in self.called:
                raise SyntaxTraceError(
                    f"'{definition.name}' is defined but never called: call it, or remove its def",
                    definition.name_span,
                )
        return Program(tuple(items), self.text)

    def operand_text(self, pos: int, default: str) -> str:
        """The text of the name or number at pos, or `default` for anything else."""
        return self.texts[pos] if self.kinds[pos] in ("name", "number") else default

    def lecture_transpose(self, pos: int) -> TraceError:
        """`u^T h` or `u^T @ h`, the lecture's notation, redirected to numpy's `u.T @ h`."""
        left = self.operand_text(pos - 1, "(...)") if pos > 0 else "u"
        right = pos + 1
        if self.kinds[right] == "op" and self.texts[right] == "@":
            right += 1
        if self.kinds[right] in ("name", "number", "("):
            written = f"{left}.T @ {self.operand_text(right, '(...)')}"
        else:
            written = f"{left}.T"
        return SyntaxTraceError(
            f"'^T' is the lecture's transpose: write {written} ('.T' transposes, '@' multiplies)",
            self.span(pos),
        )

    def side_by_side(self, pos: int) -> TraceError:
        """Two operands with no operator between them: a Python keyword, or the lecture's `W x`."""
        left_kind, left = self.kinds[pos - 1], self.texts[pos - 1]
        for at in (pos - 1, pos):
            if self.kinds[at] == "name" and self.texts[at] in _PYTHON_WORDS:
                return SyntaxTraceError(
                    f"'{self.texts[at]}' is Python, not this language: a program here is "
                    "expressions and assignments of numbers, such as "
                    "z = W @ x + b; s = sum(sigmoid(z))",
                    self.span(at),
                )
        right = self.operand_text(pos, "(...)")
        if left_kind == "name" and self.kinds[pos] in ("name", "("):
            return SyntaxTraceError(
                f"'{left} {right}': two operands side by side need an operator: write "
                f"{left} @ {right} for the product the lecture writes {left} {right} (matrix "
                f"times vector), or {left} * {right} elementwise",
                self.span(pos),
            )
        example = f" ({left} * {right})" if left_kind in ("name", "number") else ""
        return SyntaxTraceError(
            f"expected an operator, found {self.show(pos)}: multiplication needs a "
            f"'*'{example}, a matrix product an '@'",
            self.span(pos),
        )

    def after_operand(self, pos: int) -> TraceError:
        kind = self.kinds[pos]
        if kind == ")":
            return SyntaxTraceError("unexpected ')': there is no '(' to close", self.span(pos))
        if kind == "=":
            return SyntaxTraceError(
                "unexpected '=': an assignment is 'name = expression' at the start of a statement",
                self.span(pos),
            )
        if kind in ("name", "number", "("):
            return self.side_by_side(pos)
        return self.unexpected(pos, "an operator or the end of the statement")

    def statement(self) -> Statement:
        pos = self.pos
        if self.kinds[pos] == "name" and self.texts[pos] == "def" and self.kinds[pos + 1] == "name":
            return self.definition(pos)
        if self.kinds[pos] == "name" and self.kinds[pos + 1] == "=":
            name = self.texts[pos]
            name_span = self.span(pos)
            if name in FUNCTIONS:
                raise AssignmentError(f"cannot assign to '{name}': it is a function", name_span)
            self.pos = pos + 2
            value = self.expr(0, 0)
            return Assign(name, value, (name_span[0], value.span[1]), name_span)
        return self.expr(0, 0)

    def definition(self, at: int) -> Def:
        """`def name(a, b) = expression`: one line; its body may call only functions defined before."""
        name_at = at + 1
        name = self.texts[name_at]
        name_span = self.span(name_at)
        if name in FUNCTIONS or name in self.defined:
            what = "a function of the language" if name in FUNCTIONS else "defined already"
            raise SyntaxTraceError(f"cannot define '{name}': it is {what}; choose another name", name_span)
        if self.kinds[name_at + 1] != "(":
            raise self.unexpected(name_at + 1, f"'(' and the parameters of {name}: def {name}(x) = ...")
        self.pos = name_at + 2
        params: list[str] = []
        spans: list[Span] = []
        while self.kinds[self.pos] != ")":
            if self.kinds[self.pos] != "name":
                raise self.unexpected(self.pos, "a parameter's name")
            param = self.texts[self.pos]
            if param in params or param in FUNCTIONS or param in self.defined:
                what = "twice" if param in params else "the name of a function"
                raise SyntaxTraceError(
                    f"parameter '{param}' of {name} is {what}: choose another name", self.span(self.pos)
                )
            params.append(param)
            spans.append(self.span(self.pos))
            self.pos += 1
            if self.kinds[self.pos] == ",":
                self.pos += 1
            elif self.kinds[self.pos] != ")":
                raise self.unexpected(self.pos, "',' or ')'")
        if not params:
            raise SyntaxTraceError(f"{name} takes no parameters: a function needs at least one", name_span)
        self.pos += 1
        if self.kinds[self.pos] != "=":
            raise self.unexpected(self.pos, f"'=' and the body of {name}: def {name}({', '.join(params)}) = ...")
        self.pos += 1
        placeholder = Def(name, tuple(params), Num(0.0, "0", name_span), name_span, name_span, tuple(spans))
        self.defining = placeholder
        try:
            body = self.expr(0, 0)
        finally:
            self.defining = None
        definition = Def(name, tuple(params), body, (self.starts[at], body.span[1]), name_span, tuple(spans))
        self.defined[name] = definition
        return definition

    # -- expressions -----------------------------------------------------
    def expr(self, rbp: int, depth: int) -> Expr:
        left = self.prefix(depth)
        kinds = self.kinds
        texts = self.texts
        while True:
            pos = self.pos
            kind = kinds[pos]
            if kind == "op":
                op = texts[pos]
                lbp = PRECEDENCE[op]
                if lbp <= rbp:
                    return left
                self.pos = pos + 1
                if OPS[BINARY[op]].right_associative:
                    # Right-associative: the right side may hold more '**', so it nests.
                    right = self.expr(lbp - 1, self.nest(depth, pos))
                else:
                    right = self.expr(lbp, depth)
                start = self.starts[pos]
                left = Binary(op, left, right, (left.span[0], right.span[1]), (start, start + len(op)))
            elif kind == ".T":
                if _POSTFIX_BP <= rbp:
                    return left
                self.pos = pos + 1
                start = self.starts[pos]
                left = Transpose(left, (left.span[0], start + 2), (start, start + 2))
            elif kind == "[":
                if _INDEX_BP <= rbp:
                    return left
                left = self.index(left, pos)
            else:
                return left

    def prefix(self, depth: int) -> Expr:
        pos = self.pos
        kind = self.kinds[pos]
        if kind == "name":
            self.pos = pos + 1
            return self.name_or_call(pos, depth)
        if kind == "number":
            self.pos = pos + 1
            return _number(self.texts[pos], self.starts[pos])
        if kind == "(":
            self.pos = pos + 1
            inner = self.expr(0, self.nest(depth, pos))
            close = self.pos
            close_kind = self.kinds[close]
            if close_kind == ")":
                self.pos = close + 1
                # The parentheses belong to the construct: its span (and its text) includes them.
                return replace(inner, span=(self.starts[pos], self.starts[close] + 1))
            if close_kind in ("end", "sep"):
                raise SyntaxTraceError(
                    "unclosed '(': expected ')' before " + self.show(close), self.span(pos)
                )
            raise self.unexpected_in_parens(close)
        if kind == "[":
            raise SyntaxTraceError(
                "a list is not an expression: give vectors and matrices as input values "
                "(W in the expression, [[1, 2], [3, 4]] as its value)",
                self.span(pos),
            )
        if kind == "op" and self.texts[pos] in ("-", "+"):
            self.pos = pos + 1
            operand = self.expr(_UNARY_BP, self.nest(depth, pos))
            start = self.starts[pos]
            return Unary(self.texts[pos], operand, (start, operand.span[1]), (start, start + 1))
        raise self.unexpected(pos, f"an operand ({_OPERAND_HINT})")

    def unexpected_in_parens(self, pos: int) -> TraceError:
        if self.kinds[pos] in ("name", "number", "("):
            return self.side_by_side(pos)
        return self.unexpected(pos, "')' or an operator")

    def name_or_call(self, at: int, depth: int) -> Expr:
        name = self.texts[at]
        start = self.starts[at]
        span = (start, start + len(name))
        kinds = self.kinds
        defining = self.defining
        if defining is not None and name == defining.name:
            raise SyntaxTraceError(
                f"{name} calls itself: a function may call only the functions defined before it",
                span,
            )
        if name in self.defined:
            return self.defined_call(self.defined[name], at, depth)
        if kinds[self.pos] != "(":
            if defining is not None and name not in defining.params and name not in FUNCTIONS:
                if name in ("pi", "e"):
                    return Name(name, span)
                raise SyntaxTraceError(
                    f"'{name}' is not a parameter of {defining.name}: a function reads only its "
                    f"parameters ({', '.join(defining.params)}); add it to them",
                    span,
                )
            if name in FUNCTIONS:
                if kinds[self.pos] == "error":
                    # `exp.__globals__`: the stray character is the problem to point at.
                    raise self.unexpected(self.pos, "'('")
                raise SyntaxTraceError(f"'{name}' is a function: call it as {FUNCTIONS[name][1]}", span)
            return Name(name, span)
        if name not in FUNCTIONS:
            if any(d.name == name for d in self.later_defs()):
                raise SyntaxTraceError(
                    f"{name} is called before its def: define a function before the lines that call it",
                    span,
                )
            known = ", ".join(sorted(FUNCTIONS))
            raise UnknownFunctionError(f"unknown function '{name}'; the functions are: {known}", span)
        open_paren = self.pos
        self.pos += 1
        inner_depth = self.nest(depth, open_paren)
        args: list[Expr] = []
        keywords: list[Keyword] = []
        if kinds[self.pos] != ")":
            while True:
                if kinds[self.pos] == "name" and kinds[self.pos + 1] == "=":
                    keywords.append(self.keyword(name))
                elif keywords:
                    raise SyntaxTraceError(
                        f"an argument after a keyword: in {name}(...) the keywords "
                        f"({keywords[0].name}=...) come last",
                        self.span(self.pos),
                    )
                else:
                    args.append(self.expr(0, inner_depth))
                sep = self.pos
                sep_kind = kinds[sep]
                self.pos = sep + 1
                if sep_kind == ",":
                    continue
                if sep_kind == ")":
                    break
                self.pos = sep
                if sep_kind in ("end", "sep"):
                    raise SyntaxTraceError(
                        f"unclosed '(' of {name}(: expected ')' before {self.show(sep)}",
                        self.span(open_paren),
                    )
                if sep_kind in ("name", "number", "("):
                    raise self.side_by_side(sep)
                raise self.unexpected(sep, "',' or ')'")
        else:
            self.pos += 1
        end = self.starts[self.pos - 1] + 1
        op = resolve_call(name, len(args), keywords, (start, end))
        return Call(name, tuple(args), (start, end), span, op, tuple(keywords))

    def later_defs(self) -> list[Def]:
        """The defs after the current position (read ahead only to word an error)."""
        found = []
        for i in range(self.pos, len(self.kinds) - 1):
            if self.texts[i] == "def" and self.kinds[i + 1] == "name" and (i == 0 or self.kinds[i - 1] == "sep"):
                found.append(Def(self.texts[i + 1], (), Num(0.0, "0", (0, 0)), (0, 0), (0, 0), ()))
        return found

    def defined_call(self, definition: Def, at: int, depth: int) -> Call:
        """A call of a function the program defines: its arguments, as many as its parameters."""
        name = definition.name
        start = self.starts[at]
        span = (start, start + len(name))
        if self.kinds[self.pos] != "(":
            raise SyntaxTraceError(f"'{name}' is a function: call it as {name}({', '.join(definition.params)})", span)
        open_paren = self.pos
        self.pos += 1
        inner_depth = self.nest(depth, open_paren)
        args: list[Expr] = []
        while self.kinds[self.pos] != ")":
            args.append(self.expr(0, inner_depth))
            if self.kinds[self.pos] == ",":
                self.pos += 1
            elif self.kinds[self.pos] != ")":
                if self.kinds[self.pos] in ("end", "sep"):
                    raise SyntaxTraceError(
                        f"unclosed '(' of {name}(: expected ')' before {self.show(self.pos)}",
                        self.span(open_paren),
                    )
                raise self.unexpected(self.pos, "',' or ')'")
        self.pos += 1
        end = self.starts[self.pos - 1] + 1
        if len(args) != len(definition.params):
            n = len(definition.params)
            raise SyntaxTraceError(
                f"{name} takes {n} argument{'s' if n != 1 else ''}: "
                f"{name}({', '.join(definition.params)}); got {len(args)}",
                (start, end),
            )
        self.called.add(name)
        return Call(name, tuple(args), (start, end), span, "", (), defined=True)

    def keyword(self, func: str) -> Keyword:
        """`axis=0` in a call: a name, '=', and a whole number (it may be negative)."""
        at = self.pos
        name = self.texts[at]
        value, end = self.whole_number(at + 2, f"{name}= in {func}(...)")
        return Keyword(name, value, (self.starts[at], end))

    def whole_number(self, pos: int, what: str) -> tuple[int, int]:
        """A whole-number literal at pos, maybe after a '-': its value and where it ends."""
        sign = 1
        first = pos
        if self.kinds[pos] == "op" and self.texts[pos] == "-":
            sign, pos = -1, pos + 1
        text = self.texts[pos]
        if self.kinds[pos] != "number" or not text.isdigit():
            raise SyntaxTraceError(
                f"{what} takes a whole number (0, 1, -1), found {self.show(pos)}",
                (self.starts[first], self.span(pos)[1]),
            )
        self.pos = pos + 1
        return sign * int(text), self.span(pos)[1]

    def index(self, operand: Expr, open_at: int) -> Index:
        """`[...]` after an operand: whole numbers, ranges a:b, ':' or an input's name."""
        kinds = self.kinds
        self.pos = open_at + 1
        items: list[IndexItem] = []
        while True:
            items.append(self.index_item())
            sep = self.pos
            self.pos = sep + 1
            if kinds[sep] == ",":
                continue
            if kinds[sep] == "]":
                break
            self.pos = sep
            if kinds[sep] in ("end", "sep"):
                raise SyntaxTraceError(
                    f"unclosed '[': expected ']' before {self.show(sep)}", self.span(open_at)
                )
            raise self.unexpected(sep, "',' or ']'")
        close = self.starts[self.pos - 1] + 1
        return Index(operand, tuple(items), (operand.span[0], close), (self.starts[open_at], close))

    def index_item(self) -> IndexItem:
        pos = self.pos
        start_at = self.starts[pos]
        kinds = self.kinds
        if kinds[pos] == "name" and kinds[pos + 1] in (",", "]"):
            self.pos = pos + 1
            return IndexItem(None, None, True, self.span(pos), name=self.texts[pos])
        what = "an index"
        first: int | None = None
        end = start_at
        if kinds[pos] != ":":
            first, end = self.whole_number(pos, what)
            if kinds[self.pos] != ":":
                return IndexItem(first, None, True, (start_at, end))
        end = self.span(self.pos)[1]
        self.pos += 1  # the ':'
        stop: int | None = None
        if kinds[self.pos] not in (",", "]", ":"):
            stop, end = self.whole_number(self.pos, "the end of a range a:b")
        if kinds[self.pos] == ":":
            raise SyntaxTraceError(
                "a step (a:b:c) is not in the language: an index is a whole number, "
                "a range a:b or ':'",
                self.span(self.pos),
            )
        return IndexItem(first, stop, False, (start_at, end))


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
        parser = _Parser(text, min(max_depth, SAFE_MAX_DEPTH), max_statements)
        try:
            return parser.program()
        except RecursionError:
            # Only reachable when the caller is already deep in its own stack.
            raise LimitExceededError(
                "the expression is nested too deeply for this process",
                parser.span(min(parser.pos, len(parser.kinds) - 1)),
                limit="max_depth",
            ) from None
    except TraceError as error:
        raise error.locate(text) from None
