//! Chart values: Helm's `--set` grammar, and (with the charts issue) values files, coalescing with
//! chart defaults, globals and schema validation.

pub mod strvals;
