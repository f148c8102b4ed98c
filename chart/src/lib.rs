//! Chart model, loading, values coalescing and rendering a chart over `rudder-engine`.
//! (Filled in by the charts issue.)
