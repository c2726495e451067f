package repo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// Health probes the metadata database's writability at most once per
// probeInterval, however many callers ask (concurrently too), and reports
// the remembered result, failure included, with the time it was taken.
func TestHealthProbesOncePerInterval(t *testing.T) {
	fx := newServiceFixture(t)
	var probes atomic.Int32
	var failing atomic.Bool
	fx.m.probe.probe = func() error {
		probes.Add(1)
		if failing.Load() {
			return errors.New("disk gone")
		}
		return fx.db.Writable()
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := testclock.New(t0)
	fx.m.probe.now = clk.Now
	advance := clk.Advance
	metadata := func() HealthCheck {
		t.Helper()
		checks, err := fx.m.Health(fx.admin)
		if err != nil || len(checks) != 4 || checks[0].Name != "Metadata Database" {
			t.Fatalf("Health = %+v, %v", checks, err)
		}
		return checks[0]
	}

	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() { defer wg.Done(); fx.m.Health(fx.admin) }()
	}
	wg.Wait()
	if n := probes.Load(); n != 1 {
		t.Fatalf("%d probes for 16 concurrent checks, want 1", n)
	}
	advance(probeInterval - time.Millisecond)
	failing.Store(true)
	if c := metadata(); !c.Healthy || !c.Start.Equal(t0) || probes.Load() != 1 {
		t.Fatalf("within the interval: %+v after %d probes; want the first probe's result", c, probes.Load())
	}
	advance(time.Millisecond)
	if c := metadata(); c.Healthy || c.Message != "metadata database is not writable" || !c.Start.Equal(t0.Add(probeInterval)) || probes.Load() != 2 {
		t.Fatalf("after the interval: %+v after %d probes; want a new, failed probe", c, probes.Load())
	}
	failing.Store(false)
	advance(probeInterval / 2)
	if c := metadata(); c.Healthy || probes.Load() != 2 {
		t.Fatalf("a failure is remembered for the interval too: %+v after %d probes", c, probes.Load())
	}
	advance(probeInterval)
	if c := metadata(); !c.Healthy || probes.Load() != 3 {
		t.Fatalf("recovery: %+v after %d probes", c, probes.Load())
	}
	advance(-time.Hour) // a clock set back probes again rather than trust a future result
	if metadata(); probes.Load() != 4 {
		t.Fatalf("%d probes after the clock went back, want 4", probes.Load())
	}
}

// While frozen, Health reports the metadata database read-only without
// probing it: the probe is a write.
func TestHealthFrozenDoesNotProbe(t *testing.T) {
	fx := newServiceFixture(t)
	var probes atomic.Int32
	fx.m.probe.probe = func() error { probes.Add(1); return nil }
	if err := fx.m.SetReadOnly(fx.admin, true); err != nil {
		t.Fatal(err)
	}
	checks, err := fx.m.Health(fx.admin)
	if err != nil {
		t.Fatal(err)
	}
	if c := checks[0]; c.Healthy || c.Message != "the server is read-only: writes are refused until it is released" {
		t.Errorf("frozen metadata check = %+v", c)
	}
	if err := fx.m.CheckWritable(); errs.KindOf(err) != errs.Unavailable {
		t.Errorf("CheckWritable while frozen = %v, want 503", err)
	}
	if n := probes.Load(); n != 0 {
		t.Errorf("%d probes while frozen, want none", n)
	}
}
