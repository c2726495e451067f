// Package webhooktest is a webhook receiver for tests: it verifies each
// request's signature as a receiver written for Nexus does and records the
// deliveries; while Down it answers 503.
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Delivery is one request the receiver accepted.
type Delivery struct {
	ID, WebhookID, ContentType string
	Header                     http.Header
	Body                       Payload
	Raw                        []byte
}

// Payload is the part of Nexus's webhook payload tests look at.
type Payload struct {
	NodeID         string `json:"nodeId"`
	Initiator      string `json:"initiator"`
	RepositoryName string `json:"repositoryName"`
	Action         string `json:"action"`
	Asset          *struct {
		ID, Format, Name string
	} `json:"asset"`
	Component *struct {
		ID, Format, Name, Group, Version string
	} `json:"component"`
	Repository *struct {
		Format, Name, Type string
	} `json:"repository"`
	Audit *struct {
		Domain, Type, Context string
		Attributes            map[string]string
	} `json:"audit"`
}

// Receiver is the endpoint.
type Receiver struct {
	URL  string
	Down atomic.Bool

	t      testing.TB
	secret string
	mu     sync.Mutex
	got    []Delivery
}

// New starts a receiver on 127.0.0.1 whose webhook signs with secret ("": none).
func New(t testing.TB, secret string) *Receiver {
	r := &Receiver{t: t, secret: secret}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.Down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	m := hmac.New(sha1.New, []byte(r.secret))
	m.Write(body)
	if got, want := req.Header.Get("X-Nexus-Webhook-Signature"), hex.EncodeToString(m.Sum(nil)); r.secret != "" && got != want {
		r.t.Errorf("webhook signature %q, want %q", got, want)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("webhook payload %s: %v", body, err)
	}
	r.mu.Lock()
	r.got = append(r.got, Delivery{ID: req.Header.Get("X-Nexus-Webhook-Delivery"), WebhookID: req.Header.Get("X-Nexus-Webhook-Id"),
		ContentType: req.Header.Get("Content-Type"), Header: req.Header.Clone(), Body: p, Raw: body})
	r.mu.Unlock()
}

// Got returns the deliveries so far.
func (r *Receiver) Got() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Wait returns the deliveries once there are at least n, failing the test
// after 30 s.
func (r *Receiver) Wait(n int) []Delivery {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got := r.Got(); len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("the webhook receiver got %d deliveries, want %d", len(r.Got()), n)
	return nil
}
