package maven

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/managertest"
)

// fixture is a manager serving the Maven format.
type fixture struct {
	*managertest.Env
	t *testing.T
	f *Format
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := New(slog.New(slog.DiscardHandler), Options{})
	return &fixture{Env: managertest.New(t, nil, repo.Options{}, f), t: t, f: f}
}

// hosted creates a hosted repository with a version policy and a write
// policy; layout is STRICT unless given.
func (fx *fixture) hosted(name, versionPolicy, writePolicy string, layout ...string) repo.Repository {
	fx.t.Helper()
	lp := layoutStrict
	if len(layout) > 0 {
		lp = layout[0]
	}
	return fx.Create(fmt.Sprintf(`{"name":%q,"format":"maven2","type":"hosted","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":%q},
		"maven":{"versionPolicy":%q,"layoutPolicy":%q}}`, name, writePolicy, versionPolicy, lp))
}

func (fx *fixture) group(name string, members ...string) repo.Repository {
	fx.t.Helper()
	return fx.Create(fmt.Sprintf(`{"name":%q,"format":"maven2","type":"group","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true},
		"group":{"memberNames":["%s"]},"maven":{"versionPolicy":"MIXED"}}`, name, strings.Join(members, `","`)))
}

func (fx *fixture) proxy(name, remote string) repo.Repository {
	fx.t.Helper()
	return fx.Create(fmt.Sprintf(`{"name":%q,"format":"maven2","type":"proxy","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true},
		"proxy":{"remoteUrl":%q,"contentMaxAge":-1,"metadataMaxAge":1440},
		"negativeCache":{"enabled":true,"timeToLive":1440},
		"maven":{"versionPolicy":"RELEASE","layoutPolicy":"PERMISSIVE"}}`, name, remote))
}

// put deploys body at p and returns the status.
func (fx *fixture) put(r repo.Repository, p string, body []byte) int {
	fx.t.Helper()
	return fx.Do(context.Background(), r, http.MethodPut, p, bytes.NewReader(body), nil).Code
}

// mustPut deploys body at p, wanting a 201.
func (fx *fixture) mustPut(r repo.Repository, p string, body []byte) {
	fx.t.Helper()
	if code := fx.put(r, p, body); code != http.StatusCreated {
		fx.t.Fatalf("PUT %s/%s: status %d, want 201", r.Name(), p, code)
	}
}

// get returns the status and body of a GET of p; the status is 0 when
// the response was cut.
func (fx *fixture) get(r repo.Repository, p string) (int, string) {
	fx.t.Helper()
	w := fx.Do(context.Background(), r, http.MethodGet, p, nil, nil)
	if w.Aborted {
		return 0, w.Body.String()
	}
	return w.Code, w.Body.String()
}

// mustGet returns the body of p, wanting a 200.
func (fx *fixture) mustGet(r repo.Repository, p string) string {
	fx.t.Helper()
	code, body := fx.get(r, p)
	if code != http.StatusOK {
		fx.t.Fatalf("GET %s/%s: status %d: %s", r.Name(), p, code, body)
	}
	return body
}

// metadata parses the metadata at p of r.
func (fx *fixture) metadata(r repo.Repository, p string) *Metadata {
	fx.t.Helper()
	md, err := ParseMetadata([]byte(fx.mustGet(r, p)))
	if err != nil {
		fx.t.Fatalf("%s/%s: %v", r.Name(), p, err)
	}
	return md
}

// deploy deploys a jar and a pom of g:a:v (the pom with packaging) as mvn
// does, with their checksum files, and returns the jar's bytes.
func (fx *fixture) deploy(r repo.Repository, dir, artifactID, fileVersion, packaging string) []byte {
	fx.t.Helper()
	jar := []byte("PK\x03\x04 jar of " + artifactID + " " + fileVersion)
	pom := []byte(fmt.Sprintf(`<?xml version="1.0"?><project><modelVersion>4.0.0</modelVersion><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version><packaging>%s</packaging></project>`,
		strings.ReplaceAll(strings.TrimSuffix(dir, "/"+artifactID), "/", "."), artifactID, fileVersion, packaging))
	base := dir + "/" + versionFolder(fileVersion) + "/" + artifactID + "-" + fileVersion
	for ext, body := range map[string][]byte{".jar": jar, ".pom": pom} {
		fx.mustPut(r, base+ext, body)
		fx.mustPut(r, base+ext+".sha1", []byte(sha1Hex(body)))
	}
	return jar
}

// versionFolder is the folder of a file version: timestamped snapshots
// live in their -SNAPSHOT folder.
func versionFolder(fileVersion string) string {
	parts := strings.Split(fileVersion, "-")
	if n := len(parts); n >= 3 && len(parts[n-2]) == len("20261201.123456") && strings.Contains(parts[n-2], ".") {
		return strings.Join(parts[:n-2], "-") + "-SNAPSHOT"
	}
	return fileVersion
}

func sha1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// upstream is a static Maven repository on 127.0.0.1: files by path.
func upstream(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body) // typed by net/http's sniffing, as a plain file server's are
	}))
	t.Cleanup(srv.Close)
	return srv
}
