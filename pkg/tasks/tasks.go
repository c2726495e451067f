// Package tasks is the scheduler of Nexus-style tasks (cleanup, Docker
// layer collection, upload purge, repairs): the stored tasks and their
// schedules, runs in the background with their last result and duration,
// and stopping a run (its context is cancelled).
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/mail"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Type is a kind of task: what a run does.
type Type struct {
	ID   string // "repository.cleanup"
	Name string // shown in listings of types and as a default task's name
	// Run does the work; its message summarises what it did. It runs as
	// the server and must stop soon once ctx ends.
	Run func(ctx context.Context, t *Task) (message string, err error)
}

// Run results and states, as Nexus names them.
const (
	ResultOK       = "OK"
	ResultFailed   = "FAILED"
	ResultCanceled = "CANCELED"

	StateWaiting = "WAITING"
	StateRunning = "RUNNING"

	// The notificationConditions: email the alert address after failed
	// runs (Nexus's default, also when empty), or after every run.
	NotifyFailure        = "FAILURE"
	NotifySuccessFailure = "SUCCESS_FAILURE"
)

// Task is a stored task: its settings and the outcome of its last run.
type Task struct {
	ID                    string            `json:"id"`
	Type                  string            `json:"type"`
	Name                  string            `json:"name"`
	Enabled               bool              `json:"enabled"`
	AlertEmail            string            `json:"alertEmail,omitempty"`
	NotificationCondition string            `json:"notificationCondition,omitempty"`
	Frequency             Frequency         `json:"frequency"`
	Properties            map[string]string `json:"properties,omitempty"`
	// Message is the last run's summary, or why it failed.
	Message       string        `json:"message,omitempty"`
	LastRun       time.Time     `json:"lastRun,omitzero"`
	LastRunResult string        `json:"lastRunResult,omitempty"`
	LastDuration  time.Duration `json:"lastDuration,omitempty"`
}

// Status is a task with what only the scheduler knows.
type Status struct {
	Task
	State   string
	NextRun time.Time // zero when none is scheduled
}

// Settings are what a client may set on a task (create and update).
type Settings struct {
	Type                  string
	Name                  string
	Enabled               bool
	AlertEmail            string
	NotificationCondition string
	Frequency             *Frequency
	Properties            map[string]string
}

