//! Text preprocessing in SQL.

use pgrx::prelude::*;

/// Strips HTML and control characters, applies Unicode NFKC and collapses
/// white space. NULL stays NULL (the function is strict).
#[pg_extern(immutable, strict, parallel_safe)]
fn clean_text(input: &str) -> String {
    // A field can be up to 1 GB: cancel and statement_timeout are honoured
    // every 64 KB of it (the interrupt check raises the ERROR from there).
    persona_text::clean_text_with(input, &|| {
        check_for_interrupts!();
    })
}

/// The words of a text, in order, repeats kept: the same words the segment
/// explanations count (Chinese segmented by jieba, other text split on
/// non-alphanumeric characters, stop words dropped). NULL stays NULL.
#[pg_extern(immutable, strict, parallel_safe)]
fn tokenize(input: &str) -> Vec<String> {
    // As for clean_text: interrupts are checked every 64 KB of the input.
    persona_text::words_with(input, &|| {
        check_for_interrupts!();
    })
}
