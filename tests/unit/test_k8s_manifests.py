"""deploy/k8s: every manifest valid against the Kubernetes schema (kubernetes-validate ships them, so no network),
KEDA's ScaledObjects complete, and each workload probed, sized, unprivileged and fed secrets only by reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from shared.jobs import QUEUES
from tests.unit.deploy_roles import ROOT, k8s_documents, load_yaml_documents

# A version the pinned kubernetes-validate ships schemas for, and that current managed clusters still run.
KUBERNETES_VERSION = "1.31"
# Custom resources kubernetes-validate has no schema for; checked field by field below.
CUSTOM_KINDS = {("keda.sh/v1alpha1", "ScaledObject"), ("kustomize.config.k8s.io/v1beta1", "Kustomization")}
DOCUMENTS = k8s_documents()


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in DOCUMENTS if doc["kind"] == kind]


def workloads() -> list[dict[str, Any]]:
    return of_kind("Deployment") + of_kind("Job")


@pytest.mark.parametrize(
    "doc",
    [doc for _, doc in DOCUMENTS if (doc["apiVersion"], doc["kind"]) not in CUSTOM_KINDS],
    ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}",
)
def test_manifest_is_valid_against_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_refuses_a_misspelled_field() -> None:
    (deployment, *_) = of_kind("Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest_but_the_secret_template_and_the_migration() -> None:
    (kustomization,) = load_yaml_documents(ROOT / "deploy/k8s/kustomization.yaml")
    listed = set(kustomization["resources"])
    on_disk = {path.name for path in (ROOT / "deploy/k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secret.template.yaml"}
    (migrate,) = load_yaml_documents(ROOT / "deploy/k8s/migrate/kustomization.yaml")
    assert migrate["resources"] == ["job.yaml"]
    assert migrate["images"] == kustomization["images"]  # the Job migrates for the release that rolls out


def test_every_workload_runs_the_fleet_image_unprivileged_with_resource_requests() -> None:
    for doc in workloads():
        pod = doc["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == "ashby-slack-fleet"  # set by the kustomizations' `images`
        assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), doc["metadata"]["name"]
        assert "memory" in container["resources"]["limits"]


def test_secrets_reach_the_pods_only_by_reference_and_the_template_holds_no_value() -> None:
    for doc in workloads():
        (container,) = doc["spec"]["template"]["spec"]["containers"]
        assert all(
            "value" not in var or not var["name"].endswith(("SECRET", "TOKEN", "KEY"))
            for var in container.get("env", [])
        )
        assert {"secretRef": {"name": "fleet-secrets"}} in container["envFrom"]
    for secret in of_kind("Secret"):
        assert set(secret["stringData"].values()) == {""}, secret["metadata"]["name"]
    (config,) = of_kind("ConfigMap")
    assert config["data"]["ENVIRONMENT"] == "production"


def test_the_ingress_scales_on_cpu_keeps_two_replicas_through_disruptions_and_routes_only_public_paths() -> None:
    (hpa,) = of_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "fleet-ingress"}
    assert hpa["spec"]["minReplicas"] >= 2
    deployments = {doc["metadata"]["name"]: doc for doc in of_kind("Deployment")}
    assert "replicas" not in deployments["fleet-ingress"]["spec"]  # the autoscaler owns it
    pdbs = {doc["metadata"]["name"]: doc["spec"] for doc in of_kind("PodDisruptionBudget")}
    assert pdbs["fleet-ingress"]["minAvailable"] == 1
    (ingress,) = of_kind("Ingress")
    (rule,) = ingress["spec"]["rules"]
    routed = {(p["path"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]}
    assert routed == {("/webhooks/ashby", "fleet-ingress"), ("/slack", "fleet-ingress"), ("/health", "fleet-ingress")}


def test_the_admin_service_is_reachable_only_inside_the_cluster() -> None:
    services = {doc["metadata"]["name"]: doc["spec"] for doc in of_kind("Service")}
    assert services["fleet-admin"]["type"] == "ClusterIP"
    admin_pods = [d for d in of_kind("Deployment") if d["metadata"]["name"] == "fleet-admin"]
    (container,) = admin_pods[0]["spec"]["template"]["spec"]["containers"]
    assert {"secretRef": {"name": "fleet-admin"}} in container["envFrom"]  # ADMIN_TOKEN, for the admin pods only


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_each_worker_queue_scales_on_its_depth_through_the_prometheus_scaler(queue: str) -> None:
    name = f"fleet-worker-{queue}"
    (scaled,) = [doc for doc in of_kind("ScaledObject") if doc["metadata"]["name"] == name]
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"name": name}
    assert name in {doc["metadata"]["name"] for doc in of_kind("Deployment")}
    assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
    queries = {}
    for trigger in spec["triggers"]:
        assert (
            trigger["type"] == "prometheus"
        )  # arq's queues are sorted sets: KEDA's Redis list scaler cannot read them
        assert trigger["metricType"] in {"AverageValue", "Value"}
        metadata = trigger["metadata"]
        assert metadata["serverAddress"].startswith("http") and float(metadata["threshold"]) > 0
        queries[trigger["metricType"]] = metadata["query"]
    assert queries == {
        "AverageValue": f'max(fleet_queue_depth{{queue="{queue}"}})',
        "Value": f'max(fleet_queue_oldest_job_age_seconds{{queue="{queue}"}})',
    }
    deployment = next(doc for doc in of_kind("Deployment") if doc["metadata"]["name"] == name)
    assert "replicas" not in deployment["spec"]  # KEDA owns it
    pdb = next(doc for doc in of_kind("PodDisruptionBudget") if doc["metadata"]["name"] == name)
    assert pdb["spec"]["maxUnavailable"] == 1


def test_workers_are_ready_only_when_taking_jobs_and_alive_while_waiting() -> None:
    for doc in of_kind("Deployment"):
        (container,) = doc["spec"]["template"]["spec"]["containers"]
        if container["command"][:2] == ["fleet", "worker"]:
            assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
            assert container["livenessProbe"]["httpGet"]["path"] == "/health"
            assert {"name": "METRICS_PORT", "value": "9100"} in container["env"]


def test_the_migration_job_runs_once_and_never_restarts_in_place() -> None:
    (job,) = of_kind("Job")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1 and job["spec"]["activeDeadlineSeconds"] > 0


def test_every_manifest_is_in_the_fleet_namespace() -> None:
    for path, doc in DOCUMENTS:
        if doc["kind"] not in ("Namespace", "Kustomization"):
            assert doc["metadata"]["namespace"] == "fleet", Path(path).name
