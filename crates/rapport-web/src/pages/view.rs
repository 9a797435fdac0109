//! What every page shares: the layout around it, and the view filters that live in the URL so
//! a view can be bookmarked and shared.

use std::collections::BTreeSet;

use percent_encoding::utf8_percent_encode;
use rapport_core::segment::Dimension;
use rapport_reports::AccountFilter;
use rapport_store::analytics::{PortfolioAccount, WaveInfo};
use serde::{Deserialize, Deserializer};

use crate::URL_SAFE;
use crate::auth::CurrentUser;

/// The frame of every signed-in page: title, navigation, who is signed in.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's title.
    pub title: String,
    /// Which navigation entry is current ("dashboard", "reports", ...).
    pub nav: &'static str,
    /// The signed-in user's name.
    pub user_name: String,
    /// Their role, as shown.
    pub role: &'static str,
    /// The session's CSRF token, for the forms on the page (sign-out included).
    pub csrf: String,
}

impl Layout {
    /// The layout for `user`.
    pub fn new(user: &CurrentUser, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            nav,
            user_name: user.0.name.clone(),
            role: match user.0.role {
                rapport_core::user::Role::Admin => "Administrator",
                rapport_core::user::Role::Analyst => "Analyst",
                rapport_core::user::Role::AccountManager => "Account manager",
                rapport_core::user::Role::Executive => "Executive",
            },
            csrf: user.0.csrf_token.clone(),
        }
    }
}

fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
}

/// The filters of a portfolio view, from the URL query (empty values mean "all").
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ViewQuery {
    /// The wave (default: the latest).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub wave: Option<String>,
    /// The earlier wave of a comparison (default: the one before).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from: Option<String>,
    /// Only this vertical.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub vertical: Option<String>,
    /// Only this region.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub region: Option<String>,
    /// Only this owner's accounts.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub owner: Option<String>,
    /// Only this relationship style.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub style: Option<String>,
    /// Segment dimension of segment views.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub by: Option<String>,
}

impl ViewQuery {
    /// The account filter the user picked (the server adds the user's scope).
    pub fn filter(&self) -> AccountFilter {
        AccountFilter {
            vertical: self.vertical.clone(),
            region: self.region.clone(),
            owner: self.owner.clone(),
            relationship_style: self.style.clone(),
            owned_by: None,
        }
    }

    /// The segment dimension asked for, or a clear error.
    pub fn dimension(&self) -> Result<Option<Dimension>, String> {
        self.by.as_deref().map(Dimension::parse).transpose().map_err(|e| e.to_string())
    }

    /// The query string that reproduces this view ("" when nothing is set), for links to
    /// the same view in another format.
    pub fn query_string(&self) -> String {
        let pairs = [
            ("wave", &self.wave),
            ("from", &self.from),
            ("vertical", &self.vertical),
            ("region", &self.region),
            ("owner", &self.owner),
            ("style", &self.style),
            ("by", &self.by),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", utf8_percent_encode(v, URL_SAFE))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Whether any account filter is set.
    pub fn is_filtered(&self) -> bool {
        !self.filter().is_empty()
    }
}

/// The choices the filter bar offers, from the accounts the user may see.
#[derive(Debug, Clone, Default)]
pub struct FilterOptions {
    /// Wave names, latest first.
    pub waves: Vec<String>,
    /// Verticals.
    pub verticals: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Owners (empty for account managers, who see only their own).
    pub owners: Vec<String>,
    /// Relationship styles.
    pub styles: Vec<String>,
}

impl FilterOptions {
    /// The options present among `accounts` that `user` may see.
    pub fn of(user: &CurrentUser, accounts: &[PortfolioAccount], waves: &[WaveInfo]) -> FilterOptions {
        let (mut verticals, mut regions, mut owners, mut styles) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let scope = user.scoped(AccountFilter::default());
        for a in accounts.iter().filter(|a| scope.matches(&a.account)) {
            let a = &a.account;
            verticals.insert(Dimension::Vertical.key(a, None).into_owned());
            regions.insert(Dimension::Region.key(a, None).into_owned());
            if let Some(o) = &a.owner_email {
                owners.insert(o.trim().to_string());
            }
            if let Some(s) = a.relationship_style {
                styles.insert(s.as_str().to_string());
            }
        }
        FilterOptions {
            waves: waves.iter().rev().map(|w| w.name.clone()).collect(),
            verticals: verticals.into_iter().collect(),
            regions: regions.into_iter().collect(),
            owners: if user.sees_all_owners() { owners.into_iter().collect() } else { Vec::new() },
            styles: styles.into_iter().collect(),
        }
    }
}
