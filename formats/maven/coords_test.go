package maven

import (
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/blob"
)

func TestParseArtifact(t *testing.T) {
	tests := []struct {
		path string
		want Coords
	}{
		{"org/example/lib/1.0/lib-1.0.jar",
			Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.0", Version: "1.0", Extension: "jar"}},
		{"example/lib/1.0/lib-1.0.pom",
			Coords{GroupID: "example", ArtifactID: "lib", BaseVersion: "1.0", Version: "1.0", Extension: "pom"}},
		{"org/example/team/sub/a_b/lib/2.3.4/lib-2.3.4-sources.jar",
			Coords{GroupID: "org.example.team.sub.a_b", ArtifactID: "lib", BaseVersion: "2.3.4", Version: "2.3.4",
				Classifier: "sources", Extension: "jar"}},
		{"org/example/dist/1.0/dist-1.0-bin.tar.gz",
			Coords{GroupID: "org.example", ArtifactID: "dist", BaseVersion: "1.0", Version: "1.0", Classifier: "bin",
				Extension: "tar.gz"}},
		{"org/example/lib/1.0/lib-1.0.jar.asc",
			Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.0", Version: "1.0", Extension: "jar.asc"}},
		{"org/example/lib/1.0/lib-1.0.module",
			Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.0", Version: "1.0", Extension: "module"}},
		{"org/example/native/1.0/native-1.0-linux-x86_64.so",
			Coords{GroupID: "org.example", ArtifactID: "native", BaseVersion: "1.0", Version: "1.0",
				Classifier: "linux-x86_64", Extension: "so"}},
		// artifactId with dots and dashes, version with '+' (Maven allows it).
		{"org/example/my-lib.core/1.0+build.7/my-lib.core-1.0+build.7.jar",
			Coords{GroupID: "org.example", ArtifactID: "my-lib.core", BaseVersion: "1.0+build.7", Version: "1.0+build.7",
				Extension: "jar"}},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.jar",
			Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.1-SNAPSHOT", Version: "1.1-SNAPSHOT",
				Extension: "jar"}},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-3.pom",
			Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.1-SNAPSHOT", Version: "1.1-20261201.123456-3",
				Extension: "pom", Timestamp: "20261201.123456", BuildNumber: 3}},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-12-javadoc.jar.asc",
			Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.1-SNAPSHOT", Version: "1.1-20261201.123456-12",
				Classifier: "javadoc", Extension: "jar.asc", Timestamp: "20261201.123456", BuildNumber: 12}},
		// A version folder that looks timestamped is a release.
		{"org/example/lib/1.1-20261201.123456-3/lib-1.1-20261201.123456-3.jar",
			Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.1-20261201.123456-3",
				Version: "1.1-20261201.123456-3", Extension: "jar"}},
	}
	for _, tt := range tests {
		got, err := ParseArtifact(tt.path)
		if err != nil {
			t.Errorf("ParseArtifact(%q): %v", tt.path, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseArtifact(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
		if p := got.Path(); p != tt.path {
			t.Errorf("ParseArtifact(%q).Path() = %q", tt.path, p)
		}
		if got.Snapshot() != strings.HasSuffix(tt.path[:strings.LastIndex(tt.path, "/")], "-SNAPSHOT") {
			t.Errorf("ParseArtifact(%q).Snapshot() = %v", tt.path, got.Snapshot())
		}
	}
}

func TestParseArtifactRefused(t *testing.T) {
	tests := []struct{ path, reason string }{
		{"lib/1.0/lib-1.0.jar", "is not groupId/artifactId/version/file"},
		{"org/example/lib/maven-metadata.xml", "is repository metadata"},
		{"org/example/lib/1.0-SNAPSHOT/maven-metadata.xml.sha1", "is repository metadata"},
		{"org/example/lib/1.0/lib-1.0.jar.sha1", "is a checksum"},
		{"org/example/lib/1.0/lib-1.0.jar.md5", "is a checksum"},
		{"org/example/lib/1.0/lib-1.0.jar.asc.sha512", "is a checksum"},
		{"org/exa.mple/lib/1.0/lib-1.0.jar", `groupId segment "exa.mple" has the character '.'`},
		{"org/ex ample/lib/1.0/lib-1.0.jar", `groupId segment "ex ample" has the character ' '`},
		{"org/example/l%b/1.0/l%b-1.0.jar", `artifactId "l%b" has the character '%'`},
		{"org/example/lïb/1.0/lïb-1.0.jar", `artifactId "lïb" has the character 'ï'`},
		{"org/example/lib/1.0:1/lib-1.0:1.jar", `version "1.0:1" has the character ':'`},
		{"org/example/lib/1.0*/lib-1.0*.jar", `version "1.0*" has the character '*'`},
		{"org/example/lib/1 0/lib-1 0.jar", `version "1 0" has the character ' '`},
		{"org/example/lib/1.0/x-1.0.jar", `file name "x-1.0.jar" does not start with artifactId-version "lib-1.0"`},
		{"org/example/lib/1.0/lib-1.1.jar", `does not start with artifactId-version "lib-1.0"`},
		{"org/example/lib/1.0/lib-1.00.jar", `does not start with artifactId-version "lib-1.0"`},
		{"org/example/lib/1.0/lib-1.0", `has no extension`},
		{"org/example/lib/1.0/lib-1.0.", `has no extension`},
		{"org/example/lib/1.0/lib-1.0-sources", `has no extension`},
		{"org/example/lib/1.0/lib-1.0-.jar", `empty classifier`},
		{"org/example/lib/1.0/lib-1.0-a+b.jar", `classifier "a+b" has the character '+'`},
		{"org/example/lib/1.0/lib-1.0.tar..gz", `empty extension part`},
		{"org/example/lib/1.0/lib-1.0.j~r", `extension part "j~r" has the character '~'`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-sources.jar", `does not start with artifactId-version "lib-1.1-SNAPSHOT"`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-2026120.123456-3.jar", `has no snapshot timestamp`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456.jar", `has no snapshot timestamp`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261301.123456-3.jar", `invalid snapshot timestamp "20261301.123456"`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201x123456-3.jar", `invalid snapshot timestamp`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-.jar", `invalid snapshot build number`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-0.jar", `invalid snapshot build number`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-03.jar", `invalid snapshot build number`},
		{"org/example/lib/1.1-SNAPSHOT/lib-1.1-20261201.123456-1234567890.jar", `invalid snapshot build number`},
	}
	for _, tt := range tests {
		c, err := ParseArtifact(tt.path)
		if err == nil {
			t.Errorf("ParseArtifact(%q) = %+v, want an error", tt.path, c)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ParseArtifact(%q) error %q does not say %q", tt.path, err, tt.reason)
		}
	}
}

func TestSplitChecksum(t *testing.T) {
	tests := []struct {
		path, base string
		alg        blob.Algorithm
		ok         bool
	}{
		{"a/b/x-1.0.jar.sha1", "a/b/x-1.0.jar", blob.SHA1, true},
		{"a/b/x-1.0.jar.md5", "a/b/x-1.0.jar", blob.MD5, true},
		{"a/b/x-1.0.jar.sha256", "a/b/x-1.0.jar", blob.SHA256, true},
		{"a/b/x-1.0.jar.sha512", "a/b/x-1.0.jar", blob.SHA512, true},
		{"a/b/maven-metadata.xml.sha1", "a/b/maven-metadata.xml", blob.SHA1, true},
		{"a/b/x-1.0.jar.asc.md5", "a/b/x-1.0.jar.asc", blob.MD5, true},
		{"a/b/x-1.0.jar", "", "", false},
		{"a/b/x-1.0.jar.asc", "", "", false},
		{"a/b/x-1.0.sha", "", "", false},
		{"a/b/x-1.0.jar.SHA1", "", "", false},
		{"a/b/.sha1", "", "", false},
		{".md5", "", "", false},
	}
	for _, tt := range tests {
		base, alg, ok := SplitChecksum(tt.path)
		if base != tt.base || alg != tt.alg || ok != tt.ok {
			t.Errorf("SplitChecksum(%q) = %q, %q, %v; want %q, %q, %v", tt.path, base, alg, ok, tt.base, tt.alg, tt.ok)
		}
	}
}

func TestIsMetadataPath(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"maven-metadata.xml", true},
		{"org/example/maven-metadata.xml", true},
		{"org/example/lib/maven-metadata.xml.sha1", true},
		{"org/example/lib/1.0-SNAPSHOT/maven-metadata.xml.sha512", true},
		{"org/example/lib/1.0-SNAPSHOT/maven-metadata.xml.md5", true},
		{"org/example/lib/maven-metadata.xml.asc", false},
		{"org/example/lib/1.0/lib-1.0.jar", false},
		{"org/example/lib/1.0/lib-1.0.jar.sha1", false},
		{"org/example/lib/xmaven-metadata.xml", false},
		{"org/example/maven-metadata.xml/lib", false},
	}
	for _, tt := range tests {
		if got := IsMetadataPath(tt.path); got != tt.want {
			t.Errorf("IsMetadataPath(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestChecksumAlgorithms(t *testing.T) {
	want := []blob.Algorithm{blob.SHA1, blob.MD5, blob.SHA256, blob.SHA512}
	if len(ChecksumAlgorithms) != len(want) {
		t.Fatalf("ChecksumAlgorithms = %v", ChecksumAlgorithms)
	}
	for i, a := range want {
		if ChecksumAlgorithms[i] != a {
			t.Errorf("ChecksumAlgorithms = %v, want %v", ChecksumAlgorithms, want)
		}
		// Every algorithm Maven asks for has a checksum file suffix.
		if _, alg, ok := SplitChecksum("x." + string(a)); !ok || alg != a {
			t.Errorf("SplitChecksum does not know %q", a)
		}
	}
}
