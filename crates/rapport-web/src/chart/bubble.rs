//! The loyalty × revenue bubble chart: one bubble per account, NPS across (high loyalty to
//! the right), billed revenue up (log scale, high revenue at the top), and bubble area in
//! proportion to the account's potential revenue.
//!
//! Portfolios run to hundreds of accounts, so the layout labels only what it can label
//! legibly: the biggest bubbles first, skipping any label that would collide, at most
//! [`MAX_LABELS`]. Every bubble still carries its tooltip.

use super::scale::{Linear, Log, money_short};
use super::{Rect, Tick, round1};

/// At most this many account labels; past that a chart reads as text, not as a picture.
pub const MAX_LABELS: usize = 40;

// Room for money ticks ("$100k") on the left and NPS ticks plus the axis title below.
const MARGIN_LEFT: f64 = 70.0;
const MARGIN_RIGHT: f64 = 16.0;
const MARGIN_TOP: f64 = 16.0;
const MARGIN_BOTTOM: f64 = 40.0;
/// Smallest bubble radius: a tiny account must still be big enough to hover and click.
const MIN_RADIUS: f64 = 2.5;
// Text box estimate for the 11px label font: width per character, ascent and descent.
const CHAR_WIDTH: f64 = 6.2;
const ASCENT: f64 = 8.0;
const DESCENT: f64 = 3.0;
/// From a bubble's centre down to the baseline that centres a label's capitals on it.
const BASELINE_DROP: f64 = 4.0;
/// Gap between a bubble's edge and its label, and between a quadrant name and the plot edge.
const GAP: f64 = 3.0;
const CORNER_INSET: f64 = 6.0;

/// One account to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Bubble {
    /// Link to the account's page.
    pub href: String,
    /// Full account name.
    pub name: String,
    /// Short name for the on-chart label; the full name is used when this is empty.
    pub short: String,
    /// The account's NPS, -100..100.
    pub nps: f64,
    /// Billed revenue in cents (y).
    pub billed_cents: i64,
    /// Potential revenue in cents (bubble area).
    pub potential_cents: i64,
    /// CSS class, such as the quadrant ("emulate").
    pub class: &'static str,
    /// Fill colour, drawn as an attribute so that the chart file keeps its colours outside
    /// the page's stylesheet.
    pub fill: &'static str,
    /// Hover text, prepared by the caller.
    pub tooltip: String,
}

/// The laid-out chart, ready for the SVG template.
#[derive(Debug, Clone, PartialEq)]
pub struct BubbleChart {
    /// Width of the SVG viewBox.
    pub width: f64,
    /// Height of the SVG viewBox.
    pub height: f64,
    /// The plot area inside the axes.
    pub plot: Rect,
    /// Bubbles, largest first so small ones are drawn on top and stay clickable.
    pub circles: Vec<Circle>,
    /// Account labels that fit without colliding.
    pub labels: Vec<Label>,
    /// NPS ticks along the bottom.
    pub x_ticks: Vec<Tick>,
    /// Billed revenue ticks up the left, bottom to top.
    pub y_ticks: Vec<Tick>,
    /// x of the vertical loyalty threshold line.
    pub loyalty_line_x: f64,
    /// y of the horizontal revenue threshold line, when there is a threshold.
    pub revenue_line_y: Option<f64>,
    /// "Emulate", "Problem", "Growth" and "Decision" in their corners of the plot.
    pub quadrant_names: Vec<Label>,
}

/// One account's bubble.
#[derive(Debug, Clone, PartialEq)]
pub struct Circle {
    /// Centre x.
    pub cx: f64,
    /// Centre y.
    pub cy: f64,
    /// Radius.
    pub r: f64,
    /// Link to the account's page.
    pub href: String,
    /// Hover text.
    pub tooltip: String,
    /// CSS class.
    pub class: &'static str,
    /// Fill colour.
    pub fill: &'static str,
}

/// A text label: `(x, y)` is the baseline point the text is anchored at.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Anchor x.
    pub x: f64,
    /// Baseline y.
    pub y: f64,
    /// The text.
    pub text: String,
    /// SVG `text-anchor`: "start", "middle" or "end".
    pub anchor: &'static str,
}

