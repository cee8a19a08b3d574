"""deploy/kubernetes: both overlays rendered by the real ``kubectl kustomize``, every document
validated offline against the Kubernetes API schemas (``kubernetes-validate``, strict), and the
points a platform team relies on asserted on what kustomize actually emits."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.config.settings import ROWS, Settings, load_settings
from gateway.emulator.config import DEMO_KEY

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ROOT / "deploy" / "kubernetes" / "overlays"
KUBERNETES_VERSION = (
    "1.32.0"  # validated against; the manifests use only GA APIs (apps/v1, autoscaling/v2, policy/v1)
)
SECRET_VARIABLES = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
}

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAYS / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module", params=["dev", "production"])
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].startswith(name)]
    return doc


def gateway_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    [container] = one(docs, "Deployment", "vod-gateway")["spec"]["template"]["spec"]["containers"]
    return container


def env_of(docs: list[dict[str, Any]]) -> dict[str, str]:
    """What the gateway container sees from its ConfigMap (values) and its env (literals)."""
    [source] = gateway_container(docs)["envFrom"]
    config = one(docs, "ConfigMap", source["configMapRef"]["name"])
    literals = {e["name"]: e["value"] for e in gateway_container(docs)["env"] if "value" in e}
    return {**config["data"], **literals}


def settings_of(docs: list[dict[str, Any]], tmp_path: Path) -> Settings:
    """The gateway's settings as the pod would load them, with stand-ins for what Secrets supply."""
    env = env_of(docs)
    if "GATEWAY_API_KEYS_FILE" in env:
        keys = tmp_path / "keys"
        keys.write_text("stand-in-key-for-the-test name=frontend\n")
        env["GATEWAY_API_KEYS_FILE"] = str(keys)
    return load_settings(
        {**env, "ALIBABA_CLOUD_ACCESS_KEY_ID": "stand-in", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "stand-in"}
    )


def walk(node: object) -> Iterator[object]:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from walk(child)


def test_every_document_is_valid_in_strict_mode(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap"} <= kinds
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises on any unknown field


def test_the_api_versions_are_the_stable_ones(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    assert one(docs, "HorizontalPodAutoscaler", "vod-gateway")["apiVersion"] == "autoscaling/v2"
    assert one(docs, "PodDisruptionBudget", "vod-gateway")["apiVersion"] == "policy/v1"
    assert one(docs, "Deployment", "vod-gateway")["apiVersion"] == "apps/v1"


def test_probes_resources_and_a_locked_down_container(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    pod = one(docs, "Deployment", "vod-gateway")["spec"]["template"]["spec"]
    container = gateway_container(docs)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == "http"
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in container["ports"]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False


def test_termination_outlasts_the_drain_and_the_graceful_shutdown(
    overlay: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    _, docs = overlay
    pod = one(docs, "Deployment", "vod-gateway")["spec"]["template"]["spec"]
    settings = settings_of(docs, tmp_path)
    # the gateway itself keeps serving (readiness 503) while endpoints and proxies drop the pod
    assert settings.shutdown_drain >= 5  # GATEWAY_SHUTDOWN_DRAIN
    assert "lifecycle" not in gateway_container(docs)  # so no preStop sleep (the image needs none)
    graceful = settings.shutdown_timeout  # GATEWAY_SHUTDOWN_TIMEOUT
    assert pod["terminationGracePeriodSeconds"] > settings.shutdown_drain + graceful


def test_the_service_hpa_and_pdb_select_the_gateway_pods(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    deployment = one(docs, "Deployment", "vod-gateway")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    service = one(docs, "Service", "vod-gateway")
    assert service["spec"]["selector"] == selector
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert one(docs, "PodDisruptionBudget", "vod-gateway")["spec"]["selector"]["matchLabels"] == selector
    target = one(docs, "HorizontalPodAutoscaler", "vod-gateway")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "vod-gateway")
    # no other workload's pods (the emulator, Redis) are picked up by the gateway's selector
    for other in (d for d in docs if d["kind"] == "Deployment" and d is not deployment):
        assert not selector.items() <= other["spec"]["template"]["metadata"]["labels"].items()


def test_replicas_setting_covers_the_autoscalers_maximum(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    hpa = one(docs, "HorizontalPodAutoscaler", "vod-gateway")["spec"]
    replicas = int(env_of(docs)["GATEWAY_REPLICAS"])
    assert replicas >= hpa["maxReplicas"] >= hpa["minReplicas"]
    pdb = one(docs, "PodDisruptionBudget", "vod-gateway")["spec"]
    assert pdb["minAvailable"] < hpa["minReplicas"]  # a node drain can always evict one pod


def test_settings_come_from_a_configmap_and_are_all_known(
    overlay: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    _, docs = overlay
    known = {row.variable for row in ROWS}
    env = env_of(docs)
    assert set(env) <= known, set(env) - known
    assert not set(env) & SECRET_VARIABLES
    settings_of(docs, tmp_path)  # every value parses


def test_the_access_key_comes_from_a_secret_reference_never_a_literal(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, docs = overlay
    env = {e["name"]: e for e in gateway_container(docs)["env"]}
    for variable in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        assert "value" not in env[variable]
        # production names the Secret you create; dev's generated one carries a content hash
        assert env[variable]["valueFrom"]["secretKeyRef"]["name"].startswith("vod-credentials")
    secrets = [d for d in docs if d["kind"] == "Secret"]
    if name == "production":
        assert secrets == []  # created out of band; nothing secret is in the repository
        assert env["GATEWAY_REDIS_URL"]["valueFrom"]["secretKeyRef"]["name"] == "vod-gateway-redis"
        assert env_of(docs)["GATEWAY_API_KEYS_FILE"].startswith("/etc/vod-gateway/api-keys/")
    else:
        # the emulator's public demo pair, which only the emulator accepts
        [secret] = secrets
        assert set(secret["data"]) == {"access-key-id", "access-key-secret"}
        decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        assert decoded == {"access-key-id": DEMO_KEY.access_key_id, "access-key-secret": DEMO_KEY.secret}


def test_dev_runs_the_emulator_and_redis_in_the_cluster() -> None:
    docs = render("dev")
    env = env_of(docs)
    assert env["VOD_ENDPOINT"] == "http://vod-emulator:9000"
    assert env["GATEWAY_REDIS_URL"] == "redis://redis:6379/0"
    assert one(docs, "Service", "vod-emulator")["spec"]["ports"][0]["port"] == 9000
    assert one(docs, "Service", "redis")["spec"]["ports"][0]["port"] == 6379
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"vod-gateway-dev"}
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_production_talks_to_the_real_cloud(tmp_path: Path) -> None:
    docs = render("production")
    env = env_of(docs)
    assert "VOD_ENDPOINT" not in env  # from VOD_REGION: https://vod.<region>.aliyuncs.com
    assert settings_of(docs, tmp_path).vod_endpoint.startswith("https://vod.")
    assert gateway_container(docs)["image"].split(":")[-1] not in ("latest", "local")
    assert {d["kind"] for d in docs} == {
        "ConfigMap",
        "Service",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    assert not any(isinstance(n, str) and "LTAI" in n for n in walk(docs))
