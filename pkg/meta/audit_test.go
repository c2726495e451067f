package meta

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var auditT0 = time.Date(2026, 12, 3, 14, 0, 0, 123_456_789, time.UTC)

// appendN appends n records of domain d, a second apart from at, and
// returns the JSON lines committed reported.
func appendN(t *testing.T, db *DB, n int, d string, at time.Time) []string {
	t.Helper()
	var lines []string
	for i := range n {
		rec := &AuditRecord{Timestamp: at.Add(time.Duration(i) * time.Second), NodeID: "N", Initiator: "admin/127.0.0.1",
			Domain: d, Type: "created", Context: fmt.Sprint(i), Attributes: map[string]string{"i": fmt.Sprint(i)}}
		if err := db.AppendAudit(rec, func(line []byte) { lines = append(lines, string(line)) }); err != nil {
			t.Fatal(err)
		}
	}
	return lines
}

func TestAuditAppendShapeAndNodeID(t *testing.T) {
	db, path := openAssetsDB(t)
	node, err := db.NodeID()
	if err != nil || len(node) != 36 || strings.ToUpper(node) != node {
		t.Fatalf("NodeID = %q, %v; want an upper-case UUID", node, err)
	}
	lines := appendN(t, db, 1, "security.user", auditT0)
	want := `{"timestamp":"2026-12-03T14:00:00.123Z","nodeId":"N","initiator":"admin/127.0.0.1","domain":"security.user","type":"created","context":"0","attributes":{"i":"0"}}`
	if len(lines) != 1 || lines[0] != want {
		t.Fatalf("committed line = %q\nwant %q", lines, want)
	}
	var back AuditRecord
	if err := json.Unmarshal([]byte(lines[0]), &back); err != nil || !back.Timestamp.Equal(auditT0.Truncate(time.Millisecond)) || back.Attributes["i"] != "0" {
		t.Errorf("decoded %+v, %v", back, err)
	}
	// The node ID stays across a reopen.
	db.Close()
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if again, _ := db2.NodeID(); again != node {
		t.Errorf("NodeID after reopen = %q, want %q", again, node)
	}
	recs, _, err := db2.AuditRecords(AuditQuery{Limit: 10})
	if err != nil || len(recs) != 1 || recs[0].Seq != 1 {
		t.Errorf("after reopen: %+v, %v", recs, err)
	}
}

// Concurrent appends share commits, get distinct sequence numbers, and
// reach committed in their order; no timestamp goes back in that order.
func TestAuditConcurrentAppendsInOrder(t *testing.T) {
	db, _ := openAssetsDB(t)
	var mu sync.Mutex
	var seqs []uint64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Times out of order: later goroutines may carry earlier times.
			rec := &AuditRecord{Timestamp: auditT0.Add(time.Duration(40-i) * time.Millisecond), Domain: "d", Type: "t"}
			err := db.AppendAudit(rec, func([]byte) {
				mu.Lock()
				defer mu.Unlock()
				seqs = append(seqs, rec.Seq)
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(seqs) != 40 || !slices.IsSorted(seqs) || seqs[0] != 1 || seqs[39] != 40 {
		t.Fatalf("committed saw sequence numbers %v, want 1..40 in order", seqs)
	}
	recs, _, err := db.AuditRecords(AuditQuery{Limit: 100})
	if err != nil || len(recs) != 40 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Seq != recs[i-1].Seq-1 || recs[i].Timestamp.After(recs[i-1].Timestamp) {
			t.Fatalf("records %d and %d out of order: %+v %+v", i-1, i, recs[i-1], recs[i])
		}
	}
}

func TestAuditPaging(t *testing.T) {
	db, _ := openAssetsDB(t)
	appendN(t, db, 5, "a", auditT0)
	appendN(t, db, 5, "b", auditT0.Add(time.Hour))
	// Newest first, 4 a page: 10..7, 6..3, 2..1.
	var got []uint64
	var before uint64
	for page := 0; ; page++ {
		recs, more, err := db.AuditRecords(AuditQuery{Before: before, Limit: 4})
		if err != nil || page > 3 {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, r := range recs {
			got = append(got, r.Seq)
		}
		if !more {
			break
		}
		before = recs[len(recs)-1].Seq
	}
	if want := []uint64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	// A filter, and since: only b's records from the hour on.
	recs, more, err := db.AuditRecords(AuditQuery{Limit: 10, Match: func(r *AuditRecord) bool { return r.Domain == "a" }})
	if err != nil || len(recs) != 5 || more || recs[0].Seq != 5 {
		t.Errorf("domain a: %d records (more %v), %v", len(recs), more, err)
	}
	recs, more, err = db.AuditRecords(AuditQuery{Limit: 3, Since: auditT0.Truncate(time.Millisecond).Add(time.Hour + 2*time.Second)})
	if err != nil || len(recs) != 3 || more || recs[2].Seq != 8 {
		t.Errorf("since: %+v (more %v), %v", recs, more, err)
	}
	// A token of a record pruned since still pages on below it.
	recs, _, err = db.AuditRecords(AuditQuery{Before: 99, Limit: 1})
	if err != nil || len(recs) != 1 || recs[0].Seq != 10 {
		t.Errorf("before a seq past the newest: %+v, %v", recs, err)
	}
}

func TestAuditPruneByAge(t *testing.T) {
	db, _ := openAssetsDB(t)
	appendN(t, db, pruneBatch+5, "old", auditT0)
	appendN(t, db, 3, "new", auditT0.Add(48*time.Hour))
	n, err := db.PruneAudit(auditT0.Add(24 * time.Hour))
	if err != nil || n != pruneBatch+5 {
		t.Fatalf("PruneAudit = %d, %v; want %d", n, err, pruneBatch+5)
	}
	recs, _, err := db.AuditRecords(AuditQuery{Limit: 10})
	if err != nil || len(recs) != 3 || recs[2].Domain != "new" {
		t.Fatalf("left: %+v, %v", recs, err)
	}
	if n, err := db.PruneAudit(auditT0.Add(24 * time.Hour)); err != nil || n != 0 {
		t.Errorf("second prune = %d, %v", n, err)
	}
	// Numbering goes on after pruning: a continuation token never names
	// two records.
	appendN(t, db, 1, "later", auditT0.Add(49*time.Hour))
	if recs, _, _ := db.AuditRecords(AuditQuery{Limit: 1}); recs[0].Seq != pruneBatch+9 {
		t.Errorf("seq after pruning = %d, want %d", recs[0].Seq, pruneBatch+9)
	}
}
