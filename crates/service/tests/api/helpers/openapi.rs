//! `openapi.yaml` as the tests read it: the parsed document, a schema registry in which its
//! `#/components/...` references resolve, validators for the schema at a JSON Pointer, and
//! the pointer encodings (RFC 6901) that address its parts. Shared by `openapi_document`
//! (the document's own rules) and `openapi_conformance` (real responses against it).

use jsonschema::{Registry, Validator};
use serde_json::{Value, json};

/// The URI under which the document is registered, so `#/components/...` references resolve.
pub const DOCUMENT_URI: &str = "urn:order-metafields:openapi";

/// The repository's `openapi.yaml`, parsed.
pub fn load_document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml");
    let text = std::fs::read_to_string(path).expect("openapi.yaml should be readable");
    serde_yaml_ng::from_str(&text).expect("openapi.yaml should be YAML that maps onto JSON")
}

/// A registry holding `document` under `DOCUMENT_URI`.
pub fn document_registry(document: &Value) -> Registry<'_> {
    Registry::new()
        .add(DOCUMENT_URI, document.clone())
        .expect("the document URI should be valid")
        .prepare()
        .expect("the document should be indexable as a schema resource")
}

/// A validator for the schema at `schema_pointer` in the registered document, with formats
/// such as `date-time` asserted; the error says why the schema does not compile.
pub fn validator_at(registry: &Registry, schema_pointer: &str) -> Result<Validator, String> {
    let reference =
        json!({ "$ref": format!("{DOCUMENT_URI}#{}", fragment_encode(schema_pointer)) });
    jsonschema::draft202012::options()
        .with_registry(registry)
        .should_validate_formats(true)
        .build(&reference)
        .map_err(|error| format!("does not compile: {error}"))
}

/// Escapes one JSON Pointer reference token (RFC 6901).
pub fn pointer_escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Percent-encodes a JSON Pointer for use as a URI fragment (RFC 6901 section 6).
pub fn fragment_encode(pointer: &str) -> String {
    let mut encoded = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
