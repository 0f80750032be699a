//! JSON log lines, one object per line, written at a small fraction of what the general
//! JSON formatters cost: every request logs a line, so this is on the hot path.
//!
//! The shape is tracing-subscriber's flattened JSON, which log pipelines already parse:
//! `{"timestamp":…,"level":…,<event fields>,"target":…,"span":{<fields>,"name":…}}`, with
//! the innermost span of the event; a test formats the same events through both and compares
//! the parsed objects, with no key twice. What makes it cheap:
//! - a span's fields are rendered to JSON once, when the span is made (or a field
//!   recorded), and copied into each line as they are, never parsed back;
//! - each thread formats into one reusable buffer, and the timestamp's date and time to
//!   the second are formatted once per second;
//! - the line goes to the writer in one `write_all`.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The layer; `writer` makes the destination of each line.
pub struct JsonLines<W> {
    writer: W,
}

impl<W> JsonLines<W> {
    pub fn new(writer: W) -> Self {
        Self { writer }
    }
}

/// The largest line buffer a thread keeps between lines.
const MAX_KEPT_BUFFER: usize = 64 * 1024;

/// A span's fields as JSON members (`"a":1,"b":"x"`), rendered when recorded.
struct SpanFields(Vec<u8>);

/// The buffer a thread formats its lines in, and the second its timestamp prefix is for.
struct LineBuffer {
    line: Vec<u8>,
    second: u64,
    /// `"2026-11-25T23:15:50` for `second`.
    prefix: String,
}

impl LineBuffer {
    const fn new() -> Self {
        Self {
            line: Vec::new(),
            second: u64::MAX,
            prefix: String::new(),
        }
    }
}

thread_local! {
    static BUFFER: RefCell<LineBuffer> = const { RefCell::new(LineBuffer::new()) };
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let Some(span) = context.span(id) else {
            return;
        };
        let mut fields = Vec::new();
        attributes.record(&mut Members::new(&mut fields));
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, context: Context<'_, S>) {
        let Some(span) = context.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            let mut recorded = Vec::new();
            values.record(&mut Members::new(&mut recorded));
            // A field recorded again replaces its earlier value, so no line has a key twice.
            // Recording is rare (the request span never records), so this may copy.
            let replaced: Vec<&[u8]> = members(&recorded).map(|(key, _)| key).collect();
            let mut merged = Vec::with_capacity(fields.len() + recorded.len() + 1);
            for (key, member) in members(fields) {
                if !replaced.contains(&key) {
                    merged.extend_from_slice(member);
                    merged.push(b',');
                }
            }
            merged.extend_from_slice(&recorded);
            if merged.last() == Some(&b',') {
                merged.pop();
            }
            *fields = merged;
        }
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let write = |buffer: &mut LineBuffer| {
            buffer.line.clear();
            format_line(buffer, event, &context);
            let _ = self
                .writer
                .make_writer_for(event.metadata())
                .write_all(&buffer.line);
            // One huge line (a large debug value) must not pin its size for the thread's life.
            if buffer.line.capacity() > MAX_KEPT_BUFFER {
                buffer.line = Vec::new();
            }
        };
        // A line logged while this thread is already writing one (by the writer itself,
        // say) gets a buffer of its own.
        let reused = BUFFER.try_with(|buffer| match buffer.try_borrow_mut() {
            Ok(mut buffer) => {
                write(&mut buffer);
                true
            }
            Err(_) => false,
        });
        if reused != Ok(true) {
            write(&mut LineBuffer::new());
        }
    }
}

fn format_line<S>(buffer: &mut LineBuffer, event: &Event<'_>, context: &Context<'_, S>)
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    // A line from the `log` crate: its own target and level, without the `log.*` fields
    // that carry them through tracing.
    let normalized = event.normalized_metadata();
    let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
    buffer.line.extend_from_slice(b"{\"timestamp\":");
    write_timestamp(buffer, SystemTime::now());
    buffer.line.extend_from_slice(b",\"level\":\"");
    buffer
        .line
        .extend_from_slice(metadata.level().as_str().as_bytes());
    buffer.line.push(b'"');
    let line = &mut buffer.line;
    let before_fields = line.len();
    line.push(b',');
    event.record(&mut Members {
        out: line,
        skip_log_fields: normalized.is_some(),
    });
    if line.len() == before_fields + 1 {
        line.pop();
    }
    line.extend_from_slice(b",\"target\":");
    write_str(line, metadata.target());
    if let Some(span) = context.event_span(event) {
        line.extend_from_slice(b",\"span\":{");
        if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>()
            && !fields.is_empty()
        {
            line.extend_from_slice(fields);
            line.push(b',');
        }
        line.extend_from_slice(b"\"name\":");
        write_str(line, span.name());
        line.push(b'}');
    }
    line.extend_from_slice(b"}\n");
}

