//! Splitting text into the words that are counted (segment explanations,
//! `persona.tokenize`), whatever the script.
//!
//! Chinese has no spaces between words, so splitting on non-alphanumeric
//! characters made whole sentences into "words". Text is therefore cut into
//! runs of one script first: runs of Han characters go to jieba's dictionary
//! segmenter, everything else is split as before.

use std::sync::LazyLock;

use jieba_rs::Jieba;

use crate::stopwords::is_stop_word;
use crate::CALLBACK_EVERY;

/// Shortest word kept outside Han runs, in characters: shorter ones are
/// mostly articles, prepositions and numbers.
pub const MIN_WORD_CHARS: usize = 3;

/// Shortest word kept from a Han run, in characters: a single character is
/// mostly a particle or function word (的, 了, 很), and the content it does
/// carry is ambiguous without its neighbours.
pub const MIN_HAN_WORD_CHARS: usize = 2;

/// Jieba with its embedded dictionary, built on first use only: building it
/// parses the whole dictionary, which English-only callers never need.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Whether a character is a Han ideograph: the unified ideographs with their
/// extensions A to H, and the compatibility ideographs (which NFKC folds into
/// unified ones, but a caller may pass text that was never cleaned). Kana,
/// hangul, bopomofo and CJK punctuation are not.
pub(crate) fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}'
    )
}

/// The words of a text, in order, repeats kept, as the segment explanations
/// count them:
///
/// * Runs of Han characters (Chinese, simplified or traditional, and the
///   kanji of Japanese) are segmented by jieba with its default dictionary;
///   words of at least [`MIN_HAN_WORD_CHARS`] characters are kept.
/// * Everything else is split on non-alphanumeric characters and lowercased;
///   pieces of at least [`MIN_WORD_CHARS`] characters are kept. Kana and
///   hangul fall here: Korean puts spaces between words, and kana runs are
///   mostly inflections that a Chinese dictionary would not know anyway.
/// * Stop words (English and Chinese, see [`crate::is_stop_word`]) are
///   dropped.
///
/// Text without Han characters gives exactly what splitting the whole text
/// on non-alphanumeric characters gave before Chinese was segmented, and
/// never loads the dictionary. Any input is fine; nothing here panics.
pub fn words(text: &str) -> Vec<String> {
    words_with(text, &|| {})
}

/// [`words`], calling `between` about every [`CALLBACK_EVERY`] bytes of
/// input, where a caller can check for cancellation (by unwinding out of the
/// callback).
pub fn words_with(text: &str, between: &dyn Fn()) -> Vec<String> {
    let mut pace = Pace { between, pending: 0 };
    let mut out = Vec::new();
    for (han, run) in script_runs(text) {
        if han {
            // A Han run longer than CALLBACK_EVERY is segmented in pieces, so
            // that the callback still comes often and jieba's working memory
            // stays small. Only pathological text has a run that long
            // (Chinese punctuation ends a Han run); the word at each cut may
            // be split, which costs nothing that matters there.
            for piece in pieces(run, CALLBACK_EVERY) {
                han_words(piece, &mut out);
                pace.done(piece.len());
            }
        } else {
            // Never cut: a cut inside a word would change the words.
            other_words(run, &mut out, &mut pace);
        }
    }
    out
}

/// Calls `between` once for each [`CALLBACK_EVERY`] bytes done, however the
/// work comes in: a whole Han piece at once, or a word at a time.
struct Pace<'a> {
    between: &'a dyn Fn(),
    /// Bytes done since the last call.
    pending: usize,
}

impl Pace<'_> {
    fn done(&mut self, bytes: usize) {
        self.pending += bytes;
        while self.pending >= CALLBACK_EVERY {
            self.pending -= CALLBACK_EVERY;
            (self.between)();
        }
    }
}

/// Jieba's words of a run of Han characters that are worth counting.
fn han_words(run: &str, out: &mut Vec<String>) {
    // `cut` with the HMM rather than `cut_for_search`: search mode adds the
    // shorter dictionary words inside each long one (中华人民共和国 also as
    // 中华, 华人, 人民, 共和, 共和国), which would count one mention many
    // times and rank fragments beside the whole word. The HMM joins
    // characters the dictionary does not know (new brands, product names,
    // slang) into words instead of leaving single characters, which would be
    // dropped.
    for token in JIEBA.cut(run, true) {
        let word = token.word;
        if word.chars().count() >= MIN_HAN_WORD_CHARS && !is_stop_word(word) {
            out.push(word.to_owned());
        }
    }
}

/// The words of a run without Han characters, as they were always counted.
fn other_words(run: &str, out: &mut Vec<String>, pace: &mut Pace<'_>) {
    // Bytes of `run` already reported to `pace`.
    let mut reported = 0;
    // The order matters for identical output: length on the original, then
    // lowercase (which can change the length: İ becomes two characters),
    // then the stop-word check on the lowercase form.
    for piece in run.split(|c: char| !c.is_alphanumeric()) {
        // `split` hands out subslices of `run`, so the distance between their
        // starts is where the piece is.
        let end = piece.as_ptr() as usize - run.as_ptr() as usize + piece.len();
        pace.done(end - reported);
        reported = end;
        if piece.chars().count() >= MIN_WORD_CHARS {
            let word = piece.to_lowercase();
            if !is_stop_word(&word) {
                out.push(word);
            }
        }
    }
}

/// Maximal runs of Han and of other characters, in order, each with whether
/// it is Han; none is empty.
fn script_runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let han = is_han(first);
        let end = rest.find(|c: char| is_han(c) != han).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some((han, run))
    })
}

/// `run` in consecutive pieces of at most `max` bytes (at least one
/// character each, so a piece may be longer when `max` is under four),
/// cut at character boundaries.
fn pieces(run: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = run;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = max.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests;
