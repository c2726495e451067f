package tasks

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// testTypes are a task that counts its runs, one that fails, and one that
// blocks until stopped (or released).
type testTypes struct {
	runs    chan string
	release chan struct{}
}

func newTestTypes() *testTypes {
	return &testTypes{runs: make(chan string, 10), release: make(chan struct{})}
}

func (tt *testTypes) types() []Type {
	return []Type{
		{ID: "count", Name: "Count", Run: func(_ context.Context, t *Task) (string, error) {
			tt.runs <- t.ID
			return "counted", nil
		}},
		{ID: "fail", Name: "Fail", Run: func(context.Context, *Task) (string, error) {
			return "", errs.New(errs.Invalid, "nothing to do")
		}},
		{ID: "block", Name: "Block", Run: func(ctx context.Context, t *Task) (string, error) {
			tt.runs <- t.ID
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-tt.release:
				return "released", nil
			}
		}},
	}
}

func newService(t *testing.T, db *meta.DB, clock *testclock.Clock, tt *testTypes, defaults []Settings) *Service {
	t.Helper()
	s, err := New(db, repotest.AllowAll{}, slog.New(slog.DiscardHandler), clock.Now, defaults, tt.types()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Wait)
	return s
}

// waitResult waits for task id's run to be recorded with a result.
func waitResult(t *testing.T, s *Service, id string) Status {
	t.Helper()
	var st Status
	repotest.Within(t, 5*time.Second, "task result", func() {
		for {
			var err error
			if st, err = s.Get(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			if st.State == StateWaiting && st.LastRunResult != "" {
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	return st
}

// Each default task is created once, also one a later release adds.
func TestDefaultTasksCreatedOnce(t *testing.T) {
	db := repotest.NewStorage(t).DB
	clock := testclock.New(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	tt := newTestTypes()
	defaults := []Settings{{Type: "count", Name: "Daily count", Enabled: true,
		Frequency: &Frequency{Schedule: Cron, CronExpression: "0 0 1 * * ?"}}}
	s := newService(t, db, clock, tt, defaults)
	list, _ := s.List(context.Background(), "")
	if len(list) != 1 || list[0].Name != "Daily count" || list[0].State != StateWaiting {
		t.Fatalf("default tasks %+v", list)
	}
	if want := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC); !list[0].NextRun.Equal(want) {
		t.Errorf("next run %v, want %v", list[0].NextRun, want)
	}
	if err := s.Delete(context.Background(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	again := newService(t, db, clock, tt, defaults)
	if list, _ := again.List(context.Background(), ""); len(list) != 0 {
		t.Fatalf("a deleted default task came back: %+v", list)
	}
	// A default a later release adds is created in an existing data
	// directory; the deleted one still stays away.
	later := append(defaults, Settings{Type: "fail", Name: "Daily failure", Enabled: true,
		Frequency: &Frequency{Schedule: Manual}})
	upgraded := newService(t, db, clock, tt, later)
	if list, _ := upgraded.List(context.Background(), ""); len(list) != 1 || list[0].Name != "Daily failure" {
		t.Fatalf("after an upgrade that adds a default: %+v", list)
	}
}

// A cron task runs when its time comes, records its result and duration
// (persisted), and is planned again.
func TestTaskRunsWhenDue(t *testing.T) {
	db := repotest.NewStorage(t).DB
	clock := testclock.New(time.Date(2026, 12, 2, 0, 59, 0, 0, time.UTC))
	tt := newTestTypes()
	s := newService(t, db, clock, tt, nil)
	st, err := s.Create(context.Background(), Settings{Type: "count", Name: "nightly", Enabled: true,
		Frequency: &Frequency{Schedule: Cron, CronExpression: "0 0 1 * * ?"}})
	if err != nil {
		t.Fatal(err)
	}
	s.RunDue()
	select {
	case <-tt.runs:
		t.Fatal("ran before its time")
	default:
	}
	clock.Advance(time.Minute)
	s.RunDue()
	if id := <-tt.runs; id != st.ID {
		t.Fatalf("ran %s", id)
	}
	done := waitResult(t, s, st.ID)
	if done.LastRunResult != ResultOK || done.Message != "counted" || !done.LastRun.Equal(clock.Now()) {
		t.Errorf("after the run %+v", done)
	}
	if want := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC); !done.NextRun.Equal(want) {
		t.Errorf("next run %v, want %v", done.NextRun, want)
	}
	reloaded := newService(t, db, clock, tt, nil)
	if got, _ := reloaded.Get(context.Background(), st.ID); got.LastRunResult != ResultOK || !got.NextRun.Equal(done.NextRun) {
		t.Errorf("after a restart %+v", got)
	}
}

// Run and stop: a running task is RUNNING, a second run of it is refused,
// stop cancels it (CANCELED), stopping it again is a conflict; a failing
// run is FAILED with its reason.
func TestTaskRunAndStop(t *testing.T) {
	db := repotest.NewStorage(t).DB
	clock := testclock.New(time.Now())
	tt := newTestTypes()
	s := newService(t, db, clock, tt, nil)
	ctx := context.Background()
	st, err := s.Create(ctx, Settings{Type: "block", Name: "long"})
	if err != nil {
		t.Fatal(err)
	}
	if !st.NextRun.IsZero() {
		t.Errorf("manual task has a next run %v", st.NextRun)
	}
	if err := s.Stop(ctx, st.ID); errs.KindOf(err) != errs.Conflict {
		t.Errorf("stop of an idle task: %v, want a conflict", err)
	}
	if err := s.Run(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	<-tt.runs
	if got, _ := s.Get(ctx, st.ID); got.State != StateRunning {
		t.Errorf("state while running %q", got.State)
	}
	if err := s.Run(ctx, st.ID); errs.KindOf(err) != errs.Conflict {
		t.Errorf("second run: %v, want a conflict", err)
	}
	if err := s.Stop(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if got := waitResult(t, s, st.ID); got.LastRunResult != ResultCanceled {
		t.Errorf("after stop %+v", got)
	}
	if err := s.Stop(ctx, st.ID); errs.KindOf(err) != errs.Conflict {
		t.Errorf("stop after the run: %v, want a conflict", err)
	}

	failing, _ := s.Create(ctx, Settings{Type: "fail", Name: "failing"})
	if err := s.Run(ctx, failing.ID); err != nil {
		t.Fatal(err)
	}
	if got := waitResult(t, s, failing.ID); got.LastRunResult != ResultFailed || got.Message != "nothing to do" {
		t.Errorf("failed run %+v", got)
	}
	if err := s.Run(ctx, "nope"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("run of a missing task: %v", err)
	}
}

func TestTaskSettings(t *testing.T) {
	s := newService(t, repotest.NewStorage(t).DB, testclock.New(time.Now()), newTestTypes(), nil)
	ctx := context.Background()
	for field, in := range map[string]Settings{
		"type":                     {Type: "nope", Name: "x"},
		"name":                     {Type: "count"},
		"frequency.cronExpression": {Type: "count", Name: "x", Frequency: &Frequency{Schedule: Cron, CronExpression: "string"}},
	} {
		_, err := s.Create(ctx, in)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%+v: %v, want an error of %s", in, err, field)
		}
	}
	st, err := s.Create(ctx, Settings{Type: "count", Name: "a", Properties: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, st.ID, Settings{Name: "b", Enabled: true, Frequency: &Frequency{Schedule: Daily}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, st.ID)
	if got.Name != "b" || got.Type != "count" || got.Frequency.Schedule != Daily || got.NextRun.IsZero() || got.Properties != nil {
		t.Errorf("after update %+v", got)
	}
	if err := s.Update(ctx, st.ID, Settings{Type: "fail", Name: "b"}); err == nil {
		t.Error("the type of a task changed")
	}
	if err := s.Update(ctx, "nope", Settings{Name: "b"}); errs.KindOf(err) != errs.NotFound {
		t.Errorf("update of a missing task: %v", err)
	}
}

// While the server is read-only a due task does not run (its work would
// be refused, repository by repository): it is skipped, says so, and is
// planned for its next time.
func TestTaskSkippedWhileFrozen(t *testing.T) {
	clock := testclock.New(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC))
	tt := newTestTypes()
	s := newService(t, repotest.NewStorage(t).DB, clock, tt, nil)
	var frozen error = errs.New(errs.Unavailable, "read-only")
	s.UseWritable(func() error { return frozen })
	st, err := s.Create(context.Background(), Settings{Type: "count", Name: "nightly", Enabled: true,
		Frequency: &Frequency{Schedule: Cron, CronExpression: "0 0 1 * * ?"}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour)
	s.RunDue()
	got, _ := s.Get(context.Background(), st.ID)
	select {
	case <-tt.runs:
		t.Fatal("ran while frozen")
	default:
	}
	if got.Message != "skipped: the server is read-only" || got.State != StateWaiting || !got.NextRun.After(clock.Now()) {
		t.Errorf("skipped task %+v", got)
	}
	frozen = nil
	clock.Advance(24 * time.Hour)
	s.RunDue()
	if id := <-tt.runs; id != st.ID {
		t.Fatalf("ran %s", id)
	}
	waitResult(t, s, st.ID)
}

// The default upload purge takes its age from upload.purge-age, in whole
// hours and at least one; Docker layers are collected by a default task.
func TestDefaultsAges(t *testing.T) {
	for age, want := range map[time.Duration]string{36 * time.Hour: "36", 30 * time.Minute: "1", 0: "1"} {
		var purge, gc bool
		for _, d := range Defaults(age) {
			switch d.Type {
			case TypeUploadPurge:
				purge = d.Properties["age"] == want
			case TypeDockerGC:
				gc = d.Enabled
			}
		}
		if !purge || !gc {
			t.Errorf("Defaults(%v): purge age %s %v, Docker layers task %v", age, want, purge, gc)
		}
	}
}
