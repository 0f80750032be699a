//! Field definitions: what the merchant says about each order metafield key of a store
//! (label, type, position, hidden, and for shopper-editable fields their constraints),
//! validated once when they are made, and the JSON document `fields export` writes and
//! `fields import` and `FIELD_DEFINITIONS_FILE` read. A definition only narrows what the
//! storefront shows: visibility (`VisibilityPolicy`) is decided before any definition is
//! looked at. Nothing here knows HTTP or the database.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{Metafield, PermissionSet};

/// The most definitions one store may have.
pub const MAX_DEFINITIONS: usize = 500;
/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 255;
/// The longest `pattern`, in characters.
pub const MAX_PATTERN_CHARS: usize = 1_000;
/// The largest compiled `pattern` (the regex crate's `size_limit`), in bytes.
const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
/// The most `choices` of one field, and the longest choice in characters.
pub const MAX_CHOICES: usize = 100;
const MAX_CHOICE_CHARS: usize = 255;
/// BigCommerce's longest metafield value, which bounds `max_length`.
pub const MAX_VALUE_LENGTH: u32 = 65_535;
/// The highest `position`.
pub const MAX_POSITION: u32 = 9_999;
/// BigCommerce's order status ids run from 0 (Incomplete) to 14 (Partially Refunded).
const MAX_STATUS_ID: u32 = 14;

/// How a field's value is shown to shoppers. The value itself is always text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    #[default]
    Text,
    MultilineText,
    Url,
    Email,
    Date,
    DateTime,
    Number,
    Boolean,
    Choice,
}

/// One definition, as the merchant made it (and as the export document holds it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDefinition {
    pub namespace: String,
    pub key: String,
    /// What shoppers see as the field's name; without one, the metafield's `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(rename = "type", default)]
    pub field_type: FieldType,
    /// Fields are shown in ascending position (then by metafield id).
    #[serde(default)]
    pub position: u32,
    /// Left out of every storefront answer.
    #[serde(default)]
    pub hidden: bool,
    /// Shoppers may change the value (only where the metafield's permission set allows
    /// writing).
    #[serde(default)]
    pub customer_editable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A regular expression a shopper's value must match, in the linear-time syntax of the
    /// `regex` crate (no look-around, no backreferences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Order status ids during which shoppers may edit; empty: any status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub editable_statuses: Vec<u32>,
}

/// A store's definitions, each valid, at most one per `(namespace, key)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldDefinitions {
    /// By namespace, then key: looked up with borrowed `&str`s, iterated in order.
    by_key: BTreeMap<String, BTreeMap<String, FieldDefinition>>,
}

/// What is wrong with one part of a definition, for the merchant to read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `namespace.key.part` (or `namespace.key` for the whole definition).
    pub field: String,
    pub message: String,
}

/// The document `fields export` writes and `fields import` reads.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsDocument {
    /// The format's version: 1.
    pub version: u32,
    pub definitions: Vec<FieldDefinition>,
}

/// Why a definitions document was refused.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the field definitions are not valid JSON of the export format: {0}")]
    Json(String),
    #[error("the field definitions have version {0}; this version reads version 1")]
    Version(u32),
    #[error("the field definitions are invalid: {}", list(.0))]
    Invalid(Vec<FieldError>),
}

/// A metafield as the storefront receives it: BigCommerce's fields and its definition's.
#[derive(Debug, Serialize)]
pub struct ShownMetafield<'a> {
    pub id: u64,
    pub namespace: &'a str,
    pub key: &'a str,
    pub value: &'a str,
    pub description: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    pub date_created: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub date_modified: time::OffsetDateTime,
    pub label: &'a str,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// `None` for a metafield without a definition: shown after every defined one.
    pub position: Option<u32>,
    pub editable: bool,
    /// For an editable field, its definition's `max_length` (the edit form's hint and limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// For an editable `choice` field, the values the shopper may pick.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub choices: &'a [String],
}

