//! Admin API: Organisation settings.

use crate::admin_types::{AdminAggregationPeriod, AdminFontFamily, AdminSettings};
use crate::request::{non_empty, operation, Call, RequestOptions};
use crate::{Client, Error, Field, Result};
use serde::Serialize;
use trophy_generated::operations as ops;

/// Admin API: the settings of the organisation (branding, control group, summary period). Get
/// it with [`Admin::settings`](super::Admin::settings).
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::admin_types::AdminFontFamily;
///
/// let settings = client.admin().settings();
/// println!("{}", settings.get().send().await?.branding.app_name);
/// let now = settings
///     .update()
///     .app_name("Inkwell")
///     .font(AdminFontFamily::BookSerif)
///     .clear_logo()
///     .control_ratio(10)
///     .send()
///     .await?;
/// println!("{}% in the control group", now.experimentation.control_ratio);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Settings {
    pub(crate) client: Client,
}

impl Settings {
    /// `GET /settings`: the settings as they are.
    pub fn get(&self) -> GetSettings {
        GetSettings {
            client: self.client.clone(),
            options: RequestOptions::default(),
        }
    }

    /// `PATCH /settings`: changes the settings you set on the builder and leaves the others;
    /// answers with the settings as they then are.
    pub fn update(&self) -> UpdateSettings {
        UpdateSettings {
            client: self.client.clone(),
            options: RequestOptions::default(),
            body: SettingsBody::default(),
        }
    }
}

/// Builder of `GET /settings` (operation `admin_settings_get`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetSettings {
    client: Client,
    options: RequestOptions,
}

impl GetSettings {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::admin_settings_get::OP, &[])
    }
}
operation!(GetSettings => AdminSettings);

/// Builder of `PATCH /settings` (operation `admin_settings_update`). Only what you set is sent.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UpdateSettings {
    client: Client,
    options: RequestOptions,
    body: SettingsBody,
}

impl UpdateSettings {
    /// Sets the name of your application (not empty).
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.body.branding.app_name = Some(name.into());
        self
    }

    /// Sets the address of your application (an absolute URL).
    pub fn app_url(mut self, url: impl Into<String>) -> Self {
        self.body.branding.app_url = Some(url.into());
        self
    }

    /// Sets the main colour, as a CSS colour such as `#3366ff`.
    pub fn brand_color(mut self, color: impl Into<String>) -> Self {
        self.body.branding.brand_color = Some(color.into());
        self
    }

    /// Sets the font family.
    pub fn font(mut self, font: AdminFontFamily) -> Self {
        self.body.branding.font = Some(font);
        self
    }

    /// Sets the logo (sent as `logo: {url}`).
    pub fn logo_url(mut self, url: impl Into<String>) -> Self {
        self.body.branding.logo = Field::Set(ImageUrl { url: url.into() });
        self
    }

    /// Removes the logo (sends `logo: null`).
    pub fn clear_logo(mut self) -> Self {
        self.body.branding.logo = Field::Null;
        self
    }

    /// Sets the application icon (sent as `appIcon: {url}`).
    pub fn app_icon_url(mut self, url: impl Into<String>) -> Self {
        self.body.branding.app_icon = Field::Set(ImageUrl { url: url.into() });
        self
    }

    /// Removes the application icon (sends `appIcon: null`).
    pub fn clear_app_icon(mut self) -> Self {
        self.body.branding.app_icon = Field::Null;
        self
    }

    /// Sets the percentage of new users put in the control group, 0 to 100.
    pub fn control_ratio(mut self, percent: u32) -> Self {
        self.body.experimentation.control_ratio = Some(percent);
        self
    }

    /// Sets the number of days, 3 to 30, over which a new user counts as activated.
    pub fn user_activation_window(mut self, days: u32) -> Self {
        self.body.experimentation.user_activation_window = Some(days);
        self
    }

    /// Sets the period summaries and recaps cover.
    pub fn aggregation_period(mut self, period: AdminAggregationPeriod) -> Self {
        self.body.aggregation_period = Some(period);
        self
    }

    fn call(&self) -> Result<Call> {
        let branding = &self.body.branding;
        if let Some(name) = &branding.app_name {
            non_empty("app_name", name)?;
        }
        if let Some(url) = &branding.app_url {
            absolute_url("app_url", url)?;
        }
        for (field, image) in [("logo_url", &branding.logo), ("app_icon_url", &branding.app_icon)] {
            if let Field::Set(image) = image {
                absolute_url(field, &image.url)?;
            }
        }
        let experimentation = &self.body.experimentation;
        in_range("control_ratio", experimentation.control_ratio, 0, 100)?;
        in_range("user_activation_window", experimentation.user_activation_window, 3, 30)?;
        Call::from_op(&ops::admin_settings_update::OP, &[])?.json(&self.body)
    }
}
operation!(UpdateSettings => AdminSettings);

/// Checks an optional number lies in `min..=max`.
pub(super) fn in_range<T: Copy + PartialOrd + std::fmt::Display>(
    field: &str,
    value: Option<T>,
    min: T,
    max: T,
) -> Result<()> {
    match value {
        Some(v) if !(min..=max).contains(&v) => {
            Err(Error::invalid(field, format!("must be from {min} to {max}, not {v}")))
        }
        _ => Ok(()),
    }
}

/// Checks a URL is absolute (`http://` or `https://` and a host).
fn absolute_url(field: &str, url: &str) -> Result<()> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(Error::invalid(field, format!("{url:?} is not an absolute http(s) URL"))),
    }
}

// The request body, serialized in the documents' field order; empty groups are left out.

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsBody {
    #[serde(skip_serializing_if = "Branding::is_empty")]
    branding: Branding,
    #[serde(skip_serializing_if = "Experimentation::is_empty")]
    experimentation: Experimentation,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregation_period: Option<AdminAggregationPeriod>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Branding {
    #[serde(skip_serializing_if = "Option::is_none")]
    app_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    brand_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    font: Option<AdminFontFamily>,
    #[serde(skip_serializing_if = "Field::is_unset")]
    logo: Field<ImageUrl>,
    #[serde(skip_serializing_if = "Field::is_unset")]
    app_icon: Field<ImageUrl>,
}

impl Branding {
    fn is_empty(&self) -> bool {
        self.app_name.is_none()
            && self.app_url.is_none()
            && self.brand_color.is_none()
            && self.font.is_none()
            && self.logo.is_unset()
            && self.app_icon.is_unset()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Experimentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    control_ratio: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_activation_window: Option<u32>,
}

impl Experimentation {
    fn is_empty(&self) -> bool {
        self.control_ratio.is_none() && self.user_activation_window.is_none()
    }
}

#[derive(Debug, Clone, Serialize)]
struct ImageUrl {
    url: String,
}
