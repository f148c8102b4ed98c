//! Chart model, loading, values coalescing and rendering a chart over `rudder-engine`.

pub mod ignore;
pub mod manifest;
pub mod model;
pub mod pathmatch;
pub mod render;
pub mod values;
