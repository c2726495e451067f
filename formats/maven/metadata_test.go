package maven

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Metadata as Maven 3 deploys it (element order of the current
// maven-repository-metadata model).
const (
	artifactLevelXML = `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>org.example</groupId>
  <artifactId>lib</artifactId>
  <versioning>
    <latest>1.1-SNAPSHOT</latest>
    <release>1.0</release>
    <versions>
      <version>1.0-alpha-1</version>
      <version>1.0</version>
      <version>1.1-SNAPSHOT</version>
    </versions>
    <lastUpdated>20261201123456</lastUpdated>
  </versioning>
</metadata>
`
	snapshotLevelXML = `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>org.example</groupId>
  <artifactId>lib</artifactId>
  <version>1.1-SNAPSHOT</version>
  <versioning>
    <snapshot>
      <timestamp>20261201.123456</timestamp>
      <buildNumber>3</buildNumber>
    </snapshot>
    <lastUpdated>20261201123456</lastUpdated>
    <snapshotVersions>
      <snapshotVersion>
        <extension>jar</extension>
        <value>1.1-20261201.123456-3</value>
        <updated>20261201123456</updated>
      </snapshotVersion>
      <snapshotVersion>
        <extension>pom</extension>
        <value>1.1-20261201.123456-3</value>
        <updated>20261201123456</updated>
      </snapshotVersion>
      <snapshotVersion>
        <classifier>sources</classifier>
        <extension>jar</extension>
        <value>1.1-20261130.080000-2</value>
        <updated>20261130080000</updated>
      </snapshotVersion>
    </snapshotVersions>
  </versioning>
</metadata>
`
	groupLevelXML = `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <plugins>
    <plugin>
      <name>Example Foo Plugin</name>
      <prefix>foo</prefix>
      <artifactId>foo-maven-plugin</artifactId>
    </plugin>
    <plugin>
      <prefix>bar</prefix>
      <artifactId>maven-bar-plugin</artifactId>
    </plugin>
  </plugins>
</metadata>
`
)

var (
	artifactLevelMeta = &Metadata{ModelVersion: "1.1.0", GroupID: "org.example", ArtifactID: "lib",
		Versioning: &Versioning{Latest: "1.1-SNAPSHOT", Release: "1.0",
			Versions: []string{"1.0-alpha-1", "1.0", "1.1-SNAPSHOT"}, LastUpdated: "20261201123456"}}
	snapshotLevelMeta = &Metadata{ModelVersion: "1.1.0", GroupID: "org.example", ArtifactID: "lib",
		Version: "1.1-SNAPSHOT", Versioning: &Versioning{
			Snapshot:    &Snapshot{Timestamp: "20261201.123456", BuildNumber: 3},
			LastUpdated: "20261201123456",
			SnapshotVersions: []SnapshotVersion{
				{Extension: "jar", Value: "1.1-20261201.123456-3", Updated: "20261201123456"},
				{Extension: "pom", Value: "1.1-20261201.123456-3", Updated: "20261201123456"},
				{Classifier: "sources", Extension: "jar", Value: "1.1-20261130.080000-2", Updated: "20261130080000"},
			}}}
	groupLevelMeta = &Metadata{ModelVersion: "1.1.0", Plugins: []Plugin{
		{Name: "Example Foo Plugin", Prefix: "foo", ArtifactID: "foo-maven-plugin"},
		{Prefix: "bar", ArtifactID: "maven-bar-plugin"},
	}}
)

// equalMetadata compares metadata ignoring XMLName, which decoding sets.
func equalMetadata(a, b *Metadata) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.XMLName, y.XMLName = xml.Name{}, xml.Name{}
	return reflect.DeepEqual(x, y)
}

func TestMetadataRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name, xml string
		want      *Metadata
	}{
		{"artifact", artifactLevelXML, artifactLevelMeta},
		{"snapshot", snapshotLevelXML, snapshotLevelMeta},
		{"group", groupLevelXML, groupLevelMeta},
	} {
		m, err := ParseMetadata([]byte(tt.xml))
		if err != nil {
			t.Fatalf("%s: ParseMetadata: %v", tt.name, err)
		}
		if !equalMetadata(m, tt.want) {
			t.Errorf("%s: ParseMetadata = %+v, want %+v", tt.name, m, tt.want)
		}
		if out := m.Marshal(); string(out) != tt.xml {
			t.Errorf("%s: Marshal =\n%s\nwant\n%s", tt.name, out, tt.xml)
		}
		if !bytes.Equal(tt.want.Marshal(), tt.want.Marshal()) {
			t.Errorf("%s: Marshal is not deterministic", tt.name)
		}
	}
}

