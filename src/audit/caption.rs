//! Composing a screenshot for the evidence: a dark caption strip above the viewport (drawn with
//! the 8x8 bitmap font, no font files), grey masks and a red box around the element acted on.

use font8x8::UnicodeFonts;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::ImageEncoder;

use super::{Caption, Rect};

const STRIP: [u8; 3] = [17, 24, 39];
const TEXT: [u8; 3] = [243, 244, 246];
const LINK: [u8; 3] = [147, 197, 253];
const ACCENT: [u8; 3] = [245, 158, 11];
const MASK: [u8; 3] = [156, 163, 175];
const BOX: [u8; 3] = [220, 38, 38];
/// Width of the highlight box's border, in image pixels.
const BOX_WIDTH: i64 = 3;
/// Gap between the element and its box, so the box covers none of it.
const BOX_GAP: i64 = 2;
const PAD: usize = 8;
/// Most text lines of each of the two caption lines (a long address wraps, then is cut).
const LINES_EACH: usize = 3;

/// A composed screenshot.
pub(crate) struct Composed {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Decodes `png`, adds the caption strip, masks and highlight, and encodes the result.
pub(crate) fn compose(
    png: &[u8],
    caption: &Caption,
    highlight: Option<super::Rect>,
    masks: &[super::Rect],
    pixel_ratio: f64,
) -> Result<Composed, String> {
    let shot = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| format!("the screenshot is not a PNG image: {e}"))?
        .into_rgb8();
    let (width, shot_height) = shot.dimensions();
    let w = width as usize;
    let scale = if w >= 640 { 2 } else { 1 };
    let glyph = 8 * scale;
    let columns = (w.saturating_sub(2 * PAD) / glyph).max(1);
    let lines = caption_lines(caption, columns);
    let line_height = glyph + 3 * scale + 2;
    let strip_height = PAD + lines.len() * line_height + PAD / 2 + 2;
    let height = strip_height + shot_height as usize;

    let mut buf = vec![0u8; w * height * 3];
    buf[w * strip_height * 3..].copy_from_slice(shot.as_raw());
    drop(shot);

    let mut canvas = Canvas {
        buf: &mut buf,
        width: w,
        height,
    };
    canvas.fill(0, 0, w as i64, strip_height as i64 - 2, STRIP);
    canvas.fill(
        0,
        strip_height as i64 - 2,
        w as i64,
        strip_height as i64,
        ACCENT,
    );
    for (i, (text, part)) in lines.iter().enumerate() {
        let y = PAD + i * line_height;
        let color = if *part == 0 { LINK } else { TEXT };
        canvas.text(PAD, y, text, scale, color);
    }
    let to_image = |r: &Rect| -> Option<(i64, i64, i64, i64)> {
        let vals = [r.x, r.y, r.width, r.height];
        if vals.iter().any(|v| !v.is_finite()) || r.width <= 0.0 || r.height <= 0.0 {
            return None;
        }
        let x0 = (r.x * pixel_ratio).floor() as i64;
        let y0 = (r.y * pixel_ratio).floor() as i64 + strip_height as i64;
        let x1 = ((r.x + r.width) * pixel_ratio).ceil() as i64;
        let y1 = ((r.y + r.height) * pixel_ratio).ceil() as i64 + strip_height as i64;
        Some((x0, y0, x1, y1))
    };
    for mask in masks {
        if let Some((x0, y0, x1, y1)) = to_image(mask) {
            canvas.fill(x0, y0.max(strip_height as i64), x1, y1, MASK);
        }
    }
    if let Some((x0, y0, x1, y1)) = highlight.as_ref().and_then(to_image) {
        let (x0, y0) = (x0 - BOX_GAP - BOX_WIDTH, y0 - BOX_GAP - BOX_WIDTH);
        let (x1, y1) = (x1 + BOX_GAP + BOX_WIDTH, y1 + BOX_GAP + BOX_WIDTH);
        let top = strip_height as i64;
        canvas.fill(x0, y0.max(top), x1, (y0 + BOX_WIDTH).max(top), BOX);
        canvas.fill(x0, (y1 - BOX_WIDTH).max(top), x1, y1, BOX);
        canvas.fill(x0, y0.max(top), x0 + BOX_WIDTH, y1, BOX);
        canvas.fill(x1 - BOX_WIDTH, y0.max(top), x1, y1, BOX);
    }

    let mut out = Vec::with_capacity(png.len() + png.len() / 4);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(&buf, width, height as u32, image::ExtendedColorType::Rgb8)
        .map_err(|e| format!("cannot encode the screenshot: {e}"))?;
    Ok(Composed {
        png: out,
        width,
        height: height as u32,
    })
}

