//! QR codes of open links, as SVG (for pages and print) and PNG (for slides and documents).

use anyhow::Context;
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module in the PNG.
const SCALE: usize = 8;
/// The quiet zone around the code, in modules (the standard asks for 4).
const QUIET: usize = 4;

fn code(url: &str) -> anyhow::Result<QrCode> {
    // Level M survives a smudged print or a glare on a screen.
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).context("the link is too long for a QR code")
}

/// The code as an SVG document.
pub fn svg(url: &str) -> anyhow::Result<String> {
    Ok(code(url)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// The code as a grayscale PNG image.
pub fn png(url: &str) -> anyhow::Result<Vec<u8>> {
    let code = code(url)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
            for y in my * SCALE..(my + 1) * SCALE {
                pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let side = u32::try_from(side).context("a QR code of sensible size")?;
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&pixels)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_becomes_an_svg_and_a_png_with_a_quiet_zone() {
        let url = "https://surveys.example/o/12-0123456789abcdef0123456789abcdef01234567";
        let svg = svg(url).unwrap();
        assert!(svg.contains("<svg") && svg.contains("#000000"));
        let png = png(url).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(png.as_slice());
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width as usize % SCALE, 0);
        assert!(info.width as usize >= (21 + 2 * QUIET) * SCALE, "at least a version-1 code");
    }
}