/// `"2026-11-25T23:15:50.120528Z"` (RFC 3339, UTC, microseconds).
fn write_timestamp(buffer: &mut LineBuffer, now: SystemTime) {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let second = since_epoch.as_secs();
    if second != buffer.second {
        buffer.prefix.clear();
        let utc =
            time::OffsetDateTime::from_unix_timestamp(i64::try_from(second).unwrap_or(i64::MAX))
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let _ = write!(
            buffer.prefix,
            "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            utc.year(),
            u8::from(utc.month()),
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second()
        );
        buffer.second = second;
    }
    buffer.line.extend_from_slice(buffer.prefix.as_bytes());
    let micros = since_epoch.subsec_micros();
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    buffer.line.push(b'.');
    buffer.line.extend_from_slice(&digits);
    buffer.line.extend_from_slice(b"Z\"");
}

/// The `"key":value` members of rendered fields, each with its key (as written, quoted).
/// Values are scalars (strings, numbers, booleans), so a comma outside a string ends one.
fn members(rendered: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = rendered;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (mut in_string, mut escaped, mut key_end, mut end) = (false, false, None, rest.len());
        for (index, &byte) in rest.iter().enumerate() {
            match byte {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b':' if !in_string && key_end.is_none() => key_end = Some(index),
                b',' if !in_string => {
                    end = index;
                    break;
                }
                _ => {}
            }
        }
        let member = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        Some((&member[..key_end.unwrap_or(member.len())], member))
    })
}

/// A JSON string, escaped as JSON requires.
fn write_str(line: &mut Vec<u8>, text: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *line, text);
}

/// Appends fields as JSON members, comma-separated.
struct Members<'a> {
    out: &'a mut Vec<u8>,
    /// Leaves out the `log.target`, `log.file`… fields of an event from the `log` crate.
    skip_log_fields: bool,
}

impl<'a> Members<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Self {
            out,
            skip_log_fields: false,
        }
    }

    /// Writes the field's key; `false` when the field is left out.
    fn key(&mut self, field: &Field) -> bool {
        if self.skip_log_fields && field.name().starts_with("log.") {
            return false;
        }
        if !matches!(self.out.last(), None | Some(b',' | b'{')) {
            self.out.push(b',');
        }
        write_str(self.out, field.name());
        self.out.push(b':');
        true
    }

    fn number(&mut self, field: &Field, value: impl fmt::Display) {
        if self.key(field) {
            let _ = write!(self.out, "{value}");
        }
    }
}

