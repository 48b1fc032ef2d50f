//! Next-item recommendation quality of the item-item models on real data,
//! full ranking over all items, leave-last-out by time.
//!
//! cargo run -p persona-rank --release --example evaluate -- beauty|ml-100k [data file]
//!
//! Each user's last item is the test target and the one before it the
//! validation target. Every hyper-parameter (EASE λ, recency half-life,
//! neighbour counts, blend weight) is chosen on validation with models
//! fitted on the training prefixes; the chosen configurations are then
//! refitted on training + validation items and scored on the test items.
//! Items in the user's own history are never recommended.

mod data;
mod harness;

use std::path::PathBuf;
use std::time::Instant;

use harness::{evaluate, Quality};
use persona_rank::{
    fit_ease, fit_item_knn, fit_transitions, leave_last_out, popularity_scores, weighted_history,
    EaseConfig, ItemItemModel, KnnConfig, Precision, RankError, Recency, TransitionConfig,
};

const LAMBDAS: [f64; 5] = [50.0, 100.0, 200.0, 500.0, 1000.0];
const HALF_LIVES: [f32; 5] = [0.5, 1.0, 2.0, 4.0, 8.0];
const BLEND_WEIGHTS: [f32; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];

/// Scores below this share of the best popularity break ties among items a
/// sparse model leaves at zero, in favour of popular ones.
const POPULARITY_TIE_BREAK: f32 = 1e-5;

/// One scored configuration of a model family.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    Popularity,
    Knn { config: KnnConfig, recency: Recency },
    Ease { lambda: f64, recency: Recency },
    Transition { config: TransitionConfig, recency: Recency },
    /// EASE plus `weight` × transitions, each with its own recency.
    Blend {
        lambda: f64,
        ease_recency: Recency,
        transition: TransitionConfig,
        transition_recency: Recency,
        weight: f32,
    },
}

/// The fitted models one variant needs.
struct Models<'a> {
    popularity: &'a [f32],
    knn: Option<&'a ItemItemModel>,
    ease: Option<&'a ItemItemModel>,
    transition: Option<&'a ItemItemModel>,
}

fn add_model(model: Option<&ItemItemModel>, history: &[u32], recency: Recency, scale: f32, scores: &mut [f32]) -> Result<(), RankError> {
    if let Some(model) = model {
        let weighted: Vec<(u32, f32)> = weighted_history(history, recency)?
            .into_iter()
            .map(|(i, w)| (i, w * scale))
            .collect();
        model.accumulate_scores(&weighted, scores)?;
    }
    Ok(())
}

fn score(variant: Variant, models: &Models, history: &[u32], scores: &mut [f32]) -> Result<(), RankError> {
    let max_pop = models.popularity.iter().copied().fold(1.0f32, f32::max);
    let tie = if variant == Variant::Popularity { 1.0 } else { POPULARITY_TIE_BREAK / max_pop };
    for (s, &p) in scores.iter_mut().zip(models.popularity) {
        *s += tie * p;
    }
    match variant {
        Variant::Popularity => Ok(()),
        Variant::Knn { recency, .. } => add_model(models.knn, history, recency, 1.0, scores),
        Variant::Ease { recency, .. } => add_model(models.ease, history, recency, 1.0, scores),
        Variant::Transition { recency, .. } => add_model(models.transition, history, recency, 1.0, scores),
        Variant::Blend { ease_recency, transition_recency, weight, .. } => {
            add_model(models.ease, history, ease_recency, 1.0, scores)?;
            add_model(models.transition, history, transition_recency, weight, scores)
        }
    }
}

fn recencies() -> Vec<Recency> {
    let mut all = vec![Recency::Uniform];
    all.extend(HALF_LIVES.iter().map(|&h| Recency::Exponential { half_life: h }));
    all
}

fn ease(histories: &[Vec<u32>], n_items: usize, lambda: f64) -> Result<ItemItemModel, RankError> {
    let start = Instant::now();
    let model = fit_ease(histories, n_items, &EaseConfig { lambda, max_items: None, precision: Precision::F64 })?;
    eprintln!("  EASE λ={lambda}: fitted {n_items} items in {:.1} s", start.elapsed().as_secs_f64());
    Ok(model)
}

