//! The Admin API: configuration of achievements, metrics, attributes, points, leaderboards,
//! streaks, settings, tenants and application API keys, plus environments and batch events. Get it with [`Client::admin`](crate::Client::admin).
//!
//! Every Admin call needs an admin API key: an application key (prefix `app_`) is refused before
//! anything is sent.

pub mod achievements;
pub mod application_api_keys;
pub mod attributes;
mod crud;
pub mod environments;
pub mod events;
pub mod leaderboards;
pub mod metrics;
pub mod points;
pub mod settings;
pub mod streaks;
pub mod tenants;

use crate::pagination::MAX_PAGE;
use crate::request::{list_len, non_empty, Call};
use crate::{Client, Error, Result};
use serde::Serialize;
use trophy_generated::QueryParam;

/// What an `ensure` (get or create by key) found: the item, and whether this call created it.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::api::admin::metrics::NewMetric;
///
/// let lessons = client.admin().metrics().ensure(NewMetric::new("Lessons", "lessons")).await?;
/// println!("metric {} (created now: {})", lessons.item.id, lessons.created);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Ensured<T> {
    /// The item, as Trophy holds it.
    pub item: T,
    /// `true` when this call created it, `false` when it existed.
    pub created: bool,
}

impl<T> Ensured<T> {
    /// Takes the item.
    pub fn into_item(self) -> T {
        self.item
    }
}

/// The Admin API's resources.
#[derive(Debug, Clone)]
pub struct Admin {
    pub(crate) client: Client,
}

impl Admin {
    /// Achievements: create, list, get, update, delete.
    pub fn achievements(&self) -> achievements::AdminAchievements {
        achievements::AdminAchievements {
            client: self.client.clone(),
        }
    }

    /// Metrics: create, list, get, update, delete.
    pub fn metrics(&self) -> metrics::AdminMetrics {
        metrics::AdminMetrics {
            client: self.client.clone(),
        }
    }

    /// User and event attributes.
    pub fn attributes(&self) -> attributes::AdminAttributes {
        attributes::AdminAttributes {
            client: self.client.clone(),
        }
    }

    /// Points systems, and their boosts, levels and triggers.
    pub fn points(&self) -> points::AdminPoints {
        points::AdminPoints {
            client: self.client.clone(),
        }
    }

    /// Leaderboards.
    pub fn leaderboards(&self) -> leaderboards::AdminLeaderboards {
        leaderboards::AdminLeaderboards {
            client: self.client.clone(),
        }
    }

    /// Streak freezes, pauses, restores, resets and the streak settings.
    pub fn streaks(&self) -> streaks::AdminStreaks {
        streaks::AdminStreaks {
            client: self.client.clone(),
        }
    }

    /// Application API keys (keys that act for one user).
    pub fn application_api_keys(&self) -> application_api_keys::AdminApplicationApiKeys {
        application_api_keys::AdminApplicationApiKeys {
            client: self.client.clone(),
        }
    }

    /// The organisation settings: branding, control group, summary period.
    pub fn settings(&self) -> settings::Settings {
        settings::Settings {
            client: self.client.clone(),
        }
    }

    /// The environments of the organisation.
    pub fn environments(&self) -> environments::AdminEnvironments {
        environments::AdminEnvironments {
            client: self.client.clone(),
        }
    }

    /// Tenants of a multi-tenant organisation.
    pub fn tenants(&self) -> tenants::AdminTenants {
        tenants::AdminTenants {
            client: self.client.clone(),
        }
    }
}

// Helpers the bulk Admin resources share: paging, `ids` lists, item checks.

/// The most items of a bulk create, update or delete, and of an `ids` list.
pub(crate) const MAX_ITEMS: usize = 100;

/// Adds `limit` (checked: 1 to 100) and `skip` to a list call, each only when set.
pub(crate) fn paged(
    call: Call,
    [limit_param, skip_param]: [QueryParam; 2],
    limit: Option<u32>,
    skip: Option<u32>,
) -> Result<Call> {
    if let Some(limit) = limit {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be from 1 to {MAX_PAGE}, not {limit}"),
            ));
        }
    }
    Ok(call.query_opt(limit_param, limit).query_opt(skip_param, skip))
}

/// Checks a list of 1 to 100 items, then each item with `check`, which gets the item's field
/// name (`items[3]`).
pub(crate) fn each<T>(field: &str, items: &[T], check: impl Fn(&str, &T) -> Result<()>) -> Result<()> {
    list_len(field, items.len(), MAX_ITEMS)?;
    items
        .iter()
        .enumerate()
        .try_for_each(|(i, item)| check(&format!("{field}[{i}]"), item))
}

/// Checks 1 to 100 non-empty ids.
pub(crate) fn check_ids(field: &str, ids: &[String]) -> Result<()> {
    each(field, ids, |name, id| non_empty(name, id))
}

/// Adds `ids=a&ids=b...` (repeated keys) to a bulk delete, after checking 1 to 100 non-empty ids.
pub(crate) fn with_ids(call: Call, param: QueryParam, ids: &[String]) -> Result<Call> {
    check_ids("ids", ids)?;
    Ok(call.query_list(param, ids))
}

/// `{"userId": ..}`: an item of the bodies that list users (application keys, streak freezes).
#[derive(Serialize)]
pub(crate) struct UserIdItem<'a> {
    #[serde(rename = "userId")]
    user_id: &'a str,
}

/// One `{"userId": ..}` item per id, in order.
pub(crate) fn user_id_items(ids: &[String]) -> Vec<UserIdItem<'_>> {
    ids.iter().map(|id| UserIdItem { user_id: id }).collect()
}

/// Collects string-like arguments.
pub(crate) fn strings<I>(values: I) -> Vec<String>
where
    I: IntoIterator,
    I::Item: Into<crate::Id>,
{
    values.into_iter().map(|v| v.into().into_string()).collect()
}
