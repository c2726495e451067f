// Package audit is the audit log: who (a user and the client's address)
// changed security settings or repository configuration, deleted content,
// or failed to sign in, and when. Each record is stored in the metadata
// database (pkg/meta, pruned after a maximum age) and, once committed,
// written as a line of Nexus's audit.log JSON to <data-dir>/log/audit.log,
// rotated by size.
//
// The services record what they change, in the same methods that check
// the caller's privileges, so the REST API and the UI are audited alike.
// A nil *Log records nothing: services hold one without checking.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Authorizer checks the caller's privileges (auth.Service).
type Authorizer interface {
	Require(ctx context.Context, perm auth.Privilege) error
}

// privRead is the privilege of reading the records; not Nexus's, which
// has no REST endpoint for them.
var privRead = auth.Application("audit", "read")

// Options configure a Log.
type Options struct {
	// Dir is where audit.log and its rotated files are written; "": no file.
	Dir string
	// MaxFileSize is the size audit.log is rotated at (0: never).
	MaxFileSize int64
	// MaxFiles is how many rotated files are kept (audit.log.1 the newest).
	MaxFiles int
	// MaxAge is how long records are kept in the database (0: for good).
	MaxAge time.Duration
	Log    *slog.Logger
	// Now is the clock of records and pruning (nil: time.Now).
	Now func() time.Time
}

// Log is the audit log.
type Log struct {
	db     *meta.DB
	authz  Authorizer
	log    *slog.Logger
	now    func() time.Time
	node   string
	maxAge time.Duration
	file   *rotatingFile // nil: no file
	// writable fails while the server is read-only (see UseWritable).
	writable func() error
}

// New returns the log over db, opening its file; authz decides who reads
// the records.
func New(db *meta.DB, authz Authorizer, opts Options) (*Log, error) {
	node, err := db.NodeID()
	if err != nil {
		return nil, err
	}
	l := &Log{db: db, authz: authz, log: opts.Log, now: opts.Now, node: node, maxAge: opts.MaxAge}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if opts.Dir != "" {
		if l.file, err = openFile(opts.Dir, opts.MaxFileSize, opts.MaxFiles, l.log); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// UseWritable makes the log keep off the database while writable fails
// (the repository manager's Writable: the server is read-only); call it
// before serving.
func (l *Log) UseWritable(writable func() error) {
	if l != nil {
		l.writable = writable
	}
}

// Close closes the file.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	return l.file.close()
}

// Record records that the caller of ctx (see Initiator) did typ
// ("created", "deleted", …) in domain ("security.user") to subject, the
// record's context (a user ID, a repository name). attrs describe it and
// must hold nothing secret: never a password or a token. The record is
// committed when Record returns; a failure to store it is logged, not
// returned, as the change it records has been made.
func (l *Log) Record(ctx context.Context, domain, typ, subject string, attrs map[string]string) {
	if l == nil {
		return
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	rec := &meta.AuditRecord{Timestamp: l.now(), NodeID: l.node, Initiator: Initiator(ctx),
		Domain: domain, Type: typ, Context: subject, Attributes: attrs}
	if l.writable != nil && l.writable() != nil {
		// Read-only: nothing writes to the database, which may be being
		// copied; the file still gets the record (failed sign-ins, a
		// task stopped).
		line, err := json.Marshal(rec)
		if err == nil {
			l.file.write(line)
		}
		return
	}
	if err := l.db.AppendAudit(rec, l.file.write); err != nil {
		l.log.ErrorContext(ctx, "audit record not stored", "domain", domain, "type", typ, "err", err)
	}
}

type initiatorKey struct{}

// WithInitiator returns ctx whose records name initiator: for the server's
// work on behalf of something other than the caller in ctx, such as a
// task's run ("system/task:<id>").
func WithInitiator(ctx context.Context, initiator string) context.Context {
	return context.WithValue(ctx, initiatorKey{}, initiator)
}

// Initiator is who ctx acts for, as records name it: what WithInitiator
// set; "system" for the server's own work (auth.System, or no request at
// all); else "<user>/<client address>", the user being the caller's ID
// (the anonymous user's for anonymous callers) or "anonymous" for a
// request without a caller (one whose sign-in failed).
func Initiator(ctx context.Context) string {
	if s, ok := ctx.Value(initiatorKey{}).(string); ok {
		return s
	}
	p := auth.PrincipalFrom(ctx)
	addr := clientip.FromContext(ctx)
	user := auth.AnonymousUser
	switch {
	case p.IsSystem() || p == nil && addr == "":
		return "system"
	case p != nil:
		user = p.UserID
	}
	if addr == "" {
		return user
	}
	return user + "/" + addr
}

// Query selects records for List.
type Query struct {
	// Domain, when set, is the one domain listed.
	Domain string
	// Initiator, when set, is an initiator ("admin/10.0.0.1") or its user
	// ("admin"), whatever the address.
	Initiator string
	// Since, when not zero, leaves out records older than it.
	Since time.Time
	// Before, when not 0, continues below the record of that Seq.
	Before uint64
	// Limit is the most records of the page.
	Limit int
}

// List returns a page of the records q selects, newest first, and the Seq
// the next page continues below (0: this is the last), to holders of
// nx-audit-read.
func (l *Log) List(ctx context.Context, q Query) ([]*meta.AuditRecord, uint64, error) {
	if err := l.authz.Require(ctx, privRead); err != nil {
		return nil, 0, err
	}
	match := func(r *meta.AuditRecord) bool {
		if q.Domain != "" && r.Domain != q.Domain {
			return false
		}
		user, _, _ := strings.Cut(r.Initiator, "/")
		return q.Initiator == "" || r.Initiator == q.Initiator || user == q.Initiator
	}
	recs, more, err := l.db.AuditRecords(meta.AuditQuery{Before: q.Before, Since: q.Since, Match: match, Limit: q.Limit})
	if err != nil || !more {
		return recs, 0, err
	}
	return recs, recs[len(recs)-1].Seq, nil
}

// pruneInterval is how often records past the maximum age are deleted.
const pruneInterval = time.Hour

// Prune deletes the records older than the maximum age, but while the
// server is read-only.
func (l *Log) Prune(ctx context.Context) {
	if l == nil || l.maxAge <= 0 || l.writable != nil && l.writable() != nil {
		return
	}
	n, err := l.db.PruneAudit(l.now().Add(-l.maxAge))
	switch {
	case err != nil:
		l.log.ErrorContext(ctx, "pruning audit records failed", "err", err)
	case n > 0:
		l.log.InfoContext(ctx, "pruned old audit records", "records", n, "maxAge", l.maxAge)
	}
}

// KeepPruned prunes at once and then every hour, until ctx ends; a nil
// Log returns at once.
func (l *Log) KeepPruned(ctx context.Context) {
	if l == nil {
		return
	}
	l.Prune(ctx)
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.Prune(ctx)
		}
	}
}
