//! # trophy-emulator
//!
//! A local, stateful, in-memory stand-in for [Trophy](https://trophy.so) that serves **both** the
//! Application API and the Admin API (version 1.27.0, as described by `openapi/application.yaml`
//! and `openapi/admin.yaml` of this repository) over HTTP on loopback, for offline development
//! and tests. Request bodies are checked against the generated types of `trophy-generated`, and
//! every response follows the response schemas of the documents (camelCase names, required
//! fields always present, nullable ones as `null`).
//!
//! ## Starting it
//!
//! From the command line (`trophy-emulator serve` is the default; `--help` lists everything):
//!
//! ```text
//! cargo run -p trophy-emulator -- --port 8787 [--host 127.0.0.1] [--seed FILE] [--state FILE]
//!                                 [--now 2026-01-15T12:00:00Z]
//!                                 [--fail-rate 0.1 --fail-status 503 --fail-seed 42]
//!                                 [--fail-after-processing]
//!                                 [--api-key KEY]...
//!                                 [--webhook-url URL --webhook-secret SECRET]
//!                                 [--rate-limits | --rate-limits=TIER1,TIER2]
//!                                 [--request-log 10000]
//! cargo run -p trophy-emulator -- trigger streak.lost --user ID --to URL [--secret S]
//! ```
//!
//! It prints the inspector's address (`Inspector: http://127.0.0.1:8787/_emulator/ui/`),
//! `Application API: http://127.0.0.1:8787/v1`, `Admin API: http://127.0.0.1:8787/admin/v1`
//! and the admin key, and serves until interrupted (SIGINT or SIGTERM, which first save the
//! `--state` file). It binds to loopback unless `--host` says otherwise, and then warns: the
//! emulator accepts any key and its inspector changes what it holds.
//!
//! `trigger TYPE --user ID --to URL` sends one signed sample webhook of any of the 18 types
//! ([`WEBHOOK_TYPES`]) to your receiver and prints its status and answer (exit status 1 when
//! it was not answered 2xx); the secret comes from `--secret` or `$TROPHY_WEBHOOK_SECRET`.
//!
//! From Rust (the server runs on the current Tokio runtime and stops when the handle is dropped):
//!
//! ```no_run
//! # async fn demo() -> Result<(), trophy_emulator::Error> {
//! use trophy_emulator::{Emulator, Faults, Seed};
//!
//! let emu = Emulator::start().await?; // default seed, random port on 127.0.0.1
//! let app = emu.app_url(); // "http://127.0.0.1:PORT/v1"
//! let admin = emu.admin_url(); // "http://127.0.0.1:PORT/admin/v1"
//! let key = emu.admin_key(); // "admin_emulator_key"
//!
//! let emu = Emulator::builder()
//!     .seed(Seed::default_seed())
//!     .clock("2026-01-15T12:00:00Z".parse().unwrap())
//!     .faults(Faults::new(0.1, 503).with_seed(42))
//!     .start()
//!     .await?;
//! emu.advance(chrono::Duration::days(1)); // streaks and leaderboards follow the emulator clock
//! # Ok(()) }
//! ```
//!
//! ## Layout
//!
//! One port. The Application API is under `/v1` (like `https://api.trophy.so/v1`), the Admin API
//! under `/admin/v1` (like `https://admin.trophy.so/v1`); their paths overlap with different
//! meanings (`/metrics`, `/points/{key}`, `/leaderboards`), hence the prefix. Emulator-only
//! controls live under `/_emulator` and need no key:
//!
//! | Endpoint | Effect |
//! | --- | --- |
//! | `GET /_emulator/clock` | `{"now": "...", "frozen": true}` |
//! | `POST /_emulator/clock` | `{"now": "2026-01-15T12:00:00Z"}` freezes the clock there, `{"advanceSeconds": 86400}` moves it, `{"system": true}` returns to the system time |
//! | `GET`/`POST /_emulator/faults` | `{"rate": 0.1, "status": 503, "seed": 7, "failNext": 2, "afterProcessing": false}`; omitted fields are kept; the answer also counts `injected` faults |
//! | `POST /_emulator/reset` | forgets all tenants' data, application keys and tenants (the clock and faults stay) |
//! | `GET /_emulator/webhooks` | `{"target": url, "deliveries": [{"type", "attempts", "status", "delivered", "body"}]}` |
//! | `GET /_emulator/events` | `{"stored": n, "replayed": n, "totals": [{"tenant", "userId", "metric", "events", "total"}]}`: metric events held (see [`Emulator::event_counts`]) |
//! | `GET /_emulator/rate-limits` | `{"enabled": true, "tier1PerSecond": 5, "tier2PerSecond": 50, "admitted": {"tier1", "tier2"}, "rejected": {..}}` |
//! | `GET /_emulator/overview` | `{"applicationApi", "adminApi", "adminKeyMasked", "clock", "rateLimits": {"enabled", "admitted", "rejected"}, "faults", "requests": summary, "webhooks": {"target", "deliveries"}, "tenants", "stateFile"}` |
//! | `GET /_emulator/users?q=` | `{"users": [{"tenant", "id", "name", "email", "events", "streak", "points", "achievements"}]}`: users whose ID, name or email contains `q` |
//! | `GET /_emulator/users/{id}?tenant=` | `{"tenant", "user", "metrics": [{"key", "name", "total", "events"}], "streak": StreakResponse (7 periods of history), "points": [{"key", "name", "total", "awards", "level"}], "achievements": [{"key", "name", "completedAt"}], "leaderboards": [{"key", "name", "status", "rank", "value"}]}` |
//! | `GET /_emulator/requests?status=&path=&user=&marker=&limit=` | `{"capacity", "held", "matched", "summary": {"total", "byStatus", "byApi", "faults", "rateLimited", "replays"}, "entries": [{"id", "time", "emulatorTime", "api", "method", "path", "query", "tenant", "user", "status", "durationMicros", "markers"}]}`, newest first (`limit` default 200); `status` is a code (`429`) or a class (`4xx`), `path` and `user` match substrings, `marker` is `fault`, `429` or `replay` |
//! | `GET /_emulator/requests/{id}` | one entry with `requestHeaders`, `requestBody` and `responseBody` (API keys redacted, bodies cut at 16 KiB) |
//! | `POST /_emulator/webhooks` | `{"target": {"url": "http://...", "secret": "..."}}` sets or changes the webhook target, `{"target": null}` removes it (see [`Emulator::set_webhook_target`]) |
//! | `GET /_emulator/webhooks` | `{"target", "types": [18 types], "deliveries": [{"id", "type", "target", "source", "attempts", "status", "delivered", "response", "body"}]}`, oldest first |
//! | `POST /_emulator/webhooks/{id}/resend` | posts delivery `id` again (same body and signature; `attempts` grows); answers the delivery |
//! | `POST /_emulator/webhooks/trigger` | `{"type", "userId", "url"?, "secret"?, "tenant"?}`: posts a signed sample of any type about the user (as the emulator holds them, when known) to `url` (default: the target) signed with `secret` (default: the target's); answers the delivery |
//! | `GET /_emulator/leaderboards` | `{"leaderboards": [{"tenant", "key", "name", "status", "rankBy", "runStart", "runEnd", "rankings": [{"userId", "userName", "rank", "value"}]}]}` |
//! | `GET /_emulator/state` | the state as a state file (export) |
//! | `POST /_emulator/state` | replaces the state by a state file's (import); 422 with the reason when refused |
//! | `POST /_emulator/state/save` | writes the `--state` file now: `{"saved": path, "bytes": n}` (409 without one) |
//!
//! `POST /_emulator/clock` answers `{"now", "frozen", "effects": {"from", "to", "streaksLost":
//! [{"tenant", "userId", "length"}], "leaderboardsFinished": [{"tenant", "key"}], "webhooks": n}}`,
//! and `GET /_emulator/clock` also lists the last 100 moves under `changes`.
//!
//! ## Inspector
//!
//! `/_emulator/ui/` serves pages rendered from the JSON above, for a browser tab kept open while
//! working: **Overview**, **Users** (and each user's page), **Requests** (the request log, with
//! filters and each request's bodies), **Webhooks** (deliveries, resend, and a form that
//! triggers any type), **Clock** (set, advance, and what each move did) and **Leaderboards**.
//! They update live through server-sent events (`/_emulator/ui/events`, at most two a second), work offline (no
//! external asset; the little script and stylesheet are embedded), and are usable with the
//! keyboard. Keys and webhook secrets are never shown: the admin key appears masked (its copy
//! button fetches it on demand), request logs redact `X-API-KEY` and application keys.
//!
//! ## Request log
//!
//! Every request to either API is logged when answered: time, API, method, path, tenant, the
//! user it names, status, duration, both bodies, and markers for an injected fault, a 429 and
//! an idempotent replay. The log is a ring of [`EmulatorBuilder::request_log_capacity`]
//! entries (`--request-log`, default 10,000); its summary counts every request.
//!
//! ## State file
//!
//! With [`EmulatorBuilder::state_file`] (`--state FILE`) the emulator loads the file at start
//! (a missing file is an empty start) and writes it on [`Emulator::save_state`], `POST
//! /_emulator/state/save`, and, for the binary, on SIGINT and SIGTERM. The file is JSON:
//! `{"format": "trophy-emulator-state", "version": 1, "savedAt", "emulatorVersion", "clock",
//! "tenants", "appKeys", "states", "clockChanges", "requests", "webhooks"}` (every tenant's
//! state, the request log with its summary, the webhook deliveries). It is written to a
//! temporary file next to it, synced, then renamed over it, so a crash leaves the old file or
//! the new one. A file that is torn, of another format, or of a newer `version` is refused with
//! [`Error::State`] saying why (the binary exits with status 1). The file holds application
//! keys, so that they keep working: keep it out of version control.
//!
//! ## Authentication
//!
//! * Every API request needs an `X-API-KEY` header, else `401 {"error": "..."}`.
//! * Organisation keys work on both APIs. By default **any key that does not start with `app_`**
//!   is accepted as an organisation key ([`Emulator::admin_key`] returns `admin_emulator_key`, which
//!   is always fine). When keys are configured (seed `apiKeys`, [`EmulatorBuilder::api_key`] or
//!   `--api-key`), only those are accepted and others get 401.
//! * Keys created through `POST /admin/v1/application-api-keys` (prefix `app_`) act for one user:
//!   Application API requests about another user (user-scoped paths, the `user` of event and
//!   completion bodies, `userIds` of `/streaks`) get 403; organisation-wide reads (achievements,
//!   points systems, leaderboards) are allowed. They are refused on the Admin API with 403. Unknown
//!   or deleted `app_` keys get 401. Application keys are global, valid in every tenant.
//! * The `Tenant-ID` header selects an isolated state (metrics, attributes, points systems,
//!   leaderboards, users, events, pauses, idempotency keys); no header is the default tenant. Any
//!   value works, whether or not a tenant was created through `/admin/v1/tenants`, and each tenant
//!   starts from the seed. Tenants themselves and application keys are organisation-wide.
//!   Deleting a tenant drops its state; changing its `customerId` moves its state.
//!
//! ## Semantics (an approximation of Trophy)
//!
//! **Admin API.** Create, list (`limit` 1–100, default 10, `skip`), get, update (`PATCH` with
//! an array; omitted fields kept, `null` clears nullable fields) and delete (`?ids=a&ids=b`,
//! `?ids=a,b` and `?ids[]=a` are all accepted) for metrics, attributes, points systems (with
//! nested levels, boosts and triggers at creation), boosts, levels, triggers, leaderboards and
//! tenants. Bulk requests take 1–100 items (else 422); an invalid item becomes an `issues` entry
//! (`index`, `severity: "error"`, `message`, and `id`/`userId`/`boostId` where relevant) and the
//! others proceed; creates answer 201 when at least one item was created, else 200. A body that
//! does not match the generated request type (missing required field, wrong type, non-UUID ID)
//! answers 422, and so does an ID that is not a UUID in a path or in `ids` (see "Bad input"
//! below). Keys must match `^[A-Za-z0-9_-]+$` and be unique (levels: within their system).
//! Defaults follow the document: triggers and leaderboards are created `inactive` unless a
//! `status` is given (inactive triggers award nothing; inactive leaderboards are invisible to the
//! Application API), `maxParticipants` 1000, leaderboard `start` today, metric `unitType`
//! `number`, boost `rounding` `down`. `POST /metrics/events` takes 1–1000 events, validates all
//! of them first (unknown metric 404, bad user 400/422) and then applies each exactly like a
//! single event (honouring its `idempotencyKey`), answering `202 {"accepted": n}`. Streak
//! freezes grant one freeze per listed user (up to the seed's `maxFreezes`); pauses cover a date
//! range during which missed periods do not break the streak; restore re-links a lost streak by
//! filling the missed periods. Application keys are `app_` + 32 hex digits.
//!
//! **Users.** `POST /users` creates (422 if the ID exists), `PUT /users/{id}` upserts, `PATCH`
//! updates (404 if unknown); `tz` and `deviceTokens` are cleared by `null`; attributes are
//! merged. Events and completions create unknown users from their `user` object and apply its
//! fields to known ones. Preferences default to the `email` channel for every notification;
//! `PATCH` replaces only the notification kinds sent and merges `streak` settings.
//!
//! **Metric events** (`POST /v1/metrics/{key}/event`, unknown metric 422): the value is added to
//! the user's total, and the answer (201) reports the new total, the achievements completed by
//! this event, the current streak (`extended` is true when this event was the first of the
//! current period), points awarded during the request keyed by points system key, and every
//! active leaderboard whose ranking the event touched keyed by leaderboard key (`rank`,
//! `previousRank`, `threshold` = the last ranked value when the board is full, else 0). With an
//! `Idempotency-Key` already used by that user for that metric, the original body is answered
//! again with 202 and `idempotentReplayed: true`, and nothing changes.
//!
//! **Achievements** come from the seed. `api` ones are completed by
//! `POST /achievements/{key}/complete` (404 unknown, 422 not API-triggered; completing again
//! answers 201 with the original completion and no points), `metric` ones when the user's total
//! of `metricKey` reaches `metricValue`, `streak` ones when the streak reaches `streakLength`,
//! `achievement` ones when all of `achievementKeys` are completed. `completions` counts users,
//! `rarity` is the percentage of users (of those matching `userAttributes`) who completed it.
//!
//! **Streaks.** Any metric event counts as activity for the period (`daily`, `weekly` starting
//! Monday, or `monthly`, from the seed) of its date in UTC. The length is the number of active
//! periods in the current run; the run survives a missed period covered by a pause, a freeze or
//! a restore. A streak whose last active period is the previous one is still alive (`expires` is
//! the end of the current period); missed periods consume freezes, if the user holds enough,
//! when the next event arrives (and are shown as consumed beforehand). `streakHistory` lists the
//! last `historyPeriods` periods (default 7), oldest first.
//!
//! **Points.** Triggers with status `active` award points: `metric` triggers award `points` for
//! every `metricThreshold` units (default 1) the user's cumulative total crosses (a total going
//! from 3 to 12 with threshold 5 awards twice); `achievement` triggers on completion; `streak`
//! triggers each time an extension brings the length to a multiple of `streakLength`;
//! `user_creation` triggers when the user is created. User- and event-attribute filters are
//! honoured. Active boosts of the system (matching `userId`/attributes) multiply each award,
//! rounded per boost. Totals never go below 0 (`blockIfOutOfPoints` skips such an award
//! instead) and never above `maxPoints`. Levels: the highest level whose `points` the total
//! reaches. `/points/{key}/summary` splits 0..max into 10 equal ranges.
//!
//! **Leaderboards** rank users by the sum of their metric values (floored) or of their points
//! awards within the current run (between `start`/`end`, or the run of `runUnit`×`runInterval`
//! containing the date, selectable with `run`), or by current streak length. Only users with
//! activity in the run take part; ties share a rank (1, 2, 2, 4), ordered by user ID, and at most
//! `maxParticipants` are ranked. `userId` on `GET /leaderboards/{key}` makes `offset` count from
//! that user's position. A user's history records each change of their own rank or value caused
//! by their events.
//!
//! **Summaries and wrapped.** Event summaries bucket stored events (or awards) by day, week
//! (Monday) or month between `startDate` and `endDate` (at most 1000 buckets), with the change in
//! the bucket and the cumulative total at its end; a bucket's `date` is its first day within the
//! range. Wrapped counts active days, weeks and months of the year, picks the busiest day, week
//! and month (earliest on ties; January 1 when there is no activity), and reports metric and
//! points totals and changes, achievements completed in each period, and the longest run of
//! consecutive active streak periods in the year.
//!
//! **Achievements** come from the seed and from `POST /achievements` of the Admin API alike.
//! Their `status` decides what the Application API does with them: `active` ones are listed and
//! earned, `locked` ones listed but not earned (completing one answers 422), `inactive` ones
//! neither. A user earns one only when meeting its `userAttributes` conditions; a metric
//! achievement counts only the events matching its `eventAttributes`; an `anniversary`
//! achievement completes once `anniversaryYears` have passed since the user's `signUpDate`
//! (checked whenever the user is created, updated or sends an event).
//!
//! **Streak settings** (`PATCH /streaks/settings`) change how streaks count, for every user at
//! once: the `frequency`; `metrics` with thresholds (a period counts when one threshold, `OR`,
//! or all of them, `AND`, are met within it; without metrics any event counts); `daysOff`,
//! weekdays (0 = Sunday) on which a daily streak cannot be lost; and `freezes` (start count,
//! maximum held; `null` turns freezes off, so held freezes stop bridging). `POST /streaks/reset`
//! sets a streak to zero: activity before the reset no longer counts, and the history period of
//! the reset carries `resetAt`.
//!
//! **Settings** (`GET|PATCH /settings`) are stored per tenant; `experimentation.controlRatio`
//! puts that percentage of new users (by a stable hash of the user ID) in the control group
//! (`control: true`), which changes nothing else. `GET /environments` lists the seed's
//! environments (`production` unless the seed says otherwise). Leaderboard `userAttributes`
//! conditions rank only the users who meet them.
//!
//! **Bad input** answers a status the operation's document lists, with `{"error": "..."}`
//! naming what is wrong: a body that is not JSON or does not match the request type answers 400
//! where the operation documents 400 (metric events, users, batch events, streak freezes,
//! restore and reset), else 422; a mistyped query parameter 422; an ID that is not a UUID where
//! the document types a UUID 422; a method a path does not have 405 (with `Allow`). Where a
//! document is silent the closest documented status is used; each such choice is listed in the
//! repository's `openapi/README.md` ("Error answers").
//!
//! ## Simplifications
//!
//! * All dates are UTC; a user's `tz` is stored and returned but not used for day boundaries.
//! * `time` triggers, automatic freeze earning and emails are not emulated
//!   (`freezeAutoEarnInterval`/`Amount` are only reported); of the webhooks, only those listed
//!   under [Webhooks](#webhooks) are sent.
//! * Leaderboard `startTime`/`endTime` are stored but runs are whole days; breakdown attributes
//!   are reported but `userAttributes` on `GET /leaderboards/{key}` simply filters users by
//!   attribute (`key:value`) instead of selecting a split ranking. `breakdownAttributeValues`
//!   is not reported on events.
//! * Seeded metric achievements refer to metrics by key, so the metric may be created later.
//! * A user's own streak preferences (`streak.metrics`, `evaluationMode`, `daysOff`) are
//!   stored but the organisation's streak settings apply to everyone; `customizationEnabled`
//!   is only reported. Branding and `aggregationPeriod` are stored and reported only.
//! * User attributes are not checked against defined attributes.
//! * Wrapped `percentileThisPeriod` is omitted, `byAttribute` and `leaderboards` are empty.
//! * Deleting a metric forgets users' totals for it; deleting a points system or metric leaves
//!   triggers and leaderboards that refer to it in place (they stop matching).
//! * Validation is reasonable rather than exhaustive, and error messages are the emulator's own.
//!
//! ## Fault injection
//!
//! With a rate (`--fail-rate`, [`EmulatorBuilder::faults`], or `POST /_emulator/faults`), that
//! fraction of API requests is answered with the configured status (503 by default; 429 also
//! carries `Retry-After: 1`) before authentication, using a seeded splitmix64 generator, so a
//! given seed always fails the same requests. `failNext: n` fails exactly the next `n` requests.
//!
//! With [`Faults::after_processing`] (`--fail-after-processing`, `"afterProcessing": true`) the
//! chosen requests are processed first and only their answers are replaced by the fault: a lost
//! response. A metric event retried without an idempotency key then counts twice; with one, the
//! retry is answered `202` with `idempotentReplayed: true`.
//!
//! ## Rate limits
//!
//! With [`EmulatorBuilder::rate_limits`] (`--rate-limits[=SPEC]`, see [`RateLimits`] for
//! the syntax), requests are admitted per tier like Trophy's per-organisation limits: tier 1 is
//! `POST /v1/metrics/{key}/event`, `POST /v1/achievements/{key}/complete` and the whole Admin
//! API, tier 2 every other Application API operation. Trophy does not say which algorithm it
//! runs, so each tier runs one of four [`LimiterModel`]s: a token bucket with a burst (one
//! second of requests unless set), GCRA with no burst, a fixed window (N per wall-clock
//! second) or a sliding window (N in any rolling second). `--rate-limits` uses the strictest,
//! GCRA; [`RateLimits::trophy`] and [`RateLimits::per_second`] start with the token bucket
//! ([`RateLimits::model`] picks another). A request beyond its tier's budget is answered
//! `429 {"error": ...}` with `Retry-After` (whole seconds, at least 1) before authentication,
//! fault injection or processing; [`RateLimitHeaders`] optionally adds the IETF `RateLimit` /
//! `RateLimit-Policy` or the `X-RateLimit-*` headers to every answer. Off by default.
//! [`Emulator::rate_limit_counts`] and `GET /_emulator/rate-limits` count admitted and refused
//! requests per tier, with the model's name.
//!
//! ## Webhooks
//!
//! With a target (`--webhook-url URL --webhook-secret SECRET`, [`EmulatorBuilder::webhook`], or
//! at run time [`Emulator::set_webhook_target`] and `POST /_emulator/webhooks`, so a receiver
//! can bind its port after the emulator started), the emulator posts webhooks the way Trophy
//! does: a JSON body with a `type` and the `user`, signed in the [`SIGNATURE_HEADER`] header
//! (`X-Trophy-Signature`: standard base64 of the HMAC-SHA256 of the raw body with the secret),
//! so a receiver built on `trophy::webhooks::construct_event` or `VerifiedWebhook` can be
//! exercised offline. [`SIGNATURE_HEADER`] and [`WebhookSecret`] are the `trophy` crate's own
//! (re-exported), so both sides of a test share one vocabulary. Sent, in this order per request:
//!
//! * `achievement.completed` for each achievement a metric event, a batch event or a completion
//!   completed (chained achievements included);
//! * `streak.freeze_consumed` when a metric event used freezes to bridge missed periods (how
//!   many, and how many are left), then `streak.started` (length 1) or `streak.extended` when it
//!   extended the streak;
//! * `points.changed` for each points system that awarded points, and `points.level_changed`
//!   when the total crossed into another level;
//! * `leaderboard.rank_changed` for each leaderboard on which a metric event changed the acting
//!   user's rank (with rank and value before and after; users it pushed down get none).
//!
//! Replayed events (same idempotency key) and repeated completions send nothing. Requests that
//! fail, or that fault injection fails before processing, send nothing; a fault *after*
//! processing still sends (the request took effect). One task delivers in request order, up to 4
//! attempts per webhook (100, 200 and 400 ms apart; 5 s per attempt; any 2xx is success).
//! [`Emulator::webhook_deliveries`] and `GET /_emulator/webhooks` list what was sent;
//! [`Emulator::settle_webhooks`] waits for the queue to drain.
//!
//! Moving the clock forward (`POST /_emulator/clock`, [`Emulator::advance`],
//! [`Emulator::set_time`]) sends `streak.lost` for each streak the move ends (with its length)
//! and `leaderboard.finished` for each leaderboard whose end it passes (with the final
//! rankings). The other types (`streak.freeze_earned`, boosts, `leaderboard.started`/`changed`,
//! `emails.*`) are only sent on demand: `POST /_emulator/webhooks/trigger`, the inspector's
//! form, or `trophy-emulator trigger`.
//!
//! ## Seed file
//!
//! JSON, every field optional (`seed/default.json` is embedded and used by [`Emulator::start`]):
//!
//! ```json
//! {
//!   "now": "2026-01-15T12:00:00Z",
//!   "apiKeys": ["admin_emulator_key"],
//!   "streak": {"frequency": "daily", "maxFreezes": 3, "initialFreezes": 0},
//!   "achievements": [
//!     {"key": "finish-onboarding", "name": "Finish onboarding", "trigger": "api"},
//!     {"key": "ten-lessons", "name": "Ten lessons", "trigger": "metric",
//!      "metricKey": "lessons-completed", "metricValue": 10},
//!     {"key": "three-day-streak", "name": "Three-day streak", "trigger": "streak", "streakLength": 3},
//!     {"key": "all-star", "name": "All star", "trigger": "achievement",
//!      "achievementKeys": ["finish-onboarding", "ten-lessons"]}
//!   ],
//!   "metrics": [{"key": "lessons-completed", "name": "Lessons completed", "unitType": "number"}],
//!   "attributes": [{"key": "plan", "name": "Plan", "type": "user"}]
//! }
//! ```
//!
//! `now` freezes the clock at that instant (without it the clock follows the system time);
//! `apiKeys` restricts the organisation keys; achievements may also carry `id`, `description`
//! and `badgeUrl`, metrics and attributes an `id`. Points systems, triggers and leaderboards are
//! created through the Admin API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Source layout. Dependencies run one way: a module uses only modules of the layers below its
// own, never one of its own layer or above (and none uses the crate root, which uses them all).
// `tests/layout.rs` reads the `layer:` lines of this table and fails on a `crate::` path that
// breaks them, or on a cycle.
//
// layer: routes
//     the router: mounts both APIs, the controls and the inspector, with the middleware around them
// layer: ui
//     the inspector's HTML pages, rendered from the views of `inspect`, and their live updates
// layer: admin_api app_api controls counts ratelimit inspect
//     handlers of the Admin API, the Application API and `/_emulator/*`; rate limits; the
//     inspector's JSON views and the request-log middleware
// layer: context
//     request context (AppCtx, AdminCtx), query parameters, bodies, replies, ApiError
// layer: persist
//     the state file: export, import, atomic save
// layer: state
//     what sits behind the one mutex (clock, faults, keys, tenants, each tenant's State)
// layer: webhooks
//     signing, delivery and the payloads of a request
// layer: events
//     recording a metric event: idempotency, the model's changes, the answer
// layer: render
//     JSON bodies of both APIs from the model
// layer: model
//     a tenant's state and the rules that change it; no JSON shapes of answers
// layer: seed
//     the seed file format and its validation
// layer: values faults error reqlog
//     leaves: IDs, keys, dates, periods; fault settings; the start error; the request log ring
mod admin_api;
mod app_api;
mod context;
mod controls;
mod counts;
mod error;
mod events;
mod faults;
mod inspect;
mod model;
mod persist;
mod ratelimit;
mod render;
mod reqlog;
mod routes;
mod seed;
mod state;
mod ui;
mod values;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use counts::{EventCounts, MetricTotal};
pub use ratelimit::{LimiterModel, ParseRateLimitsError, RateLimitCounts, RateLimitHeaders, RateLimits};
pub use seed::{Seed, SeedAchievement, SeedAttribute, SeedEnvironment, SeedMetric, SeedStreak, DEFAULT_SEED_JSON};
pub use webhooks::{WebhookDelivery, WebhookSecret, WebhookTarget, SIGNATURE_HEADER};

