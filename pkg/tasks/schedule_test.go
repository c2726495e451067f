package tasks

import (
	"errors"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestScheduleNextRun(t *testing.T) {
	// Wednesday 2026-12-02 10:30:00 UTC.
	from := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	start := time.Date(2026, 1, 1, 1, 15, 0, 0, time.UTC).Unix() // a Thursday, 01:15
	for _, c := range []struct {
		f    Frequency
		want time.Time
	}{
		{Frequency{Schedule: Cron, CronExpression: "0 0 1 * * ?"}, time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)},
		// Quartz numbers Monday 2 (robfig: 1).
		{Frequency{Schedule: Cron, CronExpression: "0 0 1 ? * 2"}, time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)},
		{Frequency{Schedule: Cron, CronExpression: "0 0 1 ? * MON *"}, time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)},
		{Frequency{Schedule: Cron, CronExpression: "0 0/20 * * * ?"}, time.Date(2026, 12, 2, 10, 40, 0, 0, time.UTC)},
		{Frequency{Schedule: Hourly, StartDate: start}, time.Date(2026, 12, 2, 11, 15, 0, 0, time.UTC)},
		{Frequency{Schedule: Daily, StartDate: start}, time.Date(2026, 12, 3, 1, 15, 0, 0, time.UTC)},
		{Frequency{Schedule: Daily, StartDate: start, TimeZoneOffset: "+02:00"}, time.Date(2026, 12, 3, 1, 15, 0, 0, time.UTC)},
		{Frequency{Schedule: Weekly, StartDate: start}, time.Date(2026, 12, 3, 1, 15, 0, 0, time.UTC)},
		{Frequency{Schedule: Weekly, StartDate: start, RecurringDays: []any{"monday", float64(7)}}, time.Date(2026, 12, 5, 1, 15, 0, 0, time.UTC)},
		{Frequency{Schedule: Monthly, StartDate: start, RecurringDays: []any{float64(1)}}, time.Date(2027, 1, 1, 1, 15, 0, 0, time.UTC)},
		{Frequency{Schedule: Once, StartDate: from.Add(time.Hour).Unix()}, from.Add(time.Hour)},
		{Frequency{Schedule: Once, StartDate: from.Add(-time.Hour).Unix()}, time.Time{}},
	} {
		s, err := parseSchedule(c.f)
		if err != nil {
			t.Errorf("%+v: %v", c.f, err)
			continue
		}
		if got := s.Next(from); !got.Equal(c.want) {
			t.Errorf("%+v: next run %v, want %v", c.f, got, c.want)
		}
	}
	if s, err := parseSchedule(Frequency{Schedule: Manual}); s != nil || err != nil {
		t.Errorf("manual: %v %v, want no schedule", s, err)
	}
}

func TestScheduleRefusals(t *testing.T) {
	for _, c := range []struct {
		f     Frequency
		field string
	}{
		{Frequency{Schedule: "sometimes"}, "frequency.schedule"},
		{Frequency{Schedule: Cron, CronExpression: "string"}, "frequency.cronExpression"},
		{Frequency{Schedule: Cron, CronExpression: "0 0 1 * * ? 2030"}, "frequency.cronExpression"},
		{Frequency{Schedule: Cron, CronExpression: "0 0 1 ? * 8"}, "frequency.cronExpression"},
		{Frequency{Schedule: Cron, CronExpression: "0 0 25 * * ?"}, "frequency.cronExpression"},
		{Frequency{Schedule: Once}, "frequency.startDate"},
		{Frequency{Schedule: Daily, TimeZoneOffset: "Mars"}, "frequency.timeZoneOffset"},
		{Frequency{Schedule: Weekly, RecurringDays: []any{"someday"}}, "frequency.recurringDays"},
		{Frequency{Schedule: Monthly, RecurringDays: []any{float64(32)}}, "frequency.recurringDays"},
	} {
		_, err := parseSchedule(c.f)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: %v, want an error of %s", c.f, err, c.field)
		}
	}
}
