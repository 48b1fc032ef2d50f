//! The model variants the evaluation compares, and how each scores a user.

use persona_rank::{
    weighted_history, ItemItemModel, KnnConfig, RankError, Recency, TransitionConfig,
};

/// Popularity is scaled so the most popular item adds this much: far below
/// any model weight, it only breaks ties among the many items a sparse model
/// leaves at zero (otherwise they would rank by index).
pub const POPULARITY_TIE_BREAK: f32 = 1e-5;

/// One scored configuration of a model family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variant {
    Popularity,
    Knn {
        config: KnnConfig,
        recency: Recency,
    },
    Ease {
        lambda: f64,
        recency: Recency,
    },
    Transition {
        config: TransitionConfig,
        recency: Recency,
    },
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
#[derive(Clone, Copy)]
pub struct Models<'a> {
    pub popularity: &'a [f32],
    pub knn: Option<&'a ItemItemModel>,
    pub ease: Option<&'a ItemItemModel>,
    pub transition: Option<&'a ItemItemModel>,
}

fn add_model(
    model: Option<&ItemItemModel>,
    history: &[u32],
    recency: Recency,
    scale: f32,
    scores: &mut [f32],
) -> Result<(), RankError> {
    if let Some(model) = model {
        let weighted: Vec<(u32, f32)> = weighted_history(history, recency)?
            .into_iter()
            .map(|(i, w)| (i, w * scale))
            .collect();
        model.accumulate_scores(&weighted, scores)?;
    }
    Ok(())
}

pub fn score(
    variant: Variant,
    models: &Models,
    history: &[u32],
    scores: &mut [f32],
) -> Result<(), RankError> {
    let max_pop = models.popularity.iter().copied().fold(1.0f32, f32::max);
    let tie = if variant == Variant::Popularity {
        1.0
    } else {
        POPULARITY_TIE_BREAK / max_pop
    };
    for (s, &p) in scores.iter_mut().zip(models.popularity) {
        *s += tie * p;
    }
    match variant {
        Variant::Popularity => Ok(()),
        Variant::Knn { recency, .. } => add_model(models.knn, history, recency, 1.0, scores),
        Variant::Ease { recency, .. } => add_model(models.ease, history, recency, 1.0, scores),
        Variant::Transition { recency, .. } => {
            add_model(models.transition, history, recency, 1.0, scores)
        }
        Variant::Blend {
            ease_recency,
            transition_recency,
            weight,
            ..
        } => {
            add_model(models.ease, history, ease_recency, 1.0, scores)?;
            add_model(
                models.transition,
                history,
                transition_recency,
                weight,
                scores,
            )
        }
    }
}
