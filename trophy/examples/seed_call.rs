//! The seed call: complete the `finish-onboarding` achievement for a user.
//!
//! ```sh
//! TROPHY_API_KEY=... cargo run -p trophy --example seed_call
//! ```
//! Without `TROPHY_API_KEY`, it runs against the built-in emulator.

use trophy::{Client, UserInput};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = match std::env::var("TROPHY_API_KEY") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let emulator = trophy_emulator::Emulator::start().await?;
            let client = Client::builder()
                .api_key(emulator.admin_key())
                .base_url(emulator.base_url())
                .build()?;
            (client, Some(emulator))
        }
    };

    let user = UserInput::new("user-id").email("user@example.com").tz("Europe/London");
    let completion = client.achievements().complete("finish-onboarding", user).send().await?;

    let a = &completion.achievement;
    println!("completion {}", completion.completion_id);
    println!(
        "achievement {} ({}) key {:?} trigger {}",
        a.name, a.id, a.key, a.trigger
    );
    println!("description {:?}, badge {:?}", a.description, a.badge_url);
    println!("achieved at {:?}", a.achieved_at);
    for (system, points) in &completion.points {
        println!("points {system}: +{} -> {}", points.added, points.total);
    }
    Ok(())
}
