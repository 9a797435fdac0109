//! Survey answers: LTR driven by the experience drivers, with a different key driver in
//! each vertical, and comments that match the score.

use std::collections::BTreeMap;

use rand::Rng;
use rapport_core::contact::{Contact, RoleLevel};
use rapport_core::response::{Ltr, Response};
use time::{Duration, PrimitiveDateTime, Time};

use crate::comments::{CHANGED_MIND, comment};
use crate::names::VERTICALS;
use crate::people::Respondent;
use crate::plan::Plan;
use crate::random::{DemoRng, normal};
use crate::wave::{WAVES, last_answer_day};

/// The driver questions, keyed as in `Response::scores`, each rated 1-5:
/// brand ("How important to your buying decision is our brand and the service promise it
/// makes?"), promise ("Do we deliver the experience our marketing and sales force
/// promised?"), product, delivery, support and value.
pub const DRIVERS: [&str; 6] = ["brand", "promise", "product", "delivery", "support", "value"];

/// (key driver, second driver) of each vertical, in `VERTICALS` order, as indices into
/// `DRIVERS`: what a key driver analysis of the demo should find.
const KEY_DRIVERS: [(usize, usize); 7] = [
    (3, 2), // Manufacturing: delivery, then product
    (4, 2), // Healthcare: support, then product
    (5, 1), // Financial Services: value, then promise
    (0, 5), // Retail: brand, then value
    (3, 5), // Logistics: delivery, then value
    (1, 4), // Energy: promise, then support
    (2, 4), // Technology: product, then support
];

/// The driver that moves LTR most in `vertical` of the demo (None for a vertical the demo
/// does not use).
pub fn key_driver(vertical: &str) -> Option<&'static str> {
    let v = VERTICALS.iter().position(|name| *name == vertical)?;
    Some(DRIVERS[KEY_DRIVERS[v].0])
}

/// How much each driver weighs on LTR in vertical `v`.
fn weights(v: usize) -> [f64; 6] {
    let (key, second) = KEY_DRIVERS[v];
    std::array::from_fn(|k| match k {
        _ if k == key => 1.3,
        _ if k == second => 0.5,
        _ => 0.12,
    })
}

/// Average driver rating, the centre of the scale the weights apply around.
const DRIVER_MEAN: f64 = 3.4;

/// The answers of the account's contacts across the four waves.
pub(crate) fn responses(
    rng: &mut DemoRng,
    plan: &Plan,
    vertical: usize,
    contacts: &[Contact],
    traits: &[Respondent],
) -> Vec<Response> {
    let weights = weights(vertical);
    let mut out = Vec::with_capacity(contacts.len() * 3);
    for (w, &(wave, opens, _)) in WAVES.iter().enumerate() {
        if !plan.surveyed[w] {
            continue;
        }
        let last_day = last_answer_day(w);
        let span = (last_day - opens).whole_days();
        for (j, (contact, t)) in contacts.iter().zip(traits).enumerate() {
            let forced = plan.always_answers(j) || plan.response_rate >= 1.0;
            let p = (plan.response_rate * t.propensity).min(0.97);
            if !forced && !rng.gen_bool(p) {
                continue;
            }
            let mut mood = plan.shift + plan.wave_offset[w] + t.bias;
            if t.level == RoleLevel::Executive {
                mood += plan.exec_offset;
            }
            let mut ratings = [0u8; 6];
            let mut drive = 0.0;
            for k in 0..6 {
                let d = (DRIVER_MEAN + plan.effects[k] + 0.45 * mood + 0.8 * plan.noise * normal(rng))
                    .round()
                    .clamp(1.0, 5.0);
                ratings[k] = d as u8;
                drive += weights[k] * (d - DRIVER_MEAN);
            }
            let ltr = (7.7 + 0.6 * mood + drive + 0.9 * plan.noise * normal(rng)).round().clamp(0.0, 10.0) as u8;
            let mut scores = BTreeMap::new();
            for (k, key) in DRIVERS.iter().enumerate() {
                // Some leave a driver blank; brand is the one most often skipped.
                let skip = if k == 0 { 0.12 } else { 0.06 };
                if !rng.gen_bool(skip) {
                    scores.insert((*key).to_string(), ratings[k]);
                }
            }
            let comment_chance = match ltr {
                0..=6 => 0.6,
                7..=8 => 0.25,
                _ => 0.4,
            };
            let mut text = if rng.gen_bool(comment_chance) {
                // Detractors write about their worst experience, promoters about their
                // best; ties go to what matters most in the vertical.
                let by = |k: usize| f64::from(ratings[k]) + 0.01 * weights[k] * if ltr <= 6 { -1.0 } else { 1.0 };
                let theme = if ltr <= 6 {
                    (0..6).min_by(|&a, &b| by(a).total_cmp(&by(b)))
                } else {
                    (0..6).max_by(|&a, &b| by(a).total_cmp(&by(b)))
                };
                Some(comment(rng, ltr, theme.unwrap_or(0)).to_string())
            } else {
                None
            };
            if w == WAVES.len() - 1 && j == 0 {
                if let Some(hostile) = plan.hostile_comment {
                    text = Some(hostile.to_string());
                }
            }
            // Invitations go out on the first day; most answer in the first days.
            let day = (span as f64 * rng.gen_range(0.0f64..1.0).powf(1.8)).floor() as i64;
            let at = |day: i64, rng: &mut DemoRng| {
                let time = Time::from_hms(rng.gen_range(7..20), rng.gen_range(0..60), rng.gen_range(0..60))
                    .expect("hours, minutes and seconds in range");
                PrimitiveDateTime::new(opens + Duration::days(day.min(span)), time).assume_utc()
            };
            let submitted_at = at(day, rng);
            let twice = plan.answers_twice(j) || rng.gen_bool(0.003);
            out.push(Response {
                contact_id: contact.contact_id.clone(),
                wave: wave.to_string(),
                submitted_at,
                ltr: Ltr::new(ltr).expect("clamped to 0-10"),
                comment: text,
                scores: scores.clone(),
            });
            if twice {
                let again = (i16::from(ltr) + rng.gen_range(-2..=3)).clamp(0, 10) as u8;
                let later = at(day + rng.gen_range(1..=5), rng).max(submitted_at + Duration::minutes(1));
                out.push(Response {
                    contact_id: contact.contact_id.clone(),
                    wave: wave.to_string(),
                    submitted_at: later,
                    ltr: Ltr::new(again).expect("clamped to 0-10"),
                    comment: Some(CHANGED_MIND.to_string()),
                    scores,
                });
            }
        }
    }
    out
}

/// Who asks in the demo: the supplier whose customers the demo portfolio holds, with a small
/// logo, so that the built-in survey can be sent from a demo database as it is.
pub fn sender() -> rapport_core::survey::Sender {
    rapport_core::survey::Sender {
        company: "Meridian Industrial Supply".into(),
        contact_name: "Customer Experience team".into(),
        email: "cx@meridian.example".into(),
        phone: "+1 555 0142".into(),
        logo_svg: Some(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 40 40\" width=\"40\" height=\"40\">\
             <circle cx=\"20\" cy=\"20\" r=\"19\" fill=\"#0b57b0\"/>\
             <path d=\"M9 28 L15 12 L20 22 L25 12 L31 28\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\"/></svg>"
                .into(),
        ),
    }
}
