package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
	"github.com/nexus-go/nexus-go/web"
)

// browseEntry is one entry of the JSON folder listing.
type browseEntry struct {
	Name         string     `json:"name"`
	Path         string     `json:"path"`
	Type         string     `json:"type"`
	Size         int64      `json:"size,omitempty"`
	ContentType  string     `json:"contentType,omitempty"`
	LastModified *time.Time `json:"lastModified,omitempty"`
}

// browsePage reads a listing's page from the query: after (the next token
// of the page before) and limit (1 to meta.DefaultPageSize, the default).
func browsePage(q url.Values) (after string, limit int, err error) {
	limit = meta.DefaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > meta.DefaultPageSize {
			return "", 0, errs.New(errs.Invalid, "limit must be a number from 1 to %d", meta.DefaultPageSize)
		}
		limit = n
	}
	return q.Get("after"), limit, nil
}

// browse lists a page of folder dir of r as HTML, or as JSON for clients
// that accept it; the next page is a link in the page, and a Link header
// (rel="next") with the JSON array, which stays the body as it was before
// listings had pages.
func (s *Server) browse(w http.ResponseWriter, req *http.Request, r repo.Repository, dir string) {
	ctx := req.Context()
	if err := r.AuthorizeFolder(ctx, "browse", dir); err != nil {
		serve.Error(w, req, s.log, err)
		return
	}
	after, limit, err := browsePage(req.URL.Query())
	if err != nil {
		serve.Error(w, req, s.log, err)
		return
	}
	entries, next, err := r.List(ctx, dir, after, limit)
	if err != nil {
		serve.Error(w, req, s.log, err)
		return
	}
	entries = repo.BrowsableEntries(ctx, r, entries)
	nextHref := ""
	if next != "" {
		q := url.Values{"after": {next}}
		if req.URL.Query().Has("limit") {
			q.Set("limit", strconv.Itoa(limit))
		}
		nextHref = "?" + q.Encode()
		w.Header().Set("Link", "<"+nextHref+`>; rel="next"`)
	}
	if strings.Contains(req.Header.Get("Accept"), "application/json") {
		out := make([]browseEntry, 0, len(entries))
		for _, e := range entries {
			be := browseEntry{Name: e.Name, Path: e.Path, Type: "folder"}
			if !e.Dir {
				be.Type = "file"
				be.Size = e.Asset.Size
				be.ContentType = e.Asset.ContentType
				be.LastModified = &e.Asset.LastModified
			}
			out = append(out, be)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
		return
	}
	page := web.BrowsePage{Repository: r.Name(), Path: dir, Next: nextHref}
	if dir != "" {
		page.Parent = "../"
		page.Path += "/"
	}
	for _, e := range entries {
		be := web.BrowseEntry{Name: e.Name, Href: repo.EscapePath(e.Name), Dir: e.Dir}
		if e.Dir {
			be.Href += "/"
		} else {
			be.Size = e.Asset.Size
			be.LastModified = e.Asset.LastModified.UTC().Format(time.RFC1123)
		}
		page.Entries = append(page.Entries, be)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := web.Browse.Execute(w, page); err != nil {
		s.log.Warn("browse page", "err", err)
	}
}
