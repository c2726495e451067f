package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/formats/docker"
	"github.com/nexus-go/nexus-go/formats/maven"
	"github.com/nexus-go/nexus-go/formats/npm"
	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/wildcard"
)

// fixture is a search over hosted repositories of every format, with
// components written straight into the database.
type fixture struct {
	t        testing.TB
	db       *meta.DB
	security *auth.Service
	repos    *repo.Manager
	s        *Service
	admin    context.Context
}

var fixtureRepos = map[string]string{"raw-a": "raw", "raw-b": "raw", "maven-a": "maven2", "npm-a": "npm", "docker-a": "docker"}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	security, _ := st.Security(t, log)
	repos := repo.NewManager(st.DB, st.Stores, security, repo.Options{Log: log},
		raw.New(log), maven.New(log, maven.Options{}), npm.New(security, log), docker.New(security, log, docker.Options{}))
	admin := auth.WithPrincipal(context.Background(), auth.System())
	for name, format := range fixtureRepos {
		cfg := repo.Config{Name: name, Format: format, Type: "hosted", Online: true,
			Storage: repo.Storage{BlobStoreName: "default", StrictContentTypeValidation: true}}
		if err := repos.Create(admin, cfg); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	return &fixture{t: t, db: st.DB, security: security, repos: repos, s: New(st.DB, repos, security), admin: admin}
}

// put writes the components with their assets' paths, in one transaction.
func (fx *fixture) put(comps map[*meta.Component][]string) {
	fx.t.Helper()
	var reqs []meta.PutAssetRequest
	for c, paths := range comps {
		for _, p := range paths {
			reqs = append(reqs, meta.PutAssetRequest{Component: c,
				Asset: meta.Asset{Repository: c.Repository, Path: p, Blob: digest.FromString(c.Repository + p), Size: int64(len(p))}})
		}
	}
	if _, _, err := fx.db.PutAssets(reqs); err != nil {
		fx.t.Fatal(err)
	}
}

// generate writes a data set of Maven GAVs (jar and pom), npm packages
// (some scoped), Docker image tags and raw files, with names sharing
// prefixes and cases so that seeks and filters both matter.
func (fx *fixture) generate(n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"app", "App", "lib", "library", "tool", "core", "util"}
	comps := map[*meta.Component][]string{}
	for i := range n {
		w := words[rng.IntN(len(words))]
		v := fmt.Sprintf("%d.%d", rng.IntN(3), rng.IntN(4))
		switch i % 5 {
		case 0:
			g := []string{"org.example", "org.other", "com.acme"}[rng.IntN(3)]
			a := fmt.Sprintf("%s-%d", strings.ToLower(w), i)
			base := strings.ReplaceAll(g, ".", "/") + "/" + a + "/" + v + "/" + a + "-" + v
			comps[&meta.Component{Repository: "maven-a", Format: "maven2", Group: g, Name: a, Version: v}] = []string{base + ".jar", base + ".pom"}
		case 1:
			scope, name := "", fmt.Sprintf("%s-%d", strings.ToLower(w), i)
			if rng.IntN(2) == 0 {
				scope = []string{"acme", "tools"}[rng.IntN(2)]
				name = "@" + scope + "/" + name
			}
			comps[&meta.Component{Repository: "npm-a", Format: "npm", Group: scope, Name: name, Version: v}] = []string{name + "/-/" + name + "-" + v + ".tgz"}
		case 2:
			name := fmt.Sprintf("team/%s%d", w, i)
			comps[&meta.Component{Repository: "docker-a", Format: "docker", Name: name, Version: "v" + v}] = []string{"v2/" + name + "/manifests/v" + v}
		default:
			repoName := []string{"raw-a", "raw-b"}[i%2]
			name := fmt.Sprintf("%s/%d/%s.txt", w, i%7, v)
			comps[&meta.Component{Repository: repoName, Format: "raw", Name: name}] = []string{name}
		}
	}
	fx.put(comps)
}

// all collects every page of a component search.
func (fx *fixture) all(ctx context.Context, q Query, limit int) []*meta.Component {
	fx.t.Helper()
	var out []*meta.Component
	after := ""
	for pages := 0; ; pages++ {
		comps, next, err := fx.s.Components(ctx, q, after, limit)
		if err != nil {
			fx.t.Fatalf("%+v: %v", q, err)
		}
		out = append(out, comps...)
		if next == "" {
			return out
		}
		if pages > 10000 {
			fx.t.Fatalf("%+v: no end of pages", q)
		}
		after = next
	}
}