impl Visit for Members<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.key(field) {
            write_str(self.out, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.number(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.number(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.number(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.number(field, value);
        } else {
            // JSON has no NaN or infinity.
            self.record_str(field, &value.to_string());
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_str(field, &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io;
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn lines(run: impl FnOnce()) -> Vec<Value> {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(JsonLines::new(captured.clone()));
        tracing::subscriber::with_default(subscriber, run);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.ends_with('\n'),
            "every line ends with a newline: {text:?}"
        );
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn an_event_in_a_span_is_one_json_object_with_the_span_fields() {
        let lines = lines(|| {
            let span = tracing::info_span!(
                "request",
                route = "/v1/orders",
                request_id = "abc",
                customer_id = tracing::field::Empty
            );
            span.record("customer_id", 42_u64);
            let _entered = span.enter();
            tracing::info!(
                status = 200_u16,
                latency_ms = 0.25,
                stale = false,
                cache = Some("hit"),
                nothing = None::<u32>,
                delta = -3_i64,
                "request finished"
            );
        });

        assert_eq!(lines.len(), 1);
        let mut line = lines[0].clone();
        let timestamp = line["timestamp"].as_str().unwrap().to_owned();
        line.as_object_mut().unwrap().remove("timestamp");
        assert_eq!(
            line,
            json!({
                "level": "INFO",
                "message": "request finished",
                "status": 200,
                "latency_ms": 0.25,
                "stale": false,
                "cache": "hit",
                "delta": -3,
                "target": "order_metafields_service::json_log::tests",
                "span": {
                    "route": "/v1/orders",
                    "request_id": "abc",
                    "customer_id": 42,
                    "name": "request"
                }
            })
        );
        let parsed =
            time::OffsetDateTime::parse(&timestamp, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let age = time::OffsetDateTime::now_utc() - parsed;
        assert!(age.whole_seconds().abs() < 60, "{timestamp} is now");
        assert_eq!(timestamp.len(), "2026-11-25T23:15:50.120528Z".len());
    }

    #[test]
    fn strings_are_escaped_and_odd_values_stay_valid_json() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Odd(&'static str);
        let lines = lines(|| {
            tracing::warn!(
                text = "quote \" backslash \\ newline \n tab \t bell \u{7} é",
                debug = ?Odd("\"x\""),
                nan = f64::NAN,
                infinite = f64::INFINITY,
                error = &std::io::Error::other("broken \"pipe\"") as &dyn std::error::Error,
                "{}", "message with \"quotes\""
            );
            tracing::error!("no fields, no span");
        });

        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        assert_eq!(first["level"], "WARN");
        assert_eq!(
            first["text"],
            "quote \" backslash \\ newline \n tab \t bell \u{7} é"
        );
        assert_eq!(first["debug"], "Odd(\"\\\"x\\\"\")");
        assert_eq!(first["nan"], "NaN");
        assert_eq!(first["infinite"], "inf");
        assert_eq!(first["error"], "broken \"pipe\"");
        assert_eq!(first["message"], "message with \"quotes\"");
        assert_eq!(first.get("span"), None);
        assert_eq!(lines[1]["message"], "no fields, no span");
        assert_eq!(lines[1]["level"], "ERROR");
    }

    #[test]
    fn a_line_from_the_log_crate_keeps_its_own_target_and_level() {
        let lines = lines(|| {
            tracing_log::format_trace(
                &log::Record::builder()
                    .args(format_args!("starting 2 workers"))
                    .level(log::Level::Warn)
                    .target("actix_server::builder")
                    .module_path_static(Some("actix_server::builder"))
                    .file_static(Some("builder.rs"))
                    .line(Some(7))
                    .build(),
            )
            .unwrap();
        });

        assert_eq!(lines.len(), 1);
        let mut line = lines[0].clone();
        line.as_object_mut().unwrap().remove("timestamp");
        assert_eq!(
            line,
            json!({
                "level": "WARN",
                "message": "starting 2 workers",
                "target": "actix_server::builder"
            })
        );
    }

    #[test]
    fn the_timestamp_is_rfc3339_utc_with_microseconds() {
        let mut buffer = LineBuffer::new();
        let at = UNIX_EPOCH + std::time::Duration::from_micros(1_795_649_750_000_042);
        write_timestamp(&mut buffer, at);
        buffer.line.push(b' ');
        write_timestamp(&mut buffer, at + std::time::Duration::from_micros(999_000));
        buffer.line.push(b' ');
        write_timestamp(&mut buffer, at + std::time::Duration::from_secs(1));

        assert_eq!(
            String::from_utf8(buffer.line).unwrap(),
            "\"2026-11-25T23:35:50.000042Z\" \"2026-11-25T23:35:50.999042Z\" \"2026-11-25T23:35:51.000042Z\"",
        );
    }

    /// Runs `run` with both layers on one subscriber, each writing to its own buffer, so they
    /// format the very same events: this module's lines, then those of tracing-subscriber's
    /// JSON layer set up as the shape this module promises (flattened event, innermost span).
    fn through_both_layers(run: impl FnOnce()) -> (String, String) {
        let ours = Captured::default();
        let reference = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(JsonLines::new(ours.clone()))
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(reference.clone()),
            );
        tracing::subscriber::with_default(subscriber, run);
        (ours.text(), reference.text())
    }

    /// Parses one JSON line, refusing an object with a key twice at any depth (which
    /// `serde_json::Value` would accept, keeping the last).
    fn parse_without_duplicate_keys(line: &str) -> Result<Value, String> {
        struct Unique(Value);
        struct UniqueVisitor;

        impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
            type Value = Value;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("any JSON value")
            }
            fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
                Ok(Value::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
                Ok(Value::from(value))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
                Ok(Value::from(value))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
                Ok(Value::from(value))
            }
            fn visit_str<E>(self, value: &str) -> Result<Value, E> {
                Ok(Value::from(value))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut items: A,
            ) -> Result<Value, A::Error> {
                let mut array = Vec::new();
                while let Some(Unique(item)) = items.next_element()? {
                    array.push(item);
                }
                Ok(Value::Array(array))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut members: A,
            ) -> Result<Value, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some(key) = members.next_key::<String>()? {
                    if object.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    let Unique(value) = members.next_value()?;
                    object.insert(key, value);
                }
                Ok(Value::Object(object))
            }
        }

        impl<'de> serde::Deserialize<'de> for Unique {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(UniqueVisitor).map(Unique)
            }
        }

        serde_json::from_str::<Unique>(line)
            .map(|Unique(value)| value)
            .map_err(|error| format!("{error} in {line}"))
    }

    /// Takes the `timestamp` out of a line, checking it is RFC 3339 in UTC with microseconds.
    fn take_timestamp(line: &mut Value) -> String {
        let Some(Value::String(timestamp)) = line.as_object_mut().unwrap().remove("timestamp")
        else {
            panic!("no timestamp in {line}");
        };
        let parsed =
            time::OffsetDateTime::parse(&timestamp, &time::format_description::well_known::Rfc3339)
                .unwrap();
        assert_eq!(parsed.offset(), time::UtcOffset::UTC, "{timestamp}");
        assert_eq!(
            timestamp.len(),
            "2026-11-25T23:15:50.120528Z".len(),
            "{timestamp}"
        );
        timestamp
    }

    #[test]
    fn the_same_events_make_the_same_objects_as_tracing_subscribers_json_layer() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Customer {
            id: u64,
        }
        let (ours, reference) = through_both_layers(|| {
            tracing::info!(address = %"127.0.0.1:8080", workers = 2_u64, "listening");
            let request = tracing::info_span!(
                "request",
                method = "GET",
                route = "/v1/orders/{order_id}",
                request_id = "req-\"quoted\"-1",
                customer = tracing::field::Empty
            );
            request.record("customer", 42_u64);
            let _request = request.enter();
            tracing::debug!(order_id = 100_u64, "cache miss");
            let upstream =
                tracing::debug_span!("upstream", operation = "list_orders", page = 1_u64);
            {
                let _upstream = upstream.enter();
                tracing::warn!(
                    status = 429_u16,
                    retry_in_ms = 250.5,
                    last = false,
                    delta = -3_i64,
                    customer = ?Customer { id: 7 },
                    error = &std::io::Error::other("refused \"now\"") as &dyn std::error::Error,
                    "upstream refused: {}",
                    "quota"
                );
                // An explicit parent wins over the entered span in both.
                tracing::info!(parent: &request, "explicit parent");
            }
            tracing::info!(
                status = 200_u16,
                latency_ms = 1.25,
                customer_id = Some(42_u64),
                cache = Some("hit"),
                upstream_calls = Some(0_u64),
                skipped = None::<u64>,
                "request finished"
            );
            tracing_log::format_trace(
                &log::Record::builder()
                    .args(format_args!("starting 2 workers"))
                    .level(log::Level::Info)
                    .target("actix_server::builder")
                    .module_path_static(Some("actix_server::builder"))
                    .file_static(Some("builder.rs"))
                    .line(Some(7))
                    .build(),
            )
            .unwrap();
        });

        let ours: Vec<&str> = ours.lines().collect();
        let reference: Vec<&str> = reference.lines().collect();
        assert_eq!(ours.len(), 6, "{ours:#?}");
        assert_eq!(ours.len(), reference.len(), "{reference:#?}");
        for (ours, reference) in ours.into_iter().zip(reference) {
            let mut ours = parse_without_duplicate_keys(ours).unwrap();
            let mut reference = parse_without_duplicate_keys(reference).unwrap();
            take_timestamp(&mut ours);
            take_timestamp(&mut reference);
            // On purpose: a line from the log crate carries its target and level where every
            // line does, not again in `log.*` fields as the reference layer writes them.
            reference
                .as_object_mut()
                .unwrap()
                .retain(|key, _| !key.starts_with("log."));
            assert_eq!(ours, reference);
        }
    }

