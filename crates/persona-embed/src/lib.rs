//! Sentence embeddings from a BERT-family model on a local directory.
//!
//! This crate is the model half of `persona.embed()`: it loads a
//! sentence-transformers style directory (`config.json`, `tokenizer.json`,
//! `model.safetensors`, optionally `sentence_bert_config.json`), tokenizes
//! with the model's own tokenizer truncated to the model's limit, runs the
//! transformer with candle on the CPU, mean-pools over real (non-padding)
//! tokens and L2-normalises, exactly as sentence-transformers does.
//!
//! It never touches Postgres and never reaches the network. Threading is the
//! caller's business: every parallel operation runs on the rayon pool that is
//! current when a method is called, so the SQL layer can run it inside a pool
//! whose threads were started with signals blocked.

mod batching;
mod bert;
mod e5;
mod encoder;
mod error;
mod int8;
pub mod kernels;
mod q4;

pub use batching::{plan_batches, MAX_BATCH_TOKENS};
pub use bert::{Bert, BertConfig, WeightFormat};
pub use encoder::{ModelInfo, SentenceEncoder, TokenizedText};
pub use error::ModelError;
