package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// groupRepo serves its members' content: the first member that has a path
// wins, and metadata of merging formats is merged across all of them.
type groupRepo struct {
	base
	members func() []Repository
	merges  singleflight.Group
	// cfgKey is the group's configuration as JSON, part of every merge's
	// key: a change to it (members, their order, format settings) merges
	// anew.
	cfgKey []byte
}

var _ GroupMembers = (*groupRepo)(nil)

// Members returns the members in order.
func (g *groupRepo) Members() []Repository { return g.members() }

// WritableMember returns the configured writable member, or nil.
func (g *groupRepo) WritableMember() Repository {
	name := g.cfg.Group.WritableMember
	for _, m := range g.members() {
		if m.Name() == name {
			return m
		}
	}
	return nil
}

func (g *groupRepo) Get(ctx context.Context, p string) (*Content, error) {
	if err := g.serving(p); err != nil {
		return nil, err
	}
	// Members serve what they store; the group rewrites once, for the URL
	// the client addressed, after merging.
	mctx := WithBaseURL(ctx, nil)
	var c *Content
	var err error
	if merger, ok := g.format.(GroupMerger); ok && g.format.IsMetadata(p) {
		c, err = g.merged(mctx, p, merger)
	} else {
		c, err = firstMember(g, p, func(m Repository) (*Content, error) { return m.Get(mctx, p) })
	}
	if err != nil {
		return nil, err
	}
	return g.rewrite(ctx, p, c)
}

// firstMember returns what get answers for the first member that has p.
// Members that fail otherwise are logged and skipped; their error is
// returned only when no member has p.
func firstMember[T any](g *groupRepo, p string, get func(Repository) (T, error)) (T, error) {
	var lastErr error
	asked := 0
	defer func() { g.meter.GroupLookup(g.cfg.Name, asked) }()
	for _, m := range g.members() {
		asked++
		v, err := get(m)
		if err == nil {
			return v, nil
		}
		if errs.KindOf(err) != errs.NotFound {
			g.log.Warn("group member failed", "group", g.cfg.Name, "member", m.Name(), "path", p, "err", err)
			lastErr = err
		}
	}
	var none T
	return none, g.notFound(p, lastErr)
}

func (g *groupRepo) Locate(ctx context.Context, p string) (*meta.Asset, error) {
	if err := g.serving(p); err != nil {
		return nil, err
	}
	if _, merges := g.format.(GroupMerger); (merges && g.format.IsMetadata(p)) || g.rewrites(ctx, p) {
		c, err := locateServed(ctx, g, p)
		if err != nil {
			return nil, err
		}
		return c.Asset, nil
	}
	return firstMember(g, p, func(m Repository) (*meta.Asset, error) { return m.Locate(ctx, p) })
}

func (g *groupRepo) notFound(p string, lastErr error) error {
	if lastErr != nil {
		return lastErr
	}
	return errs.New(errs.NotFound, "%s not found in group %s", p, g.cfg.Name)
}

// memberFanOut bounds how many members one merged request asks at once.
const memberFanOut = 8

