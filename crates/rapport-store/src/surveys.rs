//! Survey definitions, one row per version: saving a changed definition adds a version and
//! never rewrites one a wave was sent with.

use rapport_core::survey::Survey;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::{Tx, on_tx};

/// One stored version of a survey.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyVersion {
    /// The version's id (what a wave refers to).
    pub id: i64,
    /// 1 for the first definition saved under the survey's name, then 2, 3, ...
    pub version: i64,
    /// The definition.
    pub survey: Survey,
}

fn decode(id: i64, version: i32, definition: &str) -> Result<SurveyVersion, StoreError> {
    let survey = serde_json::from_str(definition).map_err(|e| {
        StoreError::Other(anyhow::Error::new(e).context(format!("reading version {version} of a stored survey")))
    })?;
    Ok(SurveyVersion { id, version: i64::from(version), survey })
}

impl Store {
    /// Saves `survey` under its name: a new version when it differs from the latest, else the
    /// latest as it is. The definition must be valid.
    pub async fn save_survey(&self, survey: &Survey) -> Result<SurveyVersion, StoreError> {
        survey.validate().map_err(|e| StoreError::Other(anyhow::Error::new(e).context("the survey is not valid")))?;
        let definition = serde_json::to_string(survey).map_err(|e| StoreError::Other(e.into()))?;
        let mut tx = Tx::begin(self).await?;
        let survey_id: i64 = on_tx!(&mut tx, |t| {
            sqlx::query_scalar(
            "INSERT INTO surveys (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id"
        )
        .bind(&survey.name)
        .fetch_one(&mut **t)
        .await?
        });
        let latest: Option<(i64, i32, String)> = on_tx!(&mut tx, |t| sqlx::query_as(
            "SELECT id, version, definition FROM survey_versions WHERE survey_id = $1 ORDER BY version DESC LIMIT 1"
        )
        .bind(survey_id)
        .fetch_optional(&mut **t)
        .await?);
        if let Some((id, version, stored)) = &latest {
            let same = decode(*id, *version, stored).is_ok_and(|v| v.survey == *survey);
            if same {
                tx.rollback().await?;
                return Ok(SurveyVersion { id: *id, version: i64::from(*version), survey: survey.clone() });
            }
        }
        let version: i32 = latest.map_or(1, |(_, v, _)| v + 1);
        let id: i64 = on_tx!(&mut tx, |t| sqlx::query_scalar(
            "INSERT INTO survey_versions (survey_id, version, definition) VALUES ($1, $2, $3) RETURNING id"
        )
        .bind(survey_id)
        .bind(version)
        .bind(&definition)
        .fetch_one(&mut **t)
        .await?);
        tx.commit().await?;
        Ok(SurveyVersion { id, version: i64::from(version), survey: survey.clone() })
    }

    /// The latest version of the survey named `name`.
    pub async fn latest_survey(&self, name: &str) -> Result<Option<SurveyVersion>, StoreError> {
        let sql = "SELECT v.id, v.version, v.definition FROM survey_versions v JOIN surveys s ON s.id = v.survey_id \
                   WHERE s.name = $1 ORDER BY v.version DESC LIMIT 1";
        let row: Option<(i64, i32, String)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(name).fetch_optional(pool).await?);
        row.map(|(id, version, def)| decode(id, version, &def)).transpose()
    }

    /// One version by id.
    pub async fn survey_version(&self, id: i64) -> Result<SurveyVersion, StoreError> {
        let sql = "SELECT id, version, definition FROM survey_versions WHERE id = $1";
        let (id, version, def): (i64, i32, String) =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(id).fetch_one(pool).await?);
        decode(id, version, &def)
    }

    /// The latest version of every survey, by name.
    pub async fn list_surveys(&self) -> Result<Vec<SurveyVersion>, StoreError> {
        let sql = "SELECT v.id, v.version, v.definition FROM survey_versions v JOIN surveys s ON s.id = v.survey_id \
                   WHERE v.version = (SELECT MAX(version) FROM survey_versions w WHERE w.survey_id = v.survey_id) \
                   ORDER BY s.name";
        let rows: Vec<(i64, i32, String)> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        rows.into_iter().map(|(id, version, def)| decode(id, version, &def)).collect()
    }
}
