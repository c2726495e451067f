package main

// Sign-in through the LDAP realm against a real OpenLDAP server (slapd):
// the REST API, /repository/ and Docker clients, with LDAP groups mapped
// to roles, and the realms switching it on and off.

import (
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/ldap/ldaptest"
	"github.com/nexus-go/nexus-go/pkg/testproc"
)

func ldapServerJSON(name string, host string, port, timeout int) map[string]any {
	return map[string]any{"name": name, "protocol": "LDAP", "host": host, "port": port, "searchBase": ldaptest.BaseDN,
		"authScheme": "SIMPLE", "authUsername": ldaptest.AdminDN, "authPassword": ldaptest.AdminPassword,
		"connectionTimeoutSeconds": timeout, "connectionRetryDelaySeconds": 0, "maxIncidentsCount": 0,
		"userBaseDn": "ou=people", "userSubtree": false, "userObjectClass": "inetOrgPerson", "userIdAttribute": "uid",
		"userRealNameAttribute": "cn", "userEmailAddressAttribute": "mail",
		"ldapGroupsAsRoles": true, "groupType": "STATIC", "groupBaseDn": "ou=groups", "groupObjectClass": "groupOfNames",
		"groupIdAttribute": "cn", "groupMemberAttribute": "member", "groupMemberFormat": "${dn}"}
}

