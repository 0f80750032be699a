"""Renders every overlay of deploy/kubernetes and checks it strictly; run by ./check.

For each overlay in overlays/, twice: as the repository ships it (placeholders in place) and
filled the way README.md tells an operator to fill it (an overlay of their own, made here in a
temporary directory: secret files, settings, the Ingress's host and TLS Secret, the image).
Each rendering must:

- validate against Kubernetes' own schemas (kubernetes-validate, strict: an unknown field is
  an error), for the oldest and the newest Kubernetes version named below; a kind without a
  schema is an error, except the ServiceMonitor, which is validated as strictly against the
  CRD that defines it (schemas/, kept in the repository);
- set only variables the service reads (crates/service/src/config/variables.rs), and its
  secret ones only from a Secret;
- hold together: every reference resolves (ConfigMaps, Secrets, Services, ports, selectors),
  probes and security settings are there, an autoscaled Deployment has no replica count, and
  app mode with more than one replica uses PostgreSQL;
- as shipped: hold no secret (every Secret value is a placeholder); filled: hold no
  placeholder left anywhere, and the operator's values where they were put.

Before all that, the check shows it can fail: a set of broken variants of the app overlay must
each be refused (`self_test`).
"""

from __future__ import annotations

import base64
import copy
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError
from referencing import Registry, Resource

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VARIABLES_RS = ROOT / "crates/service/src/config/variables.rs"

# The oldest Kubernetes the manifests are meant for, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.33", "1.37")

PLACEHOLDER = "replace-with-"
# The image the manifests name until an operator sets theirs: `.invalid` never resolves.
PLACEHOLDER_IMAGE = "registry.invalid/order-metafields"

# The service's container, by name; the only other container is the dev overlay's database,
# which may set only the variables of the official postgres image it uses.
SERVICE_CONTAINER = "order-metafields"
POSTGRES_CONTAINER = "postgres"
POSTGRES_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}

# What the filled variant puts where a placeholder was (a plain value otherwise).
FILLED_HOST = "orders.example.com"
FILLED_TLS_SECRET = "orders-example-com-tls"
FILLED_IMAGE = ("registry.example.com/acme/order-metafields", "0.1.0")
FILLED_VALUES = {
    "BC_STORE_HASH": "abc123",
    "APP_URL": f"https://{FILLED_HOST}",
    "CORS_ALLOWED_ORIGINS": "https://store.example.com",
    "TOKEN_ENCRYPTION_KEY": base64.b64encode(bytes(range(32))).decode(),
    "DATABASE_URL": "postgres://order_metafields:check@db.example.com:5432/order_metafields"
    "?sslmode=verify-full",
}

# Kubernetes' ObjectMeta in kubernetes-validate's definitions, for custom resources' metadata.
OBJECT_META = "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

Document = dict[str, Any]


class Problems:
    """Collects problems under a heading (which overlay, which variant)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")


# --- The service's variables --------------------------------------------------------------


def service_variables() -> dict[str, bool]:
    """Every variable of variables.rs, with whether it is secret."""
    text = VARIABLES_RS.read_text()
    start = text.index("variables! {")
    entries = re.finditer(
        r"^    ([A-Z][A-Z0-9_]*) \{\n(.*?)^    \}", text[start:], re.MULTILINE | re.DOTALL
    )
    variables = {}
    for entry in entries:
        secret = re.search(r"^\s*secret: (true|false),", entry.group(2), re.MULTILINE)
        if secret is None:
            raise SystemExit(f"{VARIABLES_RS}: {entry.group(1)} has no `secret:` line")
        variables[entry.group(1)] = secret.group(1) == "true"
    if len(variables) < 10:
        raise SystemExit(f"{VARIABLES_RS}: found only {len(variables)} variables; has it moved?")
    return variables


# --- Rendering ----------------------------------------------------------------------------


def render(directory: Path) -> list[Document]:
    """`kubectl kustomize` of one directory, as documents."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {directory} failed:\n{result.stderr.strip()}")
    return [document for document in yaml.safe_load_all(result.stdout) if document]


class RenderError(Exception):
    pass


# --- Schemas ------------------------------------------------------------------------------


