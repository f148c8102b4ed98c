{{ define "note" }}from {{ .Environment.Name }}{{ end }}
