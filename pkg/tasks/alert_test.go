package tasks

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/mail"
	"github.com/nexus-go/nexus-go/pkg/mail/mailtest"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/testclock"
	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// alerting is a task service whose alerts go through the email
// configuration c, with what it logs.
func alerting(t *testing.T, c meta.MailSettings) (*Service, *syncBuffer) {
	t.Helper()
	db := repotest.NewStorage(t).DB
	mailer := mail.New(db, repotest.AllowAll{}, nil)
	if err := mailer.SetConfig(t.Context(), c, &c.Password); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s, err := New(db, repotest.AllowAll{}, slog.New(slog.NewTextHandler(logs, nil)),
		testclock.New(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)).Now, nil, newTestTypes().types()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Wait)
	s.UseAlerts(mailer)
	return s, logs
}

// run creates a manual task of type typ that alerts to, runs it and
// returns its recorded outcome.
func run(t *testing.T, s *Service, typ, name, condition string) Status {
	t.Helper()
	ctx := context.Background()
	st, err := s.Create(ctx, Settings{Type: typ, Name: name, Enabled: true, AlertEmail: "ops@example.org", NotificationCondition: condition})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	return waitResult(t, s, st.ID)
}

func TestFailedTaskSendsAlert(t *testing.T) {
	srv := mailtest.Start(t)
	s, _ := alerting(t, meta.MailSettings{Enabled: true, Host: srv.Host, Port: srv.Port,
		FromAddress: "nexus@example.org", SubjectPrefix: "[nexus] "})

	if st := run(t, s, "count", "Quiet", ""); st.LastRunResult != ResultOK {
		t.Fatalf("count run = %+v", st)
	}
	if st := run(t, s, "fail", "Nightly\r\nBcc: other@example.org", NotifyFailure); st.LastRunResult != ResultFailed {
		t.Fatalf("fail run = %+v", st)
	}
	if st := run(t, s, "count", "Loud", NotifySuccessFailure); st.LastRunResult != ResultOK {
		t.Fatalf("count run = %+v", st)
	}
	got := srv.Wait(t, 2, 10*time.Second)
	subjects := map[string]mailtest.Received{}
	for _, m := range got {
		subjects[m.Header.Get("Subject")] = m
	}
	failed, ok := subjects["[nexus] Task Nightly Bcc: other@example.org failed"]
	if !ok || len(got) != 2 {
		t.Fatalf("received subjects %v", subjects)
	}
	if to := failed.Header.Get("X-RcptTo"); to != "ops@example.org" {
		t.Errorf("alert went to %q", to)
	}
	for _, want := range []string{"Type: Fail (fail)", "Result: FAILED", "Message: nothing to do", "Time: 2026-12-03T10:00:00Z"} {
		if !strings.Contains(failed.Body, want) {
			t.Errorf("alert body lacks %q:\n%s", want, failed.Body)
		}
	}
	if _, ok := subjects["[nexus] Task Loud succeeded"]; !ok {
		t.Errorf("no alert of the SUCCESS_FAILURE task: %v", subjects)
	}
}

// An alert that cannot be sent is logged, without the password, and
// changes nothing of the run.
func TestAlertFailureOnlyLogged(t *testing.T) {
	s, logs := alerting(t, meta.MailSettings{Enabled: true, Host: "127.0.0.1", Port: testproc.FreePort(t),
		FromAddress: "nexus@example.org", Username: "nexus", Password: "s3cret-pw"})
	st := run(t, s, "fail", "Nightly", "")
	if st.LastRunResult != ResultFailed || st.Message != "nothing to do" {
		t.Fatalf("run = %+v", st)
	}
	repotest.Within(t, 10*time.Second, "alert failure logged", func() {
		for !strings.Contains(logs.String(), "task alert email not sent") {
			time.Sleep(5 * time.Millisecond)
		}
	})
	if strings.Contains(logs.String(), "s3cret-pw") {
		t.Errorf("the log shows the password:\n%s", logs.String())
	}
}

func TestAlertSettingsChecked(t *testing.T) {
	s, _ := alerting(t, meta.DefaultMail)
	ctx := context.Background()
	for field, in := range map[string]Settings{
		"alertEmail":            {Type: "count", Name: "n", AlertEmail: "ops@example.org\nBcc: x@example.org"},
		"notificationCondition": {Type: "count", Name: "n", AlertEmail: "ops@example.org", NotificationCondition: "ALWAYS"},
	} {
		_, err := s.Create(ctx, in)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("create %+v = %v; want a %s error", in, err, field)
		}
	}
}

// syncBuffer is a log destination safe for the alerts' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
