// Package repotest holds fixtures shared by the tests of the repository
// engine, the server and the formats.
package repotest

import (
	"context"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

// AllowAll is an authorizer (repo.Authorizer) that grants every privilege,
// for tests whose subject is not security.
type AllowAll struct{}

// Require grants perm.
func (AllowAll) Require(context.Context, auth.Privilege) error { return nil }

// Within runs fn and fails the test if it has not returned after limit; it
// returns how long fn took. For checks that something ends at all, with a
// limit far above what it should take, never for measuring speed.
func Within(t testing.TB, limit time.Duration, what string, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("%s: still running after %s", what, limit)
		return 0
	}
}
