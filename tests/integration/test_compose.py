"""The deployment files agree with the code: compose, Prometheus, Grafana and Kubernetes.

Everything is checked by parsing; ``docker compose config`` runs only where a Docker CLI with
the Compose plugin is installed.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from shared.metrics import ServiceMetrics
from shared.registry import SERVICE_PORTS
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TEST_ENV = {"LOOPCRM_DEV_API_KEY": "compose-test-key-0123456789"}
# Not from ServiceMetrics: ticketing's own counter, and Prometheus' scrape health.
EXTRA_METRICS = {"loopcrm_sla_breaches_total", "up"}
_SERVICE_COMMAND = re.compile(r"^services\.([a-z_]+)$")


# --- loading ------------------------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def compose_services() -> dict[str, Any]:
    return compose()["services"]


def loopcrm_services() -> dict[str, str]:
    """compose service -> the loopcrm service it runs (``python -m services.<name>``)."""
    found = {}
    for compose_name, spec in compose_services().items():
        command = spec.get("command") or []
        if command[:2] == ["python", "-m"] and (match := _SERVICE_COMMAND.match(command[2])):
            found[compose_name] = match.group(1)
    return found


def environment(compose_name: str) -> dict[str, str]:
    env = compose_services()[compose_name].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(str(value)) for key, value in env.items()}


def interpolate(value: str, env: dict[str, str] = TEST_ENV) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``, with a fixed env."""

    def substitute(match: re.Match[str]) -> str:
        if match.group() == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        if name in env and (env[name] or operator not in (":-", ":?")):
            return env[name]
        if operator in (":-", "-"):
            return argument or ""
        if operator in (":?", "?"):
            raise AssertionError(f"${{{name}}} is required: {argument}")
        return ""

    return re.sub(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}", substitute, value)


def published_ports(compose_name: str) -> list[tuple[int, int]]:
    """(host, container) pairs of the short and long port syntax."""
    pairs = []
    for port in compose_services()[compose_name].get("ports") or []:
        if isinstance(port, dict):
            pairs.append((int(port["published"]), int(port["target"])))
        else:
            parts = str(port).split("/")[0].split(":")
            pairs.append((int(parts[-2]), int(parts[-1])))
    return pairs


def settings_class(service: str) -> type[ServiceSettings] | None:
    """The service's settings class, or None while its settings module is not written yet."""
    module_name = f"services.{service}.settings"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module_name
    ]
    assert len(classes) == 1, f"{module_name} should define one settings class, not {classes}"
    return classes[0]


def created_databases() -> set[str]:
    sql = (DEPLOY / "postgres" / "init.sql").read_text(encoding="utf-8")
    sql = re.sub(r"--[^\n]*", "", sql)
    return {m.lower() for m in re.findall(r'CREATE\s+DATABASE\s+"?(\w+)"?', sql, re.IGNORECASE)}


