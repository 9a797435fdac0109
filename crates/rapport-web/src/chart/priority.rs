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
            let fits_right = px + BESIDE + CHAR * d.name.chars().count() as f64 <= plot.right();
            let important = d.importance >= avg_importance;
            let strong = d.mean >= avg_mean;
            PlacedDriver {
                x: px,
                label_x: if fits_right { px + BESIDE } else { px - BESIDE },
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
/// A point's radius (the template's `r`), and the room a label leaves around one.
const DOT: f64 = 5.0;
/// From a point's centre to the near end of its label.
const BESIDE: f64 = 7.0;
const GAP: f64 = 2.0;
/// From a label's baseline up to the top of its capitals, and down below its descenders.
const ASCENT: f64 = 9.0;
const DESCENT: f64 = 3.0;
/// What a label on the other side of its point costs, in pixels of vertical move: a label
/// beside its own point reads better than one moved a line away.
const OTHER_SIDE: f64 = 3.0;
/// How far apart two edges may be and still count as touching (see `clear_labels`).
const SLACK: f64 = 1e-6;

/// The horizontal extent of a label.
fn label_span(p: &PlacedDriver) -> (f64, f64) {
    span_at(p.label_x, p.anchor, &p.name)
}

fn span_at(label_x: f64, anchor: &str, name: &str) -> (f64, f64) {
    let w = CHAR * name.chars().count() as f64;
    if anchor == "end" { (label_x - w, label_x) } else { (label_x, label_x + w) }
}

/// Moves labels that would overprint one another or another driver's point: drivers with
/// close importance and rating (two drivers both rated 3.2 and both at 10%) had their names
/// drawn on top of each other, or across the next point. Top to bottom, each label takes the
/// free place nearest to where its point put it: beside its point on either side, or on the
/// nearest free line above or below a placed label or a point, within the plot; the point
/// stays where it is.
fn clear_labels(mut points: Vec<PlacedDriver>, plot: &Rect) -> Vec<PlacedDriver> {
    let dots: Vec<(f64, f64)> = points.iter().map(|p| (p.x, p.y)).collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].label_y.total_cmp(&points[b].label_y).then(a.cmp(&b)));
    let mut placed: Vec<usize> = Vec::new();
    for i in order {
        let wanted = points[i].label_y;
        let given = (points[i].label_x, points[i].anchor);
        let flipped = if given.1 == "end" { (points[i].x + BESIDE, "start") } else { (points[i].x - BESIDE, "end") };
        // Touching is clear: the sums below meet in different orders, so a place that only
        // touches something may come out a hair short of it.
        let apart = |a: f64, b: f64| a <= b + SLACK;
        let clear_of_labels = |(left, right): (f64, f64), y: f64| {
            placed.iter().all(|&j| {
                let (l, r) = label_span(&points[j]);
                apart(r, left) || apart(right, l) || apart(LINE, (points[j].label_y - y).abs())
            })
        };
        let clear_of_dots = |(left, right): (f64, f64), y: f64| {
            dots.iter().enumerate().all(|(k, &(x, dy))| {
                k == i
                    || apart(x + DOT + GAP, left)
                    || apart(right, x - DOT - GAP)
                    || apart(dy + DOT + GAP, y - ASCENT)
                    || apart(y + DESCENT, dy - DOT - GAP)
            })
        };
        // A label moved stays inside the plot; where its point put it is always allowed.
        let within = |y: f64| y >= plot.y + LINE && y <= plot.bottom() + 4.0;
        let lines: Vec<f64> = std::iter::once(wanted)
            .chain(placed.iter().flat_map(|&j| [points[j].label_y - LINE, points[j].label_y + LINE]))
            .chain(dots.iter().flat_map(|&(_, y)| [y - DOT - GAP - DESCENT, y + DOT + GAP + ASCENT]))
            .filter(|&y| y == wanted || within(y))
            .collect();
        let nearest = |free: &dyn Fn((f64, f64), f64) -> bool| {
            let mut best: Option<(f64, (f64, &'static str), f64)> = None;
            for (side, cost) in [(given, 0.0), (flipped, OTHER_SIDE)] {
                let span = span_at(side.0, side.1, &points[i].name);
                if cost > 0.0 && (span.0 < plot.x || span.1 > plot.right()) {
                    continue;
                }
                for &y in &lines {
                    let score = (y - wanted).abs() + cost;
                    if best.is_none_or(|(b, ..)| score < b) && free(span, y) {
                        best = Some((score, side, y));
                    }
                }
            }
            best
        };
        // Clear of labels and points; failing that (a crowded plot), clear of labels at least.
        let best = nearest(&|span, y| clear_of_labels(span, y) && clear_of_dots(span, y))
            .or_else(|| nearest(&|span, y| clear_of_labels(span, y)));
        if let Some((_, (label_x, anchor), y)) = best {
            points[i].label_x = round1(label_x);
            points[i].anchor = anchor;
            points[i].label_y = round1(y);
        }
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

    fn assert_no_labels_overprint(chart: &PriorityChart) {
        let labels: Vec<_> = chart.points.iter().map(|p| (label_span(p), p.label_y, p.name.as_str())).collect();
        for (i, ((l1, r1), y1, a)) in labels.iter().enumerate() {
            for ((l2, r2), y2, b) in &labels[i + 1..] {
                let overlap = l1 < r2 && l2 < r1 && (y1 - y2).abs() < LINE;
                assert!(!overlap, "{a} at {y1} and {b} at {y2} overprint");
            }
        }
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
        assert_no_labels_overprint(&chart);
        // A label far from the others stays beside its point.
        let support = chart.points.iter().find(|p| p.name == "support").unwrap();
        assert_eq!(support.label_y, support.y + 4.0);
    }

    #[test]
    fn labels_keep_clear_of_the_other_drivers_points() {
        // As in the demo's Manufacturing: four drivers rated alike between 6% and 18%, the
        // name of one ran across the next driver's point.
        let chart = layout(
            &[
                driver("support", 0.06, 3.375),
                driver("promise", 0.125, 3.38),
                driver("brand", 0.18, 3.38),
                driver("product", 0.155, 3.372),
                driver("delivery", 0.40, 3.455),
                driver("value", 0.07, 3.50),
            ],
            320.0,
            240.0,
        );
        for label in &chart.points {
            let (left, right) = label_span(label);
            let (top, bottom) = (label.label_y - ASCENT, label.label_y + DESCENT);
            assert!(left >= chart.plot.x && right <= chart.plot.right(), "{} runs off the plot", label.name);
            for point in chart.points.iter().filter(|p| p.name != label.name) {
                let crosses =
                    point.x + DOT > left && point.x - DOT < right && point.y + DOT > top && point.y - DOT < bottom;
                assert!(!crosses, "the label {} crosses the point of {}", label.name, point.name);
            }
        }
        assert_no_labels_overprint(&chart);
        // A label with room beside its point stays there.
        let value = chart.points.iter().find(|p| p.name == "value").unwrap();
        assert_eq!((value.label_y, value.anchor), (value.y + 4.0, "start"));
    }

    #[test]
    fn no_drivers_still_draw_axes() {
        let chart = layout(&[], 320.0, 240.0);
        assert!(chart.points.is_empty());
        assert!(!chart.x_ticks.is_empty() && !chart.y_ticks.is_empty());
    }
}
