//! The three charts, as inline SVG strings.

use std::fmt::Write;

use crate::labels::{fill, Labels};
use crate::{colour, escape, Map, Segment};

const WIDTH: f64 = 1040.0;

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Horizontal bars, one per segment, labelled with size and share.
pub fn bar_chart(segments: &[Segment], l: &Labels) -> String {
    let row = 28.0;
    let label_w = 330.0;
    let bar_w = WIDTH - label_w - 150.0;
    let height = row * segments.len() as f64 + 10.0;
    let max = segments.iter().map(|s| s.size).max().unwrap_or(1).max(1) as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg role=\"img\" aria-label=\"{aria}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">",
        aria = l.sizes_aria
    );
    for (i, s) in segments.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let w = (s.size as f64 / max * bar_w).max(1.0);
        let _ = write!(
            out,
            "<g class=\"bar\" data-segment=\"{id}\"><title>{title}</title>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1d2430\">{id} · {label}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" rx=\"3\" fill=\"{c}\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"12\" fill=\"#5b6675\">{size} · {share:.1}%</text></g>",
            id = s.id,
            title = escape(&fill(
                l.bar_title,
                &[("id", &s.id.to_string()), ("size", &s.size.to_string()), ("share", &format!("{:.1}", s.share * 100.0))]
            )),
            lx = label_w - 8.0,
            ty = y + row * 0.62,
            label = escape(&truncate(&s.label, 40)),
            h = row - 8.0,
            c = colour(s.id),
            vx = label_w + w + 6.0,
            size = s.size,
            share = s.share * 100.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// Users on two principal components, coloured by segment, with a legend.
pub fn scatter(m: &Map, segments: &[Segment], l: &Labels) -> String {
    let (plot_w, plot_h, pad, legend_w) = (740.0, 520.0, 24.0, WIDTH - 740.0 - 20.0);
    let all = m.points.iter().chain(&m.centroids);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in all.filter(|p| p.x.is_finite() && p.y.is_finite()) {
        x0 = x0.min(p.x);
        x1 = x1.max(p.x);
        y0 = y0.min(p.y);
        y1 = y1.max(p.y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (-1.0, 1.0, -1.0, 1.0);
    }
    let span_x = (x1 - x0).max(1e-9);
    let span_y = (y1 - y0).max(1e-9);
    let sx = |x: f64| pad + (x - x0) / span_x * (plot_w - 2.0 * pad);
    // SVG's y grows downwards; the second component grows upwards.
    let sy = |y: f64| plot_h - pad - (y - y0) / span_y * (plot_h - 2.0 * pad);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg role=\"img\" aria-label=\"{aria}\" viewBox=\"0 0 {WIDTH} {plot_h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">\
         <rect x=\"0\" y=\"0\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"#fbfcfd\" stroke=\"#e6e9ee\"/>\
         <text x=\"{cx}\" y=\"{by}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5b6675\">{x_axis}</text>\
         <text x=\"12\" y=\"{cy}\" font-size=\"11\" fill=\"#5b6675\" transform=\"rotate(-90 12 {cy})\" text-anchor=\"middle\">{y_axis}</text>",
        aria = l.map_aria,
        x_axis = l.map_x_axis,
        y_axis = l.map_y_axis,
        cx = plot_w / 2.0,
        by = plot_h - 6.0,
        cy = plot_h / 2.0,
    );
    out.push_str("<g class=\"points\">");
    for p in m.points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()) {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\" fill=\"{}\" fill-opacity=\"0.65\" data-segment=\"{}\"/>",
            sx(p.x),
            sy(p.y),
            colour(p.segment),
            p.segment
        );
    }
    out.push_str("</g><g class=\"centroids\">");
    for c in m.centroids.iter().filter(|p| p.x.is_finite() && p.y.is_finite()) {
        let (x, y) = (sx(c.x), sy(c.y));
        let _ = write!(
            out,
            "<path class=\"centroid\" data-segment=\"{s}\" d=\"M{a:.1} {b:.1}L{c:.1} {d:.1}M{a:.1} {d:.1}L{c:.1} {b:.1}\" stroke=\"#1d2430\" stroke-width=\"3.5\"/>\
             <path d=\"M{a:.1} {b:.1}L{c:.1} {d:.1}M{a:.1} {d:.1}L{c:.1} {b:.1}\" stroke=\"{col}\" stroke-width=\"2\"/>",
            s = c.segment,
            a = x - 6.0,
            b = y - 6.0,
            c = x + 6.0,
            d = y + 6.0,
            col = colour(c.segment)
        );
    }
    out.push_str("</g>");
    let lx = plot_w + 20.0;
    for (i, s) in segments.iter().enumerate() {
        let y = 16.0 + 22.0 * i as f64;
        let _ = write!(
            out,
            "<g class=\"legend-entry\" data-segment=\"{id}\"><rect x=\"{lx}\" y=\"{ry}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{c}\"/>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" fill=\"#1d2430\">{id} · {label}</text></g>",
            id = s.id,
            ry = y - 10.0,
            c = colour(s.id),
            tx = lx + 18.0,
            ty = y,
            label = escape(&truncate(&s.label, (legend_w / 7.0) as usize)),
        );
    }
    out.push_str("</svg>");
    out
}

