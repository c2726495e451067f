package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// validationError is an entry of a Nexus 400 body.
type validationError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// TestRESTValidation checks the 400 lists for invalid repository bodies,
// duplicates and 404s for unknown repositories.
func TestRESTValidation(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedRawH)
	var before []struct{ Name string }
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories", s.admin(), nil, &before)

	for _, tc := range []struct {
		name, kind, body, field string
	}{
		{"missing storage", "hosted", `{"name":"bad1","online":true}`, "storage"},
		{"null storage", "hosted", `{"name":"bad1","online":true,"storage":null}`, "storage"},
		{"missing name", "hosted", `{"online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"allow"}}`, "name"},
		{"bad write policy", "hosted", hostedBody("bad2", "sometimes"), "storage.writePolicy"},
		{"unknown blob store", "hosted", `{"name":"bad3","online":true,"storage":{"blobStoreName":"nope","strictContentTypeValidation":false,"writePolicy":"allow"}}`, "storage.blobStoreName"},
		{"bad name", "hosted", hostedBody("bad name/x", "allow"), "name"},
		{"missing group member", "group", `{"name":"bad4","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},"group":{"memberNames":["raw-h","does-not-exist"]}}`, "group.memberNames"},
		{"empty group", "group", `{"name":"bad5","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},"group":{"memberNames":[]}}`, "group.memberNames"},
		{"proxy without proxy section", "proxy", `{"name":"bad6","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false}}`, "proxy"},
		{"proxy with a bad URL", "proxy", anonProxyBody("bad7", "ftp://127.0.0.1/x/", 1440), "proxy.remoteUrl"},
		{"duplicate name", "hosted", hostedRawH, "name"},
		{"duplicate name, other case", "hosted", hostedBody("RAW-H", "allow"), "name"},
		{"malformed JSON", "hosted", `{"name":`, ""},
	} {
		res := s.doJSON(http.MethodPost, "/v1/repositories/raw/"+tc.kind, s.admin(), tc.body, nil)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", tc.name, res.status, res.body)
			continue
		}
		var list []validationError
		if err := json.Unmarshal(res.body, &list); err != nil || len(list) == 0 {
			t.Errorf("%s: body %q is not a non-empty JSON list of {id,message}", tc.name, res.body)
			continue
		}
		if tc.field != "" && list[0].ID != "PARAMETER "+tc.field {
			t.Errorf("%s: error id %q, want %q (%s)", tc.name, list[0].ID, "PARAMETER "+tc.field, res.body)
		}
		if list[0].Message == "" {
			t.Errorf("%s: empty message", tc.name)
		}
	}

	var after []struct{ Name string }
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories", s.admin(), nil, &after)
	if !slices.Equal(after, before) {
		t.Errorf("refused bodies changed the repositories from %+v to %+v", before, after)
	}

	// Unknown repositories.
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/v1/repositories/nope"},
		{http.MethodGet, "/v1/repositories/raw/hosted/nope"},
		{http.MethodDelete, "/v1/repositories/nope"},
		{http.MethodGet, "/v1/components?repository=nope"},
		{http.MethodGet, "/v1/assets?repository=nope"},
	} {
		if res := s.doJSON(tc.method, tc.path, s.admin(), nil, nil); res.status != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404: %s", tc.method, tc.path, res.status, res.body)
		}
	}
	if res := s.doJSON(http.MethodPut, "/v1/repositories/raw/hosted/nope", s.admin(), hostedBody("nope", "allow"), nil); res.status != http.StatusNotFound {
		t.Errorf("PUT of an unknown repository: status %d, want 404: %s", res.status, res.body)
	}
	if res := s.do(http.MethodGet, "/repository/nope/x.txt", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("content of an unknown repository: status %d, want 404", res.status)
	}
	// Updating with an invalid body is refused and keeps the old settings.
	if res := s.doJSON(http.MethodPut, "/v1/repositories/raw/hosted/raw-h", s.admin(), hostedBody("raw-h", "sometimes"), nil); res.status != http.StatusBadRequest {
		t.Errorf("PUT with writePolicy sometimes: status %d, want 400", res.status)
	}
	var cfg struct {
		Storage struct{ WritePolicy string } `json:"storage"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/hosted/raw-h", s.admin(), nil, &cfg)
	if cfg.Storage.WritePolicy != "ALLOW" {
		t.Errorf("writePolicy after a refused update: %q, want ALLOW", cfg.Storage.WritePolicy)
	}
	// A valid update applies.
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/raw/hosted/raw-h", s.admin(), hostedBody("raw-h", "deny"), nil)
	if res := s.do(http.MethodPut, "/repository/raw-h/x.txt", s.admin(), []byte("x"), nil); res.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT after switching to deny: status %d, want 405", res.status)
	}

	// A group member cannot be deleted; the group, then the member, can.
	s.createRepo("hosted", hostedBody("member", "allow"))
	s.createRepo("group", `{"name":"grp","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},"group":{"memberNames":["member"]}}`)
	if res := s.doJSON(http.MethodDelete, "/v1/repositories/member", s.admin(), nil, nil); res.status != http.StatusBadRequest {
		t.Errorf("DELETE of a group member: status %d, want 400", res.status)
	}
	s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/repositories/grp", s.admin(), nil, nil)
	s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/repositories/member", s.admin(), nil, nil)
	if res := s.doJSON(http.MethodGet, "/v1/repositories/member", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET of a deleted repository: status %d, want 404", res.status)
	}
}

// TestRESTPagination lists 25 components and assets with the default page
// size of 10: three pages, all distinct, 25 in all.
func TestRESTPagination(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedBody("raw-a", "allow"))
	s.createRepo("hosted", hostedBody("raw-b", "allow"))
	want := map[string]bool{}
	for i := 0; i < 25; i++ {
		p := fmt.Sprintf("pkg/%02d/file-%02d.txt", i%4, i)
		want[p] = true
		s.put("raw-a", p, []byte("content "+p))
	}
	// Content of another repository must not leak into the listing.
	for i := 0; i < 3; i++ {
		s.put("raw-b", fmt.Sprintf("other-%d.txt", i), []byte("other"))
	}

	comps, pages := listAll[component](s, "/v1/components?repository=raw-a")
	if fmt.Sprint(pages) != "[10 10 5]" {
		t.Errorf("component pages of %v items, want [10 10 5]", pages)
	}
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, c := range comps {
		if c.Repository != "raw-a" {
			t.Errorf("component %s of repository %s listed", c.Name, c.Repository)
		}
		if seen[c.Name] || ids[c.ID] {
			t.Errorf("component %s (%s) listed twice", c.Name, c.ID)
		}
		seen[c.Name], ids[c.ID] = true, true
		if len(c.Assets) != 1 || c.Assets[0].Path != c.Name {
			t.Errorf("component %s: assets %+v, want its one file", c.Name, c.Assets)
		}
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("component %s missing from the listing", p)
		}
	}

	assets, pages := listAll[asset](s, "/v1/assets?repository=raw-a")
	if fmt.Sprint(pages) != "[10 10 5]" {
		t.Errorf("asset pages of %v items, want [10 10 5]", pages)
	}
	seenAssets := map[string]bool{}
	for _, a := range assets {
		if seenAssets[a.Path] {
			t.Errorf("asset %s listed twice", a.Path)
		}
		seenAssets[a.Path] = true
		if !want[a.Path] {
			t.Errorf("unexpected asset %s (repository %s)", a.Path, a.Repository)
		}
	}
	if len(seenAssets) != len(want) {
		t.Errorf("%d distinct assets listed, want %d", len(seenAssets), len(want))
	}

	// An explicit page size and a bad token.
	_, pages = listAll[asset](s, "/v1/assets?repository=raw-a&pageSize=7")
	if fmt.Sprint(pages) != "[7 7 7 4]" {
		t.Errorf("asset pages with pageSize=7: %v, want [7 7 7 4]", pages)
	}
	if res := s.doJSON(http.MethodGet, "/v1/assets?repository=raw-a&continuationToken=%21%21%21", s.admin(), nil, nil); res.status != http.StatusBadRequest {
		t.Errorf("bad continuation token: status %d, want 400", res.status)
	}
	if res := s.doJSON(http.MethodGet, "/v1/assets?repository=raw-a&continuationToken=not*base64", s.admin(), nil, nil); res.status != http.StatusBadRequest {
		t.Errorf("bad continuation token: status %d, want 400", res.status)
	}

	// Search finds a component by name pattern.
	var found page[component]
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/search?repository=raw-a&name=pkg/01/*", s.admin(), nil, &found)
	for _, c := range found.Items {
		if !strings.HasPrefix(c.Name, "pkg/01/") {
			t.Errorf("search name=pkg/01/* found %s", c.Name)
		}
	}
	if len(found.Items) != 6 {
		t.Errorf("search name=pkg/01/* found %d components, want 6", len(found.Items))
	}
}
