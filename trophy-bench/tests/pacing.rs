//! Each ingest backend against each limiter model of the emulator (Trophy's 5 tier-1
//! requests/s), short runs: exact totals, nothing lost or twice, and few 429s. Speed is the
//! release benchmark's business (`trophy-bench ingest --matrix`), not these tests'.

use std::time::Duration;
use trophy_bench::pacing::{run_case, Backend, Case};
use trophy_emulator::{LimiterModel, RateLimitHeaders};

/// 8 requests of 1,000 events per backend (a few more with lost answers): about 2 s each.
async fn run_all_backends(limiter: LimiterModel, lost_rate: f64, headers: RateLimitHeaders) {
    for backend in Backend::ALL {
        let mut case = Case::row(backend, limiter, lost_rate);
        case.events = 8_000;
        case.headers = headers;
        case.limit = Duration::from_secs(60);
        let o = run_case(&case).await.unwrap();
        println!(
            "{}  (429s after 5 s: {}, send rate {:.2})",
            o.line(),
            o.http_429_after_5s,
            o.send_rate
        );
        assert_eq!((o.stored, o.lost, o.duplicated), (8_000, 0, 0), "{}", o.line());
        assert!(o.totals_match, "{}", o.line());
        // No burst at start, a margin, and 429s that slow the pacer instead of a retry storm;
        // the bound leaves room for a debug build on a loaded machine, where requests reach
        // the emulator with tens of milliseconds of jitter (the storm was 91 of 191).
        assert!(
            o.http_429 * 3 <= o.requests,
            "at most a third of the requests refused: {}",
            o.line()
        );
        assert!(o.send_rate > 0.0 && o.send_rate <= 5.0, "{}", o.line());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_bucket() {
    run_all_backends(LimiterModel::TokenBucket { burst: 0 }, 0.0, RateLimitHeaders::None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcra_with_no_burst() {
    run_all_backends(LimiterModel::Gcra, 0.0, RateLimitHeaders::None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_window() {
    run_all_backends(LimiterModel::FixedWindow, 0.0, RateLimitHeaders::Ietf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sliding_window_with_lost_answers() {
    run_all_backends(LimiterModel::SlidingWindow, 0.2, RateLimitHeaders::XRateLimit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stricter_than_configured_is_met_without_a_storm() {
    // Configured for 5 requests/s, the server admits 3 (GCRA): the pacer learns the lower rate
    // from a few 429s, for the in-memory ingester and for the fleet's shared state alike.
    for backend in [Backend::Memory, Backend::Fleet] {
        let mut case = Case::row(backend, LimiterModel::Gcra, 0.0);
        case.tier1_per_second = 3.0;
        case.events = 40_000;
        case.limit = Duration::from_secs(60);
        let o = run_case(&case).await.unwrap();
        println!("{}  (send rate {:.2})", o.line(), o.send_rate);
        assert_eq!((o.stored, o.lost, o.duplicated), (40_000, 0, 0), "{}", o.line());
        assert!(o.http_429 * 3 <= o.requests, "{}", o.line());
        assert!(
            o.send_rate < 3.3,
            "learned about the server's rate, not the configured 4.7: {}",
            o.line()
        );
    }
}