def crd_validators() -> dict[tuple[str, str], dict[str, jsonschema.Validator]]:
    """Validators for the custom resources kept in schemas/, by (apiVersion, kind) and then by
    Kubernetes version (their `metadata` is Kubernetes' ObjectMeta of that version)."""
    validators: dict[tuple[str, str], dict[str, jsonschema.Validator]] = {}
    for path in sorted((HERE / "schemas").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"]
        for served in crd["spec"]["versions"]:
            api_version = f"{group}/{served['name']}"
            schema = strict_json_schema(served["schema"]["openAPIV3Schema"])
            schema["properties"]["apiVersion"] = {"const": api_version}
            schema["properties"]["kind"] = {"const": kind}
            schema["properties"]["metadata"] = {"$ref": OBJECT_META}
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind"})
            schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            schema["$id"] = f"https://kubernetes.io/api/{kind.lower()}/{api_version}"
            by_version = {}
            for version in KUBERNETES_VERSIONS:
                definitions = Resource.from_contents(kubernetes_definitions(version))
                registry = definitions @ Registry()
                by_version[version] = jsonschema.Draft202012Validator(schema, registry=registry)
            validators[(api_version, kind)] = by_version
    return validators


def kubernetes_definitions(version: str) -> Any:
    """kubernetes-validate's strict definitions of one version (ObjectMeta and the rest)."""
    return kubernetes_validate.utils.schema_contents(
        f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version
    )


def strict_json_schema(schema: Any) -> Any:
    """A CRD's structural OpenAPI schema as JSON Schema, as strict as the API server with
    field validation `Strict`: a field the schema does not declare is an error, unless the
    schema says unknown fields are kept (x-kubernetes-preserve-unknown-fields)."""
    if isinstance(schema, list):
        return [strict_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {
        key: strict_json_schema(value)
        for key, value in schema.items()
        if key not in ("nullable", "description") and not key.startswith("x-kubernetes-")
    }
    # `properties` maps names to schemas: convert the schemas, never the names.
    if "properties" in schema:
        converted["properties"] = {
            name: strict_json_schema(value) for name, value in schema["properties"].items()
        }
    if (
        schema.get("type") == "object"
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        converted["additionalProperties"] = False
    if schema.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def validate_schemas(
    documents: list[Document],
    crds: dict[tuple[str, str], dict[str, jsonschema.Validator]],
    where: str,
    problems: Problems,
) -> None:
    for document in documents:
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        key = (document.get("apiVersion"), document.get("kind"))
        for version in KUBERNETES_VERSIONS:
            if key in crds:
                errors = sorted(crds[key][version].iter_errors(document), key=str)
                for error in errors[:3]:
                    path = ".".join(str(item) for item in error.absolute_path)
                    problems.add(where, f"{name} (Kubernetes {version}): {path}: {error.message}")
                continue
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except ValidationError as error:
                path = ".".join(str(item) for item in error.path)
                problems.add(where, f"{name} (Kubernetes {version}): {path}: {error.message}")
            except SchemaNotFoundError:
                problems.add(
                    where,
                    f"{name}: no schema for {key[0]} {key[1]} in Kubernetes {version} "
                    "(a custom resource needs its CRD in schemas/)",
                )


# --- Rules --------------------------------------------------------------------------------


def find(documents: list[Document], kind: str, name: str | None = None) -> list[Document]:
    return [
        document
        for document in documents
        if document.get("kind") == kind
        and (name is None or document.get("metadata", {}).get("name") == name)
    ]


def data_of(document: Document) -> dict[str, str]:
    """A ConfigMap's or Secret's values as text."""
    values = dict(document.get("data") or {})
    if document.get("kind") == "Secret":
        values = {key: base64.b64decode(value).decode() for key, value in values.items()}
        values.update(document.get("stringData") or {})
    return {key: str(value) for key, value in values.items()}


def pod_templates(documents: list[Document]) -> list[tuple[Document, Document]]:
    """(workload, pod template) of every Deployment and StatefulSet."""
    return [
        (document, document["spec"]["template"])
        for document in documents
        if document.get("kind") in ("Deployment", "StatefulSet")
    ]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    match = selector.get("matchLabels", selector) if selector else {}
    if selector and "matchExpressions" in selector:
        return False  # none used here; refuse rather than guess
    return bool(match) and all(labels.get(key) == value for key, value in match.items())


def check_rules(
    documents: list[Document],
    variables: dict[str, bool],
    where: str,
    problems: Problems,
    filled: bool,
) -> None:
    """The rules beyond the schemas. A rendering the schemas refuse may not have the shape
    the rules expect; that is reported, not raised."""
    try:
        check_rules_of_valid_shapes(documents, variables, where, problems, filled)
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        problems.add(where, f"the rules could not be checked ({type(error).__name__}: {error})")


def check_rules_of_valid_shapes(
    documents: list[Document],
    variables: dict[str, bool],
    where: str,
    problems: Problems,
    filled: bool,
) -> None:
    add = lambda message: problems.add(where, message)  # noqa: E731

    seen = set()
    for document in documents:
        key = (document.get("kind"), document.get("metadata", {}).get("name"))
        if key in seen:
            add(f"{key[0]}/{key[1]} appears twice")
        seen.add(key)

    config_maps = {d["metadata"]["name"]: d for d in find(documents, "ConfigMap")}
    secrets = {d["metadata"]["name"]: d for d in find(documents, "Secret")}
    service_accounts = {d["metadata"]["name"] for d in find(documents, "ServiceAccount")}
    workloads = pod_templates(documents)

    deployments = find(documents, "Deployment", SERVICE_CONTAINER)
    if len(deployments) != 1:
        add(f"expected one Deployment named {SERVICE_CONTAINER}, found {len(deployments)}")
        return

    environment: dict[str, str] = {}
    for workload, template in workloads:
        workload_name = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = template["spec"]
        pod_security = spec.get("securityContext") or {}
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            add(f"{workload_name}: the pod's seccompProfile is not RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            add(f"{workload_name}: the pod mounts a service account token")
        account = spec.get("serviceAccountName")
        if account and account not in service_accounts:
            add(f"{workload_name}: service account {account} is not in the rendering")
        if spec.get("initContainers") or spec.get("ephemeralContainers"):
            add(f"{workload_name}: has containers this check does not look at")
        volumes = {volume["name"] for volume in spec.get("volumes") or []}
        volumes |= {
            claim["metadata"]["name"]
            for claim in workload["spec"].get("volumeClaimTemplates") or []
        }
        for container in spec["containers"]:
            container_name = f"{workload_name} container {container['name']}"
            security = container.get("securityContext") or {}
            run_as_non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
            if run_as_non_root is not True:
                add(f"{container_name}: may run as root")
            if security.get("readOnlyRootFilesystem") is not True:
                add(f"{container_name}: the root filesystem is writable")
            if security.get("allowPrivilegeEscalation") is not False:
                add(f"{container_name}: privilege escalation is allowed")
            if security.get("privileged"):
                add(f"{container_name}: is privileged")
            if "ALL" not in (security.get("capabilities") or {}).get("drop", []):
                add(f"{container_name}: capabilities are not all dropped")
            if (security.get("capabilities") or {}).get("add"):
                add(f"{container_name}: adds capabilities")
            resources = container.get("resources") or {}
            for needed in ("requests.cpu", "requests.memory", "limits.memory"):
                part, name = needed.split(".")
                if name not in (resources.get(part) or {}):
                    add(f"{container_name}: no {needed}")
            for mount in container.get("volumeMounts") or []:
                if mount["name"] not in volumes:
                    add(f"{container_name}: mounts {mount['name']}, which is not a volume")

            names = container_variables(container, config_maps, secrets, container_name, add)
            if container["name"] == SERVICE_CONTAINER and workload is deployments[0]:
                environment = check_service_container(
                    container, names, variables, container_name, add
                )
            elif container["name"] == POSTGRES_CONTAINER:
                for name in sorted(set(names) - POSTGRES_VARIABLES):
                    add(f"{container_name}: sets {name}, which the postgres image does not read")
            else:
                add(f"{container_name}: a container this check does not know")

    check_mode(documents, deployments[0], environment, where, add, filled)
    check_services(documents, workloads, add)
    check_secrets(documents, add, filled)


def container_variables(
    container: Document,
    config_maps: dict[str, Document],
    secrets: dict[str, Document],
    container_name: str,
    add: Callable[[str], None],
) -> dict[str, tuple[str, str | None]]:
    """Every variable a container gets: name -> (where from, value when known). A variable
    set by two sources is a problem (one would silently win)."""
    names: dict[str, tuple[str, str | None]] = {}

    def note(name: str, origin: str, value: str | None) -> None:
        if name in names:
            add(f"{container_name}: {name} is set by a {names[name][0]} and by a {origin}")
        names[name] = (origin, value)

    objects_of = {"ConfigMap": config_maps, "Secret": secrets}
    for source in container.get("envFrom") or []:
        if source.get("prefix"):
            add(f"{container_name}: envFrom with a prefix")
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if field in source:
                name = source[field]["name"]
                if name not in objects_of[kind]:
                    add(f"{container_name}: {kind} {name} is not in the rendering")
                    continue
                for key, value in data_of(objects_of[kind][name]).items():
                    note(key, kind, value)
    for variable in container.get("env") or []:
        value_from = variable.get("valueFrom")
        if value_from is None:
            note(variable["name"], "value", variable.get("value"))
            continue
        references = [
            (field, kind)
            for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret"))
            if field in value_from
        ]
        if len(references) != 1 or len(value_from) != 1:
            add(f"{container_name}: {variable['name']} comes from {sorted(value_from)}")
            continue
        field, kind = references[0]
        reference = value_from[field]
        source = objects_of[kind].get(reference["name"])
        if source is None:
            add(f"{container_name}: {kind} {reference['name']} is not in the rendering")
        elif reference["key"] not in data_of(source):
            add(f"{container_name}: {kind} {reference['name']} has no {reference['key']}")
        note(variable["name"], kind, data_of(source).get(reference["key"]) if source else None)
    return names


def check_service_container(
    container: Document,
    names: dict[str, tuple[str, str | None]],
    variables: dict[str, bool],
    container_name: str,
    add: Callable[[str], None],
) -> dict[str, str]:
    """The service's own rules; answers its environment (name -> value)."""
    known = variables
    for name, (origin, _) in sorted(names.items()):
        if name not in known:
            add(f"{container_name}: sets {name}, which the service does not read (variables.rs)")
        elif known[name] and origin != "Secret":
            add(f"{container_name}: the secret {name} comes from a {origin}, not a Secret")

    ports = {port["name"]: port["containerPort"] for port in container.get("ports") or []}
    for probe, path in (
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/healthz"),
    ):
        check = (container.get(probe) or {}).get("httpGet")
        if not check:
            add(f"{container_name}: no {probe} over HTTP")
            continue
        if check.get("path") != path:
            add(f"{container_name}: {probe} asks {check.get('path')}, not {path}")
        if check.get("port") not in ports:
            add(f"{container_name}: {probe} uses port {check.get('port')}, not a named port")

    environment = {name: value or "" for name, (_, value) in names.items()}
    for variable, port in (("LISTEN_ADDR", "http"), ("METRICS_ADDR", "metrics")):
        address = environment.get(variable, "")
        if port not in ports or not address.endswith(f":{ports[port]}"):
            add(f"{container_name}: {variable}={address!r} is not the {port} port")
    return environment


def check_mode(
    documents: list[Document],
    deployment: Document,
    environment: dict[str, str],
    where: str,
    add: Callable[[str], None],
    filled: bool,
) -> None:
    """Single-store or app mode, and how many replicas the database allows."""
    autoscalers = [
        hpa
        for hpa in find(documents, "HorizontalPodAutoscaler")
        if hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        and hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    ]
    for hpa in find(documents, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        if not find(documents, target["kind"], target["name"]):
            name = hpa["metadata"]["name"]
            add(f"HorizontalPodAutoscaler/{name}: no {target['kind']} {target['name']}")
    if autoscalers and "replicas" in deployment["spec"]:
        add("the autoscaled Deployment also sets replicas (each apply would undo the autoscaler)")
    most = max(
        [deployment["spec"].get("replicas", 1)]
        + [hpa["spec"]["maxReplicas"] for hpa in autoscalers]
    )

    database = environment.get("DATABASE_URL", "")
    single_store = "BC_STORE_HASH" in environment
    if single_store:
        for name in ("BC_ACCESS_TOKEN", "BC_CLIENT_ID", "BC_CLIENT_SECRET"):
            if name not in environment:
                add(f"single-store mode without {name}")
        if autoscalers and not re.match(r"postgres(ql)?://|" + PLACEHOLDER, database):
            add("single-store mode autoscaled without PostgreSQL (its replicas share nothing)")
    else:
        for name in ("BC_CLIENT_ID", "BC_CLIENT_SECRET", "APP_URL", "TOKEN_ENCRYPTION_KEY"):
            if name not in environment:
                add(f"app mode without {name}")
        if "BC_ACCESS_TOKEN" in environment:
            add("app mode with BC_ACCESS_TOKEN (stores bring their own tokens)")
        # Without DATABASE_URL app mode keeps its stores in SQLite in the working directory:
        # one replica, on a writable filesystem. These manifests run several on PostgreSQL.
        if not database:
            add("app mode without DATABASE_URL (SQLite: one replica, and a writable disk)")
        if min([hpa["spec"].get("minReplicas", 1) for hpa in autoscalers] or [0]) < 2:
            add("app mode without an autoscaler keeping at least two replicas")
    shipped_placeholder = not filled and database.startswith(PLACEHOLDER)
    if database and not shipped_placeholder and most > 1:
        if not re.match(r"postgres(ql)?://", database):
            add(f"{most} replicas on a DATABASE_URL that is not PostgreSQL (SQLite is one replica)")
    if filled and not single_store:
        hosts = {
            rule.get("host")
            for ingress in find(documents, "Ingress")
            for rule in ingress["spec"].get("rules", [])
        }
        if environment.get("APP_URL") not in {f"https://{host}" for host in hosts}:
            add(f"APP_URL {environment.get('APP_URL')!r} is not https:// of the Ingress's host")


def check_services(
    documents: list[Document],
    workloads: list[tuple[Document, Document]],
    add: Callable[[str], None],
) -> None:
    """Services select pods and name their ports; the Ingress, the PodDisruptionBudget and
    the ServiceMonitor point at what exists."""
    services = {d["metadata"]["name"]: d for d in find(documents, "Service")}
    for name, service in services.items():
        pods = [
            t
            for _, t in workloads
            if selects(service["spec"].get("selector"), t["metadata"]["labels"])
        ]
        if len(pods) != 1:
            add(f"Service/{name} selects the pods of {len(pods)} workloads, not one")
            continue
        container_ports = {
            port.get("name")
            for container in pods[0]["spec"]["containers"]
            for port in container.get("ports") or []
        }
        for port in service["spec"]["ports"]:
            if isinstance(port["targetPort"], str) and port["targetPort"] not in container_ports:
                add(f"Service/{name}: targetPort {port['targetPort']} is no container port")
    for ingress in find(documents, "Ingress"):
        name = ingress["metadata"]["name"]
        hosts = [rule.get("host") for rule in ingress["spec"].get("rules", [])]
        tls_hosts = [
            host for tls in ingress["spec"].get("tls", []) for host in tls.get("hosts", [])
        ]
        if not ingress["spec"].get("tls") or sorted(set(tls_hosts)) != sorted(set(hosts)):
            add(f"Ingress/{name}: TLS does not cover exactly its hosts")
        for rule in ingress["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services.get(backend["name"])
                port_names = {
                    port["name"] for port in (service or {"spec": {"ports": []}})["spec"]["ports"]
                }
                if service is None or backend["port"].get("name") not in port_names:
                    add(f"Ingress/{name}: backend {backend} is no Service port")
                elif backend["port"]["name"] != "http":
                    add(f"Ingress/{name}: routes {backend['port']['name']}, not http")
    for budget in find(documents, "PodDisruptionBudget"):
        if not any(
            selects(budget["spec"]["selector"], t["metadata"]["labels"]) for _, t in workloads
        ):
            add(f"PodDisruptionBudget/{budget['metadata']['name']} selects no pods")
    for monitor in find(documents, "ServiceMonitor"):
        name = monitor["metadata"]["name"]
        chosen = [
            s
            for s in services.values()
            if selects(monitor["spec"]["selector"], s["metadata"].get("labels", {}))
        ]
        if len(chosen) != 1:
            add(f"ServiceMonitor/{name} selects {len(chosen)} Services, not one")
            continue
        port_names = {port["name"] for port in chosen[0]["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            if endpoint.get("port") not in port_names:
                add(f"ServiceMonitor/{name}: port {endpoint.get('port')} is no port of the Service")
            if endpoint.get("port") == "http":
                add(f"ServiceMonitor/{name}: scrapes the public port")


def settings_in(value: Any) -> list[str]:
    """Every text in a document but the commands containers run: those are code, not
    settings (the dev database's command names the placeholder, to refuse it)."""
    if isinstance(value, dict):
        return [
            text
            for key, item in value.items()
            if key not in ("command", "args")
            for text in settings_in(item)
        ]
    if isinstance(value, list):
        return [text for item in value for text in settings_in(item)]
    return [str(value)]


def check_secrets(documents: list[Document], add: Callable[[str], None], filled: bool) -> None:
    """As shipped, no Secret holds a value that is not a placeholder; filled, nothing does."""
    if filled:
        for document in documents:
            values = list(settings_in(document))
            if document.get("kind") == "Secret":
                values += data_of(document).values()
            if any(PLACEHOLDER in value or PLACEHOLDER_IMAGE in value for value in values):
                add(f"{document['kind']}/{document['metadata']['name']} still holds a placeholder")
        return
    for secret in find(documents, "Secret"):
        for key, value in data_of(secret).items():
            if not value.strip().startswith(PLACEHOLDER):
                name = secret["metadata"]["name"]
                add(f"Secret/{name}: {key} is not a {PLACEHOLDER}... placeholder")


# --- The operator's overlay ----------------------------------------------------------------


def filled_overlay(overlay: Path, shipped: list[Document], directory: Path) -> dict[str, str]:
    """Writes into `directory` an overlay of `overlay` that fills every placeholder as
    README.md says (secret files, settings, Ingress, image); answers the values it set."""
    secrets_directory = directory / "secrets"
    secrets_directory.mkdir()
    set_values: dict[str, str] = {}
    by_generator: dict[tuple[str, str], list[str]] = {}
    for document in shipped:
        if document["kind"] not in ("Secret", "ConfigMap"):
            continue
        # Generated names end with a hash of the content; the overlay names the generator.
        name = re.sub(r"-[a-z0-9]{10}$", "", document["metadata"]["name"])
        for key, value in sorted(data_of(document).items()):
            if value.strip().startswith(PLACEHOLDER):
                filled = FILLED_VALUES.get(key, f"filled-{key.lower().replace('_', '-')}-value")
                set_values[key] = filled
                by_generator.setdefault((document["kind"], name), []).append(key)
                if document["kind"] == "Secret":
                    # As an operator would: a file per value, written by a command that ends
                    # it with a newline.
                    (secrets_directory / key).write_text(filled + "\n")
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        f"  - {os.path.relpath(overlay, directory)}",
        "images:",
        f"  - name: {PLACEHOLDER_IMAGE}",
        f"    newName: {FILLED_IMAGE[0]}",
        f"    newTag: {FILLED_IMAGE[1]}",
    ]
    for generator, kind in (("secretGenerator", "Secret"), ("configMapGenerator", "ConfigMap")):
        entries = [(name, keys) for (k, name), keys in sorted(by_generator.items()) if k == kind]
        if not entries:
            continue
        lines.append(f"{generator}:")
        for name, keys in entries:
            lines += [f"  - name: {name}", "    behavior: merge"]
            if kind == "Secret":
                lines.append("    files:")
                lines += [f"      - secrets/{key}" for key in keys]
            else:
                lines.append("    literals:")
                lines += [f"      - {key}={set_values[key]}" for key in keys]
    lines += [
        "patches:",
        "  - target:",
        "      kind: Ingress",
        "      name: order-metafields",
        "    patch: |-",
        "      - op: replace",
        "        path: /spec/rules/0/host",
        f"        value: {FILLED_HOST}",
        "      - op: replace",
        "        path: /spec/tls/0/hosts/0",
        f"        value: {FILLED_HOST}",
        "      - op: replace",
        "        path: /spec/tls/0/secretName",
        f"        value: {FILLED_TLS_SECRET}",
    ]
    (directory / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return set_values


def check_filled_values(
    documents: list[Document], values: dict[str, str], where: str, problems: Problems
) -> None:
    """The operator's values are where they put them, and the workloads use them."""
    found: dict[str, str] = {}
    for document in documents:
        if document["kind"] in ("Secret", "ConfigMap"):
            found.update({key: value.strip() for key, value in data_of(document).items()})
    for key, value in values.items():
        if found.get(key) != value:
            problems.add(where, f"{key} is {found.get(key)!r}, not the value the overlay set")
    images = {
        container["image"]
        for _, template in pod_templates(documents)
        for container in template["spec"]["containers"]
        if container["name"] == SERVICE_CONTAINER
    }
    if images != {f"{FILLED_IMAGE[0]}:{FILLED_IMAGE[1]}"}:
        problems.add(where, f"the service runs {images}, not the image the overlay set")


# --- Self-test ----------------------------------------------------------------------------


def self_test(
    shipped: list[Document],
    filled: list[Document],
    variables: dict[str, bool],
    crds: dict[tuple[str, str], dict[str, jsonschema.Validator]],
) -> list[str]:
    """Each broken variant of a valid rendering (the app overlay's, filled unless said) must be
    refused with the problem it was broken for; answers those that were not."""

    def container(docs: list[Document]) -> Document:
        deployment = find(docs, "Deployment", SERVICE_CONTAINER)[0]
        return deployment["spec"]["template"]["spec"]["containers"][0]

    def monitor(docs: list[Document]) -> Document:
        return find(docs, "ServiceMonitor")[0]

    def config(docs: list[Document]) -> Document:
        return find(docs, "ConfigMap")[0]

    def secret(docs: list[Document]) -> Document:
        return find(docs, "Secret")[0]

    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    # (what is broken, whether on the shipped rendering, how, a part of the expected problem)
    breakages: list[tuple[str, bool, Callable[[list[Document]], Any], str]] = [
        (
            "an unknown field in a container",
            False,
            lambda d: container(d).update(envFromm=[]),
            "envFromm",
        ),
        (
            "an unknown field in the ServiceMonitor",
            False,
            lambda d: monitor(d)["spec"]["endpoints"][0].update(intervall="30s"),
            "intervall",
        ),
        (
            "a wrong type in the ServiceMonitor",
            False,
            lambda d: monitor(d)["spec"].update(endpoints="metrics"),
            "is not of type 'array'",
        ),
        (
            "an unknown field in the ServiceMonitor's metadata",
            False,
            lambda d: monitor(d)["metadata"].update(lables={}),
            "lables",
        ),
        ("an unknown kind", False, lambda d: d[0].update(kind="Deploymnet"), "no schema"),
        (
            "a variable the service does not read",
            False,
            lambda d: container(d)["env"].append({"name": "LISTEN_ADRESS", "value": "x"}),
            "LISTEN_ADRESS, which the service does not read",
        ),
        (
            "a variable it does not read, in the ConfigMap",
            False,
            lambda d: config(d)["data"].update(CACHE_TTL="60s"),
            "CACHE_TTL, which",
        ),
        (
            "a secret in the ConfigMap",
            False,
            lambda d: config(d)["data"].update(BC_CLIENT_SECRET_PREVIOUS="s3cret"),
            "BC_CLIENT_SECRET_PREVIOUS comes from a ConfigMap",
        ),
        (
            "a variable set twice",
            False,
            lambda d: config(d)["data"].update(BC_CLIENT_SECRET="s3cret"),
            "BC_CLIENT_SECRET is set by a ConfigMap and by a Secret",
        ),
        (
            "a writable root filesystem",
            False,
            lambda d: container(d)["securityContext"].update(readOnlyRootFilesystem=False),
            "root filesystem is writable",
        ),
        (
            "capabilities kept",
            False,
            lambda d: container(d)["securityContext"].pop("capabilities"),
            "not all dropped",
        ),
        (
            "no readiness probe",
            False,
            lambda d: container(d).pop("readinessProbe"),
            "no readinessProbe",
        ),
        (
            "a ServiceMonitor on a port the Service lacks",
            False,
            lambda d: monitor(d)["spec"]["endpoints"][0].update(port="metric"),
            "port metric is no port",
        ),
        (
            "an autoscaled Deployment with replicas",
            False,
            lambda d: find(d, "Deployment")[0]["spec"].update(replicas=3),
            "also sets replicas",
        ),
        ("a missing Secret", False, lambda d: d.remove(secret(d)), "is not in the rendering"),
        (
            "several replicas on SQLite",
            False,
            lambda d: secret(d)["data"].update(DATABASE_URL=encoded("sqlite:///data/om.db")),
            "not PostgreSQL",
        ),
        (
            "an APP_URL that is not the Ingress's host",
            False,
            lambda d: config(d)["data"].update(APP_URL="https://elsewhere.example.com"),
            "is not https:// of the Ingress's host",
        ),
        (
            "an Ingress host left as the placeholder",
            False,
            lambda d: find(d, "Ingress")[0]["spec"]["rules"][0].update(host=PLACEHOLDER + "x"),
            "Ingress/order-metafields still holds a placeholder",
        ),
        (
            "a placeholder left",
            False,
            lambda d: secret(d)["data"].update(WEBHOOK_SECRET=encoded(PLACEHOLDER + "x")),
            "still holds a placeholder",
        ),
        (
            "a real secret shipped",
            True,
            lambda d: secret(d)["data"].update(WEBHOOK_SECRET=encoded("0123456789abcdef0123")),
            "WEBHOOK_SECRET is not a",
        ),
    ]
    missed = []
    for description, on_shipped, breakage, expected in breakages:
        broken = copy.deepcopy(shipped if on_shipped else filled)
        breakage(broken)
        problems = Problems()
        validate_schemas(broken, crds, "self-test", problems)
        check_rules(broken, variables, "self-test", problems, filled=not on_shipped)
        if not any(expected in line for line in problems.lines):
            missed.append(f"{description} (expected {expected!r} among {problems.lines})")
    return missed


# --- Main ---------------------------------------------------------------------------------


def main() -> int:
    variables = service_variables()
    problems = Problems()
    crds = crd_validators()
    overlays = sorted(path for path in (HERE / "overlays").iterdir() if path.is_dir())
    if not overlays:
        raise SystemExit("no overlays found")

    rendered: dict[str, tuple[list[Document], list[Document]]] = {}
    for overlay in overlays:
        where = f"overlays/{overlay.name}"
        try:
            shipped = render(overlay)
        except RenderError as error:
            problems.add(where, str(error))
            continue
        validate_schemas(shipped, crds, where, problems)
        check_rules(shipped, variables, where, problems, filled=False)

        with tempfile.TemporaryDirectory(prefix="order-metafields-overlay-") as directory:
            where = f"overlays/{overlay.name}, filled"
            values = filled_overlay(overlay, shipped, Path(directory))
            try:
                filled = render(Path(directory))
            except RenderError as error:
                problems.add(where, str(error))
                continue
        validate_schemas(filled, crds, where, problems)
        check_rules(filled, variables, where, problems, filled=True)
        check_filled_values(filled, values, where, problems)
        rendered[overlay.name] = (shipped, filled)

    if "app" in rendered:
        for description in self_test(*rendered["app"], variables, crds):
            problems.add("self-test", f"not refused: {description}")
    else:
        problems.add("self-test", "needs the app overlay")

    if problems.lines:
        print("\n".join(problems.lines), file=sys.stderr)
        return 1
    print(
        f"deploy/kubernetes: {len(overlays)} overlays ({', '.join(p.name for p in overlays)}), "
        f"as shipped and filled, valid against Kubernetes {' and '.join(KUBERNETES_VERSIONS)} "
        "(strict) and the ServiceMonitor CRD; every variable is one the service reads; "
        "the check refused all its broken variants"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
