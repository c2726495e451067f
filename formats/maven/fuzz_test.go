package maven

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseArtifact checks that whatever ParseArtifact accepts is
// consistent: its Path is the input, and its fields are what the layout
// says they are.
func FuzzParseArtifact(f *testing.F) {
	for _, s := range []string{
		"org/example/lib/1.0/lib-1.0.jar",
		"org/example/lib/1.0/lib-1.0-sources.jar",
		"org/example/dist/1.0/dist-1.0-bin.tar.gz",
		"org/example/lib/1.0/lib-1.0.jar.asc",
		"org/example/lib/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.pom",
		"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-3-javadoc.jar",
		"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-3.jar.sha1",
		"org/example/lib/maven-metadata.xml",
		"a/b-c/SNAPSHOT-SNAPSHOT/b-c-SNAPSHOT-20000101.000000-1-SNAPSHOT.x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := ParseArtifact(p)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseArtifact(%q): empty error", p)
			}
			return
		}
		if got := c.Path(); got != p {
			t.Fatalf("ParseArtifact(%q).Path() = %q", p, got)
		}
		if c.GroupID == "" || c.ArtifactID == "" || c.BaseVersion == "" || c.Version == "" || c.Extension == "" {
			t.Fatalf("ParseArtifact(%q) = %+v: empty field", p, c)
		}
		if IsMetadataPath(p) {
			t.Fatalf("ParseArtifact(%q) accepted metadata", p)
		}
		if _, _, ok := SplitChecksum(p); ok {
			t.Fatalf("ParseArtifact(%q) accepted a checksum", p)
		}
		if (c.Timestamp == "") != (c.BuildNumber == 0) || (c.Timestamp != "" && !c.Snapshot()) {
			t.Fatalf("ParseArtifact(%q) = %+v: inconsistent snapshot fields", p, c)
		}
		if c.Timestamp == "" && c.Version != c.BaseVersion {
			t.Fatalf("ParseArtifact(%q) = %+v: version differs from its folder", p, c)
		}
		if c.Classifier != "" && strings.Contains(c.Classifier, ".") {
			t.Fatalf("ParseArtifact(%q) = %+v: classifier with a dot", p, c)
		}
	})
}

// FuzzParseMetadata checks that ParseMetadata never panics and that what it
// accepts renders to metadata it reads back the same, and renders the same
// again.
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{
		artifactLevelXML, snapshotLevelXML, groupLevelXML,
		`<metadata><versioning><snapshot><localCopy>true</localCopy></snapshot></versioning></metadata>`,
		`<metadata xmlns="http://maven.apache.org/METADATA/1.0.0"><groupId>g &amp; h</groupId></metadata>`,
		`<!DOCTYPE metadata [<!ENTITY a "x">]><metadata><groupId>&a;</groupId></metadata>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><metadata><version>caf` + "\xe9" + `</version></metadata>`,
		`<metadata><plugins><plugin><prefix>p</prefix><artifactId>a</artifactId></plugin></plugins></metadata>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(data)
		if err != nil {
			return
		}
		out := m.Marshal()
		back, err := ParseMetadata(out)
		if err != nil {
			t.Fatalf("ParseMetadata of Marshal output %q: %v", out, err)
		}
		m.ModelVersion = modelVersion
		if !equalMetadata(m, back) {
			t.Fatalf("round trip changed %+v into %+v", m, back)
		}
		if again := back.Marshal(); !bytes.Equal(again, out) {
			t.Fatalf("Marshal not stable:\n%s\n%s", out, again)
		}
		// Merging a document with itself is merging it alone.
		if twice, once := Merge([]*Metadata{m, m}), Merge([]*Metadata{m}); !equalMetadata(twice, once) {
			t.Fatalf("Merge of %+v with itself is %+v, alone %+v", m, twice, once)
		}
	})
}

// FuzzCompareVersions checks that CompareVersions is an order: antisymmetric
// and consistent with equality.
func FuzzCompareVersions(f *testing.F) {
	f.Add("1.0", "1")
	f.Add("1-alpha-1", "1.0a1")
	f.Add("1.0000000000.1", "1.0.1")
	f.Add("2.0.0.a", "2-1")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("CompareVersions(%q, %q) = %d but reversed %d", a, b, ab, ba)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("CompareVersions(%q, itself) != 0", a)
		}
	})
}
