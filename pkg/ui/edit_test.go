package ui

import (
	"net/http"
	"slices"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/repo"
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

// Saving an NTLM proxy's form keeps its authentication whole: type, host,
// domain, username and the write-only password.
func TestEditKeepsNTLMAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-n","format":"raw","type":"proxy","online":true,"storage":{"blobStoreName":"default"},
		"proxy":{"remoteUrl":"http://upstream.example/","contentMaxAge":1,"metadataMaxAge":1},
		"httpClient":{"authentication":{"type":"ntlm","username":"u","password":"pw","ntlmHost":"h","ntlmDomain":"d"}}}`)
	b := e.admin()
	v := formValues(t, b.get("/ui/repositories/raw-n").body, "repository-form")
	v.Del("_csrf")
	v.Set("proxy.contentMaxAge", "30")
	if p := b.post("/ui/repositories/raw-n", "/ui/repositories/raw-n", v); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	r, _ := e.repos.Lookup("raw-n")
	cfg := r.Config()
	want := repo.Authentication{Type: repo.AuthNTLM, Username: "u", Password: "pw", NTLMHost: "h", NTLMDomain: "d"}
	if cfg.Proxy.ContentMaxAge != 30 || cfg.HTTPClient == nil || cfg.HTTPClient.Authentication == nil || *cfg.HTTPClient.Authentication != want {
		t.Fatalf("after the edit: contentMaxAge %d, authentication %+v", cfg.Proxy.ContentMaxAge, cfg.HTTPClient.Authentication)
	}
}
