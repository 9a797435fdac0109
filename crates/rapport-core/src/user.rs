//! The people who use Rapport, and what each role may do.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a user may do in Rapport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything: imports data, manages users and settings.
    Admin,
    /// Reads everything and runs reports (the VoC program manager).
    Analyst,
    /// Sees and acts on the accounts they own, and only those.
    AccountManager,
    /// Reads everything; the accounts they sponsor are highlighted.
    Executive,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::AccountManager, Role::Executive];

    /// The canonical name: "admin", "analyst", "account_manager" or "executive".
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::AccountManager => "account_manager",
            Role::Executive => "executive",
        }
    }

    /// The role as pages name it: "Administrator", "Analyst", "Account manager", "Executive".
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Analyst => "Analyst",
            Role::AccountManager => "Account manager",
            Role::Executive => "Executive",
        }
    }

    /// Parses a canonical name, in any case (`account-manager` is accepted too).
    pub fn parse(text: &str) -> Option<Role> {
        let t = text.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL.into_iter().find(|r| r.as_str() == t)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Account-Manager"), Some(Role::AccountManager));
        assert_eq!(Role::parse("owner"), None);
    }
}
