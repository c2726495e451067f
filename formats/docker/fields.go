package docker

import "github.com/nexus-go/nexus-go/pkg/repo"

// Fields are the "docker" section (connector ports, anonymous pulls), and
// for proxies the upstream's index type ("dockerProxy").
func (f *Format) Fields(typ string) []repo.Field {
	const section = "Docker"
	out := []repo.Field{
		{Path: "docker.httpPort", Label: "HTTP connector port", Kind: repo.FieldNumber, Section: section,
			Help: "Serve this repository at the root of a port of its own (docker login host:port); empty for none."},
		{Path: "docker.httpsPort", Label: "HTTPS connector port", Kind: repo.FieldNumber, Section: section,
			Help: "The same over TLS (needs docker.tls-certificate); empty for none."},
		{Path: "docker.forceBasicAuth", Label: "Force authentication", Kind: repo.FieldBool, Default: "true", Section: section,
			Help: "Refuse anonymous pulls whatever the anonymous role allows."},
		{Path: "docker.v1Enabled", Label: "Docker V1 API", Kind: repo.FieldBool, Default: "false", Section: section,
			Help: "Answer the V1 search API."},
	}
	if typ == repo.Proxy {
		out = append(out, repo.Field{Path: "dockerProxy.indexType", Label: "Index type", Kind: repo.FieldSelect,
			Options: []string{"REGISTRY", "HUB"}, Default: "REGISTRY", Section: section,
			Help: "HUB maps single names to library/ images, as Docker Hub does."})
	}
	return out
}

// WritesThroughGroups: pushes to a group go to its writable member.
func (f *Format) WritesThroughGroups() bool { return true }
