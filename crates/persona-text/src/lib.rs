//! Cleaning of user-written text (reviews, search queries) before it is
//! embedded or counted, and splitting it into the words that are counted.
//!
//! [`clean_text`] removes HTML tags and decodes the common entities, drops
//! control and invisible format characters, applies Unicode NFKC (so that
//! full-width CJK letters and digits become their usual forms, ligatures split,
//! compatibility characters fold), and collapses white space.
//!
//! Every stage is linear in the input, whatever its shape: a field is user
//! input, and a quadratic search (a `<` or `&` that opens nothing, rescanning
//! the rest for its end) let one 1 MB value hold a backend for most of a
//! minute. [`clean_text_with`] also calls back every [`CALLBACK_EVERY`] bytes
//! or characters, so a caller can check for cancellation on big fields.
//!
//! [`words`] splits a text into words by script: Chinese with jieba's
//! dictionary, everything else on non-alphanumeric characters, stop words
//! ([`is_stop_word`]) dropped.

use std::borrow::Cow;

mod stopwords;
mod words;

pub use stopwords::is_stop_word;
pub use words::{words, words_with, MIN_HAN_WORD_CHARS, MIN_WORD_CHARS};

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Input bytes (or normalised characters) between two calls of the callback
/// of [`clean_text_with`]: at well over 100 MB/s per stage, far below a
/// millisecond of work.
pub const CALLBACK_EVERY: usize = 64 * 1024;

/// Calls `between` each time the work done passes another [`CALLBACK_EVERY`].
struct Ticker<'a> {
    between: &'a dyn Fn(),
    next: usize,
}

impl<'a> Ticker<'a> {
    fn new(between: &'a dyn Fn()) -> Self {
        Ticker { between, next: CALLBACK_EVERY }
    }

    fn at(&mut self, done: usize) {
        if done >= self.next {
            (self.between)();
            self.next = done + CALLBACK_EVERY;
        }
    }
}

/// The first occurrence of a needle at or after a position, remembered, so
/// that asking again from a later position only rescans when the position
/// has passed the remembered hit. Callers ask with non-decreasing
/// positions, so the scanned ranges never overlap: linear in total.
struct NextMatch {
    /// The last search started here...
    from: usize,
    /// ...and found this (None: nothing from `from` to the end).
    at: Option<usize>,
    searched: bool,
}

impl NextMatch {
    fn new() -> Self {
        NextMatch { from: 0, at: None, searched: false }
    }

    fn find(&mut self, q: usize, mut search: impl FnMut(usize) -> Option<usize>) -> Option<usize> {
        let still_valid = self.searched && q >= self.from && self.at.is_none_or(|a| a >= q);
        if !still_valid {
            self.from = q;
            self.at = search(q);
            self.searched = true;
        }
        self.at
    }
}

