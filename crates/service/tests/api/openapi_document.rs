//! Proves that `openapi.yaml` is a valid OpenAPI 3.1 document, that it says what the
//! service contract requires of every operation, and that its examples match their
//! schemas so they cannot drift. It reads only files and starts no server.

// A broken document or fixture should stop these tests loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use jsonschema::Validator;
use serde_json::{Value, json};

use crate::helpers::openapi::{document_registry, load_document, pointer_escape, validator_at};

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The handlers are named after these, so the set is part of the contract.
const OPERATION_IDS: [&str; 20] = [
    "create_session",
    "delete_session",
    "get_index",
    "get_docs",
    "get_docs_script",
    "list_orders",
    "get_order",
    "list_order_metafields",
    "put_order_metafield",
    "get_health",
    "get_readiness",
    "get_metrics",
    "receive_bigcommerce_webhook",
    "get_openapi_document",
    "get_client_module",
    "install_app",
    "load_app",
    "uninstall_app",
    "remove_app_user",
    "get_app_stylesheet",
];

/// The operations that answer HTML pages for the control panel's iframe, errors included.
const HTML_PAGE_OPERATIONS: [&str; 2] = ["install_app", "load_app"];

const PROBLEM_SCHEMA_REF: &str = "#/components/schemas/Problem";

/// Schema keywords whose value is one subschema, a list of them, or a map of them.
const SUBSCHEMA_KEYWORDS: [&str; 12] = [
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
    "additionalItems",
];
const SUBSCHEMA_LIST_KEYWORDS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMA_MAP_KEYWORDS: [&str; 4] = [
    "properties",
    "patternProperties",
    "$defs",
    "dependentSchemas",
];

/// A check of the document, answering its violations (none when it passes).
type Check = fn(&Value) -> Vec<String>;

