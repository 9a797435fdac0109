//! Survey definitions: the questions a wave asks, in every language it speaks.
//!
//! A definition is stored as JSON, one row per version: a wave keeps the version it was sent
//! with, so changing the survey never rewrites what earlier answers meant. Exactly one
//! question is the likelihood to recommend (NPS 0-10, key `ltr`); every rating question's key
//! is a driver the analytics correlate with it; the free-text question keyed `comment` is the
//! comment reports show.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A text in each language the survey speaks, by language code ("en", "de").
pub type Texts = BTreeMap<String, String>;

/// The key of the likelihood-to-recommend question.
pub const LTR_KEY: &str = "ltr";
/// The key of the free-text question whose answer is the comment reports show.
pub const COMMENT_KEY: &str = "comment";
/// The longest free-text answer kept, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Who is asking: shown on every survey page and message, with how to reach a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The company asking, e.g. "Acme Industrial".
    pub company: String,
    /// The person or team who answers questions about the survey.
    pub contact_name: String,
    /// Their email address.
    pub email: String,
    /// Their phone number.
    pub phone: String,
    /// A logo as an SVG document (kept small: it travels inside every survey page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_svg: Option<String>,
}

/// The largest logo accepted, in bytes, so that a survey page stays one small request.
pub const MAX_LOGO_BYTES: usize = 8 * 1024;

/// One question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable key: the driver name for ratings, `ltr` for the loyalty question.
    pub key: String,
    /// What is asked.
    pub text: Texts,
    /// Whether the survey cannot be finished without it.
    #[serde(default)]
    pub required: bool,
    /// The kind of answer.
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// The kinds of answer a question takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Likelihood to recommend, 0 (not at all likely) to 10 (extremely likely).
    Nps {
        /// The words under 0 and 10.
        low: Texts,
        /// The words under 10.
        high: Texts,
    },
    /// A rating from 1 to 5, each point labelled.
    Rating {
        /// The label of 1, 2, 3, 4 and 5.
        labels: [Texts; 5],
        /// True when it asks how much something matters ("how important is our brand")
        /// rather than how good an experience was: still a driver the analytics correlate
        /// with loyalty, but a low rating is nothing to fix.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        importance: bool,
    },
    /// One of several options.
    SingleChoice {
        /// The options.
        options: Vec<Choice>,
    },
    /// Any number of several options.
    MultipleChoice {
        /// The options.
        options: Vec<Choice>,
    },
    /// Free text.
    Text,
}

impl QuestionKind {
    /// The kind's name, as definitions spell it.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Nps { .. } => "nps",
            QuestionKind::Rating { .. } => "rating",
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultipleChoice { .. } => "multiple_choice",
            QuestionKind::Text => "text",
        }
    }
}

/// An option of a choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Stable key, stored with the answer.
    pub key: String,
    /// What the respondent reads.
    pub text: Texts,
}

/// A survey: what a wave asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    /// The survey's name, e.g. "B2B relationship survey".
    pub name: String,
    /// The languages it speaks; the first is used for contacts whose language it lacks.
    pub languages: Vec<String>,
    /// Who is asking.
    pub sender: Sender,
    /// The greeting above the questions.
    pub intro: Texts,
    /// What the thank-you page says happens next.
    pub thanks: Texts,
    /// The questions, in order.
    pub questions: Vec<Question>,
}

/// Why a survey definition cannot be used, naming the question and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DefinitionError(pub String);

impl Survey {
    /// The language to show a contact who reads `preferred`: that one when the survey speaks
    /// it (matching "de-CH" to "de"), else the survey's first language.
    pub fn language_for(&self, preferred: Option<&str>) -> &str {
        let wanted = preferred.map(|p| p.trim().to_ascii_lowercase());
        let found = wanted.as_deref().and_then(|w| {
            let primary = w.split(['-', '_']).next().unwrap_or(w);
            self.languages.iter().find(|l| l.as_str() == w).or_else(|| self.languages.iter().find(|l| *l == primary))
        });
        found.unwrap_or(&self.languages[0])
    }

