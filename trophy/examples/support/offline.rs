//! Shared by the ingestion examples: the built-in emulator with Trophy's rate limits and a
//! `words-written` metric, and a client of it.

use trophy::Client;
use trophy_emulator::{Emulator, RateLimits, Seed};

/// Starts the emulator and builds a client of it (with Trophy's tiers as its own rate limit
/// when `rate_limited`).
pub async fn emulator_and_client(rate_limited: bool) -> Result<(Client, Emulator), Box<dyn std::error::Error>> {
    let seed = Seed::empty().with_metric("words-written", "Words written");
    let emu = Emulator::builder()
        .seed(seed)
        .rate_limits(RateLimits::trophy())
        .start()
        .await?;
    let mut builder = Client::builder().api_key(emu.admin_key()).base_url(emu.base_url());
    if rate_limited {
        builder = builder.rate_limits(trophy::RateLimits::trophy());
    }
    Ok((builder.build()?, emu))
}