impl FieldType {
    /// Every type, in the order the page offers them.
    pub const ALL: [FieldType; 9] = [
        FieldType::Text,
        FieldType::MultilineText,
        FieldType::Url,
        FieldType::Email,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::Number,
        FieldType::Boolean,
        FieldType::Choice,
    ];

    /// The name used in JSON and forms (`multiline_text`...).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::MultilineText => "multiline_text",
            FieldType::Url => "url",
            FieldType::Email => "email",
            FieldType::Date => "date",
            FieldType::DateTime => "date_time",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Choice => "choice",
        }
    }

    /// What the merchant reads in the type list.
    pub fn title(self) -> &'static str {
        match self {
            FieldType::Text => "Text",
            FieldType::MultilineText => "Multi-line text",
            FieldType::Url => "Link (URL)",
            FieldType::Email => "Email address",
            FieldType::Date => "Date",
            FieldType::DateTime => "Date and time",
            FieldType::Number => "Number",
            FieldType::Boolean => "Yes / no",
            FieldType::Choice => "Choice",
        }
    }

    /// Parses the JSON/form name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FieldDefinition {
    /// A definition of `(namespace, key)` that changes nothing: `text`, position 0, shown.
    pub fn plain(namespace: &str, key: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            label: None,
            field_type: FieldType::Text,
            position: 0,
            hidden: false,
            customer_editable: false,
            max_length: None,
            pattern: None,
            choices: Vec::new(),
            editable_statuses: Vec::new(),
        }
    }

    /// Every problem of this definition on its own (an empty list: it is valid).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let name = format!("{}.{}", self.namespace, self.key);
        let mut refuse = |part: &str, message: String| {
            let field = if part.is_empty() {
                name.clone()
            } else {
                format!("{name}.{part}")
            };
            problems.push(FieldError { field, message });
        };
        for (part, text) in [("namespace", &self.namespace), ("key", &self.key)] {
            let length = text.chars().count();
            if length == 0 || length > 64 {
                refuse(part, format!("the {part} must be 1 to 64 characters"));
            } else if text.chars().any(char::is_control) {
                refuse(part, format!("the {part} must not hold control characters"));
            }
        }
        if let Some(label) = &self.label {
            if label.chars().count() > MAX_LABEL_CHARS {
                refuse(
                    "label",
                    format!("the label must be at most {MAX_LABEL_CHARS} characters"),
                );
            } else if label.chars().any(char::is_control) {
                refuse(
                    "label",
                    "the label must not hold control characters".to_owned(),
                );
            }
        }
        if self.position > MAX_POSITION {
            refuse(
                "position",
                format!("the position must be 0 to {MAX_POSITION}"),
            );
        }
        if let Some(max_length) = self.max_length
            && !(1..=MAX_VALUE_LENGTH).contains(&max_length)
        {
            refuse(
                "max_length",
                format!("the maximum length must be 1 to {MAX_VALUE_LENGTH} characters"),
            );
        }
        if let Some(pattern) = &self.pattern
            && let Err(message) = check_pattern(pattern)
        {
            refuse("pattern", message);
        }
        if self.field_type == FieldType::Choice {
            if self.choices.is_empty() {
                refuse(
                    "choices",
                    "a choice field needs at least one choice".to_owned(),
                );
            }
        } else if !self.choices.is_empty() {
            refuse(
                "choices",
                "choices apply only to fields of type choice".to_owned(),
            );
        }
        if self.choices.len() > MAX_CHOICES {
            refuse(
                "choices",
                format!("a field may have at most {MAX_CHOICES} choices"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for choice in &self.choices {
            let length = choice.chars().count();
            if length == 0 || length > MAX_CHOICE_CHARS || choice.chars().any(char::is_control) {
                refuse(
                    "choices",
                    format!(
                        "each choice must be 1 to {MAX_CHOICE_CHARS} characters without control characters"
                    ),
                );
                break;
            }
            if !seen.insert(choice.as_str()) {
                refuse("choices", format!("the choice {choice:?} is listed twice"));
                break;
            }
        }
        if let Some(status) = self
            .editable_statuses
            .iter()
            .find(|status| **status > MAX_STATUS_ID)
        {
            refuse(
                "editable_statuses",
                format!(
                    "{status} is not an order status id (BigCommerce's run from 0 to {MAX_STATUS_ID})"
                ),
            );
        }
        problems
    }

    /// Whether a shopper may edit this metafield: the definition says so and BigCommerce's
    /// permission set allows writing from the storefront.
    pub fn editable(&self, permission_set: PermissionSet) -> bool {
        self.customer_editable && permission_set == PermissionSet::WriteAndStorefront
    }

    /// The definition would show a metafield of this permission set that the storefront
    /// must never see: only a hidden definition may name an `app_only` (or otherwise
    /// invisible) metafield.
    pub fn would_expose(&self, visible: bool) -> bool {
        !visible && !self.hidden
    }
}

/// Checks `pattern` compiles in the `regex` crate's syntax (which runs in time linear in
/// the input: look-around and backreferences are not part of it), bounded in size.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("the pattern is empty; leave it out to accept any value".to_owned());
    }
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!(
            "the pattern must be at most {MAX_PATTERN_CHARS} characters"
        ));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map(|_| ())
        .map_err(|error| {
            let reason = match &error {
                regex::Error::Syntax(text) => text
                    .lines()
                    .rev()
                    .find(|line| line.starts_with("error:"))
                    .map_or_else(|| text.clone(), |line| line.trim_start_matches("error: ").to_owned()),
                regex::Error::CompiledTooBig(_) => "it compiles too large".to_owned(),
                _ => error.to_string(),
            };
            format!(
                "the pattern is not a regular expression that runs in linear time (no look-around, no backreferences): {reason}"
            )
        })
}

