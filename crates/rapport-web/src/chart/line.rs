//! Line charts of trends across waves: one path per series over evenly spaced categories
//! (the waves), a left axis, and optionally a right axis for a second measure, so loyalty
//! and revenue can share one chart.
//!
//! A missing value is a gap in the line, never a zero: a wave without answers has no NPS,
//! and drawing it as 0 would invent a collapse.

use std::fmt::Write as _;

use super::scale::Linear;
use super::{Rect, Tick, round1};

// Room for number ticks ("-100") on the left, money ticks ("$1.5M") on a right axis, and
// category labels below.
const MARGIN_LEFT: f64 = 50.0;
const MARGIN_RIGHT: f64 = 20.0;
const MARGIN_RIGHT_AXIS: f64 = 70.0;
const MARGIN_TOP: f64 = 12.0;
const MARGIN_BOTTOM: f64 = 30.0;
/// Width per character of the 11px tick font, to thin category labels that would collide.
const CHAR_WIDTH: f64 = 6.2;
/// Least space between two category labels.
const LABEL_GAP: f64 = 8.0;

/// One line: a value per category, `None` where there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Name, shown in the tooltips (and the template's legend).
    pub name: String,
    /// CSS class of the path and its dots.
    pub class: &'static str,
    /// Colour of the path and its dots, drawn as attributes so that a chart saved as a file
    /// keeps it.
    pub colour: &'static str,
    /// One value per category; missing or extra values are ignored.
    pub points: Vec<Option<f64>>,
}

/// The colour of NPS lines (the stylesheet's accent).
pub const NPS_COLOUR: &str = "#27466e";
/// The colour of revenue lines.
pub const REVENUE_COLOUR: &str = "#c9962b";

/// The laid-out chart, ready for the SVG template.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Width of the SVG viewBox.
    pub width: f64,
    /// Height of the SVG viewBox.
    pub height: f64,
    /// The plot area inside the axes.
    pub plot: Rect,
    /// Category labels along the bottom, thinned so they never overlap.
    pub x_ticks: Vec<Tick>,
    /// Left axis ticks, bottom to top.
    pub y_ticks: Vec<Tick>,
    /// Right axis ticks, bottom to top; empty when there is no right axis.
    pub y2_ticks: Vec<Tick>,
    /// One path per series that has at least one value: left series first, then right.
    pub paths: Vec<Path>,
    /// A dot per value, for hovering.
    pub dots: Vec<Dot>,
}

/// An SVG path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Path data, "M x y L x y ...", starting a new "M" after each gap.
    pub d: String,
    /// CSS class.
    pub class: &'static str,
    /// Stroke colour.
    pub colour: &'static str,
}

/// One value's dot.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    /// Centre x.
    pub x: f64,
    /// Centre y.
    pub y: f64,
    /// CSS class.
    pub class: &'static str,
    /// Fill colour.
    pub colour: &'static str,
    /// Hover text, such as "NPS, 2026-Q3: 42.0".
    pub tooltip: String,
}