@cache
def known_metric_names() -> frozenset[str]:
    """Every sample name a service can expose, as prometheus_client names them."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gauge": ("",),
    }
    names = set(EXTRA_METRICS)
    for family in ServiceMetrics("compose-test").registry.collect():
        names.update(family.name + suffix for suffix in suffixes[family.type])
    return frozenset(names)


_PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
_PROMQL_WORDS |= {"and", "or", "unless", "offset", "atan2", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, labels or keywords)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    grouping = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
    text = re.sub(grouping, " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group()
        before = text[match.start() - 1] if match.start() else " "
        if before.isdigit() or before == "." or word.lower() in _PROMQL_WORDS:
            continue
        if text[match.end() :].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def github_anchors(markdown: str) -> set[str]:
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", markdown, re.MULTILINE):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(anchor)
    return anchors


def k8s_documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted((DEPLOY / "k8s").glob("*.y*ml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                documents.append(document)
    return documents


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in k8s_documents() if d.get("kind") == kind}


# --- compose: services ------------------------------------------------------------------------


def test_compose_runs_the_five_services_from_the_one_image() -> None:
    assert sorted(loopcrm_services().values()) == sorted(SERVICE_PORTS)
    assert sorted(loopcrm_services()) == sorted(SERVICE_PORTS), "compose names = service names"
    for compose_name in loopcrm_services():
        spec = compose_services()[compose_name]
        assert spec["image"] == "loopcrm:local"
        assert spec["build"]["context"] == "."
        assert (ROOT / spec["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize("compose_name", sorted(loopcrm_services()))
def test_each_service_compose_runs_is_a_runnable_package(compose_name: str) -> None:
    service = loopcrm_services()[compose_name]
    package = ROOT / "services" / service
    assert (package / "__init__.py").is_file(), f"services/{service} is not a package"
    assert (package / "__main__.py").is_file(), f"python -m services.{service} has no __main__"


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_published_port_is_the_services_port(service: str) -> None:
    port = SERVICE_PORTS[service]
    assert published_ports(service) == [(port, port)]
    assert environment(service)["LOOPCRM_PORT"] == str(port)


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_the_port_is_the_settings_class_default_port(service: str) -> None:
    cls = settings_class(service)
    if cls is None:
        pytest.skip(f"services/{service}/settings.py does not exist yet")
    assert cls.service_name == service
    assert cls.default_port == SERVICE_PORTS[service]


@pytest.mark.parametrize("compose_name", sorted(compose_services()))
def test_every_loopcrm_variable_is_a_setting(compose_name: str) -> None:
    service = loopcrm_services().get(compose_name)
    cls = (settings_class(service) if service else None) or ServiceSettings
    fields = {f"LOOPCRM_{name.upper()}" for name in cls.model_fields}
    unknown = {key for key in environment(compose_name) if key.startswith("LOOPCRM_")} - fields
    assert not unknown, f"{compose_name}: {sorted(unknown)} are not fields of {cls.__name__}"


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_the_compose_environment_loads_into_the_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = settings_class(service) or ServiceSettings
    for key in [key for key in os.environ if key.startswith("LOOPCRM_")]:
        monkeypatch.delenv(key)
    env = environment(service)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = cls()
    assert settings.host == "0.0.0.0"
    assert settings.http_port == SERVICE_PORTS[service]
    assert settings.kafka_idempotence is True
    assert settings.dev_api_key == TEST_ENV["LOOPCRM_DEV_API_KEY"]
    assert settings.resolved_database_url() == env["LOOPCRM_DATABASE_URL"]


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_the_database_is_the_services_own_on_postgres(service: str) -> None:
    url = make_url(environment(service)["LOOPCRM_DATABASE_URL"])
    assert url.host == "postgres"
    postgres = compose_services()[url.host]
    assert postgres["image"].startswith("postgres:16")
    assert url.drivername == "postgresql+asyncpg"
    assert url.port == 5432
    assert url.database == service
    assert url.database in created_databases()
    assert url.username == postgres["environment"]["POSTGRES_USER"]
    assert url.password == postgres["environment"]["POSTGRES_PASSWORD"]
    mounts = postgres["volumes"]
    assert "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in mounts


def test_init_sql_creates_exactly_one_database_per_service() -> None:
    assert created_databases() == set(SERVICE_PORTS)


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_a_service_starts_after_its_dependencies_and_is_checked_on_readyz(service: str) -> None:
    spec = compose_services()[service]
    assert spec["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "kafka": {"condition": "service_healthy"},
        "kafka-init": {"condition": "service_completed_successfully"},
    }
    assert "/readyz" in " ".join(spec["healthcheck"]["test"])
    assert environment(service)["LOOPCRM_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert environment(service)["LOOPCRM_KAFKA_IDEMPOTENCE"] == "true"


def test_every_dependency_exists_and_healthy_ones_have_a_healthcheck() -> None:
    services = compose_services()
    for name, spec in services.items():
        for target, condition in (spec.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            if condition["condition"] == "service_healthy":
                check = services[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), f"{target}: no healthcheck"


def test_kafka_runs_in_kraft_mode_and_advertises_what_the_services_use() -> None:
    kafka = compose_services()["kafka"]
    env = kafka["environment"]
    assert kafka["image"] == "apache/kafka:3.9.0"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert kafka["healthcheck"]["test"]


def test_kafka_init_creates_the_topics_with_the_loopcrm_cli() -> None:
    init = compose_services()["kafka-init"]
    assert init["image"] == "loopcrm:local"
    command = init["command"]
    assert command[:2] == ["loopcrm", "topics"]
    assert command[command.index("--bootstrap") + 1] == "kafka:9092"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["loopcrm"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_the_image_is_built_from_pyproject_and_runs_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert re.search(r"pip install \.", dockerfile)
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK\b.*/healthz", dockerfile, re.MULTILINE | re.DOTALL)
    copied = set(re.findall(r"^COPY\s+(\S+)", dockerfile, re.MULTILINE))
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for source in copied:
        assert f"!{source.rstrip('/')}" in ignore, f".dockerignore hides {source}"


def test_docker_compose_config_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None or _run([docker, "compose", "version"]).returncode != 0:
        pytest.skip("no docker CLI with the compose plugin here")
    result = _run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"])
    assert result.returncode == 0, result.stderr


# --- Prometheus -------------------------------------------------------------------------------


def prometheus_config() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    config = prometheus_config()
    rules = []
    for rule_file in config["rule_files"]:
        document = yaml.safe_load((DEPLOY / "prometheus" / rule_file).read_text(encoding="utf-8"))
        rules += [rule for group in document["groups"] for rule in group["rules"]]
    return rules


def test_prometheus_scrapes_every_service_at_its_port() -> None:
    jobs = {job["job_name"]: job for job in prometheus_config()["scrape_configs"]}
    targets = {
        target: static.get("labels", {})
        for static in jobs["loopcrm"]["static_configs"]
        for target in static["targets"]
    }
    for service, port in SERVICE_PORTS.items():
        assert targets.get(f"{service}:{port}") == {"service": service}
    assert jobs["loopcrm"].get("metrics_path", "/metrics") == "/metrics"


def test_compose_mounts_the_prometheus_config() -> None:
    prometheus = compose_services()["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]


def test_alert_rules_select_only_metrics_the_services_expose() -> None:
    rules = alert_rules()
    assert rules
    for rule in rules:
        unknown = metric_names(rule["expr"]) - known_metric_names()
        assert not unknown, f"{rule['alert']} selects unknown metrics {sorted(unknown)}"


def test_the_alerts_cover_what_on_call_must_hear_about() -> None:
    exprs = "\n".join(rule["expr"] for rule in alert_rules())
    for needle in (
        'up{job="loopcrm"}',
        "loopcrm_consumer_lag",
        "loopcrm_outbox_oldest_age_seconds",
        "loopcrm_outbox_backlog",
        'outcome="dead_lettered"',
        'status=~"5.."',
        "loopcrm_sla_breaches_total",
        "histogram_quantile(0.95",
    ):
        assert needle in exprs, f"no alert on {needle}"


def test_every_alert_has_a_severity_and_a_runbook_section() -> None:
    anchors = github_anchors((ROOT / "docs" / "operations.md").read_text(encoding="utf-8"))
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names))
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"]
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert page == "docs/operations.md"
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in {page}"


def test_metric_name_extraction() -> None:
    expr = (
        'sum by (service, le) (rate(a_bucket{route!~"/x|{y}"}[5m] offset 1h)) / b_total '
        "> 0.5 unless on(service) up == 0 and 1e3 < c"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "up", "c"}


# --- Grafana --------------------------------------------------------------------------------


def test_grafana_provisions_the_prometheus_datasource_the_dashboard_uses() -> None:
    grafana = DEPLOY / "grafana"
    datasources = yaml.safe_load(
        (grafana / "provisioning" / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )["datasources"]
    (prometheus,) = [d for d in datasources if d["type"] == "prometheus"]
    assert prometheus["url"] == "http://prometheus:9090"
    providers = yaml.safe_load(
        (grafana / "provisioning" / "dashboards" / "loopcrm.yml").read_text(encoding="utf-8")
    )["providers"]
    mounts = compose_services()["grafana"]["volumes"]
    for provider in providers:
        assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts

    dashboard = json.loads((grafana / "dashboards" / "loopcrm.json").read_text(encoding="utf-8"))
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert dashboard["uid"] and panels
    exprs = []
    for panel in panels:
        assert panel["datasource"]["uid"] == prometheus["uid"], panel["title"]
        exprs += [target["expr"] for target in panel["targets"]]
    for expr in exprs:
        unknown = metric_names(expr) - known_metric_names()
        assert not unknown, f"dashboard query selects unknown metrics {sorted(unknown)}: {expr}"
    joined = "\n".join(exprs)
    for needle in (
        "loopcrm_http_requests_total",
        "loopcrm_http_request_duration_seconds_bucket",
        "loopcrm_events_consumed_total",
        "loopcrm_consumer_lag",
        "loopcrm_outbox_backlog",
        "loopcrm_sla_breaches_total",
    ):
        assert needle in joined, f"no panel on {needle}"


# --- Kubernetes -----------------------------------------------------------------------------


def test_the_kustomization_lists_existing_files() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DEPLOY / "k8s" / resource).is_file(), resource


def test_kustomize_renders_the_manifests() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl here")
    result = _run([kubectl, "kustomize", str(DEPLOY / "k8s")])
    assert result.returncode == 0, result.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(result.stdout) if d)
    assert kinds.count("Deployment") == kinds.count("Service") == len(SERVICE_PORTS)


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_each_service_has_a_deployment_and_service_on_its_port(service: str) -> None:
    port = SERVICE_PORTS[service]
    deployment = by_kind("Deployment")[service]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", f"services.{service}"]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    env = {item["name"]: item for item in container["env"]}
    assert env["LOOPCRM_PORT"]["value"] == str(port)
    assert env["LOOPCRM_API_KEYS"]["valueFrom"]["secretKeyRef"]["name"]
    assert env["LOOPCRM_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == service
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    configmaps = by_kind("ConfigMap")
    for source in container["envFrom"]:
        keys = configmaps[source["configMapRef"]["name"]]["data"]
        fields = {f"LOOPCRM_{name.upper()}" for name in ServiceSettings.model_fields}
        assert set(keys) <= fields
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()

    k8s_service = by_kind("Service")[service]
    assert k8s_service["spec"]["selector"] == selector
    (service_port,) = k8s_service["spec"]["ports"]
    assert service_port["port"] == port
    assert service_port["targetPort"] in (port, container["ports"][0].get("name"))


# --- helpers ----------------------------------------------------------------------------------


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **TEST_ENV},
        cwd=ROOT,
    )
