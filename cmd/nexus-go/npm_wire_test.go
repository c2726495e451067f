package main

// Packages made for the npm tests, as folders for npm publish and as npm's
// wire format (tarballs, publish bodies), and raw requests to registries.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
)

// npmHTTP is the client of the fixtures' raw npm requests.
var npmHTTP = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}

// bearer and basic are Authorization values.
func bearer(token string) string { return "Bearer " + token }

func basic(c *creds) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.pass))
}

// npmDo sends one request to an absolute URL with an optional
// Authorization (bearer, basic) and JSON body, and reads the answer;
// transport errors fail the test.
func npmDo(t testing.TB, method, u, authz string, body []byte, hdr http.Header) result {
	t.Helper()
	res, err := npmSend(method, u, authz, body, hdr)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// npmSend is npmDo for other goroutines than the test's.
func npmSend(method, u, authz string, body []byte, hdr http.Header) (result, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		return result{}, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := readResult(npmHTTP.Do(req))
	if err != nil {
		return result{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return res, nil
}

// npmEscape is a package name as npm puts it in a URL path: a scoped
// name's slash escaped ("@scope%2fname").
func npmEscape(name string) string {
	if strings.HasPrefix(name, "@") {
		return strings.Replace(url.PathEscape(name), "%2F", "%2f", 1)
	}
	return url.PathEscape(name)
}

// npmPkg is a generated package version: a package.json with deps and an
// index.js exporting its name and version (and payload.bin, if any).
type npmPkg struct {
	name, version string
	deps          map[string]string
	extra         map[string]any // more package.json fields
	payload       []byte
}

func (p npmPkg) manifest() map[string]any {
	m := map[string]any{"name": p.name, "version": p.version, "description": "e2e package " + p.name,
		"main": "index.js", "license": "MIT"}
	if len(p.deps) > 0 {
		m["dependencies"] = p.deps
	}
	for k, v := range p.extra {
		m[k] = v
	}
	return m
}

func (p npmPkg) files() map[string][]byte {
	pj, _ := json.MarshalIndent(p.manifest(), "", "  ")
	files := map[string][]byte{
		"package.json": append(pj, '\n'),
		"index.js":     []byte(fmt.Sprintf("module.exports = %q;\n", p.name+"@"+p.version)),
	}
	if p.payload != nil {
		files["payload.bin"] = p.payload
	}
	return files
}

// write puts the package's folder, ready for npm publish, under dir and
// returns it.
func (p npmPkg) write(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(dir, strings.ReplaceAll(p.name, "/", "+")+"-"+p.version)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range p.files() {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// tarball is the package as npm pack makes it: a gzipped tar of package/.
func (p npmPkg) tarball() []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files := p.files()
	for _, name := range []string{"package.json", "index.js", "payload.bin"} {
		data, ok := files[name]
		if !ok {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: "package/" + name, Mode: 0o644, Size: int64(len(data)),
			ModTime: time.Unix(499162500, 0), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// tarballName is the attachment's name, as libnpmpublish calls it.
func (p npmPkg) tarballName() string {
	base := p.name
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	return base + "-" + p.version + ".tgz"
}

// publishBodyOf is the body npm publish PUTs (libnpmpublish): the
// manifest with dist as the only version, tagged latest, and the tarball as a base64
// attachment. tgz is the attachment's bytes, which may differ from the
// ones dist describes when a test wants them to.
func (p npmPkg) publishBodyOf(tgz []byte, dist map[string]any) []byte {
	m := p.manifest()
	m["_id"] = p.name + "@" + p.version
	m["_nodeVersion"] = "20.0.0"
	m["_npmVersion"] = "11.0.0"
	m["dist"] = dist
	body, _ := json.Marshal(map[string]any{
		"_id": p.name, "name": p.name, "description": m["description"],
		"dist-tags": map[string]string{"latest": p.version},
		"versions":  map[string]any{p.version: m},
		"access":    "public",
		"_attachments": map[string]any{p.tarballName(): map[string]any{
			"content_type": "application/octet-stream",
			"data":         base64.StdEncoding.EncodeToString(tgz),
			"length":       len(tgz),
		}},
	})
	return body
}

// publishBody is publishBodyOf the package's tarball and its dist (sha1
// shasum, sha512 integrity, tarball URL under registry).
func (p npmPkg) publishBody(registry string) []byte {
	tgz := p.tarball()
	return p.publishBodyOf(tgz, npmDist(registry, p.name, p.tarballName(), tgz))
}

// npmDist is the dist object of a tarball's bytes.
func npmDist(registry, name, file string, tgz []byte) map[string]any {
	return npmtest.Dist(tgz, registry+name+"/-/"+file)
}

// couchLogin sends the couch request of npm login (and adduser) for c to
// registry and returns the token it answers.
func couchLogin(t testing.TB, registry string, c *creds) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"_id": "org.couchdb.user:" + c.user, "name": c.user, "password": c.pass,
		"type": "user", "roles": []string{}, "date": time.Now().UTC().Format(time.RFC3339)})
	res := npmDo(t, http.MethodPut, registry+"-/user/org.couchdb.user:"+url.PathEscape(c.user), "", body, nil)
	var out struct{ Token string }
	if res.status != http.StatusCreated || json.Unmarshal(res.body, &out) != nil || out.Token == "" {
		t.Fatalf("login of %s at %s: status %d: %s", c.user, registry, res.status, res.body)
	}
	return out.Token
}