    /// The question keyed `key`.
    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.key == key)
    }

    /// The keys of the rating questions: the drivers the analytics correlate with LTR.
    pub fn drivers(&self) -> impl Iterator<Item = &str> {
        self.questions.iter().filter(|q| matches!(q.kind, QuestionKind::Rating { .. })).map(|q| q.key.as_str())
    }

    /// The keys of the rating questions that ask how much something matters, not how good it
    /// was (see [`QuestionKind::Rating`]).
    pub fn importance_keys(&self) -> impl Iterator<Item = &str> {
        self.questions
            .iter()
            .filter(|q| matches!(q.kind, QuestionKind::Rating { importance: true, .. }))
            .map(|q| q.key.as_str())
    }

    /// Checks everything a wave relies on: one required NPS question keyed `ltr`, unique
    /// keys, every text in every language, options on every choice, a small logo.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        let fail = |msg: String| Err(DefinitionError(msg));
        if self.name.trim().is_empty() {
            return fail("the survey has no name: set \"name\"".into());
        }
        if self.languages.is_empty() {
            return fail("the survey speaks no language: list at least one in \"languages\", e.g. [\"en\"]".into());
        }
        if let Some(logo) = &self.sender.logo_svg {
            if logo.len() > MAX_LOGO_BYTES {
                return fail(format!(
                    "the logo is {} bytes; keep it under {MAX_LOGO_BYTES} bytes so the survey page stays small",
                    logo.len()
                ));
            }
            if !logo.trim_start().starts_with("<svg") && !logo.trim_start().starts_with("<?xml") {
                return fail("the logo is not an SVG document: it must start with <svg".into());
            }
        }
        for (field, value) in [("company", &self.sender.company), ("email", &self.sender.email)] {
            if value.trim().is_empty() {
                return fail(format!("the sender has no {field}: respondents must see who is asking"));
            }
        }
        self.check_texts("intro", &self.intro)?;
        self.check_texts("thanks", &self.thanks)?;
        let mut keys = BTreeSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            let at = format!("question {} ('{}')", i + 1, q.key);
            if !is_key(&q.key) {
                return fail(format!("{at}: a key is 1-40 lowercase letters, digits or '_' starting with a letter"));
            }
            if !keys.insert(q.key.as_str()) {
                return fail(format!("{at}: the key '{}' is used twice; keys must be unique", q.key));
            }
            self.check_texts(&at, &q.text)?;
            match &q.kind {
                QuestionKind::Nps { low, high } => {
                    if q.key != LTR_KEY {
                        return fail(format!("{at}: the NPS question must have the key '{LTR_KEY}'"));
                    }
                    if !q.required {
                        return fail(format!(
                            "{at}: the NPS question must be required; it is what every figure is built on"
                        ));
                    }
                    self.check_texts(&format!("{at}, its low label"), low)?;
                    self.check_texts(&format!("{at}, its high label"), high)?;
                }
                QuestionKind::Rating { labels, .. } => {
                    for (n, label) in labels.iter().enumerate() {
                        self.check_texts(&format!("{at}, the label of {}", n + 1), label)?;
                    }
                }
                QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                    if options.len() < 2 {
                        return fail(format!("{at}: a choice question needs at least two options"));
                    }
                    let mut seen = BTreeSet::new();
                    for o in options {
                        if !is_key(&o.key) || !seen.insert(o.key.as_str()) {
                            return fail(format!("{at}: the option key '{}' is not a unique key", o.key));
                        }
                        self.check_texts(&format!("{at}, option '{}'", o.key), &o.text)?;
                    }
                }
                QuestionKind::Text => {}
            }
            if q.key == LTR_KEY && !matches!(q.kind, QuestionKind::Nps { .. }) {
                return fail(format!("{at}: the key '{LTR_KEY}' is kept for the NPS question"));
            }
        }
        let nps = self.questions.iter().filter(|q| matches!(q.kind, QuestionKind::Nps { .. })).count();
        if nps != 1 {
            return fail(format!("the survey has {nps} NPS questions; it needs exactly one, keyed '{LTR_KEY}'"));
        }
        Ok(())
    }

    fn check_texts(&self, at: &str, texts: &Texts) -> Result<(), DefinitionError> {
        for lang in &self.languages {
            if texts.get(lang).is_none_or(|t| t.trim().is_empty()) {
                return Err(DefinitionError(format!("{at} has no text in '{lang}': give one for every language")));
            }
        }
        Ok(())
    }
}

