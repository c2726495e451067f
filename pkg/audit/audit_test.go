package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// allow grants every privilege; deny none.
type allow bool

func (a allow) Require(context.Context, auth.Privilege) error {
	if a {
		return nil
	}
	return errs.New(errs.Forbidden, "no")
}

func newLog(t *testing.T, opts Options) (*Log, *meta.DB) {
	t.Helper()
	db, err := meta.Open(filepath.Join(t.TempDir(), "db", "nexus.bolt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts.Log = slog.New(slog.DiscardHandler)
	l, err := New(db, allow(true), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, db
}

// requestCtx is the context of a request from addr by p (none when nil),
// as the server's edge and auth middleware leave it.
func requestCtx(p *auth.Principal, addr string) context.Context {
	ctx := clientip.With(httptest.NewRequest("GET", "/", nil), addr).Context()
	if p != nil {
		ctx = auth.WithPrincipal(ctx, p)
	}
	return ctx
}

func TestInitiator(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"a user's request", requestCtx(&auth.Principal{UserID: "jdoe"}, "127.0.0.1"), "jdoe/127.0.0.1"},
		{"an anonymous caller: the anonymous user", requestCtx(&auth.Principal{UserID: "guest", Anonymous: true}, "::1"), "guest/::1"},
		{"no caller (a failed sign-in)", requestCtx(nil, "192.0.2.7"), "anonymous/192.0.2.7"},
		{"the server's own work", context.Background(), "system"},
		{"the server's principal, even in a request", requestCtx(auth.System(), "127.0.0.1"), "system"},
		{"a caller outside a request", auth.WithPrincipal(context.Background(), &auth.Principal{UserID: "jdoe"}), "jdoe"},
		{"a task's run", WithInitiator(auth.WithPrincipal(context.Background(), auth.System()), "system/task:t1"), "system/task:t1"},
	}
	for _, tt := range tests {
		if got := Initiator(tt.ctx); got != tt.want {
			t.Errorf("%s: Initiator = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// readLines reads the JSON lines of a file.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestRecordShape(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	clock := testclock.New(time.Date(2026, 12, 3, 14, 0, 0, 123_000_000, time.UTC))
	l, db := newLog(t, Options{Dir: dir, Now: clock.Now})
	ctx := requestCtx(&auth.Principal{UserID: "admin"}, "127.0.0.1")
	l.Record(ctx, "security.user", "created", "jdoe", map[string]string{"id": "jdoe", "roles": "nx-admin"})
	l.Record(context.Background(), "repository.repository", "deleted", "raw-h", nil)

	node, _ := db.NodeID()
	raw, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"timestamp":"2026-12-03T14:00:00.123Z","nodeId":"` + node + `","initiator":"admin/127.0.0.1",` +
		`"domain":"security.user","type":"created","context":"jdoe","attributes":{"id":"jdoe","roles":"nx-admin"}}` + "\n" +
		`{"timestamp":"2026-12-03T14:00:00.123Z","nodeId":"` + node + `","initiator":"system",` +
		`"domain":"repository.repository","type":"deleted","context":"raw-h","attributes":{}}` + "\n"
	if string(raw) != want {
		t.Errorf("audit.log =\n%s\nwant\n%s", raw, want)
	}
	if st, err := os.Stat(filepath.Join(dir, "audit.log")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit.log mode: %v, %v; want 0600", st.Mode(), err)
	}
	// The database holds the same, newest first.
	recs, next, err := l.List(ctx, Query{Limit: 10})
	if err != nil || len(recs) != 2 || next != 0 || recs[0].Domain != "repository.repository" || recs[1].Initiator != "admin/127.0.0.1" {
		t.Errorf("List = %+v, %d, %v", recs, next, err)
	}
}

func TestListFiltersAndPrivilege(t *testing.T) {
	l, _ := newLog(t, Options{})
	admin := requestCtx(&auth.Principal{UserID: "admin"}, "10.0.0.1")
	other := requestCtx(&auth.Principal{UserID: "admin2"}, "10.0.0.2")
	l.Record(admin, "security.user", "created", "a", nil)
	l.Record(other, "security.user", "created", "b", nil)
	l.Record(admin, "security.role", "updated", "c", nil)
	contexts := func(q Query) []string {
		t.Helper()
		recs, _, err := l.List(admin, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.Context)
		}
		return out
	}
	for _, tt := range []struct {
		q    Query
		want []string
	}{
		{Query{Limit: 10}, []string{"c", "b", "a"}},
		{Query{Limit: 10, Domain: "security.user"}, []string{"b", "a"}},
		{Query{Limit: 10, Initiator: "admin"}, []string{"c", "a"}},
		{Query{Limit: 10, Initiator: "admin2/10.0.0.2"}, []string{"b"}},
		{Query{Limit: 10, Initiator: "admin/10.0.0.2"}, nil},
	} {
		if got := contexts(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.q, got, tt.want)
		}
	}
	recs, next, err := l.List(admin, Query{Limit: 2})
	if err != nil || len(recs) != 2 || next != recs[1].Seq {
		t.Fatalf("first page: %+v, %d, %v", recs, next, err)
	}
	if recs, next, _ = l.List(admin, Query{Limit: 2, Before: next}); len(recs) != 1 || recs[0].Context != "a" || next != 0 {
		t.Errorf("second page: %+v, %d", recs, next)
	}
	l.authz = allow(false)
	if _, _, err := l.List(admin, Query{Limit: 1}); errs.KindOf(err) != errs.Forbidden {
		t.Errorf("without the privilege: %v", err)
	}
}

func TestRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	l, _ := newLog(t, Options{Dir: dir, MaxFileSize: 600, MaxFiles: 2})
	ctx := requestCtx(&auth.Principal{UserID: "admin"}, "127.0.0.1")
	for i := range 30 {
		l.Record(ctx, "security.role", "updated", fmt.Sprintf("role-%02d", i), nil)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	slices.Sort(names)
	want := []string{"audit.log", "audit.log.1", "audit.log.2"}
	if len(names) != 3 || filepath.Base(names[0]) != want[0] || filepath.Base(names[1]) != want[1] || filepath.Base(names[2]) != want[2] {
		t.Fatalf("files %v, want %v", names, want)
	}
	// Each file is whole lines under the limit; oldest to newest they
	// continue each other and end with the last record.
	var contexts []string
	for _, n := range []string{"audit.log.2", "audit.log.1", "audit.log"} {
		p := filepath.Join(dir, n)
		if st, _ := os.Stat(p); st.Size() > 600 {
			t.Errorf("%s is %d bytes, past the 600 limit", n, st.Size())
		}
		for _, m := range readLines(t, p) {
			contexts = append(contexts, m["context"].(string))
		}
	}
	if len(contexts) == 0 || contexts[len(contexts)-1] != "role-29" {
		t.Fatalf("the files end with %v", contexts)
	}
	for i := 1; i < len(contexts); i++ {
		if contexts[i] <= contexts[i-1] {
			t.Fatalf("records out of order across the files: %v", contexts)
		}
	}
	// The older ones were dropped from the files, not from the database.
	if recs, _, _ := l.List(ctx, Query{Limit: 100}); len(recs) != 30 {
		t.Errorf("database holds %d records, want 30", len(recs))
	}
	// Opening again appends to the file there, rotating at the same size.
	l.Close()
	l2, err := New(l.db, allow(true), Options{Dir: dir, MaxFileSize: 600, MaxFiles: 2, Log: l.log})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	before := len(readLines(t, filepath.Join(dir, "audit.log")))
	l2.Record(ctx, "security.role", "updated", "role-30", nil)
	after := readLines(t, filepath.Join(dir, "audit.log"))
	if len(after) != before+1 && len(after) != 1 {
		t.Errorf("after reopening: %d lines, had %d", len(after), before)
	}
	if after[len(after)-1]["context"] != "role-30" {
		t.Errorf("last line %v", after[len(after)-1])
	}
}

// A file that cannot be written loses its lines, not the records: the
// request goes on, and the file is written again once it can be.
func TestFileFailureKeepsRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	l, _ := newLog(t, Options{Dir: dir})
	ctx := requestCtx(&auth.Principal{UserID: "admin"}, "127.0.0.1")
	l.file.mu.Lock()
	l.file.f.Close() // every write to it now fails
	l.file.mu.Unlock()
	l.Record(ctx, "security.user", "deleted", "gone", nil)
	l.Record(ctx, "security.user", "deleted", "back", nil)
	lines := readLines(t, filepath.Join(dir, "audit.log"))
	if len(lines) != 1 || lines[0]["context"] != "back" {
		t.Errorf("audit.log holds %v, want only the record after the failure", lines)
	}
	if recs, _, _ := l.List(ctx, Query{Limit: 10}); len(recs) != 2 {
		t.Errorf("database holds %d records, want both", len(recs))
	}
}

func TestReadOnlyAndPrune(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	clock := testclock.New(time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC))
	l, _ := newLog(t, Options{Dir: dir, Now: clock.Now, MaxAge: 30 * 24 * time.Hour})
	ctx := requestCtx(nil, "127.0.0.1")
	l.Record(ctx, "security.login", "failed", "old", nil)
	clock.Advance(29 * 24 * time.Hour)
	l.Record(ctx, "security.login", "failed", "recent", nil)

	frozen := errors.New("read-only")
	var writable error
	l.UseWritable(func() error { return writable })
	writable = frozen
	l.Record(ctx, "security.login", "failed", "while-frozen", nil)
	clock.Advance(2 * 24 * time.Hour)
	l.Prune(ctx) // nothing goes while read-only
	admin := requestCtx(&auth.Principal{UserID: "admin"}, "127.0.0.1")
	if recs, _, _ := l.List(admin, Query{Limit: 10}); len(recs) != 2 {
		t.Errorf("while read-only the database has %d records, want the 2 from before", len(recs))
	}
	if lines := readLines(t, filepath.Join(dir, "audit.log")); len(lines) != 3 || lines[2]["context"] != "while-frozen" {
		t.Errorf("the file has %v, want the record made while read-only too", lines)
	}
	writable = nil
	l.Prune(ctx)
	recs, _, _ := l.List(admin, Query{Limit: 10})
	if len(recs) != 1 || recs[0].Context != "recent" {
		t.Errorf("after pruning past 30 days: %+v, want only the recent record", recs)
	}
}

func TestNilLogIsSilent(t *testing.T) {
	var l *Log
	l.UseWritable(nil)
	l.Record(context.Background(), "d", "t", "c", nil)
	l.Prune(context.Background())
	l.KeepPruned(context.Background()) // returns at once
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}
