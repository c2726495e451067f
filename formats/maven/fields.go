package maven

import "github.com/nexus-go/nexus-go/pkg/repo"

// Fields are the "maven" section: version and layout policies and the
// content disposition.
func (f *Format) Fields(string) []repo.Field {
	const section = "Maven"
	return []repo.Field{
		{Path: "maven.versionPolicy", Label: "Version policy", Kind: repo.FieldSelect, Section: section,
			Options: []string{policyRelease, policySnapshot, policyMixed}, Default: policyRelease,
			Help: "Which versions the repository holds: releases, snapshots or both."},
		{Path: "maven.layoutPolicy", Label: "Layout policy", Kind: repo.FieldSelect, Section: section,
			Options: []string{layoutStrict, layoutPermissive}, Default: layoutStrict,
			Help: "STRICT refuses paths that are not Maven coordinates."},
		{Path: "maven.contentDisposition", Label: "Content disposition", Kind: repo.FieldSelect, Section: section,
			Options: []string{"INLINE", "ATTACHMENT"}, Default: "INLINE"},
	}
}
