package meta

import (
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Download events: an asset served changes nothing, so there is no
// transaction its event belongs in. Served downloads wait in a queue in
// memory, in the order served, and are written either by FlushDownloadEvents
// (pkg/repo calls it shortly after) or first thing in the transaction of
// the next change that records an event, so that the outbox keeps
// downloads and changes in the order they happened.

// DownloadEvent is one asset served to a client.
type DownloadEvent struct {
	Asset     *Asset
	Initiator string
	At        time.Time
}

// maxQueuedDownloads bounds the queue while nothing can write it (the
// server read-only, a failing disk): later downloads are not queued.
const maxQueuedDownloads = 100000

type downloadQueue struct {
	mu      sync.Mutex
	pending []DownloadEvent
	// writtenIn is the write transaction that has written pending, so
	// that a second event in it does not write them again. Write
	// transactions are serial, so one is enough.
	writtenIn *bolt.Tx
}

// downloadQueues finds a database's queue from a transaction, which is
// all recordEvent has.
var downloadQueues sync.Map // *bolt.DB → *downloadQueue

func openDownloadQueue(b *bolt.DB) *downloadQueue {
	q := &downloadQueue{}
	downloadQueues.Store(b, q)
	return q
}

func closeDownloadQueue(b *bolt.DB) { downloadQueues.Delete(b) }

// WantsDownloads reports whether some webhook asks for download events.
func (db *DB) WantsDownloads() bool { return db.downloadHooks.Load() }

// QueueDownload queues d to be recorded as an event (its caller asks
// WantsDownloads first); false when the queue is full.
func (db *DB) QueueDownload(d DownloadEvent) bool {
	q := db.downloads
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) >= maxQueuedDownloads {
		return false
	}
	q.pending = append(q.pending, d)
	return true
}

// QueuedDownloads is how many download events wait to be written.
func (db *DB) QueuedDownloads() int {
	q := db.downloads
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// FlushDownloadEvents writes the queued download events in one
// transaction; with none queued it writes nothing.
func (db *DB) FlushDownloadEvents() error {
	if db.QueuedDownloads() == 0 {
		return nil
	}
	return db.bolt.Update(writeQueuedDownloads)
}

// writeQueuedDownloads records the queued downloads as events in tx. They
// leave the queue when tx commits; rolled back, they stay queued.
func writeQueuedDownloads(tx *bolt.Tx) error {
	v, ok := downloadQueues.Load(tx.DB())
	if !ok {
		return nil
	}
	q := v.(*downloadQueue)
	q.mu.Lock()
	if q.writtenIn == tx {
		q.mu.Unlock()
		return nil
	}
	batch := slices.Clone(q.pending)
	q.writtenIn = tx
	q.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	for _, d := range batch {
		ev := Event{Type: EventDownload, Action: ActionDownloaded, Repository: d.Asset.Repository,
			Initiator: d.Initiator, Asset: d.Asset, Time: d.At.UTC()}
		if err := appendEvent(tx, ev); err != nil {
			return err
		}
	}
	tx.OnCommit(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		// What was queued during tx stays, for the next.
		q.pending = slices.Delete(q.pending, 0, len(batch))
	})
	return nil
}

// noteDownloadHooks sets WantsDownloads from the stored webhooks; every
// change of a webhook calls it.
func (db *DB) noteDownloadHooks() error {
	ws, err := db.Webhooks()
	want := slices.ContainsFunc(ws, func(w Webhook) bool { return slices.Contains(w.EventTypes, EventDownload) })
	db.downloadHooks.Store(want)
	return err
}