// TestParseMetadataVariants reads files as other writers make them: Maven
// 2's model 1.0.0 (no attribute, no snapshotVersions, a namespace), Maven
// 3.8's element order, indented text, ISO-8859-1.
func TestParseMetadataVariants(t *testing.T) {
	tests := []struct {
		name, xml string
		want      *Metadata
	}{
		{"maven2 snapshot", `<?xml version="1.0"?>
<metadata xmlns="http://maven.apache.org/METADATA/1.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://maven.apache.org/METADATA/1.0.0 metadata-1.0.0.xsd">
  <groupId>org.example</groupId><artifactId>lib</artifactId><version>1.1-SNAPSHOT</version>
  <versioning><snapshot><timestamp>20090101.010101</timestamp><buildNumber>7</buildNumber></snapshot>
  <lastUpdated>20090101010101</lastUpdated></versioning>
</metadata>`, &Metadata{GroupID: "org.example", ArtifactID: "lib", Version: "1.1-SNAPSHOT", Versioning: &Versioning{
			Snapshot: &Snapshot{Timestamp: "20090101.010101", BuildNumber: 7}, LastUpdated: "20090101010101"}}},
		{"maven 3.8 order, padded text", `<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand -->
<metadata>
  <groupId> org.example </groupId>
  <artifactId>lib</artifactId>
  <versioning>
    <latest>
      1.0
    </latest>
    <versions><version> 1.0 </version></versions>
    <lastUpdated>20261201123456</lastUpdated>
    <snapshot><localCopy> true </localCopy><buildNumber> 2 </buildNumber></snapshot>
    <unknownElement>ignored</unknownElement>
  </versioning>
  <version>1.0</version>
</metadata>
`, &Metadata{GroupID: "org.example", ArtifactID: "lib", Version: "1.0", Versioning: &Versioning{
			Latest: "1.0", Versions: []string{"1.0"}, LastUpdated: "20261201123456",
			Snapshot: &Snapshot{BuildNumber: 2, LocalCopy: true}}}},
		{"latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><metadata><plugins><plugin><name>Caf\xe9</name>" +
			"<prefix>c</prefix><artifactId>c-maven-plugin</artifactId></plugin></plugins></metadata>",
			&Metadata{Plugins: []Plugin{{Name: "Café", Prefix: "c", ArtifactID: "c-maven-plugin"}}}},
	}
	for _, tt := range tests {
		m, err := ParseMetadata([]byte(tt.xml))
		if err != nil {
			t.Errorf("%s: ParseMetadata: %v", tt.name, err)
			continue
		}
		if !equalMetadata(m, tt.want) {
			t.Errorf("%s: ParseMetadata = %+v, want %+v", tt.name, m, tt.want)
		}
	}
}

func TestParseMetadataRefused(t *testing.T) {
	tests := []struct{ name, xml, reason string }{
		{"empty", ``, "no root element"},
		{"whitespace", "  \n", "no root element"},
		{"not xml", `hello`, "text before the root element"},
		{"other root", `<project><groupId>g</groupId></project>`, "root element is <project>, not <metadata>"},
		{"doctype", `<!DOCTYPE metadata><metadata/>`, "DTDs"},
		{"entity declaration", `<?xml version="1.0"?>
<!DOCTYPE metadata [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<metadata><groupId>&b;</groupId></metadata>`, "DTDs"},
		{"external entity", `<!DOCTYPE metadata [<!ENTITY x SYSTEM "file:///etc/passwd">]><metadata><groupId>&x;</groupId></metadata>`, "DTDs"},
		{"directive inside", `<metadata><!DOCTYPE x><groupId>g</groupId></metadata>`, "DTDs"},
		{"undeclared entity", `<metadata><groupId>&x;</groupId></metadata>`, "malformed XML"},
		{"unclosed", `<metadata><groupId>g</groupId>`, "malformed XML"},
		{"mismatched", `<metadata><groupId>g</artifactId></metadata>`, "malformed XML"},
		{"two roots", `<metadata/><metadata/>`, "more than one root element"},
		{"text after", `<metadata/>trailing`, "text after the root element"},
		{"bad build number", `<metadata><versioning><snapshot><buildNumber>x</buildNumber></snapshot></versioning></metadata>`, "malformed XML"},
		{"bad localCopy", `<metadata><versioning><snapshot><localCopy>maybe</localCopy></snapshot></versioning></metadata>`, "malformed XML"},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC"?><metadata/>`, "malformed XML"},
	}
	for _, tt := range tests {
		m, err := ParseMetadata([]byte(tt.xml))
		if err == nil {
			t.Errorf("%s: ParseMetadata = %+v, want an error", tt.name, m)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: error %q does not say %q", tt.name, err, tt.reason)
		}
	}
}

