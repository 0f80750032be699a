//! The part of BigCommerce's GraphQL Storefront API schema that the sandbox serves, and its
//! execution: `query { customer { entityId email firstName lastName } }` and the mutations
//! `login(email, password) { result customer { … } customerAccessToken { value expiresAt } }`
//! and `logout { result }` (the guide "Authenticating requests to the GraphQL Storefront API").
//! Documents are parsed by `graphql-parser`; aliases, variables (with defaults), named and inline
//! fragments, `__typename`, `@skip` and `@include` work as the GraphQL spec says. A document
//! that does not fit the schema gets validation errors and no `data`; a token without the
//! `Customer` access scope gets `INSUFFICIENT_ACCESS_SCOPE` as the guide shows. Runs over
//! `StoreState` under the store's lock; `graphql` does the HTTP and the tokens' checks.

use std::collections::HashMap;

use graphql_parser::Pos;
use graphql_parser::query::{
    Definition, Directive, Document, Field, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet, Type, TypeCondition, Value as GqlValue,
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::data::StoreState;
use crate::storefront_tokens::{CUSTOMER_SCOPE, issue_customer_access_token};

/// Documents longer than this are refused before parsing.
pub(crate) const MAX_QUERY_LENGTH: usize = 32 * 1024;
/// Documents nested deeper than this are refused before parsing (the parser recurses).
const MAX_DEPTH: usize = 32;

/// Who is asking: the channel whose `/graphql` was called, the private token's access scopes and
/// the customer of a valid customer access token, if one came.
pub(crate) struct Caller<'a> {
    pub channel_id: u64,
    pub scopes: &'a [&'static str],
    pub customer_id: Option<u64>,
}

/// One GraphQL request's parts, as the JSON body carries them.
pub(crate) struct Request<'a> {
    pub query: &'a str,
    pub operation_name: Option<&'a str>,
    pub variables: &'a Map<String, Value>,
}

/// A field of the schema: the object type it returns (`None`: a scalar), its arguments and
/// which of them are required (all of the sandbox's arguments are `String!`).
struct FieldSpec {
    object: Option<&'static str>,
    arguments: &'static [&'static str],
}

const SCALAR: FieldSpec = FieldSpec {
    object: None,
    arguments: &[],
};

fn field_spec(type_name: &str, field: &str) -> Option<FieldSpec> {
    let object = |name| FieldSpec {
        object: Some(name),
        arguments: &[],
    };
    Some(match (type_name, field) {
        ("Query", "customer") => object("Customer"),
        ("Mutation", "login") => FieldSpec {
            object: Some("LoginResult"),
            arguments: &["email", "password"],
        },
        ("Mutation", "logout") => object("LogoutResult"),
        ("Customer", "entityId" | "email" | "firstName" | "lastName") => SCALAR,
        ("LoginResult", "result") => SCALAR,
        ("LoginResult", "customer") => object("Customer"),
        ("LoginResult", "customerAccessToken") => object("CustomerAccessToken"),
        ("CustomerAccessToken", "value" | "expiresAt") => SCALAR,
        ("LogoutResult", "result") => SCALAR,
        _ => return None,
    })
}

/// The root fields that need the `Customer` access scope.
const CUSTOMER_FIELDS: [&str; 3] = ["customer", "login", "logout"];

fn error_at(message: String, position: Pos) -> Value {
    json!({"message": message, "locations": [{"line": position.line, "column": position.column}]})
}