/// A way to break the document: what it breaks, the check that must notice, the change.
type Mutation = (&'static str, Check, fn(&mut Value));

#[test]
fn openapi_document_conforms_to_the_official_openapi_3_1_schema() {
    let document = load_document();

    let violations = official_schema_violations(&document);

    assert_no_violations("official OpenAPI 3.1 schema", &violations);
}

#[test]
fn every_schema_object_is_a_valid_json_schema_2020_12() {
    let document = load_document();

    let violations = invalid_schema_objects(&document);

    assert_no_violations("JSON Schema 2020-12 meta-schema", &violations);
}

#[test]
fn every_ref_resolves_inside_the_document() {
    let document = load_document();

    let violations = unresolved_refs(&document);

    assert_no_violations("$ref resolution", &violations);
}

#[test]
fn every_operation_has_a_unique_operation_id_named_after_its_handler() {
    let document = load_document();

    let violations = operation_id_problems(&document);

    assert_no_violations("operationId", &violations);
}

#[test]
fn every_v1_operation_requires_its_credentials_and_documents_401_and_the_rest_are_public() {
    let document = load_document();

    let violations = security_problems(&document);

    assert_no_violations("security", &violations);
}

#[test]
fn every_response_documents_x_request_id_and_the_headers_its_status_requires() {
    let document = load_document();

    let violations = response_header_problems(&document);

    assert_no_violations("response headers", &violations);
}

#[test]
fn every_error_response_is_a_problem_document() {
    let document = load_document();

    let violations = error_response_problems(&document);

    assert_no_violations("error responses", &violations);
}

#[test]
fn every_example_and_default_validates_against_its_schema() {
    let document = load_document();

    let violations = example_violations(&document);

    assert_no_violations("examples", &violations);
}

#[test]
fn each_check_reports_a_document_mutated_to_break_it() {
    let mutations: Vec<Mutation> = vec![
        (
            "the openapi version is not 3.1",
            official_schema_violations,
            |document| document["openapi"] = json!("3.0.3"),
        ),
        (
            "an operation has an unknown field",
            official_schema_violations,
            |document| document["paths"]["/healthz"]["get"]["x_typo"] = json!(true),
        ),
        (
            "a schema has a non-string type",
            invalid_schema_objects,
            |document| document["components"]["schemas"]["Order"]["type"] = json!(7),
        ),
        (
            "a $ref names a schema that does not exist",
            unresolved_refs,
            |document| {
                document["components"]["schemas"]["OrderResponse"]["properties"]["data"]["$ref"] =
                    json!("#/components/schemas/Ordr");
            },
        ),
        (
            "two operations share an operationId",
            operation_id_problems,
            |document| {
                document["paths"]["/readyz"]["get"]["operationId"] = json!("get_health");
            },
        ),
        (
            "a v1 operation does not document 401",
            security_problems,
            |document| {
                operation_mut(document, "/v1/orders", "get")["responses"]
                    .as_object_mut()
                    .unwrap()
                    .remove("401");
            },
        ),
        ("a v1 operation is public", security_problems, |document| {
            operation_mut(document, "/v1/orders", "get")["security"] = json!([])
        }),
        (
            "a shared response lacks X-Request-Id",
            response_header_problems,
            |document| {
                document["components"]["responses"]["GatewayTimeout"]["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("X-Request-Id");
            },
        ),
        (
            "a 429 response lacks Retry-After",
            response_header_problems,
            |document| {
                document["components"]["responses"]["TooManyRequests"]["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("Retry-After");
            },
        ),
        (
            "an error response is plain JSON",
            error_response_problems,
            |document| {
                let content = &mut document["components"]["responses"]["BadGateway"]["content"];
                let problem = content["application/problem+json"].clone();
                *content = json!({ "application/json": problem });
            },
        ),
        (
            "an order example has a field the schema forbids",
            example_violations,
            |document| {
                operation_mut(document, "/v1/orders/{order_id}", "get")["responses"]["200"]["content"]
                    ["application/json"]["examples"]["shipped_order"]["value"]["data"]["ip_address"] =
                    json!("203.0.113.9");
            },
        ),
        (
            "a problem example's status disagrees with its response",
            example_violations,
            |document| {
                document["components"]["responses"]["NotFound"]["content"]["application/problem+json"]
                    ["examples"]["unknown_order"]["value"]["status"] = json!(400);
            },
        ),
        (
            "a date example is not RFC 3339",
            example_violations,
            |document| {
                operation_mut(document, "/v1/orders/{order_id}/metafields", "get")["responses"]["200"]
                    ["content"]["application/json"]["examples"]["tracking_and_slot"]["value"]["data"]
                    [0]["date_created"] = json!("Wed, 10 Jan 2018 21:05:30 +0000");
            },
        ),
        (
            "a parameter default is out of range",
            example_violations,
            |document| {
                document["components"]["parameters"]["Limit"]["schema"]["default"] = json!(500)
            },
        ),
    ];
    let original = load_document();
    assert_no_violations("unmutated document", &all_violations(&original));

    for (description, check, mutate) in mutations {
        let mut document = original.clone();
        mutate(&mut document);

        let violations = check(&document);

        assert!(
            !violations.is_empty(),
            "the check should have reported: {description}"
        );
    }
}

fn assert_no_violations(what: &str, violations: &[String]) {
    assert!(
        violations.is_empty(),
        "openapi.yaml fails {what}:\n  {}",
        violations.join("\n  ")
    );
}

fn all_violations(document: &Value) -> Vec<String> {
    let checks: [Check; 8] = [
        official_schema_violations,
        invalid_schema_objects,
        unresolved_refs,
        operation_id_problems,
        security_problems,
        response_header_problems,
        error_response_problems,
        example_violations,
    ];
    checks.iter().flat_map(|check| check(document)).collect()
}

fn official_schema_violations(document: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/openapi-3.1-schema.json")).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the vendored OpenAPI 3.1 schema should compile");
    validator
        .iter_errors(document)
        .map(|error| format!("at {}: {error}", error.instance_path()))
        .collect()
}

fn invalid_schema_objects(document: &Value) -> Vec<String> {
    schema_objects(document)
        .into_iter()
        .filter_map(|(pointer, schema)| {
            jsonschema::draft202012::meta::validate(schema)
                .err()
                .map(|error| format!("schema at {pointer}: {error}"))
        })
        .collect()
}

fn unresolved_refs(document: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    collect_refs(document, String::new(), &mut refs);
    refs.into_iter()
        .filter_map(|(pointer, reference)| match reference.strip_prefix('#') {
            Some(target) if document.pointer(target).is_some() => None,
            Some(_) => Some(format!("{pointer}: {reference} points at nothing")),
            None => Some(format!("{pointer}: {reference} is not a local reference")),
        })
        .collect()
}

fn operation_id_problems(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeMap::new();
    for (name, operation) in operations(document) {
        match operation["operationId"].as_str() {
            None => problems.push(format!("{name} has no operationId")),
            Some(id) => {
                if let Some(first) = seen.insert(id.to_owned(), name.clone()) {
                    problems.push(format!("{name} reuses operationId {id} of {first}"));
                }
            }
        }
    }
    let documented: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
    let expected = BTreeSet::from(OPERATION_IDS);
    if documented != expected {
        problems.push(format!(
            "operationIds are {documented:?}, the handlers are {expected:?}"
        ));
    }
    problems
}

fn security_problems(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, operation) in operations(document) {
        let path = name.split(' ').nth(1).unwrap_or("");
        let method = name.split(' ').next().unwrap_or("");
        // The reads take the bearer token, the session cookie or a customer access token; a
        // session starts from the bearer token only, and ends without one.
        let expected = match (path, method) {
            ("/v1/session", "POST") => json!([{ "bearerAuth": [] }]),
            ("/v1/session", _) => json!([]),
            (path, _) if path.starts_with("/v1/") => {
                json!([
                    { "bearerAuth": [] },
                    { "sessionCookie": [] },
                    { "customerAccessToken": [], "storeHash": [] }
                ])
            }
            _ => json!([]),
        };
        if operation.get("security") != Some(&expected) {
            problems.push(format!("{name} should declare security {expected}"));
        }
        let needs_401 = expected != json!([]);
        if needs_401 && operation["responses"].get("401").is_none() {
            problems.push(format!("{name} does not document 401"));
        }
    }
    problems
}

fn response_header_problems(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, operation) in operations(document) {
        let is_v1 = name.split(' ').nth(1).unwrap_or("").starts_with("/v1/");
        let Some(responses) = operation["responses"].as_object() else {
            problems.push(format!("{name} has no responses"));
            continue;
        };
        for (status, response) in responses {
            let response = resolve(document, response);
            let headers: BTreeSet<String> = response["headers"]
                .as_object()
                .map(|headers| headers.keys().map(|key| key.to_ascii_lowercase()).collect())
                .unwrap_or_default();
            let mut required = vec!["x-request-id"];
            match status.as_str() {
                "200" if is_v1 => required.push("cache-control"),
                "401" if is_v1 => required.push("www-authenticate"),
                "405" => required.push("allow"),
                "429" | "503" => required.push("retry-after"),
                _ => {}
            }
            for header in required {
                if !headers.contains(header) {
                    problems.push(format!("{name} {status} lacks header {header}"));
                }
            }
        }
    }
    problems
}

