package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// A real server with two file stores: the same bytes pushed to raw
// repositories in each land in each store's directory and count in each;
// deleting from one frees only its copy; after a restart both repositories
// read from their stores; a store over its soft quota still takes writes
// and says so once in the log and in quota-status.
func TestBlobStoresE2E(t *testing.T) {
	s := startServer(t)
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/blobstores/file", s.admin(), map[string]any{"name": "team", "path": "team-dir"}, nil)
	s.createRepo("hosted", hostedBody("raw-a", "allow"))
	s.createRepo("hosted", strings.Replace(hostedBody("raw-b", "allow"), `"default"`, `"team"`, 1))
	data := []byte("the same bytes in two stores")
	s.put("raw-a", "f.txt", data)
	s.put("raw-b", "f.txt", data)
	key := sha(data)
	shard := filepath.Join(key[:2], key)
	teamFiles := func() map[string]int64 {
		return filesUnder(t, filepath.Join(s.dataDir, "blobs", "team-dir", "content"))
	}
	if _, ok := s.blobFiles()[shard]; !ok {
		t.Fatalf("default store lacks the blob: %v", s.blobFiles())
	}
	if _, ok := teamFiles()[shard]; !ok {
		t.Fatalf("team store lacks its copy: %v", teamFiles())
	}
	counts := func() map[string]int64 {
		var list []blobStore
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/blobstores", s.admin(), nil, &list)
		out := map[string]int64{}
		for _, b := range list {
			out[b.Name] = b.BlobCount
		}
		return out
	}
	if c := counts(); c["default"] != 1 || c["team"] != 1 {
		t.Fatalf("blob counts %v, want one in each", c)
	}
	if res := s.do(http.MethodDelete, "/repository/raw-b/f.txt", s.admin(), nil, nil); res.status != http.StatusNoContent {
		t.Fatalf("DELETE raw-b/f.txt: %d %s", res.status, res.body)
	}
	if _, ok := teamFiles()[shard]; ok {
		t.Fatal("deleting from raw-b left team's copy")
	}
	if _, ok := s.blobFiles()[shard]; !ok {
		t.Fatal("deleting from raw-b freed the default store's copy")
	}
	if c := counts(); c["default"] != 1 || c["team"] != 0 {
		t.Fatalf("blob counts after the delete %v", c)
	}

	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/blobstores/file/team", s.admin(),
		map[string]any{"path": "team-dir", "softQuota": map[string]any{"type": "spaceUsedQuota", "limit": 10}}, nil)
	s.put("raw-b", "g.txt", data) // over the quota, written all the same
	s.put("raw-b", "h.txt", []byte("more"))
	var qs struct {
		IsViolation   bool   `json:"isViolation"`
		Message       string `json:"message"`
		BlobStoreName string `json:"blobStoreName"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/blobstores/team/quota-status", s.admin(), nil, &qs)
	if !qs.IsViolation || qs.BlobStoreName != "team" || qs.Message != "Blob store team is using 32 Bytes space and has a limit of 10 Bytes" {
		t.Fatalf("quota status %+v", qs)
	}
	if n := strings.Count(s.logs.String(), "blob store soft quota violated"); n != 1 {
		t.Fatalf("violation logged %d times, want once", n)
	}

	s.stop()
	s.restart()
	s.getExpect("raw-a", "f.txt", data)
	s.getExpect("raw-b", "g.txt", data)
	var store struct {
		Path      string `json:"path"`
		SoftQuota *struct {
			Type  string `json:"type"`
			Limit int64  `json:"limit"`
		} `json:"softQuota"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/blobstores/file/team", s.admin(), nil, &store)
	if store.Path != "team-dir" || store.SoftQuota == nil || store.SoftQuota.Limit != 10 {
		t.Fatalf("team after restart %+v", store)
	}
	if res := s.do(http.MethodDelete, "/service/rest/v1/blobstores/team", s.admin(), nil, nil); res.status != http.StatusBadRequest {
		t.Fatalf("deleting a store in use: %d %s", res.status, res.body)
	}
}
