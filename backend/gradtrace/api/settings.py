"""Every setting and limit of the service, in one place (environment prefix GRADTRACE_).

The engine's limits are built once, at start-up, into a `gradtrace.Limits`;
the service's own limits (body size, concurrency, queue) are enforced by the
API. The README's "Limits and configuration" section lists each one.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from gradtrace.limits import Limits

_REPO_ROOT = Path(__file__).resolve().parents[3]
#: The page as a clone of the repository has it: ES modules and their npm libraries, unbundled.
REPO_FRONTEND = _REPO_ROOT / "frontend"
#: The page as the package's build bundled it (a wheel carries it; a clone does not).
PACKAGED_PAGE = Path(__file__).resolve().parents[1] / "_frontend"


def _default_frontend() -> Path:
    """The bundled page of an installed package, else the clone's frontend/ as it is."""
    return PACKAGED_PAGE if (PACKAGED_PAGE / "index.html").is_file() else REPO_FRONTEND

#: A frame ancestor is an origin (scheme, host, optional port; a leading *. for
#: subdomains) or 'self'. Nothing else: a space or a ; would write another CSP directive.
FRAME_ANCESTOR_PATTERN = r"^('self'|https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?)$"

#: The settings that become the engine's `Limits`, field for field.
ENGINE_LIMITS = (
    "max_expression_length",
    "max_depth",
    "max_statements",
    "max_nodes",
    "max_tensor_elements",
    "max_total_elements",
    "max_local_elements",
    "max_input_elements",
    "max_seconds",
    "max_check_evaluations",
    "max_flops",
    "max_response_bytes",
    "max_jacobian_passes",
)