func TestLDAPRealm(t *testing.T) {
	dir := ldaptest.Start(t)
	s := startServer(t)
	admin := s.admin()
	alice := &creds{"alice", ldaptest.Users["alice"]}
	bob := &creds{"bob", ldaptest.Users["bob"]}

	var realms []string
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/realms/active", admin, nil, &realms)
	if !slices.Equal(realms, []string{"NexusAuthenticatingRealm", "DockerToken", "NpmToken"}) {
		t.Fatalf("default realms: %v", realms)
	}
	var available []struct{ ID, Name string }
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/realms/available", admin, nil, &available)
	if len(available) != 4 || !slices.ContainsFunc(available, func(r struct{ ID, Name string }) bool {
		return r.ID == "LdapRealm" && r.Name == "LDAP Realm"
	}) {
		t.Errorf("available realms: %+v", available)
	}
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/security/ldap", admin, ldapServerJSON("slapd", dir.Host, dir.Port, 5), nil)
	var got map[string]any
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/ldap/slapd", admin, nil, &got)
	if _, ok := got["authPassword"]; ok || got["host"] != dir.Host || got["id"] == "" {
		t.Fatalf("GET /v1/security/ldap/slapd: %v", got)
	}
	// Groups map to roles of the same name: deployers push, developers read.
	port := testproc.FreePort(t)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-ldap", port, true), nil)
	for id, privs := range map[string][]string{
		"deployers": {"nx-repository-view-docker-docker-ldap-*", "nx-metrics-read"},
		"developers": {"nx-repository-view-docker-docker-ldap-read", "nx-repository-view-docker-docker-ldap-browse",
			"nx-repository-view-raw-raw-ldap-read", "nx-repository-view-raw-raw-ldap-add"},
	} {
		s.mustJSON(http.StatusOK, http.MethodPost, "/v1/security/roles", admin,
			map[string]any{"id": id, "name": id, "source": "LDAP", "description": "LDAP group " + id, "privileges": privs, "roles": []string{}}, nil)
	}
	var ldapRoles []map[string]any
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/roles?source=LDAP", admin, nil, &ldapRoles)
	if len(ldapRoles) != 2 {
		t.Errorf("roles of source LDAP: %v", ldapRoles)
	}

	// Before the realm is active, LDAP users do not exist.
	if res := s.do(http.MethodGet, "/service/rest/v1/status/check", alice, nil, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("alice with the LDAP realm inactive: %d", res.status)
	}
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin,
		[]string{"NexusAuthenticatingRealm", "LdapRealm", "DockerToken"}, nil)
	for _, c := range []struct {
		who  *creds
		want int
	}{
		{alice, http.StatusOK}, {bob, http.StatusForbidden}, {&creds{"carol", ldaptest.Users["carol"]}, http.StatusForbidden},
		{&creds{"alice", "wrong"}, http.StatusUnauthorized}, {&creds{"admin", ldaptest.Users["admin"]}, http.StatusUnauthorized},
		{admin, http.StatusOK},
	} {
		if res := s.do(http.MethodGet, "/service/rest/v1/status/check", c.who, nil, nil); res.status != c.want {
			t.Errorf("GET /v1/status/check as %s: %d, want %d", c.who.user, res.status, c.want)
		}
	}

	// Basic on /repository/: bob writes and reads through his group's role.
	t.Run("Repository", func(t *testing.T) {
		s.createRepo("hosted", hostedBody("raw-ldap", "allow"))
		if res := s.do(http.MethodPut, "/repository/raw-ldap/a.txt", bob, []byte("from bob"), nil); res.status != http.StatusCreated {
			t.Fatalf("bob PUT: %d %s", res.status, res.body)
		}
		if res := s.do(http.MethodGet, "/repository/raw-ldap/a.txt", alice, nil, nil); res.status != http.StatusOK || string(res.body) != "from bob" {
			t.Errorf("alice GET: %d %s", res.status, res.body)
		}
		carol := &creds{"carol", ldaptest.Users["carol"]}
		if res := s.do(http.MethodPut, "/repository/raw-ldap/b.txt", carol, []byte("x"), nil); res.status != http.StatusNotFound && res.status != http.StatusForbidden {
			t.Errorf("carol (no groups) PUT: %d, want 403/404", res.status)
		}
	})

	t.Run("Users", func(t *testing.T) {
		var users []struct {
			UserID, Source, EmailAddress string
			Roles, ExternalRoles         []string
		}
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/users?source=LDAP&userId=alice", admin, nil, &users)
		if len(users) != 1 || users[0].UserID != "alice" || users[0].Source != "LDAP" || users[0].EmailAddress != "alice@example.org" {
			t.Fatalf("LDAP user alice: %+v", users)
		}
		slices.Sort(users[0].Roles)
		if !slices.Equal(users[0].Roles, []string{"deployers", "developers"}) || len(users[0].ExternalRoles) != 2 {
			t.Errorf("alice's roles %v, groups %v", users[0].Roles, users[0].ExternalRoles)
		}
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/users?source=LDAP&userId=nobody", admin, nil, &users)
		if len(users) != 0 {
			t.Errorf("LDAP user nobody: %+v", users)
		}
		if res := s.doJSON(http.MethodGet, "/v1/security/users?source=LDAP&userId=alice", bob, nil, nil); res.status != http.StatusForbidden {
			t.Errorf("bob lists LDAP users: %d", res.status)
		}
	})

	t.Run("Docker", func(t *testing.T) {
		eng := startDockerEngine(t)
		sk := newSkopeo(t)
		reg := "127.0.0.1:" + strconv.Itoa(port)
		eng.login(t, reg, alice.user, alice.pass)
		id := dpBuildImage(t, eng, "nexus-e2e/ldap:1", map[string][]byte{"ldap.bin": randomBytes(t, 700)})
		eng.must(t, "tag", id, reg+"/team/ldap:1.0")
		eng.must(t, "push", reg+"/team/ldap:1.0")
		if versions, _ := dockerVersions(s, "docker-ldap"); !slices.Equal(versions["team/ldap"], []string{"1.0"}) {
			t.Fatalf("alice's push: docker-ldap has %v", versions)
		}
		layout := filepath.Join(t.TempDir(), "layout")
		ociLayout(t, layout, "1.0")
		ref := "docker://" + reg + "/team/bob:1.0"
		if out, err := sk.run("copy", "--dest-tls-verify=false", "--dest-creds", "bob:"+bob.pass, "oci:"+layout+":1.0", ref); err == nil {
			t.Errorf("bob (developers: read only) pushed:\n%s", out)
		}
		sk.must(t, "inspect", "--tls-verify=false", "--creds", "bob:"+bob.pass, "docker://"+reg+"/team/ldap:1.0")
	})

	// npm login as a directory user: the token is theirs, and never a key
	// to a local user given the same ID later.
	t.Run("Npm", func(t *testing.T) {
		s.createRepoOf("npm", "hosted", npmHostedJSON("npm-ldap", "allow_once"))
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/roles/deployers", admin,
			map[string]any{"id": "deployers", "name": "deployers", "source": "LDAP", "description": "LDAP group deployers",
				"privileges": []string{"nx-repository-view-docker-docker-ldap-*", "nx-metrics-read", "nx-repository-view-npm-npm-ldap-*"},
				"roles":      []string{}}, nil)
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin,
			[]string{"NexusAuthenticatingRealm", "LdapRealm", "DockerToken", "NpmToken"}, nil)
		defer s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin,
			[]string{"NexusAuthenticatingRealm", "LdapRealm", "DockerToken"}, nil)

		e := newNpmEnv(t, s.npmRepoURL("npm-ldap"))
		if out, ok := e.login(alice); !ok || !strings.HasPrefix(e.token(), "npm_") {
			t.Fatalf("npm login as alice (LDAP): token %q:\n%s", e.token(), out)
		}
		if got := strings.TrimSpace(e.mustRun(e.dir, "whoami")); got != alice.user {
			t.Errorf("npm whoami: %q, want alice", got)
		}
		e.mustRun(npmPkg{name: "@ldap/lib", version: "1.0.0"}.write(t, e.dir), "publish")
		if res := s.do(http.MethodGet, "/repository/npm-ldap/@ldap/lib/-/lib-1.0.0.tgz", alice, nil, nil); res.status != http.StatusOK {
			t.Errorf("alice's published tarball: %d %s", res.status, res.body)
		}
		if out, ok := newNpmEnv(t, s.npmRepoURL("npm-ldap")).login(bob); ok {
			t.Errorf("npm login as bob (no npm privileges) succeeded:\n%s", out)
		}

		s.createUser("alice", "local-alice-password", "nx-admin")
		if out, ok := e.run(e.dir, "whoami"); ok {
			t.Errorf("alice's LDAP token worked for the local user alice:\n%s", out)
		}
		s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/security/users/alice", admin, nil, nil)
		if got := strings.TrimSpace(e.mustRun(e.dir, "whoami")); got != alice.user {
			t.Errorf("npm whoami with the local alice gone: %q, want alice", got)
		}
	})

	t.Run("UI", func(t *testing.T) {
		u := newUIBrowser(t, s.base).session("alice")
		u.signIn(alice.user, alice.pass)
		if u.path() != "/" {
			t.Fatalf("alice signing in to the UI: at %s:\n%s", u.path(), u.bodyText())
		}
		u.must("#sign-out")
		u.open("/ui/browse/docker-ldap/")
		if !strings.Contains(u.bodyText(), "v2/") {
			t.Errorf("alice browsing docker-ldap in the UI:\n%s", u.bodyText())
		}
	})

	t.Run("RealmInactive", func(t *testing.T) {
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin, []string{"NexusAuthenticatingRealm", "DockerToken"}, nil)
		defer s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin,
			[]string{"NexusAuthenticatingRealm", "LdapRealm", "DockerToken"}, nil)
		if res := s.do(http.MethodGet, "/service/rest/v1/status/check", alice, nil, nil); res.status != http.StatusUnauthorized {
			t.Errorf("alice with the LDAP realm off: %d, want 401", res.status)
		}
		if res := s.do(http.MethodGet, "/repository/raw-ldap/a.txt", alice, nil, nil); res.status != http.StatusUnauthorized {
			t.Errorf("alice on /repository/ with the LDAP realm off: %d, want 401", res.status)
		}
	})

	// Without the Docker Bearer Token Realm clients are challenged for
	// Basic credentials, which work, and tokens are neither issued nor taken.
	t.Run("DockerTokenRealmOff", func(t *testing.T) {
		q := "/v2/token?service=x&scope=repository:team/ldap:pull"
		_, _, body, err := v2Get(port, q, bob)
		var tok struct{ Token string }
		if err != nil || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
			t.Fatalf("token for bob: %s %v", body, err)
		}
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin, []string{"NexusAuthenticatingRealm", "LdapRealm"}, nil)
		defer s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/realms/active", admin,
			[]string{"NexusAuthenticatingRealm", "LdapRealm", "DockerToken"}, nil)
		status, hdr, _, err := v2Get(port, "/v2/", nil)
		if err != nil || status != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("GET /v2/ without the token realm: %d %q %v, want 401 Basic", status, hdr.Get("WWW-Authenticate"), err)
		}
		if status, _, _, _ := v2Get(port, q, bob); status != http.StatusUnauthorized {
			t.Errorf("a token issued without the token realm: %d", status)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/v2/team/ldap/tags/list", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("an earlier token without the token realm: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		if status, _, body, _ := v2Get(port, "/v2/team/ldap/tags/list", bob); status != http.StatusOK {
			t.Errorf("bob with Basic credentials: %d %s", status, body)
		}
		// Anonymous pulls from a repository that allows them still work.
		openPort := testproc.FreePort(t)
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-ldap-open", openPort, false), nil)
		s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", admin,
			map[string]any{"enabled": true, "userId": "anonymous", "realmName": "NexusAuthorizingRealm"}, nil)
		defer s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", admin,
			map[string]any{"enabled": false, "userId": "anonymous", "realmName": "NexusAuthorizingRealm"}, nil)
		if status, _, body, _ := v2Get(openPort, "/v2/team/none/tags/list", nil); status != http.StatusNotFound {
			t.Errorf("anonymous tag list without the token realm: %d %s, want 404 (allowed, no such image)", status, body)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "x", "protocol": "LDAP", "host": "h", "port": 0, "searchBase": "dc=x", "authScheme": "NONE"}, "PARAMETER port"},
			{map[string]any{"name": "x", "protocol": "LDAP", "host": "h", "port": 389, "searchBase": "dc=x", "authScheme": "SIMPLE"}, "PARAMETER authUsername"},
		} {
			var errs []struct{ ID string }
			res := s.doJSON(http.MethodPost, "/v1/security/ldap", admin, c.body, nil)
			if json.Unmarshal(res.body, &errs); res.status != http.StatusBadRequest || len(errs) != 1 || errs[0].ID != c.field {
				t.Errorf("POST %v: %d %s, want 400 %s", c.body, res.status, res.body, c.field)
			}
		}
		if res := s.doJSON(http.MethodPut, "/v1/security/realms/active", admin, []string{"NexusAuthenticatingRealm", "Nope"}, nil); res.status != http.StatusBadRequest {
			t.Errorf("PUT unknown realm: %d %s", res.status, res.body)
		}
		if res := s.doJSON(http.MethodGet, "/v1/security/ldap/missing", admin, nil, nil); res.status != http.StatusNotFound {
			t.Errorf("GET a missing server: %d", res.status)
		}
		if res := s.doJSON(http.MethodGet, "/v1/security/ldap", bob, nil, nil); res.status != http.StatusForbidden {
			t.Errorf("bob lists LDAP servers: %d, want 403", res.status)
		}
	})

	// Last: the server stops answering. LDAP logins fail within the
	// timeout; local users are not held up.
	t.Run("Unreachable", func(t *testing.T) {
		hung, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer hung.Close()
		go func() {
			for {
				c, err := hung.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/ldap/slapd", admin,
			ldapServerJSON("slapd", "127.0.0.1", hung.Addr().(*net.TCPAddr).Port, 3), nil)
		start := time.Now()
		if res := s.do(http.MethodGet, "/service/rest/v1/status/check", alice, nil, nil); res.status != http.StatusUnauthorized {
			t.Errorf("alice with LDAP hung: %d, want 401", res.status)
		}
		if d := time.Since(start); d < 3*time.Second || d > 6*time.Second {
			t.Errorf("alice's refusal took %v with a 3 s timeout", d)
		}
		s.createUser("local1", "local1-password", "nx-admin")
		start = time.Now()
		if res := s.do(http.MethodGet, "/service/rest/v1/status/check", &creds{"local1", "local1-password"}, nil, nil); res.status != http.StatusOK {
			t.Errorf("a local user with LDAP hung: %d", res.status)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a local user waited %v for LDAP", d)
		}
	})
}
