//! Every word the report itself writes, one table per language, so that a translation
//! is one place to read and no string of one language hides in the rendering code.
//!
//! Templates name their values in braces (`{model}`); `fill` puts them in. Values from
//! the data are escaped by the caller before they go in; the templates are trusted and
//! may hold markup (`<code>`).

/// A language of the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// The names `Lang::parse` accepts, for error messages.
    pub const NAMES: [&'static str; 2] = ["en", "zh"];

    /// `en` or `zh` (case and surrounding blanks ignored; `zh-cn`, `zh-hans` and
    /// `zh_CN` mean `zh`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            "zh" | "zh-cn" | "zh-hans" | "zh-sg" => Some(Lang::Zh),
            _ => None,
        }
    }

    pub(crate) fn labels(self) -> &'static Labels {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }
}

pub(crate) struct Labels {
    pub html_lang: &'static str,
    pub title: &'static str,
    pub header: &'static str,
    pub header_profiles: &'static str,
    pub not_available: &'static str,
    pub hidden_note: &'static str,
    pub sizes_heading: &'static str,
    pub sizes_note: &'static str,
    pub sizes_empty: &'static str,
    pub sizes_aria: &'static str,
    pub bar_title: &'static str,
    pub map_heading: &'static str,
    pub map_note: &'static str,
    pub map_empty: &'static str,
    pub map_aria: &'static str,
    pub map_x_axis: &'static str,
    pub map_y_axis: &'static str,
    pub traits_heading: &'static str,
    pub traits_note: &'static str,
    pub traits_empty: &'static str,
    pub traits_aria: &'static str,
    /// Trait headings as the SQL layer names them, and their translation.
    pub traits: &'static [(&'static str, &'static str)],
    /// The words persona's SQL puts into segment labels (price band,
    /// lifecycle stage), and their translation; other parts of a label
    /// (category names) are data and shown as they are.
    pub label_words: &'static [(&'static str, &'static str)],
    /// The reasons persona's recommender writes, as (English text before the
    /// item or segment, after it, this language's template with `{n}`).
    pub reasons: &'static [(&'static str, &'static str, &'static str)],
    pub words_heading: &'static str,
    pub words_note: &'static str,
    pub col_segment: &'static str,
    pub col_size: &'static str,
    pub col_categories: &'static str,
    pub col_words: &'static str,
    pub none: &'static str,
    pub recs_heading: &'static str,
    pub recs_empty: &'static str,
    pub recs_note: &'static str,
    pub col_user: &'static str,
    pub col_items: &'static str,
    pub item: &'static str,
    pub risks_heading: &'static str,
    pub risks_note: &'static str,
    pub risks_empty: &'static str,
    pub col_rank: &'static str,
    pub col_anomaly: &'static str,
    pub col_distance: &'static str,
    pub risks_scored_note: &'static str,
    pub soft_heading: &'static str,
    pub soft_note: &'static str,
    pub soft_empty: &'static str,
    pub col_second_segment: &'static str,
    pub col_users: &'static str,
    pub col_mean_second: &'static str,
    pub col_risk_score: &'static str,
    pub col_reasons: &'static str,
}

impl Labels {
    /// A segment label with its " · "-separated words translated, and a
    /// trailing " (n)" (added to tell equal labels apart) kept.
    pub fn segment_label(&self, label: &str) -> String {
        if self.label_words.is_empty() {
            return label.to_owned();
        }
        let (body, suffix) = match label.rfind(" (") {
            Some(at) if label.ends_with(')') => label.split_at(at),
            _ => (label, ""),
        };
        let parts: Vec<&str> = body
            .split(" · ")
            .map(|part| self.label_words.iter().find(|(en, _)| *en == part).map_or(part, |(_, t)| t))
            .collect();
        parts.join(" · ") + suffix
    }

    /// A recommendation reason in this language; one it does not know is
    /// shown as it is.
    pub fn reason(&self, reason: &str) -> String {
        for (before, after, template) in self.reasons {
            if !template.contains("{n}") {
                if reason == *before {
                    return (*template).to_owned();
                }
            } else if let Some(n) = reason.strip_prefix(before).and_then(|rest| rest.strip_suffix(after)) {
                if !n.is_empty() {
                    return template.replace("{n}", n);
                }
            }
        }
        reason.to_owned()
    }