impl FieldDefinitions {
    /// Validates every definition and that no `(namespace, key)` is defined twice.
    pub fn new(definitions: Vec<FieldDefinition>) -> Result<Self, Vec<FieldError>> {
        let mut problems = Vec::new();
        if definitions.len() > MAX_DEFINITIONS {
            problems.push(FieldError {
                field: "definitions".to_owned(),
                message: format!("a store may have at most {MAX_DEFINITIONS} definitions"),
            });
        }
        let mut by_key: BTreeMap<String, BTreeMap<String, FieldDefinition>> = BTreeMap::new();
        for definition in definitions {
            problems.extend(definition.problems());
            let keys = by_key.entry(definition.namespace.clone()).or_default();
            if keys.contains_key(&definition.key) {
                problems.push(FieldError {
                    field: format!("{}.{}", definition.namespace, definition.key),
                    message: "defined twice".to_owned(),
                });
                continue;
            }
            keys.insert(definition.key.clone(), definition);
        }
        if problems.is_empty() {
            Ok(Self { by_key })
        } else {
            Err(problems)
        }
    }

    /// The definition of `(namespace, key)`, if any.
    pub fn get(&self, namespace: &str, key: &str) -> Option<&FieldDefinition> {
        self.by_key.get(namespace)?.get(key)
    }
    /// Every definition, by namespace then key.
    pub fn iter(&self) -> impl Iterator<Item = &FieldDefinition> {
        self.by_key.values().flat_map(BTreeMap::values)
    }

