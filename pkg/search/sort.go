package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// sortIndex maps the sort parameter to the index in its order.
var sortIndex = map[string]meta.IndexKind{"group": meta.ByGroup, "name": meta.ByName, "version": meta.ByVersion,
	"repository": meta.ByRepository}

// MaxSorted is how many matches a search sorts in memory: a sort other
// than the order of the index the query seeks in (or descending) reads all
// its matches first. A query matching more is refused; one seeking no
// literal head reads the sort's own index instead (see choose).
const MaxSorted = 10_000

// sortedCursor starts a cursor of a sorted search: an offset into its
// sorted matches. 0xfe is in no UTF-8 text, so no index key starts so.
const sortedCursor = "\xfe"

// inIndexOrder reports whether the seek's order is the one asked for.
func (p plan) inIndexOrder() bool {
	return p.sort == nil || (*p.sort == p.seek.Kind && !p.desc)
}

// checksumTerm matches assets whose alg checksum is want (lower-case hex):
// the stored checksum, or for sha256 the blob's digest itself.
func checksumTerm(alg, want string) func(*meta.Asset) bool {
	return func(a *meta.Asset) bool {
		got := a.Checksums[alg]
		if got == "" && alg == "sha256" && a.Blob.Algorithm() == "sha256" {
			got = a.Blob.Encoded()
		}
		return got != "" && strings.ToLower(got) == want
	}
}

// hit is a match of a sorted search, with its matching assets.
type hit struct {
	c      *meta.Component
	assets []*meta.Asset
}

// sortField is the field of c that kind orders by.
func sortField(kind meta.IndexKind, c *meta.Component) string {
	switch kind {
	case meta.ByGroup:
		return c.Group
	case meta.ByName:
		return strings.ToLower(c.Name)
	case meta.ByVersion:
		return c.Version
	}
	return c.Repository
}

// sorted reads every match of p (at most MaxSorted) and sorts them, when
// p asks for another order; it also tells how many index entries it
// visited. The metadata terms, read outside the scan's transaction, are
// checked on those matches.
func (s *Service) sorted(ctx context.Context, p plan, visible func(string) browsing) ([]hit, int, error) {
	var hits []hit
	full := false
	visited, err := s.scan(ctx, p, visible, "", false, func(_ string, c *meta.Component, load func() ([]*meta.Asset, error)) (bool, error) {
		v := visible(c.Repository)
		if !p.component(c) || !v.some {
			return true, nil
		}
		as, err := load()
		if err != nil {
			return false, err
		}
		var keep []*meta.Asset
		for _, a := range as {
			if p.asset(a) && v.asset(a) {
				keep = append(keep, a)
			}
		}
		if (len(p.assetTerms) > 0 || !v.all) && len(keep) == 0 {
			return true, nil
		}
		if len(hits) == MaxSorted {
			full = true
			return false, nil
		}
		hits = append(hits, hit{c, keep})
		return true, nil
	})
	if err != nil {
		return nil, visited, err
	}
	if full {
		if p.sort == nil {
			return nil, visited, &errs.FieldError{Field: p.metadata.terms[0].param,
				Message: fmt.Sprintf("the search matches more than %d components before this term: narrow it", MaxSorted)}
		}
		return nil, visited, &errs.FieldError{Field: "sort",
			Message: fmt.Sprintf("the search matches more than %d components: narrow it to sort it", MaxSorted)}
	}
	if p.metadata != nil {
		kept := hits[:0]
		for _, h := range hits {
			ok, err := p.described(h.c)
			if err != nil {
				return nil, visited, err
			}
			if ok {
				kept = append(kept, h)
			}
		}
		hits = kept
	}
	if p.sort == nil {
		return hits, visited, nil
	}
	key := func(c *meta.Component) []string {
		return []string{sortField(*p.sort, c), c.Repository, c.Group, c.Name, c.Version}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		d := slices.Compare(key(a.c), key(b.c))
		if p.desc {
			d = -d
		}
		return cmp.Or(d, strings.Compare(a.c.ID, b.c.ID))
	})
	return hits, visited, nil
}

// offset reads a sorted search's cursor ("" is 0).
func offset(from string) (int, error) {
	if from == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(from, sortedCursor)
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 {
		return 0, badCursor
	}
	return n, nil
}

func sortedNext(n, total int) string {
	if n >= total {
		return ""
	}
	return encode(sortedCursor + strconv.Itoa(n))
}

func (s *Service) sortedComponents(ctx context.Context, p plan, visible func(string) browsing, from string, limit int) ([]*meta.Component, string, int, error) {
	start, err := offset(from)
	if err != nil {
		return nil, "", 0, err
	}
	hits, visited, err := s.sorted(ctx, p, visible)
	if err != nil {
		return nil, "", visited, err
	}
	var comps []*meta.Component
	for i := start; i < len(hits) && len(comps) < limit; i++ {
		comps = append(comps, hits[i].c)
	}
	return comps, sortedNext(start+len(comps), len(hits)), visited, nil
}

func (s *Service) sortedAssets(ctx context.Context, p plan, visible func(string) browsing, from string, limit int) ([]*meta.Asset, string, error) {
	start, err := offset(from)
	if err != nil {
		return nil, "", err
	}
	hits, _, err := s.sorted(ctx, p, visible)
	if err != nil {
		return nil, "", err
	}
	var all []*meta.Asset
	for _, h := range hits {
		all = append(all, h.assets...)
	}
	end := min(start+limit, len(all))
	if start > len(all) {
		start = end
	}
	return all[start:end], sortedNext(end, len(all)), nil
}