/// The first `</name` at or after `from`, ASCII case-insensitive (as a
/// search in a lowercased copy would find it, without the copy). The needle
/// starts with `<`, which occurs nowhere else in it, so a failed comparison
/// resumes at the next `<`: linear.
fn find_close(s: &str, from: usize, name: &str, tick: &mut Ticker<'_>) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut at = from;
    while let Some(off) = s[at..].find('<') {
        let start = at + off;
        tick.at(start);
        let tail = &bytes[start + 1..];
        if tail.first() == Some(&b'/')
            && tail.len() > name.len()
            && tail[1..=name.len()].eq_ignore_ascii_case(name.as_bytes())
        {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// Removes `<...>` tags; `<script>` and `<style>` lose their content too.
fn strip_tags(s: &str, tick: &mut Ticker<'_>) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    // Text from `keep` on is copied as it is once the next tag is found; a
    // '<' that opens no tag stays in it.
    let mut keep = 0;
    let mut pos = 0;
    let mut next_gt = NextMatch::new();
    let mut next_close = [NextMatch::new(), NextMatch::new()];
    while let Some(off) = s[pos..].find('<') {
        let start = pos + off;
        tick.at(start);
        // Only treat it as a tag if it looks like one: "<a", "</a", "<!", "<?".
        let looks_like_tag = bytes
            .get(start + 1)
            .is_some_and(|&c| c.is_ascii_alphabetic() || matches!(c, b'/' | b'!' | b'?'));
        let end = if looks_like_tag {
            next_gt.find(start + 1, |q| s[q..].find('>').map(|i| q + i))
        } else {
            None
        };
        match end {
            Some(end) => {
                out.push_str(&s[keep..start]);
                let inner = &s[start + 1..end];
                let closing = inner.starts_with('/');
                let trimmed = inner.trim_start_matches('/');
                let name_len = trimmed.bytes().take_while(u8::is_ascii_alphanumeric).count();
                let name = &trimmed[..name_len];
                pos = end + 1;
                if !closing {
                    let raw = if name.eq_ignore_ascii_case("script") {
                        Some(("script", 0))
                    } else if name.eq_ignore_ascii_case("style") {
                        Some(("style", 1))
                    } else {
                        None
                    };
                    if let Some((name, which)) = raw {
                        pos = next_close[which]
                            .find(pos, |q| find_close(s, q, name, tick))
                            .unwrap_or(s.len());
                    }
                }
                // A tag separates words: "<p>a</p><p>b</p>" is "a b".
                out.push(' ');
                keep = pos;
            }
            None => pos = start + 1,
        }
    }
    out.push_str(&s[keep..]);
    out
}

/// The character an HTML entity's name (between `&` and `;`) stands for.
fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ if name.starts_with("#x") || name.starts_with("#X") => u32::from_str_radix(&name[2..], 16).ok().and_then(char::from_u32),
        _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
        _ => None,
    }
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#39;`, `&nbsp;` and numeric entities.
fn decode_entities(s: &str, tick: &mut Ticker<'_>) -> String {
    /// An entity's `;` is at most this many bytes after its `&`.
    const LONGEST: usize = 10;
    let mut out = String::with_capacity(s.len());
    // As in strip_tags: a '&' that starts no entity stays in the text from `keep`.
    let mut keep = 0;
    let mut pos = 0;
    while let Some(off) = s[pos..].find('&') {
        let start = pos + off;
        tick.at(start);
        let after = &s[start..];
        // Look no further than an entity can reach: searching the whole rest
        // for a `;` made every lone `&` cost the length of the text.
        let window = &after.as_bytes()[..after.len().min(LONGEST + 1)];
        let end = window.iter().position(|&b| b == b';');
        let decoded = end.and_then(|e| {
            entity(&after[1..e]).map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push_str(&s[keep..start]);
                out.push(c);
                pos = start + e + 1;
                keep = pos;
            }
            None => pos = start + 1,
        }
    }
    out.push_str(&s[keep..]);
    out
}

/// Control characters and invisible format characters (zero-width space,
/// joiners, BOM, bidi marks) carry no meaning for a model.
fn is_invisible(c: char) -> bool {
    (c.is_control() && !c.is_whitespace())
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

/// Cleans one text: HTML, entities, invisible characters, NFKC, white space.
pub fn clean_text(s: &str) -> String {
    clean_text_with(s, &|| {})
}

/// [`clean_text`], calling `between` about every [`CALLBACK_EVERY`] bytes of
/// each stage, where a caller can check for cancellation (by unwinding out
/// of the callback).
pub fn clean_text_with(s: &str, between: &dyn Fn()) -> String {
    let mut tick = Ticker::new(between);
    let s: Cow<'_, str> = if s.contains('<') { Cow::Owned(strip_tags(s, &mut tick)) } else { Cow::Borrowed(s) };
    let mut tick = Ticker::new(between);
    let s: Cow<'_, str> = if s.contains('&') { Cow::Owned(decode_entities(&s, &mut tick)) } else { s };
    let mut tick = Ticker::new(between);
    // Most text is NFKC already (ASCII always is), and the quick check costs
    // a twentieth of normalising.
    if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        collapse(s.chars(), s.len(), &mut tick)
    } else {
        collapse(s.nfkc(), s.len(), &mut tick)
    }
}

/// Drops invisible characters and turns white space runs into one space,
/// none at either end (what `split_whitespace().join(" ")` gives), in one pass.
fn collapse(chars: impl Iterator<Item = char>, capacity: usize, tick: &mut Ticker<'_>) -> String {
    let mut out = String::with_capacity(capacity);
    let mut space = false;
    let mut done = 0;
    for c in chars {
        done += c.len_utf8();
        tick.at(done);
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean_text;

    #[test]
    fn html_is_removed_and_entities_decoded() {
        assert_eq!(clean_text("<p>Great <b>dress</b> &amp; cheap</p>"), "Great dress & cheap");
        assert_eq!(clean_text("<p>a</p><p>b</p>"), "a b");
        assert_eq!(clean_text("x<script>alert(1)</script>y"), "x y");
        assert_eq!(clean_text("Tom&#39;s &#x4E2D; &lt;3"), "Tom's 中 <3");
        assert_eq!(clean_text("3 < 5 and a & b"), "3 < 5 and a & b");
        assert_eq!(clean_text("&unknown; &"), "&unknown; &");
    }

    #[test]
    fn full_width_cjk_and_compatibility_forms_are_normalised() {
        assert_eq!(clean_text("ＦＵＬＬ　ｗｉｄｔｈ　１２３"), "FULL width 123");
        assert_eq!(clean_text("ﬁne ｶﾀｶﾅ"), "fine カタカナ");
        assert_eq!(clean_text("这件衣服质量很好"), "这件衣服质量很好");
    }

    #[test]
    fn control_characters_and_white_space() {
        assert_eq!(clean_text("  a\u{0}b\u{7}\tc\r\n\n d\u{200B}e\u{FEFF} "), "ab c de");
        assert_eq!(clean_text(""), "");
        assert_eq!(clean_text(" \n\t "), "");
    }

    /// The implementation before it was made linear, kept to check that the
    /// linear one gives the same output on every shape of input.
    mod reference {
        use unicode_normalization::UnicodeNormalization;

    /// Removes `<...>` tags; `<script>` and `<style>` lose their content too.
    fn strip_tags(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find('<') {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            // Only treat it as a tag if it looks like one: "<a", "</a", "<!", "<?".
            let looks_like_tag = after[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
            match (looks_like_tag, after.find('>')) {
                (true, Some(end)) => {
                    let tag = after[1..end].trim_start_matches('/').to_ascii_lowercase();
                    let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                    rest = &after[end + 1..];
                    if (name == "script" || name == "style") && !after[1..].starts_with('/') {
                        let close = format!("</{name}");
                        match rest.to_ascii_lowercase().find(&close) {
                            Some(i) => rest = &rest[i..],
                            None => rest = "",
                        }
                    }
                    // A tag separates words: "<p>a</p><p>b</p>" is "a b".
                    out.push(' ');
                }
                _ => {
                    out.push('<');
                    rest = &after[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#39;`, `&nbsp;` and numeric entities.
    fn decode_entities(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find('&') {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let end = after.find(';').filter(|&e| e <= 10);
            let decoded = end.and_then(|e| {
                crate::entity(&after[1..e]).map(|c| (c, e))
            });
            match decoded {
                Some((c, e)) => {
                    out.push(c);
                    rest = &after[e + 1..];
                }
                None => {
                    out.push('&');
                    rest = &after[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Control characters and invisible format characters (zero-width space,
    /// joiners, BOM, bidi marks) carry no meaning for a model.
    fn is_invisible(c: char) -> bool {
        (c.is_control() && !c.is_whitespace())
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
    }

    pub fn clean_text(s: &str) -> String {
        let s = if s.contains('<') { strip_tags(s) } else { s.to_owned() };
        let s = if s.contains('&') { decode_entities(&s) } else { s };
        let normalized: String = s.nfkc().filter(|&c| !is_invisible(c)).collect();
        normalized.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    }

    #[test]
    fn same_output_as_the_quadratic_version_on_random_markup() {
        const PIECES: &[&str] = &[
            "<", ">", "/", "&", ";", "#", "x", "4E", "39", "amp", "lt", "nbsp", "a", "b", "p", "script",
            "SCRIPT", "style", "Style", "!", "?", " ", "\t", "\n", "é", "中", "ﬁ", "ｶ", "\u{200B}", "\u{0}",
            "&#", "</", "<!--", "-->", "12345678901",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % n
        };
        for _ in 0..20_000 {
            let len = next(40);
            let s: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
            assert_eq!(clean_text(&s), reference::clean_text(&s), "input {s:?}");
        }
    }

    /// Runs `clean_text_with` on `input`, checking it is quick and calls back
    /// at least once per `CALLBACK_EVERY` bytes.
    fn adversarial(input: &str) -> String {
        let calls = std::cell::Cell::new(0usize);
        let started = std::time::Instant::now();
        let out = super::clean_text_with(input, &|| calls.set(calls.get() + 1));
        let took = started.elapsed();
        // Generous for a debug build: the quadratic version needed hours here.
        assert!(took.as_secs_f64() < 5.0, "{} bytes took {took:?}", input.len());
        assert!(
            calls.get() >= input.len() / super::CALLBACK_EVERY,
            "{} callbacks for {} bytes",
            calls.get(),
            input.len()
        );
        out
    }

    const TEN_MB: usize = 10 * 1024 * 1024;

    #[test]
    fn ten_megabytes_of_lt_is_linear() {
        let input = "<".repeat(TEN_MB);
        assert_eq!(adversarial(&input), input);
        // A '<' that looks like a tag but never closes stays text.
        let input = "<a".repeat(TEN_MB / 2);
        assert_eq!(adversarial(&input), input);
        let input = "</".repeat(TEN_MB / 2);
        assert_eq!(adversarial(&input), input);
    }

    #[test]
    fn ten_megabytes_of_unclosed_script_is_linear() {
        let input = "<script".repeat(TEN_MB / 7);
        assert_eq!(adversarial(&input), input);
        // Opened and closed many times: each close is found once, not by a
        // lowercased copy of the rest per tag.
        let input = "<script>x</SCRIPT>y".repeat(TEN_MB / 19);
        let out = adversarial(&input);
        assert_eq!(out.len(), TEN_MB / 19 * 2 - 1);
        assert!(out.split(' ').all(|w| w == "y"));
        // Opened once, closed never: everything after it is dropped.
        let input = format!("before<style>{}", "<a b".repeat(TEN_MB / 4));
        assert_eq!(adversarial(&input), "before");
        // Tags that each close: linear too.
        let input = "<b>w</b>".repeat(TEN_MB / 8);
        assert_eq!(adversarial(&input).len(), TEN_MB / 8 * 2 - 1);
    }

    #[test]
    fn ten_megabytes_of_ampersands_is_linear() {
        let input = "&".repeat(TEN_MB);
        assert_eq!(adversarial(&input), input);
        let input = "&amp;".repeat(TEN_MB / 5);
        assert_eq!(adversarial(&input), "&".repeat(TEN_MB / 5));
        let input = "&#x4E2D".repeat(TEN_MB / 7);
        assert_eq!(adversarial(&input), input);
        let input = "&#x4E2D;".repeat(TEN_MB / 8);
        assert_eq!(adversarial(&input), "中".repeat(TEN_MB / 8));
    }

    #[test]
    fn ten_megabytes_of_white_space_and_words() {
        let input = " \u{200B}a\t".repeat(TEN_MB / 6);
        let out = adversarial(&input);
        assert_eq!(out.len(), TEN_MB / 6 * 2 - 1);
    }

    #[test]
    fn the_callback_can_stop_the_work() {
        // A caller cancels by unwinding out of the callback (Postgres'
        // interrupt check raises an ERROR that way).
        let input = "<".repeat(TEN_MB);
        let stopped = std::panic::catch_unwind(|| super::clean_text_with(&input, &|| panic!("cancel")));
        assert!(stopped.is_err());
    }
}
