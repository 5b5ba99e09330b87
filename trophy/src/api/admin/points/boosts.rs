//! Boosts of a points system: `/points/{systemId}/boosts`.

use super::{check_conditions, crud, push_condition, AttributeCondition, Check, Scope};
use crate::admin_types::{
    AdminPointsBoost, CreatePointsBoostsResponse, DeletePointsBoostsResponse, PatchPointsBoostsResponse,
    PointsBoostRounding,
};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::request::{finite, non_empty};
use crate::Client;
use chrono::NaiveDate;
use serde::Serialize;

/// Admin API: the boosts of one points system. Get it with
/// [`AdminPoints::boosts`](super::AdminPoints::boosts).
///
/// ```no_run
/// use chrono::NaiveDate;
/// use trophy::admin_types::PointsBoostRounding;
/// use trophy::api::admin::points::{NewPointsBoost, PointsBoostUpdate};
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let boosts = client.admin().points().boosts("0b6f3c1e-5d7a-4f1e-9c2b-8a4d6e0f1a23");
/// let start = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
/// let double_xp = NewPointsBoost::new("Double XP weekend", start, 2.0)
///     .end(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap())
///     .rounding(PointsBoostRounding::Nearest);
/// let created = boosts.create([double_xp]).send().await?;
/// if let Some(boost) = created.created.first() {
///     boosts.update([PointsBoostUpdate::new(boost.id.to_string()).clear_end()]).send().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminPointsBoosts {
    pub(crate) client: Client,
    pub(crate) system_id: String,
}

impl AdminPointsBoosts {
    fn scope(&self) -> Scope {
        Scope::under(&self.system_id)
    }
}

crud! {
    handle: AdminPointsBoosts,
    what: "boosts of the points system",
    ops: [admin_points_boosts_list, admin_points_boosts_create, admin_points_boosts_get, admin_points_boosts_update, admin_points_boosts_delete],
        list: ListPointsBoosts => AdminPointsBoost,
    create: CreatePointsBoosts(NewPointsBoost) => CreatePointsBoostsResponse,
    get: GetPointsBoost => AdminPointsBoost,
    update: UpdatePointsBoosts(PointsBoostUpdate) => PatchPointsBoostsResponse,
    delete: DeletePointsBoosts => DeletePointsBoostsResponse,
}

/// Checks a multiplier against the limits Trophy documents: greater than 0, less than 100, and
/// not 1 (a boost of 1 changes nothing).
fn check_multiplier(field: &str, multiplier: f64) -> Result<()> {
    finite(field, multiplier)?;
    if multiplier <= 0.0 || multiplier >= 100.0 || multiplier == 1.0 {
        return Err(Error::invalid(
            field,
            format!(
                "{multiplier} is outside Trophy's documented limits for boosts: greater than 0, less than 100, \
                 and not 1"
            ),
        ));
    }
    Ok(())
}

/// Checks the end of a boost is not before its start, when both are known.
fn check_dates(at: &str, start: Option<NaiveDate>, end: &Field<NaiveDate>) -> Result<()> {
    match (start, end) {
        (Some(start), Field::Set(end)) if *end < start => Err(Error::invalid(
            format!("{at}.end"),
            format!("{end} is before the start, {start}"),
        )),
        _ => Ok(()),
    }
}

/// A boost to create: points awarded from `start` on are multiplied by `multiplier`.
///
/// A boost applies to everyone, to one user ([`user_id`](Self::user_id)) or to the users whose
/// attributes match ([`user_attribute`](Self::user_attribute)); not both.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewPointsBoost {
    /// The name (at most 255 characters).
    pub name: String,
    /// The first day of the boost.
    pub start: NaiveDate,
    /// The last day of the boost; `null` means no end, Trophy's default.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub end: Field<NaiveDate>,
    /// The factor awarded points are multiplied by: greater than 0, less than 100, not 1.
    pub multiplier: f64,
    /// How fractional boosted points are rounded (Trophy's default: down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounding: Option<PointsBoostRounding>,
    /// The one user the boost applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The user attribute conditions that select the users the boost applies to; `null` means
    /// no restriction.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub user_attributes: Field<Vec<AttributeCondition>>,
}

impl NewPointsBoost {
    /// A boost named `name` multiplying points by `multiplier` from `start` on, with no end.
    pub fn new(name: impl Into<String>, start: NaiveDate, multiplier: impl Into<f64>) -> Self {
        NewPointsBoost {
            name: name.into(),
            start,
            end: Field::Unset,
            multiplier: multiplier.into(),
            rounding: None,
            user_id: None,
            user_attributes: Field::Unset,
        }
    }

