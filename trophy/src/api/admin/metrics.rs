//! Admin API: Metrics.

use super::{each, paged, strings, with_ids};
use crate::admin_types::{
    CreateMetricsResponse, CreatedMetric, DeleteMetricsResponse, MetricUnitType, UpdateMetricsResponse,
};
use crate::pagination::{paginate, MAX_PAGE};
use crate::request::{key_charset, non_empty, operation, segment, Api, Call, RequestOptions};
use crate::{Client, Result};
use http::Method;
use serde::Serialize;

/// Admin API: Metrics. Get it with [`Admin::metrics`](super::Admin::metrics).
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::admin_types::MetricUnitType;
/// use trophy::api::admin::metrics::{MetricUpdate, NewMetric};
///
/// let metrics = client.admin().metrics();
/// let created = metrics
///     .create([NewMetric::new("Distance run", "distance-run").unit_type(MetricUnitType::Number).units("km")])
///     .send()
///     .await?;
/// for issue in &created.issues {
///     eprintln!("item {:?}: {}", issue.index, issue.message);
/// }
/// let id = created.created[0].id.to_string();
/// metrics.update([MetricUpdate::new(&id).name("Distance")]).send().await?;
/// let page = metrics.list().limit(50).send().await?;
/// println!("{} metrics", page.len());
/// metrics.delete([id]).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminMetrics {
    pub(crate) client: Client,
}

impl AdminMetrics {
    /// `GET /metrics`: a page of metrics (set [`limit`](ListMetrics::limit) and
    /// [`skip`](ListMetrics::skip)), or all of them with [`into_stream`](ListMetrics::into_stream).
    pub fn list(&self) -> ListMetrics {
        ListMetrics {
            client: self.client.clone(),
            options: RequestOptions::default(),
            limit: None,
            skip: None,
        }
    }

    /// `POST /metrics`: creates 1 to 100 metrics.
    pub fn create(&self, items: impl IntoIterator<Item = NewMetric>) -> CreateMetrics {
        CreateMetrics {
            client: self.client.clone(),
            options: RequestOptions::default(),
            items: items.into_iter().collect(),
        }
    }

    /// `GET /metrics/{id}`: one metric.
    pub fn get(&self, id: impl Into<String>) -> GetMetric {
        GetMetric {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into(),
        }
    }

    /// `PATCH /metrics`: updates 1 to 100 metrics; fields you do not set are left unchanged.
    pub fn update(&self, items: impl IntoIterator<Item = MetricUpdate>) -> UpdateMetrics {
        UpdateMetrics {
            client: self.client.clone(),
            options: RequestOptions::default(),
            items: items.into_iter().collect(),
        }
    }

    /// `DELETE /metrics`: deletes 1 to 100 metrics by id.
    pub fn delete<I>(&self, ids: I) -> DeleteMetrics
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        DeleteMetrics {
            client: self.client.clone(),
            options: RequestOptions::default(),
            ids: strings(ids),
        }
    }
}

/// One metric to create: see [`AdminMetrics::create`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewMetric {
    /// The display name.
    pub name: String,
    /// The key used in the API: ASCII letters, digits, `-` and `_`.
    pub key: String,
    /// Plain numbers or currency; Trophy's default is `number`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<MetricUnitType>,
    /// The unit label shown with values, e.g. `km`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
}

impl NewMetric {
    /// A metric with this name and key.
    pub fn new(name: impl Into<String>, key: impl Into<String>) -> Self {
        NewMetric {
            name: name.into(),
            key: key.into(),
            unit_type: None,
            units: None,
        }
    }

    /// Sets the unit type.
    #[must_use]
    pub fn unit_type(mut self, unit_type: impl Into<MetricUnitType>) -> Self {
        self.unit_type = Some(unit_type.into());
        self
    }

    /// Sets the unit label.
    #[must_use]
    pub fn units(mut self, units: impl Into<String>) -> Self {
        self.units = Some(units.into());
        self
    }
}

/// Changes to one metric: see [`AdminMetrics::update`]. The key cannot be changed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MetricUpdate {
    /// The id of the metric.
    pub id: String,
    /// The new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new unit type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<MetricUnitType>,
    /// The new unit label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
}

