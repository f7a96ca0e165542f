"""Print how many inputs each bad-input family tried, and how fast it was answered, once the run ends."""

from __future__ import annotations

import pytest

from tests.fuzz import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    tally.report(terminalreporter.write_line)
