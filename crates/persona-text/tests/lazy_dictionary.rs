//! The dictionary is built only for text with Han characters. Alone in its
//! test binary, so no other test has built it first: the check is on this
//! process's resident memory, which building the dictionary raises by tens
//! of megabytes.

/// Resident set size in KiB (Linux); None elsewhere.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn english_never_builds_the_dictionary_and_chinese_does() {
    let Some(start) = rss_kib() else {
        eprintln!("no /proc/self/status: skipped");
        return;
    };
    for _ in 0..100 {
        let w = persona_text::words("Fast delivery, great quality; カタカナ 한국어 😀 ＦＵＬＬ");
        assert_eq!(w.len(), 7);
    }
    let after_english = rss_kib().unwrap_or(start);
    assert!(after_english < start + 4 * 1024, "English text grew RSS from {start} to {after_english} KiB");
    assert_eq!(persona_text::words("物流很快"), ["物流", "很快"]);
    let after_chinese = rss_kib().unwrap_or(after_english);
    assert!(
        after_chinese > after_english + 8 * 1024,
        "the dictionary should have been built now: RSS {after_english} -> {after_chinese} KiB"
    );
}
