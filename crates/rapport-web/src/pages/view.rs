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

/// Who is looking at a page: a signed-in user, or someone holding a share link.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The signed-in user; `None` for a share link.
    pub user: Option<CurrentUser>,
    /// Only this account manager's accounts (the user's own scope, or the scope of whoever
    /// made the share link).
    pub owned_by: Option<String>,
    /// Respondents' names, titles and comments are hidden (a share link's option).
    pub hide_people: bool,
    /// An executive's email: the accounts they sponsor are highlighted.
    pub sponsor: Option<String>,
    /// Until when a share link works, as shown on its pages.
    pub shared_until: Option<String>,
}

impl Viewer {
    /// A signed-in user.
    pub fn of(user: &CurrentUser) -> Viewer {
        Viewer {
            owned_by: user.scoped(AccountFilter::default()).owned_by,
            user: Some(user.clone()),
            hide_people: false,
            sponsor: (user.0.role == rapport_core::user::Role::Executive).then(|| user.0.email.clone()),
            shared_until: None,
        }
    }

    /// `filter` narrowed to what the viewer may see.
    pub fn scoped(&self, mut filter: AccountFilter) -> AccountFilter {
        if self.owned_by.is_some() {
            filter.owned_by = self.owned_by.clone();
        }
        filter
    }

    /// Whether the viewer may see `account`.
    pub fn can_see(&self, account: &rapport_core::account::Account) -> bool {
        self.scoped(AccountFilter::default()).matches(account)
    }

    /// Whether the viewer sponsors `account`.
    pub fn sponsors(&self, account: &rapport_core::account::Account) -> bool {
        match (&self.sponsor, &account.sponsor_email) {
            (Some(me), Some(s)) => me.trim().eq_ignore_ascii_case(s.trim()),
            _ => false,
        }
    }

    /// Whether pages link to account pages (a share link shows one page, nothing behind it).
    pub fn links(&self) -> bool {
        self.user.is_some()
    }

    /// The link to an account's page, or none for a share link.
    pub fn account_href(&self, account_id: &str) -> String {
        if self.links() { crate::pages::dashboard::account_href(account_id) } else { String::new() }
    }

    /// The layout of a page for this viewer.
    pub fn layout(&self, title: impl Into<String>, nav: &'static str) -> Layout {
        let user = self.user.as_ref().map(|u| &u.0);
        Layout {
            title: title.into(),
            nav,
            user_name: user.map(|u| u.name.clone()).unwrap_or_default(),
            role: user.map_or("", |u| u.role.label()),
            csrf: user.map(|u| u.csrf_token.clone()).unwrap_or_default(),
            shared_until: self.shared_until.clone(),
        }
    }
}

/// The frame of every page: title, navigation, who is signed in (or that it is shared).
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
    /// For a page opened through a share link: until when the link works.
    pub shared_until: Option<String>,
}

impl Layout {
    /// The layout for `user`.
    pub fn new(user: &CurrentUser, title: impl Into<String>, nav: &'static str) -> Layout {
        Viewer::of(user).layout(title, nav)
    }

    /// Whether this is a shared, read-only page.
    pub fn is_shared(&self) -> bool {
        self.shared_until.is_some()
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
    /// Assessment views: the window's first quarter.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub since: Option<String>,
    /// Assessment views: the window's last quarter.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub until: Option<String>,
    /// The ideal report: the definition version to compare with.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub compare: Option<String>,
    /// The comments report: only the comments on this theme.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub theme: Option<String>,
    /// Whether the filter bar offers the window (and the comparison): set by the page, never
    /// by the request.
    #[serde(skip)]
    pub window_fields: bool,
    /// Whether it offers the comparison with another definition version.
    #[serde(skip)]
    pub compare_field: bool,
    /// Whether it offers the comments' themes.
    #[serde(skip)]
    pub theme_field: bool,
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
            ("since", &self.since),
            ("until", &self.until),
            ("compare", &self.compare),
            ("theme", &self.theme),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", utf8_percent_encode(v, URL_SAFE))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The themes the comments report can be narrowed to.
    pub fn themes(&self) -> Vec<&'static str> {
        rapport_core::theme::keys().collect()
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
    /// The wave a view shows when none is asked for (the latest answered).
    pub default_wave: Option<String>,
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
    /// Whether the wave select shows `wave` as chosen in `view`: the one asked for, else the
    /// one shown by default (so that applying another filter keeps the wave on screen).
    pub fn wave_selected(&self, view: &ViewQuery, wave: &str) -> bool {
        view.wave.as_deref().or(self.default_wave.as_deref()) == Some(wave)
    }

    /// [`FilterOptions::of`] the whole portfolio, computed once per scope while the data is
    /// unchanged.
    pub async fn cached(
        state: &crate::state::AppState,
        viewer: &Viewer,
    ) -> Result<std::sync::Arc<FilterOptions>, crate::error::WebError> {
        let key = format!("filter-options|{:?}", viewer.owned_by);
        state
            .cache
            .derived(&state.store, key, || async {
                let accounts = state.cache.accounts(&state.store).await?;
                let waves = state.cache.waves(&state.store).await?;
                Ok::<_, crate::error::WebError>(FilterOptions::of(viewer, &accounts, &waves))
            })
            .await
    }

    /// The options present among `accounts` that `viewer` may see.
    pub fn of(viewer: &Viewer, accounts: &[PortfolioAccount], waves: &[WaveInfo]) -> FilterOptions {
        let (mut verticals, mut regions, mut owners, mut styles) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let scope = viewer.scoped(AccountFilter::default());
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
            default_wave: rapport_reports::waves_so_far(waves).last().map(|w| w.name.clone()),
            verticals: verticals.into_iter().collect(),
            regions: regions.into_iter().collect(),
            owners: if viewer.owned_by.is_none() { owners.into_iter().collect() } else { Vec::new() },
            styles: styles.into_iter().collect(),
        }
    }
}
