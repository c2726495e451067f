package webhooks

import (
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// liveState is a running worker's state: the stored one lags by up to a
// batch of deliveries.
type liveState struct {
	id string // the webhook's, telling it from a later one of the same name
	st meta.WebhookState
}

// setLive records st as w's current state.
func (s *Service) setLive(w meta.Webhook, st meta.WebhookState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live[w.Name] = liveState{id: w.ID, st: st}
}

// dropLive forgets w's state when its worker ends: what it had is saved,
// and a webhook deleted must not linger.
func (s *Service) dropLive(w meta.Webhook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live[w.Name].id == w.ID {
		delete(s.live, w.Name)
	}
}

// liveOf returns w's state as its worker has it, if one runs.
func (s *Service) liveOf(w meta.Webhook) (meta.WebhookState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.live[w.Name]
	return l.st, ok && l.id == w.ID
}

// Statuses returns every webhook with its delivery state, as its worker
// has it when one runs. It checks no privilege: List does, and the
// metrics scrape that also calls it was authorized.
func (s *Service) Statuses() ([]Webhook, error) {
	ws, err := s.db.Webhooks()
	if err != nil {
		return nil, err
	}
	out := make([]Webhook, 0, len(ws))
	for _, w := range ws {
		one, err := s.get(w.Name)
		if errs.KindOf(err) == errs.NotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, one)
	}
	return out, nil
}
