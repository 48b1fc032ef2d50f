//! Exact blocked top-k by inner product: query-block × item-block products
//! through `gemm`, each score offered to a per-query bounded heap.

use rayon::prelude::*;

use crate::error::{checked_len, expect_len, zeroed, RankError};
use crate::matmul::{gemm_update, View, ViewMut};
use crate::selection::{check_allow, is_sorted_ascending, scan_scores, BoundedTopK};

/// How many queries and items one product tile covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSizes {
    pub queries: usize,
    pub items: usize,
}

impl Default for BlockSizes {
    /// A 256 × 2048 f32 tile (2 MiB per thread) amortises gemm's packing of
    /// the item block over many queries and stays in cache for the heap scan.
    /// On the 2-core AVX2 development machine 256-1024 queries × 1024-4096
    /// items all took 5.8-14 s for 100k × 50k × 64; the spread came from
    /// other load, not from the tile shape (examples/speed.rs).
    fn default() -> Self {
        BlockSizes {
            queries: 256,
            items: 2048,
        }
    }
}

/// An exclusion callback that excludes nothing.
pub fn no_exclusions(_query: usize) -> &'static [u32] {
    &[]
}

/// The `k` items with the largest inner product for each query.
///
/// `queries` is `n_queries × dim` and `items` is `n_items × dim`, both
/// row-major. `exclude(q)` returns the item indices to skip for query `q`,
/// sorted ascending. `allow`, when given, has one flag per item and keeps only
/// items flagged `true`. Each result list holds `min(k, allowed non-excluded
/// items)` pairs `(item index, score)`, score descending, ties by item index
/// ascending. Inputs must be finite.
#[allow(clippy::too_many_arguments)] // the signature the SQL layer calls with
pub fn top_k_blocked<'a>(
    queries: &[f32],
    n_queries: usize,
    items: &[f32],
    n_items: usize,
    dim: usize,
    k: usize,
    exclude: &(dyn Fn(usize) -> &'a [u32] + Sync),
    allow: Option<&[bool]>,
) -> Result<Vec<Vec<(u32, f32)>>, RankError> {
    top_k_blocked_with(
        queries,
        n_queries,
        items,
        n_items,
        dim,
        k,
        exclude,
        allow,
        BlockSizes::default(),
    )
}

/// [`top_k_blocked`] with explicit tile sizes, for tuning.
#[allow(clippy::too_many_arguments)]
pub fn top_k_blocked_with<'a>(
    queries: &[f32],
    n_queries: usize,
    items: &[f32],
    n_items: usize,
    dim: usize,
    k: usize,
    exclude: &(dyn Fn(usize) -> &'a [u32] + Sync),
    allow: Option<&[bool]>,
    blocks: BlockSizes,
) -> Result<Vec<Vec<(u32, f32)>>, RankError> {
    if dim == 0 {
        return Err(RankError::InvalidParameter {
            name: "dim",
            reason: "must be at least 1",
        });
    }
    if blocks.queries == 0 || blocks.items == 0 {
        return Err(RankError::InvalidParameter {
            name: "blocks",
            reason: "block sizes must be at least 1",
        });
    }
    if u32::try_from(n_items).is_err() {
        return Err(RankError::TooLarge { what: "item count" });
    }
    expect_len(
        "queries",
        checked_len(n_queries, dim, "queries")?,
        queries.len(),
    )?;
    expect_len("items", checked_len(n_items, dim, "items")?, items.len())?;
    check_allow(allow, n_items)?;
    if let Some(index) = queries.iter().position(|v| !v.is_finite()) {
        return Err(RankError::NonFinite {
            what: "queries",
            index,
        });
    }
    if let Some(index) = items.iter().position(|v| !v.is_finite()) {
        return Err(RankError::NonFinite {
            what: "items",
            index,
        });
    }
    if n_queries == 0 {
        return Ok(Vec::new());
    }
    if k == 0 || n_items == 0 {
        return Ok(vec![Vec::new(); n_queries]);
    }
    let query_block_len = blocks.queries.min(n_queries);
    let item_block_len = blocks.items.min(n_items);
    let tile_len = checked_len(query_block_len, item_block_len, "tile")?;
    let per_block: Vec<Vec<Vec<(u32, f32)>>> = queries
        .par_chunks(query_block_len * dim)
        .enumerate()
        .map(|(block, query_block)| {
            let first_query = block * query_block_len;
            rank_query_block(
                query_block,
                first_query,
                items,
                n_items,
                dim,
                k,
                exclude,
                allow,
                item_block_len,
                tile_len,
            )
        })
        .collect::<Result<_, _>>()?;
    Ok(per_block.into_iter().flatten().collect())
}

/// Ranks all items for the queries of one block, item block by item block.
#[allow(clippy::too_many_arguments)]
fn rank_query_block<'a>(
    query_block: &[f32],
    first_query: usize,
    items: &[f32],
    n_items: usize,
    dim: usize,
    k: usize,
    exclude: &(dyn Fn(usize) -> &'a [u32] + Sync),
    allow: Option<&[bool]>,
    item_block: usize,
    tile_len: usize,
) -> Result<Vec<Vec<(u32, f32)>>, RankError> {
    let rows = query_block.len() / dim;
    let mut excluded = Vec::with_capacity(rows);
    for query in first_query..first_query + rows {
        let list = exclude(query);
        if !is_sorted_ascending(list) {
            return Err(RankError::UnsortedExclusion { query });
        }
        excluded.push(list);
    }
    let mut tops: Vec<BoundedTopK> = (0..rows).map(|_| BoundedTopK::new(k)).collect();
    let mut tile: Vec<f32> = zeroed(tile_len, "top-k tile")?;
    let mut first_item = 0;
    while first_item < n_items {
        let cols = item_block.min(n_items - first_item);
        let scores = tile
            .get_mut(..rows * cols)
            .ok_or(RankError::InternalShape("top-k tile"))?;
        // tile(r, c) = queries[r] · items[first_item + c]: the item block is
        // read transposed in place, so no copy of the catalogue is made.
        gemm_update(
            ViewMut {
                data: scores,
                offset: 0,
                rows,
                cols,
                row_stride: cols,
                col_stride: 1,
            },
            false,
            View {
                data: query_block,
                offset: 0,
                rows,
                cols: dim,
                row_stride: dim,
                col_stride: 1,
            },
            View {
                data: items,
                offset: first_item * dim,
                rows: dim,
                cols,
                row_stride: 1,
                col_stride: dim,
            },
            1.0,
            "top-k product",
        )?;
        for (row, top) in tops.iter_mut().enumerate() {
            let row_scores = &tile[row * cols..(row + 1) * cols];
            scan_scores(row_scores, first_item, top, excluded[row], allow);
        }
        first_item += cols;
    }
    Ok(tops.into_iter().map(BoundedTopK::into_sorted).collect())
}