// TestMetadataMaven has Maven's own strict reader read what Marshal
// writes, and Maven's writer write it back: ParseMetadata must read the
// same metadata from Maven's rendering.
func TestMetadataMaven(t *testing.T) {
	jar := mavenJar("maven-repository-metadata-")
	utils := mavenJar("plexus-utils")
	if jar == "" || utils == "" {
		requireClient(t, "mvn with java")
	}
	ms := []*Metadata{artifactLevelMeta, snapshotLevelMeta, groupLevelMeta,
		ArtifactLevel("g", "a", []string{"2.0", "1.0", "2.0-SNAPSHOT"}, time.Unix(0, 0)),
		{ModelVersion: "1.1.0", GroupID: `a&b<"c'>`, Versioning: &Versioning{Snapshot: &Snapshot{LocalCopy: true}}},
	}
	for _, m := range ms {
		cmd := exec.Command("java", "-cp", jar+string(os.PathListSeparator)+utils,
			filepath.Join("testdata", "MetadataOracle.java"))
		cmd.Stdin = bytes.NewReader(m.Marshal())
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("java MetadataOracle on\n%s: %v", m.Marshal(), err)
		}
		back, err := ParseMetadata(out)
		if err != nil {
			t.Fatalf("ParseMetadata of Maven's\n%s: %v", out, err)
		}
		if !equalMetadata(back, m) {
			t.Errorf("Maven rewrote\n%s\nas\n%s", m.Marshal(), out)
		}
	}
}

// mavenJar finds the jar of Maven's lib folder whose name starts with
// prefix, or "" if there is none (or no java).
func mavenJar(prefix string) string {
	lib := mavenLib()
	if lib == "" {
		return ""
	}
	jars, _ := filepath.Glob(filepath.Join(lib, prefix+"*.jar"))
	if len(jars) == 0 {
		return ""
	}
	return jars[0]
}

// mavenLib is the lib folder of the installed mvn, or "" if there is none
// (or no java to run its classes).
func mavenLib() string {
	if _, err := exec.LookPath("java"); err != nil {
		return ""
	}
	mvn, err := exec.LookPath("mvn")
	if err != nil {
		return ""
	}
	if mvn, err = filepath.EvalSymlinks(mvn); err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(mvn), "..", "lib")
}

func TestSnapshotFile(t *testing.T) {
	tests := []struct {
		name                  string
		m                     *Metadata
		classifier, extension string
		want                  string
		ok                    bool
	}{
		{"jar", snapshotLevelMeta, "", "jar", "1.1-20261201.123456-3", true},
		{"pom", snapshotLevelMeta, "", "pom", "1.1-20261201.123456-3", true},
		{"sources of an older build", snapshotLevelMeta, "sources", "jar", "1.1-20261130.080000-2", true},
		{"missing pair", snapshotLevelMeta, "javadoc", "jar", "", false},
		{"no versioning", &Metadata{Version: "1.1-SNAPSHOT"}, "", "jar", "", false},
		{"artifact level", artifactLevelMeta, "", "jar", "", false},
		{"maven2 snapshot", &Metadata{Version: "1.1-SNAPSHOT", Versioning: &Versioning{
			Snapshot: &Snapshot{Timestamp: "20090101.010101", BuildNumber: 7}}}, "tests", "jar", "1.1-20090101.010101-7", true},
		{"maven2 local copy", &Metadata{Version: "1.1-SNAPSHOT", Versioning: &Versioning{
			Snapshot: &Snapshot{LocalCopy: true}}}, "", "jar", "", false},
		{"plain snapshot file", SnapshotLevel("g", "a", "1.1-SNAPSHOT",
			[]Coords{{Extension: "jar"}}, time.Now()), "", "jar", "1.1-SNAPSHOT", true},
	}
	for _, tt := range tests {
		got, ok := tt.m.SnapshotFile(tt.classifier, tt.extension)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: SnapshotFile(%q, %q) = %q, %v; want %q, %v", tt.name, tt.classifier, tt.extension, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormatTime(t *testing.T) {
	at := time.Date(2026, 12, 1, 13, 34, 56, 999, time.FixedZone("CET", 3600))
	if got := FormatTime(at); got != "20261201123456" {
		t.Errorf("FormatTime = %q, want 20261201123456 (UTC)", got)
	}
}
