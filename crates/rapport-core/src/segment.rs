//! Segments: NPS (and any cell statistic) by vertical, region, owner, role level,
//! relationship style or strategic flag, as a merge of the store's cells.
//!
//! # Conventions
//! - A cell is one (wave, account, role level) of [`crate::stats::CellStats`]. The role
//!   segment comes from the cell's role level; every other dimension from the account.
//! - A missing value (no vertical, no owner, a contact without a role level, ...) is the
//!   segment [`NONE`], `"(none)"`; it sorts before every name that starts with a letter or
//!   digit.
//! - Strategic accounts are `"strategic"`, others `"not strategic"` (missing stays `"(none)"`).
//! - Text values are used as written (trimmed); an empty or blank value counts as missing.
//! - Rows are sorted by segment name (byte order).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::{Account, RelationshipStyle, parse_bool};
use crate::contact::RoleLevel;
use crate::loyalty::{LoyaltyCounts, LoyaltySummary};
use crate::stats::CellStats;

/// The segment of cells whose value is missing.
pub const NONE: &str = "(none)";

/// What to segment the portfolio by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The account's vertical market.
    Vertical,
    /// The account's sales region.
    Region,
    /// The account manager (owner email).
    Owner,
    /// The respondent's role level (from the cell).
    Role,
    /// Relationship or transaction buyer.
    RelationshipStyle,
    /// Strategic name or not.
    Strategic,
}

/// Why a text is not a segment dimension.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a segment dimension: use vertical, region, owner, role, relationship_style or strategic")]
pub struct DimensionError(pub String);

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 6] = [
        Dimension::Vertical,
        Dimension::Region,
        Dimension::Owner,
        Dimension::Role,
        Dimension::RelationshipStyle,
        Dimension::Strategic,
    ];

    /// The canonical name: vertical, region, owner, role, relationship_style or strategic.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Vertical => "vertical",
            Dimension::Region => "region",
            Dimension::Owner => "owner",
            Dimension::Role => "role",
            Dimension::RelationshipStyle => "relationship_style",
            Dimension::Strategic => "strategic",
        }
    }

    /// Parses a canonical name, in any case (a `-` may stand for the `_`).
    pub fn parse(text: &str) -> Result<Dimension, DimensionError> {
        let wanted = text.trim().replace('-', "_");
        Dimension::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| DimensionError(text.to_string()))
    }

    /// The segment a cell of `account` at `role` level falls in.
    pub fn key<'a>(self, account: &'a Account, role: Option<RoleLevel>) -> Cow<'a, str> {
        match self {
            Dimension::Vertical => self.key_of_value(account.vertical.as_deref()),
            Dimension::Region => self.key_of_value(account.region.as_deref()),
            Dimension::Owner => self.key_of_value(account.owner_email.as_deref()),
            Dimension::Role => self.key_of_value(role.map(RoleLevel::as_str)),
            Dimension::RelationshipStyle => self.key_of_value(account.relationship_style.map(|s| s.as_str())),
            Dimension::Strategic => self.key_of_value(account.strategic.map(|b| if b { "true" } else { "false" })),
        }
    }

    /// The segment of a value as stored (a vertical's name, a role level's or relationship
    /// style's name, "true"/"false" for the strategic flag): the one naming of segments, for
    /// figures grouped by the database as well as for cells merged here.
    pub fn key_of_value<'a>(self, value: Option<&'a str>) -> Cow<'a, str> {
        let value = value.map(str::trim).filter(|v| !v.is_empty());
        match self {
            Dimension::Vertical | Dimension::Region | Dimension::Owner => Cow::Borrowed(value.unwrap_or(NONE)),
            Dimension::Role => Cow::Borrowed(value.and_then(RoleLevel::parse).map_or(NONE, RoleLevel::as_str)),
            Dimension::RelationshipStyle => {
                Cow::Borrowed(value.and_then(RelationshipStyle::parse).map_or(NONE, |s| s.as_str()))
            }
            Dimension::Strategic => Cow::Borrowed(match value.and_then(parse_bool) {
                Some(true) => "strategic",
                Some(false) => "not strategic",
                None => NONE,
            }),
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cell to segment: the account it belongs to, its role level and its statistics.
#[derive(Clone, Copy, Debug)]
pub struct SegmentCell<'a> {
    /// The cell's account.
    pub account: &'a Account,
    /// The cell's role level (`None` for contacts without one).
    pub role: Option<RoleLevel>,
    /// The cell's statistics.
    pub stats: &'a CellStats,
}

