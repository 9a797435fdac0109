//! The plan of one account: the hidden parameters (size, trend, mood, story) from which
//! its records are drawn, so that every record of the account tells the same tale.

use rand::Rng;

use crate::Story;
use crate::names::{Culture, PHONE_PLANS, REGION_WEIGHTS, RUSSIAN_PHONES};
use crate::random::{DemoRng, normal, pick, weighted};

/// How many accounts at the head of every portfolio carry fixed stories and values.
pub(crate) const FIXED_ACCOUNTS: usize = 30;

/// Share of the accounts after the fixed head that carry a story.
const SPRINKLE_RATE: f64 = 0.02;

/// An account whose name, place and people are fixed rather than drawn.
pub(crate) struct FixedName {
    pub name: &'static str,
    pub domain: &'static str,
    pub vertical: usize,
    pub region: usize,
    pub culture: Option<Culture>,
    /// (region, numbering plan) of its phones, as `names::phone` takes them.
    pub phones: (usize, usize),
}

/// The hostile comments, planted on the first contact's last answer.
pub(crate) const HOSTILE_COMMENTS: [&str; 2] = ["+SUM(A1:A9)", "<img src=x onerror=alert(1)>"];

/// The hostile account names.
pub(crate) const HOSTILE_NAMES: [&str; 3] =
    ["<script>alert('x')</script> Corp", "=HYPERLINK(\"http://evil.example\",\"click\")", "O'Brien & \"Sons\" Ltd"];

/// What is fixed about account `index` of the head: (story, name, hostile comment).
fn fixed(index: usize) -> (Option<Story>, Option<FixedName>, Option<&'static str>) {
    let named = |name, domain, vertical, region, culture| {
        Some(FixedName { name, domain, vertical, region, culture, phones: (region, 0) })
    };
    let with_phones = |f: Option<FixedName>, phones| f.map(|f| FixedName { phones, ..f });
    match index {
        0 => (Some(Story::Sours), None, None),
        1 => (Some(Story::Grows), None, None),
        2 => (Some(Story::SingleThreadedKeyAccount), None, None),
        3 => (Some(Story::SqueakyWheel), None, None),
        4 => (Some(Story::Neglected), None, None),
        5 => (Some(Story::ExecutivesDetract), None, None),
        6 => (Some(Story::Hostile), named(HOSTILE_NAMES[0], "script-corp.example", 6, 0, None), None),
        7 => (Some(Story::Hostile), named(HOSTILE_NAMES[1], "hyperlink-click.example", 2, 0, None), None),
        8 => (Some(Story::Hostile), named(HOSTILE_NAMES[2], "obrien-sons.example", 0, 1, Some(Culture::English)), None),
        9 => (Some(Story::Hostile), None, Some(HOSTILE_COMMENTS[0])),
        10 => (Some(Story::Hostile), None, Some(HOSTILE_COMMENTS[1])),
        11 => (None, named("Account A", "account-a.example", 0, 0, None), None),
        12 => (None, named("Account B", "account-b.example", 1, 1, None), None),
        13 => (None, named("Account C", "account-c.example", 3, 0, None), None),
        14 => (None, named("Account D", "account-d.example", 4, 3, None), None),
        15 => (None, named("株式会社サクラ精機", "sakura-seiki.example", 0, 2, Some(Culture::Kanji)), None),
        16 => (
            None,
            with_phones(
                named("Müller Präzisionstechnik GmbH", "mueller-praezision.example", 0, 1, Some(Culture::German)),
                (1, 1),
            ),
            None,
        ),
        17 => (
            None,
            with_phones(
                named("Société Générale d'Équipement", "sge-equipement.example", 5, 1, Some(Culture::French)),
                (1, 2),
            ),
            None,
        ),
        18 => (
            None,
            with_phones(
                named("ООО «Северный Ветер»", "severny-veter.example", 4, 1, Some(Culture::Cyrillic)),
                RUSSIAN_PHONES,
            ),
            None,
        ),
        // A second soured and a second growing account, so a small demo shows the
        // pattern in more than one vertical.
        21 => (Some(Story::Sours), None, None),
        26 => (Some(Story::Grows), None, None),
        _ => (None, None, None),
    }
}

/// The hidden parameters of one account.
pub(crate) struct Plan {
    pub index: usize,
    pub story: Option<Story>,
    pub fixed_name: Option<FixedName>,
    pub hostile_comment: Option<&'static str>,
    pub region: usize,
    /// (region, numbering plan) of its contacts' phones.
    pub phones: (usize, usize),
    /// 2026 billed revenue in whole dollars, before quarterly noise.
    pub annual: f64,
    /// Revenue multiplier from one quarter to the next.
    pub growth: f64,
    /// The account's lasting loyalty lean (0 is average).
    pub shift: f64,
    /// Loyalty lean added in each wave (a story's arc, or a random walk).
    pub wave_offset: [f64; 4],
    /// Extra lean of its executives.
    pub exec_offset: f64,
    /// How well each driver is delivered to this account (0 is average).
    pub effects: [f64; 6],
    /// Scale of answer-to-answer noise: stories are told with less, so their arcs show
    /// even with a handful of respondents.
    pub noise: f64,
    /// Chance a contact answers a wave.
    pub response_rate: f64,
    /// Whether the account is surveyed in each wave.
    pub surveyed: [bool; 4],
    pub contacts: usize,
    pub strategic: bool,
    pub transactional: Option<bool>,
}

