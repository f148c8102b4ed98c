//! CRD rules (Helm: pkg/chart/v2/lint/rules/crds.go): every document of every `crds/` file of
//! the chart tree is plain YAML with an `apiextensions.k8s.io` apiVersion and kind
//! `CustomResourceDefinition`.

use super::templates::{decode_object, documents};
use super::{Linter, Severity};

/// `rules.Crds`.
pub fn crds(linter: &mut Linter) {
    let dir = "crds/";
    let path = linter.chart_dir.join("crds");
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            linter.rule(
                Severity::Error,
                dir,
                Err(format!("stat {}: {}", path.display(), crate::values::options::go_errno_text(&e))),
            );
            return;
        }
        Ok(m) if !m.is_dir() => {
            linter.rule(Severity::Error, dir, Err("not a directory".into()));
            return;
        }
        Ok(_) => {}
    }
    let chart = match crate::load::load(&linter.chart_dir) {
        Ok(c) => c,
        Err(e) => {
            linter.rule(Severity::Error, dir, Err(e.to_string()));
            return;
        }
    };
    let mut files = Vec::new();
    fn rec<'a>(c: &'a crate::model::Chart, out: &mut Vec<&'a crate::model::File>) {
        for f in &c.files {
            let lower = f.name.to_ascii_lowercase();
            if f.name.starts_with("crds/") && (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")) {
                out.push(f);
            }
        }
        for d in &c.dependencies {
            rec(d, out);
        }
    }
    rec(&chart, &mut files);
    for f in files {
        let text = String::from_utf8_lossy(&f.data);
        let docs = match documents(&text) {
            Ok(d) => d,
            Err(e) => {
                linter.rule(Severity::Error, &f.name, Err(format!("unable to parse YAML: {e}")));
                return;
            }
        };
        for doc in docs {
            match decode_object(&doc) {
                Err(e) => {
                    linter.rule(Severity::Error, &f.name, Err(format!("unable to parse YAML: {e}")));
                    return;
                }
                Ok(None) => {}
                Ok(Some(obj)) => {
                    linter.rule(
                        Severity::Error,
                        &f.name,
                        if obj.api_version.starts_with("apiextensions.k8s.io") {
                            Ok(())
                        } else {
                            Err("apiVersion is not in 'apiextensions.k8s.io'".into())
                        },
                    );
                    linter.rule(
                        Severity::Error,
                        &f.name,
                        if obj.kind == "CustomResourceDefinition" {
                            Ok(())
                        } else {
                            Err("object kind is not 'CustomResourceDefinition'".into())
                        },
                    );
                }
            }
        }
    }
}
