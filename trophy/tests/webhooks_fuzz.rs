//! Fuzzing of webhook parsing and verification, without cargo-fuzz (which needs nightly).
//!
//! A deterministic mutational fuzzer: it starts from the 18 fixture payloads and mutates them
//! at the byte level (flips, truncation, deletion, duplication, insertion of JSON tokens, splices
//! of two payloads) and at the JSON level (a value replaced by another of a random kind, a
//! field removed, the `type` swapped for another event's or a random one, deep nesting), plus
//! random bytes. Every input goes through `parse_event` and through `construct_event` (correctly
//! signed, wrongly signed or unsigned), and the results are checked against invariants, not only
//! for panics.
//!
//! `cargo test` runs a short round. The long run (1,000,000 iterations unless
//! `TROPHY_FUZZ_ITERS` says otherwise, `TROPHY_FUZZ_SEED` picks the seed); every input runs under
//! the allocation guard of `tests/fuzz_common`:
//!
//! ```text
//! cargo test --release -p trophy --test webhooks_fuzz -- --ignored --nocapture
//! ```

mod fuzz_common;

use fuzz_common::{alloc_budget, bounded, exclusive, long_run, Rng};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::{json, Value};
use trophy::webhooks::{construct_event, parse_event, sign, WebhookError, WebhookEvent, WebhookEventType};

/// Parsing and verifying one input (at most a few KiB) never needs more.
const ALLOC_BUDGET: usize = 16 * 1024 * 1024;

const SECRET: &str = "whsec_fuzz_0c8a7f3e5b2d4916a8e7c6b5d4f3e2a1";

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/webhooks");
    let mut fixtures: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    fixtures.sort();
    assert_eq!(fixtures.len(), 18, "expected the 18 fixtures in {dir}");
    fixtures
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e309",
    "-0.0",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"type\"",
    "\"achievement.completed\"",
    "\"user\"",
    "{}",
    "[]",
    "\"\"",
    "\u{feff}",
    "\u{1F3C6}",
    " ",
    "\n",
    "\"2025-13-45\"",
    "\"2025-06-18T07:41:02Z\"",
    "\"\\\"\"",
    "\u{0}",
];

/// A random JSON value, at most `depth` levels deep.
fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.chance(2)),
        2 => json!(rng.next() as i64),
        3 => json!((rng.next() as f64) / 1e6 - 9e12),
        4 => json!(rng.pick(&[
            "",
            "2025-06-18",
            "2025-06-18T07:41:02Z",
            "user-8412",
            "daily",
            "x\u{0}y",
            "🏆",
            "9999-99-99"
        ])),
        5 => json!(rng.pick(WebhookEventType::KNOWN)),
        6 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth - 1)).collect()),
        _ => {
            let mut object = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                let key = rng.pick(&[
                    "id",
                    "type",
                    "user",
                    "length",
                    "points",
                    "streak",
                    "achievement",
                    "leaderboard",
                    "timestamp",
                    "boost",
                    "k",
                ]);
                object.insert((*key).to_owned(), random_value(rng, depth - 1));
            }
            Value::Object(object)
        }
    }
}

/// Replaces or removes something at a random place in `value`.
fn mutate_value(rng: &mut Rng, value: &mut Value) {
    // Either act here, or walk down into a random child.
    if rng.chance(3) {
        *value = random_value(rng, 3);
        return;
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            let index = rng.below(map.len());
            let key = map.keys().nth(index).cloned().unwrap_or_default();
            if rng.chance(6) {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                mutate_value(rng, child);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = rng.below(items.len());
            if rng.chance(6) {
                items.remove(index);
            } else {
                mutate_value(rng, &mut items[index]);
            }
        }
        _ => *value = random_value(rng, 3),
    }
}

