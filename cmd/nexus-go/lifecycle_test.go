package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"sync"
	"testing"
)

// TestRestartKeepsEverything uploads, stops the server with SIGTERM (it must
// exit 0), starts it again on the same data directory and reads everything
// back.
func TestRestartKeepsEverything(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedRawH)
	s.createRepo("hosted", hostedBody("raw-once", "allow_once"))
	s.createRepo("group", `{"name":"raw-g","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},"group":{"memberNames":["raw-h","raw-once"]}}`)
	s.createRole("deployer", "nx-repository-view-raw-raw-h-*")
	s.createUser("dev", "dev-pw", "deployer")

	files := map[string][]byte{}
	for i := 0; i < 6; i++ {
		p := fmt.Sprintf("dir%d/file-%d.bin", i%2, i)
		files[p] = randomBytes(t, 10_000+i*50_000)
		if res := s.do(http.MethodPut, "/repository/raw-h/"+p, &creds{"dev", "dev-pw"}, files[p], nil); res.status != http.StatusCreated {
			t.Fatalf("PUT %s as dev: %d %s", p, res.status, res.body)
		}
	}
	s.put("raw-once", "once.txt", []byte("once"))
	s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", s.admin(),
		`{"enabled":true,"userId":"anonymous","realmName":"NexusAuthorizingRealm"}`, nil)

	snapshot := func() (repos, users, roles any, comps []component, bs blobStore) {
		t.Helper()
		var r, u, ro []map[string]any
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories", s.admin(), nil, &r)
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/users", s.admin(), nil, &u)
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/roles", s.admin(), nil, &ro)
		// URLs carry the port, which changes with the restart.
		for _, x := range r {
			delete(x, "url")
		}
		comps, _ = listAll[component](s, "/v1/components?repository=raw-h")
		sort.Slice(comps, func(i, j int) bool { return comps[i].Name < comps[j].Name })
		for i := range comps {
			for j := range comps[i].Assets {
				comps[i].Assets[j].Checksum = nil
			}
		}
		return r, u, ro, comps, s.blobStore()
	}
	repos1, users1, roles1, comps1, bs1 := snapshot()
	if len(comps1) != len(files) {
		t.Fatalf("%d components before restart, want %d", len(comps1), len(files))
	}
	pw := s.adminPW

	s.stop()
	s.restart()

	if s.adminPW != pw {
		t.Errorf("admin password file changed across the restart")
	}
	repos2, users2, roles2, comps2, bs2 := snapshot()
	if !reflect.DeepEqual(repos1, repos2) {
		t.Errorf("repositories changed across the restart:\nbefore %v\nafter  %v", repos1, repos2)
	}
	if !reflect.DeepEqual(users1, users2) {
		t.Errorf("users changed across the restart:\nbefore %v\nafter  %v", users1, users2)
	}
	if !reflect.DeepEqual(roles1, roles2) {
		t.Errorf("roles changed across the restart:\nbefore %v\nafter  %v", roles1, roles2)
	}
	if !reflect.DeepEqual(comps1, comps2) {
		t.Errorf("components changed across the restart:\nbefore %+v\nafter  %+v", comps1, comps2)
	}
	if bs1 != bs2 {
		t.Errorf("blob store changed across the restart: before %+v after %+v", bs1, bs2)
	}
	for p, data := range files {
		s.getExpect("raw-h", p, data)
		s.getExpect("raw-g", p, data)
	}
	// Users, roles and settings are in force, not just listed.
	if res := s.do(http.MethodGet, "/repository/raw-h/dir0/file-0.bin", &creds{"dev", "dev-pw"}, nil, nil); res.status != http.StatusOK {
		t.Errorf("GET as dev after restart: %d", res.status)
	}
	if res := s.do(http.MethodPut, "/repository/raw-h/after.txt", &creds{"dev", "dev-pw"}, []byte("after"), nil); res.status != http.StatusCreated {
		t.Errorf("PUT as dev after restart: %d", res.status)
	}
	if res := s.do(http.MethodGet, "/repository/raw-h/dir0/file-0.bin", nil, nil, nil); res.status != http.StatusOK {
		t.Errorf("anonymous GET after restart (anonymous access was enabled): %d", res.status)
	}
	if res := s.do(http.MethodPut, "/repository/raw-once/once.txt", s.admin(), []byte("again"), nil); res.status != http.StatusBadRequest {
		t.Errorf("allow_once re-PUT after restart: %d, want 400", res.status)
	}
	s.stop()
}

