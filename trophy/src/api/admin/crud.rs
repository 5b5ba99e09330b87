//! The five operations every bulk Admin resource has (list, create, get, update, delete),
//! written once: [`Scope`] says where a resource's collection lives, [`Check`] is what its
//! request items check before they are sent, and [`crud!`] generates the handle methods and
//! their builders.

use super::{each, paged, with_ids};
use crate::request::Call;
use crate::Result;
use serde::Serialize;
use trophy_generated::{Operation, QueryParam};

/// The checks a request item runs before it is sent; `at` is where it sits in the request,
/// e.g. `items[3]` or `items[0].levels[2]`.
pub(super) trait Check {
    fn check(&self, at: &str) -> Result<()>;
}

/// Where the operations of one resource live: a top-level collection such as `/metrics`, or
/// a collection under one item of another, such as the boosts of one points system. The
/// operation descriptors hold the paths; the scope holds the parent's id, the first value of
/// their templates.
#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    parent: Option<String>,
}

impl Scope {
    /// A top-level collection.
    pub(super) fn top() -> Self {
        Scope { parent: None }
    }

    /// The collection under the item `parent_id` of another resource.
    pub(super) fn under(parent_id: &str) -> Self {
        Scope {
            parent: Some(parent_id.to_owned()),
        }
    }

    fn call(&self, op: &'static Operation, id: Option<&str>) -> Result<Call> {
        match (self.parent.as_deref(), id) {
            (None, None) => Call::from_op(op, &[]),
            (Some(p), None) | (None, Some(p)) => Call::from_op(op, &[p]),
            (Some(p), Some(id)) => Call::from_op(op, &[p, id]),
        }
    }

    pub(super) fn list(&self, op: Ops, limit: Option<u32>, skip: Option<u32>) -> Result<Call> {
        let [limit_param, skip_param] = op.page;
        paged(self.call(op.op, None)?, [limit_param, skip_param], limit, skip)
    }

    pub(super) fn bulk<T: Check + Serialize>(&self, op: &'static Operation, items: &[T]) -> Result<Call> {
        each("items", items, |field, item| item.check(field))?;
        self.call(op, None)?.json(items)
    }

    pub(super) fn get(&self, op: &'static Operation, id: &str) -> Result<Call> {
        self.call(op, Some(id))
    }

    pub(super) fn delete(&self, op: &'static Operation, ids_param: QueryParam, ids: &[String]) -> Result<Call> {
        with_ids(self.call(op, None)?, ids_param, ids)
    }
}

/// A list operation with its paging parameters (`limit`, `skip`).
#[derive(Clone, Copy)]
pub(super) struct Ops {
    pub(super) op: &'static Operation,
    pub(super) page: [QueryParam; 2],
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
        ops: [$list_op:ident, $create_op:ident, $get_op:ident, $update_op:ident, $delete_op:ident],
        $(#[$list_doc:meta])*
        list: $List:ident => $Item:ty,
        $(#[$create_doc:meta])*
        create: $Create:ident($New:ty) => $CreateOut:ty,
        $(#[$get_doc:meta])*
        get: $Get:ident => $GetOut:ty,
        $(#[$update_doc:meta])*
        update: $Update:ident($Change:ty) => $UpdateOut:ty,
        $(#[$delete_doc:meta])*
        delete: $Delete:ident => $DeleteOut:ty
        $(, ensure: $Ensure:ident)? $(,)?
    ) => {
        impl $Handle {
            #[doc = concat!(
                "One page of ", $what, " (Trophy's default page is 10; set `limit` and ",
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
                "Creates 1 to 100 ", $what, ". Trophy answers 201 when at least one ",
                "was created and 200 when none was; `issues` says why items were skipped."
            )]
            $(#[$create_doc])*
            ///
            /// Not retried once the request may have reached Trophy (a repeat could create twice).
            ///
            /// Items Trophy skips come back in the response's `issues`; with
            #[doc = concat!("[`strict`](", stringify!($Create), "::strict) they are an error.")]
            pub fn create(&self, items: impl IntoIterator<Item = $New>) -> $Create {
                $Create {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    items: items.into_iter().collect(),
                    strict: false,
                }
            }

            #[doc = concat!("One of the ", $what, " by its id.")]
            $(#[$get_doc])*
            pub fn get(&self, id: impl Into<crate::Id>) -> $Get {
                $Get { client: self.client.clone(), options: Default::default(), scope: self.scope(), id: id.into().into_string() }
            }

            #[doc = concat!(
                "Changes 1 to 100 ", $what, ", each named by its id; what a change ",
                "leaves unset stays as it is."
            )]
            $(#[$update_doc])*
            pub fn update(&self, items: impl IntoIterator<Item = $Change>) -> $Update {
                $Update {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    items: items.into_iter().collect(),
                    strict: false,
                }
            }

            #[doc = concat!("Deletes 1 to 100 ", $what, " by id (sent as `?ids=a&ids=b`).")]
            $(#[$delete_doc])*
            pub fn delete<I>(&self, ids: I) -> $Delete
            where
                I: IntoIterator,
                I::Item: Into<crate::Id>,
            {
                $Delete {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    ids: $crate::api::admin::strings(ids),
                }
            }
        }

        #[doc = concat!("Builder of the operation `", stringify!($list_op), "`.")]
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
                use trophy_generated::operations::$list_op as op;
                let ops = $crate::api::admin::crud::Ops { op: &op::OP, page: [op::LIMIT, op::SKIP] };
                self.scope.list(ops, self.limit, self.skip)
            }
        }
        $crate::request::operation!($List => Vec<$Item>);

        #[doc = concat!("Builder of the operation `", stringify!($create_op), "`.")]
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
            strict: bool,
        }

        impl $Create {
            fn call(&self) -> $crate::Result<$crate::request::Call> {
                self.scope.bulk(&trophy_generated::operations::$create_op::OP, &self.items)
            }
        }
        $crate::request::operation!($Create => $CreateOut; strict);

        #[doc = concat!("Builder of the operation `", stringify!($get_op), "`.")]
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
                self.scope.get(&trophy_generated::operations::$get_op::OP, &self.id)
            }
        }
        $crate::request::operation!($Get => $GetOut);