/// One segment's loyalty figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentRow {
    /// The segment's name ([`NONE`] for a missing value).
    pub segment: String,
    /// Its loyalty figure.
    pub summary: LoyaltySummary,
}

fn add_to<'m, T: Default>(map: &'m mut BTreeMap<String, T>, key: Cow<'_, str>) -> &'m mut T {
    // Look up by &str first: only a segment seen for the first time allocates its name.
    if !map.contains_key(key.as_ref()) {
        map.insert(key.clone().into_owned(), T::default());
    }
    map.get_mut(key.as_ref()).unwrap_or_else(|| unreachable!("inserted above"))
}

/// Merges cells' full statistics (loyalty and drivers) per segment: the input to
/// [`crate::drivers::key_drivers`] per segment.
pub fn stats_by_segment<'a>(
    dimension: Dimension,
    cells: impl IntoIterator<Item = SegmentCell<'a>>,
) -> BTreeMap<String, CellStats> {
    let mut segments: BTreeMap<String, CellStats> = BTreeMap::new();
    for cell in cells {
        add_to(&mut segments, dimension.key(cell.account, cell.role)).merge(cell.stats);
    }
    segments
}

/// Merges cells' loyalty counts per segment (cheaper than [`stats_by_segment`]: no driver maps).
pub fn loyalty_counts_by_segment<'a>(
    dimension: Dimension,
    cells: impl IntoIterator<Item = SegmentCell<'a>>,
) -> BTreeMap<String, LoyaltyCounts> {
    let mut segments: BTreeMap<String, LoyaltyCounts> = BTreeMap::new();
    for cell in cells {
        add_to(&mut segments, dimension.key(cell.account, cell.role)).merge(&cell.stats.loyalty);
    }
    segments
}

