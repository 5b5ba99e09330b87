//! Levels of a points system: `/points/{systemId}/levels`.

use super::{crud, not_negative, BadgeUrl, Check, Scope};
use crate::admin_types::{
    AdminPointsLevel, CreatePointsLevelsResponse, DeletePointsLevelsResponse, PatchPointsLevelsResponse,
};
use crate::error::Result;
use crate::field::Field;
use crate::request::{key_charset, non_empty};
use crate::Client;
use serde::Serialize;

/// Admin API: the levels of one points system. Get it with
/// [`AdminPoints::levels`](super::AdminPoints::levels).
///
/// ```no_run
/// use trophy::api::admin::points::{NewPointsLevel, PointsLevelUpdate};
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let levels = client.admin().points().levels("0b6f3c1e-5d7a-4f1e-9c2b-8a4d6e0f1a23");
/// let created = levels
///     .create([
///         NewPointsLevel::new("Bronze", "bronze", 100).badge_url("https://cdn.example.com/bronze.png"),
///         NewPointsLevel::new("Silver", "silver", 500).description("Halfway there"),
///     ])
///     .send()
///     .await?;
/// if let Some(bronze) = created.created.first() {
///     levels.update([PointsLevelUpdate::new(bronze.id.to_string()).points(150).clear_badge()]).send().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminPointsLevels {
    pub(crate) client: Client,
    pub(crate) system_id: String,
}

impl AdminPointsLevels {
    fn scope(&self) -> Scope {
        Scope::under(&self.system_id)
    }
}

crud! {
    handle: AdminPointsLevels,
    what: "levels of the points system",
    ops: [admin_points_levels_list, admin_points_levels_create, admin_points_levels_get, admin_points_levels_update, admin_points_levels_delete],
        list: ListPointsLevels => AdminPointsLevel,
    create: CreatePointsLevels(NewPointsLevel) => CreatePointsLevelsResponse,
    get: GetPointsLevel => AdminPointsLevel,
    update: UpdatePointsLevels(PointsLevelUpdate) => PatchPointsLevelsResponse,
    delete: DeletePointsLevels => DeletePointsLevelsResponse,
}

/// A level to create: reached at `points` points.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewPointsLevel {
    /// The name.
    pub name: String,
    /// The key used to refer to the level in the API: ASCII letters, digits, `-` and `_`.
    pub key: String,
    /// The points needed to reach the level.
    pub points: i64,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The badge image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge: Option<BadgeUrl>,
}

impl NewPointsLevel {
    /// A level named `name`, with the key `key`, reached at `points` points.
    pub fn new(name: impl Into<String>, key: impl Into<String>, points: i64) -> Self {
        NewPointsLevel {
            name: name.into(),
            key: key.into(),
            points,
            description: None,
            badge: None,
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the badge image (sent as `badge: {url}`).
    #[must_use]
    pub fn badge_url(mut self, url: impl Into<String>) -> Self {
        self.badge = Some(BadgeUrl::new(url));
        self
    }
}

impl Check for NewPointsLevel {
    fn check(&self, at: &str) -> Result<()> {
        key_charset(&format!("{at}.key"), &self.key)?;
        not_negative(&format!("{at}.points"), Some(self.points))?;
        match &self.badge {
            Some(badge) => badge.check(&format!("{at}.badge_url")),
            None => Ok(()),
        }
    }
}

/// Changes to one level: each field set, cleared (badge) or left alone.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PointsLevelUpdate {
    /// The id of the level to change.
    pub id: String,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new points threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
    /// The new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The new badge image; `null` removes it.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub badge: Field<BadgeUrl>,
}

impl PointsLevelUpdate {
    /// Changes to the level `id`; nothing is changed until a setter is called.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        PointsLevelUpdate {
            id: id.into().into_string(),
            name: None,
            points: None,
            description: None,
            badge: Field::Unset,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the points needed to reach the level.
    #[must_use]
    pub fn points(mut self, points: i64) -> Self {
        self.points = Some(points);
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the badge image (sent as `badge: {url}`).
    #[must_use]
    pub fn badge_url(mut self, url: impl Into<String>) -> Self {
        self.badge = Field::Set(BadgeUrl::new(url));
        self
    }

    /// Removes the badge (sends `badge: null`).
    #[must_use]
    pub fn clear_badge(mut self) -> Self {
        self.badge = Field::Null;
        self
    }
}

impl Check for PointsLevelUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)?;
        not_negative(&format!("{at}.points"), self.points)?;
        match &self.badge {
            Field::Set(badge) => badge.check(&format!("{at}.badge_url")),
            _ => Ok(()),
        }
    }
}
