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
    CreatePointsSystems, DeletePointsSystems, GetPointsSystem, ListPointsSystems, NewPointsSystem, PointsSystemUpdate,
    UpdatePointsSystems,
};
pub use triggers::{
    AdminPointsTriggers, CreatePointsTriggers, DeletePointsTriggers, GetPointsTrigger, ListPointsTriggers,
    NewPointsTrigger, PointsTriggerUpdate, UpdatePointsTriggers,
};

use super::{each, paged, strings, with_ids};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::request::{non_empty, segment, Api, Call};
use crate::Client;
use http::Method;
use serde::Serialize;

/// Admin API: Points systems, with their boosts, levels and triggers. Get it with
/// [`Admin::points`](super::Admin::points).
///
/// The systems themselves are managed here; the boosts, levels and triggers of one system
/// through [`boosts`](Self::boosts), [`levels`](Self::levels) and [`triggers`](Self::triggers).
///
/// ```no_run
/// use trophy::api::admin::points::{NewPointsLevel, NewPointsSystem, NewPointsTrigger, PointsSystemUpdate};
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let points = client.admin().points();
/// let xp = NewPointsSystem::new("Experience", "xp")
///     .description("Earned by writing")
///     .levels([NewPointsLevel::new("Novice", "novice", 0), NewPointsLevel::new("Expert", "expert", 1_000)])
///     .triggers([NewPointsTrigger::user_creation(10)]);
/// let created = points.create([xp]).send().await?;
/// for issue in &created.issues {
///     eprintln!("item {:?}: {}", issue.index, issue.message);
/// }
/// if let Some(system) = created.created.first() {
///     let id = system.id.to_string();
///     points.update([PointsSystemUpdate::new(&id).max_points(5_000).clear_badge()]).send().await?;
///     let first_page = points.triggers(&id).list().limit(20).send().await?;
///     println!("{} triggers", first_page.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminPoints {
    pub(crate) client: Client,
}

impl AdminPoints {
    /// The boosts of the points system `system_id`.
    pub fn boosts(&self, system_id: impl Into<String>) -> AdminPointsBoosts {
        AdminPointsBoosts {
            client: self.client.clone(),
            system_id: system_id.into(),
        }
    }

    /// The levels of the points system `system_id`.
    pub fn levels(&self, system_id: impl Into<String>) -> AdminPointsLevels {
        AdminPointsLevels {
            client: self.client.clone(),
            system_id: system_id.into(),
        }
    }

    /// The triggers of the points system `system_id`.
    pub fn triggers(&self, system_id: impl Into<String>) -> AdminPointsTriggers {
        AdminPointsTriggers {
            client: self.client.clone(),
            system_id: system_id.into(),
        }
    }

    fn scope(&self) -> Scope {
        Scope {
            system_id: None,
            collection: "",
        }
    }
}

/// A badge image given by its URL, sent as `{"url": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

    fn check(&self, field: &str) -> Result<()> {
        non_empty(field, &self.url)
    }
}

/// A condition on one user or event attribute: the attribute (by its id) must have this value.
/// Sent as `{"attributeId": ..., "attributeValue": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    pub fn new(attribute_id: impl Into<String>, value: impl Into<String>) -> Self {
        AttributeCondition {
            attribute_id: attribute_id.into(),
            attribute_value: value.into(),
        }
    }
}

/// Appends a condition to a list field, starting the list if it was unset or cleared.
fn push_condition(list: &mut Field<Vec<AttributeCondition>>, condition: AttributeCondition) {
    match list {
        Field::Set(items) => items.push(condition),
        _ => *list = Field::Set(vec![condition]),
    }
}

/// Checks the attribute ids of a condition list named `field` (e.g. `items[0].user_attributes`).
fn check_conditions(field: &str, list: &Field<Vec<AttributeCondition>>) -> Result<()> {
    if let Field::Set(items) = list {
        for (i, c) in items.iter().enumerate() {
            non_empty(&format!("{field}[{i}].attribute_id"), &c.attribute_id)?;
        }
    }
    Ok(())
}

