package npm

import (
	"context"
	"net/http"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// UpstreamRequest asks upstreams for full packuments (one cached document
// serves the full and the abbreviated answers) and names scoped packages
// as npm does, "@scope%2fname", which every registry understands.
func (f *Format) UpstreamRequest(_ repo.Config, p string, req *http.Request) error {
	name, ok := packumentName(p)
	if !ok {
		return nil
	}
	req.Header.Set("Accept", typeJSON)
	if strings.HasPrefix(name, "@") && strings.HasSuffix(req.URL.Path, name) {
		escaped := req.URL.EscapedPath()
		scoped := pathOfName(name)
		if strings.HasSuffix(escaped, scoped) {
			req.URL.RawPath = strings.TrimSuffix(escaped, scoped) + strings.Replace(scoped, "/", "%2f", 1)
		}
	}
	return nil
}

// ExpectedChecksum is what a proxied tarball must hash to: its version's
// dist.integrity (sha512) in the cached packument, else its dist.shasum.
func (f *Format) ExpectedChecksum(ctx context.Context, r repo.Repository, p string) (blob.Algorithm, string, bool) {
	rt, err := parseRoute(p)
	if err != nil || rt.kind != routeTarball || rt.rev != "" {
		return "", "", false
	}
	doc, err := readDoc(repo.WithBaseURL(ctx, nil), r, rt.name)
	if err != nil {
		return "", "", false
	}
	dist := tarballDist(doc, rt.name, rt.rest)
	if dist == nil {
		return "", "", false
	}
	if sum, err := sriSHA512(stringOf(dist.get("integrity"))); err == nil && sum != "" {
		return blob.SHA512, sum, true
	}
	if sum := strings.ToLower(stringOf(dist.get("shasum"))); len(sum) == 40 {
		return blob.SHA1, sum, true
	}
	return "", "", false
}

// tarballDist is the dist object of the version whose tarball is file.
func tarballDist(doc []byte, name, file string) object {
	top, err := parseObject(doc)
	if err != nil {
		return nil
	}
	versions := objectOf(top.get("versions"))
	matches := func(raw []byte) object {
		dist := objectOf(objectOf(raw).get("dist"))
		u := stringOf(dist.get("tarball"))
		if u[strings.LastIndexByte(u, '/')+1:] == file {
			return dist
		}
		return nil
	}
	if v, ok := fileVersion(name, file); ok {
		if d := matches(versions.get(v)); d != nil {
			return d
		}
	}
	for _, m := range versions {
		if d := matches(m.Val); d != nil {
			return d
		}
	}
	return nil
}
