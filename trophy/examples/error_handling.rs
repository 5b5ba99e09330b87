//! Telling failures apart: not found, bad input, rate limits, timeouts.
//!
//! ```sh
//! cargo run -p trophy --example error_handling
//! ```
//! Runs against the built-in emulator unless `TROPHY_API_KEY` is set.

use std::time::Duration;
use trophy::{Client, Error, RetryConfig, UserInput};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = match std::env::var("TROPHY_API_KEY") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let emulator = trophy_emulator::Emulator::start().await?;
            let client = Client::builder()
                .api_key(emulator.admin_key())
                .base_url(emulator.base_url())
                .retry(RetryConfig::standard().max_attempts(2))
                .build()?;
            (client, Some(emulator))
        }
    };

    // 1. Not found: an ordinary outcome, not a crash.
    match client.users().get("nobody-has-this-id").send().await {
        Ok(user) => println!("found {}", user.id),
        Err(e) if e.is_not_found() => println!("not found: {}", e.message().unwrap_or("(no message)")),
        Err(e) => return Err(e.into()),
    }

    // 2. Bad input is refused before anything is sent, naming the field.
    match client
        .metrics()
        .event("words-written", UserInput::new("user-id"), f64::NAN)
        .send()
        .await
    {
        Err(Error::InvalidInput(i)) => println!("refused before sending: {} ({})", i.field, i.reason),
        other => println!("unexpected: {other:?}"),
    }

    // 3. Everything else: decide by kind.
    let result = client
        .achievements()
        .list()
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    match result {
        Ok(list) => println!("{} achievements", list.len()),
        Err(e) if e.is_rate_limited() => println!(
            "rate limited; retry after {:?}",
            e.headers().and_then(|h| h.get("retry-after"))
        ),
        Err(e) if e.is_timeout() => println!("timed out after {} attempt(s)", e.attempts()),
        Err(e) if e.is_retryable() => println!("temporary failure, try again later: {e}"),
        Err(e) => println!("failed: {e}"),
    }
    Ok(())
}
