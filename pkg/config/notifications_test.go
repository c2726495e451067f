package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNotificationEndpoints(t *testing.T) {
	const file = `
notifications.endpoints.zeta.url=http://localhost:9000/events
notifications.endpoints.CI-Hook.url = https://ci.example.org/registry-events
notifications.endpoints.CI-Hook.headers.Authorization = Bearer t0ken
notifications.endpoints.CI-Hook.headers.X-Team = platform
notifications.endpoints.CI-Hook.timeout=500ms
notifications.endpoints.CI-Hook.threshold=10
notifications.endpoints.CI-Hook.backoff=3
notifications.endpoints.CI-Hook.ignore.actions= Pull ,delete,pull
notifications.endpoints.CI-Hook.repositories=docker-hosted, docker-internal
log.level=debug
`
	dir := isolate(t)
	got, err := Load(Flags{ConfigFile: writeFile(t, filepath.Join(dir, "c.properties"), file)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []NotificationEndpoint{
		{
			Name:           "CI-Hook",
			URL:            "https://ci.example.org/registry-events",
			Headers:        map[string]string{"Authorization": "Bearer t0ken", "X-Team": "platform"},
			Timeout:        500 * time.Millisecond,
			Threshold:      10,
			Backoff:        3 * time.Second,
			IgnoredActions: []string{"delete", "pull"},
			Repositories:   []string{"docker-hosted", "docker-internal"},
		},
		{Name: "zeta", URL: "http://localhost:9000/events"},
	}
	if !reflect.DeepEqual(got.NotificationEndpoints, want) {
		t.Errorf("NotificationEndpoints =\n%+v\nwant\n%+v", got.NotificationEndpoints, want)
	}
	if got.LogLevel != "debug" {
		t.Errorf("LogLevel = %q: the other keys of the file are read as before", got.LogLevel)
	}
}

func TestNotificationEndpointErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // substrings of the error
	}{
		{name: "missing url", file: "notifications.endpoints.a.timeout=1s",
			want: []string{"notifications.endpoints.a.url", "c.properties", "must be set"}},
		{name: "bad url", file: "notifications.endpoints.a.url=localhost:9000",
			want: []string{"notifications.endpoints.a.url", "http or https"}},
		{name: "bad timeout", file: "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.timeout=soon",
			want: []string{"notifications.endpoints.a.timeout", `"soon"`, "duration"}},
		{name: "zero backoff", file: "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.backoff=0",
			want: []string{"notifications.endpoints.a.backoff", "greater than zero"}},
		{name: "bad threshold", file: "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.threshold=-2",
			want: []string{"notifications.endpoints.a.threshold", "1 or more"}},
		{name: "unknown action", file: "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.ignore.actions=push,fetch",
			want: []string{"notifications.endpoints.a.ignore.actions", `"fetch"`, "delete, pull, push"}},
		{name: "unknown setting", file: "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.tiemout=1s",
			want: []string{"notifications.endpoints.a.tiemout", "unknown setting"}},
		{name: "no setting", file: "notifications.endpoints.a=http://localhost/",
			want: []string{"notifications.endpoints.a", "<name>.<setting>"}},
		{name: "name with a space", file: "notifications.endpoints.a\\ b.url=http://localhost/",
			want: []string{"notifications.endpoints.a b.url", "letters, digits"}},
		{name: "empty header", file: "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.headers.X-A=",
			want: []string{"notifications.endpoints.a.headers.X-A", "must not be empty"}},
	}
	// A value that may be a secret is not in the error (which is logged).
	for _, secret := range []struct{ name, file string }{
		{"misspelt header", "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.header.Authorization=Bearer s3cret-token"},
		{"header without a name", "notifications.endpoints.a.url=http://localhost/\nnotifications.endpoints.a.headers.=Bearer s3cret-token"},
		{"url with credentials", "notifications.endpoints.a.url=ftp://user:s3cret-token@localhost/"},
	} {
		t.Run(secret.name, func(t *testing.T) {
			dir := isolate(t)
			_, err := Load(Flags{ConfigFile: writeFile(t, filepath.Join(dir, "c.properties"), secret.file+"\n")}, nil)
			if err == nil || strings.Contains(err.Error(), "s3cret-token") {
				t.Errorf("error %v: want one, without the secret", err)
			}
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			wantLoadError(t, Flags{ConfigFile: writeFile(t, filepath.Join(dir, "c.properties"), tt.file+"\n")}, nil, tt.want...)
		})
	}
}

// The example file's commented endpoint, uncommented, is a valid one.
func TestExampleNotificationEndpoint(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "nexus-go.properties.example"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "#"+notificationsPrefix); ok {
			b.WriteString(notificationsPrefix + rest + "\n")
		}
	}
	dir := isolate(t)
	got, err := Load(Flags{ConfigFile: writeFile(t, filepath.Join(dir, "x.properties"), b.String())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []NotificationEndpoint{{
		Name:           "alistener",
		URL:            "https://listener.example/event",
		Headers:        map[string]string{"Authorization": "Bearer <token>"},
		Timeout:        time.Second,
		Threshold:      10,
		Backoff:        time.Second,
		IgnoredActions: []string{"pull"},
		Repositories:   []string{"docker-hosted"},
	}}
	if !reflect.DeepEqual(got.NotificationEndpoints, want) {
		t.Errorf("the example's endpoint =\n%+v\nwant\n%+v", got.NotificationEndpoints, want)
	}
}
