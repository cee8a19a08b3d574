"""A local ApsaraVideo VOD endpoint (GetTranscodeSummary) for development, tests and benchmarks."""
