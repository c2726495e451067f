package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/webhooks/webhooktest"
)

// TestWebhooks: a webhook created through REST is sent, signed and in
// order, the repository, component and asset events of raw changes, with
// the initiator; while the receiver is down and the server is killed
// (kill -9) with events pending, nothing is lost (and the metrics show
// the failures and what is pending): after the restart every
// event arrives, in order, each delivery id once.
func TestWebhooks(t *testing.T) {
	s := startServer(t)
	rcv := webhooktest.New(t, "hook-secret")
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/webhooks", s.admin(), map[string]any{
		"name": "ci", "url": rcv.URL, "secret": "hook-secret",
		"eventTypes": []string{"repository", "component", "asset"}, "backoff": "100ms", "threshold": 2}, nil)
	s.createRepo("hosted", hostedBody("hooked", "ALLOW"))
	s.put("hooked", "a/one.txt", []byte("one"))
	if res := s.do(http.MethodDelete, "/repository/hooked/a/one.txt", s.admin(), nil, nil); res.status != http.StatusNoContent {
		t.Fatalf("DELETE: status %d: %s", res.status, res.body)
	}
	got := rcv.Wait(5)
	want := []struct{ hook, action, name string }{
		{"rm:global:repository", "CREATED", "hooked"},
		{"rm:repository:component", "CREATED", "a/one.txt"},
		{"rm:repository:asset", "CREATED", "a/one.txt"},
		{"rm:repository:component", "DELETED", "a/one.txt"},
		{"rm:repository:asset", "DELETED", "a/one.txt"},
	}
	for i, w := range want {
		d := got[i]
		name := ""
		switch {
		case d.Body.Repository != nil:
			name = d.Body.Repository.Name
		case d.Body.Component != nil:
			name = d.Body.Component.Name
		case d.Body.Asset != nil:
			name = d.Body.Asset.Name
		}
		if d.WebhookID != w.hook || d.Body.Action != w.action || name != w.name || d.Body.Initiator != "admin/127.0.0.1" {
			t.Errorf("delivery %d: %s %s %s by %s, want %s %s %s by admin/127.0.0.1", i,
				d.WebhookID, d.Body.Action, name, d.Body.Initiator, w.hook, w.action, w.name)
		}
	}
	if got[2].Body.Asset.Format != "raw" || got[0].Body.Repository.Format != "raw" || got[0].Body.Repository.Type != "hosted" {
		t.Errorf("formats: asset %+v, repository %+v", got[2].Body.Asset, got[0].Body.Repository)
	}

	var hook struct {
		HasSecret bool   `json:"hasSecret"`
		Secret    string `json:"secret"`
		Delivery  struct {
			Pending   int    `json:"pending"`
			Delivered uint64 `json:"delivered"`
		} `json:"delivery"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/webhooks/ci", s.admin(), nil, &hook)
	if !hook.HasSecret || hook.Secret != "" || hook.Delivery.Delivered != 5 || hook.Delivery.Pending != 0 {
		t.Errorf("GET /v1/webhooks/ci = %+v: want the secret hidden, 5 delivered, none pending", hook)
	}

	rcv.Down.Store(true)
	const pending = 10
	for i := range pending {
		s.put("hooked", "b/"+strconv.Itoa(i), []byte{byte(i)})
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/webhooks/ci", s.admin(), nil, &hook)
	if hook.Delivery.Pending != 2*pending {
		t.Errorf("pending while the receiver is down: %d, want %d", hook.Delivery.Pending, 2*pending)
	}
	// The metrics say the same, failures in a row once the worker tried.
	if !pollUntil(100, func() bool {
		return parseScrape(t, s.scrapeMetrics(s.admin()))["nexus_webhook_failures{webhook=ci}"] > 0
	}) {
		t.Error("nexus_webhook_failures{webhook=ci} stays 0 while the receiver is down")
	}
	m := parseScrape(t, s.scrapeMetrics(s.admin()))
	if m["nexus_webhook_events_pending{webhook=ci}"] != 2*pending || m["nexus_webhook_events_delivered_total{webhook=ci}"] != 5 ||
		m["nexus_webhook_last_success_timestamp_seconds{webhook=ci}"] < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("webhook metrics while the receiver is down: pending %v, delivered %v, last success %v; want %d, 5, within the minute",
			m["nexus_webhook_events_pending{webhook=ci}"], m["nexus_webhook_events_delivered_total{webhook=ci}"],
			m["nexus_webhook_last_success_timestamp_seconds{webhook=ci}"], 2*pending)
	}
	s.kill9()
	s.restart()
	rcv.Down.Store(false)
	got = rcv.Wait(5 + 2*pending)
	ids := map[string]bool{}
	for i, d := range got {
		if ids[d.ID] {
			t.Errorf("delivery id %s twice", d.ID)
		}
		ids[d.ID] = true
		if i < 5 {
			continue
		}
		n := strconv.Itoa((i - 5) / 2)
		if (i-5)%2 == 0 && (d.Body.Component == nil || d.Body.Component.Name != "b/"+n) ||
			(i-5)%2 == 1 && (d.Body.Asset == nil || d.Body.Asset.Name != "b/"+n) {
			t.Errorf("delivery %d after the restart is %+v, want b/%s in order", i, d.Body, n)
		}
	}
	if len(got) != 5+2*pending {
		t.Errorf("%d deliveries, want %d", len(got), 5+2*pending)
	}

	if res := s.do(http.MethodPost, "/service/rest/v1/webhooks/ci/test", s.admin(), nil, nil); res.status != http.StatusNoContent {
		t.Errorf("test delivery: status %d: %s", res.status, res.body)
	}
	// Audit records go to webhooks of the audit type (Nexus's global audit
	// webhook), without secrets.
	sec := webhooktest.New(t, "")
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/webhooks", s.admin(), map[string]any{
		"name": "security", "url": sec.URL, "eventTypes": []string{"audit"}}, nil)
	user := &creds{"viewer", "viewer-pw1"}
	s.createUser(user.user, user.pass, "nx-anonymous")
	d := sec.Wait(1)[0]
	if a := d.Body.Audit; d.WebhookID != "rm:global:audit" || a == nil || a.Domain != "security.user" || a.Type != "created" || a.Context != "viewer" {
		t.Errorf("audit delivery %s %s, want security.user created viewer", d.WebhookID, d.Raw)
	}
	if strings.Contains(string(d.Raw), user.pass) {
		t.Errorf("the audit webhook's payload holds the password: %s", d.Raw)
	}
	if res := s.do(http.MethodGet, "/service/rest/v1/webhooks", user, nil, nil); res.status != http.StatusForbidden {
		t.Errorf("GET /v1/webhooks by a user without nx-settings-read: status %d, want 403", res.status)
	}
	// Downloads are events only for a webhook that asks for them: a GET
	// answered with the bytes is one, a HEAD or a 304 is none.
	pulls := webhooktest.New(t, "")
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/webhooks", s.admin(), map[string]any{
		"name": "pulls", "url": pulls.URL, "eventTypes": []string{"download"}, "repositories": []string{"hooked"}}, nil)
	s.put("hooked", "c/pulled.txt", []byte("pulled"))
	s.put("hooked", "c/marker.txt", []byte("marker"))
	const pulled = "/repository/hooked/c/pulled.txt"
	head := s.do(http.MethodHead, pulled, s.admin(), nil, nil)
	if head.status != http.StatusOK || head.header.Get("ETag") == "" {
		t.Fatalf("HEAD: status %d, ETag %q", head.status, head.header.Get("ETag"))
	}
	if res := s.do(http.MethodGet, pulled, s.admin(), nil, nil); res.status != http.StatusOK {
		t.Fatalf("GET: status %d", res.status)
	}
	if res := s.do(http.MethodGet, pulled, s.admin(), nil, http.Header{"If-None-Match": {head.header.Get("ETag")}}); res.status != http.StatusNotModified {
		t.Fatalf("conditional GET: status %d, want 304", res.status)
	}
	// Download events keep the order served: had the HEAD or the 304 been
	// one, it would come before the marker's.
	if res := s.do(http.MethodGet, "/repository/hooked/c/marker.txt", s.admin(), nil, nil); res.status != http.StatusOK {
		t.Fatalf("GET marker: status %d", res.status)
	}
	got = pulls.Wait(2)
	d = got[0]
	if d.WebhookID != "rm:repository:asset" || d.Body.Action != "DOWNLOADED" || d.Body.Asset == nil ||
		d.Body.Asset.Name != "c/pulled.txt" || d.Body.Asset.Format != "raw" || d.Body.Initiator != "admin/127.0.0.1" {
		t.Errorf("download delivery %s %s", d.WebhookID, d.Raw)
	}
	if m := got[1].Body.Asset; len(got) != 2 || m == nil || m.Name != "c/marker.txt" {
		t.Errorf("deliveries after the GET: %d, the second %s; want the marker's next (the HEAD and the 304 are no downloads)", len(got), got[1].Raw)
	}
}
