//! What the follow-up work says: notification emails to people, and event bodies for
//! webhooks. Emails are plain text (names and comments are shown as written, never as markup).

use rapport_core::event::EventType;
use rapport_store::alerts::{PendingAnswer, RaisedAlert};
use rapport_store::outbox::{Delivery, Message};
use rapport_store::tasks::Escalation;
use rapport_store::webhooks::Webhook;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A time as webhooks and emails show it (RFC 3339, UTC).
pub fn stamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// An event, posted to every webhook that wants it: `id` names the event (the same in every
/// delivery of it), `data` what happened. `data` is only made when some webhook wants the
/// event: the follow-up scanner asks for one per answer, and most servers have no webhooks.
pub fn events(
    hooks: &[Webhook],
    kind: EventType,
    id: &str,
    at: OffsetDateTime,
    data: impl FnOnce() -> Value,
) -> Vec<Message> {
    let wanted: Vec<&Webhook> = hooks.iter().filter(|h| h.wants(kind)).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let body = json!({ "id": id, "type": kind.as_str(), "created_at": stamp(at), "data": data() }).to_string();
    wanted
        .into_iter()
        .map(|h| Message {
            key: format!("webhook:{}:{id}", h.id),
            delivery: Delivery::Webhook,
            webhook_id: Some(h.id),
            recipient: h.url.clone(),
            subject: kind.as_str().to_string(),
            body: body.clone(),
        })
        .collect()
}

fn account(external_id: &str, name: &str) -> Value {
    json!({ "id": external_id, "name": name })
}

/// The data of response.submitted.
pub fn response_data(a: &PendingAnswer) -> Value {
    let scores: Value = serde_json::from_str(&a.scores).unwrap_or_else(|_| json!({}));
    json!({
        "response_id": a.response_id,
        "wave": a.wave_name,
        "account": account(&a.account_external_id, &a.account_name),
        "contact": { "id": a.contact_external_id, "name": a.contact_name },
        "ltr": a.ltr,
        "comment": a.comment,
        "scores": scores,
        "submitted_at": stamp(a.submitted_at),
    })
}

/// The messages of a raised alert: the owner's notification and the alert.raised events.
pub fn alert_raised(
    raised: &RaisedAlert,
    answer: Option<&PendingAnswer>,
    hooks: &[Webhook],
    public_url: &str,
) -> Vec<Message> {
    let mut out = Vec::new();
    let link = format!("{public_url}/tasks/{}", raised.task_id);
    if let Some(owner) = &raised.owner_email {
        let mut text = format!(
            "{}: {} ({}).\n\n{}\n",
            raised.kind.label(),
            raised.account_name,
            raised.account_external_id,
            capitalised(&raised.detail)
        );
        if let Some(a) = answer {
            text.push_str(&format!(
                "\n{} answered in wave {}: likelihood to recommend {}.\n",
                a.contact_name, a.wave_name, a.ltr
            ));
            if let Some(c) = a.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                text.push_str(&format!("Their comment: \"{}\"\n", c.trim()));
            }
        }
        text.push_str(&format!(
            "\nPlease follow up by {} (UTC), then record what was done:\n{link}\n\n\
             If it is still open then, it goes to your manager or the account's executive sponsor.\n",
            stamp(raised.due_at)
        ));
        out.push(Message {
            key: format!("email:task:{}:{}", raised.task_id, owner.to_lowercase()),
            delivery: Delivery::Email,
            webhook_id: None,
            recipient: owner.clone(),
            subject: one_line(&format!("Follow up with {}: {}", raised.account_name, raised.kind.label())),
            body: text,
        });
    }
    let data = || {
        json!({
            "alert_id": raised.alert_id,
            "kind": raised.kind.as_str(),
            "detail": raised.detail,
            "account": account(&raised.account_external_id, &raised.account_name),
            "response_id": raised.response_id,
            "task": { "id": raised.task_id, "owner": raised.owner_email, "due_at": stamp(raised.due_at), "url": link },
        })
    };
    out.extend(events(hooks, EventType::AlertRaised, &format!("alert:{}", raised.alert_id), raised.raised_at, data));
    out
}

/// The messages of an escalation: the manager's or sponsor's notification and the
/// task.overdue events.
pub fn task_overdue(e: &Escalation, hooks: &[Webhook], public_url: &str, now: OffsetDateTime) -> Vec<Message> {
    let t = &e.task;
    let link = format!("{public_url}/tasks/{}", t.id);
    let mut out = Vec::new();
    if let Some(to) = e.recipient() {
        let owner = t.owner_email.as_deref().unwrap_or("no one (the account has no owner)");
        let text = format!(
            "A follow-up at {} ({}) is overdue: it was due {} (UTC) and is still open.\n\n{}\n\n\
             Owner: {owner}\n\nSee it, and what is known about the account:\n{link}\n",
            t.account_name,
            t.account_external_id,
            stamp(t.due_at),
            t.description
        );
        out.push(Message {
            key: format!("email:escalation:{}:{}", t.id, to.to_lowercase()),
            delivery: Delivery::Email,
            webhook_id: None,
            recipient: to.to_string(),
            subject: one_line(&format!("Overdue follow-up at {}", t.account_name)),
            body: text,
        });
    }
    let data = || {
        json!({
            "task_id": t.id,
            "account": account(&t.account_external_id, &t.account_name),
            "description": t.description,
            "function": t.function,
            "owner": t.owner_email,
            "due_at": stamp(t.due_at),
            "escalated_to": e.recipient(),
            "url": link,
        })
    };
    out.extend(events(hooks, EventType::TaskOverdue, &format!("overdue:{}", t.id), now, data));
    out
}

/// A subject line: no line breaks, whatever the names hold.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(id: i64, events: Vec<EventType>, active: bool) -> Webhook {
        Webhook {
            id,
            url: format!("https://hooks.example/{id}"),
            secret: "s".into(),
            events,
            active,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn an_event_goes_to_each_webhook_that_wants_it_and_is_only_written_when_one_does() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let nobody = [hook(1, vec![EventType::AlertRaised], true), hook(2, vec![EventType::ResponseSubmitted], false)];
        let none = events(&nobody, EventType::ResponseSubmitted, "response:7", at, || {
            panic!("the event's data is not made when no webhook wants it")
        });
        assert!(none.is_empty());

        let hooks = [hook(1, vec![EventType::ResponseSubmitted], true), hook(2, vec![EventType::AlertRaised], true)];
        let sent = events(&hooks, EventType::ResponseSubmitted, "response:7", at, || json!({ "ltr": 3 }));
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].key, "webhook:1:response:7");
        let body: Value = serde_json::from_str(&sent[0].body).unwrap();
        assert_eq!(body["type"], "response.submitted");
        assert_eq!(body["data"]["ltr"], 3);
    }

    #[test]
    fn subjects_stay_on_one_line() {
        assert_eq!(one_line("Acme\r\nBcc: x"), "Acme  Bcc: x");
        assert_eq!(capitalised("likelihood"), "Likelihood");
    }
}
