//! The segment report: one self-contained HTML document with inline SVG
//! (no JavaScript, no fonts or images from the network), rendered from plain
//! data that the SQL layer (`persona.report()`) gathers.
//!
//! Every chart element of a segment carries `data-segment="<id>"` and every
//! section an `id`, so that a test (or a curious analyst) can check what was
//! drawn without parsing pictures.

use std::fmt::Write;

mod escape;
mod labels;
mod svg;

pub use escape::escape;
pub use labels::Lang;
use labels::{fill, Labels};

/// One segment of the model's current version, as `persona.segments` shows it.
#[derive(Debug, Clone, Default)]
pub struct Segment {
    pub id: i32,
    pub label: String,
    pub size: i64,
    pub share: f64,
    /// Trait name and its lift against the whole population (NULL when unknown).
    pub lifts: Vec<(String, Option<f64>)>,
    pub top_categories: Vec<String>,
    pub words: Vec<String>,
    pub exemplar: Option<i64>,
}

/// A user on the 2-D map.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub segment: i32,
}

/// The map of users: PCA of their vectors, computed in the database.
#[derive(Debug, Clone, Default)]
pub struct Map {
    pub points: Vec<Point>,
    /// Segment centroids projected the same way.
    pub centroids: Vec<Point>,
    pub explained_variance_ratio: [f64; 2],
    /// How many users the map could have shown (it shows a sample).
    pub population: i64,
}

/// One recommended item for an exemplar user.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub item_id: i64,
    pub score: f64,
    pub reason: String,
}

/// An exemplar user of a segment and what persona recommends to them.
#[derive(Debug, Clone)]
pub struct ExemplarRecommendations {
    pub segment: i32,
    pub user_id: i64,
    pub items: Vec<Recommendation>,
}

/// A risky user: by risk score with its reasons (`persona.risks`) when the
/// profiles were scored, otherwise a user who fits no segment well.
#[derive(Debug, Clone)]
pub struct Risk {
    pub user_id: i64,
    pub segment: i32,
    /// The risk score, or the anomaly score when there are no reasons.
    pub anomaly_score: f64,
    pub distance: f64,
    /// The reasons in words and numbers (`persona.risks.reasons`).
    pub reasons: Option<String>,
}

/// Users of a mixture whose most probable segment is `segment` with less
/// than 0.9, and whose second is `second`.
#[derive(Debug, Clone)]
pub struct SoftPair {
    pub segment: i32,
    pub second: i32,
    pub users: i64,
    /// Their mean probability of `second`.
    pub mean_second: f64,
}

/// Everything the report shows.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub model: String,
    pub version: i32,
    pub k: i32,
    pub rows: i64,
    pub metric: String,
    pub silhouette: Option<f64>,
    pub training_mode: String,
    pub created_at: String,
    pub profiles: Option<String>,
    /// Segments at or above the k-anonymity floor, by id.
    pub segments: Vec<Segment>,
    /// Segments hidden by the floor, and the floor.
    pub hidden_segments: i64,
    pub k_anonymity_floor: i64,
    pub map: Option<Map>,
    /// `None` when no recommendations were computed for this model's users.
    pub recommendations: Option<Vec<ExemplarRecommendations>>,
    pub risks: Vec<Risk>,
    /// For a mixture: users partly in two segments, by pair, largest first.
    pub soft: Option<Vec<SoftPair>>,
    /// The language of the report's own words (data is shown as it is).
    pub lang: Lang,
}

/// A palette that tells 20 segments apart (Tableau 20); beyond that it repeats.
const PALETTE: [&str; 20] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
];