// TestKill9DuringUpload kills the server in the middle of a large streamed
// upload and checks that the restarted server has no trace of it.
func TestKill9DuringUpload(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedRawH)
	keep := randomBytes(t, 100_000)
	s.put("raw-h", "keep.bin", keep)
	before := s.blobStore()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reqErr := s.slowUpload(ctx, http.MethodPut, "/repository/raw-h/big/partial.bin", s.admin(), 200<<20)

	// Wait until the server has a few MB of it on disk.
	var grown bool
	if !pollUntil(300, func() bool {
		for _, size := range s.tempFiles() {
			if size >= 4<<20 {
				grown = true
			}
		}
		return grown
	}) {
		t.Fatalf("the upload never reached 4 MB in the temp directory: %v", s.tempFiles())
	}
	s.kill9()
	cancel()
	if err := <-reqErr; err == nil {
		t.Errorf("the upload did not fail")
	}
	if len(s.tempFiles()) == 0 {
		t.Logf("note: the killed server left no temp file")
	}

	s.restart()
	if res := s.do(http.MethodGet, "/repository/raw-h/big/partial.bin", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET of the interrupted upload: status %d, want 404", res.status)
	}
	s.getExpect("raw-h", "keep.bin", keep)
	assets := s.assets("raw-h")
	if len(assets) != 1 || assets[0].Path != "keep.bin" {
		t.Errorf("assets after the crash: %+v, want only keep.bin", assets)
	}
	if tmp := s.tempFiles(); len(tmp) != 0 {
		t.Errorf("temp files left after restart: %v", tmp)
	}
	if after := s.blobStore(); after != before {
		t.Errorf("blob store after the crash %+v, want %+v", after, before)
	}
	if files := s.blobFiles(); len(files) != 1 {
		t.Errorf("blob files after the crash: %v, want exactly the one of keep.bin", files)
	}
	// The server still takes uploads at that path.
	again := randomBytes(t, 256<<10)
	s.put("raw-h", "big/partial.bin", again)
	s.getExpect("raw-h", "big/partial.bin", again)
}

// TestConcurrentPutGet runs 50 clients writing and reading one shared path
// and their own paths, with a handful of distinct contents.
func TestConcurrentPutGet(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedRawH)

	const clients, rounds, variants = 50, 3, 5
	contents := make([][]byte, variants)
	known := map[string]int{}
	for i := range contents {
		// Each body is self-describing (variant number repeated) so a mix
		// of two would be visible, and of a different size.
		contents[i] = append(bytes.Repeat([]byte{byte('A' + i)}, 1000), randomBytes(t, 100_000+i*37_000)...)
		known[sha(contents[i])] = i
	}

	get := func(path string) (int, []byte, error) {
		resp, err := s.request(context.Background(), http.MethodGet, path, s.admin(), nil, nil)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
	put := func(path string, body []byte) error {
		resp, err := s.request(context.Background(), http.MethodPut, path, s.admin(), bytes.NewReader(body), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("PUT %s: status %d", path, resp.StatusCode)
		}
		return nil
	}

	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			own := fmt.Sprintf("/repository/raw-h/own/%02d.bin", c)
			for r := 0; r < rounds; r++ {
				mine := contents[(c+r)%variants]
				if err := put("/repository/raw-h/shared.bin", mine); err != nil {
					t.Error(err)
					return
				}
				status, body, err := get("/repository/raw-h/shared.bin")
				if err != nil {
					t.Error(err)
					return
				}
				if _, ok := known[sha(body)]; status != http.StatusOK || !ok {
					t.Errorf("client %d: GET shared.bin: status %d, %d bytes that are none of the uploaded contents", c, status, len(body))
				}
				if err := put(own, mine); err != nil {
					t.Error(err)
					return
				}
				status, body, err = get(own)
				if err != nil {
					t.Error(err)
					return
				}
				if status != http.StatusOK || !bytes.Equal(body, mine) {
					t.Errorf("client %d: GET %s: status %d, %d bytes, want its own %d bytes", c, own, status, len(body), len(mine))
				}
			}
		}(c)
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Final state: 51 assets, each holding one whole content.
	assets := s.assets("raw-h")
	if len(assets) != clients+1 {
		t.Errorf("%d assets, want %d", len(assets), clients+1)
	}
	referenced := map[string]bool{}
	for _, a := range assets {
		res := s.do(http.MethodGet, "/repository/raw-h/"+a.Path, s.admin(), nil, nil)
		i, ok := known[sha(res.body)]
		if res.status != http.StatusOK || !ok {
			t.Errorf("final GET %s: status %d, content none of the uploaded ones", a.Path, res.status)
			continue
		}
		if a.FileSize != int64(len(contents[i])) {
			t.Errorf("asset %s: fileSize %d, content has %d bytes", a.Path, a.FileSize, len(contents[i]))
		}
		referenced[sha(res.body)] = true
	}
	bs := s.blobStore()
	if bs.BlobCount != int64(len(referenced)) {
		t.Errorf("blob store counts %d blobs, %d distinct contents are referenced", bs.BlobCount, len(referenced))
	}
	var size int64
	for h := range referenced {
		size += int64(len(contents[known[h]]))
	}
	if bs.TotalSizeInBytes != size {
		t.Errorf("blob store total size %d, referenced contents add up to %d", bs.TotalSizeInBytes, size)
	}
	files := s.blobFiles()
	if len(files) != len(referenced) {
		t.Errorf("%d blob files on disk, %d distinct contents referenced: %v", len(files), len(referenced), files)
	}
	if tmp := s.tempFiles(); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}

