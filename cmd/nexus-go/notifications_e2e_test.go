package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
	"github.com/nexus-go/nexus-go/pkg/webhooks/webhooktest"
)

// TestNotificationEndpoints: a registry:2-style endpoint declared in
// nexus-go.properties receives Distribution's envelope of the pushes to
// its repository, with its header, and not the actions it ignores; the
// REST API shows it as declared and refuses to change or delete it; a REST
// webhook of its name stops the start with a message; removed from the
// file, it is gone after a restart.
func TestNotificationEndpoints(t *testing.T) {
	rcv := webhooktest.New(t, "")
	s := startServer(t)
	for _, name := range []string{"docker-h", "docker-other"} {
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
			dockerHostedJSON(name, testproc.FreePort(t), false), nil)
	}
	props := filepath.Join(s.cwd, "nexus-go.properties")
	writeProps := func(text string) {
		t.Helper()
		if err := os.WriteFile(props, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	endpoint := "notifications.endpoints.ci.url=" + rcv.URL + "\n" +
		"notifications.endpoints.ci.headers.Authorization=Bearer e2e-token\n" +
		"notifications.endpoints.ci.backoff=100ms\n" +
		"notifications.endpoints.ci.ignore.actions=delete\n" +
		"notifications.endpoints.ci.repositories=docker-h\n"
	writeProps(endpoint)
	s.stop()
	s.restart()

	type hook struct {
		Name           string   `json:"name"`
		Payload        string   `json:"payload"`
		HeaderNames    []string `json:"headerNames"`
		IgnoredActions []string `json:"ignoredActions"`
		Declared       bool     `json:"declared"`
	}
	var got hook
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/webhooks/ci", s.admin(), nil, &got)
	if want := (hook{Name: "ci", Payload: "registry", HeaderNames: []string{"Authorization"}, IgnoredActions: []string{"delete"},
		Declared: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("GET /v1/webhooks/ci = %+v, want %+v", got, want)
	}

	// docker-other is not the endpoint's; the delete is ignored; the
	// second push comes after both, so once it arrived, either would have.
	first, second := newDPImage(t, []byte("layer one")), newDPImage(t, []byte("layer two"))
	pushDPImage(t, s.url("/v2/docker-other"), s.admin(), "team/app", "1.0", first)
	pushDPImage(t, s.url("/v2/docker-h"), s.admin(), "team/app", "1.0", first)
	if status, _, body := dpDo(t, http.MethodDelete, s.url("/v2/docker-h/team/app/manifests/"+first.digest), s.admin(), nil, nil); status != http.StatusAccepted {
		t.Fatalf("deleting the manifest: %d %s", status, body)
	}
	pushDPImage(t, s.url("/v2/docker-h"), s.admin(), "team/app", "2.0", second)

	var pushed []string
	deliveries := rcv.Wait(6)
	for _, d := range deliveries {
		if d.ContentType != "application/vnd.docker.distribution.events.v1+json" || d.Header.Get("Authorization") != "Bearer e2e-token" {
			t.Errorf("delivery with Content-Type %q, Authorization %q: want Distribution's and the declared header",
				d.ContentType, d.Header.Get("Authorization"))
		}
		var env struct {
			Events []struct {
				Action string
				Target struct{ MediaType, Digest, Repository, Tag string }
			}
		}
		if err := json.Unmarshal(d.Raw, &env); err != nil || len(env.Events) != 1 {
			t.Fatalf("notification %s: %v", d.Raw, err)
		}
		e := env.Events[0]
		pushed = append(pushed, e.Action+" "+e.Target.Repository+":"+e.Target.Tag+" "+e.Target.Digest)
	}
	want := []string{
		"push team/app: sha256:" + sha(first.config), "push team/app: sha256:" + sha(first.layers[0]), "push team/app:1.0 " + first.digest,
		"push team/app: sha256:" + sha(second.config), "push team/app: sha256:" + sha(second.layers[0]), "push team/app:2.0 " + second.digest,
	}
	if !slices.Equal(pushed, want) {
		t.Errorf("notified\n%s\nwant\n%s", strings.Join(pushed, "\n"), strings.Join(want, "\n"))
	}

	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		res := s.doJSON(method, "/v1/webhooks/ci", s.admin(), map[string]any{"url": rcv.URL, "payload": "registry"}, nil)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "declared in nexus-go.properties") {
			t.Errorf("%s /v1/webhooks/ci: %d %s, want 400 saying it is declared in nexus-go.properties", method, res.status, res.body)
		}
	}
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/webhooks/ci/test", s.admin(), nil, nil)
	if d := rcv.Wait(7)[6]; string(d.Raw) != `{"events":[]}` || d.Header.Get("Authorization") != "Bearer e2e-token" {
		t.Errorf("test delivery %s with Authorization %q, want an empty envelope with the declared header", d.Raw, d.Header.Get("Authorization"))
	}

	// Gone from the file, gone from the server; a REST webhook of the name
	// then stops a start that declares it again.
	writeProps("")
	s.stop()
	s.restart()
	if res := s.doJSON(http.MethodGet, "/v1/webhooks/ci", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET /v1/webhooks/ci after its removal from the file: %d %s, want 404", res.status, res.body)
	}
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/webhooks", s.admin(), map[string]any{
		"name": "ci", "url": rcv.URL, "eventTypes": []string{"asset"}}, nil)
	writeProps(endpoint)
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nexusBin, "serve", "--data-dir", s.dataDir, "--port", strconv.Itoa(testproc.FreePort(t)))
	cmd.Dir, cmd.Env = s.cwd, serverEnv()
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `notification endpoint "ci" is declared in nexus-go.properties`) ||
		!strings.Contains(string(out), "REST API") {
		t.Errorf("start declaring the name of a REST webhook: %v\n%s\nwant a failed start naming the conflict", err, out)
	}
}