/// Checks an optional count the API wants at least 1 (thresholds, lengths, intervals, limits).
fn at_least_one(field: &str, value: Option<u64>) -> Result<()> {
    match value {
        Some(0) => Err(Error::invalid(field, "must be at least 1")),
        _ => Ok(()),
    }
}

/// The checks a request item runs before it is sent; `at` is where it sits in the request,
/// e.g. `items[3]` or `items[0].levels[2]`.
trait Check {
    fn check(&self, at: &str) -> Result<()>;
}

/// Checks a list of items nested in another item, e.g. the levels of a new points system.
fn check_nested<T: Check>(at: &str, field: &str, items: &[T]) -> Result<()> {
    items
        .iter()
        .enumerate()
        .try_for_each(|(i, item)| item.check(&format!("{at}.{field}[{i}]")))
}

/// Where the operations of one resource live: `/points`, or a collection under one system.
#[derive(Debug, Clone)]
struct Scope {
    system_id: Option<String>,
    collection: &'static str,
}

impl Scope {
    fn under(system_id: &str, collection: &'static str) -> Self {
        Scope {
            system_id: Some(system_id.to_owned()),
            collection,
        }
    }

    /// The encoded path of the collection.
    fn base(&self) -> Result<String> {
        match &self.system_id {
            None => Ok("/points".to_owned()),
            Some(id) => Ok(format!("/points/{}/{}", segment("system_id", id)?, self.collection)),
        }
    }

    fn list(&self, op: &'static str, template: &'static str, limit: Option<u32>, skip: Option<u32>) -> Result<Call> {
        paged(
            Call::new(Api::Admin, op, Method::GET, template, self.base()?),
            limit,
            skip,
        )
    }

    fn bulk<T: Check + Serialize>(
        &self,
        op: &'static str,
        method: Method,
        template: &'static str,
        items: &[T],
    ) -> Result<Call> {
        each("items", items, |field, item| item.check(field))?;
        Call::new(Api::Admin, op, method, template, self.base()?).json(items)
    }

    fn get(&self, op: &'static str, template: &'static str, id: &str) -> Result<Call> {
        let path = format!("{}/{}", self.base()?, segment("id", id)?);
        Ok(Call::new(Api::Admin, op, Method::GET, template, path))
    }

    fn delete(&self, op: &'static str, template: &'static str, ids: &[String]) -> Result<Call> {
        with_ids(Call::new(Api::Admin, op, Method::DELETE, template, self.base()?), ids)
    }
}