// TestDeleteFreesDisk checks that deleting the last reference to a blob
// removes its file, and that a blob shared by two paths survives deleting
// one of them.
func TestDeleteFreesDisk(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedRawH)
	empty := s.blobStore()
	if empty.BlobCount != 0 || empty.TotalSizeInBytes != 0 {
		t.Fatalf("a new blob store is not empty: %+v", empty)
	}

	data := randomBytes(t, 3<<20)
	s.put("raw-h", "a/file.bin", data)
	bs := s.blobStore()
	if bs.BlobCount != 1 || bs.TotalSizeInBytes != int64(len(data)) {
		t.Errorf("after one 3 MB upload: %+v", bs)
	}
	files := s.blobFiles()
	if len(files) != 1 {
		t.Fatalf("blob files after one upload: %v", files)
	}
	for name, size := range files {
		if size != int64(len(data)) {
			t.Errorf("blob file %s has %d bytes, want %d", name, size, len(data))
		}
	}

	if res := s.do(http.MethodDelete, "/repository/raw-h/a/file.bin", s.admin(), nil, nil); res.status != http.StatusNoContent {
		t.Fatalf("DELETE: status %d, want 204", res.status)
	}
	if files := s.blobFiles(); len(files) != 0 {
		t.Errorf("blob files after DELETE: %v, want none", files)
	}
	if bs := s.blobStore(); bs != empty {
		t.Errorf("blob store after DELETE: %+v, want %+v", bs, empty)
	}
	if res := s.do(http.MethodDelete, "/repository/raw-h/a/file.bin", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("second DELETE: status %d, want 404", res.status)
	}

	// Shared blob: two paths, one file.
	s.put("raw-h", "x.bin", data)
	s.put("raw-h", "y.bin", data)
	if files := s.blobFiles(); len(files) != 1 {
		t.Errorf("two paths with the same content: %d blob files, want 1", len(files))
	}
	if bs := s.blobStore(); bs.BlobCount != 1 || bs.TotalSizeInBytes != int64(len(data)) {
		t.Errorf("two paths with the same content: %+v", bs)
	}
	if res := s.do(http.MethodDelete, "/repository/raw-h/x.bin", s.admin(), nil, nil); res.status != http.StatusNoContent {
		t.Fatalf("DELETE x.bin: status %d", res.status)
	}
	if files := s.blobFiles(); len(files) != 1 {
		t.Errorf("after deleting one of two paths: %d blob files, want 1", len(files))
	}
	s.getExpect("raw-h", "y.bin", data)

	// Overwriting the last path with other content frees the old blob.
	other := randomBytes(t, 1<<20)
	s.put("raw-h", "y.bin", other)
	files = s.blobFiles()
	if len(files) != 1 {
		t.Errorf("after overwriting: blob files %v, want only the new one", files)
	}
	for _, size := range files {
		if size != int64(len(other)) {
			t.Errorf("after overwriting: the remaining blob has %d bytes, want %d", size, len(other))
		}
	}

	// Deleting through the REST API by asset id frees it too.
	assets := s.assets("raw-h")
	if len(assets) != 1 {
		t.Fatalf("assets: %+v", assets)
	}
	s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/assets/"+assets[0].ID, s.admin(), nil, nil)
	if files := s.blobFiles(); len(files) != 0 {
		t.Errorf("after REST delete: blob files %v", files)
	}
	if bs := s.blobStore(); bs != empty {
		t.Errorf("after REST delete: %+v", bs)
	}
	if comps, _ := listAll[component](s, "/v1/components?repository=raw-h"); len(comps) != 0 {
		t.Errorf("components left after deleting every asset: %+v", comps)
	}
}

// TestDeleteRepositoryFreesDisk deletes a repository: its own blobs go, a
// blob another repository references stays.
func TestDeleteRepositoryFreesDisk(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedBody("raw-a", "allow"))
	s.createRepo("hosted", hostedBody("raw-b", "allow"))
	shared, own := randomBytes(t, 500_000), randomBytes(t, 700_000)
	s.put("raw-a", "shared.bin", shared)
	s.put("raw-a", "own.bin", own)
	s.put("raw-b", "copy-of-shared.bin", shared)
	if files := s.blobFiles(); len(files) != 2 {
		t.Fatalf("blob files: %v, want 2", files)
	}
	s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/repositories/raw-a", s.admin(), nil, nil)
	files := s.blobFiles()
	if len(files) != 1 {
		t.Errorf("blob files after deleting raw-a: %v, want only the shared one", files)
	}
	for _, size := range files {
		if size != int64(len(shared)) {
			t.Errorf("the remaining blob has %d bytes, want the shared %d", size, len(shared))
		}
	}
	if bs := s.blobStore(); bs.BlobCount != 1 || bs.TotalSizeInBytes != int64(len(shared)) {
		t.Errorf("blob store after deleting raw-a: %+v", bs)
	}
	s.getExpect("raw-b", "copy-of-shared.bin", shared)
	// A new repository of the same name starts empty.
	s.createRepo("hosted", hostedBody("raw-a", "allow"))
	if res := s.do(http.MethodGet, "/repository/raw-a/own.bin", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("content of a deleted repository reappeared: status %d", res.status)
	}
	if as := s.assets("raw-a"); len(as) != 0 {
		t.Errorf("recreated repository lists assets: %+v", as)
	}
}
