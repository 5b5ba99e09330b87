//! Admin API: Metrics.

use super::crud::{crud, Check, Scope};
use crate::admin_types::{
    CreateMetricsResponse, CreatedMetric, DeleteMetricsResponse, MetricUnitType, UpdateMetricsResponse,
};
use crate::request::{key_charset, non_empty};
use crate::{Client, Result};
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
    fn scope(&self) -> Scope {
        Scope::top()
    }
}

crud! {
    handle: AdminMetrics,
    what: "metrics",
    ops: [admin_metrics_list, admin_metrics_create, admin_metrics_get, admin_metrics_update, admin_metrics_delete],
        list: ListMetrics => CreatedMetric,
    create: CreateMetrics(NewMetric) => CreateMetricsResponse,
    get: GetMetric => CreatedMetric,
    update: UpdateMetrics(MetricUpdate) => UpdateMetricsResponse,
    delete: DeleteMetrics => DeleteMetricsResponse,
    ensure: EnsureMetric,
}

/// One metric to create: see [`AdminMetrics::create`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewMetric {
    /// The display name.
    pub name: String,
    /// The key used in the API: ASCII letters, digits, `-` and `_`.
    pub key: String,
    /// Plain numbers or currency; Trophy's default is `number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<MetricUnitType>,
    /// The unit label shown with values, e.g. `km`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub fn unit_type(mut self, unit_type: MetricUnitType) -> Self {
        self.unit_type = Some(unit_type);
        self
    }

    /// Sets the unit label.
    #[must_use]
    pub fn units(mut self, units: impl Into<String>) -> Self {
        self.units = Some(units.into());
        self
    }
}

impl Check for NewMetric {
    fn check(&self, at: &str) -> Result<()> {
        key_charset(&format!("{at}.key"), &self.key)
    }
}

/// Changes to one metric: see [`AdminMetrics::update`]. The key cannot be changed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MetricUpdate {
    /// The id of the metric.
    pub id: String,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new unit type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<MetricUnitType>,
    /// The new unit label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
}

impl MetricUpdate {
    /// No changes yet to the metric `id`.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        MetricUpdate {
            id: id.into().into_string(),
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
    pub fn unit_type(mut self, unit_type: MetricUnitType) -> Self {
        self.unit_type = Some(unit_type);
        self
    }

    /// Sets the unit label.
    #[must_use]
    pub fn units(mut self, units: impl Into<String>) -> Self {
        self.units = Some(units.into());
        self
    }
}

impl Check for MetricUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)
    }
}
