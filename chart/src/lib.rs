//! Chart model, loading, values coalescing and rendering a chart over `rudder-engine`.

pub mod deps;
pub mod goflate;
pub mod jsonpath;
pub mod lint;
pub mod package;
pub mod show;
pub mod ignore;
pub mod load;
pub mod manifest;
pub mod metadata;
pub mod model;
pub mod pathmatch;
pub mod render;
pub mod semver;
pub mod values;
mod yaml;

pub use deps::{check_dependencies, process_dependencies};
pub use load::{load, LoadError};
pub use values::{coalesce_values, validate_against_schema, SchemaCheck, ValueOptions, ValuesError, Warnings};
