//! `persona.report(model)`: the segment report as one HTML document.
//!
//! This layer only gathers data with SPI, from the same views an analyst
//! reads (`persona.segments`, `persona.top_outliers`, `persona.recommendations`)
//! plus a sample of the model's vectors for the map; the PCA is
//! `persona_linalg::fit_pca_2d` and the HTML is `persona_report::render`.

use persona_linalg::fit_pca_2d_with;
use persona_report::{ExemplarRecommendations, Lang, Map, Point, Recommendation, Report, Risk, Segment};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_spi_error as spi_err, required};
use crate::spi::Columns;
use crate::sql_text::quote_ident;

/// Traits of `persona.segments` shown in the heat map: (column, heading).
const LIFTS: [(&str, &str); 6] = [
    ("recency_lift", "recency"),
    ("frequency_lift", "frequency"),
    ("monetary_lift", "spend"),
    ("avg_order_value_lift", "order value"),
    ("activity_lift", "activity"),
    ("predicted_value_lift", "predicted value"),
];

struct ModelHead {
    version: i32,
    k: i32,
    rows: i64,
    metric: String,
    silhouette: Option<f64>,
    mode: String,
    created_at: String,
    profiles: Option<String>,
    source: String,
    key_col: String,
    vector_col: String,
    floor: i64,
    owner: pg_sys::Oid,
}

fn head(model: &str) -> ModelHead {
    let row = Spi::connect(|c| {
        c.select(
            "SELECT version, k, rows, metric, silhouette, training_mode, to_char(created_at, 'YYYY-MM-DD HH24:MI TZ'), profile_name,
                    source, coalesce(parameters->>'key_col', 'user_id'), coalesce(parameters->>'vector_col', 'profile_vec'),
                    greatest(coalesce(k_anonymity_floor, 1), persona._k_anonymity_floor())::bigint
             FROM persona.kmeans_models WHERE name = $1 ORDER BY version DESC LIMIT 1",
            None,
            &[model.into()],
        )
        .map(|mut rows| {
            rows.next().map(|r| ModelHead {
                version: r.col::<i32>(1).unwrap_or(0),
                k: r.col::<i32>(2).unwrap_or(0),
                rows: r.col::<i64>(3).unwrap_or(0),
                metric: r.col::<String>(4).unwrap_or_default(),
                silhouette: r.col::<f64>(5),
                mode: r.col::<String>(6).unwrap_or_default(),
                created_at: r.col::<String>(7).unwrap_or_default(),
                profiles: r.col::<String>(8),
                source: r.col::<String>(9).unwrap_or_default(),
                key_col: r.col::<String>(10).unwrap_or_default(),
                vector_col: r.col::<String>(11).unwrap_or_default(),
                floor: r.col::<i64>(12).unwrap_or(10),
                owner: pg_sys::InvalidOid,
            })
        })
        .unwrap_or_else(|e| spi_err("read persona.kmeans_models", e))
    });
    row.unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("k-means model \"{model}\" does not exist"),
            None,
            Some("Train it first with persona.kmeans_train()."),
        )
    })
}

fn segments(model: &str) -> Vec<Segment> {
    let lifts = LIFTS.iter().map(|(c, _)| format!("{c}::float8")).collect::<Vec<_>>().join(", ");
    let query = format!(
        "SELECT segment, label, size, share, coalesce(top_categories, '{{}}'), coalesce(distinctive_words, '{{}}'), exemplar_users[1], {lifts}
         FROM persona.segments WHERE model = $1 ORDER BY segment"
    );
    Spi::connect(|c| {
        c.select(&query, None, &[model.into()])
            .map(|rows| {
                rows.map(|r| Segment {
                    id: r.col::<i32>(1).unwrap_or(0),
                    label: r.col::<String>(2).unwrap_or_default(),
                    size: r.col::<i64>(3).unwrap_or(0),
                    share: r.col::<f64>(4).unwrap_or(0.0),
                    top_categories: r.col::<Vec<String>>(5).unwrap_or_default(),
                    words: r.col::<Vec<String>>(6).unwrap_or_default(),
                    exemplar: r.col::<i64>(7),
                    lifts: LIFTS
                        .iter()
                        .enumerate()
                        .map(|(i, (_, name))| ((*name).to_owned(), r.col::<f64>(8 + i)))
                        .collect(),
                })
                .collect()
            })
            .unwrap_or_else(|e| spi_err("read persona.segments", e))
    })
}