func fieldErr(field, format string, args ...any) error {
	return &errs.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Service holds the tasks and runs them. Its methods check the caller's
// nx-tasks-<action> privilege (read, create, update, delete, start, stop).
type Service struct {
	db    *meta.DB
	authz repo.Authorizer
	log   *slog.Logger
	now   func() time.Time
	types map[string]Type

	mu      sync.Mutex
	tasks   map[string]*Task
	next    map[string]time.Time
	running map[string]context.CancelFunc
	base    context.Context // runs' parent: the scheduler's context
	wg      sync.WaitGroup
	// writable fails while the server is read-only (see UseWritable).
	writable func() error
	// alerter emails runs' outcomes to their task's alertEmail (UseAlerts), or is nil.
	alerter Alerter
	// audit records the tasks' changes and manual runs (UseAudit), or is nil.
	audit *audit.Log
}

// UseAudit makes the service record the tasks' changes, runs started and
// stopped by callers, with l; call it before serving. A run's own changes
// are recorded as "system/task:<id>"'s.
func (s *Service) UseAudit(l *audit.Log) { s.audit = l }

// record records typ of t as the caller in ctx. It runs under s.mu, as
// store's write does: the lock keeps the tasks, no request waits on it.
func (s *Service) record(ctx context.Context, typ string, t *Task) {
	s.audit.Record(ctx, "scheduling.task", typ, t.ID, map[string]string{"id": t.ID, "type": t.Type, "name": t.Name,
		"enabled": strconv.FormatBool(t.Enabled), "schedule": t.Frequency.Schedule, "cronExpression": t.Frequency.CronExpression})
}

// Alerter sends the server's email (mail.Service: only when email is enabled).
type Alerter interface {
	Alert(ctx context.Context, m mail.Message) error
}

// Defaults are the tasks the server creates, each once (at the first start
// of the release that brings it): Nexus's daily cleanup at
// 01:00, the daily purge of uploads abandoned for purgeAge (in whole hours,
// at least one: upload.purge-age) at 02:00, and the daily collection of
// unreferenced Docker layers at 03:00.
func Defaults(purgeAge time.Duration) []Settings {
	hours := max(1, int(purgeAge/time.Hour))
	return []Settings{
		{Type: TypeCleanup, Name: "Cleanup service", Enabled: true,
			Frequency: &Frequency{Schedule: Cron, CronExpression: "0 0 1 * * ?"}},
		{Type: TypeUploadPurge, Name: "Purge incomplete uploads", Enabled: true,
			Frequency: &Frequency{Schedule: Cron, CronExpression: "0 0 2 * * ?"}, Properties: map[string]string{"age": strconv.Itoa(hours)}},
		{Type: TypeDockerGC, Name: "Delete unreferenced Docker layers", Enabled: true,
			Frequency: &Frequency{Schedule: Cron, CronExpression: "0 0 3 * * ?"}},
	}
}

// firstDefaults are the defaults of the releases that recorded only that
// defaults were created, not which.
var firstDefaults = []string{TypeCleanup, TypeUploadPurge}

// New loads the stored tasks, having stored first each of defaults (one a
// type) never created before. now is the scheduler's clock (nil:
// time.Now).
func New(db *meta.DB, authz repo.Authorizer, log *slog.Logger, now func() time.Time, defaults []Settings, types ...Type) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: db, authz: authz, log: log, now: now, types: map[string]Type{}, tasks: map[string]*Task{},
		next: map[string]time.Time{}, running: map[string]context.CancelFunc{}, base: context.Background()}
	for _, t := range types {
		s.types[t.ID] = t
	}
	var initial []meta.DefaultTask
	for _, d := range defaults {
		t, err := s.build(uuid.NewString(), d, nil)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		initial = append(initial, meta.DefaultTask{Key: d.Type, ID: t.ID, Raw: raw})
	}
	if err := db.CreateDefaultTasks(initial, firstDefaults); err != nil {
		return nil, err
	}
	raws, err := db.Tasks()
	if err != nil {
		return nil, err
	}
	for _, raw := range raws {
		var t Task
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, err
		}
		s.tasks[t.ID] = &t
		s.plan(&t, now())
	}
	return s, nil
}

// build checks settings into a task with id; old is the task replaced.
func (s *Service) build(id string, in Settings, old *Task) (*Task, error) {
	t := &Task{ID: id}
	if old != nil {
		*t = *old
		if in.Type != "" && in.Type != old.Type {
			return nil, fieldErr("type", "the type of a task cannot change")
		}
	} else {
		if _, ok := s.types[in.Type]; !ok {
			return nil, fieldErr("type", "unknown task type %q", in.Type)
		}
		t.Type = in.Type
	}
	if in.Name == "" {
		return nil, fieldErr("name", "may not be empty")
	}
	if in.AlertEmail != "" {
		if _, err := mail.ParseAddress(in.AlertEmail); err != nil {
			return nil, fieldErr("alertEmail", "must be an email address")
		}
	}
	switch in.NotificationCondition {
	case "", NotifyFailure, NotifySuccessFailure:
	default:
		return nil, fieldErr("notificationCondition", "must be %s or %s", NotifyFailure, NotifySuccessFailure)
	}
	f := Frequency{Schedule: Manual}
	if in.Frequency != nil {
		f = *in.Frequency
	}
	if _, err := parseSchedule(f); err != nil {
		return nil, err
	}
	t.Name, t.Enabled, t.AlertEmail, t.NotificationCondition = in.Name, in.Enabled, in.AlertEmail, in.NotificationCondition
	t.Frequency, t.Properties = f, maps.Clone(in.Properties)
	return t, nil
}

// plan computes t's next run after from; s.mu is held (or s is new).
func (s *Service) plan(t *Task, from time.Time) {
	delete(s.next, t.ID)
	sch, err := parseSchedule(t.Frequency)
	if err != nil || sch == nil || !t.Enabled {
		return
	}
	if n := sch.Next(from); !n.IsZero() {
		s.next[t.ID] = n
	}
}

