//! The importance vs performance chart of key drivers ("priority matrix"): x = how much a
//! driver matters to loyalty (its share of explained importance), y = how well we do on it
//! (its mean rating). Drivers right of the average importance and below the average rating
//! are where to act first.

use super::scale::Linear;
use super::{Rect, Tick, round1};

/// One driver to place.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverPoint {
    /// The driver's key.
    pub name: String,
    /// Its importance, a share in 0..=1.
    pub importance: f64,
    /// Its mean rating.
    pub mean: f64,
}

/// A placed driver.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedDriver {
    /// Centre x.
    pub x: f64,
    /// Centre y.
    pub y: f64,
    /// Its label.
    pub name: String,
    /// "act" (important, weak), "keep" (important, strong), "watch" or "spare".
    pub class: &'static str,
    /// Hover text.
    pub tooltip: String,
    /// Where its label starts (or ends, for `anchor` "end").
    pub label_x: f64,
    /// "start" (right of the point) or "end" (left of it, near the right edge).
    pub anchor: &'static str,
    /// The label's baseline: beside its point, or moved down or up clear of the labels of
    /// drivers placed close by.
    pub label_y: f64,
}

/// The laid-out chart.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityChart {
    /// Total width.
    pub width: f64,
    /// Total height.
    pub height: f64,
    /// The plotting area.
    pub plot: Rect,
    /// Importance ticks (as percentages).
    pub x_ticks: Vec<Tick>,
    /// Rating ticks.
    pub y_ticks: Vec<Tick>,
    /// x of the average importance.
    pub mean_x: f64,
    /// y of the average rating.
    pub mean_y: f64,
    /// The drivers.
    pub points: Vec<PlacedDriver>,
}

/// Lays out the drivers of one segment.
pub fn layout(drivers: &[DriverPoint], width: f64, height: f64) -> PriorityChart {
    let plot = Rect { x: 44.0, y: 10.0, w: width - 54.0, h: height - 44.0 };
    let max_importance = drivers.iter().map(|d| d.importance).fold(0.0_f64, f64::max).max(0.05);
    let x = Linear::new((0.0, max_importance), (plot.x, plot.right())).nice(4);
    let (lo, hi) = drivers.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), d| (l.min(d.mean), h.max(d.mean)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (1.0, 5.0) };
    let y = Linear::new((lo, hi), (plot.bottom(), plot.y)).nice(4);
    let n = drivers.len().max(1) as f64;
    let avg_importance = drivers.iter().map(|d| d.importance).sum::<f64>() / n;
    let avg_mean = drivers.iter().map(|d| d.mean).sum::<f64>() / n;
    let points = drivers
        .iter()
        .map(|d| {
            let px = round1(x.map(d.importance));
            // A label that would run off the plot goes left of its point.
            let fits_right = px + 7.0 + 6.2 * d.name.chars().count() as f64 <= plot.right();
            let important = d.importance >= avg_importance;
            let strong = d.mean >= avg_mean;
            PlacedDriver {
                x: px,
                label_x: if fits_right { px + 7.0 } else { px - 7.0 },
                anchor: if fits_right { "start" } else { "end" },
                y: round1(y.map(d.mean)),
                label_y: round1(y.map(d.mean)) + 4.0,
                name: d.name.clone(),
                class: match (important, strong) {
                    (true, false) => "act",
                    (true, true) => "keep",
                    (false, false) => "watch",
                    (false, true) => "spare",
                },
                tooltip: format!("{}: importance {:.0}%, mean rating {:.2}", d.name, d.importance * 100.0, d.mean),
            }
        })
        .collect();
    let points = clear_labels(points, &plot);
    PriorityChart {
        width,
        height,
        plot,
        x_ticks: x
            .ticks(4)
            .into_iter()
            .map(|v| Tick { pos: round1(x.map(v)), text: format!("{:.0}%", v * 100.0) })
            .collect(),
        y_ticks: y.ticks(4).into_iter().map(|v| Tick { pos: round1(y.map(v)), text: format!("{v}") }).collect(),
        mean_x: round1(x.map(avg_importance)),
        mean_y: round1(y.map(avg_mean)),
        points,
    }
}

/// The height of a label line, and the width of a character, at the chart's font size (11).
const LINE: f64 = 12.0;
const CHAR: f64 = 6.2;

