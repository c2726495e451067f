package main

// Access rules over every format (accessFormats) and repository type: a
// repository the caller may not use answers every route exactly as a
// missing one; a format's own anonymous rule holds on every route; a group
// cannot be made a way around its members' privileges.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// accessTarget is one repository of one format with a content path in it.
type accessTarget struct {
	f          accessFormat
	kind, repo string
	path       string
}

// routes are the requests that reach a repository's content or tell of it.
func (a accessTarget) routes(repo string) []accessRoute {
	rs := []accessRoute{
		{http.MethodGet, "/repository/" + repo + "/" + a.path, nil},
		{http.MethodHead, "/repository/" + repo + "/" + a.path, nil},
		{http.MethodGet, "/repository/" + repo + "/", nil},
		{http.MethodGet, "/repository/" + repo + "/" + a.path[:strings.LastIndex(a.path, "/")+1], nil},
		{http.MethodGet, "/service/rest/v1/assets?repository=" + repo, nil},
		{http.MethodGet, "/service/rest/v1/components?repository=" + repo, nil},
		{http.MethodGet, "/service/rest/v1/repositories/" + repo, nil},
	}
	if a.f.mainPort != nil {
		rs = append(rs, accessRoute{http.MethodGet, a.f.mainPort(repo, a.path), nil})
	}
	return rs
}

// adminRoutes read the configuration, or change content or configuration;
// a hidden repository must refuse them exactly as a missing one.
func (a accessTarget) adminRoutes(repo string) []accessRoute {
	return []accessRoute{
		{http.MethodGet, "/service/rest/v1/repositories/" + a.f.rest() + "/" + a.kind + "/" + repo, nil},
		{http.MethodPut, "/repository/" + repo + "/" + a.path + "-new", []byte("new content")},
		{http.MethodDelete, "/repository/" + repo + "/" + a.path, nil},
		{http.MethodPut, "/service/rest/v1/repositories/" + a.f.rest() + "/" + a.kind + "/" + repo, []byte(`{"name":"` + repo + `","online":true,"storage":{"blobStoreName":"default"}}`)},
		{http.MethodDelete, "/service/rest/v1/repositories/" + repo, nil},
	}
}

type accessRoute struct {
	method, path string
	body         []byte
}

func (s *nexusServer) route(r accessRoute, c *creds) result {
	s.t.Helper()
	hdr := http.Header{"Accept": {"application/json"}}
	if r.body != nil {
		hdr.Set("Content-Type", "application/json")
	}
	return s.do(r.method, r.path, c, r.body, hdr)
}

// expectSameAsMissing requires every route of the hidden target to answer
// c as the same route of a repository that does not exist.
func expectSameAsMissing(t *testing.T, s *nexusServer, c *creds, who string, hidden accessTarget, admin bool) {
	t.Helper()
	missing := "zz-missing-" + hidden.repo
	hiddenRoutes, missingRoutes := hidden.routes(hidden.repo), hidden.routes(missing)
	if admin {
		hiddenRoutes, missingRoutes = hidden.adminRoutes(hidden.repo), hidden.adminRoutes(missing)
	}
	for i, r := range hiddenRoutes {
		got, want := s.route(r, c), s.route(missingRoutes[i], c)
		want.body = bytes.ReplaceAll(want.body, []byte(missing), []byte(hidden.repo))
		gotChallenge := got.header.Get("WWW-Authenticate")
		wantChallenge := strings.ReplaceAll(want.header.Get("WWW-Authenticate"), missing, hidden.repo)
		if got.status != want.status || !bytes.Equal(got.body, want.body) || gotChallenge != wantChallenge {
			t.Errorf("%s, %s %s (%s %s): %d %q %q; a missing repository answers %d %q %q", who, r.method, r.path,
				hidden.f.name, hidden.kind, got.status, got.body, gotChallenge, want.status, want.body, wantChallenge)
		}
		if want.status/100 == 2 {
			t.Errorf("%s, %s %s: a missing repository answers %d", who, missingRoutes[i].method, missingRoutes[i].path, want.status)
		}
	}
}

// expectReachable requires the read routes of target to answer c with 200.
func expectReachable(t *testing.T, s *nexusServer, c *creds, who string, target accessTarget) {
	t.Helper()
	for _, r := range target.routes(target.repo) {
		if res := s.route(r, c); res.status != http.StatusOK {
			t.Errorf("%s, %s %s: %d %s, want 200", who, r.method, r.path, res.status, res.body)
		}
	}
}