/// Lays out a line chart in a `width` × `height` viewBox.
///
/// The left axis uses `left_domain` when given (pass `Some((-100.0, 100.0))` for NPS, so
/// waves compare on a fixed axis) and otherwise fits the left series, widened to whole tick
/// steps. A non-empty `right` adds a right axis fitted to its series from 0, its ticks and
/// tooltips written by `right_format` (such as [`super::scale::money_short`]).
pub fn layout(
    categories: &[String],
    left: &[Series],
    left_domain: Option<(f64, f64)>,
    right: &[Series],
    right_format: fn(f64) -> String,
    width: f64,
    height: f64,
) -> LineChart {
    let margin_right = if right.is_empty() { MARGIN_RIGHT } else { MARGIN_RIGHT_AXIS };
    let plot = Rect {
        x: MARGIN_LEFT,
        y: MARGIN_TOP,
        w: round1((width - MARGIN_LEFT - margin_right).max(1.0)),
        h: round1((height - MARGIN_TOP - MARGIN_BOTTOM).max(1.0)),
    };
    // Each category gets an equal band and sits in its middle: a lone category is centred,
    // and the first and last keep clear of the axes.
    let band = plot.w / categories.len().max(1) as f64;
    let xs: Vec<f64> = (0..categories.len()).map(|i| round1(plot.x + band * (i as f64 + 0.5))).collect();

    let target = ((plot.h / 40.0) as usize).max(2);
    let y_range = (plot.bottom(), plot.y);
    let left_scale = match left_domain {
        Some(domain) => Linear::new(domain, y_range),
        None => Linear::new(fitted(left, categories.len(), false), y_range).nice(target),
    };
    let right_scale = Linear::new(fitted(right, categories.len(), true), y_range).nice(target);
    let ticks = |scale: &Linear, format: fn(f64) -> String| -> Vec<Tick> {
        scale.ticks(target).into_iter().map(|v| Tick { pos: round1(scale.map(v)), text: format(v) }).collect()
    };
    let y2_ticks = if right.is_empty() { Vec::new() } else { ticks(&right_scale, right_format) };

    let mut paths = Vec::new();
    let mut dots = Vec::new();
    let left_format: fn(f64) -> String = |v| format!("{v:.1}");
    let sides = left.iter().map(|s| (s, &left_scale, left_format));
    for (series, scale, format) in sides.chain(right.iter().map(|s| (s, &right_scale, right_format))) {
        let mut d = String::new();
        let mut pen_down = false;
        for ((value, &x), category) in series.points.iter().zip(&xs).zip(categories) {
            let Some(v) = value.filter(|v| v.is_finite()) else {
                pen_down = false;
                continue;
            };
            let y = round1(scale.map(v));
            if !d.is_empty() {
                d.push(' ');
            }
            let command = if pen_down { 'L' } else { 'M' };
            write!(d, "{command} {x} {y}").expect("writing to a String cannot fail");
            pen_down = true;
            let tooltip = match series.name.as_str() {
                "" => format!("{category}: {}", format(v)),
                name => format!("{name}, {category}: {}", format(v)),
            };
            dots.push(Dot { x, y, class: series.class, colour: series.colour, tooltip });
        }
        if !d.is_empty() {
            paths.push(Path { d, class: series.class, colour: series.colour });
        }
    }

    LineChart {
        width,
        height,
        plot,
        x_ticks: category_ticks(categories, &xs, band),
        y_ticks: ticks(&left_scale, |v| v.to_string()),
        y2_ticks,
        paths,
        dots,
    }
}