    #[test]
    fn a_span_field_recorded_again_appears_once_with_its_last_value() {
        let (ours, reference) = through_both_layers(|| {
            let span = tracing::info_span!(
                "request",
                route = "/v1/orders,\"cache\":\"x\\",
                cache = tracing::field::Empty,
                attempts = 1_u64,
                customer_id = tracing::field::Empty
            );
            span.record("cache", "miss, \"stale\": no");
            span.record("customer_id", 42_u64);
            span.record("cache", "hit");
            span.record("attempts", 2_u64);
            span.in_scope(|| tracing::info!("request finished"));
        });

        let mut ours = parse_without_duplicate_keys(ours.trim_end()).unwrap();
        let mut reference = parse_without_duplicate_keys(reference.trim_end()).unwrap();
        take_timestamp(&mut ours);
        take_timestamp(&mut reference);
        assert_eq!(ours, reference);
        assert_eq!(
            ours["span"],
            json!({
                "route": "/v1/orders,\"cache\":\"x\\",
                "cache": "hit",
                "attempts": 2,
                "customer_id": 42,
                "name": "request"
            })
        );
    }

    #[test]
    fn the_duplicate_key_check_refuses_a_key_twice_at_any_depth() {
        let cases = [
            (r#"{"a":1,"b":2}"#, true),
            (r#"{"a":1,"a":2}"#, false),
            (r#"{"span":{"cache":"miss","cache":"hit"}}"#, false),
            (r#"[{"a":1},{"a":1}]"#, true),
            (r#"{"a":[{"b":1,"b":1}]}"#, false),
        ];

        for (line, unique) in cases {
            assert_eq!(parse_without_duplicate_keys(line).is_ok(), unique, "{line}");
        }
    }
}
