//! Validation of script bodies sent to `POST` and `PUT /v3/content/scripts` (scripts.v3.yml,
//! `script_Post` and `script_Put`: `name` required on create, 1 to 255 characters; the enums of
//! `load_method`, `location`, `visibility`, `kind` and `consent_category`; `src` for `kind: src`
//! and `html` (exactly one `script` element, at most 65,536 characters) for `kind: script_tag`,
//! never both; `load_method` `default` for a `script_tag`; at most five `integrity_hashes`). It
//! only judges the body; limits, channels and scopes are the handlers' business.

use serde_json::{Map, Value};

use crate::data::ScriptBody;
use crate::metafield_input::InputError;

/// The fields of a script body; on `PUT` any of them may be absent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ScriptInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub src: Option<String>,
    pub html: Option<String>,
    pub auto_uninstall: Option<bool>,
    pub load_method: Option<&'static str>,
    pub location: Option<&'static str>,
    pub visibility: Option<&'static str>,
    pub kind: Option<&'static str>,
    pub consent_category: Option<&'static str>,
    pub enabled: Option<bool>,
    pub channel_id: Option<u64>,
    pub integrity_hashes: Option<Vec<String>>,
}

const LOAD_METHODS: [&str; 3] = ["default", "async", "defer"];
const LOCATIONS: [&str; 2] = ["head", "footer"];
const VISIBILITIES: [&str; 4] = ["storefront", "all_pages", "checkout", "order_confirmation"];
const KINDS: [&str; 2] = ["src", "script_tag"];
const CONSENT_CATEGORIES: [&str; 4] = ["essential", "functional", "analytics", "targeting"];
/// scripts.v3.yml, `html`: `maxLength: 65536`.
const MAX_HTML: usize = 65_536;
/// scripts.v3.yml, `integrity_hashes`: "You can add up to five hashes for a script".
const MAX_HASHES: usize = 5;

/// Parses and validates `body`; `creating` makes `name` required, as on `POST`.
pub(crate) fn parse(body: &[u8], creating: bool) -> Result<ScriptInput, InputError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(InputError::Syntax);
    };
    let mut errors = Map::new();
    let mut refuse = |field: &str, message: String| {
        errors.insert(field.to_owned(), Value::String(message));
    };
    let mut input = ScriptInput::default();
    match object.get("name") {
        None if creating => refuse("name", "name is required".to_owned()),
        None => {}
        Some(Value::String(name)) if (1..=255).contains(&name.chars().count()) => {
            input.name = Some(name.clone());
        }
        Some(_) => refuse(
            "name",
            "name must be a string of 1 to 255 characters".to_owned(),
        ),
    }
    for (field, slot) in [
        ("description", &mut input.description),
        ("src", &mut input.src),
        ("html", &mut input.html),
    ] {
        match object.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => *slot = Some(text.clone()),
            Some(_) => refuse(field, format!("{field} must be a string")),
        }
    }
    for (field, allowed, slot) in [
        ("load_method", &LOAD_METHODS[..], &mut input.load_method),
        ("location", &LOCATIONS[..], &mut input.location),
        ("visibility", &VISIBILITIES[..], &mut input.visibility),
        ("kind", &KINDS[..], &mut input.kind),
        (
            "consent_category",
            &CONSENT_CATEGORIES[..],
            &mut input.consent_category,
        ),
    ] {
        match object.get(field) {
            None => {}
            Some(Value::String(text)) => match allowed.iter().find(|value| **value == text) {
                Some(value) => *slot = Some(value),
                None => refuse(
                    field,
                    format!("{field} must be one of {}", allowed.join(", ")),
                ),
            },
            Some(_) => refuse(field, format!("{field} must be a string")),
        }
    }
    for (field, slot) in [
        ("auto_uninstall", &mut input.auto_uninstall),
        ("enabled", &mut input.enabled),
    ] {
        match object.get(field) {
            None => {}
            Some(Value::Bool(flag)) => *slot = Some(*flag),
            Some(_) => refuse(field, format!("{field} must be a boolean")),
        }
    }
    match object.get("channel_id") {
        None => {}
        Some(value) => match value.as_u64().filter(|id| *id >= 1) {
            Some(id) => input.channel_id = Some(id),
            None => refuse(
                "channel_id",
                "channel_id must be an integer of at least 1".to_owned(),
            ),
        },
    }
    match object.get("integrity_hashes") {
        None => {}
        Some(Value::Array(hashes))
            if hashes.len() <= MAX_HASHES && hashes.iter().all(Value::is_string) =>
        {
            input.integrity_hashes = Some(
                hashes
                    .iter()
                    .filter_map(|hash| hash.as_str().map(str::to_owned))
                    .collect(),
            );
        }
        Some(_) => refuse(
            "integrity_hashes",
            format!("integrity_hashes must be at most {MAX_HASHES} strings"),
        ),
    }
    if let Some(html) = &input.html
        && let Err(message) = check_html(html)
    {
        refuse("html", message.to_owned());
    }
    if let Some(src) = &input.src
        && !is_script_url(src)
    {
        refuse(
            "src",
            "src must be an absolute http or https URL".to_owned(),
        );
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(InputError::Invalid(errors))
    }
}

