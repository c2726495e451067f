package repo

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

func TestRoutingRules(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		mode             string
		allowed, blocked string
	}{
		{RoutingBlock, "org/other/a.jar", "com/example/a.jar"},
		{RoutingAllow, "com/example/a.jar", "org/other/a.jar"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			e := newEnv(t)
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up "+r.URL.Path) })
			if err := e.m.SaveRoutingRule(ctx, RoutingRule{Name: "r", Mode: tc.mode, Matchers: []string{"/com/example/.*"}}, true); err != nil {
				t.Fatal(err)
			}
			p, _ := newProxyRepo(t, e, "p", up.URL, func(c *Config) { c.RoutingRule = "r" })
			plain, _ := newProxyRepo(t, e, "plain", up.URL, nil)
			g := e.create(func() Config { c := groupCfg("g", "plain"); c.RoutingRule = "r"; return c }())

			for _, r := range []Repository{p, g} {
				if body, _ := read(t, ctx, r, tc.allowed); body != "up /"+tc.allowed {
					t.Errorf("%s: allowed path served %q", r.Name(), body)
				}
				before := up.hits.Load()
				_, err := r.Get(ctx, tc.blocked)
				wantKind(t, err, errs.NotFound, r.Name()+": blocked path")
				_, err = r.Locate(ctx, tc.blocked)
				wantKind(t, err, errs.NotFound, r.Name()+": blocked path located")
				if up.hits.Load() != before {
					t.Errorf("%s: a blocked path reached the upstream", r.Name())
				}
			}
			// Without a rule, the same path goes through.
			if body, _ := read(t, ctx, plain, tc.blocked); body != "up /"+tc.blocked {
				t.Errorf("repository without a rule served %q", body)
			}

			// A rule edited applies at once; one in use cannot go.
			flipped := RoutingAllow
			if tc.mode == RoutingAllow {
				flipped = RoutingBlock
			}
			if err := e.m.SaveRoutingRule(ctx, RoutingRule{Name: "r", Mode: flipped, Matchers: []string{"/com/example/.*"}}, false); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Get(ctx, tc.allowed); err == nil {
				t.Error("the edited rule did not apply")
			}
			wantField(t, e.m.DeleteRoutingRule(ctx, "r"), "name")
		})
	}
}

func TestRoutingRuleValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for field, r := range map[string]RoutingRule{
		"name":        {Name: "bad name", Mode: RoutingBlock, Matchers: []string{"x"}},
		"mode":        {Name: "r", Mode: "allow", Matchers: []string{"x"}},
		"matchers":    {Name: "r", Mode: RoutingBlock},
		"matchers[1]": {Name: "r", Mode: RoutingBlock, Matchers: []string{"x", "("}},
	} {
		wantField(t, e.m.SaveRoutingRule(ctx, r, true), field)
	}
	if rules, _ := e.m.RoutingRules(ctx); len(rules) != 0 {
		t.Fatalf("refused rules were stored: %v", rules)
	}
	wantKind(t, e.m.SaveRoutingRule(ctx, RoutingRule{Name: "r", Mode: RoutingBlock, Matchers: []string{"x"}}, false),
		errs.NotFound, "update of a missing rule")
	wantKind(t, e.m.DeleteRoutingRule(ctx, "r"), errs.NotFound, "delete of a missing rule")

	cfg := proxyCfg("p", "http://127.0.0.1:1")
	cfg.RoutingRule = "missing"
	wantField(t, e.m.Create(ctx, cfg), "routingRule")

	// Rules and the repositories naming them survive a restart.
	if err := e.m.SaveRoutingRule(ctx, RoutingRule{Name: "r", Mode: RoutingBlock, Matchers: []string{"/x"}}, true); err != nil {
		t.Fatal(err)
	}
	cfg.RoutingRule = "r"
	e.create(cfg)
	e.reopen()
	if _, err := e.lookup("p").Get(ctx, "x"); err == nil {
		t.Fatal("the rule did not survive a restart")
	}
	wantField(t, e.m.DeleteRoutingRule(ctx, "r"), "name")

	// A stored rule that no longer compiles ("a)|(b" compiled once wrapped
	// in anchors) blocks every path rather than none.
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up") })
	if err := e.m.SaveRoutingRule(ctx, RoutingRule{Name: "r2", Mode: RoutingBlock, Matchers: []string{"/x"}}, true); err != nil {
		t.Fatal(err)
	}
	newProxyRepo(t, e, "p2", up.URL, func(c *Config) { c.RoutingRule = "r2" })
	if err := e.db.PutRoutingRule(meta.RoutingRule{Name: "r2", Mode: RoutingBlock, Matchers: []string{"/a)|(/b"}}); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	_, err := e.lookup("p2").Get(ctx, "c/d.txt")
	wantKind(t, err, errs.NotFound, "a path under a rule that does not compile")
	if up.hits.Load() != 0 {
		t.Error("a rule that does not compile let a path reach the upstream")
	}
}
