//! Any bytes as a posted response form (application/x-www-form-urlencoded), read against a
//! survey with every kind of question, to save and to finish: never a panic, and whatever is
//! accepted is in range: scores 0-10 or 1-5, options the question offers, text within its
//! limit, only the survey's questions, and a finished answer has every required question.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rapport_core::answer::{Intent, Value};
use rapport_core::survey::{
    Choice, MAX_TEXT_CHARS, Question, QuestionKind, Sender, Survey, Texts, relationship_template,
};

fn survey() -> &'static Survey {
    static SURVEY: OnceLock<Survey> = OnceLock::new();
    SURVEY.get_or_init(|| {
        let sender = Sender {
            company: "Acme".into(),
            contact_name: "Ana".into(),
            email: "ana@acme.example".into(),
            phone: "+1 555 0100".into(),
            logo_svg: None,
        };
        let mut survey = relationship_template(sender);
        let text = |t: &str| Texts::from([("en".to_string(), t.to_string())]);
        let options = vec![
            Choice { key: "price".into(), text: text("Price") },
            Choice { key: "service".into(), text: text("Service") },
        ];
        survey.questions.push(Question {
            key: "reason".into(),
            text: text("Why?"),
            required: true,
            kind: QuestionKind::SingleChoice { options: options.clone() },
        });
        survey.questions.push(Question {
            key: "areas".into(),
            text: text("Which areas?"),
            required: false,
            kind: QuestionKind::MultipleChoice { options },
        });
        survey
    })
}

fuzz_target!(|data: &[u8]| {
    let survey = survey();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    for intent in [Intent::Save, Intent::Submit] {
        let (answers, errors) = survey.read_form(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), intent);
        for (key, value) in &answers.0 {
            let question = survey.questions.iter().find(|q| &q.key == key).expect("only the survey's questions");
            match (&question.kind, value) {
                (QuestionKind::Nps { .. }, Value::Score(s)) => assert!(*s <= 10),
                (QuestionKind::Rating { .. }, Value::Score(s)) => assert!((1..=5).contains(s)),
                (QuestionKind::SingleChoice { options }, Value::Choices(c)) => {
                    assert!(c.len() <= 1 && c.iter().all(|k| options.iter().any(|o| &o.key == k)))
                }
                (QuestionKind::MultipleChoice { options }, Value::Choices(c)) => {
                    assert!(c.iter().all(|k| options.iter().any(|o| &o.key == k)))
                }
                (QuestionKind::Text, Value::Text(t)) => assert!(t.chars().count() <= MAX_TEXT_CHARS),
                (kind, value) => panic!("a {} question answered with {value:?}", kind.name()),
            }
        }
        if intent == Intent::Submit && errors.is_empty() {
            for q in survey.questions.iter().filter(|q| q.required) {
                assert!(answers.0.contains_key(&q.key), "finished without the required {}", q.key);
            }
        }
    }
});