/// Runs `request` for `caller` and returns the whole response body.
pub(crate) fn run(state: &mut StoreState, caller: &Caller<'_>, request: &Request<'_>) -> Value {
    if request.query.len() > MAX_QUERY_LENGTH || nesting(request.query) > MAX_DEPTH {
        return json!({"errors": [{"message": "The query is too large or too deeply nested."}]});
    }
    let document = match graphql_parser::parse_query::<String>(request.query) {
        Ok(document) => document,
        Err(error) => {
            let message = error.to_string();
            return json!({"errors": [{"message": format!("Syntax Error: {}", message.trim())}]});
        }
    };
    let fragments: HashMap<&str, &FragmentDefinition<'_, String>> = document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            Definition::Fragment(fragment) => Some((fragment.name.as_str(), fragment)),
            Definition::Operation(_) => None,
        })
        .collect();
    let operation = match pick_operation(&document, request.operation_name) {
        Ok(operation) => operation,
        Err(message) => return json!({"errors": [{"message": message}]}),
    };
    let variables = match variables(&operation, request.variables) {
        Ok(variables) => variables,
        Err(errors) => return json!({"errors": errors}),
    };
    let context = Context {
        fragments,
        variables,
    };
    let mut errors = Vec::new();
    context.validate(
        operation.root_type,
        operation.selection_set,
        &mut Vec::new(),
        &mut errors,
    );
    if !errors.is_empty() {
        return json!({"errors": errors});
    }
    let root_fields = context.collect(operation.selection_set);
    if !caller.scopes.contains(&CUSTOMER_SCOPE) {
        let errors: Vec<Value> = root_fields
            .iter()
            .filter(|field| CUSTOMER_FIELDS.contains(&field.name.as_str()))
            .map(|field| {
                json!({
                    "message": "The provided token does not include the scopes required to resolve this field.",
                    "path": [response_key(field)],
                    "extensions": {"code": "INSUFFICIENT_ACCESS_SCOPE", "requiredScopes": [CUSTOMER_SCOPE]}
                })
            })
            .collect();
        if !errors.is_empty() {
            return json!({"data": null, "errors": errors});
        }
    }
    let mut data = Map::new();
    for field in root_fields {
        let key = response_key(field).to_owned();
        let value = match field.name.as_str() {
            "__typename" => json!(operation.root_type),
            "customer" => caller
                .customer_id
                .and_then(|id| customer_json(state, id))
                .unwrap_or(Value::Null),
            "login" => {
                let argument = |name| context.argument(field, name);
                match login(state, caller, argument("email"), argument("password")) {
                    Some(value) => value,
                    None => {
                        let mut error = error_at("Invalid credentials".to_owned(), field.position);
                        error["path"] = json!([key]);
                        errors.push(error);
                        Value::Null
                    }
                }
            }
            "logout" => {
                if let Some(customer_id) = caller.customer_id {
                    // "A customer access token becomes invalid on all devices when you log out
                    // of a single device."
                    state
                        .customer_access_tokens
                        .retain(|_, token| token.customer_id != customer_id);
                }
                json!({"__typename": "LogoutResult", "result": "success"})
            }
            _ => Value::Null,
        };
        let projected = context.project(&value, &field.selection_set);
        merge_into(&mut data, key, projected);
    }
    if errors.is_empty() {
        json!({"data": data})
    } else {
        json!({"data": data, "errors": errors})
    }
}

/// The deepest `{` nesting outside strings, so that the parser never recurses far.
fn nesting(query: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for character in query.chars() {
        match character {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' | '(' | '[' if !in_string => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' | ')' | ']' if !in_string => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The operation to run, its root type, variables and selection.
struct Operation<'d> {
    root_type: &'static str,
    variable_definitions: &'d [graphql_parser::query::VariableDefinition<'d, String>],
    selection_set: &'d SelectionSet<'d, String>,
}

fn pick_operation<'d>(
    document: &'d Document<'d, String>,
    name: Option<&str>,
) -> Result<Operation<'d>, String> {
    let operations: Vec<&OperationDefinition<'_, String>> = document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            Definition::Operation(operation) => Some(operation),
            Definition::Fragment(_) => None,
        })
        .collect();
    fn named<'o>(operation: &'o OperationDefinition<'_, String>) -> Option<&'o str> {
        match operation {
            OperationDefinition::SelectionSet(_) => None,
            OperationDefinition::Query(query) => query.name.as_deref(),
            OperationDefinition::Mutation(mutation) => mutation.name.as_deref(),
            OperationDefinition::Subscription(subscription) => subscription.name.as_deref(),
        }
    }
    let operation = match name {
        Some(wanted) => operations
            .iter()
            .find(|operation| named(operation) == Some(wanted))
            .ok_or_else(|| format!("Unknown operation named \"{wanted}\"."))?,
        None if operations.len() == 1 => &operations[0],
        None if operations.is_empty() => return Err("The document has no operation.".to_owned()),
        None => {
            return Err(
                "Must provide operation name if query contains multiple operations.".to_owned(),
            );
        }
    };
    Ok(match operation {
        OperationDefinition::SelectionSet(selection_set) => Operation {
            root_type: "Query",
            variable_definitions: &[],
            selection_set,
        },
        OperationDefinition::Query(query) => Operation {
            root_type: "Query",
            variable_definitions: &query.variable_definitions,
            selection_set: &query.selection_set,
        },
        OperationDefinition::Mutation(mutation) => Operation {
            root_type: "Mutation",
            variable_definitions: &mutation.variable_definitions,
            selection_set: &mutation.selection_set,
        },
        OperationDefinition::Subscription(_) => {
            return Err("Subscriptions are not supported.".to_owned());
        }
    })
}

