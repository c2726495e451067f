package maven

import (
	"context"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Merge merges the members' maven-metadata.xml at p: the union of their
// versions in Maven's order, the newest lastUpdated, latest and release
// over all of them, the union of plugins. A member's malformed metadata is
// left out (and logged) rather than failing the group.
func (f *Format) Merge(ctx context.Context, _ repo.Repository, p string, members []*repo.Content) (*repo.Content, error) {
	var ms []*Metadata
	for _, c := range members {
		b, err := readBounded(c.Body, maxMetadata, p)
		if err == nil {
			var md *Metadata
			if md, err = ParseMetadata(b); err == nil {
				ms = append(ms, md)
				continue
			}
		}
		f.log.Warn("member metadata left out of the merge", "path", p, "member", c.Asset.Repository, "err", err)
	}
	merged := Merge(ms)
	if merged == nil {
		return nil, errs.New(errs.Upstream, "no member has readable %s", p)
	}
	b := merged.Marshal()
	return &repo.Content{
		Asset: &meta.Asset{Path: p, Size: int64(len(b)), ContentType: "application/xml"},
		Body:  repo.BytesBody(b),
	}, nil
}
