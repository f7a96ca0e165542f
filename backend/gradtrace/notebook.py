"""The player in a notebook: a Trace shows as the interactive player, and `show()` shows one anywhere.

The output is the offline file of gradtrace.standalone in an iframe of its
own (`srcdoc`, sandboxed to scripts and downloads), returned as text/html:

- it works offline and with no kernel: the output holds everything it needs,
  so a saved notebook, its HTML export and a static viewer that keeps iframes
  play it as the live notebook did;
- it needs no extension in the front end: JupyterLab, Notebook, VS Code and
  Colab all show an HTML output, while a widget needs a widget manager in the
  front end and a live kernel to show anything at all;
- each player is a document of its own, so two players in one notebook do not
  share ids, keys or state, and the notebook's own shortcuts do not see the
  keys pressed inside one (click it first).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from gradtrace.standalone import standalone_html
from gradtrace.trace import Trace

#: Tall enough for the graph, the step controls and the step's panel.
DEFAULT_HEIGHT = 640


def player_html(trace: Trace | Mapping[str, Any], height: int = DEFAULT_HEIGHT) -> str:
    """The notebook output for `trace`: the offline player in a sandboxed iframe."""
    document = standalone_html(trace)
    return (
        f'<iframe class="gradtrace-player" title="gradtrace player" srcdoc="{html.escape(document)}" '
        f'sandbox="allow-scripts allow-downloads" '
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ccc;"></iframe>'
    )


class Player:
    """What `show` displays: an object whose HTML form (`_repr_html_`) is the player."""

    def __init__(self, trace: Trace | Mapping[str, Any], height: int = DEFAULT_HEIGHT) -> None:
        self.trace = trace
        self.height = height

    def _repr_html_(self) -> str:
        return player_html(self.trace, self.height)


def show(
    trace: Trace | Mapping[str, Any] | str,
    values: Mapping[str, Any] | None = None,
    check: bool = False,
    height: int = DEFAULT_HEIGHT,
) -> None:
    """Show the player for a Trace (or an expression and its values) in the notebook's output.

    It shows where it is called: in a loop, in the middle of a cell. (It
    returns nothing, so that as a cell's last line it does not show twice.)
    """
    if isinstance(trace, str):
        import gradtrace

        trace = gradtrace.trace(trace, values or {}, check=check)
    from IPython.display import display

    display(Player(trace, height))  # type: ignore[no-untyped-call]