/// The smallest domain holding every value of `series` (and 0 when `from_zero`), or 0..1
/// with no values. [`Linear::nice`] then widens it to whole ticks.
fn fitted(series: &[Series], categories: usize, from_zero: bool) -> (f64, f64) {
    let values = series.iter().flat_map(|s| s.points.iter().take(categories).flatten()).filter(|v| v.is_finite());
    let start = if from_zero { (0.0, 0.0) } else { (f64::INFINITY, f64::NEG_INFINITY) };
    let (lo, hi) = values.fold(start, |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if lo > hi || (from_zero && lo == hi) { (0.0, 1.0) } else { (lo, hi) }
}

/// A label per category, or per second (third, ...) category when labels would collide.
fn category_ticks(categories: &[String], xs: &[f64], band: f64) -> Vec<Tick> {
    let widest = categories.iter().map(|c| c.chars().count()).max().unwrap_or(0) as f64;
    let every = (((widest * CHAR_WIDTH + LABEL_GAP) / band).ceil() as usize).max(1);
    xs.iter().zip(categories).step_by(every).map(|(&pos, text)| Tick { pos, text: text.clone() }).collect()
}

#[cfg(test)]
mod tests {
    use super::super::scale::money_short;
    use super::*;

    fn waves(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{}-Q{}", 2026 + i / 4, i % 4 + 1)).collect()
    }

    fn series(name: &str, points: &[Option<f64>]) -> Series {
        Series { name: name.to_string(), class: "nps", colour: "#27466e", points: points.to_vec() }
    }

    fn plain(v: f64) -> String {
        v.to_string()
    }

    #[test]
    fn a_straight_series_maps_to_band_centres_and_the_axis() {
        // The plot is x 50..380 (three bands of 110) and y 12..270 (258 high).
        let nps = series("", &[Some(0.0), Some(50.0), Some(100.0)]);
        let chart = layout(&waves(3), &[nps], Some((0.0, 100.0)), &[], plain, 400.0, 300.0);
        assert_eq!(chart.plot, Rect { x: 50.0, y: 12.0, w: 330.0, h: 258.0 });
        assert_eq!(
            chart.paths,
            [Path { d: "M 105 270 L 215 141 L 325 12".to_string(), class: "nps", colour: "#27466e" }]
        );
        let xs: Vec<f64> = chart.x_ticks.iter().map(|t| t.pos).collect();
        assert_eq!(xs, [105.0, 215.0, 325.0]);
    }

    #[test]
    fn a_gap_splits_the_line_and_has_no_dot() {
        let nps = series("NPS", &[Some(10.0), None, Some(20.0), Some(30.0), None]);
        let chart = layout(&waves(5), &[nps], Some((-100.0, 100.0)), &[], plain, 600.0, 300.0);
        let d = &chart.paths[0].d;
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert_eq!(chart.dots.len(), 3);
    }

    #[test]
    fn a_series_with_no_values_draws_nothing() {
        let chart = layout(&waves(3), &[series("NPS", &[None, None, None])], None, &[], plain, 600.0, 300.0);
        assert!(chart.paths.is_empty() && chart.dots.is_empty());
        assert!(!chart.y_ticks.is_empty());
    }

    #[test]
    fn a_single_category_is_centred() {
        let chart = layout(&waves(1), &[series("", &[Some(42.0)])], Some((-100.0, 100.0)), &[], plain, 600.0, 300.0);
        assert_eq!(chart.dots[0].x, chart.plot.x + chart.plot.w / 2.0);
        assert_eq!(chart.dots[0].tooltip, "2026-Q1: 42.0");
    }

    #[test]
    fn the_left_axis_fits_the_data_to_whole_ticks_unless_given() {
        let nps = series("", &[Some(3.0), Some(97.0)]);
        let texts = |domain| {
            let chart = layout(&waves(2), std::slice::from_ref(&nps), domain, &[], plain, 600.0, 250.0);
            chart.y_ticks.into_iter().map(|t| t.text).collect::<Vec<_>>()
        };
        assert_eq!(texts(None), ["0", "20", "40", "60", "80", "100"]);
        assert_eq!(texts(Some((-100.0, 100.0))), ["-100", "-50", "0", "50", "100"]);
    }

    #[test]
    fn a_right_axis_appears_only_with_right_series() {
        let nps = series("NPS", &[Some(20.0), Some(35.0)]);
        let alone =
            layout(&waves(2), std::slice::from_ref(&nps), Some((-100.0, 100.0)), &[], money_short, 600.0, 300.0);
        assert!(alone.y2_ticks.is_empty());

        let revenue = Series {
            name: "Billed".to_string(),
            class: "revenue",
            colour: "#c9962b",
            points: vec![Some(9e7), Some(1.2e8)],
        };
        let both = layout(&waves(2), &[nps], Some((-100.0, 100.0)), &[revenue], money_short, 600.0, 300.0);
        let texts: Vec<&str> = both.y2_ticks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts.first(), Some(&"$0"));
        assert!(texts.contains(&"$1.2M"), "{texts:?}");
        assert!(both.plot.w < alone.plot.w, "the right axis takes room from the plot");
        assert_eq!(both.paths[1].class, "revenue");
        assert_eq!(both.dots[3].tooltip, "Billed, 2026-Q2: $1.2M");
    }

    #[test]
    fn crowded_category_labels_are_thinned() {
        let chart = layout(&waves(40), &[], Some((-100.0, 100.0)), &[], plain, 400.0, 300.0);
        assert!(chart.x_ticks.len() < 40);
        assert_eq!(chart.x_ticks[0].text, "2026-Q1");
        let gaps = chart.x_ticks.windows(2).map(|w| w[1].pos - w[0].pos);
        assert!(gaps.into_iter().all(|gap| gap >= 7.0 * CHAR_WIDTH), "labels overlap");
    }
}
