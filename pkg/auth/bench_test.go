package auth

import (
	"context"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// BenchmarkPrincipalOf resolves the principal of a token or session
// holder, as every request of one does: a local user and a directory user
// whose answer the directory has cached.
func BenchmarkPrincipalOf(b *testing.B) {
	f := newFixture(b)
	f.s.SetLDAP(stableDirectory{"erin": {ID: "erin", Groups: []string{"readers"}}})
	if err := f.s.SetActiveRealms(asSystem, []string{LocalRealm, LDAPRealm}); err != nil {
		b.Fatal(err)
	}
	if err := f.db.CreateRole(&meta.Role{ID: "readers", Privileges: []string{"nx-repository-view-raw-raw-h-read"}}); err != nil {
		b.Fatal(err)
	}
	f.addUser(b, "lou", "lou-password", "readers")
	for _, user := range []string{"lou", "erin"} {
		b.Run(user, func(b *testing.B) {
			for b.Loop() {
				if _, err := f.s.PrincipalOf(context.Background(), user); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
