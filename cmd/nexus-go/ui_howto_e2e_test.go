package main

// End-to-end tests of the How-to snippets in headless chromium: Maven and
// npm repositories created through the forms, and each snippet used exactly
// as the page shows it (pasted into settings.xml, a pom, .npmrc, or run
// as a shell line) by the real client.

import (
	"bufio"
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// snippet is the exact text of the How-to snippet id on the page; its
// copy button (beside it, in the same parent) must copy exactly that text.
func (u *uiSession) snippet(id string) string {
	u.t.Helper()
	sel := `pre.snippet[data-snippet="` + id + `"]`
	u.must(sel)
	text := u.rawText(sel)
	// The clipboard is the page's: a stand-in records what the button
	// writes to it.
	copied := eval[string](u, `new Promise(done => {
		const btn = document.querySelector(`+jsString(sel)+`).parentElement.querySelector("button.copy");
		if (!btn) return done("(no copy button)");
		Object.defineProperty(navigator, "clipboard", {configurable: true,
			value: {writeText: t => { done(t); return Promise.resolve(); }}});
		document.execCommand = c => { if (c === "copy") done(document.activeElement.value ?? String(getSelection())); return true; };
		btn.click();
		setTimeout(() => done("(nothing copied)"), 1000);
	})`)
	if copied != text {
		u.t.Errorf("%s: the copy button of snippet %s copied %q, want the snippet %q", u.name, id, copied, text)
	}
	return text
}

// runSnippet runs a shell snippet in dir with the environment env,
// bounded in time, and returns its output.
func runSnippet(t *testing.T, dir, snippet string, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), npmRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", snippet)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running the snippet in %s:\n%s\n%v:\n%s", dir, snippet, err, out)
	}
	return string(out)
}

