package webhooks

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// batchSize is how many events a worker reads at once.
const batchSize = 100

// Run delivers events until ctx ends: it starts a worker for each webhook,
// stops the workers of webhooks deleted or changed, and prunes delivered
// events every PruneEvery.
func (s *Service) Run(ctx context.Context) {
	type running struct {
		w    meta.Webhook
		stop context.CancelFunc
		done chan struct{}
	}
	workers := map[string]running{}
	var wg sync.WaitGroup
	defer func() {
		for _, r := range workers {
			r.stop()
		}
		wg.Wait()
	}()
	tick := time.NewTicker(s.opts.Poll)
	defer tick.Stop()
	var pruned time.Time
	for {
		ws, err := s.db.Webhooks()
		if err != nil {
			s.log.Error("webhooks: list", "err", err)
		}
		seen := map[string]bool{}
		for _, w := range ws {
			seen[w.Name] = true
			var prev chan struct{}
			if r, ok := workers[w.Name]; ok && reflect.DeepEqual(r.w, w) {
				continue
			} else if ok {
				r.stop()
				prev = r.done
			}
			wctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			workers[w.Name] = running{w: w, stop: stop, done: done}
			wg.Go(func() {
				defer close(done)
				// The new worker reads the state the old one saved last,
				// so it waits for it to finish.
				if prev != nil {
					<-prev
				}
				s.work(wctx, w)
			})
		}
		for name, r := range workers {
			if !seen[name] {
				r.stop()
				delete(workers, name)
			}
		}
		if time.Since(pruned) >= s.opts.PruneEvery && s.opts.Writable() == nil {
			if _, err := s.db.PruneEvents(); err != nil {
				s.log.Error("webhooks: prune delivered events", "err", err)
			}
			pruned = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// work delivers w's events in order until ctx ends.
//
// A delivery only updates the state in memory: it is saved once per batch
// (and when work ends), and at once on a failure or a drop, so that a
// failing webhook's state is stored while it retries. A crash thus sends
// again at most one batch, with the same delivery ids (they derive from
// the webhook's id and the event's sequence), which receivers dedupe: one
// write per batch instead of one per event.
func (s *Service) work(ctx context.Context, w meta.Webhook) {
	_, st, err := s.db.GetWebhook(w.Name)
	if err != nil {
		s.log.Error("webhooks: read state", "webhook", w.Name, "err", err)
		return
	}
	s.setLive(w, st)
	saved := st.Cursor
	defer func() {
		if st.Cursor != saved {
			s.save(w, st)
		}
		s.dropLive(w)
	}()
	for ctx.Err() == nil {
		if s.opts.Writable() != nil {
			if !sleep(ctx, s.opts.Poll) {
				return
			}
			continue
		}
		evs, err := s.db.EventsAfter(st.Cursor, batchSize)
		if err != nil {
			s.log.Error("webhooks: read events", "webhook", w.Name, "err", err)
		}
		if len(evs) == 0 {
			if !sleep(ctx, s.opts.Poll) {
				return
			}
			continue
		}
		for _, ev := range evs {
			if !s.deliver(ctx, w, &st, ev) {
				return
			}
		}
		// The batch's progress, events passed over (not wanted) included,
		// so that they can be pruned.
		if st.Cursor != saved {
			s.save(w, st)
			s.setLive(w, st)
			saved = st.Cursor
		}
	}
}

// deliver sends ev to w until it is delivered or too old, saving the state
// after each failure or drop; false when ctx ended first.
func (s *Service) deliver(ctx context.Context, w meta.Webhook, st *meta.WebhookState, ev meta.Event) bool {
	if !wants(w, ev) {
		st.Cursor = ev.Seq
		return true
	}
	for {
		err := s.send(ctx, w, ev, deliveryID(w, ev))
		if errors.Is(err, errNothingToSend) {
			st.Cursor = ev.Seq
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		now := time.Now().UTC()
		switch {
		case err == nil:
			st.Cursor, st.Delivered, st.Failures, st.LastSuccess = ev.Seq, st.Delivered+1, 0, now
			s.setLive(w, *st)
			return true
		case now.Sub(ev.Time) > s.opts.MaxAge:
			s.log.Warn("webhooks: event dropped, older than the maximum age", "webhook", w.Name,
				"event", ev.Seq, "type", ev.Type, "repository", ev.Repository, "err", err)
			st.Cursor, st.Dropped = ev.Seq, st.Dropped+1
			st.LastError, st.LastFailure = err.Error(), now
		default:
			st.Failures++
			st.LastError, st.LastFailure = err.Error(), now
		}
		s.save(w, *st)
		s.setLive(w, *st) // after the save: what readers see of a failure is stored
		if st.Cursor == ev.Seq {
			return true
		}
		// registry:2's rule: retry at once until threshold failures in a
		// row, then wait backoff between attempts.
		wait := 50 * time.Millisecond
		if st.Failures >= w.Threshold {
			wait = w.Backoff
		}
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// save stores w's state; a failure is logged, and the next save (or a
// resent batch after a restart) makes up for it.
func (s *Service) save(w meta.Webhook, st meta.WebhookState) {
	if err := s.db.SaveWebhookState(w.Name, w.ID, st); err != nil {
		s.log.Error("webhooks: save state", "webhook", w.Name, "err", err)
	}
}

// deliveryID names one event's delivery to one webhook: the same on every
// attempt, so a receiver can tell a retry (after a crash between sending
// and saving) from a new event.
func deliveryID(w meta.Webhook, ev meta.Event) string {
	ns, err := uuid.Parse(w.ID)
	if err != nil {
		ns = uuid.NameSpaceURL
	}
	return uuid.NewSHA1(ns, binary.BigEndian.AppendUint64(nil, ev.Seq)).String()
}

// errNothingToSend is send's answer for an event w's payload has no
// place for.
var errNothingToSend = errors.New("no payload")

// send POSTs ev's payload to w once.
func (s *Service) send(ctx context.Context, w meta.Webhook, ev meta.Event, id string) error {
	body, err := s.render(w, ev, id)
	if err != nil {
		return err
	}
	return s.post(ctx, w, body, webhookIDs[ev.Type], id)
}

// render returns the body of ev for w, or errNothingToSend.
func (s *Service) render(w meta.Webhook, ev meta.Event, id string) ([]byte, error) {
	var body []byte
	var err error
	if w.Payload == meta.PayloadRegistry {
		body, err = s.renderRegistry(ev, id, w.IgnoredActions)
	} else {
		format := ""
		if ev.Asset != nil && s.formats != nil {
			format = s.formats.FormatOf(ev.Repository)
		}
		body, err = render(ev, s.nodeID, format)
	}
	if err == nil && body == nil {
		err = errNothingToSend
	}
	return body, err
}

// post sends one body to w; hookID is its X-Nexus-Webhook-Id.
func (s *Service) post(ctx context.Context, w meta.Webhook, body []byte, hookID, id string) error {
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "nexus-go")
	req.Header.Set("X-Nexus-Webhook-Delivery", id)
	if w.Payload == meta.PayloadRegistry {
		req.Header.Set("Content-Type", registryMediaType)
	} else {
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("X-Nexus-Webhook-Id", hookID)
	}
	if w.Secret != "" {
		req.Header.Set("X-Nexus-Webhook-Signature", sign(w.Secret, body))
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
