package auth

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

type grant struct {
	Repo    string   `json:"repo"`
	Actions []string `json:"actions"`
}

func TestTokenRoundTripAndTampering(t *testing.T) {
	f := newFixture(t)
	tok, err := f.s.IssueToken("alice", time.Minute, grant{Repo: "docker-h", Actions: []string{"pull"}})
	if err != nil {
		t.Fatal(err)
	}
	var g grant
	sub, err := f.s.VerifyToken(tok, &g)
	if err != nil || sub != "alice" || g.Repo != "docker-h" || len(g.Actions) != 1 {
		t.Fatalf("VerifyToken = %q, %+v, %v", sub, g, err)
	}
	payload, sig, _ := strings.Cut(tok, ".")
	forged, _ := f.s.IssueToken("alice", time.Minute, grant{Repo: "docker-h", Actions: []string{"pull", "push"}})
	forgedPayload, _, _ := strings.Cut(forged, ".")
	for _, bad := range []string{"", "x", payload + ".", "." + sig, forgedPayload + "." + sig, payload + "." + sig + "A"} {
		if _, err := f.s.VerifyToken(bad, &g); errs.KindOf(err) != errs.Unauthorized {
			t.Errorf("VerifyToken(%q) = %v, want Unauthorized", bad, err)
		}
	}
	f.clock.Advance(2 * time.Minute)
	if _, err := f.s.VerifyToken(tok, &g); errs.KindOf(err) != errs.Unauthorized {
		t.Errorf("expired token accepted: %v", err)
	}
}

// A token issued before a restart still verifies after it: the signing key
// is read back from the reopened database, not made up anew.
func TestTokenSecretSurvivesReopen(t *testing.T) {
	f := newFixture(t)
	tok, err := f.s.IssueToken("alice", time.Hour, grant{Repo: "docker-h", Actions: []string{"pull"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := meta.Open(filepath.Join(f.dataDir, "db", "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.now = f.clock.Now
	var g grant
	if sub, err := s.VerifyToken(tok, &g); err != nil || sub != "alice" || g.Repo != "docker-h" {
		t.Fatalf("token after reopen: %q, %+v, %v", sub, g, err)
	}
	// A database that lost the key would verify nothing: a fresh one must not.
	other := newFixture(t)
	if _, err := other.s.VerifyToken(tok, &g); errs.KindOf(err) != errs.Unauthorized {
		t.Fatalf("token verified by another database's key: %v", err)
	}
}

// A token verified again comes from the cache: the same subject and data,
// a copy the second caller gets whole, and expiry still enforced.
func TestTokenVerifiedAgain(t *testing.T) {
	f := newFixture(t)
	tok, err := f.s.IssueToken("alice", time.Minute, grant{Repo: "docker-h", Actions: []string{"pull"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var g grant
		sub, err := f.s.VerifyToken(tok, &g)
		if err != nil || sub != "alice" || g.Repo != "docker-h" || len(g.Actions) != 1 || g.Actions[0] != "pull" {
			t.Fatalf("verification %d = %q, %+v, %v", i, sub, g, err)
		}
	}
	if sub, err := f.s.VerifyToken(tok, nil); err != nil || sub != "alice" {
		t.Fatalf("without data: %q, %v", sub, err)
	}
	var other struct {
		Repo string `json:"repo"`
	}
	if _, err := f.s.VerifyToken(tok, &other); err != nil || other.Repo != "docker-h" {
		t.Fatalf("into another type: %+v, %v", other, err)
	}
	f.clock.Advance(2 * time.Minute)
	var g grant
	if _, err := f.s.VerifyToken(tok, &g); errs.KindOf(err) != errs.Unauthorized {
		t.Fatalf("expired cached token accepted: %v", err)
	}
}