// reference is the full-scan filter the index must agree with: every
// stored component, matched field by field.
func (fx *fixture) reference(q Query, visible func(string) bool) []*meta.Component {
	fx.t.Helper()
	all, _, err := fx.db.ListComponents(context.Background(), "", "", 0, nil)
	if err != nil {
		fx.t.Fatal(err)
	}
	m := func(p, v string) bool { return p == "" || wildcard.Match(p, v) }
	group, name, version, format := q.Group, q.Name, q.Version, q.Format
	if v := q.Terms["maven.groupId"]; v != "" {
		group, format = v, "maven2"
	}
	if v := q.Terms["npm.scope"]; v != "" {
		group, format = v, "npm"
	}
	var out []*meta.Component
	for _, c := range all {
		if (q.Repository == "" || c.Repository == q.Repository) && (format == "" || c.Format == format) &&
			m(group, c.Group) && m(name, c.Name) && m(version, c.Version) && visible(c.Repository) &&
			strings.Contains(strings.ToLower(c.Group+" "+c.Name+" "+c.Version), strings.ToLower(q.Keyword)) {
			if ext := q.Terms["maven.extension"]; ext != "" {
				as, _ := fx.db.ComponentAssets(c)
				if !slices.ContainsFunc(as, func(a *meta.Asset) bool { return strings.HasSuffix(a.Path, "."+ext) }) {
					continue
				}
			}
			out = append(out, c)
		}
	}
	return out
}

func ids(comps []*meta.Component) []string {
	out := make([]string, len(comps))
	for i, c := range comps {
		out[i] = c.ID
	}
	slices.Sort(out)
	return out
}

var differentialQueries = []Query{
	{},
	{Name: "app*"},
	{Name: "App*"},
	{Name: "lib*"},
	{Name: "*-1*"},
	{Name: "team/*"},
	{Name: "team/tool*", Version: "v1.*"},
	{Name: "library-5"},
	{Name: "@acme/*"},
	{Group: "org.*"},
	{Group: "org.example", Version: "1.*"},
	{Group: "acme"},
	{Version: "2.3"},
	{Version: "*3"},
	{Format: "raw"},
	{Format: "npm", Name: "*util*"},
	{Format: "docker", Version: "v0.0"},
	{Repository: "raw-b"},
	{Repository: "raw-b", Name: "core/*"},
	{Repository: "maven-a", Name: "tool*"},
	{Keyword: "LIB"},
	{Keyword: "acme", Name: "*core*"},
	{Terms: map[string]string{"maven.groupId": "com.*"}},
	{Terms: map[string]string{"maven.groupId": "org.other", "maven.extension": "jar"}},
	{Terms: map[string]string{"npm.scope": "tools"}},
	{Name: "nothing-like-this*"},
}