def _default_data_dir() -> Path:
    """$XDG_DATA_HOME/gradtrace, as the XDG convention puts a program's data."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gradtrace"


class Settings(BaseSettings):
    """Configuration of one gradtrace server; each field can be set as GRADTRACE_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="GRADTRACE_", extra="ignore")

    frontend_dir: Path = Field(
        default_factory=_default_frontend,
        description="Where the page is: the package's bundled page, or a clone's frontend/.",
    )
    cors_origins: list[str] = Field(
        default=[], description="Origins allowed to call the API from a browser; empty: none."
    )
    frame_ancestors: list[
        Annotated[str, StringConstraints(pattern=FRAME_ANCESTOR_PATTERN)]
    ] = Field(
        default=[],
        description=(
            "Origins whose pages may show gradtrace in an iframe, such as "
            "https://course.example.org ('self' for the server's own); empty: none may."
        ),
    )

    # -- the engine's limits (a 422 limit_exceeded names the one that was reached) --
    max_expression_length: int = Field(default=120_000, ge=1, description="Characters in an expression.")
    max_depth: int = Field(default=200, ge=1, le=250, description="Nesting depth of parentheses and calls.")
    max_statements: int = Field(default=5_000, ge=1, description="Statements in a program.")
    max_nodes: int = Field(default=5_000, ge=1, description="Nodes in the graph.")
    max_tensor_elements: int = Field(default=1_000_000, ge=1, description="Elements of any one value.")
    max_total_elements: int = Field(
        default=10_000_000, ge=1, description="Elements of all values of a trace together."
    )
    max_local_elements: int = Field(
        default=4_096, ge=0, description="Elements of a local Jacobian that is sent; larger ones are null."
    )
    max_input_elements: int = Field(default=100_000, ge=1, description="Elements of all inputs together.")
    max_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="Time the engine may spend on one trace (cooperative)."
    )
    max_check_evaluations: int = Field(
        default=2_000_000,
        ge=0,
        description=(
            "Work of a gradient check: 2 forward passes per input element, each counted as its "
            "nodes, numbers or FLOPs, whichever is the most."
        ),
    )
    max_flops: int = Field(
        default=1_000_000_000,
        ge=1,
        description=(
            "Floating-point work of one trace by the cost model: forward, backward (twice the "
            "forward) and the local Jacobians built; an n x k by k x m matmul counts 2nkm."
        ),
    )
    max_response_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description=(
            "Bytes of one trace's JSON response, bounded before computing (every number at its "
            "longest) and checked again on the encoded bytes."
        ),
    )

    max_jacobian_passes: int = Field(
        default=1024,
        ge=1,
        description=(
            "Passes of one POST /api/v1/jacobian: one backward pass per output element and one "
            "tangent pass per input element, for the modes asked for (each pass's adjoints or "
            "tangents are sent, and priced with the rest by the cost model)."
        ),
    )

    # -- the service's own limits --
    max_derivation_paths: int = Field(
        default=16,
        ge=1,
        le=1024,
        description=(
            "Paths from the output to a variable listed by POST /api/v1/by-hand (the rest are "
            "counted and summed in one line); a request for more gets a 422 naming this limit."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Bytes in a request body; larger bodies get a 413."
    )
    inline_max_expression_length: int = Field(
        default=256,
        ge=0,
        description=(
            "A trace without a gradient check, of an expression at most this long and inputs "
            "of at most inline_max_input_elements numbers, runs on the event loop itself: its "
            "work is bounded to a few milliseconds, less than the hand-off to a thread costs "
            "under load. 0 sends every trace to the threads."
        ),
    )
    inline_max_input_elements: int = Field(
        default=16, ge=0, description="Numbers in all inputs together for a trace to run inline."
    )
    max_concurrent_traces: int = Field(
        default=2, ge=1, le=64, description="Traces computed at once per worker process (threads)."
    )
    thread_switch_seconds: float = Field(
        default=0.0005,
        gt=0,
        le=0.1,
        description=(
            "How long a thread runs Python before the interpreter lock passes on "
            "(sys.setswitchinterval, set when a worker starts). Trace threads compute while "
            "the event loop answers health and small requests in the same process; "
            "Python's default of 0.005 s makes the loop wait behind them under load."
        ),
    )
    max_queued_traces: int = Field(
        default=256,
        ge=0,
        description=(
            "Traces waiting for a thread per worker (a whole class clicking at once fits); "
            "beyond that, a 503. Waiting is bounded by max_queue_seconds too."
        ),
    )
    max_queue_seconds: float = Field(
        default=10.0, gt=0, description="Time a trace may wait for a thread; beyond that, a 503."
    )
    timeout_grace_seconds: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Extra time past max_seconds after which the request gets a 503 even if the "
            "engine has not stopped (a safety net; the engine's own deadline comes first)."
        ),
    )

    # -- lessons: where they are stored, and how much one client may store --
    data_dir: Path = Field(
        default_factory=lambda: _default_data_dir(),
        description=(
            "Where the SQLite database of lessons lives (made on first start); "
            "unused when database_url names another database."
        ),
    )
    database_url: str = Field(
        default="",
        description=(
            "The lessons' database, as an SQLAlchemy URL: empty for SQLite in data_dir, "
            "or postgresql://user:password@host/name (driven by asyncpg)."
        ),
    )
    max_lesson_bytes: int = Field(
        default=262_144, ge=1, description="Bytes in one lesson's JSON; larger ones get a 413."
    )
    max_lesson_slides: int = Field(default=100, ge=1, description="Slides in one lesson.")
    lessons_per_minute: int = Field(
        default=30,
        ge=1,
        description=(
            "New lessons one client address may store per minute, per worker process; "
            "beyond that, a 429 with Retry-After."
        ),
    )

    # -- what may run on the event loop (see routes._fits_inline) --
    inline_max_body_bytes: int = Field(
        default=4096,
        ge=0,
        description=(
            "A request body up to this size is read and validated on the event loop; larger "
            "ones in a trace thread, so a huge malformed body never holds up other requests."
        ),
    )
    inline_max_response_bytes: int = Field(
        default=24_576,
        ge=0,
        description=(
            "A trace runs on the event loop only if the cost model bounds its response to this "
            "many bytes (and its work to inline_max_flops); 0: never."
        ),
    )
    inline_max_flops: int = Field(
        default=10_000, ge=0, description="FLOPs by the cost model for a trace to run on the event loop."
    )
    max_request_errors: int = Field(
        default=20,
        ge=1,
        le=1000,
        description=(
            "Issues a 422 for a malformed request lists at most (then one more that counts "
            "the rest); an issue echoes its input only when that is short."
        ),
    )

    # -- the connection (see api/transport.py) --
    max_connections: int = Field(
        default=4096,
        ge=1,
        description=(
            "Open connections per worker; the next one gets a 503 busy and is closed. At most "
            "the process's file limit minus 64."
        ),
    )
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time for a request's line and headers to arrive; then a 408."
    )
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Time for a request's body to arrive after its head; then a 408."
    )
    max_header_bytes: int = Field(
        default=16_384, ge=1024, description="Bytes of a request's line and headers; more gets a 431."
    )
    keep_alive_seconds: float = Field(
        default=5.0, gt=0, description="Time an idle kept-alive connection stays open."
    )
    send_stall_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A client that reads nothing of its response for this long is disconnected.",
    )
    max_send_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Time a trace's response may take to be read whole; then the connection is closed.",
    )
    max_pending_response_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=1,
        description=(
            "Bytes of trace responses a worker holds for clients still reading them; a trace "
            "whose response would pass it gets a 503 busy."
        ),
    )

    def engine_limits(self) -> Limits:
        """The engine's `Limits` built from these settings."""
        from gradtrace.limits import Limits

        return Limits(**{name: getattr(self, name) for name in ENGINE_LIMITS})

    def page_limits(self) -> dict[str, int | float]:
        """The limits the page may want to show or check before sending."""
        names = (*ENGINE_LIMITS, "max_body_bytes")
        return {name: getattr(self, name) for name in names}

    def lessons_database_url(self) -> str:
        """The SQLAlchemy URL of the lessons' database, with its async driver named."""
        url = self.database_url.strip()
        if not url:
            return f"sqlite+aiosqlite:///{self.data_dir / 'lessons.sqlite3'}"
        for plain, driven in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite:///", "sqlite+aiosqlite:///"),
        ):
            if url.startswith(plain):
                return driven + url[len(plain) :]
        return url

    def retry_after_seconds(self) -> int:
        """What a 503 tells a client to wait: about one trace's time."""
        return max(1, math.ceil(self.max_seconds))
