//! A respondent's answers to a survey, read from the response form and checked against the
//! definition: every value in range, every option one the question offers, and, when the
//! respondent finishes, every required question answered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::response::{Ltr, parse_score};
use crate::survey::{COMMENT_KEY, LTR_KEY, MAX_TEXT_CHARS, QuestionKind, Survey};

/// The answer to one question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A score: NPS 0-10 or a rating 1-5.
    Score(u8),
    /// The options chosen (one for a single choice).
    Choices(Vec<String>),
    /// Free text, as written (control characters removed).
    Text(String),
}

/// Answers by question key; a question left blank has no entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Value>);

impl Answers {
    /// The likelihood to recommend, when given.
    pub fn ltr(&self) -> Option<Ltr> {
        match self.0.get(LTR_KEY) {
            Some(Value::Score(s)) => Ltr::new(*s),
            _ => None,
        }
    }

    /// The driver ratings (every rating question answered), as the analytics read them.
    pub fn scores(&self, survey: &Survey) -> BTreeMap<String, u8> {
        survey
            .drivers()
            .filter_map(|k| match self.0.get(k) {
                Some(Value::Score(s)) => Some((k.to_string(), *s)),
                _ => None,
            })
            .collect()
    }

    /// The comment reports show.
    pub fn comment(&self) -> Option<&str> {
        match self.0.get(COMMENT_KEY) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// Whether `option` of question `key` is chosen (for showing a saved answer again).
    pub fn chose(&self, key: &str, option: &str) -> bool {
        matches!(self.0.get(key), Some(Value::Choices(c)) if c.iter().any(|o| o == option))
    }

    /// The score given to question `key`.
    pub fn score(&self, key: &str) -> Option<u8> {
        match self.0.get(key) {
            Some(Value::Score(s)) => Some(*s),
            _ => None,
        }
    }

    /// The text given to question `key`.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.0.get(key) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }
}

/// What is wrong with the answer to one question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A required question was left blank.
    Missing,
    /// A score outside the question's scale, or not a number.
    OutOfRange {
        /// Lowest allowed.
        min: u8,
        /// Highest allowed.
        max: u8,
    },
    /// An option the question does not offer.
    UnknownOption,
    /// Several values where one is expected.
    OneExpected,
    /// A text longer than [`MAX_TEXT_CHARS`].
    TooLong,
}

/// A problem with the answer to the question keyed `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The question.
    pub key: String,
    /// What is wrong.
    pub problem: Problem,
}

/// Whether the respondent is saving to come back later or finishing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Keep what is there; required questions may still be blank.
    Save,
    /// Finish: every required question must be answered.
    Submit,
}

impl Survey {
    /// Reads the posted form (`name=value` pairs, a name repeated for several choices) into
    /// answers, or every problem found. Fields that are not questions are ignored.
    pub fn read_answers<'a>(
        &self,
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
        intent: Intent,
    ) -> Result<Answers, Vec<FieldError>> {
        let (answers, errors) = self.read_form(fields, intent);
        if errors.is_empty() { Ok(answers) } else { Err(errors) }
    }

    /// Reads the posted form into the answers that are valid and the problems with the rest:
    /// what a form shown again with its errors keeps filled in.
    pub fn read_form<'a>(
        &self,
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
        intent: Intent,
    ) -> (Answers, Vec<FieldError>) {
        let mut given: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, value) in fields {
            given.entry(name).or_default().push(value);
        }
        let mut answers = Answers::default();
        let mut errors = Vec::new();
        for q in &self.questions {
            let values: Vec<&str> =
                given.get(q.key.as_str()).into_iter().flatten().copied().filter(|v| !v.trim().is_empty()).collect();
            let err = |problem| FieldError { key: q.key.clone(), problem };
            let read = match (&q.kind, values.as_slice()) {
                (_, []) => Ok(None),
                (QuestionKind::MultipleChoice { .. }, _) | (QuestionKind::Text, _) => Ok(Some(())),
                (_, [_]) => Ok(Some(())),
                _ => Err(err(Problem::OneExpected)),
            };
            let value = match read {
                Err(e) => Err(e),
                Ok(None) => Ok(None),
                Ok(Some(())) => match &q.kind {
                    QuestionKind::Nps { .. } => score(values[0], 0, 10).map(Some).map_err(err),
                    QuestionKind::Rating { .. } => score(values[0], 1, 5).map(Some).map_err(err),
                    QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                        let mut chosen: Vec<String> = Vec::new();
                        let mut bad = false;
                        for v in &values {
                            match options.iter().find(|o| o.key == v.trim()) {
                                Some(o) if !chosen.contains(&o.key) => chosen.push(o.key.clone()),
                                Some(_) => {}
                                None => bad = true,
                            }
                        }
                        if bad { Err(err(Problem::UnknownOption)) } else { Ok(Some(Value::Choices(chosen))) }
                    }
                    QuestionKind::Text => {
                        let text = clean_text(&values.join("\n"));
                        if text.chars().count() > MAX_TEXT_CHARS {
                            Err(err(Problem::TooLong))
                        } else {
                            Ok((!text.is_empty()).then_some(Value::Text(text)))
                        }
                    }
                },
            };
            match value {
                Ok(Some(v)) => {
                    answers.0.insert(q.key.clone(), v);
                }
                Ok(None) if q.required && intent == Intent::Submit => errors.push(err(Problem::Missing)),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        (answers, errors)
    }
}