    /// How many definitions there are.
    pub fn len(&self) -> usize {
        self.by_key.values().map(BTreeMap::len).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// These definitions with `definition` added or replacing the one of its key.
    pub fn with(&self, definition: FieldDefinition) -> Result<Self, Vec<FieldError>> {
        let mut all: Vec<FieldDefinition> = self
            .iter()
            .filter(|other| {
                (&other.namespace, &other.key) != (&definition.namespace, &definition.key)
            })
            .cloned()
            .collect();
        all.push(definition);
        Self::new(all)
    }

    /// These definitions without the one of `(namespace, key)`.
    pub fn without(&self, namespace: &str, key: &str) -> Self {
        let mut by_key = self.by_key.clone();
        if let Some(keys) = by_key.get_mut(namespace) {
            keys.remove(key);
            if keys.is_empty() {
                by_key.remove(namespace);
            }
        }
        Self { by_key }
    }

    /// What the storefront receives of the visible `metafields`: hidden ones left out, each
    /// with its label, type, position and whether the shopper may edit it, in position
    /// order (metafields without a definition last), then by id.
    pub fn show<'a>(&'a self, metafields: &'a [Metafield]) -> Vec<ShownMetafield<'a>> {
        let mut shown: Vec<ShownMetafield<'a>> = metafields
            .iter()
            .filter_map(|metafield| {
                let definition = self.get(&metafield.namespace, &metafield.key);
                if definition.is_some_and(|definition| definition.hidden) {
                    return None;
                }
                let editable =
                    definition.filter(|definition| definition.editable(metafield.permission_set));
                Some(ShownMetafield {
                    id: metafield.id,
                    namespace: &metafield.namespace,
                    key: &metafield.key,
                    value: &metafield.value,
                    description: &metafield.description,
                    date_created: metafield.date_created,
                    date_modified: metafield.date_modified,
                    label: definition
                        .and_then(|definition| definition.label.as_deref())
                        .unwrap_or(&metafield.description),
                    field_type: definition
                        .map_or(FieldType::Text, |definition| definition.field_type),
                    position: definition.map(|definition| definition.position),
                    editable: editable.is_some(),
                    max_length: editable.and_then(|definition| definition.max_length),
                    choices: editable.map_or(&[], |definition| definition.choices.as_slice()),
                })
            })
            .collect();
        shown.sort_by_key(|item| (item.position.is_none(), item.position, item.id));
        shown
    }

    /// The export document, definitions sorted by namespace and key (stable diffs).
    pub fn export(&self) -> FieldsDocument {
        FieldsDocument {
            version: 1,
            definitions: self.iter().cloned().collect(),
        }
    }

    /// Reads an export document.
    pub fn import(json: &[u8]) -> Result<Self, DocumentError> {
        let document: FieldsDocument =
            serde_json::from_slice(json).map_err(|error| DocumentError::Json(error.to_string()))?;
        if document.version != 1 {
            return Err(DocumentError::Version(document.version));
        }
        Self::new(document.definitions).map_err(DocumentError::Invalid)
    }
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    fn metafield(id: u64, namespace: &str, key: &str, permission_set: PermissionSet) -> Metafield {
        Metafield {
            id,
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            value: format!("value {id}"),
            description: format!("description {id}"),
            date_created: datetime!(2024-01-01 0:00 UTC),
            date_modified: datetime!(2024-01-02 0:00 UTC),
            permission_set,
        }
    }

    #[test]
    fn definitions_label_type_order_and_hide_what_is_visible() {
        let mut gift = FieldDefinition::plain("Gifts", "note");
        gift.label = Some("Gift note".to_owned());
        gift.field_type = FieldType::MultilineText;
        gift.position = 2;
        gift.customer_editable = true;
        gift.max_length = Some(200);
        let mut tracking = FieldDefinition::plain("Shipping", "tracking_url");
        tracking.max_length = Some(10);
        tracking.field_type = FieldType::Url;
        tracking.position = 1;
        let mut internal = FieldDefinition::plain("Shipping", "warehouse");
        internal.hidden = true;
        let definitions = FieldDefinitions::new(vec![gift, tracking, internal]).unwrap();
        let metafields = [
            metafield(1, "Gifts", "note", PermissionSet::WriteAndStorefront),
            metafield(2, "Shipping", "warehouse", PermissionSet::ReadAndStorefront),
            metafield(3, "Other", "plain", PermissionSet::ReadAndStorefront),
            metafield(
                4,
                "Shipping",
                "tracking_url",
                PermissionSet::ReadAndStorefront,
            ),
        ];

        let shown = serde_json::to_value(definitions.show(&metafields)).unwrap();

        assert_eq!(
            shown,
            serde_json::json!([
                {"id": 4, "namespace": "Shipping", "key": "tracking_url", "value": "value 4",
                 "description": "description 4", "date_created": "2024-01-01T00:00:00Z",
                 "date_modified": "2024-01-02T00:00:00Z", "label": "description 4",
                 "type": "url", "position": 1, "editable": false},
                {"id": 1, "namespace": "Gifts", "key": "note", "value": "value 1",
                 "description": "description 1", "date_created": "2024-01-01T00:00:00Z",
                 "date_modified": "2024-01-02T00:00:00Z", "label": "Gift note",
                 "type": "multiline_text", "position": 2, "editable": true, "max_length": 200},
                {"id": 3, "namespace": "Other", "key": "plain", "value": "value 3",
                 "description": "description 3", "date_created": "2024-01-01T00:00:00Z",
                 "date_modified": "2024-01-02T00:00:00Z", "label": "description 3",
                 "type": "text", "position": null, "editable": false},
            ])
        );
    }

    #[test]
    fn a_field_is_editable_only_where_its_permission_set_allows_storefront_writes() {
        let mut definition = FieldDefinition::plain("Gifts", "note");
        definition.customer_editable = true;

        assert!(definition.editable(PermissionSet::WriteAndStorefront));
        assert!(!definition.editable(PermissionSet::ReadAndStorefront));
        assert!(!definition.editable(PermissionSet::Write));
    }

    #[test]
    fn patterns_outside_the_linear_time_syntax_are_refused_with_the_reason() {
        assert_eq!(check_pattern(r"^[A-Z]{2}\d{4}$"), Ok(()));
        for (pattern, reason) in [
            (r"(?=a)b", "look-around"),
            (r"(a)\1", "backreferences"),
            (r"([a-z]", "unclosed group"),
            ("", "the pattern is empty"),
        ] {
            let message = check_pattern(pattern).unwrap_err();
            assert!(message.contains(reason), "{pattern}: {message}");
        }
        let huge = "\\w{1000}".repeat(50);
        assert!(check_pattern(&huge).is_err());
    }

    #[test]
    fn invalid_definitions_are_refused_naming_each_problem() {
        let mut choice = FieldDefinition::plain("Gifts", "wrap");
        choice.field_type = FieldType::Choice;
        let mut statuses = FieldDefinition::plain("Gifts", "note");
        statuses.editable_statuses = vec![1, 15];
        statuses.max_length = Some(0);
        let twice = FieldDefinition::plain("Gifts", "note");

        let problems = FieldDefinitions::new(vec![choice, statuses, twice]).unwrap_err();

        let fields: Vec<&str> = problems
            .iter()
            .map(|problem| problem.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "Gifts.wrap.choices",
                "Gifts.note.max_length",
                "Gifts.note.editable_statuses",
                "Gifts.note"
            ]
        );
    }

    #[test]
    fn the_export_document_reads_back_the_same_definitions() {
        let mut definition = FieldDefinition::plain("Gifts", "wrap");
        definition.field_type = FieldType::Choice;
        definition.choices = vec!["Paper".to_owned(), "Box".to_owned()];
        definition.pattern = Some("^[A-Za-z ]+$".to_owned());
        let definitions = FieldDefinitions::new(vec![definition]).unwrap();

        let json = serde_json::to_vec(&definitions.export()).unwrap();

        assert_eq!(FieldDefinitions::import(&json).unwrap(), definitions);
        assert!(matches!(
            FieldDefinitions::import(br#"{"version": 2, "definitions": []}"#),
            Err(DocumentError::Version(2))
        ));
        assert!(matches!(
            FieldDefinitions::import(
                br#"{"version": 1, "definitions": [{"namespace": "a", "key": "b", "colour": 1}]}"#
            ),
            Err(DocumentError::Json(_))
        ));
    }
}
