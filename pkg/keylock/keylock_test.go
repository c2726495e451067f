package keylock

import (
	"sync"
	"testing"
)

func TestLockExcludesPerKeyAndForgetsUnusedKeys(t *testing.T) {
	var k Map
	var wg sync.WaitGroup
	keys := []string{"a", "b", "c"}
	counts := make([]int, len(keys)) // one per key: only a key's lock guards it
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := k.Lock(keys[i%3])
			counts[i%3]++ // a data race here if a key did not exclude (run with -race)
			unlock()
		}()
	}
	wg.Wait()
	if counts[0]+counts[1]+counts[2] != 200 {
		t.Fatalf("counts = %v", counts)
	}
	if n := k.Len(); n != 0 {
		t.Fatalf("%d keys kept after every unlock, want 0", n)
	}
}

func TestDifferentKeysDoNotContend(t *testing.T) {
	var k Map
	unlockA := k.Lock("a")
	done := make(chan struct{})
	go func() {
		k.Lock("b")()
		close(done)
	}()
	<-done // would hang if "b" waited for "a"
	unlockA()
}
