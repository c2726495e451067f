package repo

import (
	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// RegistryNotifier is implemented by formats whose changes also go to
// registry:2-style notification endpoints (CNCF Distribution's events):
// it says which Distribution events an asset event is, if any.
type RegistryNotifier interface {
	RegistryEvents(ev meta.Event) []RegistryEvent
}

// RegistryEvent is the action and target of one Distribution event.
type RegistryEvent struct {
	Action     string // "push", "pull" or "delete"
	Repository string // the image name
	MediaType  string
	Digest     digest.Digest
	Size       int64
	Tag        string
}

// RegistryAction is Distribution's action for an asset or download event:
// a download is a pull, a delete a delete, any other write a push.
func RegistryAction(ev meta.Event) string {
	switch {
	case ev.Type == meta.EventDownload:
		return "pull"
	case ev.Action == meta.ActionDeleted:
		return "delete"
	default:
		return "push"
	}
}
