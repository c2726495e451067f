package docker

import (
	"hash/maphash"
	"sync"
	"time"
)

const (
	// recentShards spreads touches over this many locks, so concurrent
	// blob requests rarely contend.
	recentShards = 64
	// recentLimit bounds the links remembered, over all shards.
	recentLimit = 100000
)

// recentSet remembers the blob links clients were recently told exist
// (key: repository + "\x00" + link path), so layer collection leaves them
// alone for the grace period. A touch is O(1): each shard keeps two
// generations and, once the current one is a grace period old, drops the
// previous and starts a new one, so no touch ever sweeps. A link touched
// at t is in the current or the previous generation until at least
// t+grace, and its time says exactly whether it is still recent.
//
// A full shard does not forget: it records that it overflowed, and every
// link of that shard counts as recent for the grace period after the last
// overflow. Collection errs on the safe side (an unreferenced link lives at
// most a grace period longer) and memory stays bounded.
type recentSet struct {
	grace  time.Duration
	seed   maphash.Seed
	shards [recentShards]recentShard
}

type recentShard struct {
	mu         sync.Mutex
	started    time.Time // of the current generation
	current    map[string]time.Time
	previous   map[string]time.Time
	overflowed time.Time // last touch refused for lack of room
	_          [64]byte  // keeps neighbouring shards' locks off one cache line
}

func newRecentSet(grace time.Duration) *recentSet {
	return &recentSet{grace: grace, seed: maphash.MakeSeed()}
}

func (s *recentSet) shard(key string) *recentShard {
	return &s.shards[maphash.String(s.seed, key)%recentShards]
}

// touch records that key was used at now.
func (s *recentSet) touch(key string, now time.Time) {
	if s.grace <= 0 {
		return // nothing is ever recent
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.rotate(now, s.grace)
	if _, ok := sh.current[key]; !ok && len(sh.current)+len(sh.previous) >= recentLimit/recentShards {
		sh.overflowed = now
		return
	}
	sh.current[key] = now
}

// rotate starts a new generation once the current one is a grace period
// old; links of the dropped one are at least a grace period old.
func (sh *recentShard) rotate(now time.Time, grace time.Duration) {
	age := now.Sub(sh.started)
	switch {
	case sh.current == nil || age >= 2*grace:
		sh.previous, sh.current, sh.started = nil, map[string]time.Time{}, now
	case age >= grace:
		sh.previous, sh.current, sh.started = sh.current, map[string]time.Time{}, now
	}
}

// recent reports whether key was touched less than a grace period before
// now, or may have been (its shard overflowed within the grace period).
func (s *recentSet) recent(key string, now time.Time) bool {
	if s.grace <= 0 {
		return false
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !sh.overflowed.IsZero() && now.Sub(sh.overflowed) < s.grace {
		return true
	}
	at, ok := sh.current[key]
	if !ok {
		at, ok = sh.previous[key]
	}
	return ok && now.Sub(at) < s.grace
}