// TestUIHowToMaven: a Maven proxy of the tests' central and a group of it
// and maven-releases are made through the forms; mvn builds and deploys a
// project with the group's settings.xml snippet as its settings
// (everything resolved through the group) and maven-releases'
// distributionManagement snippet in the pom, all verbatim.
func TestUIHowToMaven(t *testing.T) {
	up := startMavenUpstream(t, debianMavenRepo)
	s := startServer(t)
	admin := uiAdmin(t, s)
	admin.createRepository("maven2-proxy", "ui-central", repoForm{
		fields:  map[string]string{"proxy.remoteUrl": up.url()},
		selects: map[string]string{"maven.versionPolicy": "RELEASE", "maven.layoutPolicy": "PERMISSIVE"}})
	admin.createRepository("maven2-group", "ui-maven", repoForm{members: []string{"maven-releases", "ui-central"}})
	var group struct {
		Group struct {
			MemberNames []string `json:"memberNames"`
		} `json:"group"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/maven/group/ui-maven", s.admin(), nil, &group)
	if members := strings.Join(group.Group.MemberNames, ","); members != "maven-releases,ui-central" {
		t.Errorf("members of the group made in the form: %s, want maven-releases,ui-central", members)
	}

	groupSettings := admin.snippet("maven-settings")
	admin.absent(`pre.snippet[data-snippet="maven-distribution"]`, "a group takes no deploys")
	for _, want := range []string{"${env.NEXUS_USER}", "${env.NEXUS_PASSWORD}", s.url("/repository/ui-maven/")} {
		if !strings.Contains(groupSettings, want) {
			t.Errorf("the group's settings.xml snippet lacks %s:\n%s", want, groupSettings)
		}
	}
	admin.open("/ui/repositories/maven-releases")
	hostedSettings, distribution := admin.snippet("maven-settings"), admin.snippet("maven-distribution")

	m := newMavenEnvMirror(t, nil, s.url("/repository/ui-maven/"))
	useSettings := func(text string) {
		t.Helper()
		if err := os.WriteFile(m.settings, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("NEXUS_USER", "admin")
	t.Setenv("NEXUS_PASSWORD", s.adminPW)
	dir := m.project("lib", "lib", map[string]string{"VERSION": "1.0", "BUILD": "howto"})
	pom := filepath.Join(dir, "pom.xml")
	block := regexp.MustCompile(`(?s)\s*<distributionManagement>.*</distributionManagement>`)
	old := readFile(t, pom)
	if !block.Match(old) {
		t.Fatalf("no distributionManagement in the lib's pom")
	}
	if err := os.WriteFile(pom, block.ReplaceAll(old, []byte("\n"+distribution)), 0o644); err != nil {
		t.Fatal(err)
	}
	local := m.localRepo("howto")
	start := time.Now()
	// As a team does: everything through the group's settings.xml, the
	// deploy to maven-releases by its distributionManagement (the group's
	// settings hold its members' credentials too).
	useSettings(groupSettings)
	m.mustRun(dir, local, "deploy", deployArgs)
	if len(s.assets("ui-central")) == 0 {
		t.Errorf("mvn resolved nothing through the group's proxy")
	}
	if !strings.Contains(hostedSettings, "<id>maven-releases</id>") {
		t.Errorf("maven-releases' settings.xml snippet has no server of its id:\n%s", hostedSettings)
	}
	t.Logf("mvn with the snippets: %v", time.Since(start).Round(time.Millisecond))
	jar := readFile(t, filepath.Join(dir, "target", "lib-1.0.jar"))
	s.getExpect("maven-releases", "org/example/e2e/lib/1.0/lib-1.0.jar", jar)

	// The deployed GAV among the components, with its dependency block.
	admin.open("/ui/components/maven-releases")
	row := `tr.component[data-name="lib"][data-version="1.0"]`
	admin.submit(row + ` a[href^="/ui/component/maven-releases/"]`)
	use := admin.snippet("use")
	for _, want := range []string{"<groupId>org.example.e2e</groupId>", "<artifactId>lib</artifactId>", "<version>1.0</version>"} {
		if !strings.Contains(use, want) {
			t.Errorf("the component's dependency block lacks %s:\n%s", want, use)
		}
	}
	paths := strings.Join(eval[[]string](admin, `[...document.querySelectorAll("tr.asset")].map(r => r.dataset.path)`), "\n")
	if !strings.Contains(paths, "org/example/e2e/lib/1.0/lib-1.0.jar") || !strings.Contains(paths, "lib-1.0.pom") {
		t.Errorf("assets of lib 1.0: %q, want its jar and pom", paths)
	}
}

// TestUIHowToNpm: an npm hosted repository and a group of it are made
// through the forms; npm publishes with the hosted repository's .npmrc and
// publish snippets and installs with the group's .npmrc, all verbatim.
func TestUIHowToNpm(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := uiAdmin(t, s)
	admin.createRepository("npm-hosted", "ui-npm-hosted", repoForm{selects: map[string]string{"storage.writePolicy": "ALLOW"}})
	hostedRC, publish := admin.snippet("npmrc"), admin.snippet("npm-publish")
	admin.createRepository("npm-group", "ui-npm", repoForm{members: []string{"ui-npm-hosted"}})
	groupRC := admin.snippet("npmrc")
	for _, rc := range []string{hostedRC, groupRC} {
		if !strings.Contains(rc, "${NEXUS_AUTH}") {
			t.Errorf("an .npmrc snippet without the ${NEXUS_AUTH} placeholder:\n%s", rc)
		}
	}
	auth := "NEXUS_AUTH=" + base64.StdEncoding.EncodeToString([]byte("admin:"+s.adminPW))
	quiet := "npm_config_update_notifier=false"

	pub := newNpmEnv(t, s.npmRepoURL("ui-npm-hosted"))
	if err := os.WriteFile(pub.userconfig, []byte(hostedRC), 0o600); err != nil {
		t.Fatal(err)
	}
	pkg := npmPkg{name: "ui-howto", version: "1.0.0"}
	runSnippet(t, pkg.write(t, pub.dir), publish, append(pub.env(), auth, quiet))
	if res := s.do(http.MethodGet, "/repository/ui-npm-hosted/ui-howto", s.admin(), nil, nil); res.status != http.StatusOK {
		t.Fatalf("the packument after publishing with the snippet: status %d", res.status)
	}

	inst := newNpmEnv(t, s.npmRepoURL("ui-npm"))
	if err := os.WriteFile(inst.userconfig, []byte(groupRC), 0o600); err != nil {
		t.Fatal(err)
	}
	proj := inst.project("app", map[string]string{"ui-howto": "^1.0.0"})
	runSnippet(t, proj, "npm install --no-audit --no-fund", append(inst.env(), auth, quiet))
	if got := installedVersion(t, proj, "ui-howto"); got != "1.0.0" {
		t.Errorf("installed ui-howto %q, want 1.0.0", got)
	}
	for p, u := range lockResolved(t, proj) {
		if !strings.HasPrefix(u, s.npmRepoURL("ui-npm")) {
			t.Errorf("package-lock.json: %s resolved at %q, not through the group", p, u)
		}
	}

	// The components of the hosted repository list the version; its
	// install line installs it, as pasted.
	admin.open("/ui/components/ui-npm-hosted")
	row := `tr.component[data-name="ui-howto"][data-version="1.0.0"]`
	admin.submit(row + ` a[href^="/ui/component/ui-npm-hosted/"]`)
	use := admin.snippet("use")
	proj2 := pub.project("app-use", nil)
	runSnippet(t, proj2, use, append(pub.env(), auth, quiet))
	if got := installedVersion(t, proj2, "ui-howto"); got != "1.0.0" {
		t.Errorf("the component's install line %q installed %q, want 1.0.0", use, got)
	}
}

// TestUINpmWebLogin: npm login in its default web mode prints a URL of the
// UI; a visitor who opens it signs in there, lands back on the approval and
// approves; npm, polling meanwhile, receives a token of that user.
func TestUINpmWebLogin(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	changeAdminPassword(s)
	s.createRepoOf("npm", "hosted", npmHostedJSON("ui-npm-login", "allow"))
	e := newNpmEnv(t, s.npmRepoURL("ui-npm-login"))
	b := newUIBrowser(t, s.base)
	u := b.session("npm-user")

	ctx, cancel := context.WithTimeout(context.Background(), npmRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.npm, e.args([]string{"login"})...)
	cmd.Dir, cmd.Env = e.dir, e.env()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr logBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	var out logBuffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if i := strings.Index(sc.Text(), "http"); i >= 0 && strings.Contains(sc.Text(), "/ui/npm-login/") {
				found <- strings.TrimSpace(sc.Text()[i:])
			}
		}
		close(found)
	}()
	var loginURL string
	select {
	case loginURL = <-found:
	case <-time.After(time.Minute):
	}
	if !strings.HasPrefix(loginURL, s.url("/ui/npm-login/")) {
		cmd.Process.Kill()
		t.Fatalf("npm login printed no login URL of the UI (%q):\n%s%s", loginURL, out.String(), stderr.String())
	}

	// Not signed in yet: the page sends to sign in, and back.
	u.open(strings.TrimPrefix(loginURL, s.base))
	if !strings.HasPrefix(u.path(), "/ui/login") {
		t.Fatalf("the login URL opened %s, want the sign-in page first", u.path())
	}
	u.fill("#username", "admin")
	u.fill("#password", s.adminPW)
	u.submit("#sign-in")
	if want := strings.TrimPrefix(loginURL, s.base); u.path() != want {
		t.Fatalf("after signing in at %s, want back at %s", u.path(), want)
	}
	u.submit("#approve")
	u.must(`[role="status"]`)

	if err := cmd.Wait(); err != nil {
		t.Fatalf("npm login: %v:\n%s%s", err, out.String(), stderr.String())
	}
	token := e.token()
	if !strings.HasPrefix(token, "npm_") {
		t.Fatalf("the token npm stored: %q:\n%s", token, out.String())
	}
	if who := strings.TrimSpace(e.mustRun(e.dir, "whoami")); who != "admin" {
		t.Errorf("npm whoami with the web login's token: %q, want admin", who)
	}
	// The user's tokens page lists it; revoked there, npm is signed out.
	u.open("/ui/security/tokens")
	rows := eval[[]string](u, `[...document.querySelectorAll("#tokens tr[data-token]")].map(r => r.dataset.token)`)
	if len(rows) != 1 || rows[0] == "" || !strings.HasPrefix(token, rows[0]) || len(rows[0]) >= len(token) {
		t.Fatalf("the tokens page lists %q, want a short prefix of the one token", rows)
	}
	u.submit(`#tokens tr[data-token="` + rows[0] + `"] button.revoke`)
	u.absent("#tokens tr[data-token]", "the token was revoked")
	e.mustFail(e.dir, "401", "whoami")
}
