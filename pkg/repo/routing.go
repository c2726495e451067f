package repo

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/wholematch"
)

// Routing rule modes: ALLOW serves only the paths a matcher matches,
// BLOCK serves all but those.
const (
	RoutingAllow = "ALLOW"
	RoutingBlock = "BLOCK"
)

// RoutingRule is a routing rule as the REST API shows it.
type RoutingRule = meta.RoutingRule

// routingRules are the stored rules, compiled, shared by the manager and
// its repositories: a proxy or group asks them before it contacts an
// upstream or a member, so a rule edited applies at once.
type routingRules struct {
	mu    sync.RWMutex
	rules map[string][]*regexp.Regexp // by name; nil until loaded
	modes map[string]string
}

// compileMatchers compiles each matcher for the whole request path ("/"
// and the repository path), as Nexus matches it.
func compileMatchers(ms []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(ms))
	for i, m := range ms {
		re, err := wholematch.Compile(m)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("matchers[%d]", i), "is not a valid regular expression: %s", m)
		}
		out = append(out, re)
	}
	return out, nil
}

func (rr *routingRules) set(r RoutingRule) error {
	res, err := compileMatchers(r.Matchers)
	if err != nil {
		return err
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.rules == nil {
		rr.rules, rr.modes = map[string][]*regexp.Regexp{}, map[string]string{}
	}
	rr.rules[r.Name], rr.modes[r.Name] = res, r.Mode
	return nil
}

func (rr *routingRules) remove(name string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	delete(rr.rules, name)
	delete(rr.modes, name)
}

func (rr *routingRules) exists(name string) bool {
	rr.mu.RLock()
	defer rr.mu.RUnlock()
	_, ok := rr.rules[name]
	return ok
}

// allows reports whether the rule named name lets a request for path
// through; no rule (or one deleted meanwhile) allows everything.
// blockAll makes rule name refuse every path: a stored rule that no
// longer compiles (an expression an older version accepted) fails closed,
// never open.
func (rr *routingRules) blockAll(name string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.rules == nil {
		rr.rules, rr.modes = map[string][]*regexp.Regexp{}, map[string]string{}
	}
	rr.rules[name], rr.modes[name] = []*regexp.Regexp{}, RoutingAllow
}

func (rr *routingRules) allows(name, path string) bool {
	if rr == nil || name == "" {
		return true
	}
	rr.mu.RLock()
	defer rr.mu.RUnlock()
	res, ok := rr.rules[name]
	if !ok {
		return true
	}
	full := "/" + strings.TrimPrefix(path, "/")
	matched := slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(full) })
	return matched == (rr.modes[name] == RoutingAllow)
}

// serving is the check of a proxy's or group's read before it looks
// anywhere: the repository is online, and its routing rule lets path
// through (else it is missing: 404, no upstream or member asked).
func (b *base) serving(path string) error {
	if err := b.online(); err != nil {
		return err
	}
	if !b.routes.allows(b.cfg.RoutingRule, path) {
		return errs.New(errs.NotFound, "%s is blocked by routing rule %s of repository %s", path, b.cfg.RoutingRule, b.cfg.Name)
	}
	return nil
}

// loadRoutingRules compiles the stored rules.
func (m *Manager) loadRoutingRules() error {
	rules, err := m.db.RoutingRules()
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := m.routes.set(r); err != nil {
			m.routes.blockAll(r.Name)
			m.opts.Log.Error("routing rule does not compile: its repositories serve nothing until it is fixed", "rule", r.Name, "err", err)
		}
	}
	return nil
}

// validateRoutingRule checks a repository's routingRule: only proxies and
// groups have one, and it must exist.
func (m *Manager) validateRoutingRule(cfg *Config) error {
	if cfg.Type == Hosted {
		cfg.RoutingRule = ""
	}
	if cfg.RoutingRule != "" && !m.routes.exists(cfg.RoutingRule) {
		return fieldErr("routingRule", "routing rule %s does not exist", cfg.RoutingRule)
	}
	return nil
}

