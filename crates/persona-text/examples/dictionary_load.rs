//! How much the first Chinese text costs: the time to build jieba's
//! dictionary and the resident memory it adds, read from /proc (Linux).
//!
//! `cargo run --release -p persona-text --example dictionary_load [TEXT...]`
//! prints the figures, then the words of each TEXT given.

use std::time::Instant;

/// This process's resident set size in KiB, from /proc/self/status.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let before = rss_kib();
    let started = Instant::now();
    let english = persona_text::words("Fast delivery, great quality");
    let english_took = started.elapsed();
    let after_english = rss_kib();
    let started = Instant::now();
    let chinese = persona_text::words("物流很快，质量很好");
    let first_took = started.elapsed();
    let after_chinese = rss_kib();
    let started = Instant::now();
    let again = persona_text::words("客服态度很好，快递也很快");
    let second_took = started.elapsed();
    println!("English text:       {english_took:?} {english:?}");
    println!("first Chinese text: {first_took:?} {chinese:?}");
    println!("next Chinese text:  {second_took:?} {again:?}");
    match (before, after_english, after_chinese) {
        (Some(b), Some(e), Some(c)) => {
            println!("RSS: {b} KiB at start, {e} KiB after English, {c} KiB after the first Chinese text (+{} KiB)", c.saturating_sub(e));
        }
        _ => println!("RSS: /proc/self/status not readable here"),
    }
    for text in std::env::args().skip(1) {
        println!("{text} -> {:?}", persona_text::words(&text));
    }
}
