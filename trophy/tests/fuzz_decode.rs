//! Structure-aware fuzzing of response decoding: for every response type of the 85
//! operations, random instances are generated from the type's JSON schema, then mutated
//! (bytes flipped, cut, spliced; values swapped for values of other types), and decoded exactly
//! as a call decodes them. Decoding must never panic, and unmutated instances must decode.
//!
//! Every input runs under the allocation guard of `tests/fuzz_common`.
//!
//! Quick run (part of `cargo test`): 3,000 executions.
//! Long run (`TROPHY_FUZZ_ITERS`, default 1,000,000; `TROPHY_FUZZ_SEED`):
//! `TROPHY_FUZZ_ITERS=10_000_000 cargo test --release -p trophy --test fuzz_decode -- --ignored --nocapture`

mod fuzz_common;

use fuzz_common::{alloc_budget, bounded, exclusive, long_run, Rng};
use schemars::schema::{InstanceType, RootSchema, Schema, SchemaObject, SingleOrVec};
use serde_json::{json, Map, Value};

struct Target {
    name: &'static str,
    schema: RootSchema,
    decode: fn(&[u8]) -> Result<(), String>,
}

macro_rules! targets {
    ($($t:ty),+ $(,)?) => {
        vec![$(Target {
            name: stringify!($t),
            schema: schemars::schema_for!($t),
            decode: |b| trophy::__private::decode::<$t>(b).map(|_| ()).map_err(|e| e.to_string()),
        }),+]
    };
}

fn all_targets() -> Vec<Target> {
    use trophy::admin_types as a;
    use trophy::types as t;
    let mut v = targets![
        t::AchievementCompletionResponse,
        t::BulkStreakResponse,
        t::EventResponse,
        t::GetUserPointsResponse,
        Vec<t::LeaderboardsAllResponseItem>,
        Vec<t::UsersMetricEventSummaryResponseItem>,
        Vec<t::UsersPointsEventSummaryResponseItem>,
        t::LeaderboardResponseWithRankings,
        t::MetricResponse,
        t::PointsLevelSummaryResponse,
        t::PointsSummaryResponse,
        t::PointsSystemResponse,
        t::StreakResponse,
        t::User,
        t::UserLeaderboardResponseWithHistory,
        t::UserPreferencesResponse,
        Vec<t::AchievementWithStatsResponse>,
        Vec<t::MetricResponse>,
        Vec<t::PointsBoost>,
        Vec<t::PointsLevel>,
        Vec<t::UserAchievementWithStatsResponse>,
        t::WrappedResponse,
    ];
    v.extend(targets![
        a::AdminAchievement,
        a::AdminAttribute,
        a::AdminLeaderboard,
        a::AdminPointsBoost,
        a::AdminPointsLevel,
        a::AdminPointsSystem,
        a::AdminPointsTrigger,
        a::AdminTenant,
        a::AdminSettings,
        a::BatchEventsResponse,
        a::CreateAchievementsResponse,
        a::CreateApplicationKeysResponse,
        a::CreateAttributesResponse,
        a::CreateLeaderboardsResponse,
        a::CreateMetricsResponse,
        a::CreatePointsBoostsResponse,
        a::CreatePointsLevelsResponse,
        a::CreatePointsSystemsResponse,
        a::CreatePointsTriggersResponse,
        a::CreateStreakFreezesResponse,
        a::CreateStreakPausesResponse,
        a::CreateTenantsResponse,
        a::CreatedMetric,
        a::DeleteAchievementsResponse,
        a::DeleteApplicationKeysResponse,
        a::DeleteAttributesResponse,
        a::DeleteLeaderboardsResponse,
        a::DeleteMetricsResponse,
        a::DeletePointsBoostsResponse,
        a::DeletePointsLevelsResponse,
        a::DeletePointsSystemsResponse,
        a::DeletePointsTriggersResponse,
        a::DeleteStreakPausesResponse,
        a::DeleteTenantsResponse,
        a::ListAchievementsResponse,
        a::ListAttributesResponse,
        a::ListEnvironmentsResponse,
        a::ListLeaderboardsResponse,
        a::ListMetricsResponse,
        a::ListPointsBoostsResponse,
        a::ListPointsLevelsResponse,
        a::ListPointsSystemsResponse,
        a::ListPointsTriggersResponse,
        a::ListTenantsResponse,
        a::PatchPointsBoostsResponse,
        a::PatchPointsLevelsResponse,
        a::PatchPointsTriggersResponse,
        a::ResetStreaksResponse,
        a::RestoreStreaksResponse,
        a::StreakSettings,
        a::UpdateAchievementsResponse,
        a::UpdateAttributesResponse,
        a::UpdateLeaderboardsResponse,
        a::UpdateMetricsResponse,
        a::UpdatePointsSystemsResponse,
        a::UpdateTenantsResponse,
    ]);
    v
}

