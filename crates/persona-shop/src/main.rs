//! persona-shop: writes the demo shop as CSV files.
//!
//!   persona-shop --users 20000 --seed 1 --reviews data/womens_clothing_reviews.csv.gz --out DIR
//!
//! Writes DIR/items.csv, users.csv, events.csv, searches.csv, reviews.csv and personas.csv
//! (the planted truth, which a pipeline must not read). With `--reviews-zh DIR` (a directory
//! with pos.txt and neg.txt, one Chinese review a line) the review texts are those instead,
//! on the same catalogue and personas, with Chinese categories, titles and search queries
//! (see the `zh` module). Files are written under temporary
//! names and renamed at the end, so a directory never holds a partial shop.
//!
//! `--bots scalper` or `--bots slow-crawler` plants another kind of bot ring than the
//! default crawler (still named `bot` in personas.csv), and `--returns` has ordinary
//! customers return some purchases (event type `return`): a second shop for checking that
//! a risk score is not fitted to the default one. Without them the output is unchanged.

use persona_shop::{generate_variant, read_polarity_dir, BotShape, Catalogue, Config, Persona, Sinks, Variant};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: persona-shop [--users N (20000)] [--seed S (1)] \
[--reviews PATH (data/womens_clothing_reviews.csv.gz)] [--reviews-zh DIR (pos.txt, neg.txt)] \
[--threads N (0: one per CPU)] [--bots crawler|scalper|slow-crawler (crawler)] [--returns] --out DIR";

const FILES: [&str; 6] = ["items", "users", "events", "searches", "reviews", "personas"];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("persona-shop: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut cfg = Config {
        users: 20_000,
        seed: 1,
        threads: 0,
    };
    let mut reviews = PathBuf::from("data/womens_clothing_reviews.csv.gz");
    let mut reviews_zh: Option<PathBuf> = None;
    let mut out: Option<PathBuf> = None;
    let mut variant = Variant::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--users" => cfg.users = parse(&value("--users")?, "--users")?,
            "--seed" => cfg.seed = parse(&value("--seed")?, "--seed")?,
            "--threads" => cfg.threads = parse(&value("--threads")?, "--threads")?,
            "--reviews" => reviews = PathBuf::from(value("--reviews")?),
            "--reviews-zh" => reviews_zh = Some(PathBuf::from(value("--reviews-zh")?)),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--bots" => {
                let name = value("--bots")?;
                variant.bots = BotShape::parse(&name).ok_or_else(|| format!("--bots: unknown shape {name}\n{USAGE}"))?;
            }
            "--returns" => variant.returns = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    let out = out.ok_or_else(|| format!("--out is required\n{USAGE}"))?;
    if cfg.users == 0 {
        return Err("--users must be at least 1".into());
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let t0 = Instant::now();
    let mut cat = Catalogue::from_reviews_gz(&reviews, cfg.seed).map_err(|e| e.to_string())?;
    if let Some(dir) = &reviews_zh {
        let (positive, negative) = read_polarity_dir(dir).map_err(|e| e.to_string())?;
        cat = cat.with_polarity_reviews(positive, negative).map_err(|e| e.to_string())?;
    }
    let tmp = |name: &str| out.join(format!("{name}.csv.tmp"));
    let mut writers: Vec<BufWriter<File>> = FILES
        .iter()
        .map(|f| File::create(tmp(f)).map(|file| BufWriter::with_capacity(1 << 20, file)))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", out.display()))?;
    let stats = {
        let [items, users, events, searches, reviews, personas] = &mut writers[..] else {
            unreachable!()
        };
        generate_variant(
            &cat,
            &cfg,
            &variant,
            Sinks {
                items,
                users,
                events,
                searches,
                reviews,
                personas,
            },
        )
        .map_err(|e| e.to_string())?
    };
    for w in writers.iter_mut() {
        w.flush().map_err(|e| e.to_string())?;
    }
    drop(writers);
    for f in FILES {
        std::fs::rename(tmp(f), out.join(format!("{f}.csv"))).map_err(|e| e.to_string())?;
    }
    let shares: Vec<String> = Persona::ALL
        .iter()
        .map(|p| format!("{} {}", p.name(), stats.per_persona[*p as usize]))
        .collect();
    eprintln!(
        "persona-shop: {} items, {} users ({}), {} events ({} views, {} carts, {} purchases{}), {} searches, {} reviews in {:.1} s -> {}",
        stats.items,
        stats.users,
        shares.join(", "),
        stats.events,
        stats.views,
        stats.carts,
        stats.purchases,
        if stats.refunds > 0 { format!(", {} returns", stats.refunds) } else { String::new() },
        stats.searches,
        stats.reviews,
        t0.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn parse<T: std::str::FromStr>(s: &str, name: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{name}: not a number: {s}"))
}