/// Tracks the best variant of each family by validation NDCG.
struct Best(Vec<(&'static str, Variant, Quality)>);

impl Best {
    fn offer(&mut self, family: &'static str, variant: Variant, q: Quality) {
        eprintln!("  valid {family:<11} HR@10 {:.4} NDCG@10 {:.4}  {variant:?}", q.hr, q.ndcg);
        match self.0.iter_mut().find(|e| e.0 == family) {
            Some(entry) if entry.2.ndcg >= q.ndcg => {}
            Some(entry) => *entry = (family, variant, q),
            None => self.0.push((family, variant, q)),
        }
    }
    fn get(&self, family: &str) -> Option<Variant> {
        self.0.iter().find(|e| e.0 == family).map(|e| e.1)
    }
}

fn knn_configs() -> Vec<KnnConfig> {
    [(50, 0.0), (200, 0.0), (200, 10.0)].iter().map(|&(neighbours, shrink)| KnnConfig { neighbours, shrink }).collect()
}

fn transition_configs() -> Vec<TransitionConfig> {
    [(1, 1.0, 0.0), (3, 0.5, 0.0), (3, 0.5, 0.5)]
        .iter()
        .map(|&(window, decay, backward)| TransitionConfig { window, decay, backward, neighbours: 500 })
        .collect()
}

fn tune(fit: &[Vec<u32>], targets: &[Option<u32>], n_items: usize) -> Result<Best, RankError> {
    let popularity = popularity_scores(fit, n_items)?;
    let bare = Models { popularity: &popularity, knn: None, ease: None, transition: None };
    let mut best = Best(Vec::new());
    let eval = |variant: Variant, models: &Models| evaluate(fit, targets, n_items, |h, s| score(variant, models, h, s));
    best.offer("popularity", Variant::Popularity, eval(Variant::Popularity, &bare)?);
    for config in knn_configs() {
        let knn = fit_item_knn(fit, n_items, &config)?;
        let models = Models { knn: Some(&knn), ..bare };
        for recency in recencies() {
            let v = Variant::Knn { config, recency };
            best.offer("item-kNN", v, eval(v, &models)?);
        }
    }
    let mut transitions = Vec::new();
    for config in transition_configs() {
        let model = fit_transitions(fit, n_items, &config)?;
        let models = Models { transition: Some(&model), ..bare };
        for recency in recencies() {
            let v = Variant::Transition { config, recency };
            best.offer("transition", v, eval(v, &models)?);
        }
        transitions.push((config, model));
    }
    for lambda in LAMBDAS {
        let model = ease(fit, n_items, lambda)?;
        let models = Models { ease: Some(&model), ..bare };
        let v = Variant::Ease { lambda, recency: Recency::Uniform };
        best.offer("EASE", v, eval(v, &models)?);
        let mut best_recency = (Recency::Uniform, f64::MIN);
        for recency in recencies() {
            let v = Variant::Ease { lambda, recency };
            let q = eval(v, &models)?;
            if q.ndcg > best_recency.1 {
                best_recency = (recency, q.ndcg);
            }
            best.offer("EASE+rec", v, q);
        }
        for (transition, tmodel) in &transitions {
            let models = Models { ease: Some(&model), transition: Some(tmodel), ..bare };
            for transition_recency in recencies() {
                for weight in BLEND_WEIGHTS {
                    let v = Variant::Blend { lambda, ease_recency: best_recency.0, transition: *transition, transition_recency, weight };
                    best.offer("EASE+trans", v, eval(v, &models)?);
                }
            }
        }
    }
    Ok(best)
}

fn test(best: &Best, fit: &[Vec<u32>], targets: &[Option<u32>], n_items: usize) -> Result<Vec<(&'static str, Variant, Quality)>, RankError> {
    let popularity = popularity_scores(fit, n_items)?;
    let mut rows = Vec::new();
    for family in ["popularity", "item-kNN", "EASE", "EASE+rec", "transition", "EASE+trans"] {
        let Some(variant) = best.get(family) else { continue };
        let (knn, ease_model, transition) = match variant {
            Variant::Popularity => (None, None, None),
            Variant::Knn { config, .. } => (Some(fit_item_knn(fit, n_items, &config)?), None, None),
            Variant::Ease { lambda, .. } => (None, Some(ease(fit, n_items, lambda)?), None),
            Variant::Transition { config, .. } => (None, None, Some(fit_transitions(fit, n_items, &config)?)),
            Variant::Blend { lambda, transition, .. } => {
                (None, Some(ease(fit, n_items, lambda)?), Some(fit_transitions(fit, n_items, &transition)?))
            }
        };
        let models = Models { popularity: &popularity, knn: knn.as_ref(), ease: ease_model.as_ref(), transition: transition.as_ref() };
        let q = evaluate(fit, targets, n_items, |h, s| score(variant, &models, h, s))?;
        rows.push((family, variant, q));
    }
    Ok(rows)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("beauty");
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let dataset = match which {
        "beauty" => data::load_beauty(&args.get(2).map(PathBuf::from).unwrap_or(shared.join("amazon-beauty-seq/Beauty.txt")))?,
        "ml-100k" => data::load_ml100k(&args.get(2).map(PathBuf::from).unwrap_or(shared.join("ml-100k/ml-100k.inter")))?,
        other => return Err(format!("unknown data set {other:?}: use beauty or ml-100k").into()),
    };
    let n = dataset.n_items;
    let interactions: usize = dataset.sequences.iter().map(Vec::len).sum();
    println!("{}: {} users, {} items, {} interactions", dataset.name, dataset.sequences.len(), n, interactions);
    let split = leave_last_out(&dataset.sequences, 1);
    let started = Instant::now();
    let best = tune(&split.train, &split.validation, n)?;
    eprintln!("tuning took {:.0} s", started.elapsed().as_secs_f64());
    let test_histories = split.test_histories();
    let rows = test(&best, &test_histories, &split.test, n)?;
    println!("{:<11} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}  chosen on validation", "model", "valid HR", "valid ND", "HR@10", "NDCG@10", "users", "coverage");
    for (family, variant, q) in rows {
        let v = best.0.iter().find(|e| e.0 == family).map(|e| e.2).unwrap_or_default();
        println!("{family:<11} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>7} {:>8.3}  {variant:?}", v.hr, v.ndcg, q.hr, q.ndcg, q.users, q.coverage);
    }
    Ok(())
}
