package main

// The script API as built: stored only with scripts.allow-creation, never
// run, bounded by api.max-body-size; and LDAPS servers that use the
// truststore, wired in main.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/ldap/ldaptest"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// scriptResult decodes Nexus's ScriptResultXO from an error answer.
func scriptResult(t *testing.T, res result, want int) (name, text string) {
	t.Helper()
	var r struct{ Name, Result string }
	if res.status != want {
		t.Fatalf("status %d, want %d: %s", res.status, want, res.body)
	}
	if err := json.Unmarshal(res.body, &r); err != nil {
		t.Fatalf("%s: %v", res.body, err)
	}
	return r.Name, r.Result
}

func TestScriptAPI(t *testing.T) {
	script := map[string]any{"name": "hello", "content": "log.info('hi')", "type": "groovy"}

	// A default install stores none.
	s := startServer(t)
	if name, text := scriptResult(t, s.doJSON(http.MethodPost, "/v1/script", s.admin(), script, nil), http.StatusGone); name != "hello" ||
		text != "Creating and updating scripts is disabled" {
		t.Errorf("410 body: %q %q", name, text)
	}
	var list []map[string]any
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/script", s.admin(), nil, &list)
	if len(list) != 0 {
		t.Errorf("scripts after a refused create: %v", list)
	}
	s.stop()

	s = startServerEnv(t, "NEXUS_GO_SCRIPTS_ALLOW_CREATION=true", "NEXUS_GO_API_MAX_BODY_SIZE=4KiB")
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/script", s.admin(), script, nil)
	if _, text := scriptResult(t, s.doJSON(http.MethodPost, "/v1/script/hello/run", s.admin(), "args", nil), http.StatusBadRequest); text != "this server does not run scripts" {
		t.Errorf("run: %q", text)
	}
	big := map[string]any{"name": "big", "content": strings.Repeat("x", 5<<10), "type": "groovy"}
	if res := s.doJSON(http.MethodPost, "/v1/script", s.admin(), big, nil); res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a script over api.max-body-size: %d %s", res.status, res.body)
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/script", s.admin(), nil, &list)
	if len(list) != 1 || list[0]["content"] != "log.info('hi')" {
		t.Errorf("scripts: %v", list)
	}
}

// An LDAPS server whose certificate a private CA signed: its users sign
// in once the CA is in the truststore, as the server uses it.
func TestLDAPSTrustStore(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "LDAP CA")
	certFile, keyFile, _ := ca.Server(t, dir, "slapd")
	ldaps := ldaptest.StartLDAPS(t, certFile, keyFile)
	s := startServer(t)
	admin := s.admin()
	srv := ldapServerJSON("ldaps", ldaps.Host, ldaps.Port, 5)
	srv["protocol"], srv["useTrustStore"] = "LDAPS", true
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/security/ldap", admin, srv, nil)
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin,
		[]string{"NexusAuthenticatingRealm", "LdapRealm"}, nil)

	// Signed in, alice may not list users (403); not signed in, 401.
	alice := &creds{"alice", ldaptest.Users["alice"]}
	if res := s.do(http.MethodGet, "/service/rest/v1/security/users", alice, nil, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("alice before the CA is trusted: %d", res.status)
	}
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/security/ssl/truststore", admin, string(ca.PEM), nil)
	if res := s.do(http.MethodGet, "/service/rest/v1/security/users", alice, nil, nil); res.status != http.StatusForbidden {
		t.Fatalf("alice with the CA in the truststore: %d %s", res.status, res.body)
	}
}
