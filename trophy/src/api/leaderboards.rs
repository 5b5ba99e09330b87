//! Leaderboards and their rankings.

use crate::api::achievements::attribute_filter;
use crate::pagination::{paginate, MAX_PAGE};
use crate::request::{non_empty, operation, Call, RequestOptions};
use crate::types::{LeaderboardRanking, LeaderboardResponseWithRankings, LeaderboardsAllResponseItem};
use crate::{Client, Result};
use chrono::NaiveDate;
use trophy_generated::operations as ops;

/// Leaderboards and their rankings. Get it with [`Client::leaderboards`].
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use futures::StreamExt;
///
/// for board in client.leaderboards().list().send().await? {
///     println!("{} ({:?})", board.name, board.status);
/// }
///
/// let top = client.leaderboards().get("weekly-words").limit(3).send().await?;
/// println!("{:?}", top.rankings.first().map(|r| &r.user_id));
///
/// // Every ranking, fetched 100 at a time as the stream is read.
/// let mut rankings = client.leaderboards().get("weekly-words").into_rankings_stream();
/// while let Some(ranking) = rankings.next().await {
///     let ranking = ranking?;
///     println!("#{} {} ({})", ranking.rank, ranking.user_id, ranking.value);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Leaderboards {
    pub(crate) client: Client,
}

impl Leaderboards {
    /// `GET /leaderboards`: the leaderboards with their status (finished ones only on
    /// request).
    pub fn list(&self) -> ListLeaderboards {
        ListLeaderboards {
            client: self.client.clone(),
            options: RequestOptions::default(),
            include_finished: None,
        }
    }

    /// `GET /leaderboards/{key}`: a leaderboard with one page of its rankings; see
    /// [`GetLeaderboard::into_rankings_stream`] for all of them.
    pub fn get(&self, key: impl Into<String>) -> GetLeaderboard {
        GetLeaderboard {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
            offset: None,
            limit: None,
            run: None,
            user_id: None,
            user_attributes: Vec::new(),
        }
    }
}

/// Builder of `GET /leaderboards` (operation `leaderboards_all`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListLeaderboards {
    client: Client,
    options: RequestOptions,
    include_finished: Option<bool>,
}

impl ListLeaderboards {
    /// Whether to also return leaderboards that have finished (Trophy's default: `false`).
    pub fn include_finished(mut self, include: bool) -> Self {
        self.include_finished = Some(include);
        self
    }

    fn call(&self) -> Result<Call> {
        let call = Call::from_op(&ops::leaderboards_all::OP, &[])?;
        Ok(call.query_opt(ops::leaderboards_all::INCLUDE_FINISHED, self.include_finished))
    }
}
operation!(ListLeaderboards => Vec<LeaderboardsAllResponseItem>);

/// Builder of `GET /leaderboards/{key}` (operation `leaderboards_get`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetLeaderboard {
    client: Client,
    options: RequestOptions,
    key: String,
    offset: Option<u32>,
    limit: Option<u32>,
    run: Option<NaiveDate>,
    user_id: Option<String>,
    user_attributes: Vec<(String, String)>,
}

impl GetLeaderboard {
    /// How many rankings to skip before the first one returned (Trophy's default: 0).
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The most rankings to return (Trophy's default: 10).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Selects the run of a repeating leaderboard that starts on `start` (default: the
    /// current run).
    pub fn run(mut self, start: NaiveDate) -> Self {
        self.run = Some(start);
        self
    }

    /// Counts the offset from this user's position instead of from the top.
    pub fn user_id(mut self, user_id: impl Into<crate::Id>) -> Self {
        self.user_id = Some(user_id.into().into_string());
        self
    }

    /// Selects the ranking of users whose breakdown attribute `key` has `value`; repeat for
    /// leaderboards split by several attributes (sent as `key:value` pairs joined by commas).
    pub fn user_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.user_attributes.push((key.into(), value.into()));
        self
    }

    /// Streams every ranking from the builder's offset on, fetching pages of the builder's
    /// limit (or 100) only as the stream is read. Stops after the first page shorter than the
    /// page size; a failed call is the stream's last item.
    pub fn into_rankings_stream(self) -> impl futures_core::Stream<Item = Result<LeaderboardRanking>> + Send + Unpin {
        let page_size = self.limit.unwrap_or(MAX_PAGE);
        let start = self.offset.unwrap_or(0);
        paginate(page_size, start, move |offset, limit| {
            let page = self.clone().offset(offset).limit(limit);
            async move { Ok(page.send().await?.rankings) }
        })
    }

    fn call(&self) -> Result<Call> {
        if let Some(user_id) = &self.user_id {
            non_empty("user_id", user_id)?;
        }
        let attributes = attribute_filter(&self.user_attributes)?;
        Ok(Call::from_op(&ops::leaderboards_get::OP, &[&self.key])?
            .query_opt(ops::leaderboards_get::OFFSET, self.offset)
            .query_opt(ops::leaderboards_get::LIMIT, self.limit)
            .query_opt(ops::leaderboards_get::RUN, self.run.map(|d| d.format("%Y-%m-%d")))
            .query_opt(ops::leaderboards_get::USER_ID, self.user_id.as_deref())
            .query_opt(ops::leaderboards_get::USER_ATTRIBUTES, attributes))
    }
}
operation!(GetLeaderboard => LeaderboardResponseWithRankings);