impl Plan {
    /// Draws the plan of account `index` (its vertical is decided by its name, later).
    pub(crate) fn draw(rng: &mut DemoRng, index: usize) -> Plan {
        let (mut story, fixed_name, hostile_comment) =
            if index < FIXED_ACCOUNTS { fixed(index) } else { (None, None, None) };
        if index >= FIXED_ACCOUNTS && rng.gen_bool(SPRINKLE_RATE) {
            story = Some(pick(rng, Story::SPRINKLED));
        }
        let region = fixed_name.as_ref().map_or_else(|| weighted(rng, &REGION_WEIGHTS), |f| f.region);
        let phones = fixed_name.as_ref().map_or_else(|| (region, rng.gen_range(0..PHONE_PLANS[region])), |f| f.phones);
        let z = normal(rng);
        let mut annual = (180_000f64.ln() + 1.25 * z).exp().clamp(6_000.0, 60_000_000.0);
        let mut growth = 1.0 + 0.025 * normal(rng);
        let shift = 0.8 * normal(rng);
        let mut walk = 0.0;
        let wave_offset = std::array::from_fn(|_| {
            walk += 0.35 * normal(rng);
            walk
        });
        let effects = std::array::from_fn(|_| 0.5 * normal(rng));
        let mut plan = Plan {
            index,
            story,
            fixed_name,
            hostile_comment,
            region,
            phones,
            annual,
            growth,
            shift,
            wave_offset,
            exec_offset: 0.3 * normal(rng),
            effects,
            noise: 1.0,
            response_rate: rng.gen_range(0.5..0.85),
            surveyed: [true; 4],
            contacts: 0,
            strategic: rng.gen_bool(0.05),
            transactional: match rng.gen_range(0..20u8) {
                0..=10 => Some(false),
                11..=17 => Some(true),
                _ => None,
            },
        };
        let mut contacts = (5.0 + 2.0 * (annual / 20_000.0).ln() + 1.5 * normal(rng)).round().clamp(1.0, 25.0) as usize;
        if let Some(story) = story {
            // A story's arc replaces the account's own leanings, so the tale reads clearly.
            plan.shift = 0.0;
            plan.effects = [0.0; 6];
            plan.exec_offset = 0.0;
            plan.noise = 0.6;
            match story {
                Story::Sours => {
                    annual = (180_000f64.ln() + 1.25 * rng.gen_range(1.3..2.0)).exp();
                    growth = 0.86;
                    plan.wave_offset = [1.6, 0.3, -0.5, -2.0];
                    plan.noise = 0.4;
                    plan.response_rate = plan.response_rate.max(0.75);
                    contacts = contacts.max(14);
                    plan.strategic = true;
                }
                Story::Grows => {
                    annual = rng.gen_range(330_000.0..420_000.0);
                    growth = 1.25;
                    plan.wave_offset = [-2.4, -1.0, 0.4, 1.8];
                    plan.response_rate = plan.response_rate.max(0.75);
                    contacts = contacts.clamp(7, 12);
                }
                Story::SingleThreadedKeyAccount => {
                    annual = (180_000f64.ln() + 1.25 * rng.gen_range(2.0..2.6)).exp();
                    plan.wave_offset = [1.8; 4];
                    plan.response_rate = 1.0;
                    contacts = 1;
                    plan.strategic = true;
                    plan.transactional = Some(false);
                }
                Story::SqueakyWheel => {
                    annual = rng.gen_range(12_000.0..30_000.0);
                    plan.shift = -0.5;
                    plan.wave_offset = [0.0, -0.3, -0.3, -0.6];
                    contacts = rng.gen_range(3..=6);
                    plan.transactional = Some(true);
                }
                Story::Neglected => {
                    annual = (180_000f64.ln() + 1.25 * rng.gen_range(0.6..1.2)).exp();
                    growth = 0.93;
                    plan.wave_offset = [-0.3, -0.8, -0.8, -0.8];
                    plan.surveyed = [true, true, false, false];
                    contacts = contacts.max(5);
                }
                Story::ExecutivesDetract => {
                    annual = (180_000f64.ln() + 1.25 * rng.gen_range(1.0..1.6)).exp();
                    plan.wave_offset = [1.0, 0.4, -0.4, -1.2];
                    plan.exec_offset = -3.0;
                    plan.response_rate = plan.response_rate.max(0.8);
                    contacts = contacts.max(10);
                }
                Story::Hostile => {
                    plan.noise = 1.0;
                    plan.shift = shift;
                    plan.effects = effects;
                    contacts = contacts.max(2);
                }
            }
        }
        plan.annual = annual;
        plan.growth = growth;
        plan.contacts = contacts;
        plan
    }

    /// Whether contact `j` must answer every wave it is surveyed in: the one who carries a
    /// hostile comment or a planted double answer, and the detracting executives.
    pub(crate) fn always_answers(&self, j: usize) -> bool {
        j == 0 && (self.hostile_comment.is_some() || self.answers_twice(j))
            || j < 3 && self.story == Some(Story::ExecutivesDetract)
    }

    /// Whether contact `j` is planted to answer twice in a wave (a later answer
    /// supersedes the earlier): the first contact of a few head accounts.
    pub(crate) fn answers_twice(&self, j: usize) -> bool {
        j == 0 && self.index < FIXED_ACCOUNTS && self.index % 7 == 3
    }
}
