//! Text preprocessing in SQL.

use pgrx::prelude::*;

/// Strips HTML and control characters, applies Unicode NFKC and collapses
/// white space. NULL stays NULL (the function is strict).
#[pg_extern(immutable, strict, parallel_safe)]
fn clean_text(input: &str) -> String {
    persona_text::clean_text(input)
}
