package tasks

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedules of Nexus's FrequencyXO.
const (
	Manual  = "manual"
	Once    = "once"
	Hourly  = "hourly"
	Daily   = "daily"
	Weekly  = "weekly"
	Monthly = "monthly"
	Cron    = "cron"
)

// Frequency is when a task runs, in Nexus's JSON: a schedule, the start
// (Unix seconds) and zone offset the simple schedules take their time of
// day from, days for weekly (names or Quartz numbers, 1 is Sunday) and
// monthly (1 to 31), and a Quartz cron expression for cron.
type Frequency struct {
	Schedule       string `json:"schedule"`
	StartDate      int64  `json:"startDate,omitempty"`
	TimeZoneOffset string `json:"timeZoneOffset,omitempty"`
	RecurringDays  []any  `json:"recurringDays,omitempty"`
	CronExpression string `json:"cronExpression,omitempty"`
}

// schedule gives the next run after a time; nil is never (manual).
type schedule interface {
	Next(after time.Time) time.Time
}

// once runs at its time if that is still ahead.
type once time.Time

func (o once) Next(after time.Time) time.Time {
	if t := time.Time(o); t.After(after) {
		return t
	}
	return time.Time{}
}

// quartz parses Quartz's cron fields (seconds first, "?" for either day
// field, an optional year that must be "*"); robfig/cron is the parser.
var quartz = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var dayNames = map[string]string{"sunday": "SUN", "monday": "MON", "tuesday": "TUE", "wednesday": "WED",
	"thursday": "THU", "friday": "FRI", "saturday": "SAT"}

// parseSchedule checks f and returns its schedule (nil for manual); errors
// name the field.
func parseSchedule(f Frequency) (schedule, error) {
	loc := time.UTC
	if f.TimeZoneOffset != "" {
		off, err := time.Parse("-07:00", f.TimeZoneOffset)
		if err != nil {
			return nil, fieldErr("frequency.timeZoneOffset", "must be an offset such as +01:00")
		}
		_, secs := off.Zone()
		loc = time.FixedZone(f.TimeZoneOffset, secs)
	}
	start := time.Unix(f.StartDate, 0).In(loc)
	at := func(spec string) (schedule, error) {
		s, err := quartz.Parse(spec)
		if err != nil {
			return nil, fieldErr("frequency.cronExpression", "%s", err)
		}
		if spec, ok := s.(*cron.SpecSchedule); ok {
			spec.Location = loc
		}
		return s, nil
	}
	hms := fmt.Sprintf("%d %d %d", start.Second(), start.Minute(), start.Hour())
	switch strings.ToLower(f.Schedule) {
	case Manual:
		return nil, nil
	case Once:
		if f.StartDate == 0 {
			return nil, fieldErr("frequency.startDate", "is required for schedule once")
		}
		return once(start), nil
	case Hourly:
		return at(fmt.Sprintf("%d %d * * * *", start.Second(), start.Minute()))
	case Daily:
		return at(hms + " * * *")
	case Weekly:
		days, err := recurring(f.RecurringDays, func(v string) (string, bool) {
			if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 7 {
				return strconv.Itoa(n - 1), true
			}
			for long, short := range dayNames {
				if strings.EqualFold(v, long) || strings.EqualFold(v, short) {
					return short, true
				}
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if days == "" {
			days = strconv.Itoa(int(start.Weekday()))
		}
		return at(hms + " * * " + days)
	case Monthly:
		days, err := recurring(f.RecurringDays, func(v string) (string, bool) {
			n, err := strconv.Atoi(v)
			return v, err == nil && n >= 1 && n <= 31
		})
		if err != nil {
			return nil, err
		}
		if days == "" {
			days = strconv.Itoa(start.Day())
		}
		return at(hms + " " + days + " * *")
	case Cron:
		spec, err := fromQuartz(f.CronExpression)
		if err != nil {
			return nil, err
		}
		return at(spec)
	}
	return nil, fieldErr("frequency.schedule", "must be one of manual, once, hourly, daily, weekly, monthly, cron")
}

// recurring joins the recurring days, each checked and translated by day.
func recurring(vals []any, day func(string) (string, bool)) (string, error) {
	var out []string
	for _, v := range vals {
		s := strings.TrimSuffix(fmt.Sprint(v), ".0")
		d, ok := day(s)
		if !ok {
			return "", fieldErr("frequency.recurringDays", "%v is not a day", v)
		}
		out = append(out, d)
	}
	return strings.Join(out, ","), nil
}

// fromQuartz turns a Quartz expression into robfig's six fields: the year,
// if any, must be "*", and Quartz numbers days of the week from 1 (Sunday)
// where robfig does from 0.
func fromQuartz(expr string) (string, error) {
	fields := strings.Fields(expr)
	if len(fields) == 7 {
		if fields[6] != "*" {
			return "", fieldErr("frequency.cronExpression", "a year other than * is not supported")
		}
		fields = fields[:6]
	}
	if len(fields) != 6 {
		return "", fieldErr("frequency.cronExpression", "must have the six fields second minute hour day-of-month month day-of-week")
	}
	dow, err := shiftDays(fields[5])
	if err != nil {
		return "", err
	}
	fields[5] = dow
	return strings.Join(fields, " "), nil
}

func shiftDays(field string) (string, error) {
	parts := strings.Split(field, ",")
	for i, part := range parts {
		rng, step, hasStep := strings.Cut(part, "/")
		ends := strings.Split(rng, "-")
		for j, e := range ends {
			n, err := strconv.Atoi(e)
			if err != nil {
				continue // a name, * or ?
			}
			if n < 1 || n > 7 {
				return "", fieldErr("frequency.cronExpression", "day of week %d is not from 1 (Sunday) to 7", n)
			}
			ends[j] = strconv.Itoa(n - 1)
		}
		parts[i] = strings.Join(ends, "-")
		if hasStep {
			parts[i] += "/" + step
		}
	}
	return strings.Join(parts, ","), nil
}