/// NPS by segment: one row per segment that has at least one cell, sorted by name.
pub fn loyalty_by_segment<'a>(
    dimension: Dimension,
    cells: impl IntoIterator<Item = SegmentCell<'a>>,
    min_answers: u64,
) -> Vec<SegmentRow> {
    loyalty_counts_by_segment(dimension, cells)
        .into_iter()
        .map(|(segment, counts)| SegmentRow { segment, summary: counts.summary(min_answers) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Attributes, RelationshipStyle};
    use crate::loyalty::DEFAULT_MIN_ANSWERS;

    fn account(id: &str, vertical: Option<&str>, strategic: Option<bool>) -> Account {
        Account {
            account_id: id.into(),
            name: id.into(),
            vertical: vertical.map(Into::into),
            region: Some("EMEA".into()),
            owner_email: None,
            sponsor_email: None,
            billed_revenue: None,
            potential_revenue: None,
            cost_of_sales: None,
            payment_days: None,
            relationship_style: Some(RelationshipStyle::Relationship),
            strategic,
            attributes: Attributes::new(),
        }
    }

    fn cell(scores: &[u8]) -> CellStats {
        let answers: Vec<(u8, &[(&str, u8)])> = scores.iter().map(|&s| (s, &[][..])).collect();
        CellStats::from_answers(answers)
    }

    #[test]
    fn dimensions_parse_by_their_names() {
        for d in Dimension::ALL {
            assert_eq!(Dimension::parse(d.as_str()), Ok(d));
        }
        assert_eq!(Dimension::parse(" Relationship-Style "), Ok(Dimension::RelationshipStyle));
        assert!(Dimension::parse("colour").is_err());
        assert_eq!(Dimension::Role.to_string(), "role");
    }

    #[test]
    fn a_segment_nps_merges_the_cells_of_its_accounts() {
        let bank = account("a", Some("Banking"), Some(true));
        let bank2 = account("b", Some("Banking"), Some(false));
        let retail = account("c", Some("Retail"), None);
        let none = account("d", None, None);
        let blank = account("e", Some("  "), None);
        let (c1, c2, c3, c4, c5, c6) =
            (cell(&[10, 10]), cell(&[0]), cell(&[9, 7]), cell(&[3]), cell(&[8]), cell(&[10]));
        let cells = [
            SegmentCell { account: &bank, role: Some(RoleLevel::Executive), stats: &c1 },
            SegmentCell { account: &bank, role: Some(RoleLevel::User), stats: &c2 },
            SegmentCell { account: &bank2, role: Some(RoleLevel::Executive), stats: &c3 },
            SegmentCell { account: &retail, role: None, stats: &c4 },
            SegmentCell { account: &none, role: Some(RoleLevel::User), stats: &c5 },
            SegmentCell { account: &blank, role: Some(RoleLevel::User), stats: &c6 },
        ];
        let rows = loyalty_by_segment(Dimension::Vertical, cells, DEFAULT_MIN_ANSWERS);
        let got: Vec<_> = rows.iter().map(|r| (r.segment.as_str(), r.summary.n, r.summary.nps)).collect();
        // Banking: 10, 10, 0, 9, 7 → 3 promoters, 1 detractor of 5 = 40.
        // (none): 8 and 10 (a missing and a blank vertical) → 1 promoter of 2 = 50.
        assert_eq!(got, [("(none)", 2, Some(50.0)), ("Banking", 5, Some(40.0)), ("Retail", 1, Some(-100.0))]);
        assert!(rows[2].summary.low_sample);

        let by_role = loyalty_by_segment(Dimension::Role, cells, DEFAULT_MIN_ANSWERS);
        let got: Vec<_> = by_role.iter().map(|r| (r.segment.as_str(), r.summary.n)).collect();
        assert_eq!(got, [("(none)", 1), ("executive", 4), ("user", 3)]);

        let by_strategic = loyalty_by_segment(Dimension::Strategic, cells, DEFAULT_MIN_ANSWERS);
        let got: Vec<_> = by_strategic.iter().map(|r| (r.segment.as_str(), r.summary.n)).collect();
        assert_eq!(got, [("(none)", 3), ("not strategic", 2), ("strategic", 3)]);

        let by_owner = loyalty_by_segment(Dimension::Owner, cells, DEFAULT_MIN_ANSWERS);
        assert_eq!(by_owner.len(), 1);
        assert_eq!((by_owner[0].segment.as_str(), by_owner[0].summary.n), (NONE, 8));

        let by_style = loyalty_by_segment(Dimension::RelationshipStyle, cells, DEFAULT_MIN_ANSWERS);
        assert_eq!(by_style[0].segment, "relationship");
        assert_eq!(loyalty_by_segment(Dimension::Region, cells, DEFAULT_MIN_ANSWERS)[0].segment, "EMEA");
    }

    #[test]
    fn segment_stats_keep_the_drivers_for_key_driver_analysis() {
        let bank = account("a", Some("Banking"), None);
        let c1 = CellStats::from_answers([(9, &[("brand", 4)][..])]);
        let c2 = CellStats::from_answers([(3, &[("brand", 2)][..])]);
        let cells = [
            SegmentCell { account: &bank, role: Some(RoleLevel::Executive), stats: &c1 },
            SegmentCell { account: &bank, role: Some(RoleLevel::Manager), stats: &c2 },
        ];
        let segments = stats_by_segment(Dimension::Vertical, cells);
        assert_eq!(segments["Banking"], CellStats::merged([&c1, &c2]));
    }

    #[test]
    fn no_cells_no_segments() {
        assert!(loyalty_by_segment(Dimension::Vertical, [], DEFAULT_MIN_ANSWERS).is_empty());
    }
}
