// Package maven is the Maven 2 repository format.
package maven

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
)

// Coords are the coordinates of a file in the Maven 2 layout:
// <groupId as path>/<artifactId>/<baseVersion>/<artifactId>-<version>[-<classifier>].<extension>
type Coords struct {
	GroupID     string // "org.example.team"
	ArtifactID  string // "lib"
	BaseVersion string // "1.0", or "1.1-SNAPSHOT" (the version folder)
	Version     string // the file's version: BaseVersion, or "1.1-20261201.123456-3" for a timestamped snapshot
	Classifier  string // "" or "sources", "javadoc", "tests"...
	Extension   string // "jar", "pom", "module", "tar.gz", "jar.asc"... (never a checksum suffix)
	Timestamp   string // "20261201.123456" for a timestamped snapshot file, else ""
	BuildNumber int    // its build number, else 0
}

// snapshotSuffix ends the version folder of a snapshot; its files carry
// either this or a timestamp and build number in its place.
const snapshotSuffix = "-SNAPSHOT"

// MetadataName is the base name of repository metadata files.
const MetadataName = "maven-metadata.xml"

// Snapshot tells whether c is in a snapshot version folder.
func (c Coords) Snapshot() bool { return strings.HasSuffix(c.BaseVersion, snapshotSuffix) }

// Path is the layout path of c, without a leading slash.
func (c Coords) Path() string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(c.GroupID, ".", "/"))
	b.WriteString("/" + c.ArtifactID + "/" + c.BaseVersion + "/" + c.ArtifactID + "-" + c.Version)
	if c.Classifier != "" {
		b.WriteString("-" + c.Classifier)
	}
	b.WriteString("." + c.Extension)
	return b.String()
}

// ParseArtifact parses p, a cleaned path without a leading slash, as the
// path of an artifact file. Its errors are reasons a client can read.
// Metadata and checksum files are not artifacts.
func ParseArtifact(p string) (Coords, error) {
	segs := strings.Split(p, "/")
	if len(segs) < 4 {
		return Coords{}, fmt.Errorf("path %q is not groupId/artifactId/version/file", p)
	}
	n := len(segs)
	name := segs[n-1]
	if IsMetadataPath(p) {
		return Coords{}, fmt.Errorf("%q is repository metadata, not an artifact", name)
	}
	if _, _, ok := SplitChecksum(name); ok {
		return Coords{}, fmt.Errorf("%q is a checksum, not an artifact", name)
	}
	for _, s := range segs[:n-3] {
		if err := checkID("groupId segment", s, false); err != nil {
			return Coords{}, err
		}
	}
	c := Coords{GroupID: strings.Join(segs[:n-3], "."), ArtifactID: segs[n-3], BaseVersion: segs[n-2]}
	if err := checkID("artifactId", c.ArtifactID, true); err != nil {
		return Coords{}, err
	}
	if err := checkVersion(c.BaseVersion); err != nil {
		return Coords{}, err
	}
	rest, err := c.parseVersionPart(name)
	if err != nil {
		return Coords{}, err
	}
	if err := c.parseTail(name, rest); err != nil {
		return Coords{}, err
	}
	return c, nil
}

// parseVersionPart matches "<artifactId>-<version>" at the start of file
// name, sets the version fields and returns what follows.
func (c *Coords) parseVersionPart(name string) (string, error) {
	plain := c.ArtifactID + "-" + c.BaseVersion
	if rest, ok := strings.CutPrefix(name, plain); ok && (rest == "" || rest[0] == '.' || rest[0] == '-') {
		c.Version = c.BaseVersion
		return rest, nil
	}
	if c.Snapshot() {
		prefix := c.ArtifactID + "-" + strings.TrimSuffix(c.BaseVersion, "SNAPSHOT")
		if rest, ok := strings.CutPrefix(name, prefix); ok && len(rest) > 0 && '0' <= rest[0] && rest[0] <= '9' {
			return c.parseTimestamp(name, prefix, rest)
		}
	}
	return "", fmt.Errorf("file name %q does not start with artifactId-version %q", name, plain)
}

