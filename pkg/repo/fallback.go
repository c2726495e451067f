package repo

import (
	"bytes"
	"context"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// fallback caches at path, as freshly verified, what the format builds in
// place of an endpoint the upstream lacks. The paths it reads on the way
// are fetched and cached as any others, except that the negative cache is
// not asked: they may appear upstream at any time, and the built answer's
// own age decides when they are asked again.
func (p *proxyRepo) fallback(ctx context.Context, path string, fb UpstreamFallback) (*meta.Asset, error) {
	body, contentType, err := fb.Fallback(ctx, path, func(ctx context.Context, other string) (*Content, error) {
		return p.get(ctx, other, false)
	})
	if err != nil {
		return nil, err
	}
	return p.store(ctx, path, bytes.NewReader(body), PutOptions{ContentType: contentType, Size: int64(len(body)),
		Component: p.format.Component(path), LastVerified: p.now().UTC(), Attributes: map[string]string{}}, nil, 0)
}
