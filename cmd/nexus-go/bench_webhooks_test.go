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
// each pushed the same blobs and asked the same manifest, in alternating
// rounds. It reports the hooked server's throughput as a share of the
// plain one's: the delivery is asynchronous, so the share should be ~1.
func BenchmarkWebhookOverhead(b *testing.B) {
	const (
		rounds    = 3
		blobs     = 48
		blobSize  = 256 << 10
		manifests = 2000
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
		pushed   time.Duration
		rps      float64
	}
	client := benchClient()
	defer client.CloseIdleConnections()
	sides := make([]*side, 2)
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
	for r := range rounds {
		data, digests := benchData(b, blobs, blobSize)
		for k := range sides {
			sd := sides[(r+k)%2] // alternate which goes first
			wall, err := parallel(blobs, func(i int) error { return sd.reg.pushBlob(benchImage, data[i], digests[i]) })
			if err != nil {
				b.Fatal(err)
			}
			sd.pushed += wall
			rps, _, _, err := sd.reg.manifestGETs(manifests, sd.manifest, sd.digest)
			if err != nil {
				b.Fatal(err)
			}
			sd.rps += rps / rounds
		}
	}
	var slowHook struct {
		Delivery struct {
			Pending int `json:"pending"`
		} `json:"delivery"`
	}
	sides[1].s.mustJSON(http.StatusOK, http.MethodGet, "/v1/webhooks/hookc", sides[1].s.admin(), nil, &slowHook)
	pushRatio := sides[0].pushed.Seconds() / sides[1].pushed.Seconds()
	getRatio := sides[1].rps / sides[0].rps
	b.ReportMetric(pushRatio, "push-hooked/plain")
	b.ReportMetric(getRatio, "manifest-hooked/plain")
	b.Logf("webhooks: blob pushes %v plain, %v with three webhooks (%.3f of the plain speed); manifest GETs %.0f req/s plain, %.0f with them (%.3f); the slow receiver still had %d events to get",
		sides[0].pushed.Round(time.Millisecond), sides[1].pushed.Round(time.Millisecond), pushRatio,
		sides[0].rps, sides[1].rps, getRatio, slowHook.Delivery.Pending)
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
