//! The recommender's hyper-parameters: parsed once from the caller's
//! options, checked once, stored and read back with serde.

use serde::{Deserialize, Serialize};

use crate::ease::EASE_MAX_ITEMS;
use crate::error::RankError;

/// How the main item-item weights are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// EASE weights (dense, over at most `max_items` popular items).
    Ease,
    /// Item-kNN: cosine of the items' user sets.
    Knn,
    /// EASE plus `knn_weight` times item-kNN: EASE where it is fitted,
    /// item-kNN for the rest of a large catalogue.
    Blend,
    /// Inner product of given user and item vectors.
    Vectors,
    /// The most popular items: chosen when no model beats it on validation.
    Popularity,
}

impl Method {
    /// `None` for "auto" (chosen on validation).
    pub fn parse(s: &str) -> Result<Option<Method>, RankError> {
        Ok(Some(match s {
            "auto" => return Ok(None),
            "ease" => Method::Ease,
            "knn" => Method::Knn,
            "blend" => Method::Blend,
            "vectors" => Method::Vectors,
            "popularity" => Method::Popularity,
            other => {
                return Err(RankError::BadOption(format!(
                    "method must be 'auto', 'ease', 'knn', 'blend', 'vectors' or 'popularity', not '{other}'"
                )))
            }
        }))
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Ease => "ease",
            Method::Knn => "knn",
            Method::Blend => "blend",
            Method::Vectors => "vectors",
            Method::Popularity => "popularity",
        }
    }

    pub fn uses_ease(self) -> bool {
        matches!(self, Method::Ease | Method::Blend)
    }

    pub fn uses_knn(self) -> bool {
        matches!(self, Method::Knn | Method::Blend)
    }
}

/// How the automatic choice holds out validation items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    /// Each user's latest item: the next thing they will do.
    Latest,
    /// A random share of each user's items: histories without an order.
    Random,
}

/// Every hyper-parameter of a recommender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Params {
    pub method: Method,
    /// EASE's L2 penalty.
    pub lambda: f64,
    /// Neighbours kept per item (main weights and transitions).
    pub neighbours: usize,
    /// Item-kNN's shrinkage of similarities built on few users.
    pub shrink: f32,
    /// Blend: weight of item-kNN relative to EASE.
    pub knn_weight: f32,
    /// Recency half-life in items of the main weights (0: every item once).
    pub half_life: f32,
    /// Weight of the transitions from the latest items (0: none).
    pub transition_weight: f32,
    pub transition_window: usize,
    pub transition_decay: f32,
    pub transition_half_life: f32,
    /// Weight of text similarity for items nobody has touched.
    pub text_weight: f32,
    /// EASE is fitted on at most this many of the most popular items.
    pub max_items: usize,
    /// At most this many recommendations per category (0: no cap).
    pub max_per_category: usize,
    /// How the automatic choice validates.
    pub validation: Validation,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            method: Method::Ease,
            lambda: 200.0,
            neighbours: 200,
            shrink: 0.0,
            knn_weight: 1.0,
            half_life: 2.0,
            transition_weight: 1.0,
            transition_window: 3,
            transition_decay: 0.5,
            transition_half_life: 0.5,
            text_weight: 0.1,
            max_items: EASE_MAX_ITEMS,
            max_per_category: 0,
            validation: Validation::Latest,
        }
    }
}

/// The options a caller may give, with their ranges.
const OPTIONS: [(&str, f64, f64); 13] = [
    ("lambda", 1e-6, 1e12),
    ("neighbours", 1.0, 100_000.0),
    ("shrink", 0.0, 1e9),
    ("knn_weight", 0.0, 1e6),
    ("half_life", 0.0, 1e9),
    ("transition_weight", 0.0, 1e6),
    ("transition_window", 1.0, 100.0),
    ("transition_decay", 0.0, 1.0),
    ("transition_half_life", 0.0, 1e9),
    ("text_weight", 0.0, 1e6),
    ("max_items", 1.0, EASE_MAX_ITEMS as f64),
    ("max_per_category", 0.0, 1000.0),
    ("search", 0.0, 1.0),
];

/// The parameters a caller fixed; the automatic choice searches the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Given {
    pub method: bool,
    pub keys: Vec<String>,
    /// `"search": false` turns the automatic choice off (defaults are used).
    pub search: bool,
}

impl Given {
    pub fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }
}