impl Label {
    /// The estimated box the text covers, used to keep labels apart and inside the plot.
    pub fn extent(&self) -> Rect {
        let w = CHAR_WIDTH * self.text.chars().count() as f64;
        let x = match self.anchor {
            "end" => self.x - w,
            "middle" => self.x - w / 2.0,
            _ => self.x,
        };
        Rect { x, y: self.y - ASCENT, w, h: ASCENT + DESCENT }
    }
}

/// Lays out the loyalty × revenue chart in a `width` × `height` viewBox.
///
/// The threshold lines sit at `loyalty_threshold` (NPS) and `revenue_threshold_cents`
/// (billed), on the same scales as the bubbles, so an account exactly at a threshold is
/// drawn on its line. The revenue axis covers the accounts' billed revenue and the threshold
/// in whole decades; accounts with nothing billed sit on the bottom edge.
pub fn layout(
    bubbles: &[Bubble],
    loyalty_threshold: f64,
    revenue_threshold_cents: Option<i64>,
    width: f64,
    height: f64,
) -> BubbleChart {
    let plot = Rect {
        x: MARGIN_LEFT,
        y: MARGIN_TOP,
        w: round1((width - MARGIN_LEFT - MARGIN_RIGHT).max(1.0)),
        h: round1((height - MARGIN_TOP - MARGIN_BOTTOM).max(1.0)),
    };
    let x = Linear::new((-100.0, 100.0), (plot.x, plot.right()));
    // The log scale runs in dollars so that its empty-chart fallback (1..10) reads "$1".."$10".
    let dollars = |cents: i64| cents as f64 / 100.0;
    let amounts = bubbles.iter().map(|b| b.billed_cents).chain(revenue_threshold_cents).map(dollars);
    let positive: Vec<f64> = amounts.filter(|&v| v > 0.0).collect();
    let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let max = positive.iter().copied().fold(0.0, f64::max);
    let y = Log::new(Log::covering(min, max), (plot.bottom(), plot.y));

    // Area, not radius, in proportion to potential: the eye compares areas.
    let max_potential = bubbles.iter().map(|b| b.potential_cents).max().unwrap_or(0).max(1) as f64;
    // A fourteenth of the plot's short side: big enough to compare, small enough that 500
    // accounts stay bubbles instead of one blot.
    let r_max = plot.w.min(plot.h) / 14.0;
    let radius = |b: &Bubble| (r_max * (b.potential_cents.max(0) as f64 / max_potential).sqrt()).max(MIN_RADIUS);

    let mut order: Vec<&Bubble> = bubbles.iter().collect();
    order.sort_by_key(|b| std::cmp::Reverse(b.potential_cents));
    let circles: Vec<Circle> = order
        .iter()
        .map(|b| Circle {
            cx: round1(x.map(b.nps)),
            cy: round1(y.map(dollars(b.billed_cents))),
            r: round1(radius(b)),
            href: b.href.clone(),
            tooltip: b.tooltip.clone(),
            class: b.class,
            fill: b.fill,
        })
        .collect();

    let quadrant_names = quadrant_names(plot);
    let labels = place_labels(&order, &circles, plot, &quadrant_names);
    let x_step = if plot.w >= 360.0 { 25 } else { 50 };
    let x_ticks = (-100..=100)
        .step_by(x_step)
        .map(|nps| Tick { pos: round1(x.map(f64::from(nps))), text: nps.to_string() })
        .collect();
    let y_ticks = y
        .ticks((plot.h / 40.0) as usize)
        .into_iter()
        .map(|v| Tick { pos: round1(y.map(v)), text: money_short(v * 100.0) })
        .collect();

    BubbleChart {
        width,
        height,
        plot,
        circles,
        labels,
        x_ticks,
        y_ticks,
        loyalty_line_x: round1(x.map(loyalty_threshold)),
        revenue_line_y: revenue_threshold_cents.map(|t| round1(y.map(dollars(t)))),
        quadrant_names,
    }
}

