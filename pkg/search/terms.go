package search

import (
	"context"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/wildcard"
)

// compileTerms adds the formats' terms given in values to p: a component
// term replaces the field it matches; any term implies its format; a term
// that stands for others (gavec) gives them values, which must agree with
// those given for them.
func (s *Service) compileTerms(p *plan, values map[string]string) error {
	terms := s.terms()
	values, err := expand(terms, values)
	if err != nil {
		return err
	}
	for _, t := range terms {
		v := values[t.Param]
		if v == "" {
			continue
		}
		if len(v) > MaxTerm {
			return tooLong(t.Param)
		}
		if p.format != "" && p.format != t.format {
			return &errs.FieldError{Field: t.Param, Message: "applies to format " + t.format + " only"}
		}
		// A term that stands for others implies its format even when
		// they are all left empty ("gavec=::").
		p.format = t.format
		if t.Expand != nil {
			continue
		}
		switch {
		case t.Component == "group":
			p.group = v
		case t.Component == "name":
			p.name = v
		case t.Component == "version":
			p.version = v
		case t.Metadata != nil:
			if p.metadata == nil {
				p.metadata = &metadataTerms{}
			}
			p.metadata.terms = append(p.metadata.terms, metadataTerm{param: t.Param, lookup: t.Metadata, match: matcher(t.SearchTerm, v)})
		default:
			of, match := t.Asset, matcher(t.SearchTerm, v)
			p.assetTerms = append(p.assetTerms, func(a *meta.Asset) bool { return match(of(a)) })
		}
	}
	return nil
}

// expand returns values with those of the terms that others stand for.
func expand(terms []formatTerm, values map[string]string) (map[string]string, error) {
	var out map[string]string
	for _, t := range terms {
		v := values[t.Param]
		if t.Expand == nil || v == "" {
			continue
		}
		if len(v) > MaxTerm {
			return nil, tooLong(t.Param)
		}
		parts, err := t.Expand(v)
		if err != nil {
			return nil, &errs.FieldError{Field: t.Param, Message: err.Error()}
		}
		if out == nil {
			out = maps.Clone(values)
		}
		for param, pv := range parts {
			if have := out[param]; have != "" && have != pv {
				return nil, &errs.FieldError{Field: t.Param, Message: "disagrees with " + param + "=" + have}
			}
			out[param] = pv
		}
	}
	if out == nil {
		return values, nil
	}
	return out, nil
}

// matcher is the check of a term's values against pattern: any matches,
// or with Negate none; Text values are matched whole or by word, ignoring
// case.
func matcher(t repo.SearchTerm, pattern string) func(values []string) bool {
	one := func(v string) bool { return wildcard.Match(pattern, v) }
	if t.Text {
		pattern = strings.ToLower(pattern)
		one = func(v string) bool {
			v = strings.ToLower(v)
			return wildcard.Match(pattern, v) || slices.ContainsFunc(words(v), func(w string) bool { return wildcard.Match(pattern, w) })
		}
	}
	return func(values []string) bool { return slices.ContainsFunc(values, one) != t.Negate }
}

// words splits text at spaces and punctuation, keeping what names and
// versions are made of ("apache-2.0", "a@b.org", "c++").
func words(text string) []string {
	ws := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_.@+/", r)
	})
	for i, w := range ws {
		ws[i] = strings.TrimRight(w, ".")
	}
	return ws
}

// prereleaseTerm keeps the components whose prerelease state is want:
// formats without repo.CleanupCriteria have no prereleases, as in Nexus.
func (s *Service) prereleaseTerm(want bool) func(*meta.Component) bool {
	return func(c *meta.Component) bool {
		f, _ := s.repos.Format(c.Format)
		cc, ok := f.(repo.CleanupCriteria)
		return (ok && cc.IsPrerelease(c)) == want
	}
}

// metadataTerms are a search's metadata terms with the lookups it made:
// one per repository and term, so what a lookup keeps lives for the
// search. They are checked after the scan, outside its transaction: a
// lookup reads the metadata store, and bbolt deadlocks a read nested in
// another while a write waits to grow the file.
type metadataTerms struct {
	terms []metadataTerm
	ctx   context.Context
	repos *repo.Manager
	by    map[string][]func(*meta.Component) ([]string, error)
	// lastRepo, lastPath and last are the last document read, of any
	// repository: the terms of a component, and a package's versions one
	// after another, read the same.
	lastRepo, lastPath string
	last               []byte
}

type metadataTerm struct {
	param  string
	lookup func(stored func(string) ([]byte, error)) func(*meta.Component) ([]string, error)
	match  func([]string) bool
}

// start begins the search in ctx.
func (m *metadataTerms) start(ctx context.Context, repos *repo.Manager) {
	m.ctx, m.repos, m.by = ctx, repos, map[string][]func(*meta.Component) ([]string, error){}
}

// lookups returns the lookups of the terms for the components of
// repository name, made on first use.
func (m *metadataTerms) lookups(name string) []func(*meta.Component) ([]string, error) {
	if fns, ok := m.by[name]; ok {
		return fns
	}
	r, found := m.repos.Lookup(name)
	stored := func(path string) ([]byte, error) {
		if name == m.lastRepo && path == m.lastPath {
			return m.last, nil
		}
		var b []byte
		if found {
			var err error
			b, err = repo.ReadStored(m.ctx, r, path)
			if err != nil && errs.KindOf(err) != errs.NotFound {
				return nil, err
			}
		}
		m.lastRepo, m.lastPath, m.last = name, path, b
		return b, nil
	}
	fns := make([]func(*meta.Component) ([]string, error), len(m.terms))
	for i, t := range m.terms {
		fns[i] = t.lookup(stored)
	}
	m.by[name] = fns
	return fns
}

// described reports whether c matches the plan's metadata terms. It is
// checked last, on the components the caller may see with their assets.
func (p plan) described(c *meta.Component) (bool, error) {
	if p.metadata == nil {
		return true, nil
	}
	for i, fn := range p.metadata.lookups(c.Repository) {
		values, err := fn(c)
		if err != nil || !p.metadata.terms[i].match(values) {
			return false, err
		}
	}
	return true, nil
}
