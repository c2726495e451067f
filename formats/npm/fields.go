package npm

import "github.com/nexus-go/nexus-go/pkg/repo"

// Fields: groups choose whether proxied versions mix into packages a
// hosted member has.
func (f *Format) Fields(typ string) []repo.Field {
	if typ != repo.Group {
		return nil
	}
	return []repo.Field{{Path: "npm.mergeProxiedVersions", Label: "Merge proxied versions", Kind: repo.FieldBool,
		Default: "false", Section: "npm",
		Help: "Let proxy members add versions to packages a hosted member publishes (off guards against dependency confusion)."}}
}

// WritesThroughGroups: publishes to a group go to its writable member.
func (f *Format) WritesThroughGroups() bool { return true }
