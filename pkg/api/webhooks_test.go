package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/webhooks"
	"github.com/nexus-go/nexus-go/pkg/webhooks/webhooktest"
)

// A declared webhook (a notification endpoint of the properties file) is
// shown as declared, refuses PUT and DELETE with 400, and can be tested.
func TestDeclaredWebhookREST(t *testing.T) {
	rcv := webhooktest.New(t, "")
	f := newAPIFixture(t, func(a *API, db *meta.DB, security *auth.Service) *API {
		hooks, err := webhooks.New(db, security, nil, slog.New(slog.DiscardHandler), webhooks.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := hooks.Declare([]meta.Webhook{{Name: "registry", URL: rcv.URL, IgnoredActions: []string{"pull"},
			Headers: map[string]string{"X-Token": "t"}}}); err != nil {
			t.Fatal(err)
		}
		return a.WithWebhooks(hooks)
	})
	if rec := f.admin(http.MethodPost, "/v1/webhooks", `{"name":"ci","url":"http://localhost:9/ci","eventTypes":["asset"]}`); rec.Code != http.StatusCreated {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}

	type hook struct {
		Name           string   `json:"name"`
		Payload        string   `json:"payload"`
		EventTypes     []string `json:"eventTypes"`
		HeaderNames    []string `json:"headerNames"`
		IgnoredActions []string `json:"ignoredActions"`
		Declared       bool     `json:"declared"`
	}
	rec := f.admin(http.MethodGet, "/v1/webhooks", "")
	var list []hook
	if err := json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/webhooks: %d %s", rec.Code, rec.Body)
	}
	want := []hook{
		{Name: "ci", Payload: "nexus", EventTypes: []string{"asset"}, HeaderNames: []string{}},
		{Name: "registry", Payload: "registry", EventTypes: []string{"asset"}, HeaderNames: []string{"X-Token"},
			IgnoredActions: []string{"pull"}, Declared: true},
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("GET /v1/webhooks = %+v\nwant %+v", list, want)
	}
	rec = f.admin(http.MethodGet, "/v1/webhooks/registry", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"declared":true`) {
		t.Errorf("GET /v1/webhooks/registry: %d %s, want declared", rec.Code, rec.Body)
	}

	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		rec := f.admin(method, "/v1/webhooks/registry", `{"url":"http://localhost:9/other","payload":"registry"}`)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "declared in nexus-go.properties") {
			t.Errorf("%s of a declared webhook: %d %s, want 400 saying it is declared in nexus-go.properties", method, rec.Code, rec.Body)
		}
	}
	if rec := f.admin(http.MethodPut, "/v1/webhooks/ci", `{"url":"http://localhost:9/ci2","eventTypes":["asset"]}`); rec.Code != http.StatusNoContent {
		t.Errorf("PUT of a REST webhook: %d %s", rec.Code, rec.Body)
	}

	if rec := f.admin(http.MethodPost, "/v1/webhooks/registry/test", ""); rec.Code != http.StatusNoContent {
		t.Fatalf("test of a declared webhook: %d %s", rec.Code, rec.Body)
	}
	d := rcv.Wait(1)[0]
	if d.ContentType != "application/vnd.docker.distribution.events.v1+json" || d.Header.Get("X-Token") != "t" || string(d.Raw) != `{"events":[]}` {
		t.Errorf("test delivery %q %v %s, want Distribution's empty envelope with X-Token", d.ContentType, d.Header, d.Raw)
	}
}
