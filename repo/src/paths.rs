//! Helm's directories and files (pkg/helmpath and pkg/cli/environment.go).
//!
//! Order for a base directory: `HELM_*_HOME` (used as is), then the XDG variable (plus `helm`),
//! then `$HOME/.config`, `$HOME/.cache`, `$HOME/.local/share` (plus `helm`). The file variables
//! (`HELM_REPOSITORY_CONFIG`, ...) win when they are *set*, even to an empty string (Go's
//! `os.LookupEnv`). Paths are joined and cleaned as Go's `filepath.Join` does.

use std::path::PathBuf;

/// The resolved Helm locations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmPaths {
    pub config_home: PathBuf,
    pub cache_home: PathBuf,
    pub data_home: PathBuf,
    /// `$HELM_REPOSITORY_CONFIG`, default `<config>/repositories.yaml`.
    pub repository_config: PathBuf,
    /// `$HELM_REPOSITORY_CACHE`, default `<cache>/repository`.
    pub repository_cache: PathBuf,
    /// `$HELM_REGISTRY_CONFIG`, default `<config>/registry/config.json`.
    pub registry_config: PathBuf,
    /// `$HELM_CONTENT_CACHE`, default `<cache>/content` (Helm 4).
    pub content_cache: PathBuf,
    /// `$HELM_PLUGINS`, default `<data>/plugins`.
    pub plugins: PathBuf,
}

impl HelmPaths {
    /// From the process environment.
    pub fn from_env() -> HelmPaths {
        HelmPaths::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any variable lookup (`None` = unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> HelmPaths {
        let home = get("HOME").unwrap_or_default();
        let base = |helm: &str, xdg: &str, default: &[&str]| -> String {
            if let Some(b) = get(helm).filter(|s| !s.is_empty()) {
                return go_join(&[&b]);
            }
            let xdg_base = get(xdg).filter(|s| !s.is_empty()).unwrap_or_else(|| {
                let mut parts = vec![home.as_str()];
                parts.extend_from_slice(default);
                go_join(&parts)
            });
            go_join(&[&xdg_base, "helm"])
        };
        let config = base("HELM_CONFIG_HOME", "XDG_CONFIG_HOME", &[".config"]);
        let cache = base("HELM_CACHE_HOME", "XDG_CACHE_HOME", &[".cache"]);
        let data = base("HELM_DATA_HOME", "XDG_DATA_HOME", &[".local", "share"]);
        let or = |var: &str, def: String| PathBuf::from(get(var).unwrap_or(def));
        HelmPaths {
            repository_config: or("HELM_REPOSITORY_CONFIG", go_join(&[&config, "repositories.yaml"])),
            repository_cache: or("HELM_REPOSITORY_CACHE", go_join(&[&cache, "repository"])),
            registry_config: or("HELM_REGISTRY_CONFIG", go_join(&[&config, "registry/config.json"])),
            content_cache: or("HELM_CONTENT_CACHE", go_join(&[&cache, "content"])),
            plugins: or("HELM_PLUGINS", go_join(&[&data, "plugins"])),
            config_home: PathBuf::from(config),
            cache_home: PathBuf::from(cache),
            data_home: PathBuf::from(data),
        }
    }

    /// `<repository_cache>/<name>-index.yaml` (`index.yaml` for an empty name).
    pub fn cache_index_file(&self, name: &str) -> PathBuf {
        self.repository_cache.join(cache_index_file(name))
    }

    /// `<repository_cache>/<name>-charts.txt`.
    pub fn cache_charts_file(&self, name: &str) -> PathBuf {
        self.repository_cache.join(cache_charts_file(name))
    }

    /// Helm 4's content cache file for a sha256: `<content>/<first byte hex>/<hex><ext>`
    /// (`ext` is `.chart` or `.prov`).
    pub fn content_cache_file(&self, sha256_hex: &str, ext: &str) -> PathBuf {
        let first = sha256_hex.get(..2).unwrap_or(sha256_hex);
        self.content_cache.join(first).join(format!("{sha256_hex}{ext}"))
    }
}

/// helmpath.CacheIndexFile.
pub fn cache_index_file(name: &str) -> String {
    if name.is_empty() { "index.yaml".into() } else { format!("{name}-index.yaml") }
}

/// helmpath.CacheChartsFile.
pub fn cache_charts_file(name: &str) -> String {
    if name.is_empty() { "charts.txt".into() } else { format!("{name}-charts.txt") }
}

/// Go's `filepath.Join` (unix): the non-empty elements joined by `/`, then `Clean`ed; `""` when
/// all are empty.
pub fn go_join(elems: &[&str]) -> String {
    let parts: Vec<&str> = elems.iter().copied().filter(|e| !e.is_empty()).collect();
    if parts.is_empty() {
        return String::new();
    }
    go_clean(&parts.join("/"))
}

/// Go's `path.Clean` (the engine's, checked against Go by the path cases).
pub fn go_clean(p: &str) -> String {
    rudder_engine::funcs::paths::clean(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn paths(vars: &[(&str, &str)]) -> HelmPaths {
        let m: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        HelmPaths::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let p = paths(&[("HOME", "/home/u")]);
        assert_eq!(p.config_home, PathBuf::from("/home/u/.config/helm"));
        assert_eq!(p.cache_home, PathBuf::from("/home/u/.cache/helm"));
        assert_eq!(p.data_home, PathBuf::from("/home/u/.local/share/helm"));
        assert_eq!(p.repository_config, PathBuf::from("/home/u/.config/helm/repositories.yaml"));
        assert_eq!(p.repository_cache, PathBuf::from("/home/u/.cache/helm/repository"));
        assert_eq!(p.registry_config, PathBuf::from("/home/u/.config/helm/registry/config.json"));
        let p = paths(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x/"), ("HELM_CACHE_HOME", "/c/./d/")]);
        assert_eq!(p.config_home, PathBuf::from("/x/helm"));
        assert_eq!(p.cache_home, PathBuf::from("/c/d"));
        let p = paths(&[("HOME", "/h"), ("HELM_REPOSITORY_CONFIG", "")]);
        assert_eq!(p.repository_config, PathBuf::from(""));
        assert_eq!(go_clean("a/../../b/./c//"), "../b/c");
    }
}
