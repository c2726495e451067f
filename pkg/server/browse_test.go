package server

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBrowsePages: a folder listing pages, in HTML by its next-page link
// and in JSON by its Link header, listing every child once.
func TestBrowsePages(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, nil)
	get := func(path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.main+path, nil)
		req.SetBasicAuth("admin", s.adminPW)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, p := range []string{"a", "a.txt", "a/b", "c d", "e/f/g", "h"} {
		req, _ := http.NewRequest(http.MethodPut, "http://"+s.main+"/repository/raw-h/"+p, strings.NewReader(p))
		req.SetBasicAuth("admin", s.adminPW)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: %d", p, resp.StatusCode)
		}
	}
	want := []string{"a", "a.txt", "a/", "c d", "e/", "h"}

	entryRe := regexp.MustCompile(`<tr><td><a href="([^"]+)">`)
	nextRe := regexp.MustCompile(`<a id="next-page" rel="next" href="([^"]+)">`)
	var got []string
	path := "/repository/raw-h/?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > len(want) {
			t.Fatal("HTML paging does not end")
		}
		resp, body := get(path, "text/html")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		for _, m := range entryRe.FindAllStringSubmatch(body, -1) {
			name, err := url.PathUnescape(html.UnescapeString(m[1]))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
		}
		path = ""
		if m := nextRe.FindStringSubmatch(body); m != nil {
			path = "/repository/raw-h/" + html.UnescapeString(m[1])
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("HTML pages listed %v, want %v", got, want)
	}

	got = nil
	path = "/repository/raw-h/?limit=4"
	for pages := 0; path != ""; pages++ {
		if pages > len(want) {
			t.Fatal("JSON paging does not end")
		}
		resp, body := get(path, "application/json")
		var entries []browseEntry
		if err := json.Unmarshal([]byte(body), &entries); err != nil {
			t.Fatalf("GET %s: %d %q: %v", path, resp.StatusCode, body, err)
		}
		for _, e := range entries {
			if e.Type == "folder" {
				e.Name += "/"
			}
			got = append(got, e.Name)
		}
		path = ""
		if link := resp.Header.Get("Link"); link != "" {
			m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(link)
			if m == nil {
				t.Fatalf("Link: %q", link)
			}
			path = "/repository/raw-h/" + m[1]
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("JSON pages listed %v, want %v", got, want)
	}

	// One page holds everything by default; a bad limit is refused.
	if resp, body := get("/repository/raw-h/", "application/json"); resp.Header.Get("Link") != "" || strings.Count(body, `"name"`) != len(want) {
		t.Fatalf("default page: Link %q, %s", resp.Header.Get("Link"), body)
	}
	if resp, _ := get("/repository/raw-h/?after=a/b", "application/json"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("after a grandchild: %d, want 400", resp.StatusCode)
	}
	for _, bad := range []string{"0", "-1", "1001", "x"} {
		if resp, _ := get("/repository/raw-h/?limit="+bad, "application/json"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("limit=%s: %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, _ := get("/repository/raw-h/nope/", "text/html"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing folder: %d", resp.StatusCode)
	}
}
