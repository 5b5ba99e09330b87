//! Admin API: Points systems, with their boosts, levels and triggers.
//!
//! Every resource has the same five operations: `list` (one page, or every page with
//! `into_stream`), `create` (up to 100 items), `get` (one by id), `update` (up to 100 changes,
//! each naming the id it changes) and `delete` (up to 100 ids). Bulk operations answer with
//! what they did plus per-item `issues`: an item with an error-severity issue was skipped while
//! the others went through.

mod boosts;
mod levels;
mod systems;
mod triggers;

pub use boosts::{
    AdminPointsBoosts, CreatePointsBoosts, DeletePointsBoosts, GetPointsBoost, ListPointsBoosts, NewPointsBoost,
    PointsBoostUpdate, UpdatePointsBoosts,
};
pub use levels::{
    AdminPointsLevels, CreatePointsLevels, DeletePointsLevels, GetPointsLevel, ListPointsLevels, NewPointsLevel,
    PointsLevelUpdate, UpdatePointsLevels,
};
pub use systems::{
    AdminPointsSystems, CreatePointsSystems, DeletePointsSystems, GetPointsSystem, ListPointsSystems, NewPointsSystem,
    PointsSystemUpdate, UpdatePointsSystems,
};
pub use triggers::{
    AdminPointsTriggers, CreatePointsTriggers, DeletePointsTriggers, GetPointsTrigger, ListPointsTriggers,
    NewPointsTrigger, PointsTriggerUpdate, UpdatePointsTriggers,
};

use super::crud::{crud, Check, Scope};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::request::non_empty;
use crate::Client;
use serde::Serialize;

/// Admin API: Points systems, with their boosts, levels and triggers. Get it with
/// [`Admin::points`](super::Admin::points).
///
/// A parent only, as in Trophy's own SDKs: the systems are managed through
/// [`systems`](Self::systems), the boosts, levels and triggers of one system through
/// [`boosts`](Self::boosts), [`levels`](Self::levels) and [`triggers`](Self::triggers).
///
/// ```no_run
/// use trophy::api::admin::points::{NewPointsLevel, NewPointsSystem, NewPointsTrigger, PointsSystemUpdate};
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let points = client.admin().points();
/// let xp = NewPointsSystem::new("Experience", "xp")
///     .description("Earned by writing")
///     .levels([NewPointsLevel::new("Novice", "novice", 0), NewPointsLevel::new("Expert", "expert", 1_000)])
///     .triggers([NewPointsTrigger::user_creation(10)]);
/// let created = points.systems().create([xp]).send().await?;
/// for issue in &created.issues {
///     eprintln!("item {:?}: {}", issue.index, issue.message);
/// }
/// if let Some(system) = created.created.first() {
///     points.systems().update([PointsSystemUpdate::new(system.id).max_points(5_000).clear_badge()]).send().await?;
///     let first_page = points.triggers(system.id).list().limit(20).send().await?;
///     println!("{} triggers", first_page.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminPoints {
    pub(crate) client: Client,
}

impl AdminPoints {
    /// The points systems themselves.
    pub fn systems(&self) -> AdminPointsSystems {
        AdminPointsSystems {
            client: self.client.clone(),
        }
    }

    /// The boosts of the points system `system_id`.
    pub fn boosts(&self, system_id: impl Into<crate::Id>) -> AdminPointsBoosts {
        AdminPointsBoosts {
            client: self.client.clone(),
            system_id: system_id.into().into_string(),
        }
    }

    /// The levels of the points system `system_id`.
    pub fn levels(&self, system_id: impl Into<crate::Id>) -> AdminPointsLevels {
        AdminPointsLevels {
            client: self.client.clone(),
            system_id: system_id.into().into_string(),
        }
    }

    /// The triggers of the points system `system_id`.
    pub fn triggers(&self, system_id: impl Into<crate::Id>) -> AdminPointsTriggers {
        AdminPointsTriggers {
            client: self.client.clone(),
            system_id: system_id.into().into_string(),
        }
    }
}

/// A badge image given by its URL, sent as `{"url": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BadgeUrl {
    /// The URL of the image.
    pub url: String,
}

impl BadgeUrl {
    /// A badge at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        BadgeUrl { url: url.into() }
    }

    pub(super) fn check(&self, field: &str) -> Result<()> {
        non_empty(field, &self.url)
    }
}

/// A condition on one user or event attribute: the attribute (by its id) must have this value.
/// Sent as `{"attributeId": ..., "attributeValue": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttributeCondition {
    /// The id of the attribute (not its key).
    pub attribute_id: String,
    /// The value the attribute must have.
    pub attribute_value: String,
}

impl AttributeCondition {
    /// The attribute `attribute_id` must equal `value`.
    pub fn new(attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        AttributeCondition {
            attribute_id: attribute_id.into().into_string(),
            attribute_value: value.into(),
        }
    }
}

/// Appends a condition to a list field, starting the list if it was unset or cleared.
pub(super) fn push_condition(list: &mut Field<Vec<AttributeCondition>>, condition: AttributeCondition) {
    match list {
        Field::Set(items) => items.push(condition),
        _ => *list = Field::Set(vec![condition]),
    }
}

/// Checks the attribute ids of a condition list named `field` (e.g. `items[0].user_attributes`).
pub(super) fn check_conditions(field: &str, list: &Field<Vec<AttributeCondition>>) -> Result<()> {
    if let Field::Set(items) = list {
        for (i, c) in items.iter().enumerate() {
            non_empty(&format!("{field}[{i}].attribute_id"), &c.attribute_id)?;
        }
    }
    Ok(())
}

/// Checks an optional count the API wants at least 1 (thresholds, lengths, intervals, limits).
fn at_least_one<T: Copy + Into<i128>>(field: &str, value: Option<T>) -> Result<()> {
    match value {
        Some(v) if v.into() < 1 => Err(Error::invalid(field, "must be at least 1")),
        _ => Ok(()),
    }
}

/// Refuses a negative value (a level's points).
fn not_negative(field: &str, value: Option<i64>) -> Result<()> {
    match value {
        Some(v) if v < 0 => Err(Error::invalid(field, "must be 0 or more")),
        _ => Ok(()),
    }
}

/// Checks a list of items nested in another item, e.g. the levels of a new points system.
fn check_nested<T: Check>(at: &str, field: &str, items: &[T]) -> Result<()> {
    items
        .iter()
        .enumerate()
        .try_for_each(|(i, item)| item.check(&format!("{at}.{field}[{i}]")))
}
