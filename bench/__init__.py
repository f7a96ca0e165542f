"""Reproducible benchmarks of gradtrace: the engine, the tensors, the service and the page.

`make bench` (python -m bench.run_all) runs them all, writes JSON to bench/results/
and renders docs/benchmarks.md from those files.
"""
