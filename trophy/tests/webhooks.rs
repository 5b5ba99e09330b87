//! `trophy::webhooks`: signature verification and typed parsing of the 18 event types, with
//! payloads from `tests/fixtures/webhooks/<type>.json`.

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;
use trophy::webhooks::{
    self, construct_event, parse_event, sign, verify, WebhookError, WebhookEvent, WebhookEventType, WebhookSecret,
    SIGNATURE_HEADER,
};

const SECRET: &str = "whsec_test_3f9c1b7e0a5d48e2b6c4f19a7d2e8c05";

macro_rules! fixture {
    ($type:literal) => {
        include_bytes!(concat!("fixtures/webhooks/", $type, ".json")).as_slice()
    };
}

/// Every fixture, by event type.
const FIXTURES: [(&str, &[u8]); 18] = [
    ("achievement.completed", fixture!("achievement.completed")),
    ("streak.started", fixture!("streak.started")),
    ("streak.extended", fixture!("streak.extended")),
    ("streak.lost", fixture!("streak.lost")),
    ("streak.freeze_consumed", fixture!("streak.freeze_consumed")),
    ("streak.freeze_earned", fixture!("streak.freeze_earned")),
    ("points.changed", fixture!("points.changed")),
    ("points.level_changed", fixture!("points.level_changed")),
    ("points.boost_started", fixture!("points.boost_started")),
    ("points.boost_finished", fixture!("points.boost_finished")),
    ("leaderboard.started", fixture!("leaderboard.started")),
    ("leaderboard.changed", fixture!("leaderboard.changed")),
    ("leaderboard.finished", fixture!("leaderboard.finished")),
    ("leaderboard.rank_changed", fixture!("leaderboard.rank_changed")),
    ("emails.recap_due", fixture!("emails.recap_due")),
    ("emails.reactivation_due", fixture!("emails.reactivation_due")),
    ("emails.streak_reminder_due", fixture!("emails.streak_reminder_due")),
    ("emails.achievement_due", fixture!("emails.achievement_due")),
];

