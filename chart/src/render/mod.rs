//! Rendering a loaded chart as Helm v4.3.1 does: the template engine over the chart tree
//! (`engine`), the objects templates see (`objects`), Helm's error texts (`errors`),
//! `.Files.Glob` patterns (`glob`) and the whole of `helm template` after loading (`template`).

pub mod engine;
pub mod errors;
pub mod glob;
pub mod objects;
pub mod template;

pub use engine::{metadata_as_map, to_render_values, Engine, ReleaseOptions, RenderError};
pub use objects::{BuildInfo, Capabilities, Files, KubeVersion, VersionSet};
pub use template::{template, template_checked, TemplateError, TemplateOptions, TemplateOutput};
