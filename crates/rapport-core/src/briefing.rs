//! The review-meeting briefing: the discussion points, split between the executive and the
//! account manager, and the three questions every review asks (DOMAIN.md, step 5).
//!
//! The executive takes the relationship and the strategy (where the account sits, what its
//! revenue depends on, what its executives said, the executive actions); the account manager
//! takes the day-to-day (each unhappy person, what is overdue, the weakest experience, how
//! many people the relationship rests on).

use crate::contact::RoleLevel;
use crate::loyalty::LoyaltyClass;
use crate::money::Money;
use crate::quadrant::Quadrant;
use crate::words::count;

/// The three questions to ask in every review meeting.
pub const STANDARD_QUESTIONS: [&str; 3] = [
    "What can I do to improve your satisfaction and loyalty?",
    "What can the company do to improve?",
    "What is everything necessary for you to become totally satisfied?",
];

/// Someone who answered in the latest wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    /// Their name.
    pub name: String,
    /// Their title.
    pub title: Option<String>,
    /// Their level.
    pub level: Option<RoleLevel>,
    /// Likelihood to recommend.
    pub ltr: u8,
    /// What they wrote.
    pub comment: Option<String>,
}

/// What the discussion points are drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct BriefingFacts {
    /// The quadrant in the latest wave.
    pub quadrant: Quadrant,
    /// Its NPS in the latest wave, and in the wave before.
    pub nps: Option<f64>,
    /// The NPS in the wave before.
    pub nps_before: Option<f64>,
    /// Billed revenue.
    pub billed: Money,
    /// Potential revenue.
    pub potential: Money,
    /// Who answered in the latest wave.
    pub voices: Vec<Voice>,
    /// The lowest-rated experience in the latest wave: (question key, mean rating of 5).
    pub weakest: Option<(String, f64)>,
    /// Contacts on file.
    pub contacts: usize,
    /// Open tasks, overdue tasks, and open tasks of the executive function.
    pub open: usize,
    /// Of which overdue.
    pub overdue: usize,
    /// Open tasks of the executive function.
    pub executive_open: usize,
}

/// The discussion points, by who raises them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiscussionPoints {
    /// For the executive sponsor.
    pub executive: Vec<String>,
    /// For the account manager.
    pub account_manager: Vec<String>,
}

/// "Ana Ruiz (CFO) gave 3: ..." (`lead` " gave"), or "..., who gave 3: ..." (`lead` ", who gave").
fn said(v: &Voice, lead: &str) -> String {
    let who = match &v.title {
        Some(t) if !t.trim().is_empty() => format!("{} ({})", v.name, t.trim()),
        _ => v.name.clone(),
    };
    match v.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => format!("{who}{lead} {}: \"{c}\"", v.ltr),
        None => format!("{who}{lead} {}", v.ltr),
    }
}

/// A sentence ending in its own punctuation or a closing quote gets no second full stop.
fn sentence(text: String) -> String {
    if text.ends_with(['.', '!', '?', '"']) { text } else { text + "." }
}

