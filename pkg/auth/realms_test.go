package auth

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Each token realm, switched off, refuses its tokens, including ones
// issued while it was on; the list is stored in order and checked.
func TestRealmsSwitchTokens(t *testing.T) {
	f := newFixture(t)
	ctx := asSystem
	f.addUser(t, "dev", "pw", AdminRole)
	active, err := f.s.ActiveRealms(ctx)
	if err != nil || !slices.Equal(active, []string{LocalRealm, DockerRealm, NpmRealm}) {
		t.Fatalf("default realms %v, %v", active, err)
	}
	npmToken, _, err := f.s.CreateToken(ctx, "dev", NpmRealm, TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dockerToken, err := f.s.IssueToken("dev", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetActiveRealms(ctx, []string{LocalRealm}); err != nil {
		t.Fatal(err)
	}
	if p := PrincipalFrom(resolveBearer(t, f.s, npmToken, "10.0.0.1:1")); p != nil {
		t.Error("an npm token worked without the npm realm")
	}
	if _, _, err := f.s.CreateToken(ctx, "dev", NpmRealm, TokenOptions{}); errs.KindOf(err) != errs.Forbidden {
		t.Errorf("npm token created without its realm: %v", err)
	}
	if _, err := f.s.VerifyToken(dockerToken, nil); err == nil {
		t.Error("a Docker token was accepted without the Docker realm")
	}
	if _, err := f.s.IssueToken("dev", time.Minute, nil); err == nil {
		t.Error("a Docker token was issued without the Docker realm")
	}
	// Passwords of local users still work.
	if _, err := f.s.Authenticate(ctx, "dev", "pw", "10.0.0.1"); err != nil {
		t.Errorf("local login: %v", err)
	}
	if err := f.s.SetActiveRealms(ctx, []string{NpmRealm, LocalRealm}); err != nil {
		t.Fatal(err)
	}
	if p := PrincipalFrom(resolveBearer(t, f.s, npmToken, "10.0.0.1:1")); p == nil {
		t.Error("the npm token did not work with its realm back on")
	}
	if got, _ := f.s.ActiveRealms(ctx); !slices.Equal(got, []string{NpmRealm, LocalRealm}) {
		t.Errorf("stored order %v", got)
	}
	for _, bad := range [][]string{{"Nope"}, {LocalRealm, LocalRealm}, {}, {DockerRealm, NpmRealm}} {
		if err := f.s.SetActiveRealms(ctx, bad); errs.KindOf(err) != errs.Invalid {
			t.Errorf("SetActiveRealms(%v): %v", bad, err)
		}
	}
	// Without the local realm, its users' passwords do not sign in.
	if err := f.s.SetActiveRealms(ctx, []string{LDAPRealm, DockerRealm}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Authenticate(ctx, "dev", "pw", "10.0.0.2"); errs.KindOf(err) != errs.Unauthorized {
		t.Errorf("local login without the local realm: %v", err)
	}
	if _, err := f.s.PrincipalOf(ctx, "dev"); errs.KindOf(err) != errs.Unauthorized {
		t.Errorf("a local user's token or session without the local realm: %v", err)
	}
	if _, err := f.s.AvailableRealms(context.Background()); errs.KindOf(err) != errs.Unauthorized {
		t.Errorf("realms listed without a caller: %v", err)
	}
}
