package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkWebhookOverhead measures what webhooks cost client requests: two
// servers side by side in one run, one without webhooks and one with three
// (two receivers that answer at once, one that takes a second per request),
// each pushed the same blobs and asked the same manifest by parallel
// clients, in rounds that alternate which server goes first. Each round
// gives the hooked server's speed as a share of the plain one's; the
// median of the rounds' shares is reported (one round's noise on a shared
// machine cannot decide it), with the slow receiver's backlog at the end.
// The delivery is asynchronous, so the shares should be ~1 (target: at
// least 0.97).
func BenchmarkWebhookOverhead(b *testing.B) {
	const (
		rounds    = 7
		blobs     = 512
		blobSize  = 256 << 10
		manifests = 20000
	)
	fast := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer fast.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(time.Second) }))
	defer slow.Close()

	type side struct {
		s        *nexusServer
		reg      *registry
		manifest []byte
		digest   string
	}
	client := benchClient()
	defer client.CloseIdleConnections()
	sides := make([]*side, 2) // plain, hooked
	for i := range sides {
		sd := &side{s: benchServer(b)}
		if i == 1 {
			for j, url := range []string{fast.URL, fast.URL, slow.URL} {
				sd.s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/webhooks", sd.s.admin(), map[string]any{
					"name": "hook" + string(rune('a'+j)), "url": url, "secret": "bench",
					"eventTypes": []string{"asset", "component", "repository"}}, nil)
			}
		}
		sd.reg, _ = benchDockerRepo(b, sd.s, client)
		sd.manifest, sd.digest = pushBenchManifest(b, sd.reg)
		sides[i] = sd
	}
	var pushShares, getShares []float64
	for r := range rounds {
		data, digests := benchData(b, blobs, blobSize)
		var pushed [2]time.Duration
		var rps [2]float64
		for k := range sides {
			i := (r + k) % 2 // alternate which goes first
			sd := sides[i]
			wall, err := parallel(blobs, func(j int) error { return sd.reg.pushBlob(benchImage, data[j], digests[j]) })
			if err != nil {
				b.Fatal(err)
			}
			pushed[i] = wall
			if rps[i], _, _, err = sd.reg.manifestGETs(manifests, sd.manifest, sd.digest); err != nil {
				b.Fatal(err)
			}
		}
		pushShares = append(pushShares, pushed[0].Seconds()/pushed[1].Seconds())
		getShares = append(getShares, rps[1]/rps[0])
		b.Logf("round %d: blob pushes %v plain, %v hooked (%.3f); manifest GETs %.0f req/s plain, %.0f hooked (%.3f)", r+1,
			pushed[0].Round(time.Millisecond), pushed[1].Round(time.Millisecond), pushShares[r], rps[0], rps[1], getShares[r])
	}
	var slowHook struct {
		Delivery struct {
			Pending int `json:"pending"`
		} `json:"delivery"`
	}
	sides[1].s.mustJSON(http.StatusOK, http.MethodGet, "/v1/webhooks/hookc", sides[1].s.admin(), nil, &slowHook)
	push, get := median(pushShares), median(getShares)
	b.ReportMetric(push, "push-hooked/plain")
	b.ReportMetric(get, "manifest-hooked/plain")
	b.ReportMetric(float64(slowHook.Delivery.Pending), "slow-pending")
	b.Logf("webhooks, median of %d rounds: blob pushes at %.3f of the plain speed, manifest GETs at %.3f (target >= 0.97); the slow receiver still had %d events to get",
		rounds, push, get, slowHook.Delivery.Pending)
}

// pushBenchManifest pushes a config blob and benchImage:latest naming it
// and one layer, and returns the manifest and its digest.
func pushBenchManifest(b *testing.B, reg *registry) ([]byte, string) {
	b.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := randomBytes(b, 1024)
	for _, blob := range [][]byte{config, layer} {
		if err := reg.pushBlob(benchImage, blob, "sha256:"+sha(blob)); err != nil {
			b.Fatal(err)
		}
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": desc{"application/vnd.oci.image.config.v1+json", "sha256:" + sha(config), len(config)},
		"layers": []desc{{"application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + sha(layer), len(layer)}},
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := reg.call(http.MethodPut, "/v2/"+benchImage+"/manifests/latest", manifest,
		map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, http.StatusCreated); err != nil {
		b.Fatal(err)
	}
	return manifest, "sha256:" + sha(manifest)
}
