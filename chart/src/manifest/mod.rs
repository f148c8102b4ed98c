//! Rendered manifests: splitting files into documents and ordering them by kind as Helm does.

pub mod sort;
pub mod sorter;
pub mod split;
