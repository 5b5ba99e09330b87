//! Wire tests of the leaderboards operations.

mod common;

use chrono::NaiveDate;
use common::Harness;
use futures::StreamExt;
use serde_json::{json, Value};
use trophy::types::{LeaderboardRankBy, LeaderboardRunUnit, LeaderboardStatus};
use trophy::Error;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

fn invalid_field(e: Error) -> String {
    match e {
        Error::InvalidInput(i) => i.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn board(key: &str, status: &str, rankings: Option<Vec<Value>>) -> Value {
    let mut b = json!({
        "id": format!("lb_{key}"), "key": key, "name": "Weekly words", "description": "Most words each week",
        "status": status, "rankBy": "metric", "metricKey": "words-written", "metricName": "Words written",
        "breakdownAttribute": null, "breakdownAttributes": ["region"], "maxParticipants": 1000,
        "start": "2026-01-05", "end": null, "startTime": "09:00", "endTime": null,
        "runUnit": "day", "runInterval": 7
    });
    if let Some(r) = rankings {
        b["rankings"] = json!(r);
    }
    b
}

fn ranking(rank: i64) -> Value {
    json!({"rank": rank, "userId": format!("user-{rank}"), "userName": if rank == 2 { Value::Null } else { json!(format!("Writer {rank}")) }, "value": 5000 - rank * 100})
}

#[tokio::test]
async fn list_sends_include_finished_and_decodes_status() {
    let h = Harness::new().await;
    let mut points = board("xp-all-time", "finished", None);
    points["rankBy"] = json!("points");
    points["pointsSystemKey"] = json!("xp");
    points["pointsSystemName"] = json!("Experience");
    points["runUnit"] = json!(null);
    points["runInterval"] = json!(null);
    points["end"] = json!("2026-02-28");
    h.expect(
        "GET",
        "/v1/leaderboards",
        200,
        json!([board("weekly-words", "active", None), points]),
    )
    .await;
    let boards = h
        .client
        .leaderboards()
        .list()
        .include_finished(true)
        .send()
        .await
        .unwrap();
    assert_eq!(boards.len(), 2);
    assert_eq!(boards[0].status, LeaderboardStatus::Active);
    assert_eq!(boards[0].run_unit, Some(LeaderboardRunUnit::Day));
    assert_eq!(boards[0].breakdown_attributes, vec!["region".to_string()]);
    assert_eq!(boards[1].status, LeaderboardStatus::Finished);
    assert_eq!(boards[1].rank_by, LeaderboardRankBy::Points);
    assert_eq!(boards[1].points_system_key.as_deref(), Some("xp"));
    assert_eq!(boards[1].end, NaiveDate::from_ymd_opt(2026, 2, 28));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_sends_every_option() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/leaderboards/weekly-words",
        200,
        board("weekly-words", "active", Some(vec![ranking(11), ranking(12)])),
    )
    .await;
    let lb = h
        .client
        .leaderboards()
        .get("weekly-words")
        .offset(10)
        .limit(2)
        .run(NaiveDate::from_ymd_opt(2026, 2, 23).unwrap())
        .user_id("user-42")
        .user_attribute("region", "emea")
        .send()
        .await
        .unwrap();
    assert_eq!(lb.key, "weekly-words");
    assert_eq!(lb.status, LeaderboardStatus::Active);
    assert_eq!(lb.start_time.as_deref(), Some("09:00"));
    assert_eq!(lb.rankings.len(), 2);
    assert_eq!(lb.rankings[0].rank, 11);
    assert_eq!(lb.rankings[0].user_name.as_deref(), Some("Writer 11"));
    assert_eq!(lb.rankings[1].value, 3800);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_sends_nothing_unset() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/leaderboards/a%2Fb%20%C3%A9",
        200,
        board("a/b é", "scheduled", Some(vec![])),
    )
    .await;
    let lb = h.client.leaderboards().get("a/b é").send().await.unwrap();
    assert_eq!(lb.key, "a/b é");
    assert_eq!(lb.status, LeaderboardStatus::Scheduled);
    assert!(lb.rankings.is_empty());
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), None);
}