    /// A trait's heading in this language; one the table does not know is shown as it is.
    pub fn trait_name<'a>(&self, name: &'a str) -> &'a str {
        self.traits.iter().find(|(en, _)| *en == name).map_or(name, |(_, t)| t)
    }
}

/// Puts `values` into the `{name}` places of `template`.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

static EN: Labels = Labels {
    html_lang: "en",
    title: "persona segments: {model} (version {version})",
    header: "{rows} users in {k} segments · metric {metric} · silhouette {silhouette} · trained {created_at} ({mode}){profiles}",
    header_profiles: " · profiles {profiles}",
    not_available: "n/a",
    hidden_note: " {hidden} segment(s) smaller than the k-anonymity floor ({floor} users, <code>persona.k_anonymity_floor</code>) are not shown.",
    sizes_heading: "Segment sizes",
    sizes_note: "Users per segment and their share of all users.",
    sizes_empty: "No segment to show.",
    sizes_aria: "segment sizes",
    bar_title: "segment {id}: {size} users ({share}%)",
    map_heading: "Map of users",
    map_note: "{shown} users (a sample of {population}, every segment represented) on the first two principal components of their vectors \
               ({pc1}% and {pc2}% of the variance), coloured by segment; crosses mark the centroids.",
    map_empty: "No vectors to draw.",
    map_aria: "map of users",
    map_x_axis: "first principal component",
    map_y_axis: "second principal component",
    traits_heading: "Traits by segment",
    traits_note: "Lift of each trait's segment mean over the whole population (1.0 = average; red above, blue below). \
                  Recency lift above 1 means members bought longer ago.",
    traits_empty: "No traits: this model was not trained on profiles.",
    traits_aria: "trait lift by segment",
    traits: &[],
    label_words: &[],
    reasons: &[],
    words_heading: "What sets each segment apart",
    words_note: "Categories by lift and the words of members' reviews and searches that are distinctive for the segment (class-based TF-IDF).",
    col_segment: "segment",
    col_size: "size",
    col_categories: "top categories",
    col_words: "distinctive words",
    none: "none",
    recs_heading: "Recommendations for an exemplar of each segment",
    recs_empty: "No recommendations computed for these users yet: run <code>persona.recommend_all()</code>.",
    recs_note: "The member nearest each centroid, and the top items in <code>persona.recommendations</code> for them.",
    col_user: "user",
    col_items: "recommended items (score · why)",
    item: "item {id}",
    risks_heading: "Top risks",
    risks_note: "Users who behave unlike anyone else: robust z-score of the distance to their segment's centroid \
                 (members of segments under 1% of users are scored against the nearest larger one).",
    risks_empty: "No user scores 3 or more.",
    col_rank: "#",
    col_anomaly: "anomaly score",
    col_distance: "distance",
    risks_scored_note: "Users by risk score (<code>persona.score_risks</code>): each signal of abuse (bursts of events, views without carts \
                        or purchases, rings of accounts with near-identical sequences, new accounts spending much, refunds) in robust \
                        standard deviations beyond the shop's own users, with the reasons in words and numbers.",
    col_risk_score: "risk score",
    soft_heading: "Users between two segments",
    soft_note: "A mixture gives every user a probability of each segment (<code>persona.soft_segments</code>): the users whose \
                most probable segment has less than 0.9, by their first and second segment.",
    soft_empty: "Every user is in one segment with a probability of 0.9 or more.",
    col_second_segment: "second segment",
    col_users: "users",
    col_mean_second: "mean probability of the second",
    col_reasons: "reasons",
};