pub use error::Error;
pub use faults::Faults;

use faults::FaultState;
use state::{Clock, Inner, Meta, Shared};

/// The 18 webhook types Trophy sends; [`trigger_webhook`] and the inspector's trigger form send
/// a sample of any of them.
pub const WEBHOOK_TYPES: [&str; 18] = {
    let mut types = [""; 18];
    let mut i = 0;
    while i < 18 {
        types[i] = webhooks::SAMPLES[i].0;
        i += 1;
    }
    types
};

/// Sends a signed sample webhook of `event_type` (one of [`WEBHOOK_TYPES`]) about `user_id` to
/// `target` (up to 4 attempts, like the emulator's deliveries) and returns what happened,
/// including the receiver's status and answer: what `trophy-emulator trigger` does.
///
/// ```no_run
/// # async fn demo() -> Result<(), trophy_emulator::Error> {
/// use trophy_emulator::{trigger_webhook, WebhookTarget};
///
/// let target = WebhookTarget::new("http://127.0.0.1:3000/webhooks/trophy", "whsec_test");
/// let d = trigger_webhook(&target, "streak.lost", "user-1").await?;
/// println!("{:?} {}", d.status, d.response);
/// # Ok(()) }
/// ```
pub async fn trigger_webhook(
    target: &WebhookTarget,
    event_type: &str,
    user_id: &str,
) -> Result<WebhookDelivery, Error> {
    if !target.url().starts_with("http://") {
        return Err(Error::Webhook(format!(
            "{}: the URL must start with http:// (the emulator sends without TLS)",
            target.url()
        )));
    }
    webhooks::trigger_standalone(target, event_type, user_id)
        .await
        .map(|d| d.public())
        .ok_or_else(|| {
            Error::Webhook(format!(
                "unknown webhook type {event_type:?}; one of: {}",
                WEBHOOK_TYPES.join(", ")
            ))
        })
}

