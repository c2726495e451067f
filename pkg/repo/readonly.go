package repo

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// readOnly is the server's frozen state: while frozen, the engine refuses
// every write (content and configuration) and reads go on. It is shared
// by the manager and its repositories and kept in the database, so a
// restart stays frozen.
type readOnly struct {
	frozen atomic.Bool
	mu     sync.Mutex // serialises changes and their storage
	state  meta.ReadOnlyState
}

// ReadOnlyState is GET /v1/read-only's answer.
type ReadOnlyState struct {
	SystemInitiated bool   `json:"systemInitiated"`
	SummaryReason   string `json:"summaryReason"`
	Frozen          bool   `json:"frozen"`
}

// errFrozen is what every write answers while the server is read-only.
var errFrozen = errs.New(errs.Unavailable,
	"Nexus Repository is in read-only mode: an administrator froze it; writes are refused until it is released")

// refuseFrozen is errFrozen while frozen, else nil.
func (ro *readOnly) refuseFrozen() error {
	if ro != nil && ro.frozen.Load() {
		return errFrozen
	}
	return nil
}

// writable is the manager's check before any write it makes.
func (m *Manager) writable() error { return m.frozen.refuseFrozen() }

// Writable reports errFrozen (503) while the server is read-only: the one
// check of the REST API's and the UI's writes that do not go through the
// engine (security settings).
func (m *Manager) Writable() error { return m.writable() }

// Writable is errFrozen (503) while the server is read-only, for the
// writes a format makes outside r's content (npm's tokens); nil for a
// repository the engine did not build.
func Writable(r Repository) error {
	if b, ok := r.(interface{ writable() error }); ok {
		return b.writable()
	}
	return nil
}

// CheckWritable is /v1/status/writable's answer: errFrozen while the
// server is read-only (without a probe: it is a write), else whether the
// metadata database takes a write now.
func (m *Manager) CheckWritable() error {
	if err := m.writable(); err != nil {
		return err
	}
	return m.db.Writable()
}

func (m *Manager) loadReadOnly() error {
	s, err := m.db.ReadOnly()
	if err != nil {
		return err
	}
	m.frozen.mu.Lock()
	defer m.frozen.mu.Unlock()
	m.frozen.state = s
	m.frozen.frozen.Store(s.Frozen)
	return nil
}

// ReadOnly returns the frozen state (nx-settings-read).
func (m *Manager) ReadOnly(ctx context.Context) (ReadOnlyState, error) {
	if err := m.authz.Require(ctx, auth.Application("settings", "read")); err != nil {
		return ReadOnlyState{}, err
	}
	m.frozen.mu.Lock()
	defer m.frozen.mu.Unlock()
	return ReadOnlyState{Frozen: m.frozen.state.Frozen, SummaryReason: m.frozen.state.Reason}, nil
}

// errNoChange is Nexus's 404 for a freeze of a frozen server or a release
// of one that is not.
func errNoChange(frozen bool) error {
	if frozen {
		return errs.New(errs.NotFound, "No change to read-only state: already frozen")
	}
	return errs.New(errs.NotFound, "No change to read-only state: not frozen")
}

// SetReadOnly freezes (frozen true) or releases the server
// (nx-settings-update); a change to the state it has is errs.NotFound, as
// in Nexus. Release and force-release are the same here: nothing but an
// administrator freezes this server.
//
// Both are audited (domain readonly), after the change: a freeze's record
// therefore goes to the audit file only, as nothing writes the database
// while it is frozen; a release's to both.
func (m *Manager) SetReadOnly(ctx context.Context, frozen bool) error {
	if err := m.authz.Require(ctx, auth.Application("settings", "update")); err != nil {
		return err
	}
	s, err := m.setReadOnly(ctx, frozen)
	if err != nil {
		return err
	}
	typ := "released"
	if frozen {
		typ = "frozen"
	}
	attrs := map[string]string{}
	if s.Reason != "" {
		attrs["reason"] = s.Reason
	}
	m.record(ctx, "readonly", typ, "readonly", attrs)
	return nil
}

func (m *Manager) setReadOnly(ctx context.Context, frozen bool) (meta.ReadOnlyState, error) {
	m.frozen.mu.Lock()
	defer m.frozen.mu.Unlock()
	if m.frozen.state.Frozen == frozen {
		return meta.ReadOnlyState{}, errNoChange(frozen)
	}
	s := meta.ReadOnlyState{Frozen: frozen}
	if frozen {
		who := "an administrator"
		if p := auth.PrincipalFrom(ctx); p != nil && p.UserID != "" {
			who = p.UserID
		}
		s.Reason = "Activated by " + who + " at " + time.Now().UTC().Format(time.RFC3339)
	}
	// Stored first: a freeze the database did not take is no freeze.
	if err := m.db.SetReadOnly(s); err != nil {
		return s, err
	}
	m.frozen.state = s
	m.frozen.frozen.Store(frozen)
	m.opts.Log.Info("read-only state changed", "frozen", frozen)
	return s, nil
}