/// The horizontal extent of a label.
fn label_span(p: &PlacedDriver) -> (f64, f64) {
    let w = CHAR * p.name.chars().count() as f64;
    if p.anchor == "end" { (p.label_x - w, p.label_x) } else { (p.label_x, p.label_x + w) }
}

/// Moves labels that would overprint one another: drivers with close importance and rating
/// (two drivers both rated 3.2 and both at 10%) had their names drawn on top of each other.
/// Top to bottom, a label that meets one already placed moves to the nearest free line just
/// above or below a placed label, within the plot; the point stays where it is.
fn clear_labels(mut points: Vec<PlacedDriver>, plot: &Rect) -> Vec<PlacedDriver> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].label_y.total_cmp(&points[b].label_y).then(a.cmp(&b)));
    let mut placed: Vec<usize> = Vec::new();
    for i in order {
        let (left, right) = label_span(&points[i]);
        let free = |y: f64| {
            placed.iter().all(|&j| {
                let (l, r) = label_span(&points[j]);
                r <= left || right <= l || (points[j].label_y - y).abs() >= LINE
            })
        };
        let wanted = points[i].label_y;
        // A label moved stays inside the plot; where its point put it is always allowed.
        let within = |y: f64| y >= plot.y + LINE && y <= plot.bottom() + 4.0;
        let candidates = placed.iter().flat_map(|&j| [points[j].label_y - LINE, points[j].label_y + LINE]);
        let best = std::iter::once(wanted)
            .chain(candidates)
            .filter(|&y| (y == wanted || within(y)) && free(y))
            .min_by(|a, b| (a - wanted).abs().total_cmp(&(b - wanted).abs()));
        points[i].label_y = round1(best.unwrap_or(wanted));
        placed.push(i);
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(name: &str, importance: f64, mean: f64) -> DriverPoint {
        DriverPoint { name: name.into(), importance, mean }
    }

    #[test]
    fn important_weak_drivers_are_the_ones_to_act_on() {
        let chart = layout(
            &[
                driver("delivery", 0.5, 2.0),
                driver("brand", 0.3, 4.5),
                driver("price", 0.1, 2.5),
                driver("web", 0.1, 4.0),
            ],
            320.0,
            240.0,
        );
        let class = |name: &str| chart.points.iter().find(|p| p.name == name).unwrap().class;
        assert_eq!(class("delivery"), "act");
        assert_eq!(class("brand"), "keep");
        assert_eq!(class("price"), "watch");
        assert_eq!(class("web"), "spare");
        // More important is further right; a better rating is higher (smaller y).
        let p = |name: &str| chart.points.iter().find(|p| p.name == name).unwrap().clone();
        assert!(p("delivery").x > p("brand").x && p("brand").y < p("delivery").y);
        assert_eq!(p("delivery").anchor, "end", "the rightmost label goes left of its point");
        assert_eq!(p("price").anchor, "start");
        for point in &chart.points {
            assert!(point.x >= chart.plot.x && point.x <= chart.plot.right());
            assert!(point.y >= chart.plot.y && point.y <= chart.plot.bottom());
        }
    }

    #[test]
    fn drivers_placed_close_together_keep_their_labels_apart() {
        // As in a vertical where delivery and product are both rated 3.2 at about 10%.
        let chart = layout(
            &[
                driver("delivery", 0.10, 3.20),
                driver("product", 0.11, 3.20),
                driver("promise", 0.105, 3.21),
                driver("support", 0.5, 3.4),
            ],
            320.0,
            240.0,
        );
        let labels: Vec<_> = chart.points.iter().map(|p| (label_span(p), p.label_y, p.name.as_str())).collect();
        for (i, ((l1, r1), y1, a)) in labels.iter().enumerate() {
            for ((l2, r2), y2, b) in &labels[i + 1..] {
                let overlap = l1 < r2 && l2 < r1 && (y1 - y2).abs() < LINE;
                assert!(!overlap, "{a} at {y1} and {b} at {y2} overprint");
            }
        }
        // A label far from the others stays beside its point.
        let support = chart.points.iter().find(|p| p.name == "support").unwrap();
        assert_eq!(support.label_y, support.y + 4.0);
    }

    #[test]
    fn no_drivers_still_draw_axes() {
        let chart = layout(&[], 320.0, 240.0);
        assert!(chart.points.is_empty());
        assert!(!chart.x_ticks.is_empty() && !chart.y_ticks.is_empty());
    }
}
