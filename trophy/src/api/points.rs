//! Points systems: definitions, levels, boosts and summaries.

use crate::api::achievements::attribute_filter;
use crate::request::{operation, Call, RequestOptions};
use crate::types::{PointsBoost, PointsLevel, PointsLevelSummaryResponse, PointsSummaryResponse, PointsSystemResponse};
use crate::{Client, Result};
use trophy_generated::operations as ops;

/// Points systems: definitions, levels, boosts and summaries. Get it with [`Client::points`].
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let system = client.points().system("xp").send().await?;
/// println!("{} has {} triggers", system.name, system.triggers.len());
///
/// let ranges = client.points().summary("xp").user_attribute("plan", "pro").send().await?;
/// for r in ranges.iter() {
///     println!("{}..{}: {} users", r.from, r.to, r.users);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Points {
    pub(crate) client: Client,
}

impl Points {
    /// `GET /points/{key}/summary`: how the users of a points system spread over ranges of
    /// totals.
    pub fn summary(&self, key: impl Into<String>) -> PointsSummary {
        PointsSummary {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
            user_attributes: Vec::new(),
        }
    }

    /// `GET /points/{key}`: a points system and the triggers that award its points.
    pub fn system(&self, key: impl Into<String>) -> GetPointsSystem {
        GetPointsSystem {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
        }
    }

    /// `GET /points/{key}/boosts`: the boosts of a points system (finished ones only on
    /// request).
    pub fn boosts(&self, key: impl Into<String>) -> ListPointsBoosts {
        ListPointsBoosts {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
            include_finished: None,
        }
    }

    /// `GET /points/{key}/levels`: the levels of a points system and the points each needs.
    pub fn levels(&self, key: impl Into<String>) -> ListPointsLevels {
        ListPointsLevels {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
        }
    }

    /// `GET /points/{key}/level-summary`: how many users hold each level of a points system.
    pub fn level_summary(&self, key: impl Into<String>) -> PointsLevelSummary {
        PointsLevelSummary {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
        }
    }
}

/// Builder of `GET /points/{key}/summary` (operation `points_summary`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct PointsSummary {
    client: Client,
    options: RequestOptions,
    key: String,
    user_attributes: Vec<(String, String)>,
}

impl PointsSummary {
    /// Counts only users whose attribute `key` has `value`; repeat to require several (sent
    /// as `key:value` pairs joined by commas).
    pub fn user_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.user_attributes.push((key.into(), value.into()));
        self
    }

    fn call(&self) -> Result<Call> {
        let call = Call::from_op(&ops::points_summary::OP, &[&self.key])?;
        Ok(call.query_opt(
            ops::points_summary::USER_ATTRIBUTES,
            attribute_filter(&self.user_attributes)?,
        ))
    }
}
operation!(PointsSummary => PointsSummaryResponse);

/// Builder of `GET /points/{key}` (operation `points_system`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetPointsSystem {
    client: Client,
    options: RequestOptions,
    key: String,
}

impl GetPointsSystem {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::points_system::OP, &[&self.key])
    }
}
operation!(GetPointsSystem => PointsSystemResponse);

/// Builder of `GET /points/{key}/boosts` (operation `points_boosts`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListPointsBoosts {
    client: Client,
    options: RequestOptions,
    key: String,
    include_finished: Option<bool>,
}

impl ListPointsBoosts {
    /// Whether to also return boosts that have finished (Trophy's default: `false`).
    pub fn include_finished(mut self, include: bool) -> Self {
        self.include_finished = Some(include);
        self
    }

    fn call(&self) -> Result<Call> {
        let call = Call::from_op(&ops::points_boosts::OP, &[&self.key])?;
        Ok(call.query_opt(ops::points_boosts::INCLUDE_FINISHED, self.include_finished))
    }
}
operation!(ListPointsBoosts => Vec<PointsBoost>);

/// Builder of `GET /points/{key}/levels` (operation `points_levels`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListPointsLevels {
    client: Client,
    options: RequestOptions,
    key: String,
}

impl ListPointsLevels {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::points_levels::OP, &[&self.key])
    }
}
operation!(ListPointsLevels => Vec<PointsLevel>);

/// Builder of `GET /points/{key}/level-summary` (operation `points_level_summary`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct PointsLevelSummary {
    client: Client,
    options: RequestOptions,
    key: String,
}

impl PointsLevelSummary {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::points_level_summary::OP, &[&self.key])
    }
}
operation!(PointsLevelSummary => PointsLevelSummaryResponse);