/// Background of a heat-map cell: red above 1, blue below, white at 1,
/// saturating at lift 3 (or 1/3).
fn heat_colour(lift: f64) -> String {
    let t = (lift.max(1e-6).log2() / 3f64.log2()).clamp(-1.0, 1.0);
    let (r, g, b) = if t >= 0.0 { (214.0, 96.0, 77.0) } else { (67.0, 147.0, 195.0) };
    let a = t.abs();
    let mix = |c: f64| (255.0 + (c - 255.0) * a).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b))
}

/// Segments down, traits across, lift in each cell.
pub fn heat_map(segments: &[Segment], l: &Labels) -> String {
    let traits: Vec<&str> = segments.first().map(|s| s.lifts.iter().map(|(n, _)| n.as_str()).collect()).unwrap_or_default();
    let (label_w, cell_w, cell_h, head_h) = (330.0, ((WIDTH - 330.0) / traits.len().max(1) as f64).min(130.0), 28.0, 34.0);
    let height = head_h + cell_h * segments.len() as f64 + 4.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg role=\"img\" aria-label=\"{aria}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">",
        aria = l.traits_aria
    );
    for (j, t) in traits.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#5b6675\">{}</text>",
            label_w + cell_w * (j as f64 + 0.5),
            head_h - 12.0,
            escape(l.trait_name(t))
        );
    }
    for (i, s) in segments.iter().enumerate() {
        let y = head_h + cell_h * i as f64;
        let _ = write!(
            out,
            "<g class=\"heat-row\" data-segment=\"{id}\"><text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1d2430\">{id} · {label}</text>",
            id = s.id,
            lx = label_w - 8.0,
            ty = y + cell_h * 0.62,
            label = escape(&truncate(&s.label, 40)),
        );
        for (j, (_, lift)) in s.lifts.iter().enumerate() {
            let x = label_w + cell_w * j as f64;
            let (fill, text) = match lift {
                Some(l) if l.is_finite() => (heat_colour(*l), format!("{l:.2}")),
                _ => ("#eef1f5".to_owned(), "–".to_owned()),
            };
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\" stroke=\"#fff\"/>\
                 <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1d2430\">{text}</text>",
                w = cell_w,
                h = cell_h,
                tx = x + cell_w / 2.0,
                ty = y + cell_h * 0.62,
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_colours_are_white_at_one_and_saturate() {
        assert_eq!(heat_colour(1.0), "#ffffff");
        assert_eq!(heat_colour(3.0), heat_colour(30.0));
        assert_eq!(heat_colour(3.0), "#d6604d");
        assert_eq!(heat_colour(1.0 / 3.0), "#4393c3");
        assert_eq!(heat_colour(0.0), "#4393c3");
    }

    #[test]
    fn long_labels_are_shortened() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a much longer label", 8), "a much …");
    }
}
