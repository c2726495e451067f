package npm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Merge merges the members' packuments of one package (members in the
// group's order, only those that have it). When a hosted member has the
// package, only hosted members count, unless the group's npm section sets
// mergeProxiedVersions: a private name cannot be shadowed by a public
// upload of the same name (dependency confusion). Versions: the union, the
// first member's copy winning; dist-tags: those of the first member that
// has the package; time: merged, created the earliest and modified the
// latest. The result's _rev is derived from the members' documents. A
// member's malformed document is left out (and logged).
func (f *Format) Merge(ctx context.Context, g repo.Repository, p string, members []*repo.Content) (*repo.Content, error) {
	types := map[string]string{}
	if gm, ok := g.(repo.GroupMembers); ok {
		for _, m := range gm.Members() {
			types[m.Name()] = m.Config().Type
		}
	}
	type doc struct {
		member string
		raw    []byte
		top    object
	}
	// Decided before any document is read: the proxies' (usually the
	// big public ones) are not even parsed when only hosted ones count.
	hostedOnly := false
	if !f.settingsOf(g.Config()).MergeProxiedVersions {
		for _, c := range members {
			hostedOnly = hostedOnly || types[c.Asset.Repository] == repo.Hosted
		}
	}
	var docs []doc
	for _, c := range members {
		if hostedOnly && types[c.Asset.Repository] != repo.Hosted {
			continue
		}
		b, err := readBounded(c.Body, repo.MaxMetadataSize, "the packument "+p)
		var top object
		if err == nil {
			top, err = parseValidObject(b)
		}
		if err != nil {
			f.log.Warn("member packument left out of the merge", "path", p, "member", c.Asset.Repository, "err", err)
			continue
		}
		docs = append(docs, doc{c.Asset.Repository, b, top})
	}
	if len(docs) == 0 {
		return nil, errs.New(errs.Upstream, "no member has a readable packument %s", p)
	}
	out := docs[0].raw
	if len(docs) > 1 {
		tops := make([]object, len(docs))
		h := sha256.New()
		for i, d := range docs {
			tops[i] = d.top
			h.Write(d.raw)
		}
		out = mergeDocs(tops, "1-"+hex.EncodeToString(h.Sum(nil)[:16])).marshal()
	}
	return &repo.Content{
		Asset: &meta.Asset{Path: p, Size: int64(len(out)), ContentType: typeJSON},
		Body:  repo.BytesBody(out),
	}, nil
}

// mergeDocs merges packuments in order of precedence; the first one's
// other fields (description, readme, maintainers...) are the result's.
func mergeDocs(docs []object, rev string) object {
	out := append(object(nil), docs[0]...)
	versions := append(object(nil), objectOf(out.get("versions"))...)
	times := append(object(nil), objectOf(out.get("time"))...)
	for _, d := range docs[1:] {
		for _, v := range objectOf(d.get("versions")) {
			if versions.get(v.Key) == nil {
				versions = append(versions, v)
			}
		}
		for _, t := range objectOf(d.get("time")) {
			have := times.get(t.Key)
			switch {
			case have == nil:
				times = append(times, t)
			case t.Key == "created" && stringOf(t.Val) < stringOf(have):
				times.set(t.Key, t.Val)
			case t.Key == "modified" && stringOf(t.Val) > stringOf(have):
				times.set(t.Key, t.Val)
			}
		}
	}
	// dist-tags are the first document's (the first member that has the
	// package), whatever the others say: never whichever answered last.
	for _, d := range docs {
		if tags := d.get("dist-tags"); tags != nil {
			out.set("dist-tags", tags)
			break
		}
	}
	out.set("versions", versions.marshal())
	if len(times) > 0 {
		out.set("time", times.marshal())
	}
	out.set("_rev", jsonString(rev))
	return out
}