// mentioned returns the repositories that the caller's listings and
// searches name.
func mentioned(t *testing.T, s *nexusServer, c *creds) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var repos []struct{ Name string }
	if res := s.doJSON(http.MethodGet, "/v1/repositories", c, nil, &repos); res.status != http.StatusOK {
		t.Fatalf("GET /v1/repositories: %d %s", res.status, res.body)
	}
	for _, r := range repos {
		out[r.Name] = true
	}
	for _, p := range []string{"/v1/search?pageSize=1000", "/v1/search/assets?pageSize=1000", "/v1/search?q=app&pageSize=1000"} {
		var pg page[struct{ Repository string }]
		if res := s.doJSON(http.MethodGet, p, c, nil, &pg); res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, res.status, res.body)
		}
		for _, it := range pg.Items {
			out[it.Repository] = true
		}
	}
	// The Docker catalog on the main port names images as <repo>/<image>.
	var cat struct{ Repositories []string }
	if res := s.do(http.MethodGet, "/v2/_catalog", c, nil, nil); res.status == http.StatusOK {
		if err := json.Unmarshal(res.body, &cat); err != nil {
			t.Fatalf("GET /v2/_catalog: %q: %v", res.body, err)
		}
	}
	for _, name := range cat.Repositories {
		repo, _, _ := strings.Cut(name, "/")
		out[repo] = true
	}
	return out
}

// TestHiddenRepositories covers, for every format and repository type, a
// user holding privileges on "<format>-h" and an anonymous caller limited
// to it: the repositories named "<format>-h-secret…" are out of reach on
// every route and answer as missing ones do (privileges are matched field
// by field, so "<format>-h-*" does not cover "<format>-h-secret"), and no
// listing or search names them.
func TestHiddenRepositories(t *testing.T) {
	s := startServer(t)
	var visible, hidden []accessTarget
	var userGrants, anonGrants []string
	for _, f := range accessFormats {
		h, secret := f.name+"-h", f.name+"-h-secret"
		mustCreate(s, f, "hosted", f.hosted(t, h))
		mustCreate(s, f, "hosted", f.hosted(t, secret))
		p := f.seed(t, s, h)
		ps := f.seed(t, s, secret)
		mustCreate(s, f, "proxy", f.proxy(t, s, secret+"-px", f.upstreamURL(s, secret)))
		mustCreate(s, f, "group", f.group(t, secret+"-grp", "", secret))
		warm := "/repository/" + secret + "-px/" + ps
		if f.mainPort != nil {
			warm = f.mainPort(secret+"-px", ps)
		}
		if res := s.do(http.MethodGet, warm, s.admin(), nil, nil); res.status != http.StatusOK {
			t.Fatalf("caching %s through the %s proxy: %d %s", ps, f.name, res.status, res.body)
		}
		visible = append(visible, accessTarget{f, "hosted", h, p})
		hidden = append(hidden, accessTarget{f, "hosted", secret, ps}, accessTarget{f, "proxy", secret + "-px", ps},
			accessTarget{f, "group", secret + "-grp", ps})
		userGrants = append(userGrants, "nx-repository-view-"+f.name+"-"+h+"-*", "nx-repository-admin-"+f.name+"-"+h+"-*")
		anonGrants = append(anonGrants, "nx-repository-view-"+f.name+"-"+h+"-read", "nx-repository-view-"+f.name+"-"+h+"-browse")
	}
	s.createRole("prefix-role", append(userGrants, "nx-search-read")...)
	s.createUser("prefix", "prefix-password-1", "prefix-role")
	s.createRole("anon-limited-role", append(anonGrants, "nx-search-read")...)
	s.createUser("anon-limited", "anon-limited-password-1", "anon-limited-role")
	s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", s.admin(),
		map[string]any{"enabled": true, "userId": "anon-limited", "realmName": "NexusAuthorizingRealm"}, nil)

	for _, target := range append(slices.Clone(visible), hidden...) {
		expectReachable(t, s, s.admin(), "admin", target)
	}
	callers := []struct {
		who string
		c   *creds
	}{
		{"a user with privileges on <format>-h", &creds{"prefix", "prefix-password-1"}},
		{"anonymous limited to <format>-h", nil},
	}
	for _, caller := range callers {
		for _, v := range visible {
			expectReachable(t, s, caller.c, caller.who, v)
		}
		seen := mentioned(t, s, caller.c)
		for _, v := range visible {
			if !seen[v.repo] {
				t.Errorf("%s: the listings and searches do not name %s (saw %v)", caller.who, v.repo, seen)
			}
		}
		for _, h := range hidden {
			expectSameAsMissing(t, s, caller.c, caller.who, h, false)
			if seen[h.repo] {
				t.Errorf("%s: a listing or search names %s", caller.who, h.repo)
			}
		}
	}
	// Configuration and writes last: a broken check here would change what
	// the reads saw.
	for _, caller := range callers {
		for _, h := range hidden {
			expectSameAsMissing(t, s, caller.c, caller.who, h, true)
		}
	}
	for _, h := range hidden {
		expectReachable(t, s, s.admin(), "admin, after the refused writes", h)
	}
}