    /// Sets the last day of the boost.
    #[must_use]
    pub fn end(mut self, end: NaiveDate) -> Self {
        self.end = Field::Set(end);
        self
    }

    /// Sends `end: null` explicitly: no end (what Trophy assumes anyway).
    #[must_use]
    pub fn clear_end(mut self) -> Self {
        self.end = Field::Null;
        self
    }

    /// Sets how fractional boosted points are rounded.
    #[must_use]
    pub fn rounding(mut self, rounding: PointsBoostRounding) -> Self {
        self.rounding = Some(rounding);
        self
    }

    /// Limits the boost to one user (cannot be combined with attribute conditions).
    #[must_use]
    pub fn user_id(mut self, user_id: impl Into<crate::Id>) -> Self {
        self.user_id = Some(user_id.into().into_string());
        self
    }

    /// Adds a condition: the boost applies to users whose attribute `attribute_id` has `value`
    /// (cannot be combined with a user id).
    #[must_use]
    pub fn user_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.user_attributes, AttributeCondition::new(attribute_id, value));
        self
    }

    /// Sends `userAttributes: null` explicitly: no restriction.
    #[must_use]
    pub fn clear_user_attributes(mut self) -> Self {
        self.user_attributes = Field::Null;
        self
    }
}

impl Check for NewPointsBoost {
    fn check(&self, at: &str) -> Result<()> {
        check_multiplier(&format!("{at}.multiplier"), self.multiplier)?;
        check_dates(at, Some(self.start), &self.end)?;
        check_conditions(&format!("{at}.user_attributes"), &self.user_attributes)?;
        if let Some(user_id) = &self.user_id {
            non_empty(&format!("{at}.user_id"), user_id)?;
            if self.user_attributes.as_set().is_some_and(|c| !c.is_empty()) {
                return Err(Error::invalid(
                    format!("{at}.user_attributes"),
                    "cannot be combined with user_id: a boost applies to one user or to the users matching attributes",
                ));
            }
        }
        Ok(())
    }
}

/// Changes to one boost: each field set, cleared (end, attribute conditions) or left alone.
///
/// ```no_run
/// use trophy::api::admin::points::PointsBoostUpdate;
/// let change = PointsBoostUpdate::new("3f1d2c4b-8e7a-4b6c-9d5e-1a2b3c4d5e6f").multiplier(1.5).clear_user_attributes();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PointsBoostUpdate {
    /// The id of the boost to change.
    pub id: String,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// The new last day; `null` removes the end.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub end: Field<NaiveDate>,
    /// The new multiplier: greater than 0, less than 100, not 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    /// The new rounding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounding: Option<PointsBoostRounding>,
    /// The new user attribute conditions, replacing the old ones; `null` removes them.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub user_attributes: Field<Vec<AttributeCondition>>,
}

impl PointsBoostUpdate {
    /// Changes to the boost `id`; nothing is changed until a setter is called.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        PointsBoostUpdate {
            id: id.into().into_string(),
            name: None,
            start: None,
            end: Field::Unset,
            multiplier: None,
            rounding: None,
            user_attributes: Field::Unset,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the first day.
    #[must_use]
    pub fn start(mut self, start: NaiveDate) -> Self {
        self.start = Some(start);
        self
    }

    /// Sets the last day.
    #[must_use]
    pub fn end(mut self, end: NaiveDate) -> Self {
        self.end = Field::Set(end);
        self
    }

    /// Removes the end (sends `end: null`): the boost runs on indefinitely.
    #[must_use]
    pub fn clear_end(mut self) -> Self {
        self.end = Field::Null;
        self
    }

    /// Sets the multiplier.
    #[must_use]
    pub fn multiplier(mut self, multiplier: impl Into<f64>) -> Self {
        self.multiplier = Some(multiplier.into());
        self
    }

    /// Sets how fractional boosted points are rounded.
    #[must_use]
    pub fn rounding(mut self, rounding: PointsBoostRounding) -> Self {
        self.rounding = Some(rounding);
        self
    }

    /// Adds a condition to the list sent, which replaces the boost's current conditions.
    #[must_use]
    pub fn user_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.user_attributes, AttributeCondition::new(attribute_id, value));
        self
    }

    /// Removes every attribute condition (sends `userAttributes: null`).
    #[must_use]
    pub fn clear_user_attributes(mut self) -> Self {
        self.user_attributes = Field::Null;
        self
    }
}

impl Check for PointsBoostUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)?;
        if let Some(multiplier) = self.multiplier {
            check_multiplier(&format!("{at}.multiplier"), multiplier)?;
        }
        check_dates(at, self.start, &self.end)?;
        check_conditions(&format!("{at}.user_attributes"), &self.user_attributes)
    }
}