fn score(text: &str, min: u8, max: u8) -> Result<Value, Problem> {
    parse_score(text, min, max).map(Value::Score).map_err(|_| Problem::OutOfRange { min, max })
}

/// A free text as stored: line breaks normalised, other control characters (NUL among them,
/// which PostgreSQL refuses) removed, surrounding space trimmed.
fn clean_text(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::{Sender, relationship_template};

    fn survey() -> Survey {
        relationship_template(Sender {
            company: "Acme".into(),
            contact_name: "CX".into(),
            email: "cx@acme.example".into(),
            phone: "+1 555 0100".into(),
            logo_svg: None,
        })
    }

    #[test]
    fn a_full_answer_gives_ltr_drivers_choices_and_comment() {
        let form = [
            ("ltr", "9"),
            ("product", "4"),
            ("delivery", " 5 "),
            ("support", ""),
            ("buying_role", "decide"),
            ("contact_channels", "online"),
            ("contact_channels", "field"),
            ("comment", "  Faster quotes,\r\nplease.\u{0}  "),
            ("action", "submit"),
        ];
        let a = survey().read_answers(form, Intent::Submit).unwrap();
        assert_eq!(a.ltr(), Ltr::new(9));
        assert_eq!(a.scores(&survey()), BTreeMap::from([("delivery".into(), 5), ("product".into(), 4)]));
        assert!(a.chose("buying_role", "decide"));
        assert!(a.chose("contact_channels", "field") && a.chose("contact_channels", "online"));
        assert_eq!(a.comment(), Some("Faster quotes,\nplease."));
        assert!(!a.0.contains_key("support") && !a.0.contains_key("action"));
    }

    #[test]
    fn finishing_needs_the_required_questions_but_saving_does_not() {
        let form = [("product", "3")];
        let errors = survey().read_answers(form, Intent::Submit).unwrap_err();
        assert_eq!(errors, [FieldError { key: "ltr".into(), problem: Problem::Missing }]);
        let saved = survey().read_answers(form, Intent::Save).unwrap();
        assert_eq!(saved.score("product"), Some(3));
        assert_eq!(saved.ltr(), None);
    }

    #[test]
    fn bad_values_are_named_per_question_and_nothing_is_kept() {
        let form = [
            ("ltr", "11"),
            ("product", "0"),
            ("delivery", "five"),
            ("support", "-1"),
            ("value", "99999999999999999999"),
            ("buying_role", "decide"),
            ("buying_role", "use"),
            ("contact_channels", "<script>"),
        ];
        let errors = survey().read_answers(form, Intent::Save).unwrap_err();
        let got: Vec<(&str, Problem)> = errors.iter().map(|e| (e.key.as_str(), e.problem)).collect();
        assert_eq!(
            got,
            [
                ("ltr", Problem::OutOfRange { min: 0, max: 10 }),
                ("product", Problem::OutOfRange { min: 1, max: 5 }),
                ("delivery", Problem::OutOfRange { min: 1, max: 5 }),
                ("support", Problem::OutOfRange { min: 1, max: 5 }),
                ("value", Problem::OutOfRange { min: 1, max: 5 }),
                ("buying_role", Problem::OneExpected),
                ("contact_channels", Problem::UnknownOption),
            ]
        );
    }

    #[test]
    fn a_comment_is_kept_as_written_up_to_its_limit() {
        let script = "<script>alert('x')</script> '; DROP TABLE responses; -- =HYPERLINK(\"x\")";
        let a = survey().read_answers([("ltr", "3"), ("comment", script)], Intent::Submit).unwrap();
        assert_eq!(a.comment(), Some(script));
        let long = "é".repeat(MAX_TEXT_CHARS + 1);
        let errors = survey().read_answers([("ltr", "3"), ("comment", long.as_str())], Intent::Submit).unwrap_err();
        assert_eq!(errors[0].problem, Problem::TooLong);
        let fits = "é".repeat(MAX_TEXT_CHARS);
        assert!(survey().read_answers([("ltr", "3"), ("comment", fits.as_str())], Intent::Submit).is_ok());
    }

    #[test]
    fn answers_survive_their_json_form() {
        let form = [("ltr", "10"), ("buying_role", "use"), ("comment", "Great")];
        let a = survey().read_answers(form, Intent::Submit).unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"buying_role":["use"],"comment":"Great","ltr":10}"#);
        assert_eq!(serde_json::from_str::<Answers>(&json).unwrap(), a);
    }
}
