//! The durable job queue: deliveries of invitations and reminders.
//!
//! A job is claimed by one atomic `UPDATE ... RETURNING` (on PostgreSQL over rows locked with
//! `FOR UPDATE SKIP LOCKED`), so two workers, in one process or several, never take the same
//! job. Delivery is at most once: a job whose worker died while it ran (its lease expired) is
//! not run again, because the message may have gone out; it is marked failed and says so, and
//! `rapport wave send --retry-failed` queues it again on purpose. Workers claim one job at a
//! time, so a crash leaves only the message in flight in that state.

use time::{Duration, OffsetDateTime};

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::{Tx, on_tx, on_writer};

/// What a job delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// The first message of an invitation.
    Invitation,
    /// A reminder to someone who has not answered.
    Reminder,
}

impl JobKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Invitation => "invitation",
            JobKind::Reminder => "reminder",
        }
    }
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// What it delivers.
    pub kind: JobKind,
    /// The invitation it delivers.
    pub invitation_id: i64,
    /// How many times it has been tried, this one included.
    pub attempts: i64,
    /// Which claim of the job this is: a worker holds the job while it is the latest.
    pub claim: i64,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The mail server or SMS gateway took the message.
    Sent,
    /// It may work later (the server was unreachable or said "try again"): retry at the time.
    Retry {
        /// What went wrong.
        error: String,
        /// When to try again.
        at: OffsetDateTime,
    },
    /// It will not work (a refused address, no address): recorded on the invitation.
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// Queue counts, for progress and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Waiting to run (including retries not yet due).
    pub queued: u64,
    /// Being run now.
    pub running: u64,
    /// Delivered.
    pub done: u64,
    /// Gave up.
    pub failed: u64,
}

impl QueueCounts {
    /// The counts from (status, count) rows.
    pub(crate) fn from_rows(rows: Vec<(String, i64)>) -> QueueCounts {
        let mut c = QueueCounts::default();
        for (status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match status.as_str() {
                "queued" => c.queued = n,
                "running" => c.running = n,
                "done" => c.done = n,
                _ => c.failed = n,
            }
        }
        c
    }
}

