//! Sentences per second of the encoder alone, outside Postgres:
//!   cargo run --release -p persona-embed --example throughput -- MODEL_DIR TEXTS_FILE [BATCH] [fp32|int8]
//! TEXTS_FILE has one text per line.
use std::time::Instant;

use persona_embed::{SentenceEncoder, WeightFormat};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let format = match args.get(4).map(String::as_str) {
        Some("int8") => WeightFormat::Int8,
        _ => WeightFormat::Fp32,
    };
    let enc = SentenceEncoder::load_with(std::path::Path::new(&args[1]), format)?;
    let text = std::fs::read_to_string(&args[2])?;
    let texts: Vec<&str> = text.lines().collect();
    let batch: usize = args.get(3).map(|b| b.parse()).transpose()?.unwrap_or(32);
    let tokens: usize = texts.iter().map(|t| enc.tokenize(t).map(|t| t.len()).unwrap_or(0)).sum();
    let start = Instant::now();
    let out = enc.embed(&texts, batch)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} texts ({} tokens, mean {:.1}) in {:.2} s: {:.1} sentences/s, batch {batch}, {format:?}",
        out.len(),
        tokens,
        tokens as f64 / texts.len() as f64,
        secs,
        texts.len() as f64 / secs
    );
    Ok(())
}
