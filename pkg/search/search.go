// Package search is the one component and asset search of the REST API
// and the UI. It reads the component index of pkg/meta: a query seeks on
// its most selective literal prefix and filters the rest, pages by an
// opaque cursor, and shows only repositories the caller may browse.
package search

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/wildcard"
)

// Page sizes: a limit <= 0 is DefaultLimit, one above MaxLimit is MaxLimit;
// a search has as many pages as it has results.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// MaxTerm is the longest search term accepted, in bytes: longer than any
// name a term could be meant to find (Docker image names, the longest,
// stop at 255), short enough that anonymous searchers cannot make each
// match costly.
const MaxTerm = 256

// Query is a search. Patterns may use "*" wildcards; empty fields match
// everything.
type Query struct {
	Repository string // exact name, "" for all the caller may browse
	Format     string // exact
	Group      string
	Name       string
	Version    string
	Keyword    string            // Nexus's q: anywhere in group, name or version
	Terms      map[string]string // the formats' own (repo.SearchTerms), e.g. "maven.groupId"
	// Prerelease, if set, keeps the components that are (or are not)
	// prereleases as their format's repo.CleanupCriteria tells; a format
	// without that notion has none.
	Prerelease *bool
	// Checksums are exact hex digests an asset must have, by algorithm
	// (md5, sha1, sha256, sha512).
	Checksums map[string]string
	// Sort is the order of results: "group", "name", "version" or
	// "repository" ("" for the order of the index the query seeks in);
	// Direction is "asc" (the default) or "desc".
	Sort, Direction string
}

// Service runs searches.
type Service struct {
	db    *meta.DB
	repos *repo.Manager
	authz *auth.Service
}

// New returns the search over db's index, showing the repositories of
// repos the caller may browse, for callers holding nx-search-read.
func New(db *meta.DB, repos *repo.Manager, authz *auth.Service) *Service {
	return &Service{db: db, repos: repos, authz: authz}
}

// formatTerm is a format's search term.
type formatTerm struct {
	repo.SearchTerm
	format string
}

func (s *Service) terms() []formatTerm {
	var out []formatTerm
	for _, f := range s.repos.Formats() {
		if st, ok := f.(repo.SearchTerms); ok {
			for _, t := range st.SearchTerms() {
				out = append(out, formatTerm{t, f.Name()})
			}
		}
	}
	return out
}

// plan is a compiled query: where to seek and what to check.
type plan struct {
	seek                         meta.Seek
	repository, format           string
	group, name, version, needle string
	assetTerms                   []func(*meta.Asset) bool
	// componentTerms check the component itself (prerelease).
	componentTerms []func(*meta.Component) bool
	// metadata checks the metadata terms, nil without any (see described).
	metadata *metadataTerms
	// sort is the ordering asked for (by), if any, and desc its direction.
	sort *meta.IndexKind
	desc bool
}

func tooLong(param string) error {
	return &errs.FieldError{Field: param, Message: fmt.Sprintf("may be at most %d bytes long", MaxTerm)}
}

// compile validates q and plans it. A format's component term (maven.groupId)
// replaces the field it matches; any of its terms implies its format.
func (s *Service) compile(q Query) (plan, error) {
	p := plan{repository: q.Repository, format: q.Format, group: q.Group, name: q.Name, version: q.Version}
	if err := s.compileTerms(&p, q.Terms); err != nil {
		return plan{}, err
	}
	if q.Prerelease != nil {
		p.componentTerms = append(p.componentTerms, s.prereleaseTerm(*q.Prerelease))
	}
	for param, v := range map[string]string{"repository": q.Repository, "format": q.Format, "group": q.Group,
		"name": q.Name, "version": q.Version, "q": q.Keyword} {
		if len(v) > MaxTerm {
			return plan{}, tooLong(param)
		}
	}
	for alg, v := range q.Checksums {
		if len(v) > MaxTerm {
			return plan{}, tooLong(alg)
		}
		p.assetTerms = append(p.assetTerms, checksumTerm(alg, strings.ToLower(v)))
	}
	if q.Sort != "" {
		kind := sortIndex[q.Sort]
		p.sort, p.desc = &kind, q.Direction == "desc"
	}
	p.needle = strings.ToLower(q.Keyword)
	p.seek = p.choose()
	p.seek.Match = p.fields
	return p, nil
}

