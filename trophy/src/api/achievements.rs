//! Achievements: list them with statistics, complete API-triggered ones.

use crate::request::{non_empty, operation, Call, RequestOptions};
use crate::types::{AchievementCompletionResponse, AchievementWithStatsResponse};
use crate::{Client, Error, Result, UserInput};
use trophy_generated::operations as ops;

/// The achievements of the Application API: get it with [`Client::achievements`].
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let user = trophy::UserInput::new("user-id").email("user@example.com").tz("Europe/London");
/// let done = client.achievements().complete("finish-onboarding", user).send().await?;
/// println!("{} at {:?}", done.achievement.name, done.achievement.achieved_at);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Achievements {
    pub(crate) client: Client,
}

impl Achievements {
    /// `GET /achievements`: every achievement with its completion count and rarity.
    pub fn list(&self) -> ListAchievements {
        ListAchievements {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_attributes: Vec::new(),
        }
    }

    /// `POST /achievements/{key}/complete`: completes an API-triggered achievement for a user
    /// (creating the user if Trophy does not know it).
    pub fn complete(&self, key: impl Into<String>, user: impl Into<UserInput>) -> CompleteAchievement {
        CompleteAchievement {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
            user: user.into(),
        }
    }
}

/// Builder of `GET /achievements` (operation `achievements_all`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListAchievements {
    client: Client,
    options: RequestOptions,
    user_attributes: Vec<(String, String)>,
}

impl ListAchievements {
    /// Counts only users whose attribute `key` has `value` in the statistics; repeat to
    /// require several (sent as `key:value` pairs joined by commas).
    pub fn user_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.user_attributes.push((key.into(), value.into()));
        self
    }

    fn call(&self) -> Result<Call> {
        let call = Call::from_op(&ops::achievements_all::OP, &[])?;
        Ok(call.query_opt(
            ops::achievements_all::USER_ATTRIBUTES,
            attribute_filter(&self.user_attributes)?,
        ))
    }
}
operation!(ListAchievements => Vec<AchievementWithStatsResponse>);

/// Builder of `POST /achievements/{key}/complete` (operation `achievements_complete`).
///
/// Not retried once the request may have reached Trophy (a repeat could complete twice);
/// see `RELIABILITY.md`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct CompleteAchievement {
    client: Client,
    options: RequestOptions,
    key: String,
    user: UserInput,
}

impl CompleteAchievement {
    fn call(&self) -> Result<Call> {
        self.user.check("user")?;
        Call::from_op(&ops::achievements_complete::OP, &[&self.key])?
            .tier(crate::ratelimit::Tier::One)
            .json(&CompleteBody { user: &self.user })
    }
}

/// The body of `POST /achievements/{key}/complete`.
#[derive(serde::Serialize)]
struct CompleteBody<'a> {
    user: &'a UserInput,
}
operation!(CompleteAchievement => AchievementCompletionResponse);

/// The `userAttributes` filter, after checking each pair survives the `key:value,...`
/// encoding: keys must be non-empty and free of `:` and `,`, values free of `,`.
pub(crate) fn attribute_filter(pairs: &[(String, String)]) -> Result<Option<String>> {
    for (i, (k, v)) in pairs.iter().enumerate() {
        let field = format!("user_attributes[{i}].key");
        non_empty(&field, k)?;
        if k.contains([':', ',']) {
            return Err(Error::invalid(
                field,
                "must not contain `:` or `,` (pairs are sent as `key:value,...`)",
            ));
        }
        if v.contains(',') {
            return Err(Error::invalid(
                format!("user_attributes[{i}].value"),
                "must not contain `,` (pairs are sent as `key:value,...`)",
            ));
        }
    }
    Ok(join_attributes(pairs))
}

/// `key:value` pairs joined by commas, or nothing.
fn join_attributes(pairs: &[(String, String)]) -> Option<String> {
    if pairs.is_empty() {
        return None;
    }
    Some(
        pairs
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}
