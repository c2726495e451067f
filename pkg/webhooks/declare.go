package webhooks

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Declare makes the declared webhooks (the properties file's notification
// endpoints) those of ws, each with the registry payload: it creates the
// new ones, updates the changed ones (which keep what they delivered) and
// deletes the declared ones ws no longer has. Webhooks created through the
// REST API are left alone; one named as an entry of ws is an error, and
// then nothing is changed. The server calls it at start, as itself, so no
// privilege is checked.
func (s *Service) Declare(ws []meta.Webhook) error {
	want := make([]meta.Webhook, 0, len(ws))
	for _, w := range ws {
		w.Declared, w.Payload = true, meta.PayloadRegistry
		w.EventTypes = registryEventTypes(w.IgnoredActions)
		if err := Validate(&w); err != nil {
			return fmt.Errorf("webhooks: notification endpoint %q: %w", w.Name, err)
		}
		// Stored, empty lists and maps are left out: compared as nil.
		if len(w.Repositories) == 0 {
			w.Repositories = nil
		}
		if len(w.Headers) == 0 {
			w.Headers = nil
		}
		if len(w.IgnoredActions) == 0 {
			w.IgnoredActions = nil
		}
		want = append(want, w)
	}
	slices.SortFunc(want, func(a, b meta.Webhook) int { return strings.Compare(a.Name, b.Name) })

	stored, err := s.db.Webhooks()
	if err != nil {
		return err
	}
	declared := map[string]meta.Webhook{}
	for _, w := range stored {
		if w.Declared {
			declared[w.Name] = w
			continue
		}
		if slices.ContainsFunc(want, func(d meta.Webhook) bool { return d.Name == w.Name }) {
			return fmt.Errorf("webhooks: notification endpoint %q is declared in nexus-go.properties (notifications.endpoints.%s), "+
				"but a webhook of that name was created through the REST API: delete that webhook or rename the endpoint", w.Name, w.Name)
		}
	}

	// What the file changes, applied only once all of it is known: a
	// frozen server writes nothing (its database may be being copied), so
	// the endpoints then follow the file at a start after the release.
	type change struct {
		name, done string
		apply      func() error
	}
	var changes []change
	for name := range declared {
		if !slices.ContainsFunc(want, func(d meta.Webhook) bool { return d.Name == name }) {
			changes = append(changes, change{name, "removed from the properties file: deleted", func() error { return s.db.DeleteWebhook(name) }})
		}
	}
	for _, w := range want {
		old, ok := declared[w.Name]
		switch {
		case !ok:
			changes = append(changes, change{w.Name, "created", func() error { return s.db.CreateWebhook(w) }})
		case !sameSettings(old, w):
			changes = append(changes, change{w.Name, "updated", func() error { return s.db.UpdateWebhook(w) }})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	if err := s.opts.Writable(); err != nil {
		s.log.Warn("webhooks: the server is read-only: notification endpoints not updated from the properties file until a start after the release")
		return nil
	}
	for _, c := range changes {
		if err := c.apply(); err != nil {
			return err
		}
		s.log.Info("webhooks: notification endpoint "+c.done, "webhook", c.name)
	}
	return nil
}

// sameSettings reports whether stored webhook a has b's settings (b has
// no ID yet).
func sameSettings(a, b meta.Webhook) bool {
	a.ID = b.ID
	return reflect.DeepEqual(a, b)
}

// registryEventTypes are the event types a registry endpoint ignoring
// actions asks for: downloads only when pulls are not ignored, so that one
// which ignores them costs no download events.
func registryEventTypes(ignored []string) []string {
	var out []string
	if !slices.Contains(ignored, "push") || !slices.Contains(ignored, "delete") {
		out = append(out, meta.EventAsset)
	}
	if !slices.Contains(ignored, "pull") {
		out = append(out, meta.EventDownload)
	}
	return out
}
