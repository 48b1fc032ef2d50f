use super::*;

fn segment(id: i32, label: &str, size: i64, share: f64) -> Segment {
    Segment {
        id,
        label: label.to_owned(),
        size,
        share,
        lifts: vec![("frequency".to_owned(), Some(2.0)), ("monetary".to_owned(), None)],
        top_categories: vec!["Dresses".to_owned()],
        words: vec!["silk".to_owned(), "<script>".to_owned()],
        exemplar: Some(id as i64 * 10),
    }
}

fn report() -> Report {
    Report {
        model: "shop".to_owned(),
        version: 2,
        k: 3,
        rows: 300,
        metric: "cosine".to_owned(),
        silhouette: Some(0.41),
        training_mode: "in_memory".to_owned(),
        created_at: "2026-11-29 12:00".to_owned(),
        profiles: Some("shop".to_owned()),
        segments: vec![segment(1, "premium · Dresses", 200, 0.66), segment(2, "budget & \"deals\"", 95, 0.32)],
        hidden_segments: 1,
        k_anonymity_floor: 10,
        map: Some(Map {
            points: vec![Point { x: 0.0, y: 1.0, segment: 1 }, Point { x: -1.0, y: 0.5, segment: 2 }],
            centroids: vec![Point { x: 0.1, y: 0.9, segment: 1 }],
            explained_variance_ratio: [0.5, 0.2],
            population: 300,
        }),
        recommendations: Some(vec![ExemplarRecommendations {
            segment: 1,
            user_id: 10,
            items: vec![Recommendation { item_id: 7, score: 0.9, reason: "bought with <b>".to_owned() }],
        }]),
        risks: vec![Risk { user_id: 99, segment: 2, anomaly_score: 8.5, distance: 0.7, reasons: None }],
        soft: None,
        lang: Lang::En,
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn every_section_is_there_with_one_element_per_segment() {
    let html = render(&report());
    for id in ["sizes", "map", "traits", "words", "recommendations", "risks"] {
        assert_eq!(count(&html, &format!("<section id=\"{id}\">")), 1, "{id}");
    }
    assert_eq!(count(&html, "class=\"bar\""), 2);
    assert_eq!(count(&html, "class=\"legend-entry\""), 2);
    assert_eq!(count(&html, "class=\"heat-row\""), 2);
    assert_eq!(count(&html, "<circle"), 2);
    assert_eq!(count(&html, "class=\"centroid\""), 1);
    assert_eq!(count(&html, "class=\"risk\""), 1);
    assert!(html.contains("1 segment(s) smaller than the k-anonymity floor (10 users"));
    assert!(html.contains("(50% and 20% of the variance)"));
}

#[test]
fn text_from_the_data_is_escaped_and_nothing_is_fetched() {
    let html = render(&report());
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("budget &amp; &quot;deals&quot;"));
    assert!(html.contains("bought with &lt;b&gt;"));
    // Self-contained: no script, stylesheet or image from anywhere.
    assert!(!html.contains("src="));
    assert!(!html.contains("<link"));
    assert!(!html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").contains("http"));
}

#[test]
fn missing_parts_say_so() {
    let mut r = report();
    r.map = None;
    r.recommendations = None;
    r.risks.clear();
    for s in &mut r.segments {
        s.lifts.iter_mut().for_each(|l| l.1 = None);
    }
    let html = render(&r);
    assert!(html.contains("No vectors to draw."));
    assert!(html.contains("run <code>persona.recommend_all()</code>"));
    assert!(html.contains("No user scores 3 or more."));
    assert!(html.contains("No traits: this model was not trained on profiles."));
    r.segments.clear();
    assert!(render(&r).contains("No segment to show."));
}

#[test]
fn colours_are_stable_per_segment() {
    assert_eq!(colour(0), colour(20));
    assert_ne!(colour(0), colour(1));
    assert_eq!(colour(-1), colour(19));
}

#[test]
fn languages_parse_and_unknown_ones_do_not() {
    assert_eq!(Lang::parse("en"), Some(Lang::En));
    assert_eq!(Lang::parse(" ZH "), Some(Lang::Zh));
    assert_eq!(Lang::parse("zh_CN"), Some(Lang::Zh));
    assert_eq!(Lang::parse("zh-Hans"), Some(Lang::Zh));
    assert_eq!(Lang::parse("fr"), None);
    assert_eq!(Lang::parse(""), None);
    assert_eq!(Lang::default(), Lang::En);
}

#[test]
fn a_chinese_report_has_chinese_labels_and_the_data_as_it_is() {
    let mut r = report();
    r.lang = Lang::Zh;
    r.segments[0].words = vec!["质量".to_owned(), "物流".to_owned()];
    let html = render(&r);
    assert!(html.contains("<html lang=\"zh-Hans\">"));
    for label in ["分群规模", "用户分布图", "各分群的特征", "各分群的与众不同之处", "各分群典型用户的推荐", "高风险用户", "代表性词语", "第一主成分", "购买频次"] {
        assert!(html.contains(label), "{label}");
    }
    assert!(html.contains("<span class=\"chip\">质量</span><span class=\"chip\">物流</span>"));
    assert!(html.contains("另有 1 个分群小于 k-匿名下限（10 位用户"));
    assert!(html.contains("（分别解释 50% 和 20% 的方差）"));
    // The words persona's SQL puts into labels are translated, category names
    // (data) are not, and an unknown trait keeps its own name.
    assert!(html.contains("高端 · Dresses"));
    assert!(html.contains(">monetary<") || html.contains(">消费金额<"));
    // Every section is still there once; none of the English headings is.
    for id in ["sizes", "map", "traits", "words", "recommendations", "risks"] {
        assert_eq!(count(&html, &format!("<section id=\"{id}\">")), 1, "{id}");
    }
    for english in ["Segment sizes", "Map of users", "Top risks", "distinctive words", "principal component", "users in"] {
        assert!(!html.contains(english), "{english}");
    }
    assert!(html.contains("&lt;script&gt;"), "data is escaped in Chinese too");
}

#[test]
fn the_english_report_has_no_chinese_label() {
    let html = render(&report());
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Segment sizes"));
    assert!(!html.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
}

#[test]
fn label_words_and_reasons_are_translated_and_anything_else_kept() {
    let zh = Lang::Zh.labels();
    assert_eq!(zh.segment_label("budget · 图书 · active"), "低价 · 图书 · 活跃");
    assert_eq!(zh.segment_label("数码电子 · at risk (3)"), "数码电子 · 流失风险 (3)");
    assert_eq!(zh.segment_label("budget-ish · lapsed"), "budget-ish · 已流失");
    assert_eq!(zh.segment_label(""), "");
    assert_eq!(zh.reason("related to item 861 in your history"), "与您买过的商品 861 相关");
    assert_eq!(zh.reason("often comes after item 5 in your history"), "常在商品 5 之后购买");
    assert_eq!(zh.reason("popular in your segment 2"), "在您的分群 2 中热门");
    assert_eq!(zh.reason("popular overall"), "全站热门");
    assert_eq!(zh.reason("related to item  in your history"), "related to item  in your history");
    assert_eq!(zh.reason("bought with <b>"), "bought with <b>");
    let en = Lang::En.labels();
    assert_eq!(en.segment_label("budget · Dresses · active"), "budget · Dresses · active");
    assert_eq!(en.reason("popular overall"), "popular overall");
    let mut r = report();
    r.lang = Lang::Zh;
    r.recommendations.as_mut().unwrap()[0].items[0].reason = "popular overall".to_owned();
    assert!(render(&r).contains("全站热门"));
}

#[test]
fn risks_with_reasons_show_the_reasons_escaped() {
    let mut r = report();
    r.risks = vec![Risk {
        user_id: 7,
        segment: 1,
        anomaly_score: 7.56,
        distance: 0.0,
        reasons: Some("480 views, no cart or purchase; <b>same</b> sequence as 97 other accounts".to_owned()),
    }];
    let html = render(&r);
    assert_eq!(count(&html, "class=\"risk\""), 1);
    assert!(html.contains("persona.score_risks"));
    assert!(html.contains("<th>reasons</th>"));
    assert!(html.contains("&lt;b&gt;same&lt;/b&gt; sequence as 97 other accounts"));
    assert!(!html.contains("<th>distance</th>"));
}

#[test]
fn a_mixture_shows_the_users_between_two_segments() {
    let mut r = report();
    assert_eq!(count(&render(&r), "<section id=\"soft\">"), 0);
    r.soft = Some(vec![SoftPair { segment: 1, second: 2, users: 40, mean_second: 0.31 }]);
    let html = render(&r);
    assert_eq!(count(&html, "<section id=\"soft\">"), 1);
    assert_eq!(count(&html, "class=\"soft\""), 1);
    assert!(html.contains("<td class=\"num\">40</td><td class=\"num\">0.31</td>"));
    r.soft = Some(Vec::new());
    assert!(render(&r).contains("Every user is in one segment"));
}
