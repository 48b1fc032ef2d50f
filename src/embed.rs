//! `persona.embed()` and `persona.embed_batch()`: text to vectors.
//!
//! Texts are tokenized, grouped into batches of similar length (see
//! `persona_embed::plan_batches`), and each batch runs on the inference pool.
//! Between batches the backend checks for interrupts, so a cancel or
//! `statement_timeout` stops a long call within one batch. With persona
//! preloaded, the embedder worker (`crate::embedder`) does the work for
//! every session from one copy of each model.

use persona_embed::{plan_batches, SentenceEncoder, TokenizedText, MAX_BATCH_TOKENS};
use pgrx::prelude::*;

use crate::errors::raise_model_error;
use crate::models;
use crate::runtime::run_on_pool;

/// Texts tokenized between two interrupt checks.
const TOKENIZE_SLICE: usize = 256;

/// Embeds `texts` with the named (or default) model; NULL texts give NULL.
/// Results are in input order. With the embedder worker running (persona
/// preloaded) the worker embeds them; otherwise, or for what it cannot take,
/// this backend does, with its own copy of the model.
pub fn embed_texts(model: Option<&str>, texts: &[Option<&str>]) -> Vec<Option<Vec<f32>>> {
    let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
    let present: Vec<(usize, &str)> = texts.iter().enumerate().filter_map(|(i, t)| t.map(|t| (i, t))).collect();
    if present.is_empty() {
        return out;
    }
    let model = models::registration(model);
    let left = crate::embedder::client::embed(&model, &present, &mut out);
    if !left.is_empty() {
        let present: Vec<(usize, &str)> = left.iter().map(|&k| present[k]).collect();
        embed_here(&model, &present, &mut out);
    }
    check_for_interrupts!();
    out
}

/// Embeds in this backend: tokenized a slice at a time with an interrupt
/// check between (long texts of a windowed model take milliseconds each),
/// then batched by length.
fn embed_here(model: &models::Registration, present: &[(usize, &str)], out: &mut [Option<Vec<f32>>]) {
    let encoder = models::encoder(model);
    let encoder: &SentenceEncoder = &encoder;
    let name = &model.name;
    let prefix = &model.prefix;
    let mut tokens: Vec<TokenizedText> = Vec::with_capacity(present.len());
    for slice in present.chunks(TOKENIZE_SLICE) {
        check_for_interrupts!();
        let done = run_on_pool(|| slice.iter().map(|(_, t)| encoder.tokenize_with(prefix, t)).collect::<Result<Vec<_>, _>>())
            .unwrap_or_else(|e| raise_model_error(name, e));
        tokens.extend(done);
    }
    let lengths: Vec<usize> = tokens.iter().map(TokenizedText::len).collect();

    for positions in plan_batches(&lengths, crate::gucs::batch_size(), MAX_BATCH_TOKENS) {
        check_for_interrupts!();
        let batch: Vec<&TokenizedText> = positions.iter().map(|&p| &tokens[p]).collect();
        let vectors = run_on_pool(|| encoder.encode_batch(&batch)).unwrap_or_else(|e| raise_model_error(name, e));
        for (&p, v) in positions.iter().zip(vectors) {
            out[present[p].0] = Some(v);
        }
    }
}

/// Sentence embedding of one text.
#[pg_extern(stable, parallel_safe, cost = 10000)]
fn embed(input: Option<&str>, model: default!(Option<&str>, "NULL")) -> Option<Vec<f32>> {
    let input = input?;
    embed_texts(model, &[Some(input)]).pop().flatten()
}

/// Sentence embeddings of many texts, one row per input element in order.
#[pg_extern(stable, parallel_safe, cost = 10000)]
fn embed_batch(
    inputs: Option<Array<'_, &str>>,
    model: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(ord, i32), name!(embedding, Option<Vec<f32>>))> {
    let Some(inputs) = inputs else {
        return TableIterator::new(Vec::new());
    };
    let texts: Vec<Option<&str>> = inputs.iter().collect();
    let vectors = embed_texts(model, &texts);
    TableIterator::new(vectors.into_iter().enumerate().map(|(i, v)| (i as i32 + 1, v)).collect::<Vec<_>>())
}
