//! Scores a generated demo shop offline and says how well the planted bots
//! rank.
//!
//!   cargo run -p persona-risk --release --example demo_shop -- DIR [--dim 256] [--cosine 0.95] [--window 600]
//!
//! DIR is what `persona-shop --out DIR` writes. The signals are computed as
//! the SQL side is meant to (`signals_from_events` per user), rings by linking
//! signatures above a cosine (a stand-in for DBSCAN), and the planted
//! personas are read only to judge the ranking.

mod eval;
mod load;
mod rings;

use persona_risk::{score, sequence_signature, signals_from_events, RiskParams};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), String> {
    let mut dir: Option<PathBuf> = None;
    let (mut dim, mut min_cos) = (256usize, 0.95f64);
    let mut params = RiskParams::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--dim" => dim = value()?.parse().map_err(|e| format!("--dim: {e}"))?,
            "--cosine" => min_cos = value()?.parse().map_err(|e| format!("--cosine: {e}"))?,
            "--window" => params.window_secs = value()?.parse().map_err(|e| format!("--window: {e}"))?,
            _ if dir.is_none() => dir = Some(PathBuf::from(&a)),
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    let dir = dir.ok_or("usage: demo_shop DIR [--dim N] [--cosine C] [--window SECS]")?;
    let t0 = Instant::now();
    let users = load::read_shop(&dir)?;
    let t_load = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let mut signals = Vec::with_capacity(users.len());
    let mut signatures = Vec::with_capacity(users.len());
    for (i, u) in users.iter().enumerate() {
        signals.push(signals_from_events(&u.events, u.signup, params.window_secs, i).map_err(|e| e.to_string())?);
        let items: Vec<i64> = u.events.iter().map(|e| e.item).collect();
        signatures.push(sequence_signature(&items, dim).map_err(|e| e.to_string())?);
    }
    let t_signals = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    for (s, ring) in signals.iter_mut().zip(rings::rings(&signatures, min_cos)) {
        s.ring = ring;
    }
    let t_rings = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    let risks = score(&signals, &params, &|| false).map_err(|e| e.to_string())?;
    let t_score = t3.elapsed().as_secs_f64();

    let scores: Vec<f64> = risks.iter().map(|r| r.score).collect();
    let bot: Vec<bool> = users.iter().map(|u| u.bot).collect();
    let n_bots = bot.iter().filter(|&&b| b).count();
    println!(
        "{}: {} users, {} bots; load {t_load:.1} s, signals and signatures {t_signals:.1} s, rings {t_rings:.1} s, score {t_score:.2} s",
        dir.display(),
        users.len(),
        n_bots
    );
    println!(
        "AUC {:.4}, precision at {n_bots} {:.4}",
        eval::auc(&scores, &bot),
        eval::precision_at(&scores, &bot, n_bots)
    );
    let distinct = {
        let mut s: Vec<u64> = risks.iter().filter(|r| r.score > 0.0).map(|r| r.score.to_bits()).collect();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    println!("{} users with a score above 0, {distinct} distinct scores among them", risks.iter().filter(|r| r.score > 0.0).count());
    let mut by: BTreeMap<&str, (usize, usize, f64, usize)> = BTreeMap::new();
    for (u, r) in users.iter().zip(&risks) {
        let e = by.entry(u.persona.as_str()).or_default();
        e.0 += 1;
        e.1 += (r.score > 0.0) as usize;
        e.2 = e.2.max(r.score);
    }
    let mut lowest_bot = f64::INFINITY;
    for (u, r) in users.iter().zip(&risks) {
        if u.bot {
            lowest_bot = lowest_bot.min(r.score);
        }
    }
    for (p, e) in by.iter_mut() {
        e.3 = users.iter().zip(&risks).filter(|(u, r)| u.persona == *p && r.score >= lowest_bot).count();
    }
    println!("persona: users, scored above 0, highest score, at or above the lowest bot ({lowest_bot:.3})");
    for (p, (n, pos, max, above)) in &by {
        println!("  {p:<15} {n:>6} {pos:>6} {max:>9.3} {above:>6}");
    }
    let mut order: Vec<usize> = (0..users.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(users[a].id.cmp(&users[b].id)));
    println!("top 20:");
    for &i in order.iter().take(20) {
        println!("  user {:>6} {:<14} {:>8.3}  {}", users[i].id, users[i].persona, scores[i], risks[i].summary());
    }
    if let Some(&i) = order.iter().find(|&&i| !users[i].bot) {
        let rank = order.iter().position(|&j| j == i).unwrap_or(0) + 1;
        println!("highest non-bot, rank {rank}: user {} {} {:.3}  {}", users[i].id, users[i].persona, scores[i], risks[i].summary());
    }
    Ok(())
}