func (s *Service) require(ctx context.Context, action string) error {
	return s.authz.Require(ctx, auth.Application("tasks", action))
}

// List returns the tasks of type typ (every task if empty), by name.
func (s *Service) List(ctx context.Context, typ string) ([]Status, error) {
	if err := s.require(ctx, "read"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, t := range s.tasks {
		if typ == "" || t.Type == typ {
			out = append(out, s.status(t))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// status is t as listed; s.mu is held.
func (s *Service) status(t *Task) Status {
	st := Status{Task: *t, State: StateWaiting, NextRun: s.next[t.ID]}
	if _, ok := s.running[t.ID]; ok {
		st.State = StateRunning
	}
	return st
}

// Get returns the task id, or errs.NotFound.
func (s *Service) Get(ctx context.Context, id string) (Status, error) {
	if err := s.require(ctx, "read"); err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return Status{}, notFound(id)
	}
	return s.status(t), nil
}

func notFound(id string) error { return errs.New(errs.NotFound, "task %s not found", id) }

// Create stores a new task.
func (s *Service) Create(ctx context.Context, in Settings) (Status, error) {
	if err := s.require(ctx, "create"); err != nil {
		return Status{}, err
	}
	t, err := s.build(uuid.NewString(), in, nil)
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store(t, true); err != nil {
		return Status{}, err
	}
	s.record(ctx, "created", t)
	return s.status(t), nil
}

// Update replaces the settings of task id; its type and last run stay.
func (s *Service) Update(ctx context.Context, id string, in Settings) error {
	if err := s.require(ctx, "update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.tasks[id]
	if !ok {
		return notFound(id)
	}
	t, err := s.build(id, in, old)
	if err != nil {
		return err
	}
	if err := s.store(t, false); err != nil {
		return err
	}
	s.record(ctx, "updated", t)
	return nil
}

// store persists t and plans its next run; s.mu is held.
func (s *Service) store(t *Task, create bool) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if err := s.db.PutTask(t.ID, raw, create); err != nil {
		return err
	}
	s.tasks[t.ID] = t
	s.plan(t, s.now())
	return nil
}

// Delete deletes task id, stopping a run of it.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.require(ctx, "delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return notFound(id)
	}
	if err := s.db.DeleteTask(id); err != nil {
		return err
	}
	s.record(ctx, "deleted", t)
	if cancel, ok := s.running[id]; ok {
		cancel()
	}
	delete(s.tasks, id)
	delete(s.next, id)
	return nil
}

// Run starts task id now, in the background; a task already running is
// errs.Conflict.
func (s *Service) Run(ctx context.Context, id string) error {
	if err := s.require(ctx, "start"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return notFound(id)
	}
	if _, busy := s.running[id]; busy {
		return errs.New(errs.Conflict, "task %s is already running", id)
	}
	s.start(t)
	s.record(ctx, "started", t)
	return nil
}

// Stop cancels the run of task id; one not running is errs.Conflict, as
// in Nexus.
func (s *Service) Stop(ctx context.Context, id string) error {
	if err := s.require(ctx, "stop"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return notFound(id)
	}
	cancel, ok := s.running[id]
	if !ok {
		return errs.New(errs.Conflict, "task %s is not running", id)
	}
	cancel()
	s.record(ctx, "stopped", t)
	return nil
}

// start runs t in the background; s.mu is held.
func (s *Service) start(t *Task) {
	typ := s.types[t.Type]
	// The run acts as the server; what it changes is recorded as the task's.
	ctx, cancel := context.WithCancel(audit.WithInitiator(auth.WithPrincipal(s.base, auth.System()), "system/task:"+t.ID))
	s.running[t.ID] = cancel
	task := *t
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		began := s.now()
		msg, err := "", errors.New("unknown task type "+task.Type)
		if typ.Run != nil {
			msg, err = typ.Run(ctx, &task)
		}
		s.finish(task.ID, began, msg, err, ctx.Err() != nil)
	}()
}

