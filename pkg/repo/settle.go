package repo

import (
	"context"
	"time"
)

// Settle waits until no proxy has a download in flight, or ctx ends, and
// then writes the download times not yet written (FlushDownloads). A
// client gets a proxied blob before it is stored (its last bytes wait for
// the digest, not for the fsync), so shutdown settles before the process
// exits: what clients already have is then in the cache too, with when
// they had it.
func (m *Manager) Settle(ctx context.Context) error {
	defer func() {
		if err := m.FlushDownloads(); err != nil {
			m.opts.Log.Error("record download times", "err", err)
		}
	}()
	for {
		busy := false
		for _, r := range m.List() {
			if p, ok := r.(*proxyRepo); ok && p.downloading() {
				busy = true
				break
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// downloading reports whether a download of p is in flight.
func (p *proxyRepo) downloading() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inflight) > 0
}
