//! Recommendation quality of the recommender SQL serves, outside Postgres:
//! the same training (with its automatic choice), scoring and protocols
//! as `persona.train_recommender` and `persona.evaluate_recommendations`.
//!
//! cargo run -p persona-rank --release --example evaluate -- beauty|ml-100k [last|random] [data file]
//!
//! 'last' holds out each user's last event (the model may not see it, and
//! chooses on the latest item before it); 'random' a random tenth of each
//! user's items (chosen on a random ninth of the rest). Full ranking over
//! all items; a user's own items are never recommended.

mod data;

use std::path::PathBuf;
use std::time::Instant;

use persona_rank::item_popularity;
use persona_rank::recommender::{
    figures, popular_lists, rank_batch, split_last, split_random, train, Ask, Figures, Given,
    Params, Recommender, Split, UserInput, Validation,
};
use persona_rank::NEVER;

fn row(label: &str, f: &Figures, seconds: f64) {
    println!(
        "{label:<44} {:>8.4} {:>8.4} {:>8.4} {:>8.3} {:>9.0} {:>7.1}",
        f.hit_rate, f.ndcg, f.recall, f.coverage, f.popularity_rank, seconds
    );
}

fn evaluate(
    split: &Split,
    n: usize,
    params: &Params,
    given: &Given,
) -> Result<(Figures, String, f64), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let trained = train(&split.train, n, params, given, NEVER)?;
    let popularity = item_popularity(&split.train, n)?;
    let mut rec = Recommender::new(
        trained.params.clone(),
        (0..n as i64).collect(),
        popularity.iter().map(|&c| c as f32).collect(),
    );
    rec.set_lists(trained.fitted.main, trained.fitted.next);
    let tested = split.tested();
    let users: Vec<UserInput> = tested
        .iter()
        .map(|&u| UserInput {
            history: split.train[u].clone(),
            ..UserInput::default()
        })
        .collect();
    let lists = rank_batch(
        &rec,
        &users,
        &Ask {
            k: 10,
            exclude_seen: true,
            allow: None,
            reasons: false,
        },
        &Default::default(),
    )?;
    let lists: Vec<Vec<u32>> = lists
        .into_iter()
        .map(|l| l.into_iter().map(|r| r.0).collect())
        .collect();
    let test: Vec<Vec<u32>> = tested.iter().map(|&u| split.test[u].clone()).collect();
    let f = figures(&lists, &test, &popularity, 10)?;
    let chosen = trained
        .selection
        .map(|s| s.summary())
        .unwrap_or_else(|| "as given".to_owned());
    Ok((f, chosen, t.elapsed().as_secs_f64()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("beauty");
    let protocol = args.get(1).map(String::as_str).unwrap_or("last");
    let file = |rel: &str| -> PathBuf {
        args.get(2)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("../../../shared/data").join(rel))
    };
    let dataset = match which {
        "beauty" => data::load_beauty(&file("amazon-beauty-seq/Beauty.txt"))?,
        "ml-100k" => data::load_ml100k(&file("ml-100k/ml-100k.inter"))?,
        other => return Err(format!("unknown data set {other:?}: use beauty or ml-100k").into()),
    };
    let n = dataset.n_items;
    let interactions: usize = dataset.sequences.iter().map(Vec::len).sum();
    println!(
        "{}: {} users, {n} items, {interactions} interactions, protocol {protocol}",
        dataset.name,
        dataset.sequences.len()
    );
    let (split, validation) = match protocol {
        "last" => (split_last(&dataset.sequences), Validation::Latest),
        "random" => {
            let users: Vec<i64> = (0..dataset.sequences.len() as i64).collect();
            (
                split_random(&users, &[], &dataset.sequences, 0.1, 0)?,
                Validation::Random,
            )
        }
        other => return Err(format!("unknown protocol {other:?}: use last or random").into()),
    };
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "model", "HR@10", "NDCG@10", "recall", "cover", "pop rank", "seconds"
    );
    let auto = Params {
        validation,
        ..Params::default()
    };
    let (f, chosen, s) = evaluate(
        &split,
        n,
        &auto,
        &Given {
            search: true,
            ..Given::default()
        },
    )?;
    row("persona, chosen on validation (the default)", &f, s);
    println!("  {chosen}");
    let (f, _, s) = evaluate(
        &split,
        n,
        &Params::default(),
        &Given {
            search: false,
            ..Given::default()
        },
    )?;
    row("persona, fixed parameters (search off)", &f, s);
    let popularity = item_popularity(&split.train, n)?;
    let pop = popular_lists(&split, &popularity, 10);
    let tested = split.tested();
    let lists: Vec<Vec<u32>> = tested.iter().map(|&u| pop[u].clone()).collect();
    let test: Vec<Vec<u32>> = tested.iter().map(|&u| split.test[u].clone()).collect();
    row("popularity", &figures(&lists, &test, &popularity, 10)?, 0.0);
    Ok(())
}