/// Labels for the biggest bubbles that fit: right of the bubble, else left of it, and only
/// where the text stays inside the plot and clear of every label already placed (including
/// the quadrant names). With at most [`MAX_LABELS`] placed, checking each against all placed
/// boxes is cheap enough.
fn place_labels(order: &[&Bubble], circles: &[Circle], plot: Rect, reserved: &[Label]) -> Vec<Label> {
    let mut taken: Vec<Rect> = reserved.iter().map(Label::extent).collect();
    let mut labels = Vec::new();
    for (bubble, circle) in order.iter().zip(circles) {
        if labels.len() == MAX_LABELS {
            break;
        }
        let text = if bubble.short.is_empty() { &bubble.name } else { &bubble.short };
        if text.is_empty() {
            continue;
        }
        let baseline = round1(circle.cy + BASELINE_DROP);
        let right = Label { x: round1(circle.cx + circle.r + GAP), y: baseline, text: text.clone(), anchor: "start" };
        let left = Label { x: round1(circle.cx - circle.r - GAP), anchor: "end", ..right.clone() };
        let fits = |label: &Label| {
            let extent = label.extent();
            plot.contains(&extent) && !taken.iter().any(|t| t.overlaps(&extent))
        };
        if let Some(label) = [right, left].into_iter().find(fits) {
            taken.push(label.extent());
            labels.push(label);
        }
    }
    labels
}