// finish records a run's outcome and plans the next one.
func (s *Service) finish(id string, began time.Time, msg string, err error, canceled bool) {
	ended := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, id)
	t, ok := s.tasks[id]
	if !ok {
		return // deleted meanwhile
	}
	done := *t
	done.LastRun, done.LastDuration, done.Message = began.UTC(), ended.Sub(began), msg
	switch {
	case canceled:
		done.LastRunResult, done.Message = ResultCanceled, "stopped"
	case err != nil:
		done.LastRunResult, done.Message = ResultFailed, errs.Message(err)
		s.log.Error("task failed", "task", done.Name, "type", done.Type, "id", id, "err", err)
	default:
		done.LastRunResult = ResultOK
		s.log.Info("task done", "task", done.Name, "type", done.Type, "id", id, "message", msg, "duration", done.LastDuration)
	}
	if err := s.store(&done, false); err != nil {
		s.log.Error("record task result", "task", id, "err", err)
	}
	s.plan(&done, ended)
	if s.alerter != nil && done.AlertEmail != "" && (done.LastRunResult == ResultFailed ||
		done.LastRunResult == ResultOK && done.NotificationCondition == NotifySuccessFailure) {
		// In the background: a slow or failing mail server must neither
		// delay the scheduler nor change the run's outcome.
		go s.alert(s.base, s.alerter, done, s.types[done.Type].Name, ended)
	}
}

// UseAlerts makes runs email their task's alertEmail with a: after a
// failure, and after a success too with NotifySuccessFailure.
func (s *Service) UseAlerts(a Alerter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerter = a
}

// alert sends the email of t's run that ended at ended; a failure to send
// is only logged.
func (s *Service) alert(ctx context.Context, a Alerter, t Task, typeName string, ended time.Time) {
	// A name is free text: its line breaks must not reach the subject.
	name := strings.Join(strings.Fields(t.Name), " ")
	outcome := "failed"
	if t.LastRunResult == ResultOK {
		outcome = "succeeded"
	}
	body := fmt.Sprintf("Task: %s\nType: %s (%s)\nID: %s\nResult: %s\nTime: %s\nDuration: %s\nMessage: %s\n",
		t.Name, typeName, t.Type, t.ID, t.LastRunResult, ended.UTC().Format(time.RFC3339), t.LastDuration, t.Message)
	m := mail.Message{To: t.AlertEmail, Subject: "Task " + name + " " + outcome, Body: body}
	if err := a.Alert(ctx, m); err != nil {
		s.log.Warn("task alert email not sent", "task", t.Name, "id", t.ID, "to", t.AlertEmail, "err", err)
	}
}

// UseWritable makes RunDue skip due tasks while writable fails (the
// repository manager's Writable: the server is read-only), as every task
// writes.
func (s *Service) UseWritable(writable func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writable = writable
}

// skippedFrozen is the message of a task skipped while read-only; it is
// kept in memory only, storing it would be a write.
const skippedFrozen = "skipped: the server is read-only"

// RunDue starts the enabled tasks whose next run is due at now and not
// running; the scheduler calls it, tests too. While the server is
// read-only, due tasks are skipped until their next time.
func (s *Service) RunDue() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	frozen := s.writable != nil && s.writable() != nil
	for id, at := range s.next {
		t := s.tasks[id]
		if _, busy := s.running[id]; busy || at.After(now) {
			continue
		}
		s.plan(t, now)
		if frozen {
			t.Message = skippedFrozen
			s.log.Info("task skipped: the server is read-only", "task", t.Name, "type", t.Type, "id", id)
			continue
		}
		s.start(t)
	}
}

// Schedule runs due tasks, checking every interval, until ctx ends, and
// then waits for the runs it started, which ctx's end stops.
func (s *Service) Schedule(ctx context.Context, interval time.Duration) {
	s.mu.Lock()
	s.base = ctx
	s.mu.Unlock()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Wait()
			return
		case <-tick.C:
			s.RunDue()
		}
	}
}

// Wait waits for the runs in progress to end.
func (s *Service) Wait() { s.wg.Wait() }
