package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/mail"
	"github.com/nexus-go/nexus-go/pkg/mail/mailtest"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/testproc"
)

type emailFixture struct{ *apiFixture }

func newEmailFixture(t *testing.T) *emailFixture {
	return &emailFixture{newAPIFixture(t, func(a *API, db *meta.DB, security *auth.Service) *API {
		return a.WithMail(mail.New(db, security, nil))
	})}
}

// expectEmail checks GET /v1/email answers exactly want.
func (f *emailFixture) expectEmail(t *testing.T, want string) {
	t.Helper()
	rec := f.admin(http.MethodGet, "/v1/email", "")
	expectStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Errorf("GET /v1/email =\n%s\nwant\n%s", got, want)
	}
}

const defaultEmailJSON = `{"enabled":false,"host":"localhost","port":25,"username":"","password":null,"fromAddress":"nexus@example.org",` +
	`"subjectPrefix":"","startTlsEnabled":false,"startTlsRequired":false,"sslOnConnectEnabled":false,` +
	`"sslServerIdentityCheckEnabled":false,"nexusTrustStoreEnabled":false}`

// emailBody is the configuration go-nexus-client's test sends (password
// given as the JSON text pw, or left out when empty).
func emailBody(username, pw string) string {
	if pw != "" {
		pw = `"password":` + pw + `,`
	}
	return `{"enabled":true,"host":"example.org","port":42,"username":"` + username + `",` + pw +
		`"fromAddress":"sender@example.org","subjectPrefix":"prefix","startTlsEnabled":false,"startTlsRequired":false,` +
		`"sslOnConnectEnabled":false,"sslServerIdentityCheckEnabled":false,"nexusTrustStoreEnabled":false}`
}

func emailJSONOf(username string) string {
	return `{"enabled":true,"host":"example.org","port":42,"username":"` + username + `","password":null,` +
		`"fromAddress":"sender@example.org","subjectPrefix":"prefix","startTlsEnabled":false,"startTlsRequired":false,` +
		`"sslOnConnectEnabled":false,"sslServerIdentityCheckEnabled":false,"nexusTrustStoreEnabled":false}`
}

func (f *emailFixture) storedPassword(t *testing.T) string {
	t.Helper()
	s, err := f.db.Mail()
	if err != nil {
		t.Fatal(err)
	}
	return s.Password
}

func TestEmailRoundTrip(t *testing.T) {
	f := newEmailFixture(t)
	f.expectEmail(t, defaultEmailJSON)

	expectStatus(t, f.admin(http.MethodPut, "/v1/email", emailBody("uname", `"secret"`)), http.StatusNoContent)
	f.expectEmail(t, emailJSONOf("uname"))
	if pw := f.storedPassword(t); pw != "secret" {
		t.Errorf("stored password = %q", pw)
	}
	// Updates without the password, left out or null, keep it.
	expectStatus(t, f.admin(http.MethodPut, "/v1/email", emailBody("username", "")), http.StatusNoContent)
	f.expectEmail(t, emailJSONOf("username"))
	expectStatus(t, f.admin(http.MethodPut, "/v1/email", emailBody("username", "null")), http.StatusNoContent)
	if pw := f.storedPassword(t); pw != "secret" {
		t.Errorf("password after updates without one = %q", pw)
	}
	// An empty one replaces it.
	expectStatus(t, f.admin(http.MethodPut, "/v1/email", emailBody("username", `""`)), http.StatusNoContent)
	if pw := f.storedPassword(t); pw != "" {
		t.Errorf("password after an empty one = %q", pw)
	}

	expectStatus(t, f.admin(http.MethodDelete, "/v1/email", ""), http.StatusNoContent)
	f.expectEmail(t, defaultEmailJSON)
}