/// `html` must hold exactly one `script` element and fit in `MAX_HTML` characters.
fn check_html(html: &str) -> Result<(), &'static str> {
    if html.chars().count() > MAX_HTML {
        return Err("html must be at most 65536 characters");
    }
    let lower = html.to_ascii_lowercase();
    let opened = lower.matches("<script").count();
    let closed = lower.matches("</script>").count();
    if opened != 1 || closed != 1 {
        return Err("html must contain exactly one script tag");
    }
    Ok(())
}

fn is_script_url(src: &str) -> bool {
    url::Url::parse(src).is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
}

/// What a script is once an input is applied to it (or to nothing, when creating): its body by
/// `kind`, or the fields that are wrong for that kind.
pub(crate) fn body_of(
    input: &ScriptInput,
    current: Option<&ScriptBody>,
    load_method: &str,
) -> Result<ScriptBody, InputError> {
    let current_kind = current.map(|body| match body {
        ScriptBody::Src(_) => "src",
        ScriptBody::Html(_) => "script_tag",
    });
    // Without a `kind`, what was sent says which it is; a new script is `src` by default.
    let kind = input.kind.or(current_kind).unwrap_or(match input.html {
        Some(_) if input.src.is_none() => "script_tag",
        _ => "src",
    });
    let mut errors = Map::new();
    let body = match kind {
        "script_tag" => {
            if input.src.is_some() {
                errors.insert(
                    "src".to_owned(),
                    "src must not be given for a script_tag script".into(),
                );
            }
            if load_method != "default" {
                errors.insert(
                    "load_method".to_owned(),
                    "load_method must be default for a script_tag script".into(),
                );
            }
            let html = input.html.clone().or(match current {
                Some(ScriptBody::Html(html)) => Some(html.clone()),
                _ => None,
            });
            match html {
                Some(html) => Some(ScriptBody::Html(html)),
                None => {
                    errors.insert(
                        "html".to_owned(),
                        "html is required for a script_tag script".into(),
                    );
                    None
                }
            }
        }
        _ => {
            if input.html.is_some() {
                errors.insert(
                    "html".to_owned(),
                    "html must not be given for a src script".into(),
                );
            }
            let src = input.src.clone().or(match current {
                Some(ScriptBody::Src(src)) => Some(src.clone()),
                _ => None,
            });
            match src {
                Some(src) => Some(ScriptBody::Src(src)),
                None => {
                    errors.insert("src".to_owned(), "src is required for a src script".into());
                    None
                }
            }
        }
    };
    match body {
        Some(body) if errors.is_empty() => Ok(body),
        _ => Err(InputError::Invalid(errors)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_reference_examples_are_accepted() {
        let src = br#"{"name": "Bootstrap", "description": "Build responsive websites",
            "src": "https://stackpath.bootstrapcdn.com/bootstrap/4.1.3/js/bootstrap.min.js",
            "auto_uninstall": true, "load_method": "default", "location": "footer",
            "visibility": "all_pages", "kind": "src", "consent_category": "essential"}"#;
        let tag = br#"{"name": "Bootstrap", "html": "<script>console.log(1)</script>",
            "kind": "script_tag", "location": "head", "visibility": "order_confirmation"}"#;

        let src = parse(src, true).unwrap();
        let tag = parse(tag, true).unwrap();

        assert_eq!(src.visibility, Some("all_pages"));
        assert_eq!(
            body_of(&src, None, "default").unwrap(),
            ScriptBody::Src(
                "https://stackpath.bootstrapcdn.com/bootstrap/4.1.3/js/bootstrap.min.js".to_owned()
            )
        );
        assert_eq!(
            body_of(&tag, None, "default").unwrap(),
            ScriptBody::Html("<script>console.log(1)</script>".to_owned())
        );
    }

    #[test]
    fn bad_fields_are_refused_by_name() {
        let cases = [
            (r#"{"src": "https://a.example/x.js"}"#, "name"),
            (r#"{"name": ""}"#, "name"),
            (r#"{"name": "n", "visibility": "everywhere"}"#, "visibility"),
            (r#"{"name": "n", "kind": "inline"}"#, "kind"),
            (r#"{"name": "n", "load_method": "eager"}"#, "load_method"),
            (r#"{"name": "n", "enabled": "yes"}"#, "enabled"),
            (r#"{"name": "n", "channel_id": 0}"#, "channel_id"),
            (r#"{"name": "n", "src": "javascript:alert(1)"}"#, "src"),
            (r#"{"name": "n", "html": "<p>no script</p>"}"#, "html"),
            (
                r#"{"name": "n", "html": "<script>a</script><script>b</script>"}"#,
                "html",
            ),
            (
                r#"{"name": "n", "integrity_hashes": ["a", "b", "c", "d", "e", "f"]}"#,
                "integrity_hashes",
            ),
        ];

        for (body, field) in cases {
            let Err(InputError::Invalid(errors)) = parse(body.as_bytes(), true) else {
                panic!("{body}: expected a field error");
            };
            assert!(errors.contains_key(field), "{body}: {errors:?}");
        }
        assert_eq!(parse(b"[]", true), Err(InputError::Syntax));
    }

    #[test]
    fn the_body_must_fit_the_kind() {
        let mixed = parse(
            br#"{"name": "n", "kind": "src", "src": "https://a.example/x.js", "html": "<script></script>"}"#,
            true,
        )
        .unwrap();
        let tag_loaded_async = parse(
            br#"{"name": "n", "kind": "script_tag", "html": "<script></script>", "load_method": "async"}"#,
            true,
        )
        .unwrap();
        let empty = parse(br#"{"name": "n"}"#, true).unwrap();

        for (input, load_method, field) in [
            (&mixed, "default", "html"),
            (&tag_loaded_async, "async", "load_method"),
            (&empty, "default", "src"),
        ] {
            let Err(InputError::Invalid(errors)) = body_of(input, None, load_method) else {
                panic!("{field}: expected a field error");
            };
            assert!(errors.contains_key(field), "{errors:?}");
        }
    }

    #[test]
    fn an_update_keeps_the_current_body_unless_it_sends_a_new_one() {
        let current = ScriptBody::Src("https://a.example/old.js".to_owned());
        let rename = parse(br#"{"name": "renamed"}"#, false).unwrap();
        let to_tag = parse(
            br#"{"kind": "script_tag", "html": "<script type=\"module\">x()</script>"}"#,
            false,
        )
        .unwrap();

        assert_eq!(body_of(&rename, Some(&current), "defer").unwrap(), current);
        assert_eq!(
            body_of(&to_tag, Some(&current), "default").unwrap(),
            ScriptBody::Html("<script type=\"module\">x()</script>".to_owned())
        );
    }
}