/// The admin key returned by [`Emulator::admin_key`] when no keys are configured.
pub const DEFAULT_ADMIN_KEY: &str = "admin_emulator_key";

/// Configures and starts an [`Emulator`].
#[derive(Debug)]
pub struct EmulatorBuilder {
    seed: Option<Seed>,
    clock: Option<DateTime<Utc>>,
    faults: Faults,
    addr: SocketAddr,
    api_keys: Vec<String>,
    webhook: Option<WebhookTarget>,
    rate_limits: Option<RateLimits>,
    state_file: Option<PathBuf>,
    request_log: usize,
}

impl EmulatorBuilder {
    /// Keeps the state in this file: loaded at start when it exists (a torn file, another
    /// format or a newer version fails the start with [`Error::State`]), written by
    /// [`Emulator::save_state`] and `POST /_emulator/state/save`. See [State file](crate#state-file).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// How many requests the request log holds (default 10,000; the oldest are forgotten;
    /// 0 turns the log off: nothing is recorded, not even in the summary).
    pub fn request_log_capacity(mut self, entries: usize) -> Self {
        self.request_log = entries;
        self
    }

    /// Enforces per-tier request rates like Trophy (429 with `Retry-After` beyond them); off
    /// by default. [`RateLimits::trophy`] is Trophy's 5/s and 50/s; the SDK's
    /// `trophy::RateLimits` is taken too (its rates, under the default model).
    pub fn rate_limits(mut self, limits: impl Into<RateLimits>) -> Self {
        self.rate_limits = Some(limits.into());
        self
    }

