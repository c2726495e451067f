package ldap_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/ldap"
	"github.com/nexus-go/nexus-go/pkg/ldap/ldaptest"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// fixture is a security service with the LDAP realm active over dir.
type fixture struct {
	auth *auth.Service
	dir  *ldap.Directory
	db   *meta.DB
	sys  context.Context
}

func newFixture(t *testing.T) *fixture {
	st := repotest.NewStorage(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, _ := st.Security(t, log)
	dir := ldap.New(st.DB, svc, log)
	svc.SetLDAP(dir)
	f := &fixture{auth: svc, dir: dir, db: st.DB, sys: auth.WithPrincipal(t.Context(), auth.System())}
	if err := svc.SetActiveRealms(f.sys, []string{auth.LocalRealm, auth.LDAPRealm}); err != nil {
		t.Fatal(err)
	}
	return f
}

// server is the slapd fixture's configuration with static groups.
func server(name string, s *ldaptest.Server) ldap.Server {
	return ldap.Server{Name: name, Protocol: "LDAP", Host: s.Host, Port: s.Port, SearchBase: ldaptest.BaseDN,
		AuthScheme: "SIMPLE", AuthUsername: ldaptest.AdminDN, AuthPassword: ldaptest.AdminPassword,
		ConnectionTimeoutSeconds: 2, MaxIncidentsCount: 3, ConnectionRetryDelaySeconds: 60,
		UserBaseDN: "ou=people", UserObjectClass: "inetOrgPerson", UserIDAttribute: "uid",
		UserRealNameAttribute: "cn", UserEmailAddressAttribute: "mail",
		LDAPGroupsAsRoles: true, GroupType: "STATIC", GroupBaseDN: "ou=groups", GroupObjectClass: "groupOfNames",
		GroupIDAttribute: "cn", GroupMemberAttribute: "member", GroupMemberFormat: "${dn}"}
}

func (f *fixture) role(t *testing.T, id string, privs ...string) {
	if err := f.auth.CreateRole(f.sys, &meta.Role{ID: id, Source: meta.SourceLDAP, Privileges: privs}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) login(user, password string) (*auth.Principal, error) {
	return f.auth.Authenticate(context.Background(), user, password, "127.0.0.1")
}

var deploy = auth.Application("healthcheck", "read")

func TestStaticGroupsMapToRoles(t *testing.T) {
	f := newFixture(t)
	if err := f.dir.Create(f.sys, server("main", ldaptest.Start(t))); err != nil {
		t.Fatal(err)
	}
	f.role(t, "deployers", "nx-healthcheck-read")
	p, err := f.login("alice", ldaptest.Users["alice"])
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	if p.UserID != "alice" || !p.Has(deploy) {
		t.Fatalf("alice: id %q, has the deployers role's privilege: %v", p.UserID, p.Has(deploy))
	}
	p, err = f.login("bob", ldaptest.Users["bob"])
	if err != nil || p.Has(deploy) {
		t.Fatalf("bob (developers only): %v, has %v", err, p != nil && p.Has(deploy))
	}
	// A token or session holder is looked up without a password.
	if p, err := f.auth.PrincipalOf(context.Background(), "alice"); err != nil || !p.Has(deploy) {
		t.Fatalf("PrincipalOf(alice): %v", err)
	}
	for _, c := range []struct{ user, pw string }{
		{"alice", "wrong"}, {"alice", ""}, {"nobody", "x"}, {"*", ldaptest.Users["alice"]},
		{"alice)(uid=*", ldaptest.Users["alice"]},
		// The directory's admin does not become the local admin.
		{"admin", ldaptest.Users["admin"]},
	} {
		if _, err := f.login(c.user, c.pw); errs.KindOf(err) != errs.Unauthorized {
			t.Errorf("login %q/%q: %v, want Unauthorized", c.user, c.pw, err)
		}
	}
	if _, err := f.auth.PrincipalOf(context.Background(), "nobody"); errs.KindOf(err) != errs.Unauthorized {
		t.Errorf("PrincipalOf(nobody): %v", err)
	}
}

func TestDynamicGroups(t *testing.T) {
	f := newFixture(t)
	s := server("dyn", ldaptest.Start(t))
	s.GroupType, s.UserMemberOfAttribute = "DYNAMIC", "seeAlso"
	if err := f.dir.Create(f.sys, s); err != nil {
		t.Fatal(err)
	}
	f.role(t, "deployers", "nx-healthcheck-read")
	if p, err := f.login("alice", ldaptest.Users["alice"]); err != nil || !p.Has(deploy) {
		t.Fatalf("alice: %v", err)
	}
	if p, err := f.login("bob", ldaptest.Users["bob"]); err != nil || p.Has(deploy) {
		t.Fatalf("bob: %v", err)
	}
}

func TestInactiveRealmRefusesLDAPUsers(t *testing.T) {
	f := newFixture(t)
	if err := f.dir.Create(f.sys, server("main", ldaptest.Start(t))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login("bob", ldaptest.Users["bob"]); err != nil {
		t.Fatal(err)
	}
	if err := f.auth.SetActiveRealms(f.sys, []string{auth.LocalRealm}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login("bob", ldaptest.Users["bob"]); errs.KindOf(err) != errs.Unauthorized {
		t.Fatalf("bob with the LDAP realm off: %v", err)
	}
	if _, err := f.auth.PrincipalOf(context.Background(), "bob"); errs.KindOf(err) != errs.Unauthorized {
		t.Fatalf("PrincipalOf(bob) with the LDAP realm off: %v", err)
	}
}

// A server that accepts connections and never answers costs a login its
// timeout, then the next server in order answers.
func TestServersTriedInOrderWithinTimeout(t *testing.T) {
	f := newFixture(t)
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dead := server("hung", &ldaptest.Server{Host: "127.0.0.1", Port: hung.Addr().(*net.TCPAddr).Port})
	dead.ConnectionTimeoutSeconds, dead.MaxIncidentsCount = 1, 1
	live := server("live", ldaptest.Start(t))
	for _, s := range []ldap.Server{dead, live} {
		if err := f.dir.Create(f.sys, s); err != nil {
			t.Fatal(err)
		}
	}
	took := repotest.Within(t, 5*time.Second, "login past a hung server", func() {
		if _, err := f.login("bob", ldaptest.Users["bob"]); err != nil {
			t.Errorf("bob: %v", err)
		}
	})
	if took < time.Second {
		t.Errorf("the hung server was not asked first (%v)", took)
	}
	// After maxIncidentsCount failures the hung server rests: no wait.
	repotest.Within(t, 900*time.Millisecond, "login while the hung server rests", func() {
		if _, err := f.login("alice", ldaptest.Users["alice"]); err != nil {
			t.Errorf("alice: %v", err)
		}
	})
}

func TestValidation(t *testing.T) {
	f := newFixture(t)
	good := server("v", &ldaptest.Server{Host: "127.0.0.1", Port: 389})
	for field, mutate := range map[string]func(*ldap.Server){
		"name":                     func(s *ldap.Server) { s.Name = "" },
		"protocol":                 func(s *ldap.Server) { s.Protocol = "HTTP" },
		"host":                     func(s *ldap.Server) { s.Host = "" },
		"port":                     func(s *ldap.Server) { s.Port = 0 },
		"searchBase":               func(s *ldap.Server) { s.SearchBase = "not a dn" },
		"authPassword":             func(s *ldap.Server) { s.AuthPassword = "" },
		"authScheme":               func(s *ldap.Server) { s.AuthScheme = "KERBEROS" },
		"userLdapFilter":           func(s *ldap.Server) { s.UserLDAPFilter = "(&(uid=a)" },
		"groupType":                func(s *ldap.Server) { s.GroupType = "" },
		"groupMemberFormat":        func(s *ldap.Server) { s.GroupMemberFormat = "uid" },
		"userPasswordAttribute":    func(s *ldap.Server) { s.UserPasswordAttribute = "userPassword" },
		"connectionTimeoutSeconds": func(s *ldap.Server) { s.ConnectionTimeoutSeconds = -1 },
		"userObjectClass":          func(s *ldap.Server) { s.UserObjectClass = "x)(uid=*" },
	} {
		s := good
		mutate(&s)
		var fe *errs.FieldError
		if err := f.dir.Create(f.sys, s); !asField(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if err := f.dir.Create(f.sys, good); err != nil {
		t.Fatal(err)
	}
	got, err := f.dir.Get(f.sys, "v")
	if err != nil || got.AuthPassword != "" || got.ID == "" || got.Host != "127.0.0.1" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	// An update without the password keeps it for the same server, and
	// never sends it to another one.
	got.UserSubtree = !got.UserSubtree
	if err := f.dir.Update(f.sys, "v", got); err != nil {
		t.Fatal(err)
	}
	got.Port = 636
	var fe *errs.FieldError
	if err := f.dir.Update(f.sys, "v", got); !asField(err, &fe) || fe.Field != "authPassword" {
		t.Errorf("an update to another port without the password: %v, want a refusal naming authPassword", err)
	}
	if err := f.dir.Create(f.sys, good); err == nil {
		t.Error("a second server of the same name was created")
	}
	if err := f.dir.ChangeOrder(f.sys, []string{"missing"}); err == nil {
		t.Error("change-order with an unknown name succeeded")
	}
	anon := auth.WithPrincipal(t.Context(), nil)
	if _, err := f.dir.List(anon); errs.KindOf(err) != errs.Unauthorized {
		t.Errorf("list without a caller: %v", err)
	}
	if err := f.dir.Delete(f.sys, "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.Get(f.sys, "v"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("get after delete: %v", err)
	}
}

func asField(err error, fe **errs.FieldError) bool {
	e, ok := err.(*errs.FieldError)
	*fe = e
	return ok
}

// An anonymous bind finds users too; without ldapGroupsAsRoles their
// groups grant nothing.
func TestAnonymousBindWithoutGroups(t *testing.T) {
	f := newFixture(t)
	s := server("anon", ldaptest.Start(t))
	s.AuthScheme, s.AuthUsername, s.AuthPassword, s.LDAPGroupsAsRoles = "NONE", "", "", false
	if err := f.dir.Create(f.sys, s); err != nil {
		t.Fatal(err)
	}
	f.role(t, "deployers", "nx-healthcheck-read")
	p, err := f.login("alice", ldaptest.Users["alice"])
	if err != nil || p.Has(deploy) {
		t.Fatalf("alice: %v, has the deployers role: %v", err, p != nil && p.Has(deploy))
	}
	if _, err := f.login("alice", "wrong"); errs.KindOf(err) != errs.Unauthorized {
		t.Fatalf("alice, wrong password: %v", err)
	}
}