// RoutingRules lists the rules (nx-settings-read).
func (m *Manager) RoutingRules(ctx context.Context) ([]RoutingRule, error) {
	if err := m.authz.Require(ctx, auth.Application("settings", "read")); err != nil {
		return nil, err
	}
	rules, err := m.db.RoutingRules()
	if rules == nil {
		rules = []RoutingRule{}
	}
	return rules, err
}

// RoutingRule returns the rule named name (nx-settings-read).
func (m *Manager) RoutingRule(ctx context.Context, name string) (RoutingRule, error) {
	rules, err := m.RoutingRules(ctx)
	if err != nil {
		return RoutingRule{}, err
	}
	for _, r := range rules {
		if r.Name == name {
			return r, nil
		}
	}
	return RoutingRule{}, errs.New(errs.NotFound, "Did not find a routing rule with the name '%s'", name)
}

func validateRule(r *RoutingRule) error {
	if !namePattern.MatchString(r.Name) || len(r.Name) > 200 {
		return fieldErr("name", "must contain only letters, digits, '.', '_' and '-', and not start with '.' or '_'")
	}
	if r.Mode != RoutingAllow && r.Mode != RoutingBlock {
		return fieldErr("mode", "must be ALLOW or BLOCK")
	}
	if len(r.Matchers) == 0 {
		return fieldErr("matchers", "must contain at least one matcher")
	}
	for i, s := range r.Matchers {
		if s == "" {
			return fieldErr(fmt.Sprintf("matchers[%d]", i), "may not be empty")
		}
	}
	_, err := compileMatchers(r.Matchers)
	return err
}

// SaveRoutingRule creates (create true) or replaces the rule r
// (nx-settings-update); it applies at once to the repositories naming it.
func (m *Manager) SaveRoutingRule(ctx context.Context, r RoutingRule, create bool) error {
	if err := m.authz.Require(ctx, auth.Application("settings", "update")); err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	if err := validateRule(&r); err != nil {
		return err
	}
	if err := m.saveRoutingRule(r, create); err != nil {
		return err
	}
	typ := "updated"
	if create {
		typ = "created"
	}
	// Recorded off the lock, which every request's lookup takes.
	m.record(ctx, "routing.rule", typ, r.Name, routingRuleAttrs(r))
	return nil
}

// saveRoutingRule stores and applies r, under m.mu.
func (m *Manager) saveRoutingRule(r RoutingRule, create bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch exists := m.routes.exists(r.Name); {
	case create && exists:
		return fieldErr("name", "a routing rule named %s already exists", r.Name)
	case !create && !exists:
		return errs.New(errs.NotFound, "Did not find a routing rule with the name '%s'", r.Name)
	}
	if err := m.db.PutRoutingRule(r); err != nil {
		return err
	}
	return m.routes.set(r)
}

// DeleteRoutingRule removes the rule named name (nx-settings-update),
// unless a repository uses it.
func (m *Manager) DeleteRoutingRule(ctx context.Context, name string) error {
	if err := m.authz.Require(ctx, auth.Application("settings", "update")); err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	if err := m.deleteRoutingRule(name); err != nil {
		return err
	}
	m.record(ctx, "routing.rule", "deleted", name, map[string]string{"name": name})
	return nil
}

// deleteRoutingRule deletes the rule name if unused, under m.mu.
func (m *Manager) deleteRoutingRule(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.routes.exists(name) {
		return errs.New(errs.NotFound, "Did not find a routing rule with the name '%s'", name)
	}
	var users []string
	for n, r := range m.repos {
		if r.Config().RoutingRule == name {
			users = append(users, n)
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		return fieldErr("name", "routing rule %s is used by repositories %s", name, strings.Join(users, ", "))
	}
	if err := m.db.DeleteRoutingRule(name); err != nil {
		return err
	}
	m.routes.remove(name)
	return nil
}

// routingField is the routing rule of a proxy's or group's form: none, or
// one of the stored rules.
func (m *Manager) routingField() Field {
	m.routes.mu.RLock()
	names := []string{""}
	for name := range m.routes.rules {
		names = append(names, name)
	}
	m.routes.mu.RUnlock()
	slices.Sort(names)
	return Field{Path: "routingRule", Label: "Routing rule", Kind: FieldSelect, Options: names, Section: "Routing",
		Help: "Paths the rule blocks are answered 404 without asking the upstream or the members."}
}
