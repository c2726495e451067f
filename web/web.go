// Package web holds the pages the server renders, embedded into the binary.
package web

import (
	"embed"
	"html/template"
)

//go:embed templates/*.html
var files embed.FS

// Browse renders a repository folder listing; its data is a BrowsePage.
var Browse = template.Must(template.ParseFS(files, "templates/browse.html"))

// BrowsePage is what the browse template shows.
type BrowsePage struct {
	Repository string
	Path       string
	// Parent is the link to the enclosing folder, empty at the root.
	Parent  string
	Entries []BrowseEntry
	// Next is the link to the listing's next page, empty on the last.
	Next string
}

// BrowseEntry is one line of a listing.
type BrowseEntry struct {
	Name         string
	Href         string
	Dir          bool
	Size         int64
	LastModified string
}