/// The text of `texts` in `lang`, else in any language (a definition is validated to have all).
pub fn text_in<'a>(texts: &'a Texts, lang: &str) -> &'a str {
    texts.get(lang).or_else(|| texts.values().next()).map_or("", String::as_str)
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= 40
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The built-in B2B relationship survey, in English and German: likelihood to recommend, the
/// experience drivers (the demo's and the analytics' keys), the brand and promise questions,
/// the respondent's part in buying, what they use, and a comment.
pub fn relationship_template(sender: Sender) -> Survey {
    let company = sender.company.clone();
    let t = |en: &str, de: &str| -> Texts {
        [("en".to_string(), en.replace("{company}", &company)), ("de".to_string(), de.replace("{company}", &company))]
            .into()
    };
    let performance = || {
        [
            t("Very poor", "Sehr schlecht"),
            t("Poor", "Schlecht"),
            t("Fair", "Mittel"),
            t("Good", "Gut"),
            t("Excellent", "Ausgezeichnet"),
        ]
    };
    let rating = |key: &str, en: &str, de: &str, labels: [Texts; 5]| Question {
        key: key.into(),
        text: t(en, de),
        required: false,
        kind: QuestionKind::Rating { labels, importance: false },
    };
    let choice = |key: &str, en: &str, de: &str| Choice { key: key.into(), text: t(en, de) };
    Survey {
        name: "B2B relationship survey".into(),
        languages: vec!["en".into(), "de".into()],
        intro: t(
            "Thank you for working with {company}. Four minutes of your time tells us what to keep and what to fix; \
             your account team reads every answer.",
            "Danke für die Zusammenarbeit mit {company}. Vier Minuten Ihrer Zeit zeigen uns, was wir beibehalten \
             und was wir verbessern sollen; Ihr Account-Team liest jede Antwort.",
        ),
        thanks: t(
            "Your answers are with your account team now. If anything needs fixing, the person responsible for \
             your account will contact you within two working days, and we will tell you what we changed.",
            "Ihre Antworten liegen jetzt bei Ihrem Account-Team. Wenn etwas verbessert werden muss, meldet sich die \
             für Ihr Konto verantwortliche Person innerhalb von zwei Arbeitstagen, und wir sagen Ihnen, was wir \
             geändert haben.",
        ),
        questions: vec![
            Question {
                key: LTR_KEY.into(),
                text: t(
                    "How likely is it that you would recommend {company} to a colleague or business partner?",
                    "Wie wahrscheinlich ist es, dass Sie {company} einem Kollegen oder Geschäftspartner empfehlen?",
                ),
                required: true,
                kind: QuestionKind::Nps {
                    low: t("Not at all likely", "Überhaupt nicht wahrscheinlich"),
                    high: t("Extremely likely", "Äußerst wahrscheinlich"),
                },
            },
            rating(
                "product",
                "How do you rate the quality of our products?",
                "Wie bewerten Sie die Qualität unserer Produkte?",
                performance(),
            ),
            rating(
                "delivery",
                "How do you rate our delivery: on time, complete and as ordered?",
                "Wie bewerten Sie unsere Lieferung: pünktlich, vollständig und wie bestellt?",
                performance(),
            ),
            rating(
                "support",
                "How do you rate the support you get when you need it?",
                "Wie bewerten Sie die Unterstützung, die Sie bei Bedarf erhalten?",
                performance(),
            ),
            rating(
                "value",
                "How do you rate the value you get for what you pay?",
                "Wie bewerten Sie den Gegenwert für Ihre Ausgaben?",
                performance(),
            ),
            Question {
                kind: QuestionKind::Rating {
                    labels: [
                        t("Not important", "Nicht wichtig"),
                        t("Slightly important", "Wenig wichtig"),
                        t("Moderately important", "Mittelmäßig wichtig"),
                        t("Very important", "Sehr wichtig"),
                        t("Decisive", "Entscheidend"),
                    ],
                    importance: true,
                },
                ..rating(
                    "brand",
                    "How important to your buying decision is our brand and the service promise it makes?",
                    "Wie wichtig sind unsere Marke und ihr Serviceversprechen für Ihre Kaufentscheidung?",
                    performance(),
                )
            },
            rating(
                "promise",
                "Do we deliver the experience our marketing and sales force promised?",
                "Erleben Sie bei uns, was unser Marketing und unser Vertrieb versprochen haben?",
                [
                    t("Never", "Nie"),
                    t("Rarely", "Selten"),
                    t("Sometimes", "Manchmal"),
                    t("Mostly", "Meistens"),
                    t("Always", "Immer"),
                ],
            ),
            Question {
                key: "buying_role".into(),
                text: t(
                    "What is your part in decisions to buy from {company}?",
                    "Welche Rolle haben Sie bei Entscheidungen, bei {company} zu kaufen?",
                ),
                required: false,
                kind: QuestionKind::SingleChoice {
                    options: vec![
                        choice("decide", "I decide", "Ich entscheide"),
                        choice("influence", "I influence the decision", "Ich beeinflusse die Entscheidung"),
                        choice("use", "I use what we buy", "Ich nutze, was wir kaufen"),
                    ],
                },
            },
            Question {
                key: "contact_channels".into(),
                text: t(
                    "How do you usually work with us? (choose any)",
                    "Wie arbeiten Sie üblicherweise mit uns? (Mehrfachauswahl)",
                ),
                required: false,
                kind: QuestionKind::MultipleChoice {
                    options: vec![
                        choice("account_manager", "Through my account manager", "Über meinen Account Manager"),
                        choice("service_desk", "Through the service desk", "Über den Service-Desk"),
                        choice("online", "Online ordering", "Online-Bestellung"),
                        choice("field", "On-site visits", "Besuche vor Ort"),
                    ],
                },
            },
            Question {
                key: COMMENT_KEY.into(),
                text: t(
                    "What is the one thing we should do to make working with {company} better?",
                    "Was ist das Wichtigste, das wir tun sollten, damit die Zusammenarbeit mit {company} besser wird?",
                ),
                required: false,
                kind: QuestionKind::Text,
            },
        ],
        sender,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender {
        Sender {
            company: "Acme Industrial".into(),
            contact_name: "Customer Experience team".into(),
            email: "cx@acme.example".into(),
            phone: "+1 555 0100".into(),
            logo_svg: None,
        }
    }

    #[test]
    fn the_template_is_a_valid_survey_in_english_and_german() {
        let s = relationship_template(sender());
        s.validate().unwrap();
        assert_eq!(s.languages, ["en", "de"]);
        assert!(text_in(&s.question("ltr").unwrap().text, "en").contains("recommend Acme Industrial"));
        assert!(text_in(&s.question("ltr").unwrap().text, "de").contains("Acme Industrial"));
        assert_eq!(s.drivers().collect::<Vec<_>>(), ["product", "delivery", "support", "value", "brand", "promise"]);
        assert!(s.question("brand").is_some_and(|q| text_in(&q.text, "en").contains("service promise")));
        assert_eq!(s.importance_keys().collect::<Vec<_>>(), ["brand"], "brand asks how much it matters");
        assert!(s.question("promise").is_some_and(|q| text_in(&q.text, "en").contains("marketing and sales force")));
    }

    #[test]
    fn a_definition_survives_its_json_form() {
        let s = relationship_template(sender());
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""type":"nps""#));
        assert_eq!(serde_json::from_str::<Survey>(&json).unwrap(), s);
    }

    #[test]
    fn each_contact_reads_their_language_or_the_first() {
        let s = relationship_template(sender());
        assert_eq!(s.language_for(Some("de")), "de");
        assert_eq!(s.language_for(Some("DE-ch")), "de");
        assert_eq!(s.language_for(Some("fr")), "en");
        assert_eq!(s.language_for(None), "en");
    }

    #[test]
    fn broken_definitions_say_what_to_fix() {
        let broken = |f: &dyn Fn(&mut Survey)| {
            let mut s = relationship_template(sender());
            f(&mut s);
            s.validate().unwrap_err().0
        };
        assert!(broken(&|s| s.questions.retain(|q| q.key != "ltr")).contains("needs exactly one"));
        assert!(broken(&|s| s.questions[0].required = false).contains("must be required"));
        assert!(broken(&|s| s.questions[2].key = "product".into()).contains("used twice"));
        assert!(broken(&|s| s.questions[1].key = "Bad Key".into()).contains("lowercase"));
        assert!(
            broken(&|s| {
                s.questions[1].text.remove("de");
            })
            .contains("question 2 ('product') has no text in 'de'")
        );
        assert!(broken(&|s| s.languages.clear()).contains("no language"));
        assert!(broken(&|s| s.sender.logo_svg = Some("<script>".into())).contains("not an SVG"));
        assert!(broken(&|s| s.sender.logo_svg = Some(format!("<svg>{}</svg>", "x".repeat(9000)))).contains("bytes"));
        assert!(
            broken(&|s| {
                if let QuestionKind::SingleChoice { options } = &mut s.questions[7].kind {
                    options.truncate(1);
                }
            })
            .contains("at least two options")
        );
    }
}
