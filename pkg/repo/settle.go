package repo

import (
	"context"
	"time"
)

// Settle waits until no proxy has a download in flight, or ctx ends. A
// client gets a proxied blob before it is stored (its last bytes wait for
// the digest, not for the fsync), so shutdown settles before the process
// exits: what clients already have is then in the cache too.
func (m *Manager) Settle(ctx context.Context) error {
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
