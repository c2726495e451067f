package auth

import (
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/clientip"
)

// countingLoginMeter counts LoginFailed by credential.
type countingLoginMeter struct {
	mu     sync.Mutex
	failed map[string]int
}

func (m *countingLoginMeter) LoginFailed(credential string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failed[credential]++
}

// Every refused password and stored token is counted once, by kind; a
// login that succeeds, and a request without credentials, are not.
func TestLoginMeterCountsFailures(t *testing.T) {
	f := newFixture(t)
	m := &countingLoginMeter{failed: map[string]int{}}
	f.s.UseLoginMeter(m)
	f.addUser(t, "dev", "right", AdminRole)
	basic := func(user, password string) {
		t.Helper()
		req := httptest.NewRequest("GET", "/service/rest/v1/status", nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		if _, err := f.s.Resolve(clientip.With(req, "10.0.0.1:1")); err != nil {
			t.Fatal(err)
		}
	}
	basic("dev", "wrong")
	basic("nobody", "wrong")
	basic("dev", "right")
	basic("", "")
	if _, err := f.s.Authenticate(t.Context(), "dev", "wrong again", "10.0.0.2:1"); err == nil {
		t.Fatal("Authenticate with a wrong password succeeded")
	}
	resolveBearer(t, f.s, "npm_forged", "10.0.0.1:1")
	token, _, err := f.s.CreateToken(asSystem, "dev", NpmRealm, TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resolveBearer(t, f.s, token, "10.0.0.1:1")
	if want := map[string]int{CredentialPassword: 3, CredentialToken: 1}; !reflect.DeepEqual(m.failed, want) {
		t.Errorf("failed logins counted %v, want %v", m.failed, want)
	}
}
