package repo

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// downloadEventDelay is how long a download event waits in the queue for
// others to be written with it in one transaction.
const downloadEventDelay = 250 * time.Millisecond

// downloadEvents queues an event for each asset served to a client while
// a webhook asks for them (meta.DB.QueueDownload), so that serving waits
// for no write, and writes the queue downloadEventDelay after its first
// event, unless a change wrote it first (see meta's download events).
// While the server is read-only the queue waits.
type downloadEvents struct {
	db     *meta.DB
	frozen *readOnly
	log    *slog.Logger

	mu      sync.Mutex
	timer   *time.Timer // the next flush, nil when none is due
	dropped int         // downloads the full queue refused since the last flush
}

func newDownloadEvents(db *meta.DB, frozen *readOnly, log *slog.Logger) *downloadEvents {
	return &downloadEvents{db: db, frozen: frozen, log: log}
}

// record queues the event of ctx's caller being served asset a.
func (d *downloadEvents) record(ctx context.Context, a *meta.Asset) {
	if !d.db.WantsDownloads() {
		return
	}
	served := *a
	queued := d.db.QueueDownload(meta.DownloadEvent{Asset: &served, Initiator: audit.Initiator(ctx), At: time.Now()})
	d.mu.Lock()
	defer d.mu.Unlock()
	if !queued {
		d.dropped++
	}
	d.arm()
}

// arm schedules a flush, unless one is due; d.mu is held.
func (d *downloadEvents) arm() {
	if d.timer == nil {
		d.timer = time.AfterFunc(downloadEventDelay, func() {
			if err := d.flush(); err != nil {
				d.log.Error("record download events", "err", err)
			}
		})
	}
}

// flush writes the queued events. On failure, or while the server is
// read-only, they stay queued and another flush is scheduled.
func (d *downloadEvents) flush() error {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.dropped > 0 {
		d.log.Warn("download events dropped: too many could not be written", "dropped", d.dropped)
		d.dropped = 0
	}
	d.mu.Unlock()
	var err error
	if d.frozen.refuseFrozen() == nil {
		err = d.db.FlushDownloadEvents()
	}
	if d.db.QueuedDownloads() > 0 {
		d.mu.Lock()
		d.arm()
		d.mu.Unlock()
	}
	return err
}
