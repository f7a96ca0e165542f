"""The Kubernetes manifests (deploy/kubernetes/) against the Kubernetes JSON schemas, and with each other.

The schemas come packaged with kubernetes-validate (PyPI), so this runs offline.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
# The oldest Kubernetes release still supported upstream when this was written.
VERSION = "1.31.0"


def _documents() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        found.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return found


def _one(kind: str) -> dict[str, Any]:
    (found,) = [doc for doc in _documents() if doc["kind"] == kind]
    return found


def test_there_is_each_kind_of_manifest() -> None:
    kinds = sorted(doc["kind"] for doc in _documents())
    assert kinds == ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret", "Service"]


@pytest.mark.parametrize("document", _documents(), ids=lambda d: d["kind"])
def test_each_manifest_fits_the_kubernetes_schema_strictly(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, VERSION, strict=True)


def test_the_validator_refuses_a_misspelled_field() -> None:
    broken = copy.deepcopy(_one("Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/", "port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)


def test_readiness_and_liveness_are_apart() -> None:
    (container,) = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/v1/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/v1/health"
    assert container["startupProbe"]["httpGet"]["path"] == "/api/v1/health"


def test_the_database_url_comes_from_the_secret() -> None:
    (container,) = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    (url,) = [e for e in container["env"] if e["name"] == "GRADTRACE_DATABASE_URL"]
    ref = url["valueFrom"]["secretKeyRef"]
    secret = _one("Secret")
    assert ref["name"] == secret["metadata"]["name"]
    assert ref["key"] in secret["stringData"]


def test_the_service_the_autoscaler_and_the_budget_point_at_the_deployment() -> None:
    deployment = _one("Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _one("Service")["spec"]["selector"].items() <= labels.items()
    assert _one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = _one("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert _one("Service")["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}
