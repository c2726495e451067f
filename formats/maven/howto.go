package maven

import (
	"html"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// HowTo gives a complete settings.xml (the server's credentials, and a
// mirror of everything for proxies and groups) and, for hosted
// repositories, the distributionManagement block of a POM; for a
// component, its dependency block.
func (f *Format) HowTo(t repo.HowToTarget) []repo.Snippet {
	id := html.EscapeString(t.Config.Name)
	url := html.EscapeString(t.URL)
	if c := t.Component; c != nil {
		return []repo.Snippet{{ID: "use", Title: "Dependency", Text: "<dependency>\n" +
			"  <groupId>" + html.EscapeString(c.Group) + "</groupId>\n" +
			"  <artifactId>" + html.EscapeString(c.Name) + "</artifactId>\n" +
			"  <version>" + html.EscapeString(c.Version) + "</version>\n" +
			"</dependency>"}}
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.0.0 https://maven.apache.org/xsd/settings-1.0.0.xsd">
  <servers>
`)
	// A group's settings also serve deploys to its members, whose
	// distributionManagement names them by their ids.
	ids := []string{t.Config.Name}
	if g := t.Config.Group; g != nil {
		ids = append(ids, g.MemberNames...)
	}
	for _, sid := range ids {
		b.WriteString(`    <server>
      <id>` + html.EscapeString(sid) + `</id>
      <username>${env.NEXUS_USER}</username>
      <password>${env.NEXUS_PASSWORD}</password>
    </server>
`)
	}
	b.WriteString(`  </servers>
`)
	if t.Config.Type != repo.Hosted {
		b.WriteString(`  <mirrors>
    <mirror>
      <id>` + id + `</id>
      <mirrorOf>*</mirrorOf>
      <url>` + url + `</url>
    </mirror>
  </mirrors>
`)
	}
	b.WriteString("</settings>")
	out := []repo.Snippet{{ID: "maven-settings", Title: "~/.m2/settings.xml", Text: b.String()}}
	if t.Config.Type == repo.Hosted {
		policy := f.settings.Of(t.Config).VersionPolicy
		var d strings.Builder
		d.WriteString("<distributionManagement>\n")
		if policy != policySnapshot {
			d.WriteString("  <repository>\n    <id>" + id + "</id>\n    <url>" + url + "</url>\n  </repository>\n")
		}
		if policy != policyRelease {
			d.WriteString("  <snapshotRepository>\n    <id>" + id + "</id>\n    <url>" + url + "</url>\n  </snapshotRepository>\n")
		}
		d.WriteString("</distributionManagement>")
		out = append(out, repo.Snippet{ID: "maven-distribution", Title: "pom.xml: deploy here (mvn deploy)", Text: d.String()})
	}
	return out
}