/// The operation's variables: the values sent, or the defaults; a required one missing is an
/// error as the spec words it.
fn variables(
    operation: &Operation<'_>,
    sent: &Map<String, Value>,
) -> Result<HashMap<String, Value>, Vec<Value>> {
    let mut values = HashMap::new();
    let mut errors = Vec::new();
    for definition in operation.variable_definitions {
        let value = match (sent.get(&definition.name), &definition.default_value) {
            (Some(value), _) => value.clone(),
            (None, Some(default)) => to_json(default, &HashMap::new()),
            (None, None) => Value::Null,
        };
        if value.is_null() && matches!(definition.var_type, Type::NonNullType(_)) {
            errors.push(error_at(
                format!(
                    "Variable \"${}\" of required type \"{}\" was not provided.",
                    definition.name, definition.var_type
                ),
                definition.position,
            ));
        }
        values.insert(definition.name.clone(), value);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn to_json(value: &GqlValue<'_, String>, variables: &HashMap<String, Value>) -> Value {
    match value {
        GqlValue::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        GqlValue::Int(number) => number.as_i64().map_or(Value::Null, Value::from),
        GqlValue::Float(number) => json!(number),
        GqlValue::String(text) => json!(text),
        GqlValue::Boolean(flag) => json!(flag),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(name) => json!(name),
        GqlValue::List(items) => items.iter().map(|item| to_json(item, variables)).collect(),
        GqlValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| (name.clone(), to_json(value, variables)))
                .collect(),
        ),
    }
}

fn response_key<'d>(field: &'d Field<'d, String>) -> &'d str {
    field.alias.as_deref().unwrap_or(&field.name)
}

/// Puts `value` under `key`, merging it into an object already there (the spec's field merging).
fn merge_into(map: &mut Map<String, Value>, key: String, value: Value) {
    match (map.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(more)) => {
            for (key, value) in more {
                merge_into(existing, key, value);
            }
        }
        (_, value) => {
            map.insert(key, value);
        }
    }
}

struct Context<'d> {
    fragments: HashMap<&'d str, &'d FragmentDefinition<'d, String>>,
    variables: HashMap<String, Value>,
}

impl<'d> Context<'d> {
    fn argument(&self, field: &Field<'_, String>, name: &str) -> Option<String> {
        field
            .arguments
            .iter()
            .find(|(argument, _)| argument == name)
            .and_then(|(_, value)| to_json(value, &self.variables).as_str().map(str::to_owned))
    }

