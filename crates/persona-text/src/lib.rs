//! Cleaning of user-written text (reviews, search queries) before it is
//! embedded or counted.
//!
//! [`clean_text`] removes HTML tags and decodes the common entities, drops
//! control and invisible format characters, applies Unicode NFKC (so that
//! full-width CJK letters and digits become their usual forms, ligatures split,
//! compatibility characters fold), and collapses white space.

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
            let name = &after[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16).ok().and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
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

/// Cleans one text: HTML, entities, invisible characters, NFKC, white space.
pub fn clean_text(s: &str) -> String {
    let s = if s.contains('<') { strip_tags(s) } else { s.to_owned() };
    let s = if s.contains('&') { decode_entities(&s) } else { s };
    let normalized: String = s.nfkc().filter(|&c| !is_invisible(c)).collect();
    normalized.split_whitespace().collect::<Vec<_>>().join(" ")
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
}
