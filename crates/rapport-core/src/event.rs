//! The events Rapport tells other systems about through webhooks.

use serde::{Deserialize, Serialize};

/// An event type a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// A contact answered a survey.
    #[serde(rename = "response.submitted")]
    ResponseSubmitted,
    /// An alert rule fired and opened a follow-up task.
    #[serde(rename = "alert.raised")]
    AlertRaised,
    /// A task passed its deadline while still open, and was escalated.
    #[serde(rename = "task.overdue")]
    TaskOverdue,
    /// An account moved to another quadrant of the loyalty x revenue matrix.
    #[serde(rename = "account.quadrant_changed")]
    QuadrantChanged,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 4] =
        [EventType::ResponseSubmitted, EventType::AlertRaised, EventType::TaskOverdue, EventType::QuadrantChanged];

    /// The name senders and receivers use.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ResponseSubmitted => "response.submitted",
            EventType::AlertRaised => "alert.raised",
            EventType::TaskOverdue => "task.overdue",
            EventType::QuadrantChanged => "account.quadrant_changed",
        }
    }

    /// The event type with this name.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == name.trim())
    }

    /// A comma-separated list of event names, checked; `*` or `all` means every type.
    pub fn parse_list(list: &str) -> Result<Vec<EventType>, String> {
        let list = list.trim();
        if list.is_empty() || list == "*" || list.eq_ignore_ascii_case("all") {
            return Ok(EventType::ALL.to_vec());
        }
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Some(e) = EventType::parse(name) else {
                return Err(format!(
                    "'{name}' is not an event; the events are {}",
                    EventType::ALL.map(EventType::as_str).join(", ")
                ));
            };
            if !out.contains(&e) {
                out.push(e);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists_are_read_and_checked() {
        assert_eq!(EventType::parse_list("").unwrap(), EventType::ALL.to_vec());
        assert_eq!(
            EventType::parse_list("alert.raised, task.overdue,alert.raised").unwrap(),
            vec![EventType::AlertRaised, EventType::TaskOverdue]
        );
        let err = EventType::parse_list("alert.raised,answer.given").unwrap_err();
        assert!(err.starts_with("'answer.given' is not an event; the events are response.submitted"), "{err}");
    }
}