/// A sample of the model's users with their vectors, every visible segment
/// represented (at least 20 users each, the rest in proportion to size),
/// projected on two principal components fitted to the sample.
fn map(model: &str, h: &ModelHead, visible: &[Segment], points: i32) -> Option<Map> {
    if points == 0 || visible.is_empty() {
        return None;
    }
    let from = crate::source::from_item(&h.source, "source");
    let ids: Vec<i32> = visible.iter().map(|s| s.id).collect();
    let query = format!(
        "WITH m AS (
             SELECT user_id, segment, row_number() OVER (PARTITION BY segment ORDER BY hashint8(user_id), user_id) AS rn,
                    count(*) OVER (PARTITION BY segment) AS size, count(*) OVER () AS total
             FROM persona.segment_assignments WHERE name = $1 AND version = $2 AND segment = ANY ($3))
         SELECT m.segment, v.vec
         FROM m JOIN (SELECT (s.{k})::bigint AS user_id, (s.{v})::real[] AS vec FROM {from} s) v USING (user_id)
         WHERE m.rn <= greatest(20, ceil($4::float8 * m.size / m.total)) AND v.vec IS NOT NULL
         ORDER BY m.segment, m.rn",
        k = quote_ident(&h.key_col),
        v = quote_ident(&h.vector_col),
    );
    // The stored source is the owner's SQL: read with the owner's rights.
    let rows: Vec<(i32, Vec<f32>)> = crate::access::as_owner(h.owner, || Spi::connect(|c| {
        c.select(&query, None, &[model.into(), h.version.into(), ids.clone().into(), points.into()])
            .map(|rows| rows.filter_map(|r| Some((r.col::<i32>(1)?, r.col::<Vec<f32>>(2)?))).collect())
            .unwrap_or_else(|e| spi_err("read the model's vectors for the map", e))
    }));
    let dim = rows.first()?.1.len();
    let cosine = h.metric == "cosine";
    let prepare = |v: &[f32]| -> Vec<f32> {
        let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        if cosine && norm > 0.0 {
            v.iter().map(|x| (f64::from(*x) / norm) as f32).collect()
        } else {
            v.to_vec()
        }
    };
    let mut data = Vec::with_capacity(rows.len() * dim);
    let mut segs = Vec::with_capacity(rows.len());
    for (s, v) in &rows {
        // Rows of another dimension (a source changed since training) are left out.
        if v.len() == dim && v.iter().all(|x| x.is_finite()) {
            data.extend(prepare(v));
            segs.push(*s);
        }
    }
    // Power iteration on up to map_points rows: cancel is checked every pass.
    let pca = fit_pca_2d_with(&data, dim, &mut || {
        check_for_interrupts!();
    })
    .ok()?;
    let points: Vec<Point> = data
        .chunks_exact(dim)
        .zip(&segs)
        .filter_map(|(v, &segment)| pca.project(v).ok().map(|[x, y]| Point { x, y, segment }))
        .collect();
    let centroids: Vec<Point> = Spi::connect(|c| {
        c.select(
            "SELECT segment, centroid FROM persona.kmeans_centroids WHERE name = $1 AND version = $2 AND segment = ANY ($3) ORDER BY segment",
            None,
            &[model.into(), h.version.into(), ids.clone().into()],
        )
        .map(|rows| rows.filter_map(|r| Some((r.col::<i32>(1)?, r.col::<Vec<f32>>(2)?))).collect::<Vec<_>>())
        .unwrap_or_default()
    })
    .into_iter()
    .filter_map(|(segment, c)| pca.project(&prepare(&c)).ok().map(|[x, y]| Point { x, y, segment }))
    .collect();
    Some(Map { points, centroids, explained_variance_ratio: pca.explained_variance_ratio, population: h.rows })
}

/// The newest recommendation list of each segment's exemplar, if
/// `persona.recommendations` exists and has one.
fn recommendations(visible: &[Segment], recommender: Option<&str>) -> Option<Vec<ExemplarRecommendations>> {
    let exists = crate::spi::first::<bool>("look for persona.recommendations", "SELECT to_regclass('persona.recommendations') IS NOT NULL", &[]).unwrap_or(false);
    if !exists {
        return None;
    }
    let mut out = Vec::new();
    for s in visible {
        let Some(user) = s.exemplar else { continue };
        let items: Vec<Recommendation> = Spi::connect(|c| {
            c.select(
                "SELECT item_id::bigint, score::float8, reason::text FROM persona.recommendations r
                 WHERE r.user_id = $1 AND r.model = coalesce($2, (SELECT model FROM persona.recommendations z WHERE z.user_id = $1
                                                                  ORDER BY computed_at DESC, model LIMIT 1))
                 ORDER BY rank LIMIT 5",
                None,
                &[user.into(), recommender.into()],
            )
            .map(|rows| {
                rows.filter_map(|r| {
                    Some(Recommendation {
                        item_id: r.col::<i64>(1)?,
                        score: r.col::<f64>(2).unwrap_or(0.0),
                        reason: r.col::<String>(3).unwrap_or_default(),
                    })
                })
                .collect()
            })
            .unwrap_or_else(|e| spi_err("read persona.recommendations", e))
        });
        out.push(ExemplarRecommendations { segment: s.id, user_id: user, items });
    }
    if out.iter().all(|e| e.items.is_empty()) {
        None
    } else {
        Some(out)
    }
}

