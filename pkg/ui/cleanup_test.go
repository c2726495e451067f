package ui

import (
	"net/http"
	"slices"
	"testing"
)

// anyPolicy accepts every cleanup policy name.
type anyPolicy struct{}

func (anyPolicy) CheckPolicies(string, []string) error { return nil }

// The repository form does not show cleanup policies, so saving it keeps
// those the repository has.
func TestEditKeepsCleanupPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repos.UseCleanupPolicies(anyPolicy{})
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default"},
		"cleanup":{"policyNames":["weekly"]}}`)
	b := e.admin()
	v := formValues(t, b.get("/ui/repositories/raw-h").body, "repository-form")
	v.Del("_csrf")
	v.Set("online", "false")
	if p := b.post("/ui/repositories/raw-h", "/ui/repositories/raw-h", v); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	r, _ := e.repos.Lookup("raw-h")
	if cfg := r.Config(); cfg.Online || cfg.Cleanup == nil || !slices.Equal(cfg.Cleanup.PolicyNames, []string{"weekly"}) {
		t.Fatalf("after the edit online %v, cleanup %+v", cfg.Online, cfg.Cleanup)
	}
}
