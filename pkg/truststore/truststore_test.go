package truststore

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// only allows the privileges it holds.
type only map[auth.Privilege]bool

func (o only) Require(_ context.Context, p auth.Privilege) error {
	if !o[p] {
		return errs.ErrForbidden
	}
	return nil
}

func openStore(t *testing.T, db *meta.DB, authz Authorizer) *Store {
	t.Helper()
	s, err := Open(db, authz)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Added certificates are stored, in the pool from the change on (a new
// generation), kept across a restart, and gone once removed.
func TestAddListRemove(t *testing.T) {
	db := repotest.NewStorage(t).DB
	ctx := context.Background()
	s := openStore(t, db, repotest.AllowAll{})
	ca := tlstest.NewCA(t, "team CA")
	_, gen := s.Pool()
	c, err := s.Add(ctx, string(ca.PEM))
	if err != nil {
		t.Fatal(err)
	}
	if c.SubjectCommonName != "team CA" || len(c.ID) != 59 || c.ID != c.Fingerprint {
		t.Errorf("added = %+v", c)
	}
	pool, gen2 := s.Pool()
	if gen2 == gen {
		t.Error("the pool's generation did not change")
	}
	if _, err := ca.Cert.Verify(x509Opts(pool)); err != nil {
		t.Errorf("the pool does not trust the added CA: %v", err)
	}
	if _, err := s.Add(ctx, string(ca.PEM)); errs.KindOf(err) != errs.Conflict {
		t.Errorf("adding twice: %v", err)
	}
	if _, err := s.Add(ctx, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"); errs.KindOf(err) != errs.Invalid {
		t.Errorf("adding garbage: %v", err)
	}

	reopened := openStore(t, db, repotest.AllowAll{})
	if list, _ := reopened.List(ctx); len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("after reopening: %+v", list)
	}
	if err := reopened.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := reopened.Remove(ctx, c.ID); errs.KindOf(err) != errs.NotFound {
		t.Errorf("removing twice: %v", err)
	}
	pool, _ = reopened.Pool()
	if _, err := ca.Cert.Verify(x509Opts(pool)); err == nil {
		t.Error("the pool trusts a removed CA")
	}
}

// Each operation needs its privilege.
func TestPrivileges(t *testing.T) {
	db := repotest.NewStorage(t).DB
	ctx := context.Background()
	ca := tlstest.NewCA(t, "team CA")
	none := openStore(t, db, only{})
	if _, err := none.List(ctx); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("List: %v", err)
	}
	if _, err := none.Add(ctx, string(ca.PEM)); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("Add: %v", err)
	}
	if _, err := none.Fetch(ctx, "127.0.0.1", 1); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("Fetch: %v", err)
	}
	reader := openStore(t, db, only{privRead: true, privCreate: true})
	c, err := reader.Add(ctx, string(ca.PEM))
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Remove(ctx, c.ID); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("Remove: %v", err)
	}
}

func x509Opts(pool *x509.CertPool) x509.VerifyOptions { return x509.VerifyOptions{Roots: pool} }
