package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Bounds on what is read of a published tarball to find its package.json:
// the uncompressed bytes walked through, and package.json itself.
const (
	maxUnpacked    = 1 << 30
	maxPackageJSON = 8 << 20
)

// tarballManifest returns the name and version in package/package.json
// of a gzipped tarball (npm pack puts every file under "package/"; some
// tools use another top folder, so the one package.json directly under
// the top folder counts).
func tarballManifest(tgz []byte) (name, version string, err error) {
	b, err := tarballPackageJSON(tgz)
	if err != nil {
		return "", "", err
	}
	var pj struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		return "", "", errs.Wrap(errs.Invalid, err, "the tarball's package.json is malformed")
	}
	return pj.Name, pj.Version, nil
}

// tarballPackageJSON returns the package.json that tarballManifest reads.
func tarballPackageJSON(tgz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the tarball is not gzip")
	}
	tr := tar.NewReader(io.LimitReader(zr, maxUnpacked))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, errs.New(errs.Invalid, "the tarball has no package.json")
		}
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, err, "the tarball is not a readable tar archive")
		}
		dir, file, ok := strings.Cut(strings.TrimPrefix(h.Name, "./"), "/")
		if !ok || dir == "" || file != "package.json" || h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxPackageJSON+1))
		if err != nil || len(b) > maxPackageJSON {
			return nil, errs.New(errs.Invalid, "the tarball's package.json could not be read")
		}
		return b, nil
	}
}

// checkDist compares a version's dist.shasum (sha1 hex) and
// dist.integrity (SRI) with the tarball's bytes. At least one must be
// given and all given must match; an integrity must hold a sha512 (what
// npm writes) or sha1 hash, others cannot be checked.
func checkDist(shasum, integrity string, tgz []byte) error {
	if shasum == "" && integrity == "" {
		return errs.New(errs.Invalid, "the version has neither dist.shasum nor dist.integrity")
	}
	s1 := sha1.Sum(tgz)
	if shasum != "" && !strings.EqualFold(shasum, hex.EncodeToString(s1[:])) {
		return errs.New(errs.Invalid, "dist.shasum %s does not match the tarball (sha1 %x)", shasum, s1)
	}
	if integrity == "" {
		return nil
	}
	s512 := sha512.Sum512(tgz)
	checked := false
	for _, h := range strings.Fields(integrity) {
		alg, b64, _ := strings.Cut(h, "-")
		b64, _, _ = strings.Cut(b64, "?") // SRI options
		var sum []byte
		switch alg {
		case "sha512":
			sum = s512[:]
		case "sha1":
			sum = s1[:]
		default:
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != len(sum) {
			return errs.New(errs.Invalid, "dist.integrity %q is not a valid %s hash", h, alg)
		}
		if !bytes.Equal(raw, sum) {
			return errs.New(errs.Invalid, "dist.integrity %s does not match the tarball", h)
		}
		checked = true
	}
	if !checked {
		return errs.New(errs.Invalid, "dist.integrity %q has no sha512 hash", integrity)
	}
	return nil
}

var errBadSRI = errors.New("malformed")

// sriSHA512 returns the hex of the sha512 hash in an SRI string
// ("sha512-<base64>", perhaps among others, space-separated), "" when it
// names none.
func sriSHA512(sri string) (string, error) {
	for _, h := range strings.Fields(sri) {
		b64, ok := strings.CutPrefix(h, "sha512-")
		if !ok {
			continue
		}
		if i := strings.IndexByte(b64, '?'); i >= 0 { // SRI options
			b64 = b64[:i]
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != sha512.Size {
			return "", errs.Wrap(errs.Invalid, errBadSRI, "dist.integrity %q is not a valid sha512 hash", h)
		}
		return hex.EncodeToString(raw), nil
	}
	return "", nil
}
