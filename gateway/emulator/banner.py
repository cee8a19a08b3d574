"""The text ``vod-gateway emulator`` prints at start-up."""

from __future__ import annotations

from gateway.emulator.catalogue import Catalogue
from gateway.emulator.config import DEMO_KEY, EmulatorConfig
from gateway.emulator.generate import RERUN_PERIOD
from gateway.emulator.model import OLDER_THAN_A_YEAR

_LABELS = {OLDER_THAN_A_YEAR: "older than a year (exists, not returned)"}


def describe(config: EmulatorConfig, catalogue: Catalogue, url: str, per_status: int = 3) -> str:
    """Where the emulator listens, its key pair(s), its knobs and a few IDs of each status."""
    lines = [f"ApsaraVideo VOD emulator (GetTranscodeSummary) at {url}"]
    for key in config.keys:
        # only the published demo secret is shown; configured secrets stay out of output
        secret = key.secret if key == DEMO_KEY else "(as configured)"
        token = "  (STS token required)" if key.security_token else ""
        lines.append(f"  AccessKeyId {key.access_key_id}  AccessKeySecret {secret}{token}")
    lo, hi = config.latency_ms
    latency = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
    qps = str(config.qps) if config.qps else "unlimited"
    reruns = (
        f", {catalogue.rerun_count} re-transcoded every {RERUN_PERIOD // 60} min"
        if catalogue.rerun_count
        else ""
    )
    lines.append(
        f"  catalogue {len(catalogue)} videos (seed {config.seed}{reruns}); qps {qps}; "
        f"latency {latency} ms; faults {config.faults.describe()}"
    )
    lines.append("  sample VideoIds (as of now; GET /_emulator/catalogue for current ones):")
    samples = catalogue.sample_ids(per_status)
    width = max(len(_LABELS.get(s, s)) for s in samples)
    for status, ids in samples.items():
        label = _LABELS.get(status, status)
        lines.append(f"    {label:<{width}}  {', '.join(ids) or '-'}")
    lines.append(f"    {'nonexistent':<{width}}  {catalogue.nonexistent_id}")
    lines.append(
        "  admin (unsigned, emulator only): GET /_emulator/stats, POST /_emulator/reset, "
        'POST /_emulator/clock {"advance": s}, GET /_emulator/catalogue'
    )
    return "\n".join(lines)
