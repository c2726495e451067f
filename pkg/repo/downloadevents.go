package repo

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

const (
	// downloadEventDelay is how long a download event waits in memory
	// for others to be recorded with it in one transaction.
	downloadEventDelay = 250 * time.Millisecond
	// maxPendingDownloadEvents bounds the events held while they cannot
	// be written (read-only, a failing disk); later ones are dropped.
	maxPendingDownloadEvents = 100000
)

// downloadEvents records an event for each asset served to a client,
// while a webhook asks for them (meta.DB.WantsDownloads). A download
// changes nothing, so its event need not share a transaction: events are
// batched in memory and written together, in the order served, so that
// serving waits for no write.
type downloadEvents struct {
	db     *meta.DB
	frozen *readOnly
	log    *slog.Logger

	// flushing is held by a flush from start to end, so that shutdown's
	// waits for the timer's.
	flushing sync.Mutex

	mu      sync.Mutex
	pending []meta.DownloadEvent
	dropped int
	timer   *time.Timer
}

func newDownloadEvents(db *meta.DB, frozen *readOnly, log *slog.Logger) *downloadEvents {
	return &downloadEvents{db: db, frozen: frozen, log: log}
}

// record notes that ctx's caller was served asset a.
func (d *downloadEvents) record(ctx context.Context, a *meta.Asset) {
	if !d.db.WantsDownloads() {
		return
	}
	served := *a
	ev := meta.DownloadEvent{Asset: &served, Initiator: audit.Initiator(ctx), At: time.Now()}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pending) >= maxPendingDownloadEvents {
		d.dropped++
		return
	}
	d.pending = append(d.pending, ev)
	d.arm()
}

// arm schedules a flush, unless one is; d.mu is held.
func (d *downloadEvents) arm() {
	if d.timer == nil {
		d.timer = time.AfterFunc(downloadEventDelay, func() {
			if err := d.flush(); err != nil {
				d.log.Error("record download events", "err", err)
			}
		})
	}
}

// flush writes the pending events in one transaction. On failure, or
// while the server is read-only, they stay pending and another flush is
// scheduled.
func (d *downloadEvents) flush() error {
	d.flushing.Lock()
	defer d.flushing.Unlock()
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.dropped > 0 {
		d.log.Warn("download events dropped: too many could not be written", "dropped", d.dropped)
		d.dropped = 0
	}
	if len(d.pending) == 0 || d.frozen.refuseFrozen() != nil {
		if len(d.pending) > 0 {
			d.arm()
		}
		d.mu.Unlock()
		return nil
	}
	batch := d.pending
	d.pending = nil
	d.mu.Unlock()
	err := d.db.RecordDownloadEvents(batch)
	if err != nil {
		d.mu.Lock()
		d.pending = append(batch, d.pending...)
		d.arm()
		d.mu.Unlock()
	}
	return err
}