/// The five operations of one resource: the handle methods and their builders.
///
/// The handle must have `client: Client` and a private `fn scope(&self) -> Scope`; the request
/// item types must implement `Check`.
macro_rules! crud {
    (
        handle: $Handle:ident,
        what: $what:literal,
        ops: $ops:literal,
        path: $path:literal,
        list: $List:ident => $Item:ty,
        create: $Create:ident($New:ty) => $CreateOut:ty,
        get: $Get:ident => $GetOut:ty,
        update: $Update:ident($Change:ty) => $UpdateOut:ty,
        delete: $Delete:ident => $DeleteOut:ty $(,)?
    ) => {
        impl $Handle {
            #[doc = concat!(
                "`GET ", $path, "`: one page of ", $what, " (Trophy's default page is 10; set `limit` and ",
                "`skip`), or all of them with [`into_stream`](", stringify!($List), "::into_stream)."
            )]
            pub fn list(&self) -> $List {
                $List {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    limit: None,
                    skip: None,
                }
            }

            #[doc = concat!(
                "`POST ", $path, "`: creates 1 to 100 ", $what, ". Trophy answers 201 when at least one ",
                "was created and 200 when none was; `issues` says why items were skipped."
            )]
            ///
            /// Not retried once the request may have reached Trophy (a repeat could create twice).
            pub fn create(&self, items: impl IntoIterator<Item = $New>) -> $Create {
                $Create {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    items: items.into_iter().collect(),
                }
            }

            #[doc = concat!("`GET ", $path, "/{id}`: one of the ", $what, " by its id.")]
            pub fn get(&self, id: impl Into<String>) -> $Get {
                $Get { client: self.client.clone(), options: Default::default(), scope: self.scope(), id: id.into() }
            }

            #[doc = concat!(
                "`PATCH ", $path, "`: changes 1 to 100 ", $what, ", each named by its id; what a change ",
                "leaves unset stays as it is."
            )]
            pub fn update(&self, items: impl IntoIterator<Item = $Change>) -> $Update {
                $Update {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    items: items.into_iter().collect(),
                }
            }

            #[doc = concat!("`DELETE ", $path, "`: deletes 1 to 100 ", $what, " by id (sent as `?ids=a&ids=b`).")]
            pub fn delete<I, S>(&self, ids: I) -> $Delete
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                $Delete {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    ids: $crate::api::admin::points::strings(ids),
                }
            }
        }

        #[doc = concat!("Builder of `GET ", $path, "` (operation `", $ops, "_list`).")]
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $List {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::points::Scope,
            limit: Option<u32>,
            skip: Option<u32>,
        }

        impl $List {
            /// How many items a page holds, from 1 to 100 (Trophy's default is 10).
            pub fn limit(mut self, limit: u32) -> Self {
                self.limit = Some(limit);
                self
            }

            /// How many items to skip before the first one returned.
            pub fn skip(mut self, skip: u32) -> Self {
                self.skip = Some(skip);
                self
            }

            /// Every item from `skip` on, fetched lazily page by page (pages of `limit` items, or
            /// 100 when unset) until a page comes back short. A failed page is yielded as the
            /// last item.
            pub fn into_stream(self) -> impl futures_core::Stream<Item = $crate::Result<$Item>> + Send {
                let page_size = self.limit.unwrap_or($crate::pagination::MAX_PAGE);
                let start = self.skip.unwrap_or(0);
                $crate::pagination::paginate(page_size, start, move |skip, limit| {
                    self.clone().skip(skip).limit(limit).send()
                })
            }

            fn call(&self) -> $crate::Result<$crate::request::Call> {
                self.scope.list(concat!($ops, "_list"), $path, self.limit, self.skip)
            }
        }
        $crate::request::operation!($List => Vec<$Item>);

        #[doc = concat!("Builder of `POST ", $path, "` (operation `", $ops, "_create`).")]
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $Create {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::points::Scope,
            items: Vec<$New>,
        }

        impl $Create {
            fn call(&self) -> $crate::Result<$crate::request::Call> {
                self.scope.bulk(concat!($ops, "_create"), http::Method::POST, $path, &self.items)
            }
        }
        $crate::request::operation!($Create => $CreateOut);

        #[doc = concat!("Builder of `GET ", $path, "/{id}` (operation `", $ops, "_get`).")]
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $Get {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::points::Scope,
            id: String,
        }

        impl $Get {
            fn call(&self) -> $crate::Result<$crate::request::Call> {
                self.scope.get(concat!($ops, "_get"), concat!($path, "/{id}"), &self.id)
            }
        }
        $crate::request::operation!($Get => $GetOut);

        #[doc = concat!("Builder of `PATCH ", $path, "` (operation `", $ops, "_update`).")]
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $Update {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::points::Scope,
            items: Vec<$Change>,
        }

        impl $Update {
            fn call(&self) -> $crate::Result<$crate::request::Call> {
                self.scope.bulk(concat!($ops, "_update"), http::Method::PATCH, $path, &self.items)
            }
        }
        $crate::request::operation!($Update => $UpdateOut);

        #[doc = concat!("Builder of `DELETE ", $path, "` (operation `", $ops, "_delete`).")]
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $Delete {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::points::Scope,
            ids: Vec<String>,
        }

        impl $Delete {
            fn call(&self) -> $crate::Result<$crate::request::Call> {
                self.scope.delete(concat!($ops, "_delete"), $path, &self.ids)
            }
        }
        $crate::request::operation!($Delete => $DeleteOut);
    };
}
use crud;
