package docker

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestRecentSetGrace(t *testing.T) {
	t.Parallel()
	const grace = time.Hour
	s := newRecentSet(grace)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.touch("a", t0)
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {grace - time.Second, true}, {grace, false}, {3 * grace, false}} {
		if got := s.recent("a", t0.Add(c.at)); got != c.want {
			t.Errorf("recent %v after touch = %v, want %v", c.at, got, c.want)
		}
	}
	if s.recent("b", t0) {
		t.Error("a link never touched is recent")
	}

	// A link touched just before the generation turns over stays recent
	// for its whole grace period, in the previous generation.
	s.touch("b", t0.Add(grace-time.Minute))
	s.touch("c", t0.Add(grace+time.Minute)) // rotates: b moves to previous
	if !s.recent("b", t0.Add(2*grace-2*time.Minute)) {
		t.Error("a link touched before the rotation is forgotten within its grace period")
	}
	// A second rotation drops it, and it was a grace period old by then.
	s.touch("d", t0.Add(2*grace+2*time.Minute))
	if s.recent("b", t0.Add(2*grace+2*time.Minute)) {
		t.Error("a link older than the grace period is recent")
	}
	// Touching again renews the grace period.
	s.touch("c", t0.Add(2*grace))
	if !s.recent("c", t0.Add(3*grace-time.Second)) {
		t.Error("a renewed link is not recent")
	}

	// No grace: nothing is remembered.
	none := newRecentSet(0)
	none.touch("a", t0)
	if none.recent("a", t0) {
		t.Error("recent with no grace period")
	}
}

func TestRecentSetBounded(t *testing.T) {
	t.Parallel()
	const grace = time.Hour
	s := newRecentSet(grace)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2 * recentLimit {
		s.touch(strconv.Itoa(i), t0)
	}
	held := 0
	for i := range s.shards {
		held += len(s.shards[i].current) + len(s.shards[i].previous)
	}
	if held > recentLimit {
		t.Fatalf("holds %d links, limit %d", held, recentLimit)
	}
	// Beyond the bound, every link of an overflowed shard is kept for the
	// grace period (collection errs on the safe side), then forgotten.
	for i := range 2 * recentLimit {
		if !s.recent(strconv.Itoa(i), t0.Add(grace-time.Second)) {
			t.Fatalf("link %d touched within the grace period is not recent", i)
		}
	}
	if s.recent("never", t0.Add(grace)) || s.recent("0", t0.Add(grace)) {
		t.Error("links still recent a grace period after the overflow")
	}
}

// BenchmarkTouch compares parallel touches (each of a new link) on an empty
// set with those on a set already holding recentLimit links, all within
// the grace period.
func BenchmarkTouch(b *testing.B) {
	for _, prefill := range []int{0, recentLimit} {
		b.Run("prefill="+strconv.Itoa(prefill), func(b *testing.B) {
			s := newRecentSet(time.Hour)
			now := time.Now()
			for i := range prefill {
				s.touch("docker-h\x00v2/team/app/blobs/old"+strconv.Itoa(i), now)
			}
			keys := make([]string, 1<<16)
			for i := range keys {
				keys[i] = "docker-h\x00v2/team/app/blobs/sha256:" + strconv.Itoa(i)
			}
			var n atomic.Uint64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := n.Add(1 << 12)
				for pb.Next() {
					s.touch(keys[i%uint64(len(keys))], time.Now())
					i++
				}
			})
		})
	}
}