impl MetricUpdate {
    /// No changes yet to the metric `id`.
    pub fn new(id: impl Into<String>) -> Self {
        MetricUpdate {
            id: id.into(),
            name: None,
            unit_type: None,
            units: None,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the unit type.
    #[must_use]
    pub fn unit_type(mut self, unit_type: impl Into<MetricUnitType>) -> Self {
        self.unit_type = Some(unit_type.into());
        self
    }

    /// Sets the unit label.
    #[must_use]
    pub fn units(mut self, units: impl Into<String>) -> Self {
        self.units = Some(units.into());
        self
    }
}

/// Builder of `GET /metrics` (operation `admin_metrics_list`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListMetrics {
    client: Client,
    options: RequestOptions,
    limit: Option<u32>,
    skip: Option<u32>,
}

impl ListMetrics {
    /// The page size, 1 to 100 (Trophy's default is 10).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// How many metrics to skip before the page.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Every metric from [`skip`](Self::skip) on, fetched lazily a page at a time (pages of
    /// [`limit`](Self::limit), or 100). Stops after the first error, which it yields.
    pub fn into_stream(self) -> impl futures_core::Stream<Item = Result<CreatedMetric>> + Send {
        let (limit, skip) = (self.limit.unwrap_or(MAX_PAGE), self.skip.unwrap_or(0));
        paginate(limit, skip, move |skip, limit| {
            self.clone().skip(skip).limit(limit).send()
        })
    }

    fn call(&self) -> Result<Call> {
        paged(
            Call::new(
                Api::Admin,
                "admin_metrics_list",
                Method::GET,
                "/metrics",
                "/metrics".into(),
            ),
            self.limit,
            self.skip,
        )
    }
}
operation!(ListMetrics => Vec<CreatedMetric>);

/// Builder of `POST /metrics` (operation `admin_metrics_create`).
///
/// Trophy answers 201 when at least one metric was created and 200 when none was; both are
/// successes, and [`issues`](CreateMetricsResponse::issues) says what was skipped and why. The
/// status is available through `send_with_response`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct CreateMetrics {
    client: Client,
    options: RequestOptions,
    items: Vec<NewMetric>,
}

impl CreateMetrics {
    fn call(&self) -> Result<Call> {
        each("items", &self.items, |field, item| {
            key_charset(&format!("{field}.key"), &item.key)
        })?;
        Call::new(
            Api::Admin,
            "admin_metrics_create",
            Method::POST,
            "/metrics",
            "/metrics".into(),
        )
        .json(&self.items)
    }
}
operation!(CreateMetrics => CreateMetricsResponse);

/// Builder of `GET /metrics/{id}` (operation `admin_metrics_get`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetMetric {
    client: Client,
    options: RequestOptions,
    id: String,
}

impl GetMetric {
    fn call(&self) -> Result<Call> {
        let path = format!("/metrics/{}", segment("id", &self.id)?);
        Ok(Call::new(
            Api::Admin,
            "admin_metrics_get",
            Method::GET,
            "/metrics/{id}",
            path,
        ))
    }
}
operation!(GetMetric => CreatedMetric);

/// Builder of `PATCH /metrics` (operation `admin_metrics_update`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UpdateMetrics {
    client: Client,
    options: RequestOptions,
    items: Vec<MetricUpdate>,
}

impl UpdateMetrics {
    fn call(&self) -> Result<Call> {
        each("items", &self.items, |field, item| {
            non_empty(&format!("{field}.id"), &item.id)
        })?;
        Call::new(
            Api::Admin,
            "admin_metrics_update",
            Method::PATCH,
            "/metrics",
            "/metrics".into(),
        )
        .json(&self.items)
    }
}
operation!(UpdateMetrics => UpdateMetricsResponse);

/// Builder of `DELETE /metrics` (operation `admin_metrics_delete`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct DeleteMetrics {
    client: Client,
    options: RequestOptions,
    ids: Vec<String>,
}

impl DeleteMetrics {
    fn call(&self) -> Result<Call> {
        with_ids(
            Call::new(
                Api::Admin,
                "admin_metrics_delete",
                Method::DELETE,
                "/metrics",
                "/metrics".into(),
            ),
            &self.ids,
        )
    }
}
operation!(DeleteMetrics => DeleteMetricsResponse);
