package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestThrottleLogin checks login throttling against the real binary:
// failed logins delay but never lock out the right password, and a
// password over bcrypt's 72 bytes costs the same whether the user exists.
func TestThrottleLogin(t *testing.T) {
	// check is an endpoint that answers any signed-in user.
	const check = "/v1/repositories"
	// A few throttled waits of at most 4 s each, with bcrypt under the
	// race detector: generous, but a lockout would never end in time.
	const soon = 15 * time.Second

	// Runs alone, so that the other servers' bcrypt does not skew it.
	t.Run("too long password", func(t *testing.T) {
		s := startServer(t)
		long := strings.Repeat("p", 100)
		elapsed := func(user string) time.Duration {
			start := time.Now()
			if res := s.doJSON(http.MethodGet, check, &creds{user, long}, nil, nil); res.status != http.StatusUnauthorized {
				t.Fatalf("%d-byte password for %s: status %d, want 401", len(long), user, res.status)
			}
			return time.Since(start)
		}
		// Fastest of three each: noise only ever adds time.
		known, unknown := time.Hour, time.Hour
		for range 3 {
			known = min(known, elapsed("admin"))
			unknown = min(unknown, elapsed("nobody-at-all"))
		}
		// Both pay one bcrypt comparison; skipping it is tens of times
		// faster, far outside this margin.
		if known < unknown/4 {
			t.Errorf("a too-long password failed in %v for an existing user and %v for an unknown one; want the same cost", known, unknown)
		}
	})

	t.Run("attacks", func(t *testing.T) {
		t.Run("wrong admin passwords", func(t *testing.T) {
			t.Parallel()
			s := startServer(t)
			for i := range 10 {
				if res := s.doJSON(http.MethodGet, check, &creds{"admin", fmt.Sprintf("wrong-%d", i)}, nil, nil); res.status != http.StatusUnauthorized {
					t.Fatalf("wrong password %d: status %d, want 401", i, res.status)
				}
			}
			start := time.Now()
			if res := s.doJSON(http.MethodGet, check, s.admin(), nil, nil); res.status != http.StatusOK {
				t.Fatalf("right admin password after 10 wrong ones: status %d, want 200: %s", res.status, res.body)
			}
			if d := time.Since(start); d > soon {
				t.Errorf("right admin password after 10 wrong ones took %v; want under %v", d, soon)
			}
		})
		t.Run("sprayed names", func(t *testing.T) {
			t.Parallel()
			s := startServer(t)
			s.createUser("alice", "alice-password", "nx-anonymous")
			for i := range 30 {
				if res := s.doJSON(http.MethodGet, check, &creds{fmt.Sprintf("guess-%d", i), "guess"}, nil, nil); res.status != http.StatusUnauthorized {
					t.Fatalf("sprayed name %d: status %d, want 401", i, res.status)
				}
			}
			start := time.Now()
			if res := s.doJSON(http.MethodGet, check, &creds{"alice", "alice-password"}, nil, nil); res.status != http.StatusOK {
				t.Fatalf("a real user's right password after 30 sprayed names: status %d, want 200: %s", res.status, res.body)
			}
			if d := time.Since(start); d > soon {
				t.Errorf("a real user's right password after 30 sprayed names took %v; want under %v", d, soon)
			}
		})
	})
}
