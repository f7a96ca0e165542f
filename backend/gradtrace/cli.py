"""The `gradtrace` command: serve the app, print a trace as JSON, or export it as one HTML file.

`gradtrace trace EXPR --values JSON [--check] [--constants t]` prints exactly the JSON body
that POST /api/v1/trace returns for the same request, through the same JSON
conversion (gradtrace.jsonform); `--equations` prints the lowered graph as a
list of equations instead, one line per node. It is the Python API,
so it applies no limits (a 100,000-op program can be traced from a shell);
`--server-limits` applies the server's limits (the GRADTRACE_ settings)
instead. On an expression or values that cannot be traced it prints the
422 response's `detail` object to stderr and exits with status 2.

`gradtrace jacobian EXPR --values JSON [--modes reverse,forward]` prints the
body of POST /api/v1/jacobian: the output's full Jacobian by m backward and
n tangent passes, with their costs counted.

`gradtrace export EXPR --values JSON -o lesson.html` writes the same trace as
one offline HTML file that plays it (see gradtrace.standalone); it fails the
same way on an expression that cannot be traced.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXIT_TRACE_ERROR = 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gradtrace.api.logs import log_config
    from gradtrace.api.settings import Settings
    from gradtrace.api.transport import server_options

    # Read timeouts, the connection cap and slow readers are the transport's (api/transport.py).
    options = server_options(Settings(), in_process=args.workers <= 1)
    with _metrics_directory(args.workers):
        uvicorn.run(
            "gradtrace.api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # One JSON line per request comes from the app itself, with its request id.
            access_log=False,
            log_config=log_config(),
            **options,
        )
    return 0


@contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """With several workers, a directory their metrics share (prometheus-client's multiprocess mode)."""
    name = "PROMETHEUS_MULTIPROC_DIR"
    if workers <= 1 or os.environ.get(name):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="gradtrace-metrics-") as directory:
        os.environ[name] = directory
        try:
            yield
        finally:
            del os.environ[name]


def _parse_values(text: str) -> dict[str, Any]:
    import orjson

    try:
        # orjson, like the API, refuses NaN and Infinity literals.
        values = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise SystemExit(f"gradtrace trace: --values is not valid JSON: {error}") from None
    if not isinstance(values, dict):
        raise SystemExit("gradtrace trace: --values must be a JSON object, such as '{\"x\": 4}'")
    return values


def _names(text: str) -> list[str]:
    """A comma-separated list of input names, as --constants takes them."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _limits(args: argparse.Namespace) -> Any:
    """None (no limits), or the server's with --server-limits."""
    if not args.server_limits:
        return None
    from gradtrace.api.settings import Settings

    return Settings().engine_limits()


def _write(stream: Any, body: bytes) -> None:
    """One JSON body and a newline on stdout or stderr, flushed."""
    stream.buffer.write(body + b"\n")
    stream.flush()


def _refused(error: Any) -> int:
    """A trace error's 422 detail object on stderr; the exit status that says so."""
    from gradtrace.jsonform import dumps

    _write(sys.stderr, dumps(error.to_dict()))
    return EXIT_TRACE_ERROR


def _traced(args: argparse.Namespace) -> Any:
    """The Trace the arguments ask for, or None once its error is on stderr."""
    import gradtrace

    values = _parse_values(args.values)
    try:
        return gradtrace.trace(
            args.expression, values, check=args.check, limits=_limits(args), constants=args.constants
        )
    except gradtrace.TraceError as error:
        _refused(error)
        return None


def _trace(args: argparse.Namespace) -> int:
    from gradtrace.jsonform import dumps_trace

    result = _traced(args)
    if result is None:
        return EXIT_TRACE_ERROR
    if args.equations:
        from gradtrace.equations import format_equations

        _write(sys.stdout, format_equations(result.graph).encode())
    else:
        _write(sys.stdout, dumps_trace(result.to_dict()))
    return 0


def _by_hand(args: argparse.Namespace) -> int:
    import gradtrace
    from gradtrace.jsonform import dumps

    values = _parse_values(args.values)
    try:
        result = gradtrace.by_hand(
            args.expression, values, args.of, args.max_paths, constants=args.constants
        )
    except gradtrace.TraceError as error:
        return _refused(error)
    _write(sys.stdout, dumps(result))
    return 0


def _jacobian(args: argparse.Namespace) -> int:
    import gradtrace
    from gradtrace.jsonform import dumps

    values = _parse_values(args.values)
    try:
        result = gradtrace.jacobian(
            args.expression, values, constants=args.constants, modes=args.modes, limits=_limits(args)
        )
        body = dumps(result.to_dict())
    except gradtrace.TraceError as error:
        return _refused(error)
    _write(sys.stdout, body)
    return 0