    /// Delivers webhooks to this target (see the crate docs for which events are sent).
    pub fn webhook(mut self, target: WebhookTarget) -> Self {
        self.webhook = Some(target);
        self
    }

    /// Uses this seed instead of the default one.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Freezes the clock at `now` (overrides the seed's `now`).
    pub fn clock(mut self, now: DateTime<Utc>) -> Self {
        self.clock = Some(now);
        self
    }

    /// Enables fault injection.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Listens on this port of 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Listens on this address (default `127.0.0.1:0`).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Accepts only the given organisation keys (call several times for several keys).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_keys.push(key.into());
        self
    }

    /// Binds the listener and starts serving on the current Tokio runtime.
    pub async fn start(self) -> Result<Emulator, Error> {
        let seed = match self.seed {
            Some(s) => {
                s.validate()?;
                s
            }
            None => Seed::from_json(DEFAULT_SEED_JSON)?,
        };
        let clock = match self.clock.or(seed.now) {
            Some(t) => Clock::Fixed(t),
            None => Clock::System {
                offset: Duration::zero(),
            },
        };
        let mut api_keys = seed.api_keys.clone();
        api_keys.extend(self.api_keys);
        let admin_key = api_keys
            .first()
            .cloned()
            .unwrap_or_else(|| DEFAULT_ADMIN_KEY.to_string());
        let changed = Arc::new(AtomicU64::new(0));
        let (webhooks, webhook_task) = webhooks::Webhooks::start(self.webhook, changed.clone());
        let limiter = self.rate_limits.map(|l| Arc::new(ratelimit::Limiter::new(l)));
        let shared = Arc::new(Shared::new(
            Inner {
                seed,
                clock,
                faults: FaultState::new(self.faults),
                api_keys,
                app_keys: Vec::new(),
                tenants: Vec::new(),
                states: Default::default(),
                clock_changes: Vec::new(),
            },
            webhooks,
            reqlog::RequestLog::new(self.request_log),
            changed,
            Meta {
                admin_key: admin_key.clone(),
                state_file: self.state_file.clone(),
                rate_limits: Box::new(rate_limit_counts(limiter.clone())),
            },
        ));
        if let Some(path) = &self.state_file {
            persist::load(&shared, path).map_err(Error::State)?;
        }
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let app = routes::router(shared.clone(), limiter.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Emulator {
            addr,
            shared,
            limiter,
            admin_key,
            shutdown: Some(tx),
            task: Some(task),
            webhook_task: Some(webhook_task),
        })
    }
}

