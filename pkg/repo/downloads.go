package repo

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

const (
	// downloadInterval is how often at most an asset's LastDownloaded is
	// written: a hot asset costs one write an hour, not one a download.
	downloadInterval = time.Hour
	// downloadFlushDelay is how long a recorded download waits in memory
	// before the batch it is in is written.
	downloadFlushDelay = time.Minute
)

// downloads batches the download times of served assets in memory and
// writes each batch in one transaction, at most downloadFlushDelay after
// its first download and at shutdown (Manager.Settle). While the server
// is read-only, downloads are not recorded and the batch waits.
type downloads struct {
	db     *meta.DB
	frozen *readOnly
	log    *slog.Logger
	now    func() time.Time // the clock; tests set theirs

	// flushing is held by a flush from start to end, so that shutdown's
	// waits for the timer's and writes what it put back.
	flushing sync.Mutex

	mu      sync.Mutex
	pending map[downloadKey]time.Time
	// written are the assets written less than downloadInterval ago, so
	// that serving them again adds nothing to the batch.
	written map[downloadKey]time.Time
	timer   *time.Timer // the flush of pending, nil when none is due
}

type downloadKey struct{ repo, path string }

func newDownloads(db *meta.DB, frozen *readOnly, log *slog.Logger) *downloads {
	return &downloads{db: db, frozen: frozen, log: log, now: time.Now,
		pending: map[downloadKey]time.Time{}, written: map[downloadKey]time.Time{}}
}

// record notes that asset a was served now. An asset whose stored time
// is recent enough, or that is already noted, adds nothing.
func (d *downloads) record(a *meta.Asset) {
	now := d.now()
	if now.Sub(a.LastDownloaded) < downloadInterval || d.frozen.refuseFrozen() != nil {
		return
	}
	k := downloadKey{a.Repository, a.Path}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pending[k]; ok {
		return
	}
	if t, ok := d.written[k]; ok && now.Sub(t) < downloadInterval {
		return
	}
	d.pending[k] = now
	d.arm()
}

// arm schedules a flush of what is pending, unless one is; d.mu is held.
func (d *downloads) arm() {
	if d.timer == nil {
		d.timer = time.AfterFunc(downloadFlushDelay, func() {
			if err := d.flush(); err != nil {
				d.log.Error("record download times", "err", err)
			}
		})
	}
}

// flush writes the pending download times in one transaction. On failure,
// or while frozen, they stay pending, and another flush is scheduled.
func (d *downloads) flush() error {
	d.flushing.Lock()
	defer d.flushing.Unlock()
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.frozen.refuseFrozen() != nil {
		if len(d.pending) > 0 {
			d.arm()
		}
		d.mu.Unlock()
		return nil
	}
	batch := d.pending
	d.pending = map[downloadKey]time.Time{}
	d.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	ds := make([]meta.Download, 0, len(batch))
	for k, t := range batch {
		ds = append(ds, meta.Download{Repository: k.repo, Path: k.path, At: t})
	}
	_, err := d.db.RecordDownloads(ds, downloadInterval)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		for k, t := range batch {
			if _, newer := d.pending[k]; !newer {
				d.pending[k] = t
			}
		}
		d.arm()
		return err
	}
	now := d.now()
	for k, t := range d.written {
		if now.Sub(t) >= downloadInterval {
			delete(d.written, k)
		}
	}
	for k, t := range batch {
		d.written[k] = t
	}
	return nil
}

// downloaded is the Content.Downloaded of asset a: its LastDownloaded,
// and its download event.
func (b *base) downloaded(a *meta.Asset) func(context.Context) {
	return func(ctx context.Context) {
		b.downloads.record(a)
		b.downloadEvents.record(ctx, a)
	}
}

// DownloadOf is the Content.Downloaded of asset a of r, for content a
// format builds itself from an asset it found with Stat (a manifest it
// keeps in memory); nil for a repository that records none.
func DownloadOf(r Repository, a *meta.Asset) func(context.Context) {
	if d, ok := r.(interface {
		downloaded(*meta.Asset) func(context.Context)
	}); ok {
		return d.downloaded(a)
	}
	return nil
}

// FlushDownloads writes the download times recorded and not yet written,
// in one transaction, and the download events not yet recorded (shutdown
// does, through Settle).
func (m *Manager) FlushDownloads() error {
	return errors.Join(m.downloads.flush(), m.downloadEvents.flush())
}