/// The colour of a segment, stable for its id.
pub fn colour(segment: i32) -> &'static str {
    PALETTE[segment.rem_euclid(PALETTE.len() as i32) as usize]
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
header{background:#1d2430;color:#fff;padding:20px 32px}header h1{margin:0 0 6px;font-size:24px}header p{margin:0;color:#c9d1dc}
main{max-width:1100px;margin:0 auto;padding:8px 24px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin:18px 0;padding:16px 22px}
h2{font-size:18px;margin:4px 0 4px}p.note{color:#5b6675;font-size:13px;margin:2px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{color:#5b6675;font-weight:600;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.chip{display:inline-block;background:#eef1f5;border-radius:10px;padding:1px 8px;margin:1px 3px 1px 0;font-size:12px}
.empty{color:#5b6675;font-style:italic}
svg text{font-family:inherit}
";

/// The report with the words persona's SQL wrote into its data (segment
/// labels, recommendation reasons) in the report's language.
fn translate(r: &Report, l: &Labels) -> Report {
    let mut t = r.clone();
    for s in &mut t.segments {
        s.label = l.segment_label(&s.label);
    }
    for e in t.recommendations.iter_mut().flatten() {
        for i in &mut e.items {
            i.reason = l.reason(&i.reason);
        }
    }
    t
}

/// Renders the report as one HTML document, its own words in `r.lang`.
pub fn render(r: &Report) -> String {
    let l = r.lang.labels();
    let translated;
    let r = if l.label_words.is_empty() && l.reasons.is_empty() {
        r
    } else {
        translated = translate(r, l);
        &translated
    };
    let mut h = String::with_capacity(64 * 1024);
    let title = fill(l.title, &[("model", &r.model), ("version", &r.version.to_string())]);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head><body>\n",
        l.html_lang,
        escape(&title)
    );
    let silhouette = r.silhouette.map_or_else(|| l.not_available.to_owned(), |s| format!("{s:.3}"));
    let profiles = r.profiles.as_ref().map(|p| fill(l.header_profiles, &[("profiles", &escape(p))])).unwrap_or_default();
    let header = fill(
        l.header,
        &[
            ("rows", &r.rows.to_string()),
            ("k", &r.k.to_string()),
            ("metric", &escape(&r.metric)),
            ("silhouette", &silhouette),
            ("created_at", &escape(&r.created_at)),
            ("mode", &escape(&r.training_mode)),
            ("profiles", &profiles),
        ],
    );
    let _ = write!(h, "<header><h1>{}</h1><p>{header}</p></header>\n<main>\n", escape(&title));
    sizes_section(&mut h, r, l);
    map_section(&mut h, r, l);
    traits_section(&mut h, r, l);
    words_section(&mut h, r, l);
    soft_section(&mut h, r, l);
    recommendations_section(&mut h, r, l);
    risks_section(&mut h, r, l);
    h.push_str("</main></body></html>\n");
    h
}

fn hidden_note(r: &Report, l: &Labels) -> String {
    if r.hidden_segments > 0 {
        fill(l.hidden_note, &[("hidden", &r.hidden_segments.to_string()), ("floor", &r.k_anonymity_floor.to_string())])
    } else {
        String::new()
    }
}

fn sizes_section(h: &mut String, r: &Report, l: &Labels) {
    let _ = write!(
        h,
        "<section id=\"sizes\"><h2>{}</h2><p class=\"note\">{}{}</p>\n",
        l.sizes_heading,
        l.sizes_note,
        hidden_note(r, l)
    );
    if r.segments.is_empty() {
        let _ = write!(h, "<p class=\"empty\">{}</p></section>\n", l.sizes_empty);
        return;
    }
    h.push_str(&svg::bar_chart(&r.segments, l));
    h.push_str("</section>\n");
}

fn map_section(h: &mut String, r: &Report, l: &Labels) {
    let _ = write!(h, "<section id=\"map\"><h2>{}</h2>", l.map_heading);
    match &r.map {
        Some(m) if !m.points.is_empty() => {
            let note = fill(
                l.map_note,
                &[
                    ("shown", &m.points.len().to_string()),
                    ("population", &m.population.to_string()),
                    ("pc1", &format!("{:.0}", m.explained_variance_ratio[0] * 100.0)),
                    ("pc2", &format!("{:.0}", m.explained_variance_ratio[1] * 100.0)),
                ],
            );
            let _ = writeln!(h, "<p class=\"note\">{note}</p>");
            h.push_str(&svg::scatter(m, &r.segments, l));
        }
        _ => {
            let _ = write!(h, "<p class=\"empty\">{}</p>", l.map_empty);
        }
    }
    h.push_str("</section>\n");
}

fn traits_section(h: &mut String, r: &Report, l: &Labels) {
    let _ = writeln!(
        h,
        "<section id=\"traits\"><h2>{}</h2><p class=\"note\">{}</p>",
        l.traits_heading, l.traits_note
    );
    if r.segments.iter().all(|s| s.lifts.iter().all(|(_, v)| v.is_none())) {
        let _ = write!(h, "<p class=\"empty\">{}</p></section>\n", l.traits_empty);
        return;
    }
    h.push_str(&svg::heat_map(&r.segments, l));
    h.push_str("</section>\n");
}

fn words_section(h: &mut String, r: &Report, l: &Labels) {
    let _ = writeln!(
        h,
        "<section id=\"words\"><h2>{}</h2><p class=\"note\">{}</p>\n<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.words_heading, l.words_note, l.col_segment, l.col_size, l.col_categories, l.col_words
    );
    for s in &r.segments {
        let chips = |v: &[String]| -> String {
            if v.is_empty() {
                format!("<span class=\"empty\">{}</span>", l.none)
            } else {
                v.iter().map(|w| format!("<span class=\"chip\">{}</span>", escape(w))).collect()
            }
        };
        let _ = writeln!(
            h,
            "<tr data-segment=\"{}\"><td><span class=\"swatch\" style=\"background:{}\"></span>{} · {}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            s.id,
            colour(s.id),
            s.id,
            escape(&s.label),
            s.size,
            chips(&s.top_categories),
            chips(&s.words)
        );
    }
    h.push_str("</table></section>\n");
}

fn recommendations_section(h: &mut String, r: &Report, l: &Labels) {
    let _ = write!(h, "<section id=\"recommendations\"><h2>{}</h2>", l.recs_heading);
    let Some(recs) = &r.recommendations else {
        let _ = write!(h, "<p class=\"empty\">{}</p></section>\n", l.recs_empty);
        return;
    };
    let _ = writeln!(
        h,
        "<p class=\"note\">{}</p>\n<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.recs_note, l.col_segment, l.col_user, l.col_items
    );
    for e in recs {
        let label = r.segments.iter().find(|s| s.id == e.segment).map(|s| s.label.as_str()).unwrap_or("");
        let items = if e.items.is_empty() {
            format!("<span class=\"empty\">{}</span>", l.none)
        } else {
            e.items
                .iter()
                .map(|i| {
                    let item = fill(l.item, &[("id", &i.item_id.to_string())]);
                    format!("<span class=\"chip\">{item} · {:.3} · {}</span>", i.score, escape(&i.reason))
                })
                .collect()
        };
        let _ = writeln!(
            h,
            "<tr data-segment=\"{}\"><td><span class=\"swatch\" style=\"background:{}\"></span>{} · {}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            e.segment,
            colour(e.segment),
            e.segment,
            escape(label),
            e.user_id,
            items
        );
    }
    h.push_str("</table></section>\n");
}

fn soft_section(h: &mut String, r: &Report, l: &Labels) {
    let Some(pairs) = &r.soft else { return };
    let _ = writeln!(h, "<section id=\"soft\"><h2>{}</h2><p class=\"note\">{}</p>", l.soft_heading, l.soft_note);
    if pairs.is_empty() {
        let _ = write!(h, "<p class=\"empty\">{}</p></section>\n", l.soft_empty);
        return;
    }
    let _ = writeln!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.col_segment, l.col_second_segment, l.col_users, l.col_mean_second
    );
    let swatch = |s: i32| format!("<span class=\"swatch\" style=\"background:{}\"></span>{s}", colour(s));
    for p in pairs {
        let _ = writeln!(
            h,
            "<tr class=\"soft\"><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td></tr>",
            swatch(p.segment),
            swatch(p.second),
            p.users,
            p.mean_second
        );
    }
    h.push_str("</table></section>\n");
}

fn risks_section(h: &mut String, r: &Report, l: &Labels) {
    let scored = r.risks.iter().any(|x| x.reasons.is_some());
    let _ = writeln!(
        h,
        "<section id=\"risks\"><h2>{}</h2><p class=\"note\">{}</p>",
        l.risks_heading,
        if scored { l.risks_scored_note } else { l.risks_note }
    );
    if r.risks.is_empty() {
        let _ = write!(h, "<p class=\"empty\">{}</p></section>\n", l.risks_empty);
        return;
    }
    let (score_col, last_col) = if scored { (l.col_risk_score, l.col_reasons) } else { (l.col_anomaly, l.col_distance) };
    let _ = writeln!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.col_rank, l.col_user, l.col_segment, score_col, last_col
    );
    for (i, x) in r.risks.iter().enumerate() {
        let last = match &x.reasons {
            Some(reasons) => format!("<td>{}</td>", escape(reasons)),
            None => format!("<td class=\"num\">{:.4}</td>", x.distance),
        };
        let _ = writeln!(
            h,
            "<tr class=\"risk\"><td class=\"num\">{}</td><td class=\"num\">{}</td><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>\
             <td class=\"num\">{:.2}</td>{last}</tr>",
            i + 1,
            x.user_id,
            colour(x.segment),
            x.segment,
            x.anomaly_score,
        );
    }
    h.push_str("</table></section>\n");
}

#[cfg(test)]
mod tests;
