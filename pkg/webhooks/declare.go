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

	// A frozen server writes nothing (its database may be being copied):
	// the endpoints follow the file at the first start after the release.
	if err := s.opts.Writable(); err != nil && !declaredAsFile(declared, want) {
		s.log.Warn("webhooks: the server is read-only: notification endpoints not updated from the properties file until a start after the release")
		return nil
	}
	for name := range declared {
		if !slices.ContainsFunc(want, func(d meta.Webhook) bool { return d.Name == name }) {
			if err := s.db.DeleteWebhook(name); err != nil {
				return err
			}
			s.log.Info("webhooks: notification endpoint removed from the properties file: deleted", "webhook", name)
		}
	}
	for _, w := range want {
		old, ok := declared[w.Name]
		switch {
		case !ok:
			if err := s.db.CreateWebhook(w); err != nil {
				return err
			}
			s.log.Info("webhooks: notification endpoint created", "webhook", w.Name)
		case !sameSettings(old, w):
			if err := s.db.UpdateWebhook(w); err != nil {
				return err
			}
			s.log.Info("webhooks: notification endpoint updated", "webhook", w.Name)
		}
	}
	return nil
}

// declaredAsFile reports whether the stored declared webhooks are those
// the file wants.
func declaredAsFile(declared map[string]meta.Webhook, want []meta.Webhook) bool {
	if len(declared) != len(want) {
		return false
	}
	for _, w := range want {
		if old, ok := declared[w.Name]; !ok || !sameSettings(old, w) {
			return false
		}
	}
	return true
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
