package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

const hostedRawH = `{"name":"raw-h","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"allow"}}`

const groupRawG = `{"name":"raw-g","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},"group":{"memberNames":["raw-h","raw-p"]}}`

// TestRawHostedProxyGroup creates the three raw repositories, the proxy
// pointing at the hosted repository of a second server with real
// credentials, and checks 3 MB files through each, ranges, HEAD and ETags.
func TestRawHostedProxyGroup(t *testing.T) {
	upstream := startServer(t)
	upstream.createRepo("hosted", hostedRawH)
	upstream.createRole("raw-reader", "nx-repository-view-raw-*-read")
	upstream.createUser("u", "p", "raw-reader")

	s := startServer(t)
	s.createRepo("hosted", hostedRawH)
	s.createRepo("proxy", proxyBody("raw-p", upstream.url("/repository/raw-h/"), "u", "p"))
	s.createRepo("group", groupRawG)

	var repos []struct{ Name, Format, Type string }
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories", s.admin(), nil, &repos)
	types := map[string]string{}
	for _, r := range repos {
		types[r.Name] = r.Format + "/" + r.Type
	}
	for name, want := range map[string]string{"raw-h": "raw/hosted", "raw-p": "raw/proxy", "raw-g": "raw/group"} {
		if types[name] != want {
			t.Errorf("repository %s: %q, want %q (all: %v)", name, types[name], want, types)
		}
	}

	local := randomBytes(t, 3<<20)
	remote := randomBytes(t, 3<<20)
	s.put("raw-h", "dir/local.bin", local)
	upstream.put("raw-h", "dir/remote.bin", remote)

	// The user u can read upstream but not write there.
	if res := upstream.do(http.MethodPut, "/repository/raw-h/dir/x.bin", &creds{"u", "p"}, []byte("x"), nil); res.status != http.StatusForbidden {
		t.Errorf("upstream PUT as u: status %d, want 403", res.status)
	}

	s.getExpect("raw-h", "dir/local.bin", local)
	s.getExpect("raw-p", "dir/remote.bin", remote)
	s.getExpect("raw-g", "dir/local.bin", local)
	s.getExpect("raw-g", "dir/remote.bin", remote)
	// A hosted path is not visible through the proxy.
	if res := s.do(http.MethodGet, "/repository/raw-p/dir/local.bin", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET raw-p/dir/local.bin: status %d, want 404", res.status)
	}

	// The proxy cached what it fetched (just after the client had it all).
	found := pollUntil(50, func() bool {
		for _, a := range s.assets("raw-p") {
			if a.Path == "dir/remote.bin" {
				if a.FileSize != int64(len(remote)) {
					t.Errorf("cached asset size %d, want %d", a.FileSize, len(remote))
				}
				return true
			}
		}
		return false
	})
	if !found {
		t.Errorf("raw-p has no asset dir/remote.bin after a download")
	}

	for _, tc := range []struct {
		repo, path string
		data       []byte
	}{
		{"raw-h", "dir/local.bin", local},
		{"raw-p", "dir/remote.bin", remote},
		{"raw-g", "dir/local.bin", local},
		{"raw-g", "dir/remote.bin", remote},
	} {
		p := "/repository/" + tc.repo + "/" + tc.path

		res := s.do(http.MethodGet, p, s.admin(), nil, http.Header{"Range": {"bytes=1000000-1065535"}})
		if res.status != http.StatusPartialContent {
			t.Errorf("range GET %s: status %d, want 206", p, res.status)
		} else if !bytes.Equal(res.body, tc.data[1000000:1065536]) {
			t.Errorf("range GET %s: got %d bytes, not the requested slice", p, len(res.body))
		}
		if got, want := res.header.Get("Content-Range"), "bytes 1000000-1065535/"+strconv.Itoa(len(tc.data)); res.status == http.StatusPartialContent && got != want {
			t.Errorf("range GET %s: Content-Range %q, want %q", p, got, want)
		}
		res = s.do(http.MethodGet, p, s.admin(), nil, http.Header{"Range": {"bytes=-100"}})
		if res.status != http.StatusPartialContent || !bytes.Equal(res.body, tc.data[len(tc.data)-100:]) {
			t.Errorf("suffix range GET %s: status %d, %d bytes; want 206 and the last 100 bytes", p, res.status, len(res.body))
		}

		res = s.do(http.MethodHead, p, s.admin(), nil, nil)
		if res.status != http.StatusOK {
			t.Errorf("HEAD %s: status %d, want 200", p, res.status)
		}
		if got := res.header.Get("Content-Length"); got != strconv.Itoa(len(tc.data)) {
			t.Errorf("HEAD %s: Content-Length %q, want %d", p, got, len(tc.data))
		}
		if len(res.body) != 0 {
			t.Errorf("HEAD %s: %d body bytes", p, len(res.body))
		}

		res = s.do(http.MethodGet, p, s.admin(), nil, nil)
		etag := res.header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", p)
			continue
		}
		res = s.do(http.MethodGet, p, s.admin(), nil, http.Header{"If-None-Match": {etag}})
		if res.status != http.StatusNotModified || len(res.body) != 0 {
			t.Errorf("GET %s If-None-Match %s: status %d with %d bytes, want 304 and no body", p, etag, res.status, len(res.body))
		}
		res = s.do(http.MethodGet, p, s.admin(), nil, http.Header{"If-None-Match": {`"0000"`}})
		if res.status != http.StatusOK || !bytes.Equal(res.body, tc.data) {
			t.Errorf("GET %s with a stale If-None-Match: status %d, want 200 and the full body", p, res.status)
		}
	}

	// Writes to proxy and group repositories are refused.
	for _, repo := range []string{"raw-p", "raw-g"} {
		if res := s.do(http.MethodPut, "/repository/"+repo+"/new.bin", s.admin(), []byte("x"), nil); res.status != http.StatusMethodNotAllowed {
			t.Errorf("PUT to %s: status %d, want 405", repo, res.status)
		}
	}

	// DELETE of a hosted file: 204, then 404.
	if res := s.do(http.MethodDelete, "/repository/raw-h/dir/local.bin", s.admin(), nil, nil); res.status != http.StatusNoContent {
		t.Errorf("DELETE: status %d, want 204", res.status)
	}
	if res := s.do(http.MethodGet, "/repository/raw-h/dir/local.bin", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET after DELETE: status %d, want 404", res.status)
	}
}

