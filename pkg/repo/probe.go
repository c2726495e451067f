package repo

import (
	"sync"
	"time"
)

// probeInterval is how long a writability probe of the metadata database
// answers for: a dashboard's views and health checks then cost one write
// transaction (with its fsync) per interval, however often they come.
const probeInterval = 10 * time.Second

// writeProbe runs probe at most once per probeInterval and remembers its
// result; callers arriving during a probe wait for it and share it.
type writeProbe struct {
	probe func() error
	now   func() time.Time // the clock; tests set theirs

	mu    sync.Mutex
	start time.Time // of the last probe; zero before the first
	took  time.Duration
	err   error
}

// result returns the last probe's start, duration and outcome, probing
// first when there was none within probeInterval (or the clock went back).
func (p *writeProbe) result() (time.Time, time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if age := now.Sub(p.start); p.start.IsZero() || age >= probeInterval || age < 0 {
		p.err = p.probe()
		p.start, p.took = now, p.now().Sub(now)
	}
	return p.start, p.took, p.err
}