/// The discussion points of a review meeting.
pub fn discussion_points(f: &BriefingFacts) -> DiscussionPoints {
    let mut p = DiscussionPoints::default();
    p.executive.push(format!("Where the account stands: {}. {}", f.quadrant.label(), f.quadrant.strategy()));
    match (f.nps, f.nps_before) {
        (Some(now), Some(before)) if (now - before).abs() >= 1.0 => {
            let way = if now > before { "rose" } else { "fell" };
            p.executive
                .push(format!("Their NPS {way} from {before:.0} to {now:.0} since the last wave: ask what changed."));
        }
        _ => {}
    }
    if f.quadrant == Quadrant::Problem {
        p.executive
            .push(format!("Revenue at risk: {} billed. Agree what we repair first, and by when.", f.billed.grouped()));
    }
    if f.quadrant == Quadrant::Growth && f.potential > f.billed {
        p.executive.push(format!(
            "Loyal with room to grow: {} potential against {} billed. Explore new business.",
            f.potential.grouped(),
            f.billed.grouped()
        ));
    }
    let executives: Vec<&Voice> = f.voices.iter().filter(|v| v.level == Some(RoleLevel::Executive)).collect();
    for v in &executives {
        let point = match LoyaltyClass::of(v.ltr) {
            LoyaltyClass::Detractor => sentence(format!("Hear out their executive: {}", said(v, " gave"))),
            LoyaltyClass::Passive => sentence(format!("Win over their executive: {}", said(v, " gave"))),
            LoyaltyClass::Promoter => {
                sentence(format!("Thank their executive and ask for a reference: {}", said(v, " gave")))
            }
        };
        p.executive.push(point);
    }
    if executives.is_empty() && !f.voices.is_empty() {
        p.executive.push("No executive of theirs answered: ask who else we should hear from at the top.".into());
    }
    if f.executive_open > 0 {
        p.executive.push(format!(
            "Report on the {} on the plan.",
            count(f.executive_open, "open executive action", "open executive actions")
        ));
    }

    for v in f.voices.iter().filter(|v| v.level != Some(RoleLevel::Executive)) {
        if LoyaltyClass::of(v.ltr) == LoyaltyClass::Detractor {
            p.account_manager.push(sentence(format!("Follow up with {}", said(v, ", who gave"))));
        }
    }
    if f.overdue > 0 {
        let overdue = count(f.overdue, "action is", "actions are");
        p.account_manager.push(format!("{overdue} overdue: say what happened and the new dates."));
    } else if f.open > 0 {
        p.account_manager
            .push(format!("Walk through the {} and their dates.", count(f.open, "open action", "open actions")));
    }
    if let Some((key, mean)) = &f.weakest {
        if *mean < 3.5 {
            p.account_manager
                .push(format!("Their weakest experience is {key} ({mean:.1} of 5): bring the plan to fix it."));
        }
    }
    if f.contacts <= 1 {
        p.account_manager.push("The relationship rests on one person: ask to meet others, at several levels.".into());
    }
    if f.voices.is_empty() {
        p.account_manager.push("No one answered the latest survey: ask why, and who should.".into());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(name: &str, level: RoleLevel, ltr: u8, comment: Option<&str>) -> Voice {
        Voice {
            name: name.into(),
            title: Some("Director".into()),
            level: Some(level),
            ltr,
            comment: comment.map(String::from),
        }
    }

    fn facts() -> BriefingFacts {
        BriefingFacts {
            quadrant: Quadrant::Problem,
            nps: Some(-20.0),
            nps_before: Some(30.0),
            billed: Money::from_units(1_200_000),
            potential: Money::from_units(400_000),
            voices: vec![
                voice("Ana", RoleLevel::Executive, 4, Some("Too many late deliveries")),
                voice("Tom", RoleLevel::User, 2, None),
                voice("Mia", RoleLevel::User, 9, None),
            ],
            weakest: Some(("delivery".into(), 2.4)),
            contacts: 5,
            open: 3,
            overdue: 1,
            executive_open: 1,
        }
    }

    #[test]
    fn the_executive_takes_the_strategy_and_their_executives() {
        let p = discussion_points(&facts());
        assert!(p.executive[0].starts_with("Where the account stands: Problem. At risk"));
        assert_eq!(p.executive[1], "Their NPS fell from 30 to -20 since the last wave: ask what changed.");
        assert!(p.executive[2].starts_with("Revenue at risk: $1,200,000 billed"), "{}", p.executive[2]);
        assert_eq!(p.executive[3], "Hear out their executive: Ana (Director) gave 4: \"Too many late deliveries\"");
        assert_eq!(p.executive[4], "Report on the 1 open executive action on the plan.");
    }

    #[test]
    fn the_account_manager_takes_each_detractor_what_is_overdue_and_the_weakest_experience() {
        let p = discussion_points(&facts());
        assert_eq!(
            p.account_manager,
            vec![
                "Follow up with Tom (Director), who gave 2.".to_string(),
                "1 action is overdue: say what happened and the new dates.".to_string(),
                "Their weakest experience is delivery (2.4 of 5): bring the plan to fix it.".to_string(),
            ]
        );
    }

    #[test]
    fn a_quiet_single_threaded_account_gets_the_points_that_fit_it() {
        let f = BriefingFacts {
            voices: vec![],
            contacts: 1,
            open: 0,
            overdue: 0,
            executive_open: 0,
            weakest: None,
            nps: None,
            nps_before: None,
            quadrant: Quadrant::Unsurveyed,
            ..facts()
        };
        let p = discussion_points(&f);
        assert_eq!(p.executive.len(), 1);
        assert_eq!(p.account_manager.len(), 2);
        assert!(p.account_manager[0].contains("rests on one person"));
        assert!(p.account_manager[1].contains("No one answered"));
    }

    #[test]
    fn the_three_questions_are_the_programs_own() {
        assert_eq!(STANDARD_QUESTIONS[2], "What is everything necessary for you to become totally satisfied?");
    }
}
