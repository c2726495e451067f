package keylock

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// within fails the test when fn does not return in time, rather than let
// a lock that never comes free hang the test binary.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %s", what, d)
	}
}

func TestLockExcludesPerKeyAndForgetsUnusedKeys(t *testing.T) {
	var k Map
	keys := []string{"a", "b", "c"}
	var holders [3]atomic.Int32 // holding each key now
	var most [3]atomic.Int32    // the most ever holding it at once
	within(t, 10*time.Second, "200 lock holders", func() {
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := i % 3
				unlock := k.Lock(keys[key])
				n := holders[key].Add(1)
				for {
					m := most[key].Load()
					if n <= m || most[key].CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(50 * time.Microsecond) // let a broken lock admit another holder
				holders[key].Add(-1)
				unlock()
			}()
		}
		wg.Wait()
	})
	for i := range most {
		if n := most[i].Load(); n != 1 {
			t.Errorf("key %s: %d holders at once, want 1", keys[i], n)
		}
	}
	if n := k.Len(); n != 0 {
		t.Fatalf("%d keys kept after every unlock, want 0", n)
	}
}

func TestDifferentKeysDoNotContend(t *testing.T) {
	var k Map
	unlockA := k.Lock("a")
	defer unlockA()
	within(t, 5*time.Second, `locking "b" while "a" is held`, func() { k.Lock("b")() })
}

func TestSameKeyWaitsForUnlock(t *testing.T) {
	var k Map
	unlock := k.Lock("a")
	got := make(chan struct{})
	go func() {
		k.Lock("a")()
		close(got)
	}()
	select {
	case <-got:
		t.Fatal(`a second Lock("a") returned while the first was held`)
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal(`Lock("a") still waiting 5s after the unlock`)
	}
}
