package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/webhooks/webhooktest"
)

// TestWebhooksEveryFormat: for every format of accessFormats, a webhook
// of asset and component events filtered to one hosted repository is sent,
// signed (webhooktest verifies the HMAC), in the order of the events and
// each delivery id once, what the format's client writes (seed) and what a
// DELETE of the component through REST removes: the component created and
// deleted under one id, every asset it had created and then deleted, the
// asset format as the repository names it, the initiator the admin who
// wrote and deleted, the repository empty again; and nothing of another
// repository.
func TestWebhooksEveryFormat(t *testing.T) {
	// Docker keeps the layers of a deleted manifest for docker.gc-grace
	// (a push may still reference them; the task repository.docker.gc frees
	// them later); 0 frees them with the manifest, as every other format's
	// assets go with their component.
	s := startServerEnv(t, "NEXUS_GO_DOCKER_GC_GRACE=0s")
	type hooked struct {
		f    accessFormat
		repo string
		rcv  *webhooktest.Receiver
	}
	var all []hooked
	parent := t // the receivers serve until the end: the filter subtest reads them too
	for _, f := range accessFormats {
		t.Run(f.name, func(t *testing.T) {
			repo := "wh-" + f.rest()
			mustCreate(s, f, "hosted", f.hosted(t, repo))
			var info struct{ Format, Type string }
			s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/"+repo, s.admin(), nil, &info)
			if info.Format != f.name || info.Type != "hosted" {
				t.Errorf("GET /v1/repositories/%s: format %q type %q, want %q hosted", repo, info.Format, info.Type, f.name)
			}
			secret := "secret of " + repo
			rcv := webhooktest.New(parent, secret)
			hook := "hook-" + f.rest()
			s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/webhooks", s.admin(), map[string]any{
				"name": hook, "url": rcv.URL, "secret": secret, "eventTypes": []string{"asset", "component", "download"},
				"repositories": []string{repo}, "backoff": "100ms"}, nil)
			all = append(all, hooked{f, repo, rcv})

			seeded := f.seed(t, s, repo)
			pulled := f.downloaded(t, s, repo, seeded)
			for _, p := range pulled {
				if res := s.do(http.MethodGet, f.route(repo, p), s.admin(), nil, nil); res.status != http.StatusOK {
					t.Fatalf("GET %s: %d %s", f.route(repo, p), res.status, res.body)
				}
			}
			comps, _ := listAll[component](s, "/v1/components?repository="+url.QueryEscape(repo))
			if len(comps) != 1 {
				t.Fatalf("after seeding %s: %d components, want 1: %+v", seeded, len(comps), comps)
			}
			comp := comps[0]
			var compAssets []string
			for _, a := range comp.Assets {
				compAssets = append(compAssets, a.Path)
			}
			if res := s.do(http.MethodDelete, "/service/rest/v1/components/"+comp.ID, s.admin(), nil, nil); res.status != http.StatusNoContent {
				t.Fatalf("DELETE component %s: status %d: %s", comp.ID, res.status, res.body)
			}
			left := map[string]bool{}
			for _, a := range s.assets(repo) {
				left[a.Path] = true
			}
			got := waitDelivered(t, s, hook, rcv)
			defer func() {
				if t.Failed() {
					for i, d := range got {
						t.Logf("delivery %d: %s %s", i, d.WebhookID, d.Raw)
					}
				}
			}()
			checkDeliveries(t, got, repo)

			// The component: created, then deleted, under its REST id, as
			// the REST API describes it.
			created, deleted := -1, -1
			for i, d := range got {
				c := d.Body.Component
				if c == nil || c.ID != comp.ID {
					continue
				}
				switch {
				case d.Body.Action == "CREATED" && created < 0:
					created = i
				case d.Body.Action == "DELETED" && deleted < 0:
					deleted = i
				default:
					t.Errorf("delivery %d: component %s %s again", i, c.ID, d.Body.Action)
				}
				if c.Format != info.Format || c.Name != comp.Name || c.Group != comp.Group || c.Version != comp.Version {
					t.Errorf("delivery %d: component %+v, want format %s and %+v", i, *c, info.Format, comp)
				}
			}
			if created < 0 || deleted < created {
				t.Errorf("component %s: CREATED at delivery %d, DELETED at %d: want both, created first", comp.ID, created, deleted)
			}

			// The assets: the seeded path (or, when it names none, an asset
			// of the component) created, with the format; every asset
			// created deleted later, as the repository is empty again.
			for p := range left {
				t.Errorf("asset %s still listed by GET /v1/assets after deleting the only component %s (its assets %q)", p, comp.ID, compAssets)
			}
			sawSeeded := false
			for i, d := range got {
				a := d.Body.Asset
				if a == nil || d.Body.Action != "CREATED" {
					continue
				}
				if a.Format != info.Format {
					t.Errorf("delivery %d: asset %s of format %q, want %q", i, a.Name, a.Format, info.Format)
				}
				if a.Name == seeded || !slices.Contains(compAssets, seeded) && slices.Contains(compAssets, a.Name) {
					sawSeeded = true
				}
				if !slices.ContainsFunc(got[i+1:], func(e webhooktest.Delivery) bool {
					return e.Body.Asset != nil && e.Body.Asset.Name == a.Name && e.Body.Action == "DELETED"
				}) {
					t.Errorf("asset %s: CREATED (delivery %d), no DELETED after it", a.Name, i)
				}
			}
			// Each download: one DOWNLOADED of the asset served, before the
			// component's delete.
			for _, p := range pulled {
				var at []int
				for i, d := range got {
					if d.Body.Action == "DOWNLOADED" && d.Body.Asset != nil && d.Body.Asset.Name == p {
						at = append(at, i)
					}
				}
				if len(at) != 1 || deleted >= 0 && at[0] > deleted {
					t.Errorf("download of %s: DOWNLOADED at deliveries %v, want once, before the component's DELETED (%d)", p, at, deleted)
				}
			}
			if !sawSeeded {
				t.Errorf("no asset CREATED delivery for the seeded %s (component assets %q)", seeded, compAssets)
			}
			for _, p := range compAssets {
				if !slices.ContainsFunc(got, func(d webhooktest.Delivery) bool {
					return d.Body.Asset != nil && d.Body.Asset.Name == p && d.Body.Action == "DELETED"
				}) {
					t.Errorf("asset %s of deleted component %s: no DELETED delivery", p, comp.ID)
				}
			}
		})
	}

	// The repository filter: once a webhook has been sent a change made
	// after every other format's, it was sent none of theirs.
	t.Run("repository filter", func(t *testing.T) {
		for _, h := range all {
			status, p := h.f.store(t, s, s.admin(), h.repo, "late")
			if status/100 != 2 {
				t.Fatalf("%s: storing late %s: status %d", h.repo, p, status)
			}
			if !pollUntil(300, func() bool {
				return slices.ContainsFunc(h.rcv.Got(), func(d webhooktest.Delivery) bool {
					return d.Body.Asset != nil && d.Body.Asset.Name == p && d.Body.Action == "CREATED"
				})
			}) {
				t.Fatalf("%s: no delivery of the late asset %s", h.repo, p)
			}
		}
		for _, h := range all {
			for i, d := range h.rcv.Got() {
				if d.Body.RepositoryName != h.repo {
					t.Errorf("webhook of %s: delivery %d is of repository %q: %s", h.repo, i, d.Body.RepositoryName, d.Raw)
				}
			}
		}
	})
}

