package main

// The browser fixture's own test (browser_test.go).

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUIFixture runs the fixture on pages of its own, no nexus-go between:
// axe-core finds the violations a page has (a failure here is the
// fixture's, not the UI's) and none on a clean page, and every checked
// page leaves a screenshot.
func TestUIFixture(t *testing.T) {
	t.Parallel()
	pages := map[string]string{
		"/bad": `<!doctype html><html><head><title>bad</title></head><body>
<img src="/none.png"><p style="color:#bbb;background:#fff">faint text</p><input type="text"></body></html>`,
		"/good": `<!doctype html><html lang="en"><head><title>good</title></head><body><main><h1>Good</h1>
<label for="q">Query</label><input id="q" type="text"></main></body></html>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page, ok := pages[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			page = strings.ReplaceAll(pages["/good"], "Good", "Not found")
		}
		io.WriteString(w, page)
	}))
	defer srv.Close()
	b := newUIBrowser(t, srv.URL)
	u := b.session("fixture")

	u.open("/good")
	if u.text("h1") != "Good" {
		t.Errorf("h1 of /good: %q", u.text("h1"))
	}
	if status := u.open("/missing"); status != http.StatusNotFound {
		t.Errorf("status of a missing page: %d, want 404", status)
	}
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, v := range u.axe() {
		if v.blocking() {
			found[v.ID] = v.Impact
		}
	}
	for _, id := range []string{"image-alt", "color-contrast", "label", "html-has-lang"} {
		if found[id] == "" {
			t.Errorf("axe-core did not report %s as serious or critical on /bad; it reported %v", id, found)
		}
	}
	shots, _ := filepath.Glob(filepath.Join(b.out, b.name+"-*.png"))
	if len(shots) != 2 {
		t.Errorf("screenshots %v, want the two checked pages", shots)
	}
}
