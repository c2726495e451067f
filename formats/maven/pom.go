package maven

import (
	"archive/zip"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// POM is what the format needs of a pom.xml.
type POM struct {
	GroupID, ArtifactID, Version, Packaging, Name string // GroupID/Version inherited from <parent> when absent; Packaging defaults to "jar"
}

// pomXML is the part of a pom.xml that POM is made of.
type pomXML struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Packaging  string `xml:"packaging"`
	Name       string `xml:"name"`
	Parent     struct {
		GroupID    string `xml:"groupId"`
		ArtifactID string `xml:"artifactId"`
		Version    string `xml:"version"`
	} `xml:"parent"`
	Properties struct {
		Entries []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	} `xml:"properties"`
}

// ParsePOM parses a pom.xml (refusing DTDs and entity declarations, as
// ParseMetadata does). A POM must name its artifactId, and a groupId and
// version of its own or of its parent. ${...} references to the POM's
// <properties> and to project.* coordinates are replaced, as Maven does
// when it builds the model (a POM installed with an unresolved
// "${revision}" version still names its version in <properties>);
// references to anything else are left as they are.
func ParsePOM(data []byte) (*POM, error) {
	var x pomXML
	if err := decodeStrict(data, "project", &x); err != nil {
		return nil, err
	}
	p := &POM{
		GroupID:    cmp.Or(strings.TrimSpace(x.GroupID), strings.TrimSpace(x.Parent.GroupID)),
		ArtifactID: strings.TrimSpace(x.ArtifactID),
		Version:    cmp.Or(strings.TrimSpace(x.Version), strings.TrimSpace(x.Parent.Version)),
		Packaging:  cmp.Or(strings.TrimSpace(x.Packaging), "jar"),
		Name:       strings.TrimSpace(x.Name),
	}
	props := map[string]string{}
	for _, e := range x.Properties.Entries {
		props[e.XMLName.Local] = strings.TrimSpace(e.Value)
	}
	for k, v := range map[string]string{
		"groupId": p.GroupID, "artifactId": p.ArtifactID, "version": p.Version,
		"parent.groupId": strings.TrimSpace(x.Parent.GroupID), "parent.artifactId": strings.TrimSpace(x.Parent.ArtifactID),
		"parent.version": strings.TrimSpace(x.Parent.Version),
	} {
		props["project."+k] = v
		props["pom."+k] = v // Maven 2's deprecated prefix
	}
	for _, f := range []*string{&p.GroupID, &p.ArtifactID, &p.Version, &p.Packaging, &p.Name} {
		*f = interpolate(*f, props)
	}
	switch {
	case p.ArtifactID == "":
		return nil, errors.New("pom has no artifactId")
	case p.GroupID == "":
		return nil, errors.New("pom has no groupId, neither its own nor its parent's")
	case p.Version == "":
		return nil, errors.New("pom has no version, neither its own nor its parent's")
	}
	return p, nil
}

var propertyRef = regexp.MustCompile(`\$\{([^${}]+)\}`)

// interpolate replaces ${name} in s by props[name], repeatedly (a property
// may refer to another) but boundedly (they may refer to each other).
func interpolate(s string, props map[string]string) string {
	for range 8 {
		t := propertyRef.ReplaceAllStringFunc(s, func(ref string) string {
			if v, ok := props[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
		if t == s {
			break
		}
		s = t
	}
	return s
}

var (
	prefixMaven  = regexp.MustCompile(`-?maven-?`)
	prefixPlugin = regexp.MustCompile(`-?plugin-?`)
)

// PluginPrefix is the goal prefix maven-plugin-tools derives from a
// plugin's artifactId when it names none: "maven" and then "plugin" are
// cut out with a dash on either side ("maven-foo-plugin" and
// "foo-maven-plugin" are "foo"), except for maven-plugin-plugin.
func PluginPrefix(artifactID string) string {
	if artifactID == "maven-plugin-plugin" {
		return "plugin"
	}
	return prefixPlugin.ReplaceAllString(prefixMaven.ReplaceAllString(artifactID, ""), "")
}

// pluginXMLPath is where a plugin jar has its descriptor.
const pluginXMLPath = "META-INF/maven/plugin.xml"

// maxPluginXML bounds the plugin descriptor read from a jar (unpacked):
// the largest real ones are a few MiB.
const maxPluginXML = 16 << 20

// PluginDescriptor reads the plugin descriptor of a Maven plugin jar and
// returns its goal prefix (derived from its artifactId with PluginPrefix if
// it names none) and its name.
func PluginDescriptor(jar io.ReaderAt, size int64) (prefix, name string, err error) {
	z, err := zip.NewReader(jar, size)
	if err != nil {
		return "", "", fmt.Errorf("not a jar: %w", err)
	}
	f, err := z.Open(pluginXMLPath)
	if err != nil {
		return "", "", fmt.Errorf("no %s in the jar", pluginXMLPath)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPluginXML+1))
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", pluginXMLPath, err)
	}
	if len(data) > maxPluginXML {
		return "", "", fmt.Errorf("%s is larger than %d bytes", pluginXMLPath, maxPluginXML)
	}
	var d struct {
		Name       string `xml:"name"`
		ArtifactID string `xml:"artifactId"`
		GoalPrefix string `xml:"goalPrefix"`
	}
	if err := decodeStrict(data, "plugin", &d); err != nil {
		return "", "", fmt.Errorf("%s: %w", pluginXMLPath, err)
	}
	prefix = strings.TrimSpace(d.GoalPrefix)
	if prefix == "" {
		prefix = PluginPrefix(strings.TrimSpace(d.ArtifactID))
	}
	if prefix == "" {
		return "", "", fmt.Errorf("%s names neither a goalPrefix nor an artifactId", pluginXMLPath)
	}
	return prefix, strings.TrimSpace(d.Name), nil
}
