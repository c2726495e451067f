package main

// Access rules with real Docker clients: the Docker engine and skopeo.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// TestDockerClientsAccessRules drives the Docker engine and skopeo against
// the access rules: forceBasicAuth holds for anonymous clients on the
// connector and the main port, a group cannot push into another team's
// repository, and a token stops working the moment its user is disabled,
// loses its role or is deleted.
func TestDockerClientsAccessRules(t *testing.T) {
	eng := startDockerEngine(t)
	sk := newSkopeo(t)
	s := startServer(t)
	admin := s.admin()
	s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", admin,
		map[string]any{"enabled": true, "userId": "anonymous", "realmName": "NexusAuthorizingRealm"}, nil)
	layout := filepath.Join(t.TempDir(), "layout")
	img := ociLayout(t, layout, "1.0")
	conn := func(port int, name string) string { return "docker://127.0.0.1:" + strconv.Itoa(port) + "/" + name }
	pushLayout := func(ref string, extra ...string) (string, error) {
		return sk.run(append(append([]string{"copy", "--dest-tls-verify=false"}, extra...), "oci:"+layout+":1.0", ref)...)
	}
	mustPush := func(ref string) {
		t.Helper()
		if out, err := pushLayout(ref, "--dest-creds", "admin:"+s.adminPW); err != nil {
			t.Fatalf("skopeo copy to %s: %v\n%s", ref, err, out)
		}
	}

	t.Run("ForceBasicAuth", func(t *testing.T) {
		strictPort, openPort := testproc.FreePort(t), testproc.FreePort(t)
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-strict", strictPort, true), nil)
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-open", openPort, false), nil)
		mustPush(conn(strictPort, "team/app:1.0"))
		mustPush(conn(openPort, "team/app:1.0"))
		for _, ref := range []string{conn(strictPort, "team/app:1.0"), conn(s.port, "docker-strict/team/app:1.0")} {
			if out, err := sk.run("inspect", "--tls-verify=false", "--no-creds", ref); err == nil {
				t.Errorf("anonymous skopeo inspect %s with forceBasicAuth succeeded:\n%s", ref, out)
			}
			out := eng.mustFail(t, "pull", ref[len("docker://"):])
			if !mentions(out, "unauthorized", "authentication required") {
				t.Errorf("anonymous docker pull %s: want an authentication error, got:\n%s", ref, out)
			}
		}
		for _, ref := range []string{conn(openPort, "team/app:1.0"), conn(s.port, "docker-open/team/app:1.0")} {
			var info struct{ Digest string }
			out := sk.must(t, "inspect", "--tls-verify=false", "--no-creds", ref)
			if err := json.Unmarshal([]byte(out), &info); err != nil || info.Digest != img.manifestDigest {
				t.Errorf("anonymous skopeo inspect %s: %s (%v), want digest %s", ref, out, err, img.manifestDigest)
			}
		}
		// The same bytes by the /repository/ route: refused as well.
		blob := "/repository/docker-strict/v2/team/app/manifests/" + img.manifestDigest
		if res := s.do(http.MethodGet, blob, nil, nil, nil); res.status != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %d, want 401", blob, res.status)
		}
	})

	t.Run("GroupWritableMember", func(t *testing.T) {
		ownPort, victimPort, groupPort := testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t)
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-own", ownPort, true), nil)
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-victim", victimPort, true), nil)
		mustPush(conn(victimPort, "victim/app:1.0"))
		s.createRole("docker-lead", "nx-repository-admin-docker-docker-g1-*", "nx-repository-view-docker-docker-g1-*",
			"nx-repository-view-docker-docker-own-*")
		s.createUser("lead", "lead-password-1", "docker-lead")
		lead := &creds{"lead", "lead-password-1"}
		for _, body := range []string{
			dockerGroupJSON("docker-g1", groupPort, "docker-victim", "docker-own", "docker-victim"),
			dockerGroupJSON("docker-g1", groupPort, "", "docker-victim"),
		} {
			if res := s.doJSON(http.MethodPost, "/v1/repositories/docker/group", lead, body, nil); res.status != http.StatusForbidden {
				t.Fatalf("the lead creates a group over docker-victim: %d %s, want 403", res.status, res.body)
			}
		}
		// Nothing listens for the refused group; skopeo cannot read the
		// victim's image through the group port.
		if out, err := sk.run("inspect", "--tls-verify=false", "--creds", "lead:lead-password-1", conn(groupPort, "victim/app:1.0")); err == nil {
			t.Errorf("skopeo read docker-victim through a refused group:\n%s", out)
		}
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/group", lead,
			dockerGroupJSON("docker-g1", groupPort, "docker-own", "docker-own"), nil)
		reg := "127.0.0.1:" + strconv.Itoa(groupPort)
		eng.login(t, reg, lead.user, lead.pass)
		id := dpBuildImage(t, eng, "nexus-e2e/lead:1", map[string][]byte{"lead.bin": randomBytes(t, 900)})
		eng.must(t, "tag", id, reg+"/team/lead:1.0")
		eng.must(t, "push", reg+"/team/lead:1.0")
		if versions, _ := dockerVersions(s, "docker-own"); !slices.Equal(versions["team/lead"], []string{"1.0"}) {
			t.Errorf("the push through the group: docker-own has %v, want team/lead 1.0", versions)
		}
		if versions, _ := dockerVersions(s, "docker-victim"); len(versions) != 1 {
			t.Errorf("docker-victim changed: %v", versions)
		}
	})

	t.Run("TokensFollowTheirUser", func(t *testing.T) {
		port := testproc.FreePort(t)
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-tok", port, true), nil)
		s.createRole("tok-pusher", "nx-repository-view-docker-docker-tok-*")
		user := func(status string, roles ...string) {
			t.Helper()
			s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/users/pusher", admin,
				map[string]any{"userId": "pusher", "firstName": "E2E", "lastName": "pusher", "emailAddress": "pusher@example.org",
					"status": status, "source": "default", "roles": roles}, nil)
		}
		token := func() string {
			t.Helper()
			q := url.Values{"service": {"127.0.0.1:" + strconv.Itoa(port)}, "scope": {"repository:team/tok:pull,push"}}
			status, _, body, err := v2Get(port, "/v2/token?"+q.Encode(), &creds{"pusher", "pusher-password-1"})
			var tok struct{ Token string }
			if err != nil || status != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
				t.Fatalf("token for pusher: %d %s %v", status, body, err)
			}
			return tok.Token
		}
		push := func(tok, tag string) (string, error) {
			return pushLayout(conn(port, "team/tok:"+tag), "--dest-registry-token", tok)
		}
		s.createUser("pusher", "pusher-password-1", "tok-pusher")
		for _, c := range []struct {
			what   string
			revoke func()
		}{
			{"disabled", func() { user("disabled", "tok-pusher") }},
			{"without its role", func() { user("active") }},
			{"deleted", func() {
				s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/security/users/pusher", admin, nil, nil)
			}},
		} {
			user("active", "tok-pusher")
			tok := token()
			if out, err := push(tok, "before"); err != nil {
				t.Fatalf("skopeo push with pusher's token: %v\n%s", err, out)
			}
			c.revoke()
			if out, err := push(tok, "after-"+c.what[:3]); err == nil {
				t.Errorf("skopeo pushed with the token of a user %s:\n%s", c.what, out)
			}
		}
		versions, _ := dockerVersions(s, "docker-tok")
		if !slices.Equal(versions["team/tok"], []string{"before"}) {
			t.Errorf("docker-tok holds %v, want only the tag pushed before each revocation", versions)
		}
	})
}
