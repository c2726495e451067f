package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"
)

func (u *UI) funcs() template.FuncMap {
	return template.FuncMap{
		"size":  humanSize,
		"when":  when,
		"esc":   url.PathEscape,
		"query": url.QueryEscape,
		"join":  strings.Join,
		// nextQuery is the link to a search's next page: the same query
		// with the cursor (a URL of our own making, so not escaped again).
		"nextQuery": func(v url.Values, next string) template.URL {
			w := url.Values{}
			for k, vs := range v {
				w[k] = vs
			}
			w.Set("after", next)
			if next == "" { // the first page
				w.Del("after")
			}
			return template.URL("?" + w.Encode())
		},
		"lines":  func(s []string) string { return strings.Join(s, "\n") },
		"hasKey": func(m map[string]bool, k string) bool { return m[k] },
		"orderOf": func(m map[string]int, k string) string {
			if n, ok := m[k]; ok {
				return fmt.Sprint(n)
			}
			return ""
		},
		"escPath":  escapePath,
		"contains": slices.Contains[[]string],
	}
}

// humanSize is n bytes in binary units.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// when is a time as pages show it, "never" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
