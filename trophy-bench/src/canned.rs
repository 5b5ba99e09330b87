//! Canned Trophy responses: realistic bodies of the three benchmarked operations, and the
//! large bodies of the decode benchmarks. Every body decodes into its generated type (tested).

use serde_json::{json, Value};

/// The metric key, achievement key and user of the benchmarked calls.
pub const METRIC_KEY: &str = "words-written";
pub const ACHIEVEMENT_KEY: &str = "finish-onboarding";
pub const USER_ID: &str = "user-42";
pub const USER_EMAIL: &str = "ada@example.com";
pub const USER_TZ: &str = "Europe/London";
pub const API_KEY: &str = "bench-admin-key-0123456789abcdef";

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("canned JSON serializes")
}

fn uuid(n: usize) -> String {
    format!(
        "{:08x}-6bce-4b44-b0ad-{:012x}",
        0x0040_fe51 + n,
        0xbddc_4e12_3534_u64 + n as u64
    )
}

/// `User`, as `GET /users/{id}` answers.
pub fn user_value(id: &str) -> Value {
    json!({
        "id": id,
        "email": USER_EMAIL,
        "name": "Ada Lovelace",
        "tz": USER_TZ,
        "deviceTokens": ["fcm-token-1f3a9c2e7b", "apns-token-88d0e1"],
        "subscribeToEmails": true,
        "attributes": {"plan": "pro", "country": "GB", "cohort": "2026-02"},
        "control": false,
        "created": "2026-02-14T08:12:45Z",
        "updated": "2026-03-01T17:40:02Z"
    })
}

fn achievement(n: usize) -> Value {
    json!({
        "id": uuid(100 + n),
        "key": format!("words-{}", (n + 1) * 1000),
        "name": format!("{} words written", (n + 1) * 1000),
        "description": "Write your first thousands of words.",
        "badgeUrl": format!("https://cdn.trophy.so/badges/words-{n}.png"),
        "trigger": "metric",
        "metricId": uuid(1),
        "metricName": "Words written",
        "metricValue": ((n + 1) * 1000) as f64,
        "userAttributes": [{"key": "plan", "value": "pro"}],
        "eventAttributes": [],
        "achievedAt": "2026-03-01T17:40:02Z"
    })
}

fn trigger(n: usize) -> Value {
    json!({
        "id": uuid(200 + n),
        "type": "metric",
        "points": 10,
        "status": "active",
        "metricId": uuid(1),
        "metricName": "Words written",
        "metricThreshold": 100,
        "userAttributes": [],
        "eventAttributes": [{"key": "category", "value": "writing"}],
        "created": "2025-12-01T09:00:00Z",
        "updated": "2026-01-15T12:30:00Z"
    })
}

fn points_system(key: &str, n: usize, awards: usize) -> Value {
    let awards: Vec<Value> = (0..awards)
        .map(|a| {
            json!({
                "id": uuid(300 + n * 10 + a),
                "awarded": 10,
                "date": "2026-03-01T17:40:02Z",
                "total": 1200 + 10 * a as i64,
                "trigger": trigger(n * 10 + a),
                "boosts": [{
                    "id": uuid(400 + n),
                    "name": "Double XP weekend",
                    "multiplier": 2.0,
                    "rounding": "down",
                    "status": "active",
                    "start": "2026-02-28",
                    "end": "2026-03-02"
                }]
            })
        })
        .collect();
    json!({
        "id": uuid(500 + n),
        "key": key,
        "name": format!("Points system {key}"),
        "description": "Points earned by writing.",
        "badgeUrl": "https://cdn.trophy.so/points/xp.png",
        "maxPoints": null,
        "total": 1220,
        "added": 20,
        "level": {
            "id": uuid(600 + n),
            "key": "silver",
            "name": "Silver",
            "description": "1,000 points and more",
            "badgeUrl": "https://cdn.trophy.so/levels/silver.png",
            "points": 1000
        },
        "awards": awards
    })
}

fn event_leaderboard(key: &str, n: usize) -> Value {
    json!({
        "id": uuid(700 + n),
        "key": key,
        "name": format!("Leaderboard {key}"),
        "description": "Most words written this week.",
        "rankBy": "metric",
        "metricKey": METRIC_KEY,
        "metricName": "Words written",
        "breakdownAttributes": [],
        "start": "2026-01-05",
        "end": null,
        "runUnit": "day",
        "runInterval": 7,
        "maxParticipants": 100,
        "threshold": 10,
        "rank": 4 + n as i64,
        "previousRank": 9 + n as i64
    })
}

