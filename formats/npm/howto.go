package npm

import (
	"strings"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// HowTo gives the .npmrc lines (registry and credentials, which npm takes
// from the NEXUS_AUTH variable: base64 of user:password) and, where
// publishing goes somewhere, the publish line; for a component, its
// install line.
func (f *Format) HowTo(t repo.HowToTarget) []repo.Snippet {
	if c := t.Component; c != nil {
		return []repo.Snippet{{ID: "use", Title: "Install", Text: "npm install " + packageOf(c) + "@" + c.Version + " --registry=" + t.URL}}
	}
	nerf := "//" + strings.TrimPrefix(strings.TrimPrefix(t.URL, "https://"), "http://")
	out := []repo.Snippet{{ID: "npmrc", Title: ".npmrc", Text: "registry=" + t.URL + "\n" + nerf + ":_auth=${NEXUS_AUTH}"}}
	if t.Config.Type == repo.Hosted || t.Config.Group != nil && t.Config.Group.WritableMember != "" {
		out = append(out, repo.Snippet{ID: "npm-publish", Title: "Publish", Text: "npm publish --registry=" + t.URL})
	}
	return out
}
