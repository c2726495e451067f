package docker

import (
	"path"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

var _ repo.RegistryNotifier = (*Format)(nil)

// RegistryEvents maps an asset event to Distribution's events: a blob or a
// manifest stored is a push, one served a pull, one deleted a delete. A
// manifest pushed by tag is stored at its digest with the tag written with
// it: the tag's event is the push (with the tag), as Distribution sends one
// event for it; a pull by tag is served from the tag, so it has its tag.
func (f *Format) RegistryEvents(ev meta.Event) []repo.RegistryEvent {
	if ev.Asset == nil || ev.Type != meta.EventAsset && ev.Type != meta.EventDownload {
		return nil
	}
	a := ev.Asset
	action := repo.RegistryAction(ev)
	target := repo.RegistryEvent{Action: action, MediaType: a.ContentType, Digest: a.Blob, Size: a.Size}
	if image, ref, ok := splitManifestPath(a.Path); ok {
		if action == "push" && ev.Aliases > 0 {
			return nil // its tags' events report it
		}
		target.Repository = image
		if !isDigestRef(ref) {
			target.Tag = ref
		}
		return []repo.RegistryEvent{target}
	}
	dir, ref := path.Split(a.Path)
	image, ok := strings.CutSuffix(dir, "/blobs/")
	if !ok || !strings.HasPrefix(image, "v2/") || !isDigestRef(ref) {
		return nil
	}
	target.Repository = image[len("v2/"):]
	target.MediaType = "application/octet-stream"
	return []repo.RegistryEvent{target}
}