fn error_response_problems(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, operation) in operations(document) {
        let Some(responses) = operation["responses"].as_object() else {
            continue;
        };
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let content = &resolve(document, response)["content"];
            let media_types: Vec<&String> = content
                .as_object()
                .map(|content| content.keys().collect())
                .unwrap_or_default();
            // A page for a person (the app's in the control panel) stays a page when it
            // reports an error; every other error is a problem.
            let page = operation["operationId"]
                .as_str()
                .is_some_and(|id| HTML_PAGE_OPERATIONS.contains(&id));
            if page && media_types == ["text/html"] {
                continue;
            }
            if media_types != ["application/problem+json"] {
                problems.push(format!(
                    "{name} {status} should be only application/problem+json, is {media_types:?}"
                ));
                continue;
            }
            let schema = &content["application/problem+json"]["schema"];
            if !extends_problem(document, schema) {
                problems.push(format!("{name} {status} schema is not a Problem"));
            }
        }
    }
    problems
}

/// Validates every example (media types, parameters, headers, and the `examples` keyword
/// of schemas) and every schema `default` against the schema it illustrates, with formats
/// such as `date-time` asserted.
fn example_violations(document: &Value) -> Vec<String> {
    let registry = document_registry(document);
    let mut samples = Vec::new();
    collect_oas_examples(document, document, String::new(), &mut samples);
    for (root_pointer, root) in schema_objects(document) {
        let mut schemas = Vec::new();
        collect_subschemas(root, root_pointer, &mut schemas);
        for (pointer, schema) in schemas {
            for (index, example) in schema["examples"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                samples.push((
                    pointer.clone(),
                    format!("{pointer}/examples/{index}"),
                    example,
                ));
            }
            if let Some(default) = schema.get("default") {
                samples.push((pointer.clone(), format!("{pointer}/default"), default));
            }
        }
    }

    let mut validators: BTreeMap<String, Result<Validator, String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for (schema_pointer, sample_pointer, sample) in samples {
        let validator = validators
            .entry(schema_pointer.clone())
            .or_insert_with(|| validator_at(&registry, &schema_pointer));
        match validator {
            Err(error) => violations.push(format!("{schema_pointer}: {error}")),
            Ok(validator) => violations.extend(
                validator
                    .iter_errors(sample)
                    .map(|error| format!("{sample_pointer} at {}: {error}", error.instance_path())),
            ),
        }
    }
    violations
}

/// Every operation as ("METHOD /path", operation object).
fn operations(document: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in HTTP_METHODS {
            if let Some(operation) = item.get(method) {
                found.push((format!("{} {path}", method.to_uppercase()), operation));
            }
        }
    }
    found
}

