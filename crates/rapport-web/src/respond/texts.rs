//! The words of the response pages around the survey's own questions, in each language a
//! survey may speak. A language without its own set reads English.

use rapport_core::answer::Problem;

/// The response pages' words in one language.
pub struct Ui {
    pub hello: &'static str,
    pub required: &'static str,
    pub optional: &'static str,
    pub submit: &'static str,
    pub save: &'static str,
    pub errors_title: &'static str,
    pub missing: &'static str,
    pub out_of_range: &'static str,
    pub unknown_option: &'static str,
    pub one_expected: &'static str,
    pub too_long: &'static str,
    pub questions: &'static str,
    pub unsubscribe_link: &'static str,
    pub thanks_title: &'static str,
    pub change_until: &'static str,
    pub answered_before: &'static str,
    pub saved_title: &'static str,
    pub saved_body: &'static str,
    pub closed_title: &'static str,
    pub closed_body: &'static str,
    pub not_open_title: &'static str,
    pub not_open_body: &'static str,
    pub unknown_title: &'static str,
    pub unknown_body: &'static str,
    pub unsubscribe_title: &'static str,
    pub unsubscribe_body: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribed_title: &'static str,
    pub unsubscribed_body: &'static str,
    pub bad_form_title: &'static str,
    pub too_large: &'static str,
    pub not_utf8: &'static str,
    pub back: &'static str,
    pub too_many_title: &'static str,
    pub too_many: &'static str,
    pub about_you: &'static str,
    pub your_company: &'static str,
    pub your_email: &'static str,
    pub your_name: &'static str,
    pub company_missing: &'static str,
    pub email_invalid: &'static str,
}

const EN: Ui = Ui {
    hello: "Hello {name},",
    required: "required",
    optional: "optional",
    submit: "Send my answers",
    save: "Save and finish later",
    errors_title: "Please check these answers:",
    missing: "This question needs an answer.",
    out_of_range: "Choose a number from {min} to {max}.",
    unknown_option: "Choose one of the options shown.",
    one_expected: "Choose only one option.",
    too_long: "Please keep this under 4,000 characters.",
    questions: "Questions about this survey?",
    unsubscribe_link: "Do not want these surveys? Unsubscribe",
    thanks_title: "Thank you",
    change_until: "You can change your answers with the same link until {date}.",
    answered_before: "You answered on {date}. Sending again replaces that answer; we keep both.",
    saved_title: "Your answers are saved",
    saved_body: "Come back with the same link to finish before {date}. Nothing is sent to your account team until you do.",
    closed_title: "This survey has closed",
    closed_body: "Answers were taken until {date}. Thank you for your time: if you want to tell us something, the people below will be glad to hear it.",
    not_open_title: "This survey is not open yet",
    not_open_body: "Please use the link again once you receive your invitation.",
    unknown_title: "This link does not work",
    unknown_body: "It may be incomplete: check that you copied the whole link from your invitation. If it still does not work, reply to the message that brought it and we will send you a new one.",
    unsubscribe_title: "Unsubscribe from these surveys",
    unsubscribe_body: "We will not invite you to future surveys. Your account team can still contact you about your business with us.",
    unsubscribe_button: "Unsubscribe",
    unsubscribed_title: "You are unsubscribed",
    unsubscribed_body: "You will not receive survey invitations from us again. If this was a mistake, contact us below.",
    bad_form_title: "Your answers could not be read",
    too_large: "The form was too large to accept. Shorten your comments and send it again.",
    not_utf8: "The form arrived garbled (its text was not valid UTF-8). Please go back and send it again.",
    back: "Back to the survey",
    too_many_title: "Too many answers at once",
    too_many: "This link has sent many answers in a short time. Wait a minute, then send yours again: nothing is lost by waiting.",
    about_you: "About you",
    your_company: "Your company",
    your_email: "Your work email",
    your_name: "Your name",
    company_missing: "Tell us which company you work for.",
    email_invalid: "Give your work email address, e.g. name@company.com.",
};