func TestEmailValidation(t *testing.T) {
	f := newEmailFixture(t)
	for _, tc := range []struct{ body, field string }{
		{`{"enabled":false,"host":"example.org","port":0,"fromAddress":"nexus@example.org"}`, "port"},
		{`{"enabled":false,"host":"example.org","port":65536,"fromAddress":"nexus@example.org"}`, "port"},
		{`{"enabled":true,"host":"","port":25,"fromAddress":"nexus@example.org"}`, "host"},
		{`{"enabled":true,"host":"example.org","port":25,"fromAddress":"not an address"}`, "fromAddress"},
		{`{"enabled":true,"host":"example.org","port":25,"fromAddress":"a@example.org\r\nBcc: b@example.org"}`, "fromAddress"},
		{`{"enabled":true,"host":"example.org","port":25,"fromAddress":""}`, "fromAddress"},
		{`{"enabled":true,"host":"example.org","port":25,"fromAddress":"a@example.org","subjectPrefix":"x\ny"}`, "subjectPrefix"},
	} {
		rec := f.admin(http.MethodPut, "/v1/email", tc.body)
		expectValidationList(t, rec)
		var list []ValidationError
		decodeJSON(t, rec, &list)
		if list[0].ID != "PARAMETER "+tc.field {
			t.Errorf("%s: %s; want PARAMETER %s", tc.body, rec.Body.String(), tc.field)
		}
	}
	expectStatus(t, f.admin(http.MethodPut, "/v1/email", `{"port":`), http.StatusBadRequest)
	f.expectEmail(t, defaultEmailJSON)
}

func TestEmailPrivileges(t *testing.T) {
	f := newEmailFixture(t)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/roles", `{"id":"reader","privileges":["nx-settings-read"]}`), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users",
		`{"userId":"reader","firstName":"R","lastName":"R","emailAddress":"r@example.org","password":"pw","status":"active","roles":["reader"]}`), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users",
		`{"userId":"nobody","firstName":"N","lastName":"N","emailAddress":"n@example.org","password":"pw","status":"active","roles":[]}`), http.StatusOK)

	expectStatus(t, f.do(http.MethodGet, "/v1/email", "nobody", "pw", ""), http.StatusForbidden)
	expectStatus(t, f.do(http.MethodGet, "/v1/email", "reader", "pw", ""), http.StatusOK)
	for _, r := range []struct{ method, path, body string }{
		{http.MethodPut, "/v1/email", emailBody("uname", `"secret"`)},
		{http.MethodDelete, "/v1/email", ""},
		{http.MethodPost, "/v1/email/verify", `"admin@example.org"`},
	} {
		expectStatus(t, f.do(r.method, r.path, "reader", "pw", r.body), http.StatusForbidden)
	}
	expectStatus(t, f.do(http.MethodGet, "/v1/email", "", "", ""), http.StatusUnauthorized)
}

func TestEmailVerify(t *testing.T) {
	f := newEmailFixture(t)
	srv := mailtest.Start(t)
	body := `{"enabled":true,"host":"127.0.0.1","port":` + strconv.Itoa(srv.Port) +
		`,"fromAddress":"nexus@example.org","subjectPrefix":"[nexus] "}`
	expectStatus(t, f.admin(http.MethodPut, "/v1/email", body), http.StatusNoContent)

	rec := f.admin(http.MethodPost, "/v1/email/verify", `"admin@example.org"`)
	expectStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"success":true}` {
		t.Errorf("verify = %s", got)
	}
	if got := srv.Wait(t, 1, 5*time.Second)[0]; got.Header.Get("Subject") != "[nexus] Email configuration verification" {
		t.Errorf("received %+v", got)
	}
	expectValidationList(t, f.admin(http.MethodPost, "/v1/email/verify", `"not an address"`))

	// A closed port: success false with the reason, well within the timeout.
	body = `{"enabled":true,"host":"127.0.0.1","port":` + strconv.Itoa(testproc.FreePort(t)) + `,"fromAddress":"nexus@example.org"}`
	expectStatus(t, f.admin(http.MethodPut, "/v1/email", body), http.StatusNoContent)
	began := time.Now()
	rec = f.admin(http.MethodPost, "/v1/email/verify", `"admin@example.org"`)
	expectStatus(t, rec, http.StatusOK)
	var v emailValidation
	decodeJSON(t, rec, &v)
	if v.Success || !strings.Contains(v.Reason, "refused") {
		t.Errorf("verify against a closed port = %+v", v)
	}
	if d := time.Since(began); d > mail.Timeout {
		t.Errorf("verify took %s", d)
	}

	// Read-only: verifying writes nothing and goes on; changes are refused.
	expectStatus(t, f.admin(http.MethodPost, "/v1/read-only/freeze", ""), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodPost, "/v1/email/verify", `"admin@example.org"`), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPut, "/v1/email", body), http.StatusServiceUnavailable)
	expectStatus(t, f.admin(http.MethodDelete, "/v1/email", ""), http.StatusServiceUnavailable)
}