// TestAnonymousRules covers formats whose repositories can refuse
// anonymous callers outright (Docker's forceBasicAuth): with anonymous
// access on and the anonymous role reading everything, such a repository
// refuses anonymous callers on every route, as a missing one does, and is
// named by no listing; the same repository without the rule is open.
func TestAnonymousRules(t *testing.T) {
	s := startServer(t)
	s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", s.admin(),
		map[string]any{"enabled": true, "userId": "anonymous", "realmName": "NexusAuthorizingRealm"}, nil)
	tested := 0
	for _, f := range accessFormats {
		if f.refusesAnonymous == nil {
			continue
		}
		tested++
		strict, open := f.name+"-strict", f.name+"-open"
		mustCreate(s, f, "hosted", f.refusesAnonymous(t, strict, true))
		mustCreate(s, f, "hosted", f.refusesAnonymous(t, open, false))
		strictT := accessTarget{f, "hosted", strict, f.seed(t, s, strict)}
		openT := accessTarget{f, "hosted", open, f.seed(t, s, open)}
		expectReachable(t, s, s.admin(), "admin", strictT)
		expectReachable(t, s, nil, "anonymous", openT)
		expectSameAsMissing(t, s, nil, "anonymous", strictT, false)
		seen := mentioned(t, s, nil)
		if seen[strict] || !seen[open] {
			t.Errorf("anonymous listings name %v; want %s and not %s", seen, open, strict)
		}
		// The rule follows the configuration: lifted, the repository opens.
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/"+f.rest()+"/hosted/"+strict, s.admin(),
			f.refusesAnonymous(t, strict, false), nil)
		expectReachable(t, s, nil, "anonymous, rule lifted", strictT)
	}
	if tested == 0 {
		t.Fatal("no format with an anonymous rule")
	}
}

// TestGroupMemberPrivileges: someone allowed to administer a group may not
// put into it, or make writable, a repository they could not use directly,
// by create or by update; with the privileges on the members it works.
func TestGroupMemberPrivileges(t *testing.T) {
	s := startServer(t)
	for _, f := range accessFormats {
		own, readOnly, secret, g := f.name+"-own", f.name+"-ro", f.name+"-secret", f.name+"-g1"
		for _, r := range []string{own, readOnly, secret} {
			mustCreate(s, f, "hosted", f.hosted(t, r))
		}
		ps := f.seed(t, s, secret)
		role := "lead-" + f.name
		s.createRole(role, "nx-repository-admin-"+f.name+"-"+g+"-*", "nx-repository-view-"+f.name+"-"+g+"-*",
			"nx-repository-view-"+f.name+"-"+own+"-*",
			"nx-repository-view-"+f.name+"-"+readOnly+"-browse", "nx-repository-view-"+f.name+"-"+readOnly+"-read")
		s.createUser(role, "lead-password-1", role)
		lead := &creds{role, "lead-password-1"}

		refused := func(what string, res result) {
			t.Helper()
			if res.status != http.StatusForbidden {
				t.Errorf("%s %s: %d %s, want 403", f.name, what, res.status, res.body)
			}
		}
		refused("create with another team's member", createAs(s, lead, f, "group", f.group(t, g, "", secret)))
		if res := s.do(http.MethodGet, "/repository/"+g+"/"+ps, s.admin(), nil, nil); res.status != http.StatusNotFound {
			t.Fatalf("%s: the refused group exists: GET through it %d", f.name, res.status)
		}
		refused("create with another team's writable member", createAs(s, lead, f, "group", f.group(t, g, secret, own, secret)))
		refused("create with a read-only writable member", createAs(s, lead, f, "group", f.group(t, g, readOnly, own, readOnly)))
		if res := createAs(s, lead, f, "group", f.group(t, g, "", own, readOnly)); res.status != http.StatusCreated {
			t.Fatalf("%s: creating a group of repositories the lead may read: %d %s", f.name, res.status, res.body)
		}
		update := func(body string) result {
			return s.doJSON(http.MethodPut, "/v1/repositories/"+f.rest()+"/group/"+g, lead, body, nil)
		}
		before := groupMembers(s, f, g)
		refused("update adding another team's member", update(f.group(t, g, "", own, secret)))
		refused("update making a read-only member writable", update(f.group(t, g, readOnly, own, readOnly)))
		if after := groupMembers(s, f, g); !slices.Equal(before, after) {
			t.Errorf("%s: refused updates changed the group from %v to %v", f.name, before, after)
		}
		if res := s.do(http.MethodGet, "/repository/"+g+"/"+ps, lead, nil, nil); res.status == http.StatusOK {
			t.Errorf("%s: the lead reads %s through the group", f.name, secret)
		}
		if res := update(f.group(t, g, own, own, readOnly)); res.status != http.StatusNoContent {
			t.Errorf("%s: making the lead's own repository writable: %d %s", f.name, res.status, res.body)
		}
		// Granted the privileges, the same change is accepted.
		s.createRole(role+"-secret", "nx-repository-view-"+f.name+"-"+secret+"-browse", "nx-repository-view-"+f.name+"-"+secret+"-read")
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/users/"+url.PathEscape(role), s.admin(),
			map[string]any{"userId": role, "firstName": "E2E", "lastName": role, "emailAddress": role + "@example.org",
				"status": "active", "source": "default", "roles": []string{role, role + "-secret"}}, nil)
		if res := update(f.group(t, g, own, own, secret)); res.status != http.StatusNoContent {
			t.Errorf("%s: adding a member the lead may read: %d %s", f.name, res.status, res.body)
		}
	}
}