const DE: Ui = Ui {
    hello: "Guten Tag {name},",
    required: "Pflichtfrage",
    optional: "optional",
    submit: "Antworten senden",
    save: "Speichern und später beenden",
    errors_title: "Bitte prüfen Sie diese Antworten:",
    missing: "Diese Frage braucht eine Antwort.",
    out_of_range: "Wählen Sie eine Zahl von {min} bis {max}.",
    unknown_option: "Wählen Sie eine der angezeigten Möglichkeiten.",
    one_expected: "Wählen Sie nur eine Möglichkeit.",
    too_long: "Bitte bleiben Sie unter 4.000 Zeichen.",
    questions: "Fragen zu dieser Umfrage?",
    unsubscribe_link: "Keine Umfragen mehr erhalten? Abmelden",
    thanks_title: "Vielen Dank",
    change_until: "Mit demselben Link können Sie Ihre Antworten bis zum {date} ändern.",
    answered_before: "Sie haben am {date} geantwortet. Erneutes Senden ersetzt diese Antwort; wir bewahren beide auf.",
    saved_title: "Ihre Antworten sind gespeichert",
    saved_body: "Kommen Sie mit demselben Link vor dem {date} zurück, um abzuschließen. Erst dann geht etwas an Ihr Account-Team.",
    closed_title: "Diese Umfrage ist beendet",
    closed_body: "Antworten wurden bis zum {date} angenommen. Danke für Ihre Zeit: Wenn Sie uns etwas mitteilen möchten, hören die unten genannten Personen gern von Ihnen.",
    not_open_title: "Diese Umfrage ist noch nicht geöffnet",
    not_open_body: "Bitte nutzen Sie den Link erneut, sobald Sie Ihre Einladung erhalten haben.",
    unknown_title: "Dieser Link funktioniert nicht",
    unknown_body: "Er ist vielleicht unvollständig: Prüfen Sie, ob Sie den ganzen Link aus Ihrer Einladung kopiert haben. Wenn er weiterhin nicht funktioniert, antworten Sie auf die Nachricht, und wir senden Ihnen einen neuen.",
    unsubscribe_title: "Von diesen Umfragen abmelden",
    unsubscribe_body: "Wir laden Sie nicht mehr zu Umfragen ein. Ihr Account-Team kann Sie weiterhin zu Ihren Geschäften mit uns kontaktieren.",
    unsubscribe_button: "Abmelden",
    unsubscribed_title: "Sie sind abgemeldet",
    unsubscribed_body: "Sie erhalten keine Umfrage-Einladungen mehr von uns. Falls das ein Versehen war, kontaktieren Sie uns unten.",
    bad_form_title: "Ihre Antworten konnten nicht gelesen werden",
    too_large: "Das Formular war zu groß. Kürzen Sie Ihre Kommentare und senden Sie es erneut.",
    not_utf8: "Das Formular kam beschädigt an (kein gültiges UTF-8). Bitte gehen Sie zurück und senden Sie es erneut.",
    back: "Zurück zur Umfrage",
    too_many_title: "Zu viele Antworten auf einmal",
    too_many: "Über diesen Link kamen in kurzer Zeit viele Antworten. Warten Sie eine Minute und senden Sie Ihre Antwort dann erneut.",
    about_you: "Über Sie",
    your_company: "Ihr Unternehmen",
    your_email: "Ihre geschäftliche E-Mail-Adresse",
    your_name: "Ihr Name",
    company_missing: "Sagen Sie uns, für welches Unternehmen Sie arbeiten.",
    email_invalid: "Geben Sie Ihre geschäftliche E-Mail-Adresse an, z. B. name@firma.de.",
};

/// The words for `lang` ("de", else English).
pub fn ui(lang: &str) -> &'static Ui {
    match lang {
        "de" => &DE,
        _ => &EN,
    }
}

impl Ui {
    /// What to tell the respondent about one answer's problem.
    pub fn problem(&self, problem: Problem) -> String {
        match problem {
            Problem::Missing => self.missing.to_string(),
            Problem::OutOfRange { min, max } => {
                self.out_of_range.replace("{min}", &min.to_string()).replace("{max}", &max.to_string())
            }
            Problem::UnknownOption => self.unknown_option.to_string(),
            Problem::OneExpected => self.one_expected.to_string(),
            Problem::TooLong => self.too_long.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_reads_in_both_languages() {
        let all = [
            Problem::Missing,
            Problem::OutOfRange { min: 1, max: 5 },
            Problem::UnknownOption,
            Problem::OneExpected,
            Problem::TooLong,
        ];
        for p in all {
            assert_ne!(ui("en").problem(p), ui("de").problem(p));
        }
        assert_eq!(ui("en").problem(Problem::OutOfRange { min: 0, max: 10 }), "Choose a number from 0 to 10.");
        assert_eq!(ui("fr").submit, "Send my answers");
    }
}