def _lesson_html(args: argparse.Namespace) -> str | None:
    """The offline file of a lesson file, or None once what is wrong with it is on stderr."""
    import orjson

    import gradtrace
    from gradtrace.jsonform import dumps
    from gradtrace.standalone import lesson_html

    try:
        with open(args.lesson, "rb") as file:
            lesson = orjson.loads(file.read())
    except (OSError, orjson.JSONDecodeError) as error:
        raise SystemExit(f"gradtrace export: cannot read the lesson {args.lesson}: {error}") from None
    limits = _limits(args)
    try:
        return lesson_html(lesson, title=args.title, limits=limits)
    except gradtrace.TraceError as error:
        detail = {**error.to_dict(), "slide": getattr(error, "slide", None)}
        sys.stderr.buffer.write(dumps(detail) + b"\n")
    except ValueError as error:  # not a lesson (pydantic's ValidationError)
        sys.stderr.write(f"gradtrace export: {args.lesson} is not a lesson: {error}\n")
    sys.stderr.flush()
    return None


def _export(args: argparse.Namespace) -> int:
    from gradtrace.standalone import PlayerNotBuilt, standalone_html

    if (args.expression is None) == (args.lesson is None):
        raise SystemExit("gradtrace export: give an EXPRESSION or --lesson FILE (one of them)")
    try:
        if args.lesson is not None:
            html = _lesson_html(args)
        else:
            result = _traced(args)
            html = None if result is None else standalone_html(result, title=args.title)
    except PlayerNotBuilt as error:
        raise SystemExit(f"gradtrace export: {error}") from None
    if html is None:
        return EXIT_TRACE_ERROR
    if args.output == "-":
        sys.stdout.write(html)
        sys.stdout.flush()
    else:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(html)
    return 0


def _add_trace_arguments(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    parser.add_argument(
        "expression",
        nargs="?" if optional else None,
        help='the program, such as "(x + y) * max(y, z)"',
    )
    parser.add_argument(
        "--values", default="{}", help='the inputs as a JSON object, such as \'{"x": 4}\''
    )
    parser.add_argument("--check", action="store_true", help="add a numeric gradient check")
    parser.add_argument(
        "--constants",
        type=_names,
        default=[],
        help="inputs that are data and need no gradient, comma-separated, such as t or t,y",
    )
    parser.add_argument(
        "--server-limits",
        action="store_true",
        help="apply the server's limits (GRADTRACE_ settings); by default there are none",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradtrace",
        description="See backpropagation: serve the web app and API, or print a trace as JSON.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web app and the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=_serve)

    trace = sub.add_parser(
        "trace",
        help="print the trace of an expression as JSON (the API's response body)",
        description=(
            "Print the trace as the JSON body of POST /api/v1/trace. On an error, print the "
            "422 detail object to stderr and exit with status 2."
        ),
    )
    _add_trace_arguments(trace)
    trace.add_argument(
        "--equations",
        action="store_true",
        help="print the lowered graph as equations, one line per node (z = matmul(W, x)), not JSON",
    )
    trace.set_defaults(func=_trace)

    by_hand = sub.add_parser(
        "by-hand",
        help="print the derivation of a gradient by hand as JSON (POST /api/v1/by-hand's body)",
    )
    by_hand.add_argument("expression", help='the program, such as "z = W @ x + b; s = u @ z"')
    by_hand.add_argument("--values", default="{}", help="the inputs as a JSON object")
    by_hand.add_argument("--of", default=None, help="an input or named intermediate (default: all)")
    by_hand.add_argument("--max-paths", type=int, default=16, help="paths to list per variable")
    by_hand.add_argument(
        "--constants",
        type=_names,
        default=[],
        help="inputs that are data and need no gradient, comma-separated (not derived)",
    )
    by_hand.set_defaults(func=_by_hand)

    jacobian = sub.add_parser(
        "jacobian",
        help="print the full Jacobian of a (vector) output as JSON (POST /api/v1/jacobian's body)",
        description=(
            "Print the Jacobian by m backward passes and n tangent passes, every pass, the "
            "counted cost of each mode and which is cheaper, as the JSON body of POST "
            "/api/v1/jacobian. On an error, print the 422 detail object to stderr and exit "
            "with status 2."
        ),
    )
    jacobian.add_argument("expression", help='the program, such as "z = W @ x + b"')
    jacobian.add_argument("--values", default="{}", help="the inputs as a JSON object")
    jacobian.add_argument(
        "--constants", type=_names, default=[], help="inputs that are data (no columns), comma-separated"
    )
    jacobian.add_argument(
        "--modes",
        type=_names,
        default=None,
        help="reverse, forward or reverse,forward (the default)",
    )
    jacobian.add_argument(
        "--server-limits", action="store_true", help="apply the server's limits (GRADTRACE_ settings)"
    )
    jacobian.set_defaults(func=_jacobian)
    export = sub.add_parser(
        "export",
        help="write a trace (or a lesson) as one offline HTML file that plays it",
        description=(
            "Write one HTML file holding the trace and the player: it needs no server and "
            "no network, and opens from file://. On an error, print the 422 detail object to "
            "stderr and exit with status 2."
        ),
    )
    _add_trace_arguments(export, optional=True)
    export.add_argument(
        "--lesson",
        default=None,
        metavar="FILE",
        help="a lesson file (docs/lessons.md) instead of an expression: all its slides",
    )
    export.add_argument(
        "-o", "--output", default="gradtrace.html", help="the file to write (- for stdout)"
    )
    export.add_argument("--title", default=None, help="the page's title (default: the expression)")
    export.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
