//! The invitation messages: an email (HTML and text) and a text message per invitation, in
//! the contact's language, with their personal link and a way to unsubscribe. `rapport wave
//! preview` shows exactly these before anything is sent.

use askama::Template;
use rapport_core::survey::Survey;
use rapport_store::invitations::Invitation;

use crate::respond::personal_path;

/// One invitation's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// The words of an invitation in one language.
struct Words {
    subject: &'static str,
    reminder_subject: &'static str,
    hello: &'static str,
    ask: &'static str,
    button: &'static str,
    until: &'static str,
    unsubscribe: &'static str,
    sms: &'static str,
}

const EN: Words = Words {
    subject: "{company} would like your view: four minutes",
    reminder_subject: "Reminder: {company} would like your view",
    hello: "Hello {name},",
    ask: "How are we doing as your supplier? Your answers go straight to the team responsible for {account}, and we act on them.",
    button: "Answer the survey",
    until: "The survey is open until {date}.",
    unsubscribe: "Do not want these surveys? Unsubscribe:",
    sms: "{company}: how are we doing? Four minutes, your answers go to your account team: {link}",
};

const DE: Words = Words {
    subject: "{company} bittet um Ihre Meinung: vier Minuten",
    reminder_subject: "Erinnerung: {company} bittet um Ihre Meinung",
    hello: "Guten Tag {name},",
    ask: "Wie gut sind wir als Lieferant? Ihre Antworten gehen direkt an das für {account} zuständige Team, und wir handeln danach.",
    button: "Zur Umfrage",
    until: "Die Umfrage ist bis zum {date} geöffnet.",
    unsubscribe: "Keine Umfragen mehr erhalten? Abmelden:",
    sms: "{company}: Wie gut sind wir? Vier Minuten, Ihre Antworten gehen an Ihr Account-Team: {link}",
};

fn words(lang: &str) -> &'static Words {
    if lang == "de" { &DE } else { &EN }
}

#[derive(Template)]
#[template(path = "invite/email.html")]
struct HtmlBody<'a> {
    lang: &'a str,
    company: &'a str,
    hello: String,
    ask: String,
    button: &'a str,
    link: &'a str,
    until: String,
    contact: String,
    unsubscribe_text: &'a str,
    unsubscribe: &'a str,
}

#[derive(Template)]
#[template(path = "invite/email.txt")]
struct TextBody<'a> {
    hello: String,
    ask: String,
    link: &'a str,
    until: String,
    contact: String,
    unsubscribe_text: &'a str,
    unsubscribe: &'a str,
}

/// The public address of the response pages, without a trailing slash.
pub fn link(public_url: &str, invitation: &Invitation) -> String {
    format!("{}{}", public_url.trim_end_matches('/'), personal_path(invitation.id, &invitation.secret))
}

fn fill(template: &str, survey: &Survey, invitation: &Invitation) -> String {
    template
        .replace("{company}", &survey.sender.company)
        .replace("{name}", &invitation.contact_name)
        .replace("{account}", &invitation.account_name)
        .replace("{date}", &invitation.closes_on.map(|d| d.to_string()).unwrap_or_default())
}

/// The invitation email (or, with `reminder`, the reminder) for `invitation`.
pub fn email(survey: &Survey, invitation: &Invitation, public_url: &str, reminder: bool) -> anyhow::Result<Email> {
    let lang = invitation.language.as_str();
    let w = words(lang);
    let link = link(public_url, invitation);
    let unsubscribe = format!("{link}/unsubscribe");
    let s = &survey.sender;
    let contact = format!("{} · {} · {}", s.contact_name, s.email, s.phone);
    let hello = fill(w.hello, survey, invitation);
    let ask = fill(w.ask, survey, invitation);
    let until = if invitation.closes_on.is_some() { fill(w.until, survey, invitation) } else { String::new() };
    let html = HtmlBody {
        lang,
        company: &s.company,
        hello: hello.clone(),
        ask: ask.clone(),
        button: w.button,
        link: &link,
        until: until.clone(),
        contact: contact.clone(),
        unsubscribe_text: w.unsubscribe,
        unsubscribe: &unsubscribe,
    }
    .render()?;
    let text = TextBody {
        hello,
        ask,
        link: &link,
        until,
        contact,
        unsubscribe_text: w.unsubscribe,
        unsubscribe: &unsubscribe,
    }
    .render()?;
    let subject = fill(if reminder { w.reminder_subject } else { w.subject }, survey, invitation);
    Ok(Email { subject, text, html })
}

/// The invitation text message for `invitation`.
pub fn sms(survey: &Survey, invitation: &Invitation, public_url: &str) -> String {
    fill(words(&invitation.language).sms, survey, invitation).replace("{link}", &link(public_url, invitation))
}
