package meta

import (
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// committer groups concurrent independent writes into one bbolt
// transaction, so that they share its commit and fsync. Unlike bolt's
// Batch it never waits for company: a write that finds no commit running
// starts one at once, and the writes that arrive meanwhile queue and go
// together in the next.
type committer struct {
	mu      sync.Mutex
	queue   []*pendingWrite
	running bool
}

type pendingWrite struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// batch runs fn in a write transaction, possibly shared with other
// batched writes, and returns fn's error or the commit's. fn may run more
// than once (when another write of its group fails, the group is rolled
// back and run again without it), so it must reset whatever it records
// outside the transaction each time it starts. A write that fails in a
// group is run again alone, so its error is its own.
func (db *DB) batch(fn func(*bolt.Tx) error) error {
	w := &pendingWrite{fn: fn, done: make(chan error, 1)}
	c := &db.commits
	c.mu.Lock()
	c.queue = append(c.queue, w)
	lead := !c.running
	if lead {
		c.running = true
		c.queue = nil
	}
	c.mu.Unlock()
	if lead {
		db.commitGroups([]*pendingWrite{w})
	}
	return <-w.done
}

// commitGroups commits group, then hands the writes queued meanwhile to a
// new goroutine, so that the caller that led this commit returns at once.
func (db *DB) commitGroups(group []*pendingWrite) {
	db.commitGroup(group)
	c := &db.commits
	c.mu.Lock()
	next := c.queue
	c.queue = nil
	c.running = len(next) > 0
	c.mu.Unlock()
	if len(next) > 0 {
		go db.commitGroups(next)
	}
}

// commitGroup runs the writes in one transaction and tells each the
// outcome. If one fails, everything is rolled back: it runs again alone,
// and the others again together.
func (db *DB) commitGroup(group []*pendingWrite) {
	failed := -1
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i, w := range group {
			if err := runWrite(w.fn, tx); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if failed < 0 {
		for _, w := range group {
			w.done <- err // nil, or the commit's own failure
		}
		return
	}
	if len(group) == 1 {
		group[0].done <- err
		return
	}
	alone := group[failed]
	alone.done <- db.bolt.Update(func(tx *bolt.Tx) error { return runWrite(alone.fn, tx) })
	db.commitGroup(append(group[:failed:failed], group[failed+1:]...))
}

// runWrite runs fn, turning a panic into its error: fn may run on a
// goroutine of the committer, where a panic would end the process.
func runWrite(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errs.New(errs.Internal, "metadata write panicked: %v", p)
		}
	}()
	return fn(tx)
}