/// The inspector's view of the rate limits: admitted and refused requests per tier.
fn rate_limit_counts(limiter: Option<Arc<ratelimit::Limiter>>) -> impl Fn() -> serde_json::Value + Send + Sync {
    move || match &limiter {
        None => serde_json::json!({"enabled": false}),
        Some(l) => {
            let c = l.counts();
            serde_json::json!({
                "enabled": true,
                "admitted": {"tier1": c.admitted[0], "tier2": c.admitted[1]},
                "rejected": {"tier1": c.rejected[0], "tier2": c.rejected[1]},
            })
        }
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    limiter: Option<Arc<ratelimit::Limiter>>,
    admin_key: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    webhook_task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts an emulator with the default seed on a free port of 127.0.0.1.
    pub async fn start() -> Result<Emulator, Error> {
        Emulator::builder().start().await
    }

    /// A builder for other settings.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            seed: None,
            clock: None,
            faults: Faults::none(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_keys: Vec::new(),
            webhook: None,
            rate_limits: None,
            state_file: None,
            request_log: reqlog::DEFAULT_CAPACITY,
        }
    }

    /// The inspector's first page, `http://127.0.0.1:PORT/_emulator/ui/`.
    pub fn inspector_url(&self) -> String {
        format!("{}/_emulator/ui/", self.base_url())
    }

    /// Writes the state to the [`state_file`](EmulatorBuilder::state_file) atomically; returns
    /// the bytes written. [`Error::State`] without a state file or when writing fails.
    pub fn save_state(&self) -> Result<u64, Error> {
        let path = self
            .shared
            .meta
            .state_file
            .as_ref()
            .ok_or_else(|| Error::State("no state file configured".into()))?;
        persist::save(&self.shared, path).map_err(Error::State)
    }

    /// Requests admitted and refused (429) per tier, when rate limits are on.
    pub fn rate_limit_counts(&self) -> Option<RateLimitCounts> {
        self.limiter.as_ref().map(|l| l.counts())
    }

    /// How many metric events the emulator holds, and how many were idempotent replays.
    pub fn event_counts(&self) -> EventCounts {
        counts::counts(&self.shared.lock())
    }

    /// Every user's total of every metric with events, sorted by tenant, user and metric.
    pub fn metric_totals(&self) -> Vec<MetricTotal> {
        counts::totals(&self.shared.lock())
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Application API base URL, ending in `/v1`.
    pub fn app_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// The Admin API base URL, ending in `/admin/v1`.
    pub fn admin_url(&self) -> String {
        format!("{}/admin/v1", self.base_url())
    }

    /// An organisation API key accepted by both APIs.
    pub fn admin_key(&self) -> String {
        self.admin_key.clone()
    }

    /// The emulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.lock().clock.now()
    }

    /// Freezes the clock at `now` (streaks lost and leaderboards finished by the move send
    /// their webhooks, see [Webhooks](crate#webhooks)).
    pub fn set_time(&self, now: DateTime<Utc>) {
        self.shared.move_clock(|c| *c = Clock::Fixed(now));
    }

    /// Moves the clock by `by` (which may be negative), like [`set_time`](Emulator::set_time).
    pub fn advance(&self, by: Duration) {
        self.shared.move_clock(|c| c.advance(by));
    }

    /// Replaces the fault injection settings (restarting the generator from its seed).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = FaultState::new(faults);
    }

    /// How many faults were injected so far.
    pub fn faults_injected(&self) -> u64 {
        self.shared.lock().faults.injected
    }

    /// The webhooks sent so far (delivered or given up on), in order: those requests and
    /// clock moves caused (with a [`webhook`](EmulatorBuilder::webhook) target) and triggered ones.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.webhooks.deliveries().iter().map(|d| d.public()).collect()
    }

    /// Sets, changes or (with `None`) removes the webhook target while the emulator runs, e.g.
    /// once the receiver under test has bound its port. Webhooks of requests made from now on
    /// go to the new target; those already queued keep the target of their request. Also
    /// `POST /_emulator/webhooks` with `{"target": {"url": "http://...", "secret": "..."}}` (or
    /// `{"target": null}`).
    pub fn set_webhook_target(&self, target: impl Into<Option<WebhookTarget>>) {
        self.shared.webhooks.set_target(target.into());
        self.shared.touch();
    }

    /// The webhook target now, if any.
    pub fn webhook_target(&self) -> Option<WebhookTarget> {
        self.shared.webhooks.target()
    }

    /// Waits until every webhook queued so far has been delivered or given up on (at most 4
    /// attempts each), then returns all deliveries.
    pub async fn settle_webhooks(&self) -> Vec<WebhookDelivery> {
        self.shared.webhooks.settle().await;
        self.webhook_deliveries()
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(task) = self.webhook_task.take() {
            task.abort();
        }
    }
}
