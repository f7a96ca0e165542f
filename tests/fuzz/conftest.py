"""Print how many inputs each fuzz family tried once the run ends."""

from __future__ import annotations

import pytest

from tests.fuzz import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    tally.report(terminalreporter.write_line)
