//! Writing a training as a new version of its model: segment ids matched
//! to the previous version's, centroids with their spreads and words, every
//! row's assignment, exemplars, and the descriptions.

use std::collections::HashMap;

use persona_cluster::{anomaly_score, class_tfidf, match_centroids, Metric, Segmentation};
use pgrx::prelude::*;

use super::{is_major, raise_train_error, Trained};
use crate::errors::raise_spi_error as spi_err;
use crate::spi::Columns;

/// Segment ids for the new centroids: the previous version's id of the
/// centroid each one takes over (optimal matching by distance), fresh ids for
/// the rest; for a first version, 1 for the largest segment, 2 for the next.
fn segment_ids(model: &str, t: &Segmentation, sizes: &[i64], metric: Metric) -> Vec<i32> {
    let old: Vec<(i32, Vec<f32>)> = Spi::connect(|c| {
        c.select(
            "SELECT c.segment, c.centroid FROM persona.kmeans_centroids c JOIN persona.kmeans_models m USING (name, version)
             WHERE c.name = $1 AND m.version = (SELECT max(version) FROM persona.kmeans_models WHERE name = $1)
               AND m.dimension = $2 AND m.metric = $3 ORDER BY c.segment",
            None,
            &[model.into(), (t.dim as i32).into(), metric.name().into()],
        )
        .map(|rows| {
            rows.filter_map(|r| Some((r.col::<i32>(1)?, r.col::<Vec<f32>>(2)?))).collect()
        })
        .unwrap_or_default()
    });
    let mut ids = vec![0i32; t.k];
    if old.is_empty() {
        let mut order: Vec<usize> = (0..t.k).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(sizes[i]), i));
        for (rank, &i) in order.iter().enumerate() {
            ids[i] = rank as i32 + 1;
        }
        return ids;
    }
    let old_flat: Vec<f32> = old.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    let matched = match_centroids(&t.centroids, &old_flat, t.dim, metric).unwrap_or_else(|e| raise_train_error(e));
    let mut next = old.iter().map(|(id, _)| *id).max().unwrap_or(0) + 1;
    for (i, m) in matched.iter().enumerate() {
        ids[i] = match m {
            Some(j) => old[*j].0,
            None => {
                next += 1;
                next - 1
            }
        };
    }
    ids
}

/// Words that set each segment's texts apart (class-based TF-IDF).
fn distinctive_words(texts: &str, t: &Trained, ids: &[i32]) -> HashMap<i32, Vec<String>> {
    let by_key: HashMap<i64, u32> = t.keys.iter().zip(&t.model.assignments).map(|(k, a)| (*k, a.label)).collect();
    let mut docs: Vec<(u32, String)> = Vec::new();
    Spi::connect(|c| {
        // The first two columns, whatever their names: (user id, text).
        let query = format!("SELECT (t.c1)::bigint, (t.c2)::text FROM {texts} AS t(c1, c2)");
        let mut cursor = c.open_cursor(&query, &[]);
        loop {
            check_for_interrupts!();
            let batch = cursor.fetch(10_000).unwrap_or_else(|e| spi_err("read texts", e));
            if batch.is_empty() {
                break;
            }
            for row in batch {
                if let (Ok(Some(k)), Ok(Some(body))) = (row.get::<i64>(1), row.get::<String>(2)) {
                    if let Some(&label) = by_key.get(&k) {
                        docs.push((label, body));
                    }
                }
            }
        }
    });
    let words = class_tfidf(docs.iter().map(|(c, s)| (*c, s.as_str())), t.model.k, 10, 2).unwrap_or_default();
    words
        .into_iter()
        .enumerate()
        .map(|(i, w)| (ids[i], w.into_iter().map(|(word, _)| word).collect()))
        .collect()
}

