package webhooks

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// registryMediaType is the content type of Distribution's event envelope.
const registryMediaType = "application/vnd.docker.distribution.events.v1+json"

// registryEnvelope is CNCF Distribution's notification body, as
// registry:2's endpoints receive it.
type registryEnvelope struct {
	Events []registryEvent `json:"events"`
}

type registryEvent struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Action    string    `json:"action"`
	Target    struct {
		MediaType  string `json:"mediaType,omitempty"`
		Size       int64  `json:"size,omitempty"`
		Digest     string `json:"digest,omitempty"`
		Length     int64  `json:"length,omitempty"`
		Repository string `json:"repository"`
		Tag        string `json:"tag,omitempty"`
	} `json:"target"`
	Request struct {
		Addr   string `json:"addr,omitempty"`
		Method string `json:"method"`
	} `json:"request"`
	Actor struct {
		Name string `json:"name,omitempty"`
	} `json:"actor"`
	Source struct {
		InstanceID string `json:"instanceID"`
	} `json:"source"`
}

// renderRegistry returns ev as Distribution's envelope without the
// actions ignored, or nil when nothing is left of it or the event is none
// of Distribution's (another format, a component).
func (s *Service) renderRegistry(ev meta.Event, id string, ignored []string) ([]byte, error) {
	if ev.Asset == nil || s.formats == nil {
		return nil, nil
	}
	f, ok := s.formats.Format(s.formats.FormatOf(ev.Repository))
	n, isRegistry := f.(repo.RegistryNotifier)
	if !ok || !isRegistry {
		return nil, nil
	}
	targets := slices.DeleteFunc(n.RegistryEvents(ev), func(t repo.RegistryEvent) bool {
		return slices.Contains(ignored, t.Action)
	})
	if len(targets) == 0 {
		return nil, nil
	}
	user, addr, _ := strings.Cut(ev.Initiator, "/")
	env := registryEnvelope{Events: make([]registryEvent, len(targets))}
	for i, t := range targets {
		e := &env.Events[i]
		e.ID, e.Timestamp, e.Action = id+"-"+strconv.Itoa(i), ev.Time, t.Action
		e.Target.MediaType, e.Target.Digest, e.Target.Repository, e.Target.Tag = t.MediaType, t.Digest.String(), t.Repository, t.Tag
		switch t.Action {
		case "push":
			e.Target.Size, e.Target.Length = t.Size, t.Size
			e.Request.Method = http.MethodPut
		case "pull":
			e.Target.Size, e.Target.Length = t.Size, t.Size
			e.Request.Method = http.MethodGet
		default:
			e.Request.Method = http.MethodDelete
		}
		e.Request.Addr = addr
		if user != "system" {
			e.Actor.Name = user
		}
		e.Source.InstanceID = s.nodeID
	}
	return json.Marshal(env)
}
