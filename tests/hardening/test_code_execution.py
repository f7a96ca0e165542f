"""Code execution attempts are refused by the grammar itself, with a place and a reason.

Besides the status, a canary proves nothing ran: the payloads that would create a file
if any of them were evaluated by Python, a shell or a template engine leave no file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.hardening.support import EITHER, Case, client, ids, run_case

__all__ = ["client"]

CANARY = Path(tempfile.gettempdir()) / "gradtrace-hardening-canary"
FAMILY = "bad: code execution"

CASES = [
    # The design's rows.
    Case("__import__('os').system('id')", at=0),
    Case("x.__class__", {"x": 1}, at=1),
    Case("eval('1+1')", at=0, type="unknown_function", says=("exp", "sigmoid")),
    # Python builtins and sandbox escapes.
    Case("exec('import os')", at=0),
    Case("compile('1', 'f', 'eval')", at=0),
    Case("open('/etc/passwd')", at=0),
    Case("getattr(x, 'y')", {"x": 1}, at=0),
    Case("globals()", at=0, type="unknown_function"),
    Case("breakpoint()", at=0, type="unknown_function"),
    Case("vars(x)", {"x": 1}, at=0, type="unknown_function"),
    Case("x.T.__class__", {"x": 1}, at=3),
    Case("exp.__globals__", at=3),
    Case("sum.__code__", at=3),
    Case("x.real", {"x": 1}, at=1),
    Case("x.shape", {"x": [1, 2]}, at=1),
    Case("().__class__.__bases__[0].__subclasses__()", at=1),
    Case("[c for c in ().__class__.__base__.__subclasses__()]", at=0),
    Case("x[0]", {"x": [1, 2]}, status=200, value=1.0, note="indexing with a whole number"),
    Case("x[::-1]", {"x": [1, 2]}, at=3),
    Case("lambda: 1", at=6),
    Case("x if x else x", {"x": 1}, at=2),
    Case("import os", at=0),
    Case("os.system('id')", at=2),
    Case("np.exp(x)", {"x": 1, "np": 1}, at=2),
    Case("f'{x}'", {"x": 1}, at=1),
    Case("b'x'", at=1),
    Case("x # comment", {"x": 1}, status=EITHER, note="a comment"),
    Case("x; import os", {"x": 1}),
    Case("x := 1", {"x": 1}, at=2),
    Case("x == x", {"x": 1}),
    Case("not x", {"x": 1}, at=0),
    Case("x and x", {"x": 1}, at=2),
    Case("__builtins__", at=0),
    Case("_x", at=0),
    Case("x \\\n + x", {"x": 1}, at=2),
    Case("{x: 1}", {"x": 1}, at=0),
    Case("`id`", at=0),
    # Shells, templates and format strings.
    Case(f"$(touch {CANARY})", at=0),
    Case(f"x; touch {CANARY}", {"x": 1}),
    Case(f"x | touch {CANARY}", {"x": 1}, at=2),
    Case("{{7*7}}", at=0),
    Case("${7*7}", at=0),
    Case("<%= 7*7 %>", at=0),
    Case("%s%s%s%n", at=0),
    Case("%(x)s", at=0),
    Case("#{7*7}", at=0),
    Case(f"__import__('pathlib').Path('{CANARY}').touch()", at=0),
    Case(f"exp(open('{CANARY}', 'w'))", at=4),
    Case("x\x00__import__('os')", {"x": 1}, at=1),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_code_execution_is_refused(client: TestClient, case: Case) -> None:
    CANARY.unlink(missing_ok=True)
    run_case(client, FAMILY, case)
    assert not CANARY.exists(), "a payload ran"


@pytest.mark.parametrize("payload", ["__import__('os').system('id')", "1; import os", "[1, 2]; x"])
def test_code_in_values_is_refused(client: TestClient, payload: str) -> None:
    run_case(client, FAMILY, Case("x + 1", {"x": payload}, type="invalid_value"))
