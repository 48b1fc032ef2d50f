//! Embeds a file of texts and writes the vectors, for quality benchmarks
//! (bench/text_quality.sh) that score them outside Postgres:
//!   cargo run --release -p persona-embed --example embed_lines -- MODEL TEXTS OUT [PREFIX]
//! MODEL is a sentence-transformers directory (exact fp32) or a 4-bit
//! multilingual-e5 file (Q4); which one is decided by what the path is, so
//! the caller never names a format. TEXTS has one JSON string per line
//! (escaping keeps newlines inside a review from splitting it; a line that
//! is not valid JSON is taken as plain text). PREFIX goes before every text
//! (e5 wants "query: " for texts used as features).
//! OUT gets n x dimension little-endian f32, row-major, in input order.
//! One line on stdout, `rate texts=N tokens=T seconds=S texts_per_s=R dim=D`,
//! times tokenize + forward only: loading and reading files are excluded,
//! as they are paid once per model, not per text.
//! Runs on rayon's global pool (all cores unless RAYON_NUM_THREADS says otherwise).
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use persona_embed::{SentenceEncoder, WeightFormat};

/// The batch size persona's SQL functions use.
const BATCH: usize = 32;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: embed_lines MODEL TEXTS OUT [PREFIX]".into());
    }
    let (model, texts_path, out_path) = (Path::new(&args[1]), &args[2], &args[3]);
    let prefix = args.get(4).map(String::as_str).unwrap_or("");

    let enc = if model.is_file() {
        SentenceEncoder::load_with(model, WeightFormat::Q4)?
    } else {
        SentenceEncoder::load(model)?
    };
    let raw = std::fs::read_to_string(texts_path)?;
    let texts: Vec<String> = raw
        .lines()
        .map(|l| serde_json::from_str::<String>(l).unwrap_or_else(|_| l.to_owned()))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Token count for the record only (it tells short from long texts across
    // data sets); computed before the clock starts so it does not count.
    let tokens: usize = refs.iter().map(|t| enc.tokenize_with(prefix, t).map(|t| t.len()).unwrap_or(0)).sum();

    let start = Instant::now();
    // PERSONA_EMBED_BATCH=1 measures one text per forward pass, as a per-row
    // `persona.embed()` runs.
    let batch = std::env::var("PERSONA_EMBED_BATCH").ok().and_then(|b| b.parse().ok()).unwrap_or(BATCH);
    let vectors = enc.embed_with(prefix, &refs, batch)?;
    let secs = start.elapsed().as_secs_f64();

    let dim = enc.info().dimension;
    let mut out = std::io::BufWriter::new(std::fs::File::create(out_path)?);
    for v in &vectors {
        if v.len() != dim {
            return Err(format!("vector of length {} where {dim} was expected", v.len()).into());
        }
        for x in v {
            out.write_all(&x.to_le_bytes())?;
        }
    }
    out.flush()?;
    println!(
        "rate texts={} tokens={tokens} seconds={secs:.3} texts_per_s={:.1} dim={dim}",
        vectors.len(),
        vectors.len() as f64 / secs
    );
    Ok(())
}
