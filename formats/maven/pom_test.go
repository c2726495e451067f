package maven

import (
	"archive/zip"
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePOM(t *testing.T) {
	tests := []struct {
		name, xml string
		want      POM
	}{
		{"full", `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.example</groupId>
  <artifactId>lib</artifactId>
  <version>1.0</version>
  <packaging>maven-plugin</packaging>
  <name>Example Lib</name>
  <dependencies>
    <dependency><groupId>other</groupId><artifactId>dep</artifactId><version>9</version></dependency>
  </dependencies>
</project>`, POM{GroupID: "org.example", ArtifactID: "lib", Version: "1.0", Packaging: "maven-plugin", Name: "Example Lib"}},
		{"inherits groupId and version, default packaging", `<project>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>2.0-SNAPSHOT</version></parent>
  <artifactId>child</artifactId>
</project>`, POM{GroupID: "org.example", ArtifactID: "child", Version: "2.0-SNAPSHOT", Packaging: "jar"}},
		{"own coordinates win over the parent's", `<project>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>2.0</version></parent>
  <groupId>org.example.sub</groupId><artifactId>child</artifactId><version>3.0</version><packaging>pom</packaging>
</project>`, POM{GroupID: "org.example.sub", ArtifactID: "child", Version: "3.0", Packaging: "pom"}},
		{"properties", `<project>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>5</version></parent>
  <artifactId>app-${suffix}</artifactId>
  <version>${revision}${changelist}</version>
  <name>${project.artifactId} ${project.parent.version} ${undefined}</name>
  <properties><revision>1.2.3</revision><changelist>-SNAPSHOT</changelist><suffix>core</suffix></properties>
</project>`, POM{GroupID: "org.example", ArtifactID: "app-core", Version: "1.2.3-SNAPSHOT", Packaging: "jar",
			Name: "app-core 5 ${undefined}"}},
		{"self reference", `<project><groupId>g</groupId><artifactId>a</artifactId><version>${project.version}</version></project>`,
			POM{GroupID: "g", ArtifactID: "a", Version: "${project.version}", Packaging: "jar"}},
		{"padded text", "<project>\n<groupId>\n  g\n</groupId><artifactId> a </artifactId><version> 1 </version></project>",
			POM{GroupID: "g", ArtifactID: "a", Version: "1", Packaging: "jar"}},
	}
	for _, tt := range tests {
		p, err := ParsePOM([]byte(tt.xml))
		if err != nil {
			t.Errorf("%s: ParsePOM: %v", tt.name, err)
			continue
		}
		if *p != tt.want {
			t.Errorf("%s: ParsePOM = %+v, want %+v", tt.name, *p, tt.want)
		}
	}
}

func TestParsePOMRefused(t *testing.T) {
	tests := []struct{ name, xml, reason string }{
		{"not xml", `{"groupId": "g"}`, "text before the root element"},
		{"metadata", `<metadata><groupId>g</groupId></metadata>`, "root element is <metadata>, not <project>"},
		{"entities", `<!DOCTYPE project [<!ENTITY v "1.0">]><project><groupId>g</groupId><artifactId>a</artifactId><version>&v;</version></project>`, "DTDs"},
		{"truncated", `<project><groupId>g</groupId><artifactId>a</artifactId><version>1`, "malformed XML"},
		{"no artifactId", `<project><groupId>g</groupId><version>1</version></project>`, "no artifactId"},
		{"no groupId", `<project><artifactId>a</artifactId><version>1</version></project>`, "no groupId"},
		{"no version", `<project><parent><groupId>g</groupId></parent><artifactId>a</artifactId></project>`, "no version"},
		{"dependency is not the project's", `<project><artifactId>a</artifactId><version>1</version>` +
			`<dependencies><dependency><groupId>g</groupId></dependency></dependencies></project>`, "no groupId"},
	}
	for _, tt := range tests {
		p, err := ParsePOM([]byte(tt.xml))
		if err == nil {
			t.Errorf("%s: ParsePOM = %+v, want an error", tt.name, p)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: error %q does not say %q", tt.name, err, tt.reason)
		}
	}
}

// prefixCases are artifactIds and the goal prefix Maven derives.
var prefixCases = []struct{ artifactID, want string }{
	{"maven-foo-plugin", "foo"},
	{"foo-maven-plugin", "foo"},
	{"maven-plugin-plugin", "plugin"},
	{"foo-plugin", "foo"},
	{"foo", "foo"},
	{"my-plugin-thing", "mything"},
	{"mavenx", "x"},
	{"maven", ""},
	{"xmaven-plugin", "x"},
	{"maven-foo-bar-plugin", "foo-bar"},
	{"foo-maven-plugin-maven", "foo"},
	{"Maven-Foo-Plugin", "Maven-Foo-Plugin"},
}

func TestPluginPrefix(t *testing.T) {
	for _, tt := range prefixCases {
		if got := PluginPrefix(tt.artifactID); got != tt.want {
			t.Errorf("PluginPrefix(%q) = %q, want %q", tt.artifactID, got, tt.want)
		}
	}
}

// TestPluginPrefixMaven checks PluginPrefix against Maven's own
// PluginDescriptor.getGoalPrefixFromArtifactId.
func TestPluginPrefixMaven(t *testing.T) {
	var cp []string
	for _, jar := range []string{"maven-plugin-api-", "sisu-plexus", "plexus-utils", "maven-artifact-"} {
		if cp = append(cp, mavenJar(jar)); cp[len(cp)-1] == "" {
			requireClient(t, "mvn with java")
		}
	}
	ids := []string{"-maven-", "plugin-maven", "maven--plugin", "a-mavenplugin-b", "maven-maven-plugin", "pluginplugin", "-"}
	for _, c := range prefixCases {
		ids = append(ids, c.artifactID)
	}
	cmd := exec.Command("java", "-cp", strings.Join(cp, string(os.PathListSeparator)),
		filepath.Join("testdata", "PluginPrefixOracle.java"))
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java PluginPrefixOracle: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for _, id := range ids {
		if !sc.Scan() {
			t.Fatalf("oracle stopped before %q", id)
		}
		if got := PluginPrefix(id); got != sc.Text() {
			t.Errorf("PluginPrefix(%q) = %q, Maven says %q", id, got, sc.Text())
		}
	}
}

// jarWith builds a zip in memory with the given files.
func jarWith(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, body := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPluginDescriptor(t *testing.T) {
	const pluginXML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by maven-plugin-tools 3.6 -->
<plugin>
  <name>Example Foo Plugin</name>
  <description>Does foo</description>
  <groupId>org.example</groupId>
  <artifactId>foo-maven-plugin</artifactId>
  <version>1.0</version>
  <goalPrefix>%s</goalPrefix>
  <mojos><mojo><goal>run</goal><parameters><parameter><name>x</name></parameter></parameters></mojo></mojos>
</plugin>`
	tests := []struct {
		name        string
		files       map[string]string
		prefix, nom string
		reason      string
	}{
		{"goal prefix", map[string]string{"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n",
			"org/example/Foo.class": "\xca\xfe\xba\xbe", pluginXMLPath: strings.Replace(pluginXML, "%s", "fu", 1)},
			"fu", "Example Foo Plugin", ""},
		{"no goal prefix", map[string]string{pluginXMLPath: strings.Replace(pluginXML, "<goalPrefix>%s</goalPrefix>", "", 1)},
			"foo", "Example Foo Plugin", ""},
		{"no descriptor", map[string]string{"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"}, "", "",
			"no META-INF/maven/plugin.xml"},
		{"malformed descriptor", map[string]string{pluginXMLPath: "<plugin><goalPrefix>x</plugin>"}, "", "", "malformed XML"},
		{"descriptor with a DTD", map[string]string{pluginXMLPath: `<!DOCTYPE plugin [<!ENTITY e "x">]><plugin><goalPrefix>&e;</goalPrefix></plugin>`},
			"", "", "DTDs"},
		{"nothing to name it by", map[string]string{pluginXMLPath: "<plugin><name>N</name></plugin>"}, "", "",
			"neither a goalPrefix nor an artifactId"},
	}
	for _, tt := range tests {
		jar := jarWith(t, tt.files)
		prefix, name, err := PluginDescriptor(bytes.NewReader(jar), int64(len(jar)))
		if tt.reason != "" {
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("%s: PluginDescriptor error %v, want one saying %q", tt.name, err, tt.reason)
			}
			continue
		}
		if err != nil || prefix != tt.prefix || name != tt.nom {
			t.Errorf("%s: PluginDescriptor = %q, %q, %v; want %q, %q", tt.name, prefix, name, err, tt.prefix, tt.nom)
		}
	}
	notJar := []byte("this is not a zip file")
	if _, _, err := PluginDescriptor(bytes.NewReader(notJar), int64(len(notJar))); err == nil ||
		!strings.Contains(err.Error(), "not a jar") {
		t.Errorf("PluginDescriptor(not a zip) error %v", err)
	}
}

// TestPluginDescriptorBounded refuses a descriptor that unpacks to more
// than maxPluginXML, without reading it all.
func TestPluginDescriptorBounded(t *testing.T) {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create(pluginXMLPath)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("<plugin><name>"))
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range maxPluginXML>>20 + 1 {
		w.Write(chunk)
	}
	w.Write([]byte("</name></plugin>"))
	z.Close()
	_, _, err = PluginDescriptor(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("PluginDescriptor of a huge descriptor: %v", err)
	}
}