/// A random instance of `schema`.
fn generate(root: &RootSchema, schema: &SchemaObject, rng: &mut Rng, depth: usize) -> Value {
    if let Some(r) = &schema.reference {
        let name = r.trim_start_matches("#/definitions/");
        return match root.definitions.get(name) {
            Some(Schema::Object(o)) => generate(root, o, rng, depth + 1),
            _ => Value::Null,
        };
    }
    if let Some(values) = &schema.enum_values {
        return values[rng.below(values.len())].clone();
    }
    if let Some(sub) = &schema.subschemas {
        if let Some(all) = &sub.all_of {
            let mut merged = Map::new();
            for s in all {
                if let Schema::Object(o) = s {
                    if let Value::Object(m) = generate(root, o, rng, depth + 1) {
                        merged.extend(m);
                    }
                }
            }
            if schema.object.is_none() {
                return Value::Object(merged);
            }
        }
        for alts in [&sub.one_of, &sub.any_of].into_iter().flatten() {
            if let Schema::Object(o) = &alts[rng.below(alts.len())] {
                return generate(root, o, rng, depth + 1);
            }
        }
    }
    let ty = match &schema.instance_type {
        Some(SingleOrVec::Single(t)) => **t,
        Some(SingleOrVec::Vec(ts)) => {
            let non_null: Vec<_> = ts.iter().filter(|t| **t != InstanceType::Null).collect();
            if non_null.is_empty() || rng.percent(20) {
                InstanceType::Null
            } else {
                *non_null[rng.below(non_null.len())]
            }
        }
        None if schema.object.is_some() => InstanceType::Object,
        None => return json!("free-form"),
    };
    match ty {
        InstanceType::Null => Value::Null,
        InstanceType::Boolean => Value::Bool(rng.percent(50)),
        InstanceType::Integer => json!(rng.below(2000) as i64 - 100),
        InstanceType::Number => json!((rng.below(100_000) as f64) / 7.0),
        InstanceType::String => match schema.format.as_deref() {
            Some("date") => json!(format!("2026-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28))),
            Some("date-time") => json!(format!("2026-11-{:02}T{:02}:30:00Z", 1 + rng.below(28), rng.below(24))),
            Some("uuid") => json!(format!(
                "00000000-0000-4000-8000-{:012x}",
                rng.next() & 0xffff_ffff_ffff
            )),
            _ => match schema.metadata.as_ref().map(|m| &m.examples) {
                Some(ex) if !ex.is_empty() && rng.percent(80) => ex[rng.below(ex.len())].clone(),
                _ => json!(["ada", "zoë", "a/b", "", "日本", "x\"y"][rng.below(6)]),
            },
        },
        InstanceType::Array => {
            let n = if depth > 6 { 0 } else { rng.below(4) };
            let item = schema.array.as_ref().and_then(|a| a.items.as_ref());
            let mut out = Vec::new();
            for _ in 0..n {
                match item {
                    Some(SingleOrVec::Single(s)) => match &**s {
                        Schema::Object(o) => out.push(generate(root, o, rng, depth + 1)),
                        Schema::Bool(_) => out.push(json!(1)),
                    },
                    _ => out.push(json!("item")),
                }
            }
            Value::Array(out)
        }
        InstanceType::Object => {
            let mut m = Map::new();
            if let Some(obj) = &schema.object {
                for (k, s) in &obj.properties {
                    if obj.required.contains(k) || rng.percent(70) {
                        if let Schema::Object(o) = s {
                            m.insert(k.clone(), generate(root, o, rng, depth + 1));
                        }
                    }
                }
                if let Some(ap) = &obj.additional_properties {
                    if let Schema::Object(o) = &**ap {
                        for i in 0..(if depth > 6 { 0 } else { rng.below(3) }) {
                            m.insert(format!("key-{i}"), generate(root, o, rng, depth + 1));
                        }
                    }
                }
            }
            Value::Object(m)
        }
    }
}

/// Replaces a random node of the tree by a value of another kind.
fn mutate_tree(v: &mut Value, rng: &mut Rng) {
    let replacement = [
        json!(null),
        json!(-1),
        json!(1e308),
        json!("text"),
        json!([]),
        json!({}),
        json!(true),
        json!(3.5),
    ];
    match v {
        Value::Object(m) if !m.is_empty() && rng.percent(75) => {
            let k = m.keys().nth(rng.below(m.len())).cloned().unwrap_or_default();
            if rng.percent(15) {
                m.remove(&k);
            } else if let Some(child) = m.get_mut(&k) {
                mutate_tree(child, rng);
            }
        }
        Value::Array(a) if !a.is_empty() && rng.percent(75) => {
            let i = rng.below(a.len());
            mutate_tree(&mut a[i], rng);
        }
        _ => *v = replacement[rng.below(replacement.len())].clone(),
    }
}

/// Byte-level damage.
fn mutate_bytes(b: &mut Vec<u8>, rng: &mut Rng) {
    if b.is_empty() {
        b.push(b'{');
        return;
    }
    match rng.below(6) {
        0 => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
        }
        1 => b.truncate(rng.below(b.len())),
        2 => {
            let i = rng.below(b.len());
            let tok: &[u8] = [
                &b"\xff\xfe"[..],
                b"\"",
                b"]",
                b"}",
                b",",
                b"\\u00",
                b"1e999",
                b"-",
                b"nul",
            ][rng.below(9)];
            b.splice(i..i, tok.iter().copied());
        }
        3 => {
            let i = rng.below(b.len());
            let j = (i + rng.below(16)).min(b.len());
            b.drain(i..j);
        }
        4 => {
            let i = rng.below(b.len());
            let j = (i + rng.below(32)).min(b.len());
            let copy = b[i..j].to_vec();
            let k = rng.below(b.len());
            b.splice(k..k, copy);
        }
        _ => {
            let i = rng.below(b.len());
            b[i] = rng.next() as u8;
        }
    }
}

/// Per generated instance: the instance itself, then this many mutated trees and this many
/// byte-damaged copies. Byte damage is the cheapest input to make, so it gets the most.
const TREE_MUTANTS: usize = 4;
const BYTE_MUTANTS: usize = 15;
/// Decoding one body (at most a few KiB here) never needs more.
const ALLOC_BUDGET: usize = 16 * 1024 * 1024;

#[derive(Default, Debug)]
struct Stats {
    executions: u64,
    /// Unmutated instances the decoder rejected (must stay 0).
    valid_failures: u64,
    /// Mutated inputs decoded, and rejected with an error.
    mutants_decoded: u64,
    mutants_rejected: u64,
}

fn run(iterations: u64, seed: u64) -> Stats {
    let targets = all_targets();
    assert_eq!(targets.len(), 78, "every response type of the 85 operations");
    let budget = alloc_budget(ALLOC_BUDGET);
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    let (mut tree_bytes, mut raw) = (Vec::new(), Vec::new());
    let mut i = 0;
    while stats.executions < iterations {
        let t = &targets[i % targets.len()];
        i += 1;
        let instance = generate(&t.schema, &t.schema.schema, &mut rng, 0);
        let bytes = serde_json::to_vec(&instance).unwrap();
        stats.executions += 1;
        if let Err(e) = bounded(budget, || (t.decode)(&bytes)) {
            stats.valid_failures += 1;
            if stats.valid_failures < 5 {
                eprintln!(
                    "{} rejected a generated instance ({e}): {}",
                    t.name,
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
        let mutant = |input: &[u8], stats: &mut Stats| {
            stats.executions += 1;
            match bounded(budget, || (t.decode)(input)) {
                Ok(()) => stats.mutants_decoded += 1,
                Err(_) => stats.mutants_rejected += 1,
            }
        };
        for _ in 0..TREE_MUTANTS {
            let mut tree = instance.clone();
            mutate_tree(&mut tree, &mut rng);
            tree_bytes.clear();
            serde_json::to_writer(&mut tree_bytes, &tree).unwrap();
            mutant(&tree_bytes, &mut stats);
        }
        for _ in 0..BYTE_MUTANTS {
            raw.clear();
            raw.extend_from_slice(&bytes);
            for _ in 0..1 + rng.below(3) {
                mutate_bytes(&mut raw, &mut rng);
            }
            mutant(&raw, &mut stats);
        }
    }
    stats
}

#[test]
fn decoding_survives_mutated_responses_quick() {
    let _turn = exclusive();
    let stats = run(3_000, 0x5eed_1234);
    assert!(stats.executions >= 3_000);
    assert_eq!(
        stats.valid_failures, 0,
        "generated instances that follow the schemas must decode"
    );
    // The mutations reach both outcomes.
    assert!(
        stats.mutants_decoded > 100 && stats.mutants_rejected > 1_000,
        "{stats:?}"
    );
}

#[test]
#[ignore = "long run: TROPHY_FUZZ_ITERS=10_000_000 cargo test --release -p trophy --test fuzz_decode -- --ignored --nocapture"]
fn decoding_survives_mutated_responses_long() {
    let r = long_run(0xfeed_f00d, run);
    println!(
        "{} decode executions (seed {:#x}) in {:.1?} ({:.0}/s), no panic: {} mutants decoded, \
         {} rejected with an error; {}",
        r.stats.executions,
        r.seed,
        r.elapsed,
        r.stats.executions as f64 / r.elapsed.as_secs_f64(),
        r.stats.mutants_decoded,
        r.stats.mutants_rejected,
        r.heap,
    );
    assert_eq!(r.stats.valid_failures, 0);
}
