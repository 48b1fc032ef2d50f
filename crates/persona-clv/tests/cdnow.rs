//! Fits on the CDNOW sample summary (2,357 customers) and compares with the
//! published maximum-likelihood estimates. The data set is not shipped with
//! persona; these tests read ../shared/data/cdnow-sample when it is there
//! and say they skipped otherwise.

use persona_clv::{BgNbd, Customer, GammaGamma, SpendRecord};

fn rows() -> Option<Vec<Vec<f64>>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cdnow-sample/cdnow_customers_summary_with_transactions.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("SKIP: {} not found (the shared data sets are not part of the project)", path.display());
        return None;
    };
    Some(text.lines().skip(1).map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect()).collect())
}

#[test]
fn bgnbd_fit_matches_fader_hardie_lee() {
    let Some(rows) = rows() else { return };
    let customers: Vec<Customer> = rows.iter().map(|r| Customer { x: r[0], t_x: r[1], t: r[2] }).collect();
    assert_eq!(customers.len(), 2357);
    let m = BgNbd::fit(&customers).unwrap();
    // Published: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.43.
    assert!((m.r - 0.243).abs() < 0.001, "{m:?}");
    assert!((m.alpha - 4.414).abs() < 0.01, "{m:?}");
    assert!((m.a - 0.793).abs() < 0.002, "{m:?}");
    assert!((m.b - 2.426).abs() < 0.01, "{m:?}");
    assert!((m.log_likelihood - (-9582.43)).abs() < 0.01, "{m:?}");
}

#[test]
fn gamma_gamma_fit_matches_fader_hardie() {
    let Some(rows) = rows() else { return };
    let spend: Vec<SpendRecord> = rows.iter().map(|r| SpendRecord { x: r[0], mean_spend: r[3] }).collect();
    let m = GammaGamma::fit(&spend).unwrap();
    assert_eq!(m.n, 946);
    // Published: p = 6.25, q = 3.74, gamma = 15.44.
    assert!((m.p - 6.25).abs() < 0.01, "{m:?}");
    assert!((m.q - 3.74).abs() < 0.01, "{m:?}");
    assert!((m.gamma - 15.44).abs() < 0.05, "{m:?}");
}