impl Store {
    /// Queues the first message of every pending invitation of the wave that goes by one of
    /// `channels` (email, sms), except to those who have answered already (through an open
    /// link, say) and to those who unsubscribed or opted out. Returns how many were queued; queueing again adds nothing.
    pub async fn queue_invitations(
        &self,
        wave_id: i64,
        channels: &[&str],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        Ok(on_writer!(self, |conn| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO jobs (kind, invitation_id, seq, run_at) SELECT 'invitation', i.id, 0, ",
            );
            qb.push_bind(now).push(" FROM invitations i JOIN contacts c ON c.id = i.contact_id WHERE i.wave_id = ");
            qb.push_bind(wave_id);
            // Nor to those who unsubscribed or opted out since the wave was made.
            qb.push(
                " AND i.status = 'pending' AND i.answered_at IS NULL AND c.unsubscribed_at IS NULL \
                 AND c.opted_out = false AND i.channel IN (",
            );
            let mut sep = qb.separated(", ");
            for c in channels {
                sep.push_bind(*c);
            }
            qb.push(") ON CONFLICT (kind, invitation_id, seq) DO NOTHING");
            qb.build().execute(&mut *conn).await?.rows_affected()
        }))
    }

    /// Queues a fresh delivery of the wave's invitations whose delivery failed, except those
    /// answered since (the failed message did arrive, or an open link was used).
    pub async fn requeue_failed(&self, wave_id: i64, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let n = on_tx!(&mut tx, |t| sqlx::query(
            "UPDATE jobs SET status = 'queued', run_at = $2, attempts = 0, locked_until = NULL, last_error = NULL, \
             finished_at = NULL WHERE status = 'failed' AND invitation_id IN \
             (SELECT id FROM invitations WHERE wave_id = $1 AND status = 'failed' AND answered_at IS NULL)"
        )
        .bind(wave_id)
        .bind(now)
        .execute(&mut **t)
        .await?
        .rows_affected());
        on_tx!(&mut tx, |t| sqlx::query(
            "UPDATE invitations SET status = 'pending', last_error = NULL WHERE wave_id = $1 AND status = 'failed' \
             AND answered_at IS NULL"
        )
        .bind(wave_id)
        .execute(&mut **t)
        .await?
        .rows_affected());
        tx.commit().await?;
        Ok(n)
    }

    /// Queues reminders for invitations of open waves that were delivered, are not answered,
    /// whose contact has not unsubscribed or opted out, and whose last message is older than the wave's reminder interval, up to its number of
    /// reminders. Returns how many were queued; each reminder is queued once.
    pub async fn queue_reminders(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let sql = "SELECT i.id, i.reminders, COALESCE(i.reminded_at, i.sent_at) AS last, w.remind_after_days \
                   FROM invitations i JOIN waves w ON w.id = i.wave_id JOIN contacts c ON c.id = i.contact_id \
                   WHERE w.status = 'open' AND w.remind_after_days IS NOT NULL AND i.reminders < w.max_reminders \
                   AND i.status = 'sent' AND i.answered_at IS NULL AND c.unsubscribed_at IS NULL \
                   AND c.opted_out = false";
        let due: Vec<(i64, i32, Option<OffsetDateTime>, Option<i32>)> =
            on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        let mut queued = 0;
        for (id, reminders, last, days) in due {
            let Some(last) = last else { continue };
            if last + Duration::days(i64::from(days.unwrap_or(7))) > now {
                continue;
            }
            let sql = "INSERT INTO jobs (kind, invitation_id, seq, run_at) VALUES ('reminder', $1, $2, $3) \
                       ON CONFLICT (kind, invitation_id, seq) DO NOTHING";
            queued += on_writer!(self, |conn| sqlx::query(sql)
                .bind(id)
                .bind(reminders + 1)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected());
        }
        Ok(queued)
    }

    /// Claims up to `limit` due jobs for `lease` whose invitations go by one of `channels`
    /// (the ones the worker can send): no other worker gets them. Jobs for another channel stay
    /// queued for a worker that can send them, rather than failing here.
    pub async fn claim_jobs(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
        channels: &[&str],
    ) -> Result<Vec<Job>, StoreError> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String, i64, i32, i64)> = on_writer!(self, |conn| {
            let mut qb = sqlx::QueryBuilder::new(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, claims = claims + 1, locked_until = ",
            );
            qb.push_bind(now + lease);
            qb.push(
                " WHERE id IN (SELECT j.id FROM jobs j JOIN invitations i ON i.id = j.invitation_id \
                 WHERE j.status = 'queued' AND j.run_at <= ",
            );
            qb.push_bind(now).push(" AND i.channel IN (");
            let mut sep = qb.separated(", ");
            for c in channels {
                sep.push_bind(*c);
            }
            qb.push(") ORDER BY j.run_at, j.id LIMIT ").push_bind(limit);
            if self.backend() == crate::Backend::Postgres {
                qb.push(" FOR UPDATE OF j SKIP LOCKED");
            }
            qb.push(") RETURNING id, kind, invitation_id, attempts, claims");
            qb.build_query_as().fetch_all(&mut *conn).await?
        });
        let mut jobs: Vec<Job> = rows
            .into_iter()
            .map(|(id, kind, invitation_id, attempts, claim)| Job {
                id,
                kind: if kind == "reminder" { JobKind::Reminder } else { JobKind::Invitation },
                invitation_id,
                attempts: i64::from(attempts),
                claim,
            })
            .collect();
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Records how a claimed job ended, on the job and on its invitation, in one transaction.
    /// A worker that lost its hold on the job (its lease ran out and the job was counted
    /// abandoned, or sent again by another worker) changes nothing of the job's later fate,
    /// except that a message it did send is recorded as sent: that is what happened.
    pub async fn finish_job(&self, job: &Job, outcome: &Outcome, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        // The worker holds the job while its claim is the latest and the job still runs.
        const HELD: &str = "id = $1 AND claims = $2 AND status = 'running'";
        match outcome {
            Outcome::Sent => {
                let sql = "UPDATE jobs SET status = 'done', finished_at = $3, locked_until = NULL, last_error = NULL \
                           WHERE id = $1 AND claims = $2";
                on_tx!(&mut tx, |t| sqlx::query(sql)
                    .bind(job.id)
                    .bind(job.claim)
                    .bind(now)
                    .execute(&mut **t)
                    .await?
                    .rows_affected());
                let sql = match job.kind {
                    JobKind::Invitation => {
                        "UPDATE invitations SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1"
                    }
                    JobKind::Reminder => {
                        "UPDATE invitations SET reminders = reminders + 1, reminded_at = $2 WHERE id = $1"
                    }
                };
                on_tx!(&mut tx, |t| sqlx::query(sql)
                    .bind(job.invitation_id)
                    .bind(now)
                    .execute(&mut **t)
                    .await?
                    .rows_affected());
            }
            Outcome::Retry { error, at } => {
                let sql = format!(
                    "UPDATE jobs SET status = 'queued', run_at = $3, locked_until = NULL, last_error = $4 WHERE {HELD}"
                );
                on_tx!(&mut tx, |t| sqlx::query(&sql)
                    .bind(job.id)
                    .bind(job.claim)
                    .bind(*at)
                    .bind(error)
                    .execute(&mut **t)
                    .await?
                    .rows_affected());
            }
            Outcome::Failed { error } => {
                let sql = format!(
                    "UPDATE jobs SET status = 'failed', finished_at = $3, locked_until = NULL, last_error = $4 \
                     WHERE {HELD}"
                );
                let held = on_tx!(&mut tx, |t| sqlx::query(&sql)
                    .bind(job.id)
                    .bind(job.claim)
                    .bind(now)
                    .bind(error)
                    .execute(&mut **t)
                    .await?
                    .rows_affected());
                if held == 1 && job.kind == JobKind::Invitation {
                    on_tx!(&mut tx, |t| sqlx::query(
                        "UPDATE invitations SET status = 'failed', last_error = $2 WHERE id = $1"
                    )
                    .bind(job.invitation_id)
                    .bind(error)
                    .execute(&mut **t)
                    .await?
                    .rows_affected());
                }
            }
        }
        tx.commit().await
    }

    /// Marks the jobs whose worker stopped while running them (lease expired) as failed,
    /// without running them again: their message may have been delivered. Returns how many.
    pub async fn fail_abandoned_jobs(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        const WHY: &str = "interrupted while sending (the worker stopped): it may have been delivered, so it was \
                           not sent again; `rapport wave send --retry-failed` sends it again";
        let mut tx = Tx::begin(self).await?;
        let ids: Vec<(i64, String, i64)> = on_tx!(&mut tx, |t| sqlx::query_as(
            "UPDATE jobs SET status = 'failed', finished_at = $1, last_error = $2 \
             WHERE status = 'running' AND locked_until < $1 RETURNING id, kind, invitation_id"
        )
        .bind(now)
        .bind(WHY)
        .fetch_all(&mut **t)
        .await?);
        for (_, kind, invitation) in &ids {
            if kind == "invitation" {
                on_tx!(&mut tx, |t| sqlx::query(
                    "UPDATE invitations SET status = 'failed', last_error = $2 WHERE id = $1"
                )
                .bind(*invitation)
                .bind(WHY)
                .execute(&mut **t)
                .await?
                .rows_affected());
            }
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Jobs by status, for one wave or all.
    pub async fn queue_counts(&self, wave_id: Option<i64>) -> Result<QueueCounts, StoreError> {
        let sql = "SELECT j.status, COUNT(*) FROM jobs j JOIN invitations i ON i.id = j.invitation_id \
                   WHERE $1 IS NULL OR i.wave_id = $1 GROUP BY j.status";
        let rows: Vec<(String, i64)> = on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).fetch_all(pool).await?);
        Ok(QueueCounts::from_rows(rows))
    }

    /// A wave's messages waiting to be sent, per channel (email, sms): those of a channel no
    /// running worker sends wait until one that does runs.
    pub async fn queued_by_channel(&self, wave_id: i64) -> Result<Vec<(String, u64)>, StoreError> {
        let sql = "SELECT i.channel, COUNT(*) FROM jobs j JOIN invitations i ON i.id = j.invitation_id \
                   WHERE i.wave_id = $1 AND j.status = 'queued' GROUP BY i.channel ORDER BY i.channel";
        let rows: Vec<(String, i64)> = on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(channel, n)| (channel, u64::try_from(n).unwrap_or(0))).collect())
    }

    /// Sets a wave's reminders: after `after_days` without an answer, at most `max` of them.
    pub async fn set_reminders(&self, wave_id: i64, after_days: u32, max: u32) -> Result<(), StoreError> {
        let sql = "UPDATE waves SET remind_after_days = $2, max_reminders = $3 WHERE id = $1";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(wave_id)
            .bind(i64::from(after_days))
            .bind(i64::from(max))
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }
}
