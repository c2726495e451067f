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

// saveRepositoryForm saves repository name's edit form as the page fills
// it, with field set to value, and returns the repository after the save.
func saveRepositoryForm(t *testing.T, e *env, name, field, value string) repo.Repository {
	t.Helper()
	b := e.admin()
	page := "/ui/repositories/" + name
	v := formValues(t, b.get(page).body, "repository-form")
	v.Del("_csrf")
	v.Set(field, value)
	if p := b.post(page, page, v); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	r, _ := e.repos.Lookup(name)
	return r
}

// The repository form does not show cleanup policies, so saving it keeps
// those the repository has.
func TestEditKeepsCleanupPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repos.UseCleanupPolicies(anyPolicy{})
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default"},
		"cleanup":{"policyNames":["weekly"]}}`)
	r := saveRepositoryForm(t, e, "raw-h", "online", "false")
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
	cfg := saveRepositoryForm(t, e, "raw-n", "proxy.contentMaxAge", "30").Config()
	want := repo.Authentication{Type: repo.AuthNTLM, Username: "u", Password: "pw", NTLMHost: "h", NTLMDomain: "d"}
	if cfg.Proxy.ContentMaxAge != 30 || cfg.HTTPClient == nil || cfg.HTTPClient.Authentication == nil || *cfg.HTTPClient.Authentication != want {
		t.Fatalf("after the edit: contentMaxAge %d, httpClient %+v", cfg.Proxy.ContentMaxAge, cfg.HTTPClient)
	}
}
