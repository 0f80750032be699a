//! BigCommerce's reference schemas, read from the repository's fixtures
//! (`tests/fixtures/bigcommerce`, extracted from the official files by
//! `tools/fixtures/extract`) and made into validators: what `fidelity`, `hooks` and `webhooks`
//! check the sandbox's answers and callbacks against. Nothing here reads outside the crate.

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

/// Where the fixtures live.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bigcommerce");

/// A description of a broken response and how to break a good one that way.
pub(crate) type Mutation = (&'static str, fn(&mut Value));

fn read_json(file: &str) -> Value {
    let path = format!("{FIXTURES}/{file}");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parsing {path}: {error}"))
}

/// The `components.schemas` of an OpenAPI file (`orders.v2.oas2`, `orders.v3`, `webhooks.v3`)
/// as JSON Schema 2020-12.
pub(crate) fn load_components(file: &str) -> Value {
    let document = read_json(&format!("{file}.schemas.json"));
    let mut schemas = document["components"]["schemas"].clone();
    for schema in schemas
        .as_object_mut()
        .unwrap_or_else(|| panic!("{file} has components.schemas"))
        .values_mut()
    {
        openapi_to_json_schema(schema);
    }
    schemas
}

/// Rewrites one OpenAPI 3.0 schema in place: `nullable: true` becomes a `null` type (or an
/// `anyOf` with null when there is no `type`); subschemas are visited by keyword, so property
/// names are never mistaken for keywords.
fn openapi_to_json_schema(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    for keyword in ["items", "additionalProperties", "not"] {
        if let Some(sub) = object.get_mut(keyword) {
            openapi_to_json_schema(sub);
        }
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = object.get_mut(keyword) {
            subs.iter_mut().for_each(openapi_to_json_schema);
        }
    }
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        properties.values_mut().for_each(openapi_to_json_schema);
    }
    if object.remove("nullable") == Some(Value::Bool(true)) {
        if let Some(Value::Array(values)) = object.get_mut("enum") {
            values.push(Value::Null);
        }
        match object.get("type").cloned() {
            Some(Value::String(kind)) => {
                object.insert("type".into(), json!([kind, "null"]));
            }
            _ => {
                let inner = Value::Object(std::mem::take(object));
                object.insert("anyOf".into(), json!([inner, {"type": "null"}]));
            }
        }
    }
}

/// Builds a validator for `root` with the reference's schemas embedded as `#/components/schemas`.
pub(crate) fn build(schemas: &Value, mut root: Value) -> Validator {
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    root["components"] = json!({ "schemas": schemas });
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap()
}

#[track_caller]
pub(crate) fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the reference: {errors:#?}"
    );
}

/// A strict validator for the callback `scope` of `webhooks-callbacks/{file}`: every
/// documented field required, nothing undocumented allowed, at every level.
pub(crate) fn callback_schema(file: &str, scope: &str) -> Validator {
    let document = read_json(&format!("webhooks-callbacks/{file}.schema.json"));
    let mut schema = document["properties"][scope].clone();
    assert!(schema.is_object(), "{file} documents {scope}");
    make_strict(&mut schema);
    build(&json!({}), schema)
}

fn make_strict(schema: &mut Value) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    let names: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
    properties.values_mut().for_each(make_strict);
    schema["required"] = Value::Array(names);
    schema["additionalProperties"] = json!(false);
}

/// The keys of a reference example payload (`webhooks-callbacks/data/{file}.json`) and of its
/// `data`.
pub(crate) fn example_keys(file: &str) -> (Vec<String>, Vec<String>) {
    keys(&read_json(&format!("webhooks-callbacks/data/{file}.json")))
}

/// The keys of a callback body and of its `data`, in their order.
pub(crate) fn keys(body: &Value) -> (Vec<String>, Vec<String>) {
    let names = |value: &Value| value.as_object().unwrap().keys().cloned().collect();
    (names(body), names(&body["data"]))
}
