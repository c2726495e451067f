package npm

import "github.com/nexus-go/nexus-go/pkg/meta"

// IsPrerelease is true for semver prereleases ("1.0.0-beta.1"), as
// cleanup's release type sees them.
func (f *Format) IsPrerelease(c *meta.Component) bool {
	v, ok := parseVersion(c.Version)
	return ok && v.prerelease()
}

// CompareVersions orders versions by semver precedence, for cleanup's
// "keep the newest N".
func (f *Format) CompareVersions(a, b string) int { return compareVersions(a, b) }