#[tokio::test]
async fn get_checks_its_inputs() {
    let h = Harness::new().await;
    let lbs = h.client.leaderboards();
    assert_eq!(invalid_field(lbs.get("").send().await.unwrap_err()), "key");
    assert_eq!(
        invalid_field(lbs.get("lb").user_id(" ").send().await.unwrap_err()),
        "user_id"
    );
    assert_eq!(
        invalid_field(lbs.get("lb").user_attribute("region", "a,b").send().await.unwrap_err()),
        "user_attributes[0].value"
    );
}

/// Mounts one page of the rankings stream, answered for `offset`.
async fn mount_page(h: &Harness, offset: u32, ranks: std::ops::Range<i64>) {
    Mock::given(method("GET"))
        .and(path("/v1/leaderboards/weekly-words"))
        .and(query_param("offset", offset.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(board(
            "weekly-words",
            "active",
            Some(ranks.map(ranking).collect()),
        )))
        .expect(1)
        .mount(&h.server)
        .await;
}

#[tokio::test]
async fn rankings_stream_pages_lazily_until_a_short_page() {
    let h = Harness::new().await;
    mount_page(&h, 0, 1..3).await;
    mount_page(&h, 2, 3..5).await;
    mount_page(&h, 4, 5..6).await;
    let mut stream = h
        .client
        .leaderboards()
        .get("weekly-words")
        .limit(2)
        .user_attribute("region", "emea")
        .into_rankings_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.rank, 1);
    assert_eq!(
        h.server.received_requests().await.unwrap().len(),
        1,
        "only the first page is fetched"
    );
    let rest: Vec<_> = stream.map(|r| r.unwrap()).collect().await;
    let ranks: Vec<i64> = std::iter::once(first.rank).chain(rest.iter().map(|r| r.rank)).collect();
    assert_eq!(ranks, vec![1, 2, 3, 4, 5]);
    assert_eq!(rest[3].user_id, "user-5");

    let requests = h.server.received_requests().await.unwrap();
    let queries: Vec<String> = requests
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        queries,
        vec![
            "offset=0&limit=2&userAttributes=region%3Aemea",
            "offset=2&limit=2&userAttributes=region%3Aemea",
            "offset=4&limit=2&userAttributes=region%3Aemea",
        ]
    );
}

#[tokio::test]
async fn rankings_stream_starts_at_the_offset_with_pages_of_100() {
    let h = Harness::new().await;
    mount_page(&h, 20, 21..24).await;
    let ranks: Vec<i64> = h
        .client
        .leaderboards()
        .get("weekly-words")
        .offset(20)
        .into_rankings_stream()
        .map(|r| r.unwrap().rank)
        .collect()
        .await;
    assert_eq!(ranks, vec![21, 22, 23]);
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.query(), Some("offset=20&limit=100"));
}

#[tokio::test]
async fn rankings_stream_ends_with_the_error() {
    let h = Harness::new().await;
    mount_page(&h, 0, 1..3).await;
    Mock::given(method("GET"))
        .and(path("/v1/leaderboards/weekly-words"))
        .and(query_param("offset", "2"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "Leaderboard not found"})))
        .mount(&h.server)
        .await;
    let items: Vec<_> = h
        .client
        .leaderboards()
        .get("weekly-words")
        .limit(2)
        .into_rankings_stream()
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[1].as_ref().unwrap().rank, 2);
    let e = items[2].as_ref().unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.message(), Some("Leaderboard not found"));
}

#[tokio::test]
async fn rankings_stream_yields_validation_errors() {
    let h = Harness::new().await;
    let items: Vec<_> = h.client.leaderboards().get("").into_rankings_stream().collect().await;
    assert_eq!(items.len(), 1);
    assert!(matches!(&items[0], Err(Error::InvalidInput(i)) if i.field == "key"));
    let items: Vec<_> = h
        .client
        .leaderboards()
        .get("lb")
        .limit(0)
        .into_rankings_stream()
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert!(matches!(&items[0], Err(Error::InvalidInput(i)) if i.field == "limit"));
    assert!(h.server.received_requests().await.unwrap().is_empty());
}
