package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// newAuditFixture serves the REST API with the audit log recording the
// security service's changes.
func newAuditFixture(t *testing.T) *apiFixture {
	return newAPIFixture(t, func(a *API, db *meta.DB, security *auth.Service) *API {
		l, err := audit.New(db, security, audit.Options{Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		security.UseAuditor(l)
		return a.WithAudit(l)
	})
}

// auditRecord is a record as /v1/audit shows it.
type auditRecord struct {
	Timestamp  string            `json:"timestamp"`
	NodeID     string            `json:"nodeId"`
	Initiator  string            `json:"initiator"`
	Domain     string            `json:"domain"`
	Type       string            `json:"type"`
	Context    string            `json:"context"`
	Attributes map[string]string `json:"attributes"`
}

// auditPage gets one page of query as user.
func (f *apiFixture) auditPage(t *testing.T, query, user, password string) page[auditRecord] {
	t.Helper()
	rec := f.do(http.MethodGet, "/v1/audit"+query, user, password, "")
	expectStatus(t, rec, http.StatusOK)
	var p page[auditRecord]
	decodeJSON(t, rec, &p)
	return p
}

func TestAuditPagingNewestFirst(t *testing.T) {
	f := newAuditFixture(t)
	for i := range 5 {
		expectStatus(t, f.admin(http.MethodPost, "/v1/security/roles",
			fmt.Sprintf(`{"id":"role-%d","name":"r","privileges":[],"roles":[]}`, i)), http.StatusOK)
	}
	var contexts []string
	pages := 0
	for token := ""; ; pages++ {
		q := "?pageSize=2"
		if token != "" {
			q += "&continuationToken=" + url.QueryEscape(token)
		}
		p := f.auditPage(t, q, "admin", f.pw)
		for _, r := range p.Items {
			contexts = append(contexts, r.Context)
			if r.Domain != "security.role" || r.Type != "created" || r.Initiator != "admin/192.0.2.1" || r.NodeID == "" {
				t.Errorf("record %+v", r)
			}
			if _, err := time.Parse(time.RFC3339, r.Timestamp); err != nil {
				t.Errorf("timestamp %q: %v", r.Timestamp, err)
			}
		}
		if p.ContinuationToken == nil {
			break
		}
		if pages > 5 {
			t.Fatal("too many pages")
		}
		token = *p.ContinuationToken
	}
	if got := strings.Join(contexts, ","); got != "role-4,role-3,role-2,role-1,role-0" {
		t.Errorf("pages gave %s, want the newest first", got)
	}
	if pages != 2 {
		t.Errorf("%d pages of 2 for 5 records, want 3", pages+1)
	}
	for _, bad := range []string{"?continuationToken=***", "?continuationToken=" + encodeToken("x"), "?since=yesterday", "?pageSize=0"} {
		expectValidationList(t, f.admin(http.MethodGet, "/v1/audit"+bad, ""))
	}
}

func TestAuditFilters(t *testing.T) {
	f := newAuditFixture(t)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users", aliceJSON), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/roles", `{"id":"devs","name":"devs","privileges":[],"roles":[]}`), http.StatusOK)
	expectStatus(t, f.do(http.MethodPut, "/v1/security/users/alice/change-password", "alice", "alice-pw", "alice-new-pw"), http.StatusNoContent)
	expectStatus(t, f.do(http.MethodGet, "/v1/security/users", "alice", "wrong-pw", ""), http.StatusUnauthorized)

	summary := func(query string) string {
		t.Helper()
		var out []string
		for _, r := range f.auditPage(t, query, "admin", f.pw).Items {
			out = append(out, r.Initiator+" "+r.Domain+" "+r.Type+" "+r.Context)
		}
		return strings.Join(out, "; ")
	}
	for _, tt := range []struct{ query, want string }{
		{"", "anonymous/192.0.2.1 security.login failed alice; alice/192.0.2.1 security.user changed-password alice; " +
			"admin/192.0.2.1 security.role created devs; admin/192.0.2.1 security.user created alice"},
		{"?domain=security.user", "alice/192.0.2.1 security.user changed-password alice; admin/192.0.2.1 security.user created alice"},
		{"?initiator=admin", "admin/192.0.2.1 security.role created devs; admin/192.0.2.1 security.user created alice"},
		{"?initiator=alice/192.0.2.1&domain=security.user", "alice/192.0.2.1 security.user changed-password alice"},
		{"?since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), ""},
		{"?since=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)) + "&domain=security.login", "anonymous/192.0.2.1 security.login failed alice"},
	} {
		if got := summary(tt.query); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.query, got, tt.want)
		}
	}
	// The passwords used are nowhere in the answer.
	body := f.admin(http.MethodGet, "/v1/audit", "").Body.String()
	for _, secret := range []string{"alice-pw", "alice-new-pw", "wrong-pw", f.pw} {
		if strings.Contains(body, secret) {
			t.Errorf("the audit answer holds the password %q: %s", secret, body)
		}
	}
}

func TestAuditNeedsItsPrivilege(t *testing.T) {
	f := newAuditFixture(t)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/roles",
		`{"id":"auditors","name":"auditors","privileges":["nx-audit-read"],"roles":[]}`), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users", aliceJSON), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users", strings.NewReplacer("alice", "bob", `"nx-anonymous"`, `"auditors"`).Replace(aliceJSON)), http.StatusOK)

	expectStatus(t, f.do(http.MethodGet, "/v1/audit", "", "", ""), http.StatusUnauthorized)
	expectStatus(t, f.do(http.MethodGet, "/v1/audit", "alice", "alice-pw", ""), http.StatusForbidden)
	if p := f.auditPage(t, "?domain=security.user", "bob", "bob-pw"); len(p.Items) != 2 {
		t.Errorf("a holder of nx-audit-read sees %d user records, want 2", len(p.Items))
	}
	// nx-audit-read is a built-in privilege, listed as the others are.
	expectStatus(t, f.admin(http.MethodGet, "/v1/security/privileges/nx-audit-read", ""), http.StatusOK)
}