/// Delivers `body` as Trophy would: signed with [`SECRET`], verified and parsed.
fn deliver(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let signature = sign(SECRET, body);
    construct_event(body, Some(&signature), SECRET)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn payload_message(result: Result<WebhookEvent, WebhookError>) -> String {
    match result {
        Err(WebhookError::InvalidPayload { message }) => message,
        other => panic!("expected InvalidPayload, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The 18 event types.

#[test]
fn fixtures_cover_every_known_event_type() {
    let mut fixture_types: Vec<&str> = FIXTURES.iter().map(|(t, _)| *t).collect();
    let mut known: Vec<&str> = WebhookEventType::KNOWN.to_vec();
    fixture_types.sort_unstable();
    known.sort_unstable();
    assert_eq!(fixture_types, known);
}

#[test]
fn every_fixture_verifies_and_parses_into_its_own_variant() {
    for (event_type, body) in FIXTURES {
        let event = deliver(body).unwrap_or_else(|e| panic!("{event_type}: {e}"));
        assert_eq!(event.event_type(), event_type);
        assert_eq!(event.kind(), WebhookEventType::from(event_type));
        assert!(event.kind().is_known(), "{event_type}");
        assert!(!event.is_unknown(), "{event_type}");
        // Parsing alone gives the same event.
        assert_eq!(parse_event(body), Ok(event.clone()), "{event_type}");
        // The payload's own `type` field agrees with the variant.
        let body_type = serde_json::from_slice::<serde_json::Value>(body).unwrap()["type"].clone();
        assert_eq!(body_type, json!(event_type));
    }
}

#[test]
fn achievement_completed() {
    let event = deliver(fixture!("achievement.completed")).unwrap();
    let WebhookEvent::AchievementCompleted(e) = &event else {
        panic!("wrong variant: {event:?}");
    };
    assert_eq!(e.type_, WebhookEventType::AchievementCompleted);
    assert_eq!(e.user.id, "user-8412");
    assert_eq!(e.user.email.as_deref(), Some("maya.okafor@example.com"));
    assert_eq!(e.user.attributes.get("plan").map(String::as_str), Some("pro"));
    assert_eq!(e.achievement.id, "5f0c7a8e-3b1d-4c2a-9a57-1e2f3d4c5b6a");
    assert_eq!(e.achievement.name, "Marathon Reader");
    assert_eq!(e.achievement.metric_value, Some(100.0));
    assert_eq!(e.achievement.achieved_at, Some(utc(2025, 6, 18, 7, 41, 2)));
    assert_eq!(e.achievement.event_attributes[0].value, "mobile");
    assert_eq!(event.user().map(|u| u.id.as_str()), Some("user-8412"));
}

#[test]
fn streak_started() {
    let WebhookEvent::StreakStarted(e) = deliver(fixture!("streak.started")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.user.id, "user-1027");
    assert_eq!(e.streak.length, 1);
    assert_eq!(e.streak.started, Some(date(2025, 6, 18)));
    assert_eq!(e.streak.expires, Some(date(2025, 6, 19)));
    assert_eq!(e.streak.max_freezes, Some(3));
}

#[test]
fn streak_extended() {
    let WebhookEvent::StreakExtended(e) = deliver(fixture!("streak.extended")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.user.id, "user-5530");
    assert_eq!(e.streak.length, 12);
    assert_eq!(e.streak.frequency.as_str(), "weekly");
    assert_eq!(e.streak.period_start, Some(date(2025, 6, 16)));
    assert_eq!(e.streak.period_end, Some(date(2025, 6, 22)));
}

#[test]
fn streak_lost() {
    let event = deliver(fixture!("streak.lost")).unwrap();
    let WebhookEvent::StreakLost(e) = &event else {
        panic!("wrong variant");
    };
    assert_eq!(e.length, 23);
    assert_eq!(e.user.id, "user-0093");
    // Nullable user fields arrive as None.
    assert_eq!(e.user.email, None);
    assert_eq!(e.user.tz, None);
    assert!(!e.user.subscribe_to_emails);
}

#[test]
fn streak_freeze_consumed() {
    let WebhookEvent::StreakFreezeConsumed(e) = deliver(fixture!("streak.freeze_consumed")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!((e.consumed, e.freezes), (1, 2));
    assert_eq!(e.user.name.as_deref(), Some("Jonas Berg"));
}

#[test]
fn streak_freeze_earned() {
    let WebhookEvent::StreakFreezeEarned(e) = deliver(fixture!("streak.freeze_earned")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!((e.earned, e.freezes), (1, 3));
    assert_eq!(e.user.tz.as_deref(), Some("Asia/Tokyo"));
}

#[test]
fn points_changed() {
    let WebhookEvent::PointsChanged(e) = deliver(fixture!("points.changed")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.points.key.as_deref(), Some("xp"));
    assert_eq!((e.points.total, e.points.added), (1250, 50));
    assert_eq!(e.points.level.as_ref().map(|l| l.key.as_str()), Some("silver"));
    let award = &e.points.awards[0];
    assert_eq!(award.id.as_deref(), Some("award-3f9a1c"));
    assert_eq!(award.awarded, Some(50));
    assert_eq!(award.boosts[0].multiplier, 2.0);
    assert_eq!(award.trigger.as_ref().map(|t| t.points), Some(25));
}

#[test]
fn points_level_changed() {
    let WebhookEvent::PointsLevelChanged(e) = deliver(fixture!("points.level_changed")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.points.total, 5020);
    assert_eq!(e.previous_level.as_ref().map(|l| l.name.as_str()), Some("Silver"));
    assert_eq!(e.new_level.as_ref().map(|l| l.points), Some(5000));
    assert!(e.user.control);
    assert_eq!(e.user.name, None);
}

#[test]
fn points_boost_started() {
    let event = deliver(fixture!("points.boost_started")).unwrap();
    let WebhookEvent::PointsBoostStarted(e) = &event else {
        panic!("wrong variant");
    };
    assert_eq!(e.timestamp, utc(2025, 7, 1, 0, 0, 4));
    assert_eq!(e.boost.name, "Summer double XP");
    assert_eq!(e.boost.user_id, None);
    assert_eq!(e.boost.start, date(2025, 7, 1));
    assert_eq!(e.boost.end, Some(date(2025, 7, 7)));
    assert_eq!(e.boost.status.as_str(), "active");
    assert_eq!(event.user(), None);
}

#[test]
fn points_boost_finished() {
    let WebhookEvent::PointsBoostFinished(e) = deliver(fixture!("points.boost_finished")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.boost.user_id.as_deref(), Some("user-1027"));
    assert_eq!(e.boost.multiplier, 1.5);
    assert_eq!(e.boost.status.as_str(), "finished");
    assert_eq!(e.boost.rounding.as_str(), "up");
}

#[test]
fn leaderboard_started() {
    let WebhookEvent::LeaderboardStarted(e) = deliver(fixture!("leaderboard.started")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.leaderboard.key, "weekly-xp");
    assert_eq!(e.leaderboard.status.as_str(), "active");
    assert!(e.leaderboard.rankings.is_empty());
    assert_eq!(e.leaderboard.run_interval, Some(7));
    assert_eq!(e.leaderboard.start_time.as_deref(), Some("00:00"));
}

#[test]
fn leaderboard_changed() {
    let WebhookEvent::LeaderboardChanged(e) = deliver(fixture!("leaderboard.changed")).unwrap() else {
        panic!("wrong variant");
    };
    let ranks: Vec<(&str, i64, i64)> = e
        .leaderboard
        .rankings
        .iter()
        .map(|r| (r.user_id.as_str(), r.rank, r.value))
        .collect();
    assert_eq!(
        ranks,
        [("user-8412", 1, 2140), ("user-5530", 2, 1985), ("user-7781", 3, 1840)]
    );
    assert_eq!(e.leaderboard.rankings[2].user_name, None);
}

#[test]
fn leaderboard_finished() {
    let WebhookEvent::LeaderboardFinished(e) = deliver(fixture!("leaderboard.finished")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.leaderboard.status.as_str(), "finished");
    assert_eq!(e.leaderboard.end, Some(date(2025, 6, 20)));
    assert_eq!(e.leaderboard.breakdown_attributes, ["country"]);
    assert_eq!(e.leaderboard.run_unit, None);
    assert_eq!(e.leaderboard.rankings[0].user_id, "user-1027");
}

#[test]
fn leaderboard_rank_changed() {
    let WebhookEvent::LeaderboardRankChanged(e) = deliver(fixture!("leaderboard.rank_changed")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.user.id, "user-7781");
    assert_eq!((e.leaderboard.rank, e.leaderboard.value), (Some(3), Some(1840)));
    assert_eq!(
        (e.leaderboard.previous_rank, e.leaderboard.previous_value),
        (Some(5), Some(1610))
    );
}

#[test]
fn emails_recap_due() {
    let WebhookEvent::EmailsRecapDue(e) = deliver(fixture!("emails.recap_due")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.timestamp, utc(2025, 6, 16, 8, 0, 0));
    assert_eq!(e.recap.period_start, date(2025, 6, 9));
    assert_eq!(e.recap.period_end, date(2025, 6, 15));
}

#[test]
fn emails_reactivation_due() {
    let WebhookEvent::EmailsReactivationDue(e) = deliver(fixture!("emails.reactivation_due")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.reactivation.message_number, 2);
    assert_eq!(e.reactivation.days_since_last_active, 14);
    assert_eq!(e.user.id, "user-0093");
}

#[test]
fn emails_streak_reminder_due() {
    let WebhookEvent::EmailsStreakReminderDue(e) = deliver(fixture!("emails.streak_reminder_due")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.streak.length, 9);
    assert_eq!(e.streak.extended, Some(utc(2025, 6, 17, 19, 22, 10)));
    assert_eq!(e.streak.streak_history.len(), 3);
    assert_eq!(e.streak.streak_history[1].used_freeze, Some(true));
    assert_eq!(
        e.streak.pauses[0].id.to_string(),
        "3d8f6b2a-1c47-4e95-b0a3-7f2e9c5d1a68"
    );
}

#[test]
fn emails_achievement_due() {
    let WebhookEvent::EmailsAchievementDue(e) = deliver(fixture!("emails.achievement_due")).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.achievement.key.as_deref(), Some("streak-30"));
    assert_eq!(e.achievement.streak_length, Some(30));
    assert_eq!(e.achievement.trigger.as_str(), "streak");
    assert_eq!(e.timestamp, utc(2025, 6, 18, 9, 15, 0));
}

#[test]
fn fields_added_later_are_ignored() {
    let mut value: serde_json::Value = serde_json::from_slice(fixture!("streak.lost")).unwrap();
    value["lostAt"] = json!("2025-06-18T00:00:00Z");
    value["user"]["loyaltyTier"] = json!("gold");
    let body = serde_json::to_vec(&value).unwrap();
    let WebhookEvent::StreakLost(e) = deliver(&body).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(e.length, 23);
}

// ---------------------------------------------------------------------------------------------
// Signatures.

#[test]
fn sign_matches_an_independent_hmac_sha256() {
    // Computed with Python's hmac/hashlib/base64 (and `openssl dgst -sha256 -hmac`).
    assert_eq!(
        sign("whsec_test", b"{}"),
        "Rr3Coug5ZL0mlazGoflxYti6/BNaBxqlzVyZquVIFEA="
    );
    assert_eq!(
        sign("whsec_test", br#"{"type":"streak.lost"}"#),
        "EUdLx5PqJW+v6EYYU56VcoxPiwA4b23tDxZUKmxxnPg="
    );
    assert_eq!(
        verify("whsec_test", b"{}", "Rr3Coug5ZL0mlazGoflxYti6/BNaBxqlzVyZquVIFEA="),
        Ok(())
    );
}

#[test]
fn signature_header_name() {
    assert_eq!(SIGNATURE_HEADER, "X-Trophy-Signature");
}

#[test]
fn surrounding_whitespace_in_the_signature_is_ignored() {
    let body = fixture!("streak.lost");
    let signature = format!("  {}\t\r\n", sign(SECRET, body));
    assert_eq!(verify(SECRET, body, &signature), Ok(()));
}

#[test]
fn tampered_body_is_rejected() {
    let body = fixture!("achievement.completed");
    let signature = sign(SECRET, body);
    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("Marathon Reader", "Marathon Leader");
    assert_ne!(tampered.as_bytes(), body);
    assert_eq!(
        construct_event(tampered.as_bytes(), Some(&signature), SECRET),
        Err(WebhookError::InvalidSignature)
    );
    // Even a trailing newline is a different body.
    let mut extended = body.to_vec();
    extended.push(b'\n');
    assert_eq!(
        verify(SECRET, &extended, &signature),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn wrong_secret_is_rejected() {
    let body = fixture!("points.changed");
    let signature = sign("whsec_someone_else", body);
    assert_eq!(
        construct_event(body, Some(&signature), SECRET),
        Err(WebhookError::InvalidSignature)
    );
    // A secret that only differs by case or a prefix does not match either.
    let signature = sign(SECRET, body);
    assert_eq!(
        verify(&SECRET.to_uppercase(), body, &signature),
        Err(WebhookError::InvalidSignature)
    );
    assert_eq!(
        verify(&SECRET[..SECRET.len() - 1], body, &signature),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn missing_signature_is_rejected() {
    assert_eq!(
        construct_event(fixture!("streak.started"), None, SECRET),
        Err(WebhookError::MissingSignature)
    );
}

#[test]
fn signatures_that_are_not_base64_of_32_bytes_are_malformed() {
    let body = br#"{}"#;
    let good = "Rr3Coug5ZL0mlazGoflxYti6/BNaBxqlzVyZquVIFEA=";
    assert_eq!(verify("whsec_test", body, good), Ok(()));
    let malformed = [
        "".to_owned(),
        "   ".to_owned(),
        "not base64!!".to_owned(),
        // The URL-safe alphabet is not accepted.
        good.replace('/', "_"),
        // Padding is required.
        good.trim_end_matches('=').to_owned(),
        // Hex instead of base64.
        "46bdc2a2e83964bd2695acc6a1f97162d8bafc135a071aa5cd5c99aae5481440".to_owned(),
        // Base64 of 16 and of 33 bytes.
        "AAAAAAAAAAAAAAAAAAAAAA==".to_owned(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        // Two signatures.
        format!("{good},{good}"),
        // Very long.
        "A".repeat(100_000),
    ];
    for signature in &malformed {
        assert_eq!(
            verify("whsec_test", body, signature),
            Err(WebhookError::MalformedSignature),
            "{signature:.60}"
        );
        assert_eq!(
            construct_event(body, Some(signature), "whsec_test"),
            Err(WebhookError::MalformedSignature)
        );
    }
}

#[test]
fn a_well_formed_but_wrong_signature_is_invalid() {
    let zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_eq!(
        verify(SECRET, fixture!("streak.lost"), zeros),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn an_empty_secret_is_rejected_whatever_the_signature() {
    let body = fixture!("streak.lost");
    // HMAC itself allows an empty key; we never accept one.
    let signed_with_empty_key = sign("", body);
    assert_eq!(signed_with_empty_key.len(), 44);
    assert_eq!(verify("", body, &signed_with_empty_key), Err(WebhookError::EmptySecret));
    assert_eq!(
        construct_event(body, Some(&signed_with_empty_key), ""),
        Err(WebhookError::EmptySecret)
    );
    // Reported before the missing signature: the configuration is what needs fixing.
    assert_eq!(construct_event(body, None, ""), Err(WebhookError::EmptySecret));
    assert!(WebhookError::EmptySecret.to_string().contains("secret is empty"));
}

// ---------------------------------------------------------------------------------------------
// Payloads.

#[test]
fn empty_body_is_a_bad_payload() {
    for body in [&b""[..], b"  \n\t "] {
        let message = payload_message(deliver(body));
        assert_eq!(message, "the body is empty");
        assert_eq!(payload_message(parse_event(body)), "the body is empty");
    }
}

#[test]
fn bodies_that_are_not_a_json_object_with_a_string_type_are_bad_payloads() {
    let cases: [(&[u8], &str); 7] = [
        (b"type=streak.lost", "the body is not valid JSON"),
        (br#"{"type":"streak.lost","#, "the body is not valid JSON"),
        (b"\xff\xfe{}", "the body is not valid JSON"),
        (br#"["streak.lost"]"#, "the body is not a JSON object"),
        (b"null", "the body is not a JSON object"),
        (br#"{"user":{"id":"user-1"}}"#, "the payload has no `type` field"),
        (br#"{"type":7}"#, "the `type` field is not a string"),
    ];
    for (body, expected) in cases {
        let message = payload_message(deliver(body));
        assert!(
            message.starts_with(expected),
            "{:?}: {message}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn known_type_with_the_wrong_shape_is_a_bad_payload() {
    // A field of the wrong type.
    let mut value: serde_json::Value = serde_json::from_slice(fixture!("streak.lost")).unwrap();
    value["length"] = json!("twenty-three");
    let message = payload_message(deliver(&serde_json::to_vec(&value).unwrap()));
    assert_eq!(
        message,
        "bad `streak.lost` payload at `length`: invalid type: string \"twenty-three\", expected i64"
    );

    // A nested field that does not parse.
    let mut value: serde_json::Value = serde_json::from_slice(fixture!("achievement.completed")).unwrap();
    value["user"]["created"] = json!("yesterday");
    let message = payload_message(deliver(&serde_json::to_vec(&value).unwrap()));
    assert!(
        message.starts_with("bad `achievement.completed` payload at `user.created`: "),
        "{message}"
    );

    // A required field missing.
    let body = br#"{"type":"achievement.completed","user":{"id":"user-8412"}}"#;
    let message = payload_message(deliver(body));
    assert!(
        message.starts_with("bad `achievement.completed` payload at `user`: missing field"),
        "{message}"
    );

    // Only the type of another event's payload.
    let mut value: serde_json::Value = serde_json::from_slice(fixture!("streak.lost")).unwrap();
    value["type"] = json!("points.boost_started");
    let message = payload_message(deliver(&serde_json::to_vec(&value).unwrap()));
    assert!(
        message.starts_with("bad `points.boost_started` payload: missing field"),
        "{message}"
    );
}

#[test]
fn bad_payload_messages_are_bounded_and_do_not_echo_the_body() {
    // A valid payload but for one huge, wrongly typed field, so the first error (whatever the
    // key order) quotes it.
    let huge = "x".repeat(50_000);
    let mut value: serde_json::Value = serde_json::from_slice(fixture!("streak.lost")).unwrap();
    value["length"] = json!(huge);
    let body = serde_json::to_vec(&value).unwrap();
    let error = deliver(&body).unwrap_err();
    let WebhookError::InvalidPayload { message } = &error else {
        panic!("{error:?}");
    };
    assert!(message.chars().count() <= 241, "{}", message.len());
    assert!(message.ends_with('…'));
    assert!(error.to_string().len() < 400);
    assert!(!error.to_string().contains('\n'));
}

#[test]
fn unknown_type_is_kept_with_its_raw_json() {
    let payload = json!({
        "type": "quest.completed",
        "timestamp": "2025-06-18T10:00:00Z",
        "user": { "id": "user-8412" },
        "quest": { "id": "quest-summer-7", "xp": 120, "steps": [1, 2, 3] }
    });
    let body = serde_json::to_vec(&payload).unwrap();
    let event = deliver(&body).unwrap();
    assert!(event.is_unknown());
    assert_eq!(event.event_type(), "quest.completed");
    assert_eq!(event.kind(), WebhookEventType::Unknown("quest.completed".into()));
    assert_eq!(event.kind().as_str(), "quest.completed");
    assert_eq!(event.user(), None);
    let WebhookEvent::Unknown {
        event_type,
        payload: raw,
    } = &event
    else {
        panic!("{event:?}");
    };
    assert_eq!(event_type, "quest.completed");
    assert_eq!(raw, &payload);
    assert_eq!(raw["quest"]["xp"], 120);
    // The raw JSON round-trips: re-parsing its serialization gives the same event.
    let reserialized = serde_json::to_vec(raw).unwrap();
    assert_eq!(parse_event(&reserialized), Ok(event.clone()));
    // Whatever the string, including ones close to known types.
    for other in ["", "Achievement.Completed", "achievement.completed ", "streak"] {
        let event = parse_event(&serde_json::to_vec(&json!({ "type": other })).unwrap()).unwrap();
        assert_eq!(event.event_type(), other);
        assert!(event.is_unknown());
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and the secret.

#[test]
fn errors_and_the_secret_wrapper_never_show_the_secret() {
    let body = fixture!("achievement.completed");
    let errors = [
        WebhookError::EmptySecret,
        construct_event(body, None, SECRET).unwrap_err(),
        construct_event(body, Some("%%%"), SECRET).unwrap_err(),
        construct_event(body, Some(&sign("whsec_other", body)), SECRET).unwrap_err(),
        construct_event(body, Some(&sign(SECRET, b"{}")), SECRET).unwrap_err(),
        deliver(b"{}").unwrap_err(),
        deliver(br#"{"type":"streak.lost"}"#).unwrap_err(),
        deliver(b"not json").unwrap_err(),
    ];
    let kinds: Vec<String> = errors
        .iter()
        .map(|e| format!("{e:?}").split([' ', '{', '(']).next().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "EmptySecret",
            "MissingSignature",
            "MalformedSignature",
            "InvalidSignature",
            "InvalidSignature",
            "InvalidPayload",
            "InvalidPayload",
            "InvalidPayload"
        ]
    );
    for error in &errors {
        let display = error.to_string();
        let debug = format!("{error:?}");
        let alternate = format!("{error:#?}");
        for text in [&display, &debug, &alternate] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains("3f9c1b7e"), "{text}");
        }
        assert!(!display.is_empty());
        assert!(!display.contains('\n'), "{display}");
        let _: &dyn std::error::Error = error;
    }

    let secret = WebhookSecret::new(SECRET);
    assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
    assert_eq!(format!("{secret:#?}"), "WebhookSecret(<redacted>)");
    assert_eq!(secret.expose_secret(), SECRET);
    assert_eq!(secret.clone().expose_secret(), SECRET);
}

#[test]
fn fingerprint_identifies_identical_bodies() {
    let a = webhooks::fingerprint(fixture!("streak.lost"));
    let b = webhooks::fingerprint(fixture!("streak.lost"));
    let c = webhooks::fingerprint(fixture!("streak.started"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), 64);
    assert!(a.chars().all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()));
    assert_eq!(
        webhooks::fingerprint(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// End to end and offline: the SDK sends an event and a completion to the emulator, the emulator
/// delivers webhooks to a receiver, and `construct_event` verifies and types each delivery.
#[tokio::test]
async fn emulator_deliveries_verify_and_parse_with_the_sdk() {
    use trophy::api::admin::metrics::NewMetric;
    use trophy_emulator::{Emulator, WebhookTarget};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/trophy-hooks"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let emu = Emulator::builder()
        .webhook(WebhookTarget::new(format!("{}/trophy-hooks", receiver.uri()), SECRET))
        .start()
        .await
        .expect("emulator");
    let client = trophy::Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .build()
        .expect("client");
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Lessons", "lessons-completed")])
        .send()
        .await
        .expect("metric");
    let event = client
        .metrics()
        .event("lessons-completed", "grace", 1.0)
        .send()
        .await
        .expect("event");
    assert_eq!(event.achievements.len(), 1, "the seed's first-lesson achievement");
    client
        .achievements()
        .complete("finish-onboarding", "grace")
        .send()
        .await
        .expect("completion");

    assert_eq!(emu.settle_webhooks().await.len(), 3);
    let requests = receiver.received_requests().await.expect("recorded");
    let events: Vec<WebhookEvent> = requests
        .iter()
        .map(|r| {
            let signature = r.headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
            construct_event(&r.body, signature, SECRET).expect("signed and typed")
        })
        .collect();
    match events.as_slice() {
        [WebhookEvent::AchievementCompleted(first), WebhookEvent::StreakStarted(streak), WebhookEvent::AchievementCompleted(onboarding)] =>
        {
            assert_eq!(first.achievement.key.as_deref(), Some("first-lesson"));
            assert_eq!((first.user.id.as_str(), streak.streak.length), ("grace", 1));
            assert_eq!(onboarding.achievement.key.as_deref(), Some("finish-onboarding"));
        }
        other => panic!("unexpected deliveries: {other:?}"),
    }
    // A delivery checked against another secret is refused.
    let r = &requests[0];
    let signature = r.headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    assert!(matches!(
        construct_event(&r.body, signature, "whsec_someone_else"),
        Err(WebhookError::InvalidSignature)
    ));
}
