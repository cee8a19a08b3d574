"""Re-exports of :mod:`tests.support.processes`, where the process helpers now live (one for the whole
suite and bench/). Kept so that tests written against ``tests.system.procs`` still import; new code
should import from ``tests.support.processes``."""

from tests.support.processes import (
    ROOT,
    GatewayProcess,
    Process,
    ProcessFailed,
    free_port,
    gateway,
    gateway_env,
)

__all__ = ["ROOT", "GatewayProcess", "Process", "ProcessFailed", "free_port", "gateway", "gateway_env"]
