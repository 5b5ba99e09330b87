//! Points systems: `/points`.

use super::{
    at_least_one, check_nested, crud, BadgeUrl, Check, NewPointsBoost, NewPointsLevel, NewPointsTrigger, Scope,
};
use crate::admin_types::{
    AdminPointsSystem, CreatePointsSystemsResponse, DeletePointsSystemsResponse, UpdatePointsSystemsResponse,
};
use crate::error::Result;
use crate::field::Field;
use crate::request::{key_charset, non_empty};
use serde::Serialize;

/// The points systems: get it with [`AdminPoints::systems`](super::AdminPoints::systems).
#[derive(Debug, Clone)]
pub struct AdminPointsSystems {
    pub(crate) client: crate::Client,
}

impl AdminPointsSystems {
    fn scope(&self) -> Scope {
        Scope::top()
    }
}

crud! {
    handle: AdminPointsSystems,
    what: "points systems",
    ops: [admin_points_systems_list, admin_points_systems_create, admin_points_systems_get, admin_points_systems_update, admin_points_systems_delete],
        list: ListPointsSystems => AdminPointsSystem,
    create: CreatePointsSystems(NewPointsSystem) => CreatePointsSystemsResponse,
    get: GetPointsSystem => AdminPointsSystem,
    update: UpdatePointsSystems(PointsSystemUpdate) => UpdatePointsSystemsResponse,
    delete: DeletePointsSystems => DeletePointsSystemsResponse,
    ensure: EnsurePointsSystem,
}

/// A points system to create, optionally with its levels, boosts and triggers.
///
/// ```no_run
/// use trophy::api::admin::points::{NewPointsLevel, NewPointsSystem, NewPointsTrigger};
/// let xp = NewPointsSystem::new("Experience", "xp")
///     .badge_url("https://cdn.example.com/xp.png")
///     .max_points(10_000)
///     .levels([NewPointsLevel::new("Novice", "novice", 0)])
///     .triggers([NewPointsTrigger::streak(7, 50)]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewPointsSystem {
    /// The name.
    pub name: String,
    /// The key used to refer to the system in the API: ASCII letters, digits, `-` and `_`.
    pub key: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The badge image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge: Option<BadgeUrl>,
    /// The most points a user can hold (at least 1); `null` means no limit, Trophy's default.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub max_points: Field<i64>,
    /// Levels to create in the new system.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<NewPointsLevel>,
    /// Boosts to create in the new system.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boosts: Vec<NewPointsBoost>,
    /// Triggers to create in the new system.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<NewPointsTrigger>,
}

impl NewPointsSystem {
    /// A system named `name` with the key `key`, and nothing else set.
    pub fn new(name: impl Into<String>, key: impl Into<String>) -> Self {
        NewPointsSystem {
            name: name.into(),
            key: key.into(),
            description: None,
            badge: None,
            max_points: Field::Unset,
            levels: Vec::new(),
            boosts: Vec::new(),
            triggers: Vec::new(),
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

    /// Sets the most points a user can hold (at least 1).
    #[must_use]
    pub fn max_points(mut self, max: i64) -> Self {
        self.max_points = Field::Set(max);
        self
    }

    /// Sends `maxPoints: null` explicitly: no limit (what Trophy assumes anyway).
    #[must_use]
    pub fn clear_max_points(mut self) -> Self {
        self.max_points = Field::Null;
        self
    }

    /// Adds levels to create with the system.
    #[must_use]
    pub fn levels(mut self, levels: impl IntoIterator<Item = NewPointsLevel>) -> Self {
        self.levels.extend(levels);
        self
    }

    /// Adds boosts to create with the system.
    #[must_use]
    pub fn boosts(mut self, boosts: impl IntoIterator<Item = NewPointsBoost>) -> Self {
        self.boosts.extend(boosts);
        self
    }

    /// Adds triggers to create with the system. Each starts inactive unless created with
    /// `.status(AdminPointsTriggerStatus::Active)`.
    #[must_use]
    pub fn triggers(mut self, triggers: impl IntoIterator<Item = NewPointsTrigger>) -> Self {
        self.triggers.extend(triggers);
        self
    }
}

impl Check for NewPointsSystem {
    fn check(&self, at: &str) -> Result<()> {
        key_charset(&format!("{at}.key"), &self.key)?;
        if let Some(badge) = &self.badge {
            badge.check(&format!("{at}.badge_url"))?;
        }
        at_least_one(&format!("{at}.max_points"), self.max_points.as_set().copied())?;
        check_nested(at, "levels", &self.levels)?;
        check_nested(at, "boosts", &self.boosts)?;
        check_nested(at, "triggers", &self.triggers)
    }
}

/// Changes to one points system: each field set, cleared (badge, limit) or left alone.
///
/// ```no_run
/// use trophy::api::admin::points::PointsSystemUpdate;
/// let change = PointsSystemUpdate::new("0b6f3c1e-5d7a-4f1e-9c2b-8a4d6e0f1a23").name("XP").clear_max_points();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PointsSystemUpdate {
    /// The id of the system to change.
    pub id: String,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The new badge image; `null` removes it.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub badge: Field<BadgeUrl>,
    /// The new points limit (at least 1); `null` removes the limit.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub max_points: Field<i64>,
}

impl PointsSystemUpdate {
    /// Changes to the system `id`; nothing is changed until a setter is called.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        PointsSystemUpdate {
            id: id.into().into_string(),
            name: None,
            description: None,
            badge: Field::Unset,
            max_points: Field::Unset,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
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

    /// Sets the most points a user can hold (at least 1).
    #[must_use]
    pub fn max_points(mut self, max: i64) -> Self {
        self.max_points = Field::Set(max);
        self
    }

    /// Removes the points limit (sends `maxPoints: null`).
    #[must_use]
    pub fn clear_max_points(mut self) -> Self {
        self.max_points = Field::Null;
        self
    }
}

impl Check for PointsSystemUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)?;
        if let Field::Set(badge) = &self.badge {
            badge.check(&format!("{at}.badge_url"))?;
        }
        at_least_one(&format!("{at}.max_points"), self.max_points.as_set().copied())
    }
}
