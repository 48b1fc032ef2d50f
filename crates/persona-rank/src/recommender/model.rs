//! A trained recommender as scoring sees it: the catalogue, popularity,
//! neighbour rows and optional item vectors, free of Postgres.

use crate::recommender::params::Params;

/// Popularity scaled so the most popular item adds this much to a model
/// score: it only orders the items a sparse model leaves at zero.
const POPULARITY_TIE_BREAK: f32 = 1e-5;
/// Marks an item without a category.
pub(crate) const NO_CATEGORY: u32 = u32::MAX;

/// One neighbour list per item: (item index, weight), best first.
pub type Lists = Vec<Vec<(u32, f32)>>;

/// Per-item neighbour lists in compressed rows.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    start: Vec<usize>,
    items: Vec<u32>,
    weights: Vec<f32>,
}

impl Rows {
    pub fn from_lists(lists: Lists) -> Rows {
        let mut r = Rows {
            start: vec![0],
            items: Vec::new(),
            weights: Vec::new(),
        };
        for list in lists {
            for (i, w) in list {
                r.items.push(i);
                r.weights.push(w);
            }
            r.start.push(r.items.len());
        }
        r
    }

    /// Empty rows for `n` items.
    pub fn empty(n: usize) -> Rows {
        Rows {
            start: vec![0; n + 1],
            ..Rows::default()
        }
    }

    /// Row `i`: its neighbours and weights (empty beyond the catalogue).
    pub fn row(&self, i: u32) -> (&[u32], &[f32]) {
        let i = i as usize;
        if i + 1 >= self.start.len() {
            return (&[], &[]);
        }
        let (a, b) = (self.start[i], self.start[i + 1]);
        (&self.items[a..b], &self.weights[a..b])
    }

    /// Weights held in all.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Unit-length row vectors; rows of items without a vector are zeros.
#[derive(Debug, Clone)]
pub struct Mat {
    pub dim: usize,
    pub data: Vec<f32>,
    pub has: Vec<bool>,
}

impl Mat {
    /// Rows of `dim` from optional vectors; wrong lengths, zero or
    /// non-finite vectors count as absent. None when no row has a vector.
    pub fn from_rows<'a>(
        rows: impl ExactSizeIterator<Item = Option<&'a [f32]>> + Clone,
    ) -> Option<Mat> {
        let dim = rows.clone().flatten().next().map(<[f32]>::len)?;
        let mut m = Mat {
            dim,
            data: Vec::with_capacity(rows.len() * dim),
            has: Vec::with_capacity(rows.len()),
        };
        for r in rows {
            match r.filter(|v| v.len() == dim).and_then(|v| unit(v.to_vec())) {
                Some(v) => {
                    m.data.extend_from_slice(&v);
                    m.has.push(true);
                }
                None => {
                    m.data.extend(std::iter::repeat_n(0f32, dim));
                    m.has.push(false);
                }
            }
        }
        Some(m)
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

/// `v` scaled to unit length; None for a zero or non-finite vector.
pub fn unit(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if !(norm > 0.0 && norm.is_finite()) || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    v.iter_mut()
        .for_each(|x| *x = (f64::from(*x) / norm) as f32);
    Some(v)
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Everything scoring needs.
#[derive(Debug, Clone)]
pub struct Recommender {
    pub params: Params,
    /// Catalogue item ids, in index order.
    pub ids: Vec<i64>,
    /// Users per item.
    pub popularity: Vec<f32>,
    pub(crate) prior: Vec<f32>,
    pub categories: Vec<Option<String>>,
    pub(crate) category_index: Vec<u32>,
    pub main: Rows,
    pub next: Rows,
    pub vectors: Option<Mat>,
    pub texts: Option<Mat>,
}

impl Recommender {
    pub fn new(params: Params, ids: Vec<i64>, popularity: Vec<f32>) -> Recommender {
        let max = popularity.iter().copied().fold(1.0f32, f32::max);
        let prior = popularity
            .iter()
            .map(|p| POPULARITY_TIE_BREAK * p / max)
            .collect();
        let n = ids.len();
        Recommender {
            params,
            ids,
            popularity,
            prior,
            categories: vec![None; n],
            category_index: Vec::new(),
            main: Rows::empty(n),
            next: Rows::empty(n),
            vectors: None,
            texts: None,
        }
    }

    pub fn n(&self) -> usize {
        self.ids.len()
    }

    /// Sets the items' categories (one per item, in index order).
    pub fn set_categories(&mut self, categories: Vec<Option<String>>) {
        let mut names: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let index = categories
            .iter()
            .map(|c| match c {
                Some(c) => {
                    let next = names.len() as u32;
                    *names.entry(c.as_str()).or_insert(next)
                }
                None => NO_CATEGORY,
            })
            .collect();
        self.category_index = index;
        self.categories = categories;
    }

    /// Installs fitted neighbour lists.
    pub fn set_lists(&mut self, main: Lists, next: Lists) {
        self.main = Rows::from_lists(main);
        self.next = Rows::from_lists(next);
    }
}
