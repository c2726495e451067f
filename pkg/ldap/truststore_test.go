package ldap_test

import (
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/ldap/ldaptest"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
	"github.com/nexus-go/nexus-go/pkg/truststore"
)

// An LDAPS server with a certificate of a private CA: with useTrustStore
// its users sign in once the CA is in the truststore and no longer once
// it is removed; without useTrustStore the truststore is not consulted.
func TestLDAPSVerifiesAgainstTheTrustStore(t *testing.T) {
	f := newFixture(t)
	ca := tlstest.NewCA(t, "private LDAP CA")
	certFile, keyFile, _ := ca.Server(t, t.TempDir(), "slapd")
	s := server("tls", ldaptest.StartLDAPS(t, certFile, keyFile))
	s.Protocol, s.UseTrustStore = "LDAPS", true
	// Failures below must not rest the server between the attempts.
	s.MaxIncidentsCount = 100
	if err := f.dir.Create(f.sys, s); err != nil {
		t.Fatal(err)
	}
	trust, err := truststore.Open(f.db, f.auth)
	if err != nil {
		t.Fatal(err)
	}
	f.dir.SetTrustStore(trust)

	refused := func(when string) {
		t.Helper()
		_, err := f.dir.Authenticate(f.sys, "alice", ldaptest.Users["alice"])
		if errs.KindOf(err) != errs.Upstream || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("%s: %v, want a certificate failure", when, err)
		}
	}
	signsIn := func(when string) {
		t.Helper()
		if u, err := f.dir.Authenticate(f.sys, "alice", ldaptest.Users["alice"]); err != nil || u.ID != "alice" {
			t.Fatalf("%s: %v", when, err)
		}
	}

	refused("before the CA is in the truststore")
	added, err := trust.Add(f.sys, string(ca.PEM))
	if err != nil {
		t.Fatal(err)
	}
	signsIn("with the CA in the truststore")

	s.UseTrustStore = false
	if err := f.dir.Update(f.sys, s.Name, s); err != nil {
		t.Fatal(err)
	}
	refused("with useTrustStore off")

	s.UseTrustStore = true
	if err := f.dir.Update(f.sys, s.Name, s); err != nil {
		t.Fatal(err)
	}
	signsIn("with useTrustStore on again")
	if err := trust.Remove(f.sys, added.ID); err != nil {
		t.Fatal(err)
	}
	refused("after the CA left the truststore")
}