// waitDelivered waits (bounded) until webhook hook has nothing pending and
// has delivered exactly what rcv holds, and returns that.
func waitDelivered(t *testing.T, s *nexusServer, hook string, rcv *webhooktest.Receiver) []webhooktest.Delivery {
	t.Helper()
	var st struct {
		Delivery struct {
			Pending   int     `json:"pending"`
			Delivered int     `json:"delivered"`
			Failures  int     `json:"failures"`
			LastError *string `json:"lastError"`
		} `json:"delivery"`
	}
	var got []webhooktest.Delivery
	if !pollUntil(300, func() bool {
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/webhooks/"+hook, s.admin(), nil, &st)
		got = rcv.Got()
		return st.Delivery.Pending == 0 && st.Delivery.Delivered == len(got)
	}) {
		t.Fatalf("webhook %s: %+v with %d received, want nothing pending and all received", hook, st.Delivery, len(got))
	}
	return got
}

// checkDeliveries checks what every delivery of a webhook of asset and
// component events of repo must be: its X-Nexus-Webhook-Id the kind of
// its body, of repo, by the admin, its id once, in the order of the events.
func checkDeliveries(t *testing.T, got []webhooktest.Delivery, repo string) {
	t.Helper()
	ids := map[string]int{}
	var last time.Time
	for i, d := range got {
		a, c := d.Body.Asset != nil, d.Body.Component != nil
		switch {
		case d.WebhookID == "rm:repository:asset" && a && !c:
		case d.WebhookID == "rm:repository:component" && c && !a:
		default:
			t.Errorf("delivery %d: X-Nexus-Webhook-Id %q with a body of asset %v, component %v", i, d.WebhookID, a, c)
		}
		if !strings.HasPrefix(d.ContentType, "application/json") {
			t.Errorf("delivery %d: Content-Type %q", i, d.ContentType)
		}
		if d.Body.RepositoryName != repo {
			t.Errorf("delivery %d: repositoryName %q, want %q", i, d.Body.RepositoryName, repo)
		}
		if !slices.Contains([]string{"CREATED", "UPDATED", "DELETED", "DOWNLOADED"}, d.Body.Action) {
			t.Errorf("delivery %d: action %q", i, d.Body.Action)
		}
		if !strings.HasPrefix(d.Body.Initiator, "admin/") {
			t.Errorf("delivery %d: %s %s by %q, want the admin", i, d.WebhookID, d.Body.Action, d.Body.Initiator)
		}
		if d.ID == "" {
			t.Errorf("delivery %d: no X-Nexus-Webhook-Delivery", i)
		} else if j, ok := ids[d.ID]; ok {
			t.Errorf("deliveries %d and %d: the same id %s", j, i, d.ID)
		}
		ids[d.ID] = i
		var ts struct{ Timestamp string }
		if err := json.Unmarshal(d.Raw, &ts); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse("2006-01-02T15:04:05.000-0700", ts.Timestamp)
		if err != nil {
			t.Errorf("delivery %d: timestamp %q: %v", i, ts.Timestamp, err)
		} else if at.Before(last) {
			t.Errorf("delivery %d: timestamp %s before the previous delivery's %s", i, at, last)
		}
		last = at
	}
}
