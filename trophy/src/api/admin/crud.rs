//! The five operations every bulk Admin resource has (list, create, get, update, delete),
//! written once: [`Scope`] says where a resource's collection lives, [`Check`] is what its
//! request items check before they are sent, and [`crud!`] generates the handle methods and
//! their builders.

use super::{each, paged, with_ids};
use crate::request::{segment, Api, Call};
use crate::Result;
use http::Method;
use serde::Serialize;

/// The checks a request item runs before it is sent; `at` is where it sits in the request,
/// e.g. `items[3]` or `items[0].levels[2]`.
pub(super) trait Check {
    fn check(&self, at: &str) -> Result<()>;
}

/// Where the operations of one resource live: a fixed collection such as `/metrics`, or a
/// collection under one item of another, such as `/points/{systemId}/boosts`.
#[derive(Debug, Clone)]
pub(super) enum Scope {
    /// A collection at a fixed path, e.g. `/metrics`.
    Fixed(&'static str),
    /// The collection `collection` under the item `id` of `parent`: `{parent}/{id}/{collection}`.
    /// `field` names the id in validation errors (e.g. `system_id`).
    Under {
        parent: &'static str,
        field: &'static str,
        id: String,
        collection: &'static str,
    },
}

impl Scope {
    /// The collection at the fixed path `base`.
    pub(super) fn fixed(base: &'static str) -> Self {
        Scope::Fixed(base)
    }

    /// The collection `collection` under the item `id` of `parent`, whose id is called `field`
    /// in validation errors.
    pub(super) fn under(parent: &'static str, field: &'static str, id: &str, collection: &'static str) -> Self {
        Scope::Under {
            parent,
            field,
            id: id.to_owned(),
            collection,
        }
    }

    /// The encoded path of the collection.
    fn base(&self) -> Result<String> {
        match self {
            Scope::Fixed(base) => Ok((*base).to_owned()),
            Scope::Under {
                parent,
                field,
                id,
                collection,
            } => Ok(format!("{parent}/{}/{collection}", segment(field, id)?)),
        }
    }

    pub(super) fn list(
        &self,
        op: &'static str,
        template: &'static str,
        limit: Option<u32>,
        skip: Option<u32>,
    ) -> Result<Call> {
        paged(
            Call::new(Api::Admin, op, Method::GET, template, self.base()?),
            limit,
            skip,
        )
    }

    pub(super) fn bulk<T: Check + Serialize>(
        &self,
        op: &'static str,
        method: Method,
        template: &'static str,
        items: &[T],
    ) -> Result<Call> {
        each("items", items, |field, item| item.check(field))?;
        Call::new(Api::Admin, op, method, template, self.base()?).json(items)
    }

    pub(super) fn get(&self, op: &'static str, template: &'static str, id: &str) -> Result<Call> {
        let path = format!("{}/{}", self.base()?, segment("id", id)?);
        Ok(Call::new(Api::Admin, op, Method::GET, template, path))
    }

    pub(super) fn delete(&self, op: &'static str, template: &'static str, ids: &[String]) -> Result<Call> {
        with_ids(Call::new(Api::Admin, op, Method::DELETE, template, self.base()?), ids)
    }
}

/// The five operations of one resource: the handle methods and their builders.
///
/// The handle must have `client: Client` and a private `fn scope(&self) -> Scope`; the request
/// item types must implement [`Check`]. Doc comments written before `list:`, `create:` and so on
/// are added to the docs of that handle method.
macro_rules! crud {
    (
        handle: $Handle:ident,
        what: $what:literal,
        ops: $ops:literal,
        path: $path:literal,
        $(#[$list_doc:meta])*
        list: $List:ident => $Item:ty,
        $(#[$create_doc:meta])*
        create: $Create:ident($New:ty) => $CreateOut:ty,
        $(#[$get_doc:meta])*
        get: $Get:ident => $GetOut:ty,
        $(#[$update_doc:meta])*
        update: $Update:ident($Change:ty) => $UpdateOut:ty,
        $(#[$delete_doc:meta])*
        delete: $Delete:ident => $DeleteOut:ty $(,)?
    ) => {
        impl $Handle {
            #[doc = concat!(
                "`GET ", $path, "`: one page of ", $what, " (Trophy's default page is 10; set `limit` and ",
                "`skip`), or all of them with [`into_stream`](", stringify!($List), "::into_stream)."
            )]
            $(#[$list_doc])*
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
            $(#[$create_doc])*
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
            $(#[$get_doc])*
            pub fn get(&self, id: impl Into<String>) -> $Get {
                $Get { client: self.client.clone(), options: Default::default(), scope: self.scope(), id: id.into() }
            }

            #[doc = concat!(
                "`PATCH ", $path, "`: changes 1 to 100 ", $what, ", each named by its id; what a change ",
                "leaves unset stays as it is."
            )]
            $(#[$update_doc])*
            pub fn update(&self, items: impl IntoIterator<Item = $Change>) -> $Update {
                $Update {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    items: items.into_iter().collect(),
                }
            }

            #[doc = concat!("`DELETE ", $path, "`: deletes 1 to 100 ", $what, " by id (sent as `?ids=a&ids=b`).")]
            $(#[$delete_doc])*
            pub fn delete<I>(&self, ids: I) -> $Delete
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                $Delete {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    ids: $crate::api::admin::strings(ids),
                }
            }
        }

        #[doc = concat!("Builder of `GET ", $path, "` (operation `", $ops, "_list`).")]
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $List {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::crud::Scope,
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
        ///
        /// Trophy answers 201 when at least one item was created and 200 when none was; both are
        /// successes, and the response's `issues` say what was skipped and why. The status is
        /// available through `send_with_response`.
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $Create {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::crud::Scope,
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
            scope: $crate::api::admin::crud::Scope,
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
            scope: $crate::api::admin::crud::Scope,
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
            scope: $crate::api::admin::crud::Scope,
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
pub(super) use crud;