    /// Whether `@skip` or `@include` leave the selection out.
    fn skipped(&self, directives: &[Directive<'_, String>]) -> bool {
        directives.iter().any(|directive| {
            let condition = directive
                .arguments
                .iter()
                .find(|(name, _)| name == "if")
                .map(|(_, value)| to_json(value, &self.variables));
            match directive.name.as_str() {
                "skip" => condition == Some(Value::Bool(true)),
                "include" => condition != Some(Value::Bool(true)),
                _ => false,
            }
        })
    }

    /// Checks a selection on `type_name` against the schema; pushes the spec's errors.
    fn validate(
        &self,
        type_name: &str,
        selection_set: &'d SelectionSet<'d, String>,
        spreading: &mut Vec<&'d str>,
        errors: &mut Vec<Value>,
    ) {
        for selection in &selection_set.items {
            match selection {
                Selection::Field(field) => self.validate_field(type_name, field, spreading, errors),
                Selection::InlineFragment(fragment) => {
                    if let Some(TypeCondition::On(on)) = &fragment.type_condition
                        && on != type_name
                    {
                        errors.push(cannot_spread(on, type_name, fragment.position));
                        continue;
                    }
                    self.validate(type_name, &fragment.selection_set, spreading, errors);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    let Some(fragment) = self.fragments.get(name) else {
                        errors.push(error_at(
                            format!("Unknown fragment \"{name}\"."),
                            spread.position,
                        ));
                        continue;
                    };
                    if spreading.contains(&name) {
                        errors.push(error_at(
                            format!("Cannot spread fragment \"{name}\" within itself."),
                            spread.position,
                        ));
                        continue;
                    }
                    let TypeCondition::On(on) = &fragment.type_condition;
                    if on != type_name {
                        errors.push(cannot_spread(on, type_name, spread.position));
                        continue;
                    }
                    spreading.push(name);
                    self.validate(type_name, &fragment.selection_set, spreading, errors);
                    spreading.pop();
                }
            }
        }
    }

    fn validate_field(
        &self,
        type_name: &str,
        field: &'d Field<'d, String>,
        spreading: &mut Vec<&'d str>,
        errors: &mut Vec<Value>,
    ) {
        let name = field.name.as_str();
        let spec = if name == "__typename" {
            SCALAR
        } else {
            match field_spec(type_name, name) {
                Some(spec) => spec,
                None => {
                    errors.push(error_at(
                        format!("Cannot query field \"{name}\" on type \"{type_name}\"."),
                        field.position,
                    ));
                    return;
                }
            }
        };
        for (argument, _) in &field.arguments {
            if !spec.arguments.contains(&argument.as_str()) {
                errors.push(error_at(
                    format!("Unknown argument \"{argument}\" on field \"{type_name}.{name}\"."),
                    field.position,
                ));
            }
        }
        for required in spec.arguments {
            let value = field
                .arguments
                .iter()
                .find(|(argument, _)| argument == required)
                .map(|(_, value)| to_json(value, &self.variables));
            if !value.as_ref().is_some_and(Value::is_string) {
                errors.push(error_at(
                    format!(
                        "Field \"{name}\" argument \"{required}\" of type \"String!\" is required, but it was not provided."
                    ),
                    field.position,
                ));
            }
        }
        match spec.object {
            Some(object) if field.selection_set.items.is_empty() => errors.push(error_at(
                format!(
                    "Field \"{name}\" of type \"{object}\" must have a selection of subfields."
                ),
                field.position,
            )),
            Some(object) => self.validate(object, &field.selection_set, spreading, errors),
            None if !field.selection_set.items.is_empty() => errors.push(error_at(
                format!("Field \"{name}\" must not have a selection since it is a scalar."),
                field.position,
            )),
            None => {}
        }
    }

    /// The fields a (validated) selection asks for, fragments expanded and `@skip`/`@include`
    /// applied, in document order.
    fn collect(&self, selection_set: &'d SelectionSet<'d, String>) -> Vec<&'d Field<'d, String>> {
        let mut fields = Vec::new();
        self.collect_into(selection_set, &mut fields);
        fields
    }

    fn collect_into(
        &self,
        selection_set: &'d SelectionSet<'d, String>,
        fields: &mut Vec<&'d Field<'d, String>>,
    ) {
        for selection in &selection_set.items {
            match selection {
                Selection::Field(field) if !self.skipped(&field.directives) => fields.push(field),
                Selection::InlineFragment(fragment) if !self.skipped(&fragment.directives) => {
                    self.collect_into(&fragment.selection_set, fields);
                }
                Selection::FragmentSpread(spread) if !self.skipped(&spread.directives) => {
                    if let Some(fragment) = self.fragments.get(spread.fragment_name.as_str()) {
                        self.collect_into(&fragment.selection_set, fields);
                    }
                }
                _ => {}
            }
        }
    }

    /// The part of `value` (an object with its `__typename`, or null) the selection asks for.
    fn project(&self, value: &Value, selection_set: &'d SelectionSet<'d, String>) -> Value {
        let Value::Object(object) = value else {
            return value.clone();
        };
        let mut out = Map::new();
        for field in self.collect(selection_set) {
            let child = object.get(field.name.as_str()).unwrap_or(&Value::Null);
            let projected = if field.selection_set.items.is_empty() {
                child.clone()
            } else {
                self.project(child, &field.selection_set)
            };
            merge_into(&mut out, response_key(field).to_owned(), projected);
        }
        Value::Object(out)
    }
}

fn cannot_spread(on: &str, type_name: &str, position: Pos) -> Value {
    error_at(
        format!(
            "Fragment cannot be spread here as objects of type \"{type_name}\" can never be of type \"{on}\"."
        ),
        position,
    )
}

fn customer_json(state: &StoreState, customer_id: u64) -> Option<Value> {
    let customer = state.customers.get(&customer_id)?;
    Some(json!({
        "__typename": "Customer",
        "entityId": customer.id,
        "email": customer.email,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
    }))
}

/// `login`: a customer access token for the shopper whose email (any case) and password match.
fn login(
    state: &mut StoreState,
    caller: &Caller<'_>,
    email: Option<String>,
    password: Option<String>,
) -> Option<Value> {
    let (email, password) = (email?, password?);
    let customer_id = state
        .customers
        .values()
        .find(|customer| {
            customer.email.eq_ignore_ascii_case(&email) && customer.password == password
        })?
        .id;
    let (token, expires_at) = issue_customer_access_token(state, customer_id, caller.channel_id);
    Some(json!({
        "__typename": "LoginResult",
        "result": "success",
        "customer": customer_json(state, customer_id)?,
        "customerAccessToken": {
            "__typename": "CustomerAccessToken",
            "value": token,
            "expiresAt": expires_at_text(expires_at),
        },
    }))
}

/// `2024-07-19T16:30:29Z`, as the guide's example writes `expiresAt`.
pub(crate) fn expires_at_text(moment: OffsetDateTime) -> String {
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::seed::{SeedSpec, build};

    const ALL: [&str; 2] = ["Customer", "Unauthenticated"];

    fn run_as(
        state: &mut StoreState,
        customer_id: Option<u64>,
        scopes: &[&'static str],
        query: &str,
        variables: Value,
    ) -> Value {
        let caller = Caller {
            channel_id: 1,
            scopes,
            customer_id,
        };
        let variables = variables.as_object().cloned().unwrap_or_default();
        run(
            state,
            &caller,
            &Request {
                query,
                operation_name: None,
                variables: &variables,
            },
        )
    }

    fn alice(state: &StoreState) -> (u64, String, String) {
        let customer = state.customers.values().next().unwrap();
        (
            customer.id,
            customer.email.clone(),
            customer.password.clone(),
        )
    }

    #[test]
    fn login_answers_the_guide_s_example_shape_with_a_token_that_identifies_the_customer() {
        let mut state = build(&SeedSpec::default(), "client");
        let (id, email, password) = alice(&state);

        let answer = run_as(
            &mut state,
            None,
            &ALL,
            "mutation Login($email: String!, $pass: String!) {\n login(email: $email, password: $pass) {\n result\n customer { entityId email }\n customerAccessToken { value expiresAt }\n }\n}",
            json!({"email": email.to_uppercase(), "pass": password}),
        );

        let login = &answer["data"]["login"];
        let token = login["customerAccessToken"]["value"].as_str().unwrap();
        assert_eq!(login["result"], "success");
        assert_eq!(login["customer"], json!({"entityId": id, "email": email}));
        let expires_at = login["customerAccessToken"]["expiresAt"].as_str().unwrap();
        assert!(expires_at.ends_with('Z'), "{expires_at}");
        assert_eq!(state.customer_access_tokens[token].customer_id, id);
        assert!(answer.get("errors").is_none());
    }

    #[test]
    fn aliases_fragments_typename_and_directives_shape_the_answer() {
        let mut state = build(&SeedSpec::default(), "client");
        let (id, email, _) = alice(&state);

        let answer = run_as(
            &mut state,
            Some(id),
            &ALL,
            "query($skip: Boolean = true) { me: customer { ...Who ... on Customer { email } \
             lastName @skip(if: $skip) __typename } kind: __typename }\n\
             fragment Who on Customer { id: entityId }",
            json!({}),
        );

        assert_eq!(
            answer,
            json!({"data": {"me": {"id": id, "email": email, "__typename": "Customer"}, "kind": "Query"}})
        );
    }

    #[test]
    fn no_customer_token_is_a_null_customer_and_wrong_credentials_an_error() {
        let mut state = build(&SeedSpec::default(), "client");
        let anonymous = run_as(
            &mut state,
            None,
            &ALL,
            "{ customer { entityId } }",
            json!({}),
        );
        let wrong = run_as(
            &mut state,
            None,
            &ALL,
            "mutation { login(email: \"x\", password: \"y\") { result } }",
            json!({}),
        );

        assert_eq!(anonymous, json!({"data": {"customer": null}}));
        assert_eq!(
            wrong,
            json!({"data": {"login": null}, "errors": [{"message": "Invalid credentials",
                   "locations": [{"line": 1, "column": 12}], "path": ["login"]}]})
        );
        assert!(state.customer_access_tokens.is_empty());
    }

    #[test]
    fn documents_that_do_not_fit_the_schema_get_errors_and_no_data() {
        let mut state = build(&SeedSpec::default(), "client");
        let cases = [
            (
                "{ customer { password } }",
                "Cannot query field \"password\" on type \"Customer\".",
            ),
            (
                "{ customer }",
                "Field \"customer\" of type \"Customer\" must have a selection of subfields.",
            ),
            (
                "mutation { login(email: \"a\") { result } }",
                "Field \"login\" argument \"password\" of type \"String!\" is required, but it was not provided.",
            ),
            (
                "{ customer { ...F } } fragment F on Customer { ...F }",
                "Cannot spread fragment \"F\" within itself.",
            ),
            (
                "query($e: String!) { customer { email } }",
                "Variable \"$e\" of required type \"String!\" was not provided.",
            ),
            ("{ customer { entityId }", "Syntax Error"),
            (
                "query A { customer { email } } query B { customer { email } }",
                "Must provide operation name",
            ),
        ];
        for (query, message) in cases {
            let answer = run_as(&mut state, Some(1), &ALL, query, json!({}));
            assert!(answer.get("data").is_none(), "{query}: {answer}");
            let first = answer["errors"][0]["message"].as_str().unwrap();
            assert!(first.starts_with(message), "{query}: {first}");
        }
        let deep = format!("{}{}", "{ customer ".repeat(40), "}".repeat(40));
        let answer = run_as(&mut state, Some(1), &ALL, &deep, json!({}));
        assert_eq!(
            answer["errors"][0]["message"],
            "The query is too large or too deeply nested."
        );
    }

    #[test]
    fn a_token_without_the_customer_scope_gets_insufficient_access_scope() {
        let mut state = build(&SeedSpec::default(), "client");

        let answer = run_as(
            &mut state,
            Some(1),
            &["Unauthenticated"],
            "{ me: customer { entityId } }",
            json!({}),
        );

        assert_eq!(
            answer,
            json!({"data": null, "errors": [{
                "message": "The provided token does not include the scopes required to resolve this field.",
                "path": ["me"],
                "extensions": {"code": "INSUFFICIENT_ACCESS_SCOPE", "requiredScopes": ["Customer"]}}]})
        );
    }

    #[test]
    fn logout_ends_every_token_of_the_customer_and_no_other() {
        let mut state = build(&SeedSpec::default(), "client");
        let mut ids = state.customers.keys().copied();
        let (first, second) = (ids.next().unwrap(), ids.next().unwrap());
        issue_customer_access_token(&mut state, first, 1);
        issue_customer_access_token(&mut state, first, 2);
        let (kept, _) = issue_customer_access_token(&mut state, second, 1);

        let answer = run_as(
            &mut state,
            Some(first),
            &ALL,
            "mutation { logout { result } }",
            json!({}),
        );

        assert_eq!(answer, json!({"data": {"logout": {"result": "success"}}}));
        assert_eq!(
            state.customer_access_tokens.keys().collect::<Vec<_>>(),
            [&kept]
        );
    }
}
