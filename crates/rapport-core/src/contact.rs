//! The people at each account whom Rapport surveys.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::Attributes;

/// A contact's level in the customer's organisation: breadth across levels is what makes a
/// "Big R" relationship.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleLevel {
    /// C-level, VP, director: the people who decide.
    Executive,
    /// Managers who run the relationship day to day.
    Manager,
    /// Users of the product or service.
    User,
}

impl RoleLevel {
    /// Every level, from the top.
    pub const ALL: [RoleLevel; 3] = [RoleLevel::Executive, RoleLevel::Manager, RoleLevel::User];

    /// Parses "executive", "manager" or "user", in any case.
    pub fn parse(text: &str) -> Option<RoleLevel> {
        match text.trim().to_ascii_lowercase().as_str() {
            "executive" | "exec" => Some(RoleLevel::Executive),
            "manager" => Some(RoleLevel::Manager),
            "user" => Some(RoleLevel::User),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleLevel::Executive => "executive",
            RoleLevel::Manager => "manager",
            RoleLevel::User => "user",
        }
    }
}

impl fmt::Display for RoleLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An email address, checked once at the edge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

/// Why a text is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an email address: expected name@domain.tld")]
pub struct EmailError(pub String);

impl Email {
    /// Accepts `local@domain.tld`: one '@', a non-empty local part, a dotted domain, no
    /// spaces or control characters. Deliverability is the mail server's to judge; this
    /// catches the typos and the wrong column.
    pub fn parse(text: &str) -> Result<Email, EmailError> {
        let s = text.trim();
        let err = || EmailError(text.to_string());
        let (local, domain) = s.split_once('@').ok_or_else(err)?;
        let ok_chars = |p: &str| {
            !p.is_empty()
                && !p.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == '@' || c == '<' || c == '>' || c == ',' || c == ';'
                })
        };
        if s.len() > 254 || !ok_chars(local) || !ok_chars(domain) {
            return Err(err());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-')) {
            return Err(err());
        }
        Ok(Email(s.to_string()))
    }

    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact at an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The id the CRM gives it; the key of every import.
    pub contact_id: String,
    /// The account (its CRM id) the contact works at.
    pub account_id: String,
    /// Full name, in any script.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Level in the customer's organisation.
    pub role: Option<RoleLevel>,
    /// Where invitations go.
    pub email: Option<Email>,
    /// For SMS invitations.
    pub phone: Option<String>,
    /// The language they read surveys in ("de", "en-GB"); the survey's first language when
    /// empty or not one the survey speaks.
    #[serde(default)]
    pub language: Option<String>,
    /// Asked not to be surveyed: waves leave them out.
    #[serde(default)]
    pub opted_out: bool,
    /// Columns of the import with no field of their own.
    pub attributes: Attributes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_catch_typos_and_wrong_columns() {
        assert!(Email::parse("ana.lopez@acme.example").is_ok());
        assert!(Email::parse(" 山田@例え.jp ").is_ok());
        for bad in
            ["", "acme.example", "a@b", "a@@b.com", "a b@c.com", "a@b..com", "@b.com", "a@-b.com", "Ana <a@b.com>"]
        {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_levels_parse_in_any_case() {
        assert_eq!(RoleLevel::parse("Executive"), Some(RoleLevel::Executive));
        assert_eq!(RoleLevel::parse("USER"), Some(RoleLevel::User));
        assert_eq!(RoleLevel::parse("intern"), None);
    }
}