        #[doc = concat!("Builder of the operation `", stringify!($update_op), "`.")]
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $Update {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::crud::Scope,
            items: Vec<$Change>,
            strict: bool,
        }

        impl $Update {
            fn call(&self) -> $crate::Result<$crate::request::Call> {
                self.scope.bulk(&trophy_generated::operations::$update_op::OP, &self.items)
            }
        }
        $crate::request::operation!($Update => $UpdateOut; strict);

        #[doc = concat!("Builder of the operation `", stringify!($delete_op), "`.")]
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
                use trophy_generated::operations::$delete_op as op;
                self.scope.delete(&op::OP, op::IDS, &self.ids)
            }
        }
        $crate::request::operation!($Delete => $DeleteOut);

        $(
        impl $Handle {
            #[doc = concat!(
                "Gets or creates by key: the one of the ", $what, " whose key is `item`'s, ",
                "created from `item` when there is none. For set-up code that runs on every start."
            )]
            ///
            /// An existing item is returned as it is, not changed to match `item`. Creating is
            /// strict: an item Trophy skips is an [`Error::Issues`](crate::Error::Issues) saying
            /// why. Two processes ensuring the same key at once both end with the one item.
            /// Costs one list request per 100 items before the match, plus a create and a get
            /// when there is none.
            pub fn ensure(&self, item: $New) -> $Ensure {
                $Ensure {
                    client: self.client.clone(),
                    options: Default::default(),
                    scope: self.scope(),
                    item,
                }
            }
        }

        #[doc = concat!("Builder of [`ensure`](", stringify!($Handle), "::ensure): get or create by key.")]
        ///
        /// The per-call settings (tenant, time limits, headers, retries) apply to each request.
        #[derive(Debug, Clone)]
        #[must_use = "a builder does nothing until sent"]
        pub struct $Ensure {
            client: $crate::Client,
            options: $crate::request::RequestOptions,
            scope: $crate::api::admin::crud::Scope,
            item: $New,
        }

        $crate::request::operation!(@options $Ensure);

        impl $Ensure {
            /// The item with this key, if there is one.
            async fn find(&self) -> $crate::Result<Option<$Item>> {
                use futures_util::StreamExt as _;
                let list = $List {
                    client: self.client.clone(),
                    options: self.options.clone(),
                    scope: self.scope.clone(),
                    limit: None,
                    skip: None,
                };
                let mut items = std::pin::pin!(list.into_stream());
                while let Some(item) = items.next().await {
                    let item = item?;
                    if item.key == self.item.key {
                        return Ok(Some(item));
                    }
                }
                Ok(None)
            }

            /// Finds or creates the item.
            pub async fn send(self) -> $crate::Result<$crate::api::admin::Ensured<$Item>> {
                use $crate::api::admin::Ensured;
                if let Some(item) = self.find().await? {
                    return Ok(Ensured { item, created: false });
                }
                let create = $Create {
                    client: self.client.clone(),
                    options: self.options.clone(),
                    scope: self.scope.clone(),
                    items: vec![self.item.clone()],
                    strict: false,
                };
                let call = create.call()?;
                let operation = call.operation;
                let response = $crate::transport::execute::<$CreateOut>(&self.client, call, create.options).await?;
                if let Some(created) = response.body().created.first() {
                    let get = $Get {
                        client: self.client.clone(),
                        options: self.options.clone(),
                        scope: self.scope.clone(),
                        id: created.id.to_string(),
                    };
                    return Ok(Ensured { item: get.send().await?, created: true });
                }
                // Skipped: created by someone else meanwhile, or refused.
                if let Some(item) = self.find().await? {
                    return Ok(Ensured { item, created: false });
                }
                $crate::request::refuse_issues(operation, 1, response.status(), &response.body().issues)?;
                Err($crate::Error::Issues(Box::new($crate::IssuesError {
                    operation,
                    status: response.status(),
                    items: 1,
                    issues: response.body().issues.clone(),
                })))
            }
        }

        impl std::future::IntoFuture for $Ensure {
            type Output = $crate::Result<$crate::api::admin::Ensured<$Item>>;
            type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
        )?
    };
}
pub(super) use crud;
