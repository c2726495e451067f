package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLastDownloadedEveryFormat: for every format of accessFormats, a GET
// of content from a hosted repository, a proxy of it and a group records
// the served asset's lastDownloaded (shown by /v1/assets), written by the
// shutdown's flush, not by a HEAD, and not rewritten by a download within
// the hour (after a restart too).
func TestLastDownloadedEveryFormat(t *testing.T) {
	s := startServer(t)
	type served struct{ target, repo, path string }
	var gets []served
	for _, f := range accessFormats {
		h, h2, px, grp := f.name+"-dl", f.name+"-dl2", f.name+"-dl-px", f.name+"-dl-grp"
		mustCreate(s, f, "hosted", f.hosted(t, h))
		mustCreate(s, f, "hosted", f.hosted(t, h2))
		mustCreate(s, f, "proxy", f.proxy(t, s, px, f.upstreamURL(s, h)))
		mustCreate(s, f, "group", f.group(t, grp, "", h2))
		route := f.route
		// downloads are the paths of what seed stored in repo to GET.
		downloads := func(repo string) []string { return f.downloaded(t, s, repo, f.seed(t, s, repo)) }
		for _, p := range downloads(h) {
			gets = append(gets, served{route(h, p), h, p}, served{route(px, p), px, p})
		}
		for _, p := range downloads(h2) {
			gets = append(gets, served{route(grp, p), h2, p}) // the member's asset
		}
	}
	lastDownloaded := func(repo, p string) *time.Time {
		t.Helper()
		items, _ := listAll[struct {
			Path           string     `json:"path"`
			LastDownloaded *time.Time `json:"lastDownloaded"`
		}](s, "/v1/assets?repository="+url.QueryEscape(repo))
		for _, a := range items {
			if a.Path == p {
				return a.LastDownloaded
			}
		}
		t.Fatalf("%s has no asset %s", repo, p)
		return nil
	}
	fetch := func(method string, which func(served) bool) {
		t.Helper()
		for _, g := range gets {
			if !which(g) {
				continue
			}
			if res := s.do(method, g.target, s.admin(), nil, nil); res.status != http.StatusOK {
				t.Fatalf("%s %s: %d %s", method, g.target, res.status, res.body)
			}
		}
	}
	// Each restart moves the port, which the proxies' remote URLs name:
	// the proxies download (and cache) before the first.
	inGroup := func(g served) bool { return strings.HasSuffix(g.repo, "-dl2") }
	notInGroup := func(g served) bool { return !inGroup(g) }
	check := func(which func(served) bool, from, to time.Time) map[served]time.Time {
		t.Helper()
		times := map[served]time.Time{}
		for _, g := range gets {
			if !which(g) {
				continue
			}
			got := lastDownloaded(g.repo, g.path)
			if got == nil || got.Before(from) || got.After(to) {
				t.Fatalf("%s %s after GET %s: lastDownloaded %v, want between %v and %v", g.repo, g.path, g.target, got, from, to)
			}
			times[g] = *got
		}
		return times
	}

	fetch(http.MethodHead, inGroup)
	before := time.Now().Add(-time.Second)
	fetch(http.MethodGet, notInGroup)
	after := time.Now().Add(time.Second)
	s.stop() // the flush at shutdown writes what the minute's flush has not
	s.restart()
	for _, g := range gets {
		if inGroup(g) && lastDownloaded(g.repo, g.path) != nil {
			t.Errorf("%s %s: lastDownloaded set by a HEAD", g.repo, g.path)
		}
	}
	first := check(notInGroup, before, after)

	before = time.Now().Add(-time.Second)
	fetch(http.MethodGet, func(served) bool { return true })
	after = time.Now().Add(time.Second)
	s.stop()
	s.restart()
	check(inGroup, before, after)
	for g, t0 := range first {
		if got := lastDownloaded(g.repo, g.path); got == nil || !got.Equal(t0) {
			t.Errorf("%s %s: lastDownloaded %v after a download within the hour, want %v kept", g.repo, g.path, got, t0)
		}
	}
}
