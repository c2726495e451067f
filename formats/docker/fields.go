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
		{Path: "docker.subdomain", Label: "Subdomain", Kind: repo.FieldText, Section: section,
			Help: "Serve the repository on this port to requests for <subdomain>.<host>; empty for none."},
		{Path: "docker.pathEnabled", Label: "Path-based routing", Kind: repo.FieldBool, Default: "true", Section: section,
			Help: "Serve the repository on this port as <host>/<repository>/<image>."},
	}
	switch typ {
	case repo.Hosted:
		out = append(out, repo.Field{Path: "storage.latestPolicy", Label: "Redeploy latest", Kind: repo.FieldBool, Default: "false", Section: section,
			Help: "With write policy ALLOW_ONCE, the latest tag may still be pushed again."})
	case repo.Proxy:
		out = append(out, repo.Field{Path: "dockerProxy.indexType", Label: "Index type", Kind: repo.FieldSelect,
			Options: []string{"REGISTRY", "HUB", "CUSTOM"}, Default: "REGISTRY", Section: section,
			Help: "HUB maps single names to library/ images, as Docker Hub does; CUSTOM searches the index URL."},
			repo.Field{Path: "dockerProxy.indexUrl", Label: "Index URL", Kind: repo.FieldText, Section: section,
				Help: "Where docker search goes with index type CUSTOM."},
			repo.Field{Path: "dockerProxy.cacheForeignLayers", Label: "Cache foreign layers", Kind: repo.FieldBool, Default: "false", Section: section,
				Help: "Fetch layers listed with URLs of their own through the proxy (their URLs must match the whitelist, set through the REST API)."})
	}
	return out
}

// WritesThroughGroups: pushes to a group go to its writable member.
func (f *Format) WritesThroughGroups() bool { return true }
