//! Chart geometry. Charts are laid out here, in Rust, where the arithmetic is unit tested, and
//! drawn by SVG templates that only place what they are given. All coordinates are SVG user
//! units (px) of a `viewBox="0 0 width height"`, with y growing downward.
//!
//! # Layout
//! - [`scale`]: data value to pixel ([`scale::Linear`], [`scale::Log`]), tick choice, and
//!   compact money labels.
//! - [`bubble`]: the loyalty × revenue matrix, one bubble per account.
//! - [`line`](mod@line): trends across waves, optionally with a second (right) axis.
//! - [`priority`]: key drivers, importance against performance.
//! - [`bars`]: NPS per segment with its interval.

pub mod bars;
pub mod bubble;
pub mod line;
pub mod priority;
pub mod scale;

/// A standalone SVG file as XML allows it: the characters XML 1.0 forbids dropped (control
/// characters other than tab and line breaks, which names imported from other systems may
/// hold). A page's inline SVG tolerates them; an SVG file holding one does not open at all.
pub fn xml_document(svg: String) -> String {
    if svg.chars().all(allowed_in_xml) { svg } else { svg.chars().filter(|&c| allowed_in_xml(c)).collect() }
}

fn allowed_in_xml(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// A rectangle in SVG user units; `(x, y)` is its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Right edge.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// Whether `other` lies entirely within this rectangle (touching the edge counts).
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x && other.y >= self.y && other.right() <= self.right() && other.bottom() <= self.bottom()
    }

    /// Whether the two rectangles share any area (touching edges do not overlap).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right() && other.x < self.right() && self.y < other.bottom() && other.y < self.bottom()
    }
}

/// One labelled position on an axis: `pos` is x for a horizontal axis, y for a vertical one.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Position along the axis.
    pub pos: f64,
    /// The label drawn at it.
    pub text: String,
}

/// Rounds a coordinate to 0.1 px: finer than any screen shows, and it keeps the SVG small.
fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::xml_document;

    #[test]
    fn an_svg_file_keeps_only_what_xml_allows() {
        let svg = "<svg><text>Acme\u{1}Corp\tLtd\n\u{1b}[2J\u{ffff}Zürich 東京</text></svg>".to_string();
        assert_eq!(xml_document(svg), "<svg><text>AcmeCorp\tLtd\n[2JZürich 東京</text></svg>");
        assert_eq!(xml_document("<svg/>".into()), "<svg/>");
    }
}