// merged serves metadata merged from every member that has p. The merge is
// stored as the group's own asset at p, with the key of the member assets
// it was made from: an unchanged set of members' assets is served from
// there (conditional requests and checksums included) without opening
// theirs, any change to one of them is seen at once and merged anew.
func (g *groupRepo) merged(ctx context.Context, p string, merger GroupMerger) (*Content, error) {
	have, err := g.locateMembers(ctx, p)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, d := range have {
			if d.c != nil {
				d.c.Body.Close()
			}
		}
	}()
	key, err := g.mergeKey(have)
	if err != nil {
		return nil, err
	}
	if a, err := g.db.AssetByPath(g.cfg.Name, p); err == nil && a.Attributes[mergedFrom] == key {
		return g.open(ctx, a)
	}
	// Concurrent requests for a changed set share one merge; it is stored
	// whatever becomes of the request that started it.
	v, err, _ := g.merges.Do(p+"\x00"+key, func() (any, error) {
		var contents []*Content
		var lastErr error
		for i := range have {
			d := &have[i] // its content is closed with the others
			if d.c == nil {
				if d.c, lastErr = d.m.Get(ctx, p); lastErr != nil {
					// Changed since it was located: the next request
					// merges again, under the key of what it finds.
					g.log.Warn("group member failed", "group", g.cfg.Name, "member", d.m.Name(), "path", p, "err", lastErr)
					continue
				}
			}
			contents = append(contents, d.c)
		}
		if len(contents) == 0 {
			return nil, g.notFound(p, lastErr)
		}
		c, err := merger.Merge(ctx, g, p, contents)
		if err != nil {
			return nil, err
		}
		defer c.Body.Close()
		if g.writable() != nil {
			// Read-only: the merge is served, not stored.
			body, err := readMetadata(c)
			if err != nil {
				return nil, err
			}
			return &unstoredMerge{body: body, asset: meta.Asset{Repository: g.cfg.Name, Path: p, Size: int64(len(body)),
				ContentType: c.Asset.ContentType, LastModified: time.Now().UTC()}}, nil
		}
		_, err = g.store(context.WithoutCancel(ctx), p, c.Body, PutOptions{
			ContentType: c.Asset.ContentType, Size: -1, Attributes: map[string]string{mergedFrom: key},
		}, nil, MaxMetadataSize)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	if m, ok := v.(*unstoredMerge); ok {
		// Shared by the callers of the merge: each gets its own copy.
		a := m.asset
		a.Checksums = map[string]string{}
		return &Content{Asset: &a, Body: BytesBody(m.body)}, nil
	}
	return g.cached(ctx, p)
}

// unstoredMerge is a merge made while the server is read-only.
type unstoredMerge struct {
	body  []byte
	asset meta.Asset
}

// memberDoc is what a member has at a merged path: its asset and, for a
// download still being written (no blob yet), its content.
type memberDoc struct {
	m Repository
	a *meta.Asset
	c *Content
}

// locateMembers locates p in every member at once (at most memberFanOut
// at a time), in member order, skipping those that lack it; a download
// being written is opened, as only its bytes can tell what it is.
func (g *groupRepo) locateMembers(ctx context.Context, p string) ([]memberDoc, error) {
	members := g.members()
	g.meter.GroupLookup(g.cfg.Name, len(members))
	docs := make([]memberDoc, len(members))
	failed := make([]error, len(members))
	var wg sync.WaitGroup
	slots := make(chan struct{}, memberFanOut)
	for i, m := range members {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			d := memberDoc{m: m}
			d.a, failed[i] = m.Locate(ctx, p)
			if failed[i] == nil && d.a.Blob == "" {
				d.c, failed[i] = m.Get(ctx, p)
			}
			docs[i] = d
		}()
	}
	wg.Wait()
	var have []memberDoc
	var lastErr error
	for i, d := range docs {
		switch err := failed[i]; {
		case err == nil:
			have = append(have, d)
		case errs.KindOf(err) != errs.NotFound:
			g.log.Warn("group member failed", "group", g.cfg.Name, "member", members[i].Name(), "path", p, "err", err)
			lastErr = err
		}
	}
	if len(have) == 0 {
		return nil, g.notFound(p, lastErr)
	}
	return have, nil
}

// mergedFrom is the attribute of a group's merged asset naming the member
// assets it was merged from.
const mergedFrom = "mergedFrom"

// mergeKey names what a merge is made from: each member's name and blob
// digest (or the digest of its bytes when it has none yet: a proxy
// download being streamed, whose bytes are then kept for the merge), and
// the group's configuration, which formats may read in Merge.
func (g *groupRepo) mergeKey(have []memberDoc) (string, error) {
	h := sha256.New()
	h.Write(g.cfgKey)
	for i, d := range have {
		dg := d.a.Blob
		if dg == "" {
			b, err := readMetadata(d.c)
			if err != nil {
				return "", errs.Wrap(errs.KindOf(err), err, "a member of group %s", g.cfg.Name)
			}
			d.c.Body.Close()
			have[i].c.Body = BytesBody(b)
			dg = digest.FromBytes(b)
		}
		fmt.Fprintf(h, "%s %s\n", d.m.Name(), dg)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MaxMetadataSize bounds a metadata document read into memory, for a merge
// or a derivation (Derive), and what formats that maintain metadata store:
// a document the engine could not read back must not be written. The
// largest real ones (npm packuments with thousands of versions) are some
// tens of MiB.
const MaxMetadataSize = 64 << 20

func (g *groupRepo) Put(ctx context.Context, p string, body io.Reader, opts PutOptions) (*meta.Asset, error) {
	return nil, errs.New(errs.Unsupported, "repository %s is a group: upload to a hosted member", g.cfg.Name)
}

func (g *groupRepo) Delete(ctx context.Context, p string) error {
	return errs.New(errs.Unsupported, "repository %s is a group: delete from a member", g.cfg.Name)
}

// List merges the members' pages that follow after, in member order so
// that a name both hold is the first member's (as Get serves it).
func (g *groupRepo) List(ctx context.Context, dir, after string, limit int) ([]Entry, string, error) {
	if err := g.online(); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = meta.DefaultPageSize
	}
	var pages [][]Entry
	more := false
	for _, m := range g.members() {
		l, next, err := m.List(ctx, dir, after, limit)
		if errs.KindOf(err) == errs.NotFound {
			continue // the folder is not in this member (or it is offline)
		}
		if err != nil {
			return nil, "", err
		}
		pages = append(pages, l)
		more = more || next != ""
	}
	if len(pages) == 0 && dir != "" {
		return nil, "", errs.New(errs.NotFound, "folder %s not found", dir)
	}
	entries, next := mergePages(pages, more, limit)
	return entries, next, nil
}
