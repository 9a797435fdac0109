//! NPS per segment as horizontal bars from zero, with the 90% interval as a whisker: which
//! segments are ahead and which behind, and how sure each figure is.

use super::scale::Linear;
use super::{Rect, Tick, round1};

/// One segment's figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The segment.
    pub label: String,
    /// Its NPS.
    pub nps: f64,
    /// Its 90% interval, when there is one.
    pub interval: Option<(f64, f64)>,
    /// Answers behind it.
    pub n: u64,
}

/// A placed bar.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedBar {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// "up" for NPS >= 0, "down" below.
    pub class: &'static str,
    /// The segment.
    pub label: String,
    /// The figure as text, e.g. "+12.5 (n 340)".
    pub value: String,
    /// The whisker's ends, when there is an interval.
    pub whisker: Option<(f64, f64)>,
    /// Vertical centre of the bar (label and whisker baseline).
    pub mid: f64,
}

/// The laid-out chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Total width.
    pub width: f64,
    /// Total height (grows with the number of bars).
    pub height: f64,
    /// The plotting area.
    pub plot: Rect,
    /// NPS ticks.
    pub ticks: Vec<Tick>,
    /// x of NPS 0.
    pub zero: f64,
    /// The bars, in input order.
    pub bars: Vec<PlacedBar>,
}

/// Height of one bar's row.
const ROW: f64 = 22.0;
/// Room right of the plot for each bar's figure: "-100.0 (n 250000)" at 12 px is about 125 px
/// (80 px cut "+12.1 (n 503)" short).
const FIGURES: f64 = 140.0;

/// Lays out one bar per segment on a fixed -100..100 axis.
pub fn layout(bars: &[Bar], width: f64) -> BarChart {
    let plot = Rect { x: 150.0, y: 8.0, w: width - 150.0 - FIGURES, h: ROW * bars.len().max(1) as f64 };
    let x = Linear::new((-100.0, 100.0), (plot.x, plot.right()));
    let zero = round1(x.map(0.0));
    let placed = bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let end = round1(x.map(b.nps));
            let y = plot.y + i as f64 * ROW + 4.0;
            PlacedBar {
                x: zero.min(end),
                y,
                w: round1((end - zero).abs().max(1.0)),
                h: ROW - 8.0,
                class: if b.nps >= 0.0 { "up" } else { "down" },
                label: b.label.clone(),
                value: format!("{}{:.1} (n {})", if b.nps > 0.0 { "+" } else { "" }, b.nps, b.n),
                whisker: b.interval.map(|(lo, hi)| (round1(x.map(lo)), round1(x.map(hi)))),
                mid: round1(y + (ROW - 8.0) / 2.0),
            }
        })
        .collect();
    BarChart {
        width,
        height: plot.bottom() + 24.0,
        plot,
        ticks: [-100.0, -50.0, 0.0, 50.0, 100.0]
            .into_iter()
            .map(|v: f64| Tick { pos: round1(x.map(v)), text: format!("{v}") })
            .collect(),
        zero,
        bars: placed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_grow_from_zero_either_way_with_their_interval() {
        let chart = layout(
            &[
                Bar { label: "Energy".into(), nps: 50.0, interval: Some((30.0, 70.0)), n: 40 },
                Bar { label: "Retail".into(), nps: -25.0, interval: None, n: 2 },
            ],
            690.0,
        );
        let (up, down) = (&chart.bars[0], &chart.bars[1]);
        // The axis is 400 px for 200 points: 2 px a point.
        assert_eq!(chart.zero, 350.0);
        assert_eq!((up.x, up.w, up.class), (350.0, 100.0, "up"));
        assert_eq!((down.x, down.w, down.class), (300.0, 50.0, "down"));
        assert_eq!(up.whisker, Some((410.0, 490.0)));
        assert_eq!(down.whisker, None);
        assert_eq!(up.value, "+50.0 (n 40)");
        assert!(down.y > up.y);
        // The longest figure fits right of the plot (12 px text, about 7.2 px a character).
        let longest = "-100.0 (n 250000)".len() as f64 * 7.2;
        assert!(chart.plot.right() + 8.0 + longest <= chart.width, "{} px", chart.width - chart.plot.right());
    }
}
