package config

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NotificationEndpoint is one of registry:2's notifications.endpoints,
// written in the properties file as notifications.endpoints.<name>.<setting>.
// The server keeps it as a webhook with the registry payload.
type NotificationEndpoint struct {
	Name    string
	URL     string            // .url, required
	Headers map[string]string // .headers.<Header-Name>; nil when none
	// Zero takes the webhook default (registry:2's: 5s, 5, 1s).
	Timeout   time.Duration // .timeout
	Threshold int           // .threshold
	Backoff   time.Duration // .backoff
	// IgnoredActions are the Distribution actions not sent (.ignore.actions),
	// sorted.
	IgnoredActions []string
	// Repositories are the Nexus repositories whose changes are sent
	// (.repositories); none: all.
	Repositories []string
}

// notificationsPrefix starts every key of a notification endpoint. These
// keys are not in the settings table: their names are the operator's, so
// they have no default and no environment variable.
const notificationsPrefix = "notifications.endpoints."

// notShown stands in an error for a value that may be a secret (a
// misspelt header key's token), which must not reach the log.
const notShown = "(value not shown)"

// IgnorableActions are the Distribution actions .ignore.actions may name.
var IgnorableActions = []string{"delete", "pull", "push"}

// endpointName keeps names usable in REST paths (/v1/webhooks/{name}).
var endpointName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// notificationEndpoints reads the endpoints out of props, the properties
// file's entries (with their keys' case, which names and header names
// keep), sorted by name; nil when there is none.
func (p *parser) notificationEndpoints(props map[string]string, file string) []NotificationEndpoint {
	byName := map[string]*NotificationEndpoint{}
	keys := make([]string, 0, len(props))
	for k := range props {
		if len(k) > len(notificationsPrefix) && strings.EqualFold(k[:len(notificationsPrefix)], notificationsPrefix) {
			keys = append(keys, k)
			p.source[k] = file
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		val := props[key]
		name, field, ok := strings.Cut(key[len(notificationsPrefix):], ".")
		if !ok || !endpointName.MatchString(name) {
			p.fail(key, notShown, "must be notifications.endpoints.<name>.<setting>, the name made of letters, digits, '-' and '_'")
			continue
		}
		e := byName[name]
		if e == nil {
			e = &NotificationEndpoint{Name: name}
			byName[name] = e
		}
		p.endpointSetting(e, key, strings.ToLower(field), field, val)
	}
	if len(byName) == 0 {
		return nil
	}
	out := make([]NotificationEndpoint, 0, len(byName))
	for _, e := range byName {
		if e.URL == "" {
			key := notificationsPrefix + e.Name + ".url"
			p.source[key] = file
			p.fail(key, "", "must be set: every notification endpoint needs a url")
		}
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b NotificationEndpoint) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// endpointSetting stores one setting of e; field is the key after the
// name, lower-cased, and rawField as written (for header names).
func (p *parser) endpointSetting(e *NotificationEndpoint, key, field, rawField, val string) {
	switch {
	case field == "url":
		if !isHTTPURL(val) {
			shown := val
			if strings.Contains(val, "@") {
				shown = notShown // it may hold credentials
			}
			p.fail(key, shown, "must be an absolute http or https URL")
		}
		e.URL = val
	case field == "timeout":
		e.Timeout = p.positiveDuration(key, val)
	case field == "backoff":
		e.Backoff = p.positiveDuration(key, val)
	case field == "threshold":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			p.fail(key, val, "must be a whole number, 1 or more")
		}
		e.Threshold = n
	case field == "repositories":
		e.Repositories = commaList(val)
	case field == "ignore.actions":
		for _, a := range commaList(strings.ToLower(val)) {
			if !slices.Contains(IgnorableActions, a) {
				p.fail(key, val, "unknown action "+strconv.Quote(a)+"; the actions are "+strings.Join(IgnorableActions, ", "))
			}
			e.IgnoredActions = append(e.IgnoredActions, a)
		}
		slices.Sort(e.IgnoredActions)
		e.IgnoredActions = slices.Compact(e.IgnoredActions)
	case strings.HasPrefix(field, "headers."):
		header := rawField[len("headers."):]
		if header == "" || strings.ContainsAny(header, " \t:") {
			p.fail(key, notShown, "must be notifications.endpoints.<name>.headers.<Header-Name>")
			return
		}
		if val == "" {
			p.fail(key, val, "must not be empty")
		}
		if e.Headers == nil {
			e.Headers = map[string]string{}
		}
		e.Headers[header] = val
	default:
		p.fail(key, notShown, "unknown setting of a notification endpoint; the settings are url, headers.<Header-Name>, timeout, threshold, backoff, ignore.actions and repositories")
	}
}
