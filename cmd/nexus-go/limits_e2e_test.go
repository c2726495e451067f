package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Paths no repository can hold, not valid UTF-8 or longer than 4096
// bytes, are refused with 400 and 414 on every format's routes, writes
// and reads, before anything is stored.
func TestPathLimits(t *testing.T) {
	s := startServer(t)
	long := strings.Repeat("abcdefghi/", 500) // 5,000 bytes
	cases := []struct {
		what   string
		path   string
		status int
	}{
		{"an escaped invalid byte", "app%FF", http.StatusBadRequest},
		{"an overlong encoding", "app%C0%AE", http.StatusBadRequest},
		{"a 5,000-byte path", long + "app", http.StatusRequestURITooLong},
		{"a 5,000-byte path, escaped", strings.Repeat("%61", 5000), http.StatusRequestURITooLong},
	}
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	for _, f := range accessFormats {
		repo := f.name + "-paths"
		mustCreate(s, f, "hosted", f.hosted(t, repo))
		for _, route := range f.pathRoutes {
			port := s.port
			if route.port != nil {
				port = route.port(s, repo)
			}
			for _, c := range cases {
				for _, req := range []struct {
					method, target string
					body           []byte
				}{
					{http.MethodPut, route.write(repo, c.path), manifest},
					{http.MethodGet, route.read(repo, c.path), nil},
				} {
					status, body, err := s.rawRequestPort(port, req.method, req.target, s.admin(), req.body)
					if err != nil {
						t.Errorf("%s: %s with %s: %v", route.name, req.method, c.what, err)
						continue
					}
					if status != c.status {
						t.Errorf("%s: %s with %s: status %d, want %d: %.200s", route.name, req.method, c.what, status, c.status, body)
						continue
					}
					if route.ociErrors {
						var oe struct {
							Errors []struct{ Code string } `json:"errors"`
						}
						if json.Unmarshal(body, &oe) != nil || len(oe.Errors) != 1 || oe.Errors[0].Code != "NAME_INVALID" {
							t.Errorf("%s: %s with %s: body %.200s, want the distribution API's NAME_INVALID", route.name, req.method, c.what, body)
						}
					}
				}
			}
		}
		if got := s.assets(repo); len(got) != 0 {
			t.Errorf("%s: refused writes stored %d assets, the first %.100q", f.name, len(got), got[0].Path)
		}
	}
}