// choose picks the seek visiting the fewest entries it can tell: the
// longest literal head of the name, group and version patterns (a pattern
// without "*" counts one more, for its end; ties go to name, then group),
// else the repository, else the format, else every component.
func (p plan) choose() meta.Seek {
	best, score := meta.Seek{Kind: meta.ByRepository}, 0
	for _, c := range []struct {
		kind    meta.IndexKind
		pattern string
	}{{meta.ByName, p.name}, {meta.ByGroup, p.group}, {meta.ByVersion, p.version}} {
		if c.pattern == "" {
			continue
		}
		head, _, wild := strings.Cut(c.pattern, "*")
		n := len(head)
		if !wild {
			n++
		}
		if n > score {
			best, score = meta.Seek{Kind: c.kind, Prefix: head, Exact: !wild}, n
		}
	}
	switch {
	case score > 0:
		return best
	case p.sort != nil && *p.sort == meta.ByRepository && p.repository == "":
		return meta.Seek{Kind: meta.ByRepository}
	case p.repository != "":
		return meta.Seek{Kind: meta.ByRepository, Prefix: p.repository, Exact: true}
	case p.sort != nil:
		// Every component, in the order asked for: no costlier than by
		// format, and it pages without sorting in memory.
		return meta.Seek{Kind: *p.sort}
	case p.format != "":
		return meta.Seek{Kind: meta.ByFormat, Prefix: p.format, Exact: true}
	}
	return best
}

// component reports whether c matches the plan's component fields.
func (p plan) component(c *meta.Component) bool {
	return (p.format == "" || c.Format == p.format) && p.fields(c.Repository, c.Group, c.Name, c.Version) &&
		!slices.ContainsFunc(p.componentTerms, func(m func(*meta.Component) bool) bool { return !m(c) })
}

// fields matches what a component's key holds (all but the format).
func (p plan) fields(repository, group, name, version string) bool {
	return (p.repository == "" || repository == p.repository) &&
		match(p.group, group) && match(p.name, name) && match(p.version, version) &&
		(p.needle == "" || strings.Contains(strings.ToLower(group+" "+name+" "+version), p.needle))
}

// asset reports whether a matches the plan's asset terms.
func (p plan) asset(a *meta.Asset) bool {
	for _, m := range p.assetTerms {
		if !m(a) {
			return false
		}
	}
	return true
}

func match(pattern, value string) bool { return pattern == "" || wildcard.Match(pattern, value) }

// browsing is what the caller may browse of a repository: all of it, or
// some (content selectors), asset by asset.
// It lives for one search, with that search's context.
type browsing struct {
	ctx       context.Context
	r         repo.Repository
	all, some bool
}

// asset reports whether the caller may browse a.
func (b browsing) asset(a *meta.Asset) bool {
	return b.all || b.some && b.r.AuthorizePath(b.ctx, "browse", a.Path) == nil
}

// visibility returns a memoised check of what the caller may browse of a
// repository, decided by the repository itself (Repository.Authorize,
// AuthorizeFolder, AuthorizePath).
func (s *Service) visibility(ctx context.Context) func(name string) browsing {
	seen := map[string]browsing{}
	return func(name string) browsing {
		if v, ok := seen[name]; ok {
			return v
		}
		var v browsing
		if r, ok := s.repos.Lookup(name); ok {
			v = browsing{ctx: ctx, r: r, all: r.Authorize(ctx, "browse") == nil}
			v.some = v.all || r.AuthorizeFolder(ctx, "browse", "") == nil
		}
		seen[name] = v
		return v
	}
}