/// The quadrant names, each tucked into its corner (high loyalty right, high revenue top).
fn quadrant_names(plot: Rect) -> Vec<Label> {
    let (left, right) = (plot.x + CORNER_INSET, plot.right() - CORNER_INSET);
    let (top, bottom) = (plot.y + CORNER_INSET + ASCENT, plot.bottom() - CORNER_INSET - DESCENT);
    let name = |x: f64, y: f64, text: &str, anchor| Label { x: round1(x), y: round1(y), text: text.into(), anchor };
    vec![
        name(right, top, "Emulate", "end"),
        name(left, top, "Problem", "start"),
        name(right, bottom, "Growth", "end"),
        name(left, bottom, "Decision", "start"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bubble(name: &str, nps: f64, billed_cents: i64, potential_cents: i64) -> Bubble {
        Bubble {
            href: format!("/accounts/{name}"),
            name: name.to_string(),
            short: name.to_string(),
            nps,
            billed_cents,
            potential_cents,
            class: "emulate",
            fill: "#2f9e6a",
            tooltip: name.to_string(),
        }
    }

    /// 500 accounts spread the way a real portfolio is: any NPS, revenue over five decades.
    fn portfolio(n: usize) -> Vec<Bubble> {
        let mut seed: u64 = 42;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        (0..n)
            .map(|i| {
                let nps = (next() * 200.0 - 100.0).round();
                let billed = 10f64.powf(7.0 + 5.0 * next()) as i64;
                let potential = (billed as f64 * (1.0 + 3.0 * next())) as i64;
                bubble(&format!("Account {i}"), nps, billed, potential)
            })
            .collect()
    }

    fn find<'a>(chart: &'a BubbleChart, href: &str) -> &'a Circle {
        chart.circles.iter().find(|c| c.href == href).expect("circle")
    }

    #[test]
    fn an_account_at_both_thresholds_sits_on_both_lines() {
        let accounts =
            [bubble("a", 30.0, 5_000_000, 1), bubble("b", -80.0, 100_000, 1), bubble("c", 90.0, 900_000_000, 1)];
        let chart = layout(&accounts, 30.0, Some(5_000_000), 800.0, 500.0);
        let a = find(&chart, "/accounts/a");
        assert_eq!(a.cx, chart.loyalty_line_x);
        assert_eq!(Some(a.cy), chart.revenue_line_y);
    }

    #[test]
    fn four_times_the_potential_is_twice_the_radius() {
        let chart =
            layout(&[bubble("big", 0.0, 1_000, 400), bubble("small", 0.0, 1_000, 100)], 30.0, None, 800.0, 500.0);
        let (big, small) = (find(&chart, "/accounts/big"), find(&chart, "/accounts/small"));
        // Each radius is rounded to 0.1 px, so twice the small one may be off by up to 0.15.
        assert!((big.r - 2.0 * small.r).abs() <= 0.15, "{} vs {}", big.r, small.r);
    }

    #[test]
    fn tiny_accounts_keep_a_clickable_radius_and_the_biggest_are_drawn_first() {
        let chart =
            layout(&[bubble("tiny", 0.0, 1_000, 1), bubble("huge", 0.0, 1_000, 1_000_000)], 30.0, None, 800.0, 500.0);
        assert_eq!(chart.circles[0].href, "/accounts/huge");
        assert_eq!(chart.circles[1].r, MIN_RADIUS);
    }

    #[test]
    fn revenue_ticks_cover_whole_decades_in_money() {
        let chart =
            layout(&[bubble("a", 0.0, 100_000, 1), bubble("b", 0.0, 1_000_000_000, 1)], 30.0, None, 800.0, 500.0);
        let texts: Vec<&str> = chart.y_ticks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["$1k", "$10k", "$100k", "$1M", "$10M"]);
        assert_eq!(chart.y_ticks[0].pos, chart.plot.bottom());
        assert_eq!(chart.y_ticks[4].pos, chart.plot.y);
    }

    #[test]
    fn nps_ticks_run_from_minus_100_to_100() {
        let texts =
            |width| layout(&[], 30.0, None, width, 400.0).x_ticks.into_iter().map(|t| t.text).collect::<Vec<_>>();
        assert_eq!(texts(800.0), ["-100", "-75", "-50", "-25", "0", "25", "50", "75", "100"]);
        assert_eq!(texts(300.0), ["-100", "-50", "0", "50", "100"]);
    }

    #[test]
    fn five_hundred_accounts_get_at_most_40_labels_that_never_collide() {
        let chart = layout(&portfolio(500), 30.0, Some(100_000_000), 900.0, 600.0);
        assert!(!chart.labels.is_empty() && chart.labels.len() <= MAX_LABELS, "{}", chart.labels.len());
        let boxes: Vec<Rect> = chart.labels.iter().chain(&chart.quadrant_names).map(Label::extent).collect();
        for (i, a) in boxes.iter().enumerate() {
            assert!(chart.plot.contains(a), "{a:?} leaves the plot");
            for b in &boxes[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn every_bubble_centre_is_inside_the_plot() {
        let mut accounts = portfolio(500);
        accounts.push(bubble("edge", 100.0, i64::MAX, 1));
        accounts.push(bubble("odd", -140.0, -5, -5));
        let chart = layout(&accounts, 30.0, None, 900.0, 600.0);
        let p = chart.plot;
        for c in &chart.circles {
            assert!(c.cx >= p.x && c.cx <= p.right() && c.cy >= p.y && c.cy <= p.bottom(), "{c:?}");
        }
    }

    #[test]
    fn labels_flip_left_at_the_right_edge() {
        let chart = layout(&[bubble("Right Edge Co", 99.0, 5_000, 1)], 30.0, None, 800.0, 500.0);
        assert_eq!(chart.labels[0].anchor, "end");
        assert!(chart.labels[0].x < chart.circles[0].cx);
    }

    #[test]
    fn an_empty_portfolio_still_has_axes() {
        let chart = layout(&[], 30.0, None, 800.0, 500.0);
        assert!(chart.circles.is_empty() && chart.labels.is_empty());
        assert_eq!(chart.x_ticks.len(), 9);
        let texts: Vec<&str> = chart.y_ticks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["$1", "$2", "$5", "$10"]);
        assert_eq!(chart.revenue_line_y, None);
    }

    #[test]
    fn nothing_billed_sits_on_the_bottom_edge() {
        let chart = layout(&[bubble("zero", 10.0, 0, 1), bubble("some", 10.0, 250_000, 1)], 30.0, None, 800.0, 500.0);
        assert_eq!(find(&chart, "/accounts/zero").cy, chart.plot.bottom());
    }

    #[test]
    fn quadrant_names_sit_in_their_corners() {
        let chart = layout(&[], 30.0, None, 800.0, 500.0);
        let (mid_x, mid_y) = (chart.plot.x + chart.plot.w / 2.0, chart.plot.y + chart.plot.h / 2.0);
        let corner = |name: &str| {
            let label = chart.quadrant_names.iter().find(|l| l.text == name).expect("name");
            (label.x > mid_x, label.y < mid_y)
        };
        assert_eq!(corner("Emulate"), (true, true));
        assert_eq!(corner("Problem"), (false, true));
        assert_eq!(corner("Growth"), (true, false));
        assert_eq!(corner("Decision"), (false, false));
    }
}