// TestWritePolicy covers allow_once (given in capitals) and deny.
func TestWritePolicy(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedBody("raw-once", "ALLOW_ONCE"))
	s.createRepo("hosted", hostedBody("raw-deny", "DENY"))

	var cfg struct {
		Storage struct {
			WritePolicy string `json:"writePolicy"`
		} `json:"storage"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/hosted/raw-once", s.admin(), nil, &cfg)
	if cfg.Storage.WritePolicy != "ALLOW_ONCE" {
		t.Errorf("raw-once writePolicy %q, want ALLOW_ONCE", cfg.Storage.WritePolicy)
	}

	first, second := []byte("first version\n"), []byte("second version, longer\n")
	s.put("raw-once", "a/file.txt", first)
	res := s.do(http.MethodPut, "/repository/raw-once/a/file.txt", s.admin(), second, nil)
	if res.status != http.StatusBadRequest {
		t.Errorf("second PUT under ALLOW_ONCE: status %d, want 400: %s", res.status, res.body)
	}
	s.getExpect("raw-once", "a/file.txt", first)
	// Same bytes again is still an update of an existing asset.
	if res := s.do(http.MethodPut, "/repository/raw-once/a/file.txt", s.admin(), first, nil); res.status != http.StatusBadRequest {
		t.Errorf("identical re-PUT under ALLOW_ONCE: status %d, want 400", res.status)
	}
	// Another path is a first write.
	s.put("raw-once", "a/other.txt", second)
	if bs := s.blobStore(); bs.BlobCount != 2 {
		t.Errorf("blob count %d after two distinct files (and a refused one), want 2", bs.BlobCount)
	}

	res = s.do(http.MethodPut, "/repository/raw-deny/a/file.txt", s.admin(), first, nil)
	if res.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT under DENY: status %d, want 405: %s", res.status, res.body)
	}
	if res := s.do(http.MethodGet, "/repository/raw-deny/a/file.txt", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET after refused PUT: status %d, want 404", res.status)
	}
	if n := len(s.assets("raw-deny")); n != 0 {
		t.Errorf("raw-deny has %d assets, want 0", n)
	}
	if n := len(s.tempFiles()); n != 0 {
		t.Errorf("%d temp files left after refused uploads", n)
	}
}

// TestAllowOnceConcurrentFirstWrites races 20 first uploads of different
// contents to one path of an allow_once repository: one wins, the others
// are refused, and the refused contents leave nothing on disk.
func TestAllowOnceConcurrentFirstWrites(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedBody("raw-once", "allow_once"))

	const clients = 20
	bodies := make([][]byte, clients)
	for i := range bodies {
		bodies[i] = randomBytes(t, 200_000+i)
	}
	statuses := make([]int, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			resp, err := s.request(context.Background(), http.MethodPut, "/repository/raw-once/the/file.bin", s.admin(), bytes.NewReader(bodies[i]), nil)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}(i)
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			if winner >= 0 {
				t.Errorf("clients %d and %d both got 201 under allow_once", winner, i)
			}
			winner = i
		case http.StatusBadRequest:
		default:
			t.Errorf("client %d: status %d, want 201 or 400", i, st)
		}
	}
	if winner < 0 {
		t.Fatalf("no upload succeeded: %v", statuses)
	}
	s.getExpect("raw-once", "the/file.bin", bodies[winner])
	if bs := s.blobStore(); bs.BlobCount != 1 || bs.TotalSizeInBytes != int64(len(bodies[winner])) {
		t.Errorf("blob store %+v, want only the winner's %d bytes", bs, len(bodies[winner]))
	}
	if files := s.blobFiles(); len(files) != 1 {
		// The refused uploads' blobs were committed before the write
		// policy refused them inside the metadata transaction, and stay.
		t.Errorf("%d blob files on disk after one accepted and %d refused uploads, want 1 (refused contents leak until a restart's sweep)", len(files), clients-1)
	}
	if tmp := s.tempFiles(); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}
	// The start-up sweep does remove them: only the winner survives.
	s.stop()
	s.restart()
	if files := s.blobFiles(); len(files) != 1 {
		t.Errorf("%d blob files after a restart, want 1", len(files))
	}
	s.getExpect("raw-once", "the/file.bin", bodies[winner])
}
