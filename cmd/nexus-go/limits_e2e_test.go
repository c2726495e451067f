package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// pathFormat is how one format's routes take a path from the client, for
// tests of what every format must refuse; a new format adds an entry.
type pathFormat struct {
	name string
	// repository is created by setup and must stay empty.
	repository string
	setup      func(s *nexusServer)
	// port serves the routes (0: the main port).
	port func(s *nexusServer) int
	// write and read are a request target with p, escaped as the client
	// wrote it, where the format puts the client's path.
	write, read func(p string) string
	// ociErrors marks answers in the distribution API's error shape.
	ociErrors bool
}

func pathFormats(t *testing.T) []pathFormat {
	connectorPort := freePort(t)
	dockerSetup := func(s *nexusServer) {
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
			dockerHostedJSON("docker-h", connectorPort, true), nil)
	}
	return []pathFormat{
		{
			name: "raw", repository: "raw-h",
			setup: func(s *nexusServer) { s.createRepo("hosted", hostedBody("raw-h", "allow")) },
			write: func(p string) string { return "/repository/raw-h/" + p },
			read:  func(p string) string { return "/repository/raw-h/" + p },
		},
		{
			name: "docker on the main port", repository: "docker-h", setup: dockerSetup, ociErrors: true,
			write: func(p string) string { return "/v2/docker-h/" + p + "/manifests/latest" },
			read:  func(p string) string { return "/v2/docker-h/app/blobs/uploads/" + p },
		},
		{
			name: "docker on its connector", repository: "docker-h", ociErrors: true,
			port:  func(*nexusServer) int { return connectorPort },
			write: func(p string) string { return "/v2/" + p + "/manifests/latest" },
			read:  func(p string) string { return "/v2/app/blobs/uploads/" + p },
		},
	}
}

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
	for _, f := range pathFormats(t) {
		if f.setup != nil {
			f.setup(s)
		}
		port := s.port
		if f.port != nil {
			port = f.port(s)
		}
		for _, c := range cases {
			for _, req := range []struct {
				method, target string
				body           []byte
			}{
				{http.MethodPut, f.write(c.path), manifest},
				{http.MethodGet, f.read(c.path), nil},
			} {
				status, body, err := s.rawRequestPort(port, req.method, req.target, s.admin(), req.body)
				if err != nil {
					t.Errorf("%s: %s with %s: %v", f.name, req.method, c.what, err)
					continue
				}
				if status != c.status {
					t.Errorf("%s: %s with %s: status %d, want %d: %.200s", f.name, req.method, c.what, status, c.status, body)
					continue
				}
				if f.ociErrors {
					var oe struct {
						Errors []struct{ Code string } `json:"errors"`
					}
					if json.Unmarshal(body, &oe) != nil || len(oe.Errors) != 1 || oe.Errors[0].Code != "NAME_INVALID" {
						t.Errorf("%s: %s with %s: body %.200s, want the distribution API's NAME_INVALID", f.name, req.method, c.what, body)
					}
				}
			}
		}
		if got := s.assets(f.repository); len(got) != 0 {
			t.Errorf("%s: refused writes stored %d assets, the first %.100q", f.name, len(got), got[0].Path)
		}
	}
}