/// Adds a field nobody knows to a random object in `value`, as a later Trophy version might.
fn add_unknown_field(rng: &mut Rng, value: &mut Value) {
    if let Value::Object(map) = value {
        let child = if map.is_empty() || rng.chance(3) {
            None
        } else {
            let index = rng.below(map.len());
            map.values_mut().nth(index)
        };
        match child {
            Some(child @ Value::Object(_)) => add_unknown_field(rng, child),
            _ => {
                let extra = random_value(rng, 2);
                map.insert(format!("addedLater{}", rng.below(100)), extra);
            }
        }
    }
}

fn mutate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    let len = bytes.len();
    match rng.below(8) {
        // Flip bits of a few bytes.
        0 if len > 0 => {
            for _ in 0..=rng.below(4) {
                let at = rng.below(len);
                bytes[at] ^= 1 << rng.below(8);
            }
        }
        // Overwrite a byte with an interesting one.
        1 if len > 0 => {
            let at = rng.below(len);
            bytes[at] = *rng.pick(b"\0\"\\{}[]:,0-e.\xff\x80\n ");
        }
        // Truncate.
        2 => bytes.truncate(rng.below(len + 1)),
        // Delete a range.
        3 if len > 0 => {
            let start = rng.below(len);
            let end = (start + rng.below(64) + 1).min(len);
            bytes.drain(start..end);
        }
        // Duplicate a range.
        4 if len > 0 => {
            let start = rng.below(len);
            let end = (start + rng.below(64) + 1).min(len);
            let copy = bytes[start..end].to_vec();
            let at = rng.below(len + 1);
            bytes.splice(at..at, copy);
        }
        // Splice in the tail of another payload.
        5 if !other.is_empty() => {
            let at = rng.below(len + 1);
            let from = rng.below(other.len());
            bytes.truncate(at);
            bytes.extend_from_slice(&other[from..]);
        }
        // Insert a JSON token.
        _ => {
            let at = rng.below(len + 1);
            let token = rng.pick(TOKENS).as_bytes();
            bytes.splice(at..at, token.iter().copied());
        }
    }
}

/// One fuzz input.
fn generate(rng: &mut Rng, fixtures: &[(String, Vec<u8>)]) -> Vec<u8> {
    let (_, base) = rng.pick(fixtures);
    let (_, other) = rng.pick(fixtures);
    match rng.below(11) {
        // Random bytes.
        0 => (0..rng.below(256)).map(|_| rng.next() as u8).collect(),
        // Harmless changes that must still parse: extra fields, other whitespace.
        10 => {
            let mut value: Value = serde_json::from_slice(base).unwrap();
            add_unknown_field(rng, &mut value);
            if rng.chance(2) {
                serde_json::to_vec_pretty(&value).unwrap()
            } else {
                serde_json::to_vec(&value).unwrap()
            }
        }
        // Byte-level mutations of a fixture.
        1..=4 => {
            let mut bytes = base.clone();
            for _ in 0..=rng.below(4) {
                mutate_bytes(rng, &mut bytes, other);
            }
            bytes
        }
        // JSON-level mutations of a fixture.
        5..=7 => {
            let mut value: Value = serde_json::from_slice(base).unwrap();
            for _ in 0..=rng.below(3) {
                mutate_value(rng, &mut value);
            }
            serde_json::to_vec(&value).unwrap()
        }
        // Type swaps: another event's type, or one nobody knows.
        8 => {
            let mut value: Value = serde_json::from_slice(base).unwrap();
            value["type"] = if rng.chance(4) {
                json!(format!("custom.{}", rng.next() % 1000))
            } else {
                json!(rng.pick(WebhookEventType::KNOWN))
            };
            serde_json::to_vec(&value).unwrap()
        }
        // Deep nesting, inside or instead of a payload.
        _ => {
            let depth = rng.below(4000);
            let mut bytes = br#"{"type":"streak.lost","length":"#.to_vec();
            bytes.extend(std::iter::repeat_n(b'[', depth));
            if rng.chance(2) {
                bytes.extend(std::iter::repeat_n(b']', depth));
                bytes.push(b'}');
            }
            bytes
        }
    }
}

