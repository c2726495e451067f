package auth

import (
	"context"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/csel"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// grants is what a principal holds: privileges matched field by field, and
// content selector grants, which hold for the content their expression
// selects.
type grants struct {
	privs     []Privilege
	selectors []selectorGrant
}

// selectorGrant is a repository-content-selector privilege: actions on the
// content of the repositories it names (format and repo may be Any) that
// expr selects.
type selectorGrant struct {
	format, repo string
	actions      []string // lower case; Any for all
	expr         *csel.Expr
}

func (g selectorGrant) covers(perm Privilege) bool {
	if !field(g.format, perm.Format) || !field(g.repo, perm.Repo) {
		return false
	}
	for _, a := range g.actions {
		if field(a, perm.Action) {
			return true
		}
	}
	return false
}

// Content is what a path-aware check is about: the asset at Path (with its
// leading "/"), or, when Folder is set, anything under the folder Path
// (ending in "/").
type Content struct {
	Path   string
	Folder bool
	// Coordinate gives coordinate.<name> of the asset, if known.
	Coordinate func(name string) (string, bool)
}

// RequireContent is Require for perm, a repository-view privilege, on
// content: besides the privileges Require checks, a content selector
// grant covering perm's repository and action allows the content its
// expression selects (for a folder, content it may select below it).
func (s *Service) RequireContent(ctx context.Context, perm Privilege, c Content) error {
	if loginFailed(ctx) {
		return errLogin
	}
	p := PrincipalFrom(ctx)
	switch {
	case p.HasContent(perm, c):
		return nil
	case p == nil || p.Anonymous:
		return errLogin
	default:
		return errs.New(errs.Forbidden, "user %q lacks privilege %s on %s", p.UserID, perm, c.Path)
	}
}

// HasContent reports whether the principal may perform perm on c (see
// RequireContent).
func (p *Principal) HasContent(perm Privilege, c Content) bool {
	if p.Has(perm) {
		return true
	}
	if p == nil || perm.Kind != KindRepositoryView || p.readOnly && !reads(perm) || p.format != "" && perm.Format != p.format {
		return false
	}
	vars := func(name string) (string, bool) {
		switch name {
		case "format":
			return perm.Format, true
		case "path":
			return c.Path, true
		}
		if c.Coordinate == nil {
			return "", false
		}
		return c.Coordinate(strings.TrimPrefix(name, "coordinate."))
	}
	for _, g := range p.selectors {
		if !g.covers(perm) {
			continue
		}
		if c.Folder && g.expr.MayMatchUnder(perm.Format, c.Path) || !c.Folder && g.expr.Match(vars) {
			return true
		}
	}
	return false
}

// grantsOf returns the union of what roles and, recursively, the roles
// they contain hold. Missing roles are skipped and each role is visited
// once, so dangling references and cycles are harmless. A role's
// privilege name is a stored privilege's, or a built-in name matched
// structurally; anything else (written before names were checked) grants
// nothing.
func (s *Service) grantsOf(roles []string) (grants, error) {
	var g grants
	stored, err := s.db.Privileges()
	if err != nil {
		return g, err
	}
	byName := make(map[string]*meta.Privilege, len(stored))
	for _, p := range stored {
		byName[p.Name] = p
	}
	seen := map[string]bool{}
	queue := append([]string(nil), roles...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := s.db.GetRole(id)
		if errs.KindOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return g, err
		}
		for _, name := range r.Privileges {
			if sp, ok := byName[name]; ok {
				if err := s.addStored(&g, sp); err != nil {
					return g, err
				}
				continue
			}
			p, err := ParsePrivilege(name)
			if err != nil {
				s.log.Warn("role grants an invalid privilege; ignored", "role", id, "err", err)
				continue
			}
			g.privs = append(g.privs, p)
		}
		queue = append(queue, r.Roles...)
	}
	return g, nil
}

// addStored adds what the stored privilege sp grants to g.
func (s *Service) addStored(g *grants, sp *meta.Privilege) error {
	actions := make([]string, 0, len(sp.Actions))
	for _, a := range sp.Actions {
		a = strings.ToLower(a)
		if a == "all" {
			a = Any
		}
		actions = append(actions, a)
	}
	switch sp.Type {
	case TypeApplication:
		for _, a := range actions {
			g.privs = append(g.privs, Application(sp.Domain, a))
		}
	case TypeRepositoryView, TypeRepositoryAdmin:
		for _, a := range actions {
			p := RepositoryView(sp.Format, sp.Repository, a)
			if sp.Type == TypeRepositoryAdmin {
				p = RepositoryAdmin(sp.Format, sp.Repository, a)
			}
			g.privs = append(g.privs, p)
		}
	case TypeContentSelector:
		sel, err := s.db.GetContentSelector(sp.ContentSelector)
		if errs.KindOf(err) == errs.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		expr, err := csel.Parse(sel.Expression)
		if err != nil {
			s.log.Warn("content selector does not parse; its privileges grant nothing", "selector", sel.Name, "err", err)
			return nil
		}
		g.selectors = append(g.selectors, selectorGrant{format: sp.Format, repo: sp.Repository, actions: actions, expr: expr})
	case TypeWildcard:
		g.privs = append(g.privs, wildcardGrants(sp.Pattern)...)
	case TypeScript:
		for _, a := range actions {
			g.privs = append(g.privs, Script(sp.ScriptName, a))
		}
	}
	return nil
}

// wildcardGrants maps a Shiro-style wildcard pattern onto the privileges it
// covers: "nexus:*" is everything, "nexus:repository-view:<format>:<repo>:<actions>"
// and "nexus:repository-admin:…" are repository privileges, "nexus:script:<name>:<actions>"
// script ones, "nexus:<domain>:<actions>" an application one; a part may list values ("read,browse") and missing
// parts are "*". Other patterns grant nothing.
func wildcardGrants(pattern string) []Privilege {
	parts := strings.Split(pattern, ":")
	if parts[0] != "nexus" || len(parts) < 2 {
		return nil
	}
	part := func(i int) []string {
		if i >= len(parts) || parts[i] == "" {
			return []string{Any}
		}
		return strings.Split(parts[i], ",")
	}
	var out []Privilege
	switch kind := parts[1]; {
	case kind == Any && len(parts) == 2:
		return []Privilege{{Kind: KindAll}}
	case kind == "repository-view" || kind == "repository-admin":
		for _, f := range part(2) {
			for _, r := range part(3) {
				for _, a := range part(4) {
					p := RepositoryView(f, r, a)
					if kind == "repository-admin" {
						p = RepositoryAdmin(f, r, a)
					}
					if formatField.MatchString(f) && repoField.MatchString(r) && actionField.MatchString(a) {
						out = append(out, p)
					}
				}
			}
		}
	case kind == "script":
		for _, n := range part(2) {
			for _, a := range part(3) {
				if repoField.MatchString(n) && actionField.MatchString(a) {
					out = append(out, Script(n, a))
				}
			}
		}
	case domainField.MatchString(kind):
		for _, a := range part(2) {
			if actionField.MatchString(a) {
				out = append(out, Application(kind, a))
			}
		}
	}
	return out
}