static ZH: Labels = Labels {
    html_lang: "zh-Hans",
    title: "persona 用户分群：{model}（第 {version} 版）",
    header: "{rows} 位用户，{k} 个分群 · 距离 {metric} · 轮廓系数 {silhouette} · 训练于 {created_at}（{mode}）{profiles}",
    header_profiles: " · 画像 {profiles}",
    not_available: "无",
    hidden_note: "另有 {hidden} 个分群小于 k-匿名下限（{floor} 位用户，<code>persona.k_anonymity_floor</code>），未显示。",
    sizes_heading: "分群规模",
    sizes_note: "每个分群的用户数及其占全部用户的比例。",
    sizes_empty: "没有可显示的分群。",
    sizes_aria: "分群规模",
    bar_title: "分群 {id}：{size} 位用户（{share}%）",
    map_heading: "用户分布图",
    map_note: "{shown} 位用户（从 {population} 位中抽样，每个分群都有代表）在其向量的前两个主成分上的位置\
               （分别解释 {pc1}% 和 {pc2}% 的方差），按分群着色；叉号表示分群中心。",
    map_empty: "没有可绘制的向量。",
    map_aria: "用户分布图",
    map_x_axis: "第一主成分",
    map_y_axis: "第二主成分",
    traits_heading: "各分群的特征",
    traits_note: "各特征的分群均值相对全体用户的提升度（1.0 为平均；红色高于平均，蓝色低于平均）。\
                  最近购买间隔的提升度大于 1 表示成员上次购买距今更久。",
    traits_empty: "没有特征：此模型不是基于用户画像训练的。",
    traits_aria: "各分群的特征提升度",
    traits: &[
        ("recency", "最近购买间隔"),
        ("frequency", "购买频次"),
        ("spend", "消费金额"),
        ("monetary", "消费金额"),
        ("order value", "客单价"),
        ("activity", "活跃度"),
        ("predicted value", "预测价值"),
    ],
    label_words: &[
        ("budget", "低价"),
        ("mid", "中档"),
        ("premium", "高端"),
        ("new", "新客"),
        ("active", "活跃"),
        ("at risk", "流失风险"),
        ("lapsed", "已流失"),
    ],
    reasons: &[
        ("related to item ", " in your history", "与您买过的商品 {n} 相关"),
        ("often comes after item ", " in your history", "常在商品 {n} 之后购买"),
        ("new item whose text matches your items", "", "新商品，文字与您的商品相近"),
        ("nearest to your profile vector", "", "最接近您的画像"),
        ("matches your review and search text", "", "与您的评价和搜索相符"),
        ("popular in your segment ", "", "在您的分群 {n} 中热门"),
        ("popular overall", "", "全站热门"),
    ],
    words_heading: "各分群的与众不同之处",
    words_note: "按提升度排序的品类，以及成员的评价和搜索中最能代表该分群的词语（基于类别的 TF-IDF）。",
    col_segment: "分群",
    col_size: "人数",
    col_categories: "主要品类",
    col_words: "代表性词语",
    none: "无",
    recs_heading: "各分群典型用户的推荐",
    recs_empty: "尚未为这些用户计算推荐：请运行 <code>persona.recommend_all()</code>。",
    recs_note: "离每个分群中心最近的成员，以及 <code>persona.recommendations</code> 中为其推荐的前几件商品。",
    col_user: "用户",
    col_items: "推荐商品（得分 · 理由）",
    item: "商品 {id}",
    risks_heading: "高风险用户",
    risks_note: "行为与众不同的用户：到所在分群中心距离的稳健 z 分数（规模不足全部用户 1% 的分群，其成员按最近的较大分群评分）。",
    risks_empty: "没有用户的异常分数达到 3 或以上。",
    col_rank: "序号",
    col_anomaly: "异常分数",
    col_distance: "距离",
    risks_scored_note: "按风险分数排序的用户（<code>persona.score_risks</code>）：每个滥用信号（短时间内的大量事件、只浏览不加购不购买、\
                        行为序列几乎相同的账号团伙、新账号大额消费、退款退货）相对本店用户超出阈值的稳健标准差之和，并列出每个理由及其数字。",
    col_risk_score: "风险分数",
    soft_heading: "介于两个分群之间的用户",
    soft_note: "混合模型给出每个用户属于各分群的概率（<code>persona.soft_segments</code>）：最可能分群的概率低于 0.9 的用户，按第一、第二分群统计。",
    soft_empty: "每个用户属于某一分群的概率都在 0.9 或以上。",
    col_second_segment: "第二分群",
    col_users: "用户数",
    col_mean_second: "第二分群的平均概率",
    col_reasons: "理由",
};
