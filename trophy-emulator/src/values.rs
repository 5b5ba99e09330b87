//! Plain values the seed and the model share: IDs, keys, dates and periods. A leaf: it uses no
//! other module of the crate.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, SecondsFormat, Utc};

/// Upper bound of loops walking over periods, so that no request can spin.
pub(crate) const MAX_PERIOD_STEPS: usize = 20_000;

/// A fresh random ID.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether a key matches `^[A-Za-z0-9_-]+$`.
pub(crate) fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// RFC 3339 with milliseconds and `Z`.
pub(crate) fn fmt_dt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `YYYY-MM-DD`.
pub(crate) fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A period length: streak frequency or summary aggregation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Freq {
    Daily,
    Weekly,
    Monthly,
}

impl Freq {
    pub(crate) fn parse(s: &str) -> Option<Freq> {
        match s {
            "daily" => Some(Freq::Daily),
            "weekly" => Some(Freq::Weekly),
            "monthly" => Some(Freq::Monthly),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Freq::Daily => "daily",
            Freq::Weekly => "weekly",
            Freq::Monthly => "monthly",
        }
    }

    /// The first day of the period containing `d` (weeks start on Monday).
    pub(crate) fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Freq::Daily => d,
            Freq::Weekly => d
                .checked_sub_signed(Duration::days(i64::from(d.weekday().num_days_from_monday())))
                .unwrap_or(d),
            Freq::Monthly => d.with_day(1).unwrap_or(d),
        }
    }

    /// The start of the next period (saturating at the end of the calendar).
    pub(crate) fn next(self, p: NaiveDate) -> NaiveDate {
        match self {
            Freq::Daily => p.succ_opt().unwrap_or(p),
            Freq::Weekly => p.checked_add_signed(Duration::days(7)).unwrap_or(p),
            Freq::Monthly => p.checked_add_months(Months::new(1)).unwrap_or(p),
        }
    }

    /// The start of the previous period (saturating at the start of the calendar).
    pub(crate) fn prev(self, p: NaiveDate) -> NaiveDate {
        match self {
            Freq::Daily => p.pred_opt().unwrap_or(p),
            Freq::Weekly => p.checked_sub_signed(Duration::days(7)).unwrap_or(p),
            Freq::Monthly => p.checked_sub_months(Months::new(1)).unwrap_or(p),
        }
    }

    /// The last day of the period starting at `p`.
    pub(crate) fn end(self, p: NaiveDate) -> NaiveDate {
        let n = self.next(p);
        if n == p {
            p
        } else {
            n.pred_opt().unwrap_or(p)
        }
    }
}
