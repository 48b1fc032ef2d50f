//! Loading a stored recommender into a backend, once per name and version.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use persona_rank::recommender::{Mat, Params, Recommender};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::for_each_batch;
use crate::access::{self, Kind};
use crate::errors::{raise, raise_rank_error};
use crate::jsonb::JsonbText;
use crate::spi::Columns;
use crate::sql_text::{quote_ident, quote_literal as literal};

pub(super) struct Loaded {
    pub name: String,
    pub sources: serde_json::Value,
    pub rec: Recommender,
    pub index: HashMap<i64, u32>,
}

impl Loaded {
    pub fn source(&self, key: &str) -> Option<String> {
        self.sources.get(key).and_then(|v| v.as_str()).map(str::to_owned)
    }
    pub fn col(&self, key: &str) -> String {
        quote_ident(&self.source(key).unwrap_or_default())
    }
}

thread_local! {
    static LOADED: RefCell<HashMap<(String, String), Rc<Loaded>>> = RefCell::new(HashMap::new());
}

pub(super) fn model_name(model: Option<&str>) -> String {
    match model {
        Some(m) => m.to_owned(),
        None => crate::spi::first::<String>(
            "find the newest recommender",
            "SELECT name FROM persona.recommender_models ORDER BY created_at DESC, name LIMIT 1",
            &[],
        )
        .unwrap_or_else(|| {
            raise(
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                "no recommender model exists".to_owned(),
                None,
                Some("Train one first with persona.train_recommender()."),
            )
        }),
    }
}

/// A recommender for the functions that read its stored sources (the
/// users' histories): the caller must be able to act as its owner (42501).
pub(super) fn serve(model: Option<&str>, what: &str) -> (Rc<Loaded>, pg_sys::Oid) {
    let name = model_name(model);
    let owner = access::require_use(Kind::Recommender, &name, what);
    (load(Some(&name)), owner)
}

pub(super) fn load(model: Option<&str>) -> Rc<Loaded> {
    let name = model_name(model);
    let head = Spi::get_three_with_args::<String, JsonbText, JsonbText>(
        "SELECT created_at::text, sources, parameters FROM persona.recommender_models WHERE name = $1",
        &[name.as_str().into()],
    );
    let Ok((Some(created), Some(sources), Some(parameters))) = head else {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("recommender model \"{name}\" does not exist"),
            None,
            Some("Train it first with persona.train_recommender()."),
        )
    };
    let key = (name.clone(), created);
    if let Some(l) = LOADED.with(|m| m.borrow().get(&key).cloned()) {
        return l;
    }
    let params = Params::from_json(&parameters.parse("the stored parameters of the recommender")).unwrap_or_else(|e| raise_rank_error(e));
    struct Row {
        id: i64,
        pop: f32,
        cat: Option<String>,
        nb: Vec<i64>,
        nw: Vec<f32>,
        xb: Vec<i64>,
        xw: Vec<f32>,
        emb: Option<Vec<f32>>,
        text: Option<Vec<f32>>,
    }
    let mut rows: Vec<Row> = Vec::new();
    let query = format!(
        "SELECT item_id, popularity, category, neighbours, weights, next_items, next_weights, embedding, text_vec
         FROM persona.recommender_items WHERE model = {} ORDER BY item_id",
        literal(&name)
    );
    for_each_batch(&query, |batch| {
        for r in batch {
            let Ok(Some(id)) = r.get::<i64>(1) else { continue };
            rows.push(Row {
                id,
                pop: r.col::<i64>(2).unwrap_or(0) as f32,
                cat: r.col::<String>(3),
                nb: r.col::<Vec<i64>>(4).unwrap_or_default(),
                nw: r.col::<Vec<f32>>(5).unwrap_or_default(),
                xb: r.col::<Vec<i64>>(6).unwrap_or_default(),
                xw: r.col::<Vec<f32>>(7).unwrap_or_default(),
                emb: r.col::<Vec<f32>>(8),
                text: r.col::<Vec<f32>>(9),
            });
        }
    });
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let index: HashMap<i64, u32> = ids.iter().enumerate().map(|(p, &id)| (id, p as u32)).collect();
    let lists = |f: &dyn Fn(&Row) -> (&Vec<i64>, &Vec<f32>)| -> Vec<Vec<(u32, f32)>> {
        rows.iter()
            .map(|r| {
                let (b, w) = f(r);
                b.iter().zip(w).filter_map(|(id, w)| index.get(id).map(|&j| (j, *w))).collect()
            })
            .collect()
    };
    let main = lists(&|r| (&r.nb, &r.nw));
    let next = lists(&|r| (&r.xb, &r.xw));
    let mut rec = Recommender::new(params, ids, rows.iter().map(|r| r.pop).collect());
    rec.vectors = Mat::from_rows(rows.iter().map(|r| r.emb.as_deref()));
    rec.texts = Mat::from_rows(rows.iter().map(|r| r.text.as_deref()));
    rec.set_categories(rows.iter().map(|r| r.cat.clone()).collect());
    rec.set_lists(main, next);
    let sources = sources.parse("the stored sources of the recommender");
    let l = Rc::new(Loaded { name, sources, rec, index });
    LOADED.with(|m| {
        let mut m = m.borrow_mut();
        m.retain(|k, _| k.0 != key.0);
        m.insert(key, l.clone());
    });
    l
}