fn operation_mut<'a>(document: &'a mut Value, path: &str, method: &str) -> &'a mut Value {
    &mut document["paths"][path][method]
}

/// Follows `$ref` until an object without one; an unresolvable reference is left as is
/// for `unresolved_refs` to report.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..16 {
        match current["$ref"]
            .as_str()
            .and_then(|reference| reference.strip_prefix('#'))
        {
            Some(target) => match document.pointer(target) {
                Some(next) => current = next,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

fn extends_problem(document: &Value, schema: &Value) -> bool {
    if schema["$ref"] == PROBLEM_SCHEMA_REF {
        return true;
    }
    let resolved = resolve(document, schema);
    if !std::ptr::eq(resolved, schema) {
        return extends_problem(document, resolved);
    }
    schema["allOf"]
        .as_array()
        .is_some_and(|parts| parts.iter().any(|part| extends_problem(document, part)))
}

fn collect_refs(value: &Value, pointer: String, refs: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                refs.push((pointer.clone(), reference.to_owned()));
            }
            for (key, child) in map {
                collect_refs(child, format!("{pointer}/{}", pointer_escape(key)), refs);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_refs(child, format!("{pointer}/{index}"), refs);
            }
        }
        _ => {}
    }
}

/// Every Schema Object that is not inside another: the named component schemas and the
/// `schema` of each parameter, header and media type.
fn schema_objects(document: &Value) -> Vec<(String, &Value)> {
    let mut roots: Vec<(String, &Value)> = document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            (
                format!("/components/schemas/{}", pointer_escape(name)),
                schema,
            )
        })
        .collect();
    collect_schema_keys(document, String::new(), &mut roots);
    roots
}

fn collect_schema_keys<'a>(
    value: &'a Value,
    pointer: String,
    roots: &mut Vec<(String, &'a Value)>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_pointer = format!("{pointer}/{}", pointer_escape(key));
                if child_pointer == "/components/schemas" || key == "example" || key == "examples" {
                    continue;
                }
                if key == "schema" {
                    roots.push((child_pointer, child));
                } else {
                    collect_schema_keys(child, child_pointer, roots);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_schema_keys(child, format!("{pointer}/{index}"), roots);
            }
        }
        _ => {}
    }
}

fn collect_subschemas<'a>(schema: &'a Value, pointer: String, out: &mut Vec<(String, &'a Value)>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    for keyword in SUBSCHEMA_KEYWORDS {
        if let Some(child) = map.get(keyword) {
            collect_subschemas(child, format!("{pointer}/{keyword}"), out);
        }
    }
    for keyword in SUBSCHEMA_LIST_KEYWORDS {
        for (index, child) in map
            .get(keyword)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            collect_subschemas(child, format!("{pointer}/{keyword}/{index}"), out);
        }
    }
    for keyword in SUBSCHEMA_MAP_KEYWORDS {
        for (name, child) in map
            .get(keyword)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            collect_subschemas(
                child,
                format!("{pointer}/{keyword}/{}", pointer_escape(name)),
                out,
            );
        }
    }
    out.push((pointer, schema));
}

/// The `example` and `examples` of parameters, headers and media types, each as
/// (pointer of the schema it illustrates, pointer of the example, example value).
fn collect_oas_examples<'a>(
    document: &'a Value,
    value: &'a Value,
    pointer: String,
    samples: &mut Vec<(String, String, &'a Value)>,
) {
    match value {
        Value::Object(map) => {
            if map.get("schema").is_some_and(Value::is_object) {
                let schema_pointer = format!("{pointer}/schema");
                if let Some(example) = map.get("example") {
                    samples.push((
                        schema_pointer.clone(),
                        format!("{pointer}/example"),
                        example,
                    ));
                }
                for (name, example) in map
                    .get("examples")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let example_pointer = format!("{pointer}/examples/{}", pointer_escape(name));
                    match resolve(document, example).get("value") {
                        Some(example) => {
                            samples.push((schema_pointer.clone(), example_pointer, example))
                        }
                        None => {
                            samples.push((schema_pointer.clone(), example_pointer, &Value::Null))
                        }
                    }
                }
            }
            for (key, child) in map {
                if matches!(key.as_str(), "schema" | "schemas" | "example" | "examples") {
                    continue;
                }
                collect_oas_examples(
                    document,
                    child,
                    format!("{pointer}/{}", pointer_escape(key)),
                    samples,
                );
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_oas_examples(document, child, format!("{pointer}/{index}"), samples);
            }
        }
        _ => {}
    }
}
