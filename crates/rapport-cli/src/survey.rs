//! `rapport survey template|add|list`: the survey definitions waves ask.

use std::path::PathBuf;

use anyhow::{Context, bail};
use rapport_core::survey::{Sender, Survey, relationship_template};
use rapport_store::Store;

/// `rapport survey ...`.
#[derive(Debug, clap::Subcommand)]
pub enum SurveyCommand {
    /// Print the built-in B2B relationship survey as JSON, to edit and `add` (questions,
    /// languages, texts, who is asking).
    Template(SenderArgs),
    /// Save a survey definition (JSON): a new version when it differs from the latest one
    /// under its name. Waves keep the version they were created with.
    Add(AddArgs),
    /// List the surveys with their latest version.
    List,
}

/// Who is asking: shown on every survey page and invitation.
#[derive(Debug, Clone, clap::Args)]
pub struct SenderArgs {
    /// Your company's name, as respondents know it.
    #[arg(long, env = "RAPPORT_COMPANY")]
    pub company: Option<String>,
    /// Who answers questions about the survey, e.g. "Customer Experience team".
    #[arg(long, default_value = "Customer Experience team")]
    pub contact_name: String,
    /// Their email address.
    #[arg(long, env = "RAPPORT_SURVEY_EMAIL")]
    pub email: Option<String>,
    /// Their phone number.
    #[arg(long, env = "RAPPORT_SURVEY_PHONE", default_value = "")]
    pub phone: String,
    /// Your logo, an SVG file under 8 KB.
    #[arg(long)]
    pub logo: Option<PathBuf>,
}

impl SenderArgs {
    fn sender(&self) -> anyhow::Result<Sender> {
        let (Some(company), Some(email)) = (&self.company, &self.email) else {
            bail!(
                "the built-in survey needs to say who is asking: give --company \"Your company\" and --email \
                 surveys@your.domain (or set RAPPORT_COMPANY and RAPPORT_SURVEY_EMAIL)"
            );
        };
        let logo_svg = match &self.logo {
            Some(path) => {
                Some(std::fs::read_to_string(path).with_context(|| format!("reading the logo {}", path.display()))?)
            }
            None => None,
        };
        Ok(Sender {
            company: company.clone(),
            contact_name: self.contact_name.clone(),
            email: email.clone(),
            phone: self.phone.clone(),
            logo_svg,
        })
    }
}

/// `rapport survey add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The definition (JSON, as `rapport survey template` prints it).
    #[arg(required_unless_present = "template", conflicts_with = "template")]
    pub file: Option<PathBuf>,
    /// Save the built-in B2B relationship survey instead of a file.
    #[arg(long)]
    pub template: bool,
    /// Who is asking (with --template).
    #[command(flatten)]
    pub sender: SenderArgs,
}

/// Runs `rapport survey ...`.
pub async fn survey(store: &Store, command: SurveyCommand) -> anyhow::Result<()> {
    match command {
        SurveyCommand::Template(sender) => {
            let survey = relationship_template(sender.sender()?);
            say!("{}", serde_json::to_string_pretty(&survey)?);
        }
        SurveyCommand::Add(args) => {
            let survey = match &args.file {
                Some(path) => read(path)?,
                None => relationship_template(args.sender.sender()?),
            };
            let saved = store.save_survey(&survey).await?;
            crate::audit(store, "survey.save", &saved.survey.name, &format!("version {}", saved.version)).await?;
            say!(
                "Saved '{}' version {} ({} questions, languages {}).",
                saved.survey.name,
                saved.version,
                saved.survey.questions.len(),
                saved.survey.languages.join(", ")
            );
        }
        SurveyCommand::List => {
            let surveys = store.list_surveys().await?;
            if surveys.is_empty() {
                say!(
                    "No surveys yet: save the built-in one with `rapport survey add --template --company ... --email ...`."
                );
            }
            for s in surveys {
                say!(
                    "{}  version {}  {} questions  {}",
                    s.survey.name,
                    s.version,
                    s.survey.questions.len(),
                    s.survey.languages.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// Reads and checks a definition file, naming the file and the problem.
fn read(path: &std::path::Path) -> anyhow::Result<Survey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let survey: Survey = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}, line {}, column {}: {e}; compare with `rapport survey template`",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    survey.validate().with_context(|| format!("{} is not a usable survey", path.display()))?;
    Ok(survey)
}