// start checks the caller's privilege and compiles the query and cursor.
func (s *Service) start(ctx context.Context, q Query, after string, limit int) (plan, string, int, error) {
	if err := s.authz.Require(ctx, auth.Application("search", "read")); err != nil {
		return plan{}, "", 0, err
	}
	p, err := s.compile(q)
	if err != nil {
		return plan{}, "", 0, err
	}
	if p.metadata != nil {
		p.metadata.start(ctx, s.repos)
	}
	raw, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil {
		return plan{}, "", 0, badCursor
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	return p, string(raw), min(limit, MaxLimit), nil
}

var badCursor = &errs.FieldError{Field: "continuationToken", Message: "is not a token this server issued"}

func encode(cursor string) string { return base64.RawURLEncoding.EncodeToString([]byte(cursor)) }

// scan runs the plan's seek, nothing when the query names a repository
// the caller may not browse; a cursor of another search is badCursor.
func (s *Service) scan(ctx context.Context, p plan, visible func(string) browsing, after string, inclusive bool, visit meta.ComponentVisit) (int, error) {
	if p.repository != "" && !visible(p.repository).some {
		return 0, nil
	}
	n, err := s.db.ScanComponents(ctx, p.seek, after, inclusive, visit)
	if errs.KindOf(err) == errs.Invalid {
		return n, badCursor
	}
	return n, err
}

// Components returns up to limit components matching q in repositories
// the caller in ctx may browse (nx-search-read required), in the order of
// the index the query seeks in, after the cursor after ("" from the
// start). next is the cursor of the following page, "" at the end.
func (s *Service) Components(ctx context.Context, q Query, after string, limit int) (comps []*meta.Component, next string, err error) {
	comps, next, _, err = s.components(ctx, q, after, limit)
	return comps, next, err
}

// components is Components, also telling how many index entries it visited.
func (s *Service) components(ctx context.Context, q Query, after string, limit int) (comps []*meta.Component, next string, visited int, err error) {
	p, from, limit, err := s.start(ctx, q, after, limit)
	if err != nil {
		return nil, "", 0, err
	}
	visible := s.visibility(ctx)
	if !p.inIndexOrder() || p.metadata != nil {
		return s.sortedComponents(ctx, p, visible, from, limit)
	}
	last := ""
	visited, err = s.scan(ctx, p, visible, from, false, func(key string, c *meta.Component, assets func() ([]*meta.Asset, error)) (bool, error) {
		v := visible(c.Repository)
		if !p.component(c) || !v.some {
			return true, nil
		}
		if len(p.assetTerms) > 0 || !v.all {
			as, err := assets()
			if err != nil || !anyAsset(as, func(a *meta.Asset) bool { return p.asset(a) && v.asset(a) }) {
				return err == nil, err
			}
		}
		if len(comps) == limit {
			next = encode(last)
			return false, nil
		}
		comps, last = append(comps, c), key
		return true, nil
	})
	if err != nil {
		return nil, "", visited, err
	}
	return comps, next, visited, nil
}

func anyAsset(as []*meta.Asset, keep func(*meta.Asset) bool) bool {
	for _, a := range as {
		if keep(a) {
			return true
		}
	}
	return false
}

// assetCursor separates a component's cursor from the path of the last
// asset listed in it: 0xff is in no UTF-8 text.
const assetCursor = "\xff"

// Assets returns up to limit assets of the components q matches that
// match q's asset terms (maven.extension), as Components does, each
// component's assets in path order.
func (s *Service) Assets(ctx context.Context, q Query, after string, limit int) (assets []*meta.Asset, next string, err error) {
	p, from, limit, err := s.start(ctx, q, after, limit)
	if err != nil {
		return nil, "", err
	}
	if !p.inIndexOrder() || p.metadata != nil {
		return s.sortedAssets(ctx, p, s.visibility(ctx), from, limit)
	}
	from, fromPath, resumed := strings.Cut(from, assetCursor)
	if from != "" && !resumed {
		return nil, "", badCursor
	}
	visible := s.visibility(ctx)
	lastKey, lastPath := "", ""
	_, err = s.scan(ctx, p, visible, from, true, func(key string, c *meta.Component, load func() ([]*meta.Asset, error)) (bool, error) {
		v := visible(c.Repository)
		if !p.component(c) || !v.some {
			return true, nil
		}
		as, err := load()
		if err != nil {
			return false, err
		}
		for _, a := range as {
			if (key == from && a.Path <= fromPath) || !p.asset(a) || !v.asset(a) {
				continue
			}
			if len(assets) == limit {
				next = encode(lastKey + assetCursor + lastPath)
				return false, nil
			}
			assets, lastKey, lastPath = append(assets, a), key, a.Path
		}
		return true, nil
	})
	if err != nil {
		return nil, "", err
	}
	return assets, next, nil
}
