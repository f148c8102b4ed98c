//go:build tools

// Package tools pins the real helmfile CLI for the test bed: helmfile v1.8.0 has replace directives
// in its go.mod, so `go install` cannot build it; this wrapper module copies them.
package tools

import _ "github.com/helmfile/helmfile"