fn event_value(points: usize, leaderboards: usize, achievements: usize) -> Value {
    let mut p = serde_json::Map::new();
    for i in 0..points {
        let key = if i == 0 {
            "xp".to_string()
        } else {
            format!("points-{i}")
        };
        p.insert(key.clone(), points_system(&key, i, 2));
    }
    let mut l = serde_json::Map::new();
    for i in 0..leaderboards {
        let key = format!("weekly-words-{i}");
        l.insert(key.clone(), event_leaderboard(&key, i));
    }
    json!({
        "eventId": uuid(0),
        "metricId": uuid(1),
        "total": 12750.0,
        "achievements": (0..achievements).map(achievement).collect::<Vec<_>>(),
        "currentStreak": {
            "length": 12,
            "frequency": "daily",
            "started": "2026-02-18",
            "periodStart": "2026-03-01",
            "periodEnd": "2026-03-01",
            "expires": "2026-03-02",
            "extended": true,
            "freezes": 1,
            "maxFreezes": 3,
            "freezeAutoEarnInterval": 7,
            "freezeAutoEarnAmount": 1
        },
        "points": p,
        "leaderboards": l,
        "idempotencyKey": "f0b2c5f4-3c1e-4b8e-9a53-7f4f7a3c2d10"
    })
}

/// `EventResponse` of a typical event: a streak extended, an achievement, two points
/// systems and one leaderboard (about 3 KB).
pub fn event() -> Vec<u8> {
    bytes(&event_value(2, 1, 1))
}

/// `EventResponse` of an event touching 20 points systems and 20 leaderboards.
pub fn event_large() -> Vec<u8> {
    bytes(&event_value(20, 20, 3))
}

/// `User`.
pub fn user() -> Vec<u8> {
    bytes(&user_value(USER_ID))
}

/// `AchievementCompletionResponse`: the achievement and one points system.
pub fn completion() -> Vec<u8> {
    let mut achievement = achievement(0);
    achievement["trigger"] = json!("api");
    achievement["key"] = json!(ACHIEVEMENT_KEY);
    achievement["name"] = json!("Finish onboarding");
    for k in ["metricId", "metricName", "metricValue"] {
        achievement.as_object_mut().expect("object").remove(k);
    }
    bytes(&json!({
        "completionId": uuid(900),
        "achievement": achievement,
        "points": {"xp": points_system("xp", 0, 1)}
    }))
}

/// `LeaderboardResponseWithRankings` with `n` rankings.
pub fn leaderboard(n: usize) -> Vec<u8> {
    let rankings: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "rank": i as i64 + 1,
                "userId": format!("user-{:06}", i * 7919 % 1_000_000),
                "userName": format!("Writer number {i}"),
                "value": 250_000 - 173 * i as i64
            })
        })
        .collect();
    bytes(&json!({
        "id": uuid(800),
        "key": "weekly-words",
        "name": "Weekly words",
        "description": "Most words written this week.",
        "status": "active",
        "rankBy": "metric",
        "metricKey": METRIC_KEY,
        "metricName": "Words written",
        "breakdownAttributes": [],
        "start": "2026-01-05",
        "end": null,
        "runUnit": "day",
        "runInterval": 7,
        "maxParticipants": 1000,
        "rankings": rankings
    }))
}

fn wrapped_metric(n: usize) -> Value {
    let mut by_attribute = serde_json::Map::new();
    for (attr, values) in [
        ("device", &["desktop", "mobile", "tablet", "web"][..]),
        ("category", &["fiction", "essay", "notes", "poetry", "journal"][..]),
    ] {
        let mut m = serde_json::Map::new();
        for (i, v) in values.iter().enumerate() {
            m.insert(
                v.to_string(),
                json!({
                    "name": v.to_uppercase(),
                    "currentTotal": 10_000.0 * (i + 1) as f64,
                    "changeThisPeriod": 2_500.0 * (i + 1) as f64,
                    "percentChange": 33.3,
                    "percentileThisPeriod": 71.0,
                    "units": "words"
                }),
            );
        }
        by_attribute.insert(attr.to_string(), Value::Object(m));
    }
    json!({
        "name": format!("Metric {n}"),
        "units": "words",
        "currentTotal": 152_000.0 + n as f64,
        "changeThisPeriod": 98_000.0,
        "percentChange": 181.5,
        "percentileThisPeriod": 93.0,
        "byAttribute": by_attribute
    })
}

