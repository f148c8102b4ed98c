//! Chart values: Helm's `--set` grammar, values files, user-value assembly (`-f`, `--set`...),
//! coalescing with chart defaults and globals, and values.schema.json validation.

pub mod coalesce;
pub mod files;
pub mod options;
pub mod schema;
pub mod strvals;

pub use coalesce::{coalesce_tables, coalesce_values, deep_copy, merge_tables, merge_values, Warnings};
pub use files::{load_values, merge_maps};
pub use options::ValueOptions;
pub use schema::{validate_against_schema, SchemaCheck};

/// An error from assembling or coalescing values; `Display` is Helm's text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ValuesError(pub String);
