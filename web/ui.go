package web

import "embed"

// UI holds the web UI's page templates (templates/ui) and its static files
// (static: CSS, the few lines of own JS, vendored htmx).
//
//go:embed templates/ui/*.html static
var UI embed.FS
