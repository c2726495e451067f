package ui

import (
	"net/http"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// A proxy's form offers the stored routing rules; the one chosen is the
// repository's.
func TestRoutingRuleInRepositoryForm(t *testing.T) {
	e := newEnv(t)
	if err := e.repos.SaveRoutingRule(e.system(), repo.RoutingRule{Name: "no-internal", Mode: repo.RoutingBlock,
		Matchers: []string{"^/internal/.*"}}, true); err != nil {
		t.Fatal(err)
	}
	b := e.admin()
	path := "/ui/repositories/new?format=raw&type=proxy"
	p := b.get(path)
	p.has(t, `<option value="no-internal"`)
	v := formValues(t, p.body, "repository-form")
	v.Del("_csrf")
	v.Set("name", "p-routed")
	v.Set("proxy.remoteUrl", "http://upstream.example/raw/")
	v.Set("routingRule", "no-internal")
	if resp := b.post(path, "/ui/repositories/new", v); resp.status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", resp.status, resp.body)
	}
	r, ok := e.repos.Lookup("p-routed")
	if !ok || r.Config().RoutingRule != "no-internal" {
		t.Fatalf("created proxy: %v %+v", ok, r)
	}
}