/// For a mixture, the users whose most probable segment has less than 0.9,
/// by (first, second) segment; `None` for K-Means.
fn soft_pairs(model: &str) -> Option<Vec<persona_report::SoftPair>> {
    let gmm = crate::spi::first::<bool>(
        "read persona.kmeans_models",
        "SELECT algorithm = 'gmm' FROM persona.kmeans_models WHERE name = $1 ORDER BY version DESC LIMIT 1",
        &[model.into()],
    )
    .unwrap_or(false);
    if !gmm {
        return None;
    }
    Some(Spi::connect(|c| {
        c.select(
            "SELECT segment, second_segment, count(*), avg(second_probability)::float8 FROM persona.soft_segments
             WHERE model = $1 AND probability < 0.9 AND second_segment IS NOT NULL
             GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 20",
            None,
            &[model.into()],
        )
        .map(|rows| {
            rows.filter_map(|r| {
                Some(persona_report::SoftPair {
                    segment: r.col::<i32>(1)?,
                    second: r.col::<i32>(2)?,
                    users: r.col::<i64>(3)?,
                    mean_second: r.col::<f64>(4)?,
                })
            })
            .collect()
        })
        .unwrap_or_else(|e| spi_err("read persona.soft_segments", e))
    }))
}

/// The riskiest users: by risk score with reasons when the model's profiles
/// have been scored (persona.score_risks), otherwise by anomaly score. The
/// reasons are in the report's language (persona-risk writes both).
fn risks(model: &str, profiles: Option<&str>, limit: i32, lang: Lang) -> Vec<Risk> {
    let scored = profiles.is_some_and(|p| {
        crate::spi::first::<bool>(
            "read persona.risk_scores",
            "SELECT EXISTS (SELECT FROM persona.risk_scores WHERE name = $1)",
            &[p.into()],
        )
        .unwrap_or(false)
    });
    let (query, args): (String, Vec<pgrx::datum::DatumWithOid>) = if scored {
        (
            format!(
                "SELECT r.user_id, coalesce(m.segment, 0), r.score, 0::float8, r.{} FROM persona.risks r
                 LEFT JOIN persona.segment_members m ON m.model = $1 AND m.user_id = r.user_id
                 WHERE r.profiles = $2 ORDER BY r.score DESC, r.user_id LIMIT $3",
                match lang {
                    Lang::En => "reasons",
                    Lang::Zh => "reasons_zh",
                }
            ),
            vec![model.into(), profiles.into(), i64::from(limit).into()],
        )
    } else {
        (
            "SELECT user_id, segment, anomaly_score, distance, NULL::text FROM persona.top_outliers WHERE model = $1
             ORDER BY anomaly_score DESC, user_id LIMIT $2"
                .to_owned(),
            vec![model.into(), i64::from(limit).into()],
        )
    };
    Spi::connect(|c| {
        c.select(&query, None, &args)
            .map(|rows| {
                rows.filter_map(|r| {
                    Some(Risk {
                        user_id: r.col::<i64>(1)?,
                        segment: r.col::<i32>(2)?,
                        anomaly_score: r.col::<f64>(3)?,
                        distance: r.col::<f64>(4)?,
                        reasons: r.col::<String>(5),
                    })
                })
                .collect()
            })
            .unwrap_or_else(|e| spi_err("read the top risks", e))
    })
}

/// The report of a K-Means model's current version as a self-contained
/// HTML document with inline SVG, its own words in `lang` (the data as it is).
#[pg_extern(stable)]
fn report(
    model: Option<&str>,
    recommender: default!(Option<&str>, "NULL"),
    map_points: default!(Option<i32>, 2000),
    top_risks: default!(Option<i32>, 20),
    lang: default!(Option<&str>, "'en'"),
) -> String {
    required!(model, map_points, top_risks, lang);
    // Checked before any data is read, so that a typo costs nothing.
    let Some(lang) = Lang::parse(lang) else {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown report language \"{lang}\""),
            None,
            Some(&format!("Use one of: {}.", Lang::NAMES.join(", "))),
        )
    };
    if !(0..=100_000).contains(&map_points) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("map_points must be between 0 and 100000, not {map_points}"),
            None,
            None,
        );
    }
    if !(0..=10_000).contains(&top_risks) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("top_risks must be between 0 and 10000, not {top_risks}"),
            None,
            None,
        );
    }
    let owner = crate::access::require_use(crate::access::Kind::Kmeans, model, "report on it");
    let job = crate::progress::Job::start("report", "reading the segments", "steps", Some(6));
    let mut h = head(model);
    h.owner = owner;
    let visible = segments(model);
    let floor = h.floor;
    job.step(1, "map of users");
    let map = map(model, &h, &visible, map_points);
    job.step(2, "recommendations of exemplars");
    let recommendations = recommendations(&visible, recommender);
    job.step(3, "top risks");
    let risks = risks(model, h.profiles.as_deref(), top_risks, lang);
    job.step(4, "soft segments");
    let soft = soft_pairs(model);
    job.step(5, "rendering");
    let r = Report {
        model: model.to_owned(),
        version: h.version,
        k: h.k,
        rows: h.rows,
        metric: h.metric,
        silhouette: h.silhouette,
        training_mode: h.mode,
        created_at: h.created_at,
        profiles: h.profiles,
        hidden_segments: (i64::from(h.k) - visible.len() as i64).max(0),
        k_anonymity_floor: floor,
        segments: visible,
        map,
        recommendations,
        risks,
        soft,
        lang,
    };
    persona_report::render(&r)
}
