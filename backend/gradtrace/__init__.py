"""gradtrace: trace an expression's forward and backward pass, edge by edge.

The public Python API lives here; the engine modules beside it do the work.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