/// Writes `trained` as the next version of `model`; returns its number and
/// the segment id of each of the training's labels.
#[allow(clippy::too_many_arguments)]
pub fn store(
    model: &str,
    source: &str,
    query: &str,
    profiles: Option<&str>,
    metric: Metric,
    params: serde_json::Value,
    trained: &Trained,
    texts: Option<&str>,
    floor: Option<i32>,
) -> (i32, Vec<i32>) {
    let (t, keys) = (&trained.model, &trained.keys[..]);
    let mut sizes = vec![0i64; t.k];
    for a in &t.assignments {
        sizes[a.label as usize] += 1;
    }
    let ids = segment_ids(model, t, &sizes, metric);
    let version = crate::spi::first::<i32>(
        "number the new version",
        "SELECT coalesce(max(version), 0) + 1 FROM persona.kmeans_models WHERE name = $1",
        &[model.into()],
    )
    .unwrap_or(1);
    let candidates = serde_json::Value::Array(
        t.candidates
            .iter()
            .map(|c| serde_json::json!({"k": c.k, "inertia": c.inertia, "silhouette": c.silhouette}))
            .collect(),
    );
    Spi::run_with_args(
        "INSERT INTO persona.kmeans_models (name, version, k, dimension, metric, inertia, silhouette, iterations, rows,
             skipped_rows, training_mode, source, profile_name, parameters, k_candidates, seconds, k_anonymity_floor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16, $17)",
        &[
            model.into(),
            version.into(),
            (t.k as i32).into(),
            (t.dim as i32).into(),
            metric.name().into(),
            t.inertia.into(),
            t.silhouette.into(),
            (t.iterations as i32).into(),
            (keys.len() as i64).into(),
            trained.skipped.into(),
            trained.mode().into(),
            source.into(),
            profiles.into(),
            params.to_string().into(),
            candidates.to_string().into(),
            trained.seconds.into(),
            floor.into(),
        ],
    )
    .unwrap_or_else(|e| spi_err("write persona.kmeans_models", e));
    let words = texts.map(|tx| distinctive_words(tx, trained, &ids)).unwrap_or_default();
    for i in 0..t.k {
        let (median, scale) = t.spreads[i].as_ref().map(|s| (s.median, s.scale)).unwrap_or((0.0, 0.0));
        let centroid = t.centroids[i * t.dim..(i + 1) * t.dim].to_vec();
        let w: Option<Vec<String>> = words.get(&ids[i]).cloned();
        Spi::run_with_args(
            "INSERT INTO persona.kmeans_centroids (name, version, segment, centroid, size, distance_median, distance_scale, words)
             VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, '{}'))",
            &[model.into(), version.into(), ids[i].into(), centroid.into(), sizes[i].into(), median.into(), scale.into(), w.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.kmeans_centroids", e));
    }
    for (chunk_keys, chunk) in keys.chunks(100_000).zip(t.assignments.chunks(100_000)) {
        check_for_interrupts!();
        let segs: Vec<i32> = chunk.iter().map(|a| ids[a.label as usize]).collect();
        let dist: Vec<f64> = chunk.iter().map(|a| f64::from(a.distance)).collect();
        let margin: Vec<Option<f64>> = chunk
            .iter()
            .map(|a| a.second_distance.is_finite().then(|| f64::from(a.second_distance - a.distance)))
            .collect();
        let anomaly: Vec<Option<f64>> = chunk
            .iter()
            .map(|a| t.spreads[a.label as usize].as_ref().map(|s| anomaly_score(f64::from(a.distance), s)))
            .collect();
        Spi::run_with_args(
            "INSERT INTO persona.segment_assignments (name, version, user_id, segment, distance, margin, anomaly_score)
             SELECT $1, $2, u, s, d, m, a FROM unnest($3::bigint[], $4::int[], $5::float8[], $6::float8[], $7::float8[]) AS x(u, s, d, m, a)",
            &[model.into(), version.into(), chunk_keys.to_vec().into(), segs.into(), dist.into(), margin.into(), anomaly.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.segment_assignments", e));
    }
    let total = keys.len() as i64;
    let minor: Vec<i32> = (0..t.k).filter(|&i| !is_major(sizes[i], total)).map(|i| ids[i]).collect();
    if !minor.is_empty() && minor.len() < t.k {
        // The assignments written above have no statistics yet; a planner that
        // guesses one row per (name, version) picks a nested loop over the whole
        // source for every member. Hash joins only, for this statement.
        let nestloop = crate::spi::first::<String>("read enable_nestloop", "SELECT current_setting('enable_nestloop')", &[]).unwrap_or_else(|| "on".to_owned());
        Spi::run("SELECT set_config('enable_nestloop', 'off', true)").unwrap_or_else(|e| spi_err("plan the scoring of small segments", e));
        Spi::run_with_args(
            &format!(
                "UPDATE persona.segment_assignments a SET anomaly_score = n.anomaly_score
                 FROM ({query}) src(user_id, vec), persona.kmeans_nearest($1, src.vec) n
                 WHERE a.name = $1 AND a.version = $2 AND a.user_id = src.user_id AND a.segment = ANY ($3)"
            ),
            &[model.into(), version.into(), minor.into()],
        )
        .unwrap_or_else(|e| spi_err("score the members of small segments", e));
        Spi::run_with_args("SELECT set_config('enable_nestloop', $1, true)", &[nestloop.into()])
            .unwrap_or_else(|e| spi_err("plan the scoring of small segments", e));
    }
    // Exemplars: the five members nearest each centroid, ties by key.
    let mut nearest: Vec<Vec<(f32, i64)>> = vec![Vec::new(); t.k];
    for (key, a) in keys.iter().zip(&t.assignments) {
        let list = &mut nearest[a.label as usize];
        list.push((a.distance, *key));
        if list.len() > 64 {
            list.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            list.truncate(5);
        }
    }
    for (i, list) in nearest.iter_mut().enumerate() {
        list.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let exemplars: Vec<i64> = list.iter().take(5).map(|x| x.1).collect();
        Spi::run_with_args(
            "INSERT INTO persona.segment_descriptions (name, version, segment, label, exemplar_users)
             VALUES ($1, $2, $3, 'segment ' || $3, $4)",
            &[model.into(), version.into(), ids[i].into(), exemplars.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.segment_descriptions", e));
    }
    Spi::run_with_args("SELECT persona._describe_segments($1, $2)", &[model.into(), version.into()])
        .unwrap_or_else(|e| spi_err("describe the segments", e));
    (version, ids)
}