/// The strip's lines (text, which part: 0 address, 1 time/user/run, 2 action), each at most `columns` characters: the address; the
/// time, user and run; the action. A long one wraps (at a space when it can) onto at most
/// [`LINES_EACH`] lines, then is cut with `...`.
fn caption_lines(caption: &Caption, columns: usize) -> Vec<(String, usize)> {
    let logical = [
        caption.url.clone(),
        format!(
            "{} UTC  |  user {}  |  run {}",
            caption.time_utc, caption.user, caption.run_id
        ),
        format!("action {}", caption.action),
    ];
    let mut lines = Vec::new();
    for (part, text) in logical.into_iter().enumerate() {
        let mut rest: Vec<char> = text.chars().map(printable).collect();
        let mut count = 0;
        while !rest.is_empty() {
            count += 1;
            if count == LINES_EACH && rest.len() > columns {
                rest.truncate(columns.saturating_sub(3));
                rest.extend("...".chars());
            }
            let cut = if rest.len() <= columns {
                rest.len()
            } else {
                rest[columns / 2..=columns]
                    .iter()
                    .rposition(|&c| c == ' ')
                    .map_or(columns, |p| columns / 2 + p + 1)
            };
            let line: String = rest.drain(..cut).collect();
            lines.push((line.trim_end().to_string(), part));
        }
    }
    lines
}

/// A character the font draws; control characters become spaces, unknown ones `?`.
fn printable(c: char) -> char {
    if c.is_control() {
        ' '
    } else if glyph(c).is_some() {
        c
    } else {
        '?'
    }
}

fn glyph(c: char) -> Option<[u8; 8]> {
    font8x8::BASIC_FONTS
        .get(c)
        .or_else(|| font8x8::LATIN_FONTS.get(c))
        .or_else(|| font8x8::BOX_FONTS.get(c))
}

struct Canvas<'a> {
    buf: &'a mut [u8],
    width: usize,
    height: usize,
}

impl Canvas<'_> {
    /// Fills the rectangle [x0, x1) × [y0, y1), clipped to the image.
    fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: [u8; 3]) {
        let x0 = x0.clamp(0, self.width as i64) as usize;
        let x1 = x1.clamp(0, self.width as i64) as usize;
        let y0 = y0.clamp(0, self.height as i64) as usize;
        let y1 = y1.clamp(0, self.height as i64) as usize;
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        // One row of the color, copied whole into each row (fast even without optimizations).
        let span = color.repeat(x1 - x0);
        for y in y0..y1 {
            self.buf[(y * self.width + x0) * 3..(y * self.width + x1) * 3].copy_from_slice(&span);
        }
    }

    fn text(&mut self, x: usize, y: usize, text: &str, scale: usize, color: [u8; 3]) {
        for (i, c) in text.chars().enumerate() {
            let Some(rows) = glyph(c) else { continue };
            let cx = x + i * 8 * scale;
            for (ry, bits) in rows.iter().enumerate() {
                for rx in 0..8 {
                    if bits & (1 << rx) != 0 {
                        let px = (cx + rx * scale) as i64;
                        let py = (y + ry * scale) as i64;
                        self.fill(px, py, px + scale as i64, py + scale as i64, color);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .expect("encode");
        out
    }

    fn caption() -> Caption {
        Caption {
            url: "https://app.clockify.me/teams".into(),
            time_utc: "2026-11-30T04:31:41Z".into(),
            user: "admin@acme.example".into(),
            action: "deactivate sam@acme.example (before)".into(),
            run_id: "abc123".into(),
        }
    }

    #[test]
    fn strip_goes_above_and_boxes_and_masks_are_drawn() {
        let png = blank_png(800, 600);
        let rect = Rect {
            x: 100.0,
            y: 100.0,
            width: 200.0,
            height: 40.0,
        };
        let mask = Rect {
            x: 0.0,
            y: 300.0,
            width: 800.0,
            height: 40.0,
        };
        let out = compose(&png, &caption(), Some(rect), &[mask], 1.0).expect("compose");
        let img = image::load_from_memory(&out.png)
            .expect("decode")
            .into_rgb8();
        assert_eq!(img.width(), 800);
        let strip = img.height() - 600;
        assert!(strip > 30 && strip < 120, "strip {strip}");
        assert_eq!(img.get_pixel(799, 0).0, STRIP);
        // The box sits 2 px outside the element, 3 px wide.
        assert_eq!(img.get_pixel(150, strip + 100 - 3).0, BOX);
        assert_eq!(img.get_pixel(150, strip + 100 - 1).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(150, strip + 100 + 20).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(400, strip + 320).0, MASK);
        assert_eq!(img.get_pixel(400, strip + 360).0, [255, 255, 255]);
        // Some text pixels are drawn.
        let text = (0..strip)
            .flat_map(|y| (0..800).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == TEXT)
            .count();
        assert!(text > 500, "{text} text pixels");
    }

    #[test]
    fn long_captions_wrap_and_odd_input_is_safe() {
        let mut c = caption();
        c.url = format!("https://x.example/{}", "a".repeat(300));
        c.user = "zoë\u{7}\u{4e2d}".into();
        let lines = caption_lines(&c, 40);
        assert!(lines.len() <= 3 * LINES_EACH);
        assert!(lines.iter().all(|(l, _)| l.chars().count() <= 40));
        assert!(lines.iter().any(|(l, _)| l.contains("zoë ?")));
        let rect = Rect {
            x: f64::NAN,
            y: -50.0,
            width: 1e9,
            height: 3.0,
        };
        let off = Rect {
            x: -500.0,
            y: -500.0,
            width: 5000.0,
            height: 5000.0,
        };
        compose(&blank_png(20, 10), &c, Some(off), &[rect, off], 2.0).expect("tiny image");
        assert!(compose(b"nope", &c, None, &[], 1.0).is_err());
    }
}