// The index's results equal a full scan's filter, for every kind of
// query, page size and caller (one who may browse two repositories only).
func TestComponentsEqualFullScan(t *testing.T) {
	fx := newFixture(t)
	fx.generate(2000)
	user := fx.userContext("reader", "nx-search-read", "nx-repository-view-raw-raw-b-browse", "nx-repository-view-npm-npm-a-browse")
	for _, caller := range []struct {
		who     string
		ctx     context.Context
		visible func(string) bool
	}{
		{"admin", fx.admin, func(string) bool { return true }},
		{"reader", user, func(r string) bool { return r == "raw-b" || r == "npm-a" }},
	} {
		for _, q := range differentialQueries {
			want := ids(fx.reference(q, caller.visible))
			for _, limit := range []int{7, 1000} {
				got := fx.all(caller.ctx, q, limit)
				if g := ids(got); !slices.Equal(g, want) {
					t.Errorf("%s %+v (pages of %d): %d components, the full scan %d", caller.who, q, limit, len(g), len(want))
				}
			}
		}
	}
	if len(fx.reference(Query{Name: "app*"}, func(string) bool { return true })) == 0 {
		t.Fatal("the data set matches nothing: the comparison proves nothing")
	}
	// After deleting every third component and a component's single asset,
	// the index still agrees.
	all, _, err := fx.db.ListComponents(context.Background(), "", "", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range all {
		switch {
		case i%3 == 0:
			if _, err := fx.db.DeleteComponent(c.ID); err != nil {
				t.Fatal(err)
			}
		case i%3 == 1 && len(c.Assets) == 1:
			if _, err := fx.db.DeleteAsset(c.Assets[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, q := range differentialQueries {
		want := ids(fx.reference(q, func(string) bool { return true }))
		if got := ids(fx.all(fx.admin, q, 50)); !slices.Equal(got, want) {
			t.Errorf("after deletes, %+v: %d components, the full scan %d", q, len(got), len(want))
		}
	}
}

// Asset search equals the full scan's components' assets, filtered by the
// asset terms, across pages that end inside a component.
func TestAssetsEqualFullScan(t *testing.T) {
	fx := newFixture(t)
	fx.generate(600)
	for _, q := range []Query{{}, {Group: "org.*"}, {Terms: map[string]string{"maven.extension": "pom"}}, {Format: "npm"}} {
		var want []string
		for _, c := range fx.reference(Query{Group: q.Group, Format: q.Format}, func(string) bool { return true }) {
			as, err := fx.db.ComponentAssets(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if ext := q.Terms["maven.extension"]; ext == "" || strings.HasSuffix(a.Path, "."+ext) {
					want = append(want, a.ID)
				}
			}
		}
		var got []string
		after := ""
		for {
			as, next, err := fx.s.Assets(fx.admin, q, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				got = append(got, a.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		if len(got) != len(slices.Compact(slices.Sorted(slices.Values(got)))) {
			t.Errorf("%+v: an asset listed twice", q)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%+v: %d assets, the full scan %d", q, len(got), len(want))
		}
	}
}

// A search has as many pages of up to 1,000 as it has results: no cap.
func TestPagingPastAThousand(t *testing.T) {
	fx := newFixture(t)
	comps := map[*meta.Component][]string{}
	for i := range 2500 {
		p := fmt.Sprintf("bulk/%04d", i)
		comps[&meta.Component{Repository: "raw-a", Format: "raw", Name: p}] = []string{p}
	}
	fx.put(comps)
	var sizes []int
	seen := map[string]bool{}
	after := ""
	for {
		page, next, err := fx.s.Components(fx.admin, Query{Repository: "raw-a"}, after, 5000)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page))
		for _, c := range page {
			seen[c.ID] = true
		}
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(sizes, []int{1000, 1000, 500}) || len(seen) != 2500 {
		t.Fatalf("pages of %v, %d distinct components; want 1000, 1000, 500 and 2500", sizes, len(seen))
	}
}

// A name with a literal prefix seeks it: the search visits the entries
// with that prefix, not the data set.
func TestLiteralPrefixVisitsBoundedEntries(t *testing.T) {
	fx := newFixture(t)
	fx.generate(3000)
	comps := map[*meta.Component][]string{}
	for i := range 12 {
		p := fmt.Sprintf("zz-wanted-%02d", i)
		comps[&meta.Component{Repository: "raw-a", Format: "raw", Name: p}] = []string{p}
	}
	fx.put(comps)
	for _, tc := range []struct {
		q       Query
		matches int
	}{
		{Query{Name: "zz-wanted-*"}, 12},
		{Query{Name: "ZZ-WANTED-0*"}, 0}, // seeks the lower-cased prefix, matches case-sensitively
		{Query{Name: "zz-wanted-03", Version: "*"}, 1},
		{Query{Name: "zz-w*", Format: "raw", Keyword: "wanted"}, 12},
	} {
		got, next, visited, err := fx.s.components(fx.admin, tc.q, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.matches || next != "" || visited > 12 {
			t.Errorf("%+v: %d components (want %d), visited %d index entries (want at most 12)", tc.q, len(got), tc.matches, visited)
		}
	}
	all, _, err := fx.db.ListComponents(context.Background(), "", "", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, visited, _ := fx.s.components(fx.admin, Query{Name: "*wanted*"}, "", 0); visited != len(all) || visited < 2000 {
		t.Fatalf("a pattern without a literal head visited %d entries of %d: the bound above measures nothing", visited, len(all))
	}
}

// Searching needs nx-search-read, asked by the service itself; bad input
// is refused naming the parameter.
func TestSearchRefusals(t *testing.T) {
	fx := newFixture(t)
	fx.generate(10)
	noSearch := fx.userContext("browser", "nx-repository-view-*-*-browse")
	for _, call := range []func(ctx context.Context) error{
		func(ctx context.Context) error { _, _, err := fx.s.Components(ctx, Query{}, "", 0); return err },
		func(ctx context.Context) error { _, _, err := fx.s.Assets(ctx, Query{}, "", 0); return err },
	} {
		if err := call(noSearch); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("without nx-search-read: %v, want Forbidden", err)
		}
		if err := call(context.Background()); errs.KindOf(err) != errs.Unauthorized {
			t.Errorf("without a caller: %v, want Unauthorized", err)
		}
	}
	for param, v := range map[string]string{"name": strings.Repeat("n", MaxTerm+1), "maven.groupId": "x", "q": strings.Repeat("q", MaxTerm+1)} {
		vals := url.Values{param: {v}}
		if param == "maven.groupId" {
			vals.Set("format", "raw")
		}
		q, err := fx.s.ParseQuery(vals)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = fx.s.Components(fx.admin, q, "", 0)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != param {
			t.Errorf("%s=%.10s…: %v, want a field error naming it", param, v, err)
		}
	}
	_, _, err := fx.s.Components(fx.admin, Query{Name: "a*"}, "bm90IGEgY3Vyc29y", 0)
	var fe *errs.FieldError
	if !errors.As(err, &fe) || fe.Field != "continuationToken" {
		t.Fatalf("a forged cursor: %v", err)
	}
}

// userContext is the context of a new user holding privileges.
func (fx *fixture) userContext(id string, privileges ...string) context.Context {
	fx.t.Helper()
	if err := fx.security.CreateRole(fx.admin, &meta.Role{ID: id + "-role", Privileges: privileges}); err != nil {
		fx.t.Fatal(err)
	}
	u := &meta.User{ID: id, FirstName: id, LastName: id, Email: id + "@example.com", Status: meta.UserActive, Roles: []string{id + "-role"}}
	if err := fx.security.CreateUser(fx.admin, u, "secret-"+id); err != nil {
		fx.t.Fatal(err)
	}
	p, err := fx.security.PrincipalOf(fx.admin, id)
	if err != nil {
		fx.t.Fatal(err)
	}
	return auth.WithPrincipal(context.Background(), p)
}