fn user_leaderboard(n: usize) -> Value {
    let mut v = event_leaderboard(&format!("league-{n}"), n);
    let o = v.as_object_mut().expect("object");
    o.remove("threshold");
    o.remove("previousRank");
    o.insert("value".into(), json!(48_200 - n as i64));
    v
}

fn wrapped_period(metrics: usize, achievements: usize, leaderboards: usize) -> Value {
    let mut m = serde_json::Map::new();
    for i in 0..metrics {
        m.insert(format!("metric-{i}"), wrapped_metric(i));
    }
    let mut p = serde_json::Map::new();
    for (key, name) in [("xp", "Experience"), ("coins", "Coins"), ("karma", "Karma")] {
        p.insert(
            key.into(),
            json!({
                "name": name, "description": "Points earned by writing.",
                "currentTotal": 5400.0, "changeThisPeriod": 5100.0, "percentChange": 1700.0,
                "percentileThisPeriod": 88.5
            }),
        );
    }
    let mut l = serde_json::Map::new();
    for i in 0..leaderboards {
        l.insert(format!("league-{i}"), user_leaderboard(i));
    }
    json!({
        "metrics": m,
        "points": p,
        "achievements": (0..achievements).map(achievement).collect::<Vec<_>>(),
        "leaderboards": l
    })
}

/// `WrappedResponse` of an active user's year: 6 metrics with two attribute breakdowns each,
/// 3 points systems and 4 leaderboards per period, 15 achievements over the year.
pub fn wrapped() -> Vec<u8> {
    let mut day = wrapped_period(6, 2, 4);
    day["date"] = json!("2025-11-30");
    let mut week = wrapped_period(6, 3, 4);
    week["start"] = json!("2025-11-24");
    week["end"] = json!("2025-11-30");
    let mut month = wrapped_period(6, 5, 4);
    month["month"] = json!(11);
    let mut year = wrapped_period(6, 15, 4);
    year["longestStreak"] = json!({
        "length": 45, "frequency": "daily", "started": "2025-10-01",
        "periodStart": "2025-11-14", "periodEnd": "2025-11-14"
    });
    bytes(&json!({
        "user": user_value(USER_ID),
        "activity": {
            "daysActive": 211, "weeksActive": 48, "monthsActive": 12,
            "mostActiveDay": day, "mostActiveWeek": week, "mostActiveMonth": month, "entireYear": year
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trophy::types::{
        AchievementCompletionResponse, EventResponse, LeaderboardResponseWithRankings, User, WrappedResponse,
    };

    fn both<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(body: &[u8]) -> T {
        let sdk: T = trophy::__private::decode(body).expect("SDK decode");
        let plain: T = serde_json::from_slice(body).expect("serde_json decode");
        assert_eq!(sdk, plain);
        sdk
    }

    #[test]
    fn every_canned_body_decodes_into_its_type() {
        let e: EventResponse = both(&event());
        assert_eq!((e.points.len(), e.leaderboards.len(), e.achievements.len()), (2, 1, 1));
        let e: EventResponse = both(&event_large());
        assert_eq!((e.points.len(), e.leaderboards.len()), (20, 20));
        let u: User = both(&user());
        assert_eq!(u.id, USER_ID);
        let c: AchievementCompletionResponse = both(&completion());
        assert_eq!(c.achievement.key.as_deref(), Some(ACHIEVEMENT_KEY));
        let l: LeaderboardResponseWithRankings = both(&leaderboard(1000));
        assert_eq!(l.rankings.len(), 1000);
        let w: WrappedResponse = both(&wrapped());
        assert_eq!(w.activity.entire_year.achievements.len(), 15);
        assert!(!format!("{w:?}").contains("Unknown"), "every enum value is known");
        assert!(!format!("{:?}", both::<EventResponse>(&event_large())).contains("Unknown"));
    }
}
