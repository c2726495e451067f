package cleanup

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/wholematch"
)

// Candidate is a component a policy selects, with its own assets.
type Candidate struct {
	Component *meta.Component
	Assets    []*meta.Asset
}

// day is a criterion's unit.
const day = 24 * time.Hour

// pageSize is how many components one read of the database lists.
const pageSize = 500

// matcher is a validated policy ready to test components at a time.
type matcher struct {
	p        *Policy
	now      time.Time
	regex    *regexp.Regexp
	criteria repo.CleanupCriteria
}

func newMatcher(p *Policy, f repo.Format, now time.Time) (*matcher, error) {
	m := &matcher{p: p, now: now}
	m.criteria, _ = f.(repo.CleanupCriteria)
	if p.CriteriaAssetRegex != nil {
		re, err := wholematch.Compile(*p.CriteriaAssetRegex) // Nexus matches the whole path
		if err != nil {
			return nil, err
		}
		m.regex = re
	}
	return m, nil
}

// matches tests every criterion but Retain, which looks across components.
func (m *matcher) matches(c *Candidate) bool {
	if len(c.Assets) == 0 {
		return false
	}
	if d := m.p.CriteriaLastBlobUpdated; d != nil && !m.before(lastUpdated(c), *d) {
		return false
	}
	if d := m.p.CriteriaLastDownloaded; d != nil && !m.before(lastDownloaded(c), *d) {
		return false
	}
	if rt := m.p.CriteriaReleaseType; rt != nil {
		if m.criteria == nil || m.criteria.IsPrerelease(c.Component) != (*rt == Prereleases) {
			return false
		}
	}
	if m.regex != nil && !slices.ContainsFunc(c.Assets, func(a *meta.Asset) bool { return m.regex.MatchString(a.Path) }) {
		return false
	}
	return true
}

func (m *matcher) before(t time.Time, days int) bool {
	return t.Before(m.now.Add(-time.Duration(days) * day))
}

// lastUpdated is when the component's newest asset was written.
func lastUpdated(c *Candidate) time.Time {
	var t time.Time
	for _, a := range c.Assets {
		t = later(t, a.LastModified)
	}
	return t
}

// lastDownloaded is the last download of any asset; one never downloaded
// counts from its creation, as in Nexus.
func lastDownloaded(c *Candidate) time.Time {
	var t time.Time
	for _, a := range c.Assets {
		if a.LastDownloaded.IsZero() {
			t = later(t, a.Created)
		} else {
			t = later(t, a.LastDownloaded)
		}
	}
	return t
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Select returns what p deletes from r at now, in component order. The
// preview lists it and a run deletes it: one selection for both.
func Select(ctx context.Context, db *meta.DB, r repo.Repository, p *Policy, now time.Time) ([]Candidate, error) {
	if r.Config().Type == repo.Group || (p.Format != Any && p.Format != r.Config().Format) {
		return nil, nil
	}
	m, err := newMatcher(p, r.Format(), now)
	if err != nil {
		return nil, err
	}
	// Retain needs all versions of a component (group and name) together;
	// components are listed in (group, name, version) order, so each
	// component's versions arrive in a row.
	var out, versions []Candidate
	flush := func() {
		out = append(out, m.deletable(versions)...)
		versions = versions[:0]
	}
	for after := ""; ; {
		comps, next, err := db.ListComponents(ctx, r.Name(), after, pageSize, nil)
		if err != nil {
			return nil, err
		}
		for _, comp := range comps {
			assets, err := db.ComponentAssets(comp)
			if err != nil {
				return nil, err
			}
			if len(versions) > 0 && (versions[0].Component.Group != comp.Group || versions[0].Component.Name != comp.Name) {
				flush()
			}
			versions = append(versions, Candidate{Component: comp, Assets: assets})
		}
		if next == "" {
			break
		}
		after = next
	}
	flush()
	return out, nil
}

// deletable returns the versions of one component the policy deletes:
// those that match, less the newest Retain.
func (m *matcher) deletable(versions []Candidate) []Candidate {
	keep := map[string]bool{}
	if n := m.p.Retain; n != nil {
		newest := slices.Clone(versions)
		slices.SortStableFunc(newest, m.newestFirst)
		for _, c := range newest[:min(*n, len(newest))] {
			keep[c.Component.ID] = true
		}
	}
	var out []Candidate
	for _, c := range versions {
		if !keep[c.Component.ID] && m.matches(&c) {
			out = append(out, c)
		}
	}
	return out
}

func (m *matcher) newestFirst(a, b Candidate) int {
	if (m.p.SortBy != nil && *m.p.SortBy == SortByDate) || m.criteria == nil {
		return lastUpdated(&b).Compare(lastUpdated(&a))
	}
	return cmp.Or(m.criteria.CompareVersions(b.Component.Version, a.Component.Version),
		lastUpdated(&b).Compare(lastUpdated(&a)))
}