// parseTimestamp parses "yyyyMMdd.HHmmss-N" at the start of rest (which
// followed prefix in name) and returns what follows it.
func (c *Coords) parseTimestamp(name, prefix, rest string) (string, error) {
	ts, build, ok := strings.Cut(rest, "-")
	if !ok || len(ts) != len(timestampLayout) {
		return "", fmt.Errorf("file name %q has no snapshot timestamp yyyyMMdd.HHmmss-N after %q", name, prefix)
	}
	if _, err := time.Parse(timestampLayout, ts); err != nil {
		return "", fmt.Errorf("file name %q has an invalid snapshot timestamp %q", name, ts)
	}
	end := 0
	for end < len(build) && '0' <= build[end] && build[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(build[:end])
	if err != nil || n < 1 || build[0] == '0' || end > 9 {
		return "", fmt.Errorf("file name %q has an invalid snapshot build number after %q", name, prefix+ts)
	}
	c.Timestamp, c.BuildNumber = ts, n
	c.Version = strings.TrimSuffix(c.BaseVersion, "SNAPSHOT") + ts + "-" + build[:end]
	return build[end:], nil
}

// parseTail parses "-<classifier>.<extension>" or ".<extension>", what
// follows the version in file name.
func (c *Coords) parseTail(name, rest string) error {
	if r, ok := strings.CutPrefix(rest, "-"); ok {
		c.Classifier, rest, _ = strings.Cut(r, ".")
		rest = "." + rest
		if err := checkID("classifier", c.Classifier, false); err != nil {
			return fmt.Errorf("file name %q: %w", name, err)
		}
	}
	ext, ok := strings.CutPrefix(rest, ".")
	if !ok || ext == "" {
		return fmt.Errorf("file name %q has no extension", name)
	}
	for _, part := range strings.Split(ext, ".") {
		if err := checkID("extension part", part, false); err != nil {
			return fmt.Errorf("file name %q: %w", name, err)
		}
	}
	c.Extension = ext
	return nil
}

// checkID checks an identifier as Maven's model validator does
// ([A-Za-z0-9_.-]+), allowing '.' only if dots is set: a groupId's dots are
// its path's slashes, and a classifier ends at the first dot.
func checkID(what, s string, dots bool) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '-':
		case r == '.' && dots:
		default:
			return fmt.Errorf("%s %q has the character %q", what, s, r)
		}
	}
	return nil
}

// versionBanned are the characters Maven's model validator refuses in a
// version (they are not portable in file names).
const versionBanned = `\/:"<>|?*`

// checkVersion checks a version folder: Maven allows any character but
// versionBanned; here also no spaces, controls or non-ASCII, which no
// deployable version has and which would not survive every client.
func checkVersion(v string) error {
	if v == "" {
		return fmt.Errorf("empty version")
	}
	for _, r := range v {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(versionBanned, r) {
			return fmt.Errorf("version %q has the character %q", v, r)
		}
	}
	return nil
}

// checksumSuffixes maps the file suffixes of checksum files to their
// algorithm.
var checksumSuffixes = []struct {
	suffix string
	alg    blob.Algorithm
}{{".sha1", blob.SHA1}, {".md5", blob.MD5}, {".sha256", blob.SHA256}, {".sha512", blob.SHA512}}

// ChecksumAlgorithms are the checksums a repository keeps beside each file,
// in the order Maven asks for them.
var ChecksumAlgorithms = []blob.Algorithm{blob.SHA1, blob.MD5, blob.SHA256, blob.SHA512}

// SplitChecksum splits the path of a checksum file into the path of the
// file it sums and the algorithm: "a/x.jar.sha1" -> ("a/x.jar", SHA1, true).
func SplitChecksum(p string) (base string, alg blob.Algorithm, ok bool) {
	for _, s := range checksumSuffixes {
		if base, ok := strings.CutSuffix(p, s.suffix); ok && base != "" && !strings.HasSuffix(base, "/") {
			return base, s.alg, true
		}
	}
	return "", "", false
}

// IsMetadataPath tells whether p is a maven-metadata.xml (at any level) or
// one of its checksums.
func IsMetadataPath(p string) bool {
	if base, _, ok := SplitChecksum(p); ok {
		p = base
	}
	return path.Base(p) == MetadataName
}
