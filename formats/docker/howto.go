package docker

import "github.com/nexus-go/nexus-go/pkg/repo"

// HowTo gives docker login, push (hosted, or a group with a writable
// member) and pull lines, at the connector port when the repository has
// one and at its path on the main port (/v2/ is at the port's root,
// whatever the context path); for a component (an image tag)
// its pull line.
func (f *Format) HowTo(t repo.HowToTarget) []repo.Snippet {
	pathRef := t.Host + "/" + t.Config.Name
	if t.Component != nil {
		ref := pathRef
		if t.ConnectorHost != "" {
			ref = t.ConnectorHost
		}
		return []repo.Snippet{{ID: "use", Title: "Pull", Text: "docker pull " + ref + "/" + t.Component.Name + ":" + t.Component.Version}}
	}
	writable := t.Config.Type == repo.Hosted || t.Config.Group != nil && t.Config.Group.WritableMember != ""
	lines := func(suffix, registry, ref, where string) []repo.Snippet {
		out := []repo.Snippet{{ID: "docker-login" + suffix, Title: "Sign in" + where,
			Text: `echo "` + repo.ShellPassword + `" | docker login ` + registry + ` -u "` + repo.ShellUser + `" --password-stdin`}}
		if writable {
			out = append(out, repo.Snippet{ID: "docker-push" + suffix, Title: "Push" + where,
				Text: "docker tag my-image:1.0 " + ref + "/my-image:1.0\ndocker push " + ref + "/my-image:1.0"})
		}
		return append(out, repo.Snippet{ID: "docker-pull" + suffix, Title: "Pull" + where,
			Text: "docker pull " + ref + "/my-image:1.0"})
	}
	var out []repo.Snippet
	if t.ConnectorHost != "" {
		out = lines("", t.ConnectorHost, t.ConnectorHost, " (connector port)")
	}
	return append(out, lines("-path", t.Host, pathRef, " (main port, repository path)")...)
}
