// Package npmtest builds what npm publish sends, for tests: a package
// version's tarball as npm pack makes it and the publish document
// (libnpmpublish's shape) that carries it. It does not import the npm
// format, so that format's own tests can use it.
package npmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Package is a package version to publish.
type Package struct {
	Name, Version string
	// Extra are more fields of the version's manifest (author, keywords,
	// scripts, dependencies), replacing those of the same name.
	Extra map[string]any
	// TarName and TarVersion override what the tarball's package.json says.
	TarName, TarVersion string
}

// Tarball packs p as npm pack does: package/package.json and a file.
func (p Package) Tarball() []byte {
	name, version := p.Name, p.Version
	if p.TarName != "" {
		name = p.TarName
	}
	if p.TarVersion != "" {
		version = p.TarVersion
	}
	pj, _ := json.Marshal(map[string]string{"name": name, "version": version})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name string
		body []byte
	}{{"package/package.json", pj}, {"package/index.js", []byte(`module.exports = "` + p.Version + `"` + "\n")}} {
		// Writes to memory cannot fail.
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write(f.body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// File is the tarball's file name: "<unscoped name>-<version>.tgz".
func (p Package) File() string {
	bare := p.Name
	if i := strings.IndexByte(bare, '/'); strings.HasPrefix(bare, "@") && i > 0 {
		bare = bare[i+1:]
	}
	return bare + "-" + p.Version + ".tgz"
}

// Path is the tarball's path in a repository: "<name>/-/<file>".
func (p Package) Path() string { return p.Name + "/-/" + p.File() }

// Manifest is the version's manifest for tarball tgz, with its dist
// (shasum, integrity, a tarball URL on 127.0.0.1) and p.Extra.
func (p Package) Manifest(tgz []byte) map[string]any {
	m := map[string]any{
		"name": p.Name, "version": p.Version, "description": "the " + p.Name + " package",
		"readme": "# " + p.Name, "_id": p.Name + "@" + p.Version,
		"dist": Dist(tgz, "http://127.0.0.1/repository/x/"+p.Path()),
	}
	for k, v := range p.Extra {
		m[k] = v
	}
	return m
}

// Dist is the dist object of a version with tarball tgz at tarballURL:
// its sha1 shasum and sha512 integrity.
func Dist(tgz []byte, tarballURL string) map[string]any {
	s1 := sha1.Sum(tgz)
	s512 := sha512.Sum512(tgz)
	return map[string]any{
		"shasum":    hex.EncodeToString(s1[:]),
		"integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:]),
		"tarball":   tarballURL,
	}
}

// Document is the document npm publish sends for p with tarball tgz,
// tagged tag.
func (p Package) Document(tgz []byte, tag string) map[string]any {
	return map[string]any{
		"_id": p.Name, "name": p.Name, "description": "the " + p.Name + " package",
		"dist-tags": map[string]string{tag: p.Version},
		"versions":  map[string]any{p.Version: p.Manifest(tgz)},
		"access":    nil,
		"readme":    "# " + p.Name,
		"_attachments": map[string]any{
			p.Name + "-" + p.Version + ".tgz": map[string]any{
				"content_type": "application/octet-stream",
				"data":         base64.StdEncoding.EncodeToString(tgz),
				"length":       len(tgz),
			},
		},
	}
}

// Body is the JSON of Document for p's own tarball, tagged latest.
func (p Package) Body() []byte {
	b, _ := json.Marshal(p.Document(p.Tarball(), "latest")) // a map of plain values
	return b
}
