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