impl Params {
    /// Parameters from a method name (`None`: automatic) and a JSON object
    /// of options; unknown keys and out-of-range values are refused.
    pub fn from_options(
        method: Option<Method>,
        options: &serde_json::Value,
    ) -> Result<(Params, Given), RankError> {
        let bad = |m: String| RankError::BadOption(m);
        let Some(map) = options.as_object() else {
            return Err(bad("options must be a JSON object".to_owned()));
        };
        let known: Vec<&str> = OPTIONS.iter().map(|o| o.0).chain(["validation"]).collect();
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                return Err(bad(format!(
                    "unknown option \"{key}\"; known options: {}",
                    known.join(", ")
                )));
            }
        }
        let mut p = Params {
            method: method.unwrap_or(Method::Ease),
            ..Params::default()
        };
        if method == Some(Method::Vectors) {
            p.transition_weight = 0.0;
        }
        let mut given = Given {
            method: method.is_some(),
            keys: Vec::new(),
            search: true,
        };
        for (key, lo, hi) in OPTIONS {
            let x = match map.get(key) {
                None | Some(serde_json::Value::Null) => continue,
                Some(serde_json::Value::Bool(b)) if key == "search" => f64::from(u8::from(*b)),
                Some(v) => match v.as_f64() {
                    Some(x) if x.is_finite() && x >= lo && x <= hi => x,
                    _ if key == "search" => {
                        return Err(bad(format!("option search must be true or false, not {v}")))
                    }
                    _ => {
                        return Err(bad(format!(
                            "option {key} must be a number between {lo} and {hi}, not {v}"
                        )))
                    }
                },
            };
            match key {
                "lambda" => p.lambda = x,
                "neighbours" => p.neighbours = x as usize,
                "shrink" => p.shrink = x as f32,
                "knn_weight" => p.knn_weight = x as f32,
                "half_life" => p.half_life = x as f32,
                "transition_weight" => p.transition_weight = x as f32,
                "transition_window" => p.transition_window = x as usize,
                "transition_decay" => p.transition_decay = x as f32,
                "transition_half_life" => p.transition_half_life = x as f32,
                "text_weight" => p.text_weight = x as f32,
                "max_items" => p.max_items = x as usize,
                "max_per_category" => p.max_per_category = x as usize,
                _ => given.search = x != 0.0,
            }
            if key != "search" {
                given.keys.push(key.to_owned());
            }
        }
        match map.get("validation") {
            None | Some(serde_json::Value::Null) => {}
            Some(v) => {
                p.validation = match v.as_str() {
                    Some("latest") => Validation::Latest,
                    Some("random") => Validation::Random,
                    _ => {
                        return Err(bad(format!(
                            "option validation must be 'latest' or 'random', not {v}"
                        )))
                    }
                }
            }
        }
        p.check()?;
        Ok((p, given))
    }

    /// Parameters as stored by [`to_json`](Self::to_json), checked.
    pub fn from_json(stored: &serde_json::Value) -> Result<Params, RankError> {
        let p: Params = serde_json::from_value(stored.clone()).map_err(|e| {
            RankError::BadOption(format!("the stored parameters are not valid: {e}"))
        })?;
        p.check()?;
        Ok(p)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The one check of every range.
    pub fn check(&self) -> Result<(), RankError> {
        let fail = |name: &'static str, reason: &'static str| {
            Err(RankError::InvalidParameter { name, reason })
        };
        let finite_nonneg = |x: f32| x.is_finite() && x >= 0.0;
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return fail("lambda", "must be positive and finite");
        }
        if self.neighbours == 0 {
            return fail("neighbours", "must be at least 1");
        }
        if !(1..=EASE_MAX_ITEMS).contains(&self.max_items) {
            return fail("max_items", "must be between 1 and the dense EASE limit");
        }
        if !(1..=100).contains(&self.transition_window) {
            return fail("transition_window", "must be between 1 and 100");
        }
        if !(finite_nonneg(self.transition_decay) && self.transition_decay <= 1.0) {
            return fail("transition_decay", "must be between 0 and 1");
        }
        for (name, x) in [
            ("shrink", self.shrink),
            ("knn_weight", self.knn_weight),
            ("half_life", self.half_life),
            ("transition_weight", self.transition_weight),
            ("transition_half_life", self.transition_half_life),
            ("text_weight", self.text_weight),
        ] {
            if !finite_nonneg(x) {
                return fail(name, "must be non-negative and finite");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_and_refusals() {
        let (p, g) =
            Params::from_options(None, &serde_json::json!({"lambda": 50, "half_life": 0})).unwrap();
        assert_eq!(p.lambda, 50.0);
        assert_eq!(p.half_life, 0.0);
        assert!(
            g.has("lambda") && g.has("half_life") && !g.has("neighbours") && !g.method && g.search
        );
        assert_eq!(Params::from_json(&p.to_json()).unwrap(), p);
        // Older rows lack keys: defaults fill them.
        assert_eq!(
            Params::from_json(&serde_json::json!({"lambda": 7}))
                .unwrap()
                .lambda,
            7.0
        );
        for bad in [
            serde_json::json!([1]),
            serde_json::json!({"lamda": 1}),
            serde_json::json!({"lambda": -1}),
            serde_json::json!({"lambda": "x"}),
            serde_json::json!({"validation": "soon"}),
            serde_json::json!({"search": 3}),
        ] {
            assert!(
                matches!(
                    Params::from_options(None, &bad),
                    Err(RankError::BadOption(_))
                ),
                "{bad}"
            );
        }
        let (_, g) =
            Params::from_options(Some(Method::Knn), &serde_json::json!({"search": false})).unwrap();
        assert!(g.method && !g.search);
        assert!(Params {
            lambda: f64::NAN,
            ..Params::default()
        }
        .check()
        .is_err());
        assert!(Method::parse("nope").is_err());
        assert_eq!(Method::parse("auto").unwrap(), None);
    }
}
