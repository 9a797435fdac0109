//! Verbatim comments, blunt and specific as B2B customers write them, by driver and by
//! whether the person is praising or complaining.

use crate::random::{DemoRng, pick};

/// Complaints, by driver (`DRIVERS` order): what a detractor writes about their worst
/// experience.
const COMPLAINTS: [&[&str]; 6] = [
    &[
        "Your brand used to mean something in our industry. Lately it's just a logo on the invoice.",
        "We chose you for the name. The service behind it hasn't lived up to it.",
        "Our board asks why we still pay a premium for your brand. I don't have a good answer.",
    ],
    &[
        "The sales team promised a dedicated engineer. We've never met them.",
        "What we were sold and what we got are two different things.",
        "Onboarding was supposed to take six weeks. We're at five months.",
        "Your rep promised quarterly business reviews. We had one, in March.",
    ],
    &[
        "The latest firmware release broke our reporting for two weeks.",
        "Defect rate on the last two batches was well above spec.",
        "The new portal is slower than the old one and half the features are missing.",
        "We keep finding the same bug in every release.",
    ],
    &[
        "Three late shipments this quarter, our line stopped twice.",
        "Deliveries arrive without the paperwork our receiving dock needs.",
        "Lead times went from two weeks to seven with no warning.",
        "Partial shipments every time. We can't plan around that.",
    ],
    &[
        "Support tickets sit for days before anyone replies.",
        "I had to explain the same problem to four different people.",
        "The support line sends us to a chatbot that can't help.",
        "Nobody called back after our outage. Nobody.",
    ],
    &[
        "Pricing went up 8% with no notice.",
        "Your competitor quoted 15% less for the same spec.",
        "We're paying for features we never use.",
        "Invoices are full of surcharges nobody can explain.",
    ],
];

/// Praise, by driver: what a promoter writes about their best experience.
const PRAISE: [&[&str]; 6] = [
    &[
        "Having your name on our supplier list helps us pass our own customers' audits.",
        "Your brand carries weight with our customers; that's a big part of why we stay.",
        "When we tell prospects we run on your equipment, they nod. That matters.",
    ],
    &[
        "Everything sales told us turned out to be true. Rare.",
        "You did exactly what you said you'd do in the proposal.",
        "Our account manager follows up on every commitment. Keep it that way.",
    ],
    &[
        "Product quality has been rock solid all year.",
        "The new release saved my team about ten hours a week.",
        "Zero defects on the last four lots. Impressive.",
    ],
    &[
        "Every delivery on time this quarter, even over the holidays.",
        "Your logistics team rerouted a shipment overnight and saved our launch.",
        "Lead times are the best in the market.",
    ],
    &[
        "Jana in support is outstanding.",
        "Support fixed a critical issue at 2am on a Sunday. Thank you.",
        "Your field technician knew our setup better than we do.",
        "Marco in customer care always picks up the phone.",
    ],
    &[
        "Not the cheapest, but worth every cent.",
        "The volume discount made a real difference to our budget this year.",
        "Clear, predictable pricing. Finance loves you.",
    ],
];

/// What passives write: lukewarm, often with one small ask.
const LUKEWARM: &[&str] = &[
    "Fine overall. Nothing special, nothing terrible.",
    "Solid supplier, but we're evaluating alternatives at renewal.",
    "Does the job. Would like more proactive ideas from your team.",
    "Mostly good; the invoicing portal could be simpler.",
    "Okay. Response times vary a lot depending on who picks up.",
];

/// A comment about `driver` (index into `DRIVERS`) from someone whose answer is a
/// complaint (`ltr` 0-6), lukewarm (7-8) or praise (9-10).
pub(crate) fn comment(rng: &mut DemoRng, ltr: u8, driver: usize) -> &'static str {
    match ltr {
        0..=6 => pick(rng, COMPLAINTS[driver]),
        7..=8 => pick(rng, LUKEWARM),
        _ => pick(rng, PRAISE[driver]),
    }
}

/// The comment on a contact's second answer in a wave.
pub(crate) const CHANGED_MIND: &str = "Updating my answer after the call with our account manager.";
