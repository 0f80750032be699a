//! Validation of metafield bodies sent to `POST` and `PUT /v3/orders/{id}/metafields`, following
//! orders.v3.yml (`MetafieldBase_Post`: required fields, `permission_set` enum, length limits).
//! It only judges the body; duplicates and missing orders are the handlers' business.

use serde_json::{Map, Value};

use crate::data::PermissionSet;

/// The fields of a metafield body; on `PUT` any of them may be absent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MetafieldInput {
    pub permission_set: Option<PermissionSet>,
    pub namespace: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
    pub description: Option<String>,
}

/// Why a body was refused.
#[derive(Debug, PartialEq)]
pub(crate) enum InputError {
    /// Not a JSON object at all: BigCommerce answers `400 Input is invalid`.
    Syntax,
    /// Fields missing or invalid, by field name: BigCommerce answers `422`.
    Invalid(Map<String, Value>),
}

/// Field name, minimum and maximum length in characters (orders.v3.yml, `MetafieldBase_Post`).
const TEXT_FIELDS: [(&str, usize, usize); 4] = [
    ("namespace", 1, 64),
    ("key", 1, 64),
    ("value", 1, 65_535),
    ("description", 0, 255),
];

/// Parses and validates `body`; `creating` makes `permission_set`, `namespace`, `key` and
/// `value` required, as on `POST`.
pub(crate) fn parse(body: &[u8], creating: bool) -> Result<MetafieldInput, InputError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(InputError::Syntax);
    };
    let mut errors = Map::new();
    let mut input = MetafieldInput::default();
    match object.get("permission_set") {
        None if creating => {
            errors.insert("permission_set".into(), "permission_set is required".into());
        }
        None => {}
        Some(raw) => match serde_json::from_value::<PermissionSet>(raw.clone()) {
            Ok(permission_set) => input.permission_set = Some(permission_set),
            Err(_) => {
                errors.insert(
                    "permission_set".into(),
                    "permission_set must be one of app_only, read, write, read_and_sf_access, write_and_sf_access".into(),
                );
            }
        },
    }
    for (name, min, max) in TEXT_FIELDS {
        let text = match object.get(name) {
            None if creating && name != "description" => {
                errors.insert(name.into(), format!("{name} is required").into());
                continue;
            }
            None => continue,
            Some(Value::String(text)) => text,
            Some(_) => {
                errors.insert(name.into(), format!("{name} must be a string").into());
                continue;
            }
        };
        let length = text.chars().count();
        if length < min || length > max {
            errors.insert(
                name.into(),
                format!("{name} must be between {min} and {max} characters").into(),
            );
            continue;
        }
        let slot = match name {
            "namespace" => &mut input.namespace,
            "key" => &mut input.key,
            "value" => &mut input.value,
            _ => &mut input.description,
        };
        *slot = Some(text.clone());
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(InputError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn create_body_with_every_required_field_is_accepted() {
        let body = br#"{"permission_set":"app_only","namespace":"Sales Department","key":"Staff Name","value":"Sam","description":"Name of staff member"}"#;

        let input = parse(body, true).unwrap();

        assert_eq!(input.permission_set, Some(PermissionSet::AppOnly));
        assert_eq!(input.description.as_deref(), Some("Name of staff member"));
    }

    #[test]
    fn create_body_is_refused_per_field_when_invalid() {
        let long_key = "k".repeat(65);
        let cases = [
            (
                r#"{"namespace":"n","key":"k","value":"v"}"#.to_owned(),
                "permission_set",
                "missing permission set",
            ),
            (
                r#"{"permission_set":"public","namespace":"n","key":"k","value":"v"}"#.to_owned(),
                "permission_set",
                "unknown permission set",
            ),
            (
                r#"{"permission_set":"read","namespace":"","key":"k","value":"v"}"#.to_owned(),
                "namespace",
                "empty namespace",
            ),
            (
                format!(
                    r#"{{"permission_set":"read","namespace":"n","key":"{long_key}","value":"v"}}"#
                ),
                "key",
                "key over 64 characters",
            ),
            (
                r#"{"permission_set":"read","namespace":"n","key":"k","value":5}"#.to_owned(),
                "value",
                "numeric value",
            ),
            (
                r#"{"permission_set":"read","namespace":"n","key":"k"}"#.to_owned(),
                "value",
                "missing value",
            ),
        ];

        for (body, field, description) in cases {
            let Err(InputError::Invalid(errors)) = parse(body.as_bytes(), true) else {
                panic!("{description}: expected a field error");
            };
            assert!(errors.contains_key(field), "{description}: {errors:?}");
        }
    }

    #[test]
    fn update_body_may_carry_only_a_value() {
        let input = parse(br#"{"value":"new"}"#, false).unwrap();

        assert_eq!(input.value.as_deref(), Some("new"));
        assert_eq!(input.namespace, None);
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_a_syntax_error() {
        assert_eq!(parse(b"[1,2]", true), Err(InputError::Syntax));
        assert_eq!(parse(b"{oops", false), Err(InputError::Syntax));
    }
}