#[derive(Default, Debug)]
struct Stats {
    executions: u64,
    known: u64,
    unknown: u64,
    bad_payload: u64,
}

/// Runs one input through parsing and verification and checks the results' invariants.
fn check(rng: &mut Rng, input: &[u8], stats: &mut Stats) {
    let parsed = parse_event(input);
    stats.executions += 1;
    match &parsed {
        Ok(event @ WebhookEvent::Unknown { event_type, payload }) => {
            stats.unknown += 1;
            assert!(!WebhookEventType::KNOWN.contains(&event_type.as_str()));
            assert_eq!(payload["type"].as_str(), Some(event_type.as_str()));
            assert_eq!(event.event_type(), event_type);
        }
        Ok(event) => {
            stats.known += 1;
            assert!(WebhookEventType::KNOWN.contains(&event.event_type()));
            let value: Value = serde_json::from_slice(input).unwrap();
            assert_eq!(value["type"].as_str(), Some(event.event_type()));
        }
        Err(WebhookError::InvalidPayload { message }) => {
            stats.bad_payload += 1;
            assert!(message.chars().count() <= 241, "{message}");
            assert!(!message.contains('\n'));
        }
        Err(other) => panic!("parse_event returned {other:?}"),
    }

    // Verification: correctly signed gives the parse result; anything else is refused first.
    let verified = match rng.below(4) {
        0 | 1 => {
            let result = construct_event(input, Some(&sign(SECRET, input)), SECRET);
            assert_eq!(result, parsed);
            result
        }
        2 => {
            let result = construct_event(input, Some(&sign("whsec_wrong", input)), SECRET);
            assert_eq!(result, Err(WebhookError::InvalidSignature));
            result
        }
        _ => {
            // The input itself as the signature header: almost always malformed.
            let header = String::from_utf8_lossy(&input[..input.len().min(200)]).into_owned();
            let result = construct_event(input, Some(&header), SECRET);
            assert!(
                matches!(
                    result,
                    Err(WebhookError::MalformedSignature | WebhookError::InvalidSignature)
                ),
                "{result:?}"
            );
            result
        }
    };
    stats.executions += 1;
    if let Err(error) = verified {
        let text = format!("{error} {error:?}");
        assert!(!text.contains(SECRET));
    }
}

fn run(iterations: u64, seed: u64) -> Stats {
    let fixtures = fixtures();
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    let budget = alloc_budget(ALLOC_BUDGET);
    for iteration in 0..iterations {
        let input = generate(&mut rng, &fixtures);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            bounded(budget, || check(&mut rng, &input, &mut stats))
        }));
        if outcome.is_err() {
            panic!(
                "panic at iteration {iteration} (seed {seed}) on input {:?}",
                String::from_utf8_lossy(&input[..input.len().min(2000)])
            );
        }
    }
    stats
}

#[test]
fn fuzz_short() {
    let _turn = exclusive();
    let stats = run(2_000, 1);
    assert_eq!(stats.executions, 4_000);
    // The generator reaches every outcome.
    assert!(stats.known > 100, "{stats:?}");
    assert!(stats.unknown > 10, "{stats:?}");
    assert!(stats.bad_payload > 500, "{stats:?}");
}

#[test]
#[ignore = "long: run with --release -- --ignored"]
fn fuzz_long() {
    let r = long_run(0x7c0f_fee5, run);
    println!(
        "fuzzed {} inputs (seed {:#x}): {} executions of parse_event/construct_event in {:.1?} \
         ({:.0} inputs/s); outcomes of parse_event: {} known, {} unknown, {} bad payload; {}",
        r.iterations,
        r.seed,
        r.stats.executions,
        r.elapsed,
        r.rate(),
        r.stats.known,
        r.stats.unknown,
        r.stats.bad_payload,
        r.heap,
    );
    assert_eq!(r.stats.executions, 2 * r.iterations);
}
