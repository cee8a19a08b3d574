"""Benchmarks: ``python -m bench`` (``make bench``). Figures are printed, never asserted."""
