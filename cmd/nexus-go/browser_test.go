package main

// The browser fixture of the UI end-to-end tests: Debian's chromium,
// headless, driven over the DevTools protocol with chromedp. Every page a
// session lands on is checked the same way: axe-core is injected and run
// (a serious or critical WCAG 2 A/AA violation fails the test), uncaught
// script errors and failed loads of the UI's own files fail it, and a
// full-page screenshot is saved to test-output/ui/<test>-<n>-<session>-<page>.png at
// the module root (not committed) for a person to look at.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// uiActionTimeout bounds one browser action (a navigation, a click, a
// query that waits for its element).
const uiActionTimeout = 20 * time.Second

// uiBrowser is one chromium process for one test, on a fresh profile.
type uiBrowser struct {
	t     *testing.T
	base  string // the server's "http://127.0.0.1:port"
	ctx   context.Context
	axe   string // axe-core's source
	out   string // the screenshot folder
	name  string // the test's name, as screenshot files start
	mu    sync.Mutex
	shots int
}

// newUIBrowser starts chromium (NEXUS_GO_CHROMIUM, else chromium on the
// PATH) for a test of the pages under base; it and axe-core (NEXUS_GO_AXE)
// are real clients: missing, they fail the test under
// NEXUS_GO_E2E_CLIENTS=required and skip it otherwise.
func newUIBrowser(t *testing.T, base string) *uiBrowser {
	t.Helper()
	bin := os.Getenv("NEXUS_GO_CHROMIUM")
	if bin == "" {
		bin = e2eClient(t, "chromium")
	} else if _, err := exec.LookPath(bin); err != nil {
		e2eClientMissing(t, "chromium at "+bin+" (NEXUS_GO_CHROMIUM)")
	}
	axePath := os.Getenv("NEXUS_GO_AXE")
	if axePath == "" {
		e2eClientMissing(t, "axe-core (NEXUS_GO_AXE is not set)")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		e2eClientMissing(t, "axe-core at "+axePath+" (NEXUS_GO_AXE)")
	}
	b := &uiBrowser{t: t, base: base, axe: string(axe), out: screenshotDir(t),
		name: regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")}
	old, _ := filepath.Glob(filepath.Join(b.out, b.name+"-*.png"))
	for _, f := range old {
		os.Remove(f)
	}

	profile := filepath.Join(t.TempDir(), "chromium-profile")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Only 127.0.0.1 is asked, directly; /dev/shm may be small.
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profile),
		chromedp.Env("TZ=UTC"),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process
		// Chromium's helpers may write into the profile a moment longer
		// (TempDir's own removal would not retry).
		pollUntil(50, func() bool { return os.RemoveAll(profile) == nil })
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", bin, err)
	}
	b.ctx = ctx
	return b
}

// screenshotDir is test-output/ui at the module root, created.
func screenshotDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-output", "ui")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// uiSession is one tab in a browser context of its own: its own cookies,
// so one test can be several users at once.
type uiSession struct {
	b    *uiBrowser
	t    *testing.T
	ctx  context.Context
	name string
	log  *consoleLog
}

// consoleLog collects a tab's console errors since the last page check.
type consoleLog struct {
	mu       sync.Mutex
	problems []string
}

// in is the session reporting to t (a subtest of the session's test).
func (u *uiSession) in(t *testing.T) *uiSession {
	return &uiSession{b: u.b, t: t, ctx: u.ctx, name: u.name, log: u.log}
}

// session opens a tab in a new browser context; name tells its
// screenshots apart ("admin", "reader", "anonymous").
func (b *uiBrowser) session(name string) *uiSession {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening a tab for %s: %v", name, err)
	}
	u := &uiSession{b: b, t: b.t, ctx: ctx, name: name, log: &consoleLog{}}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// The UI's own scripts must not throw, and its own files must
			// load; a page answered with an error status logs a failed
			// load too, which is no problem of the page's.
			if m.IsException() || (m.Type == chromedp.ConsoleError && strings.Contains(m.URL, "/ui/static/")) {
				u.log.mu.Lock()
				u.log.problems = append(u.log.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				u.log.mu.Unlock()
			}
		}
	}()
	return u
}

// do runs steps on the tab, bounded by uiActionTimeout.
func (u *uiSession) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		u.t.Fatalf("%s: %s on %s: %v\n%s", u.name, what, u.location(), err, u.bodyText())
	}
}

// open navigates to a path of the server, checks the page it lands on and
// returns the HTTP status of the last response.
func (u *uiSession) open(path string) int {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u.b.base+path))
	if err != nil {
		u.t.Fatalf("%s: opening %s: %v", u.name, path, err)
	}
	u.checkPage()
	return int(resp.Status)
}

// submit clicks the element sel (a submit button, a link), waits for the
// page it leads to, checks it and returns its HTTP status. An element of
// an htmx form or link updates part of the page instead: then the wait is
// for htmx to settle the swap, and the status is its request's.
func (u *uiSession) submit(sel string) int {
	u.t.Helper()
	u.must(sel)
	el := `document.querySelector(` + jsString(sel) + `)`
	if eval[bool](u, `typeof htmx === "object" && !!`+el+`.closest("[hx-get],[hx-post]")`) {
		eval[bool](u, `(window.__nxSwap = new Promise(done => {
			let status = 0;
			document.addEventListener("htmx:afterRequest", e => { status = e.detail.xhr.status; }, {once: true});
			document.addEventListener("htmx:afterSettle", () => done(status), {once: true});
			setTimeout(() => done(-1), 15000);
		})) !== null`)
		u.do("clicking "+sel, chromedp.Click(chromedp.CSS(sel)))
		status := eval[int](u, `window.__nxSwap`)
		if status < 0 {
			u.t.Fatalf("%s: htmx did not settle after clicking %s on %s", u.name, sel, u.location())
		}
		u.checkPage()
		return status
	}
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil || resp == nil {
		u.t.Fatalf("%s: clicking %s on %s: no page loaded (%v)\n%s", u.name, sel, u.location(), err, u.bodyText())
	}
	u.checkPage()
	return int(resp.Status)
}

// fill types value into the field sel, replacing what it held.
func (u *uiSession) fill(sel, value string) {
	u.t.Helper()
	u.must(sel)
	// Emptied by script: chromedp's Clear fails on an empty textarea.
	eval[bool](u, `(document.querySelector(`+jsString(sel)+`).value = "") === ""`)
	u.do("filling "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
	if got := u.value(sel); got != value {
		u.t.Fatalf("%s: %s holds %q after typing %q on %s", u.name, sel, got, value, u.location())
	}
}

// choose selects the option value of the select sel.
func (u *uiSession) choose(sel, value string) {
	u.t.Helper()
	u.must(sel)
	got := eval[string](u, `(() => { const s = document.querySelector(`+jsString(sel)+`);
		s.value = `+jsString(value)+`; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value; })()`)
	if got != value {
		u.t.Fatalf("%s: %s has no option %q (value %q) on %s", u.name, sel, value, got, u.location())
	}
}

// setChecked clicks the checkbox sel until it is checked (on) or not.
func (u *uiSession) setChecked(sel string, on bool) {
	u.t.Helper()
	if eval[bool](u, `document.querySelector(`+jsString(sel)+`)?.checked === true`) != on {
		u.do("clicking "+sel, chromedp.Click(chromedp.CSS(sel)))
	}
	if eval[bool](u, `document.querySelector(`+jsString(sel)+`)?.checked === true`) != on {
		u.t.Fatalf("%s: checkbox %s is not %t after a click on %s", u.name, sel, on, u.location())
	}
}

// count is the number of elements matching sel on the page; it does not wait.
func (u *uiSession) count(sel string) int {
	u.t.Helper()
	return eval[int](u, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// must requires an element matching sel on the page.
func (u *uiSession) must(sel string) {
	u.t.Helper()
	if u.count(sel) == 0 {
		u.t.Fatalf("%s: no %s on %s:\n%s", u.name, sel, u.location(), u.bodyText())
	}
}

// absent requires that nothing matches sel on the page.
func (u *uiSession) absent(sel, why string) {
	u.t.Helper()
	if n := u.count(sel); n != 0 {
		u.t.Errorf("%s: %d of %s on %s, want none (%s)", u.name, n, sel, u.location(), why)
	}
}

// text is the rendered text of the first element matching sel ("" if none).
func (u *uiSession) text(sel string) string {
	u.t.Helper()
	return eval[string](u, `(document.querySelector(`+jsString(sel)+`)?.innerText ?? "").trim()`)
}

// rawText is the text of sel as written in the page (textContent): the
// exact text of a snippet.
func (u *uiSession) rawText(sel string) string {
	u.t.Helper()
	return eval[string](u, `document.querySelector(`+jsString(sel)+`)?.textContent ?? ""`)
}

// texts are the rendered texts of every element matching sel.
func (u *uiSession) texts(sel string) []string {
	u.t.Helper()
	return eval[[]string](u, `[...document.querySelectorAll(`+jsString(sel)+`)].map(e => e.innerText.trim())`)
}

// attr is the attribute name of the first element matching sel ("" if none).
func (u *uiSession) attr(sel, name string) string {
	u.t.Helper()
	return eval[string](u, `document.querySelector(`+jsString(sel)+`)?.getAttribute(`+jsString(name)+`) ?? ""`)
}

// value is the current value of the form control sel.
func (u *uiSession) value(sel string) string {
	u.t.Helper()
	return eval[string](u, `document.querySelector(`+jsString(sel)+`)?.value ?? ""`)
}

// path is the path and query of the page the tab shows.
func (u *uiSession) path() string {
	u.t.Helper()
	l, err := url.Parse(u.location())
	if err != nil {
		u.t.Fatal(err)
	}
	return l.RequestURI()
}

func (u *uiSession) location() string {
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	l, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(location unknown: " + err.Error() + ")"
	}
	return l
}

// bodyText is the start of the page's text, for failure messages.
func (u *uiSession) bodyText() string {
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return ""
	}
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	return "page text:\n" + s
}

// csrf is the page's CSRF token (<meta name="csrf-token">).
func (u *uiSession) csrf() string {
	u.t.Helper()
	return u.attr(`meta[name="csrf-token"]`, "content")
}

// fetched is the answer to a request sent by the page's own fetch().
type fetched struct {
	Status int    `json:"status"`
	URL    string `json:"url"`
	Body   string `json:"body"`
}

// fetch sends a request from the page (its cookies, its origin) with a
// form body (nil for none) and headers, following redirects.
func (u *uiSession) fetch(method, path string, form url.Values, hdr map[string]string) fetched {
	u.t.Helper()
	if hdr == nil {
		hdr = map[string]string{}
	}
	opts := map[string]any{"method": method, "credentials": "same-origin", "headers": hdr}
	if form != nil {
		hdr["Content-Type"] = "application/x-www-form-urlencoded"
		opts["headers"], opts["body"] = hdr, form.Encode()
	}
	js, _ := json.Marshal(opts)
	return eval[fetched](u, `fetch(`+jsString(path)+`, `+string(js)+`).then(async r => ({status: r.status, url: r.url, body: await r.text()}))`)
}

// cookie is the browser context's cookie name for the server, or nil.
func (u *uiSession) cookie(name string) *network.Cookie {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u.b.base + "/"}})
	if err != nil {
		u.t.Fatalf("%s: reading cookies: %v", u.name, err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// emulate sets the colour scheme ("light", "dark") and the viewport width
// of the pages opened from now on (0: the window's).
func (u *uiSession) emulate(scheme string, width int64) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
	if err == nil {
		if width > 0 {
			err = chromedp.Do(ctx, chromedp.EmulateViewport(width, 844))
		} else {
			err = chromedp.Do(ctx, chromedp.ResetViewport())
		}
	}
	if err != nil {
		u.t.Fatalf("%s: emulating %s at width %d: %v", u.name, scheme, width, err)
	}
	u.name = strings.SplitN(u.name, "+", 2)[0] + "+" + scheme
	if width > 0 {
		u.name += fmt.Sprintf("-%dpx", width)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) on the page.
func eval[T any](u *uiSession, js string) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("%s: evaluating %.200s on %s: %v", u.name, js, u.location(), err)
	}
	return v
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// axeViolation is the part of an axe-core result the report shows.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// blocking tells the violations that fail a test.
func (v axeViolation) blocking() bool { return v.Impact == "serious" || v.Impact == "critical" }

// axeRun runs axe-core's WCAG 2 A and AA rules on the whole document.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]}, resultTypes: ["violations"]})
 .then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
   nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""}))})))`

// axe injects axe-core into the page (once per document) and returns
// what it finds.
func (u *uiSession) axe() []axeViolation {
	u.t.Helper()
	if !eval[bool](u, `typeof axe === "object"`) {
		ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](u.b.axe))
		cancel()
		if err != nil {
			u.t.Fatalf("%s: injecting axe-core into %s: %v", u.name, u.location(), err)
		}
	}
	return eval[[]axeViolation](u, axeRun)
}

// checkPage checks the page the tab shows: the document loaded, axe-core
// finds no serious or critical violation, no script error happened; and
// saves its screenshot.
func (u *uiSession) checkPage() {
	u.t.Helper()
	ready := eval[bool](u, `new Promise(done => {
		const ok = () => document.readyState === "complete";
		if (ok()) return done(true);
		window.addEventListener("load", () => done(true));
		setTimeout(() => done(ok()), 10000);
	})`)
	where := u.location()
	if !ready {
		u.t.Errorf("%s: %s did not finish loading", u.name, where)
	}
	u.screenshot()

	var bad []string
	for _, v := range u.axe() {
		if !v.blocking() {
			u.t.Logf("%s: axe %s (%s) on %s: %s", u.name, v.ID, v.Impact, where, v.Help)
			continue
		}
		line := fmt.Sprintf("%s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			line += fmt.Sprintf("\n    %s: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
		bad = append(bad, line)
	}
	if len(bad) > 0 {
		u.t.Errorf("%s: axe-core found serious or critical violations on %s:\n  %s", u.name, where, strings.Join(bad, "\n  "))
	}
	// Console messages arrive asynchronously: give them a moment.
	time.Sleep(20 * time.Millisecond)
	u.log.mu.Lock()
	problems := u.log.problems
	u.log.problems = nil
	u.log.mu.Unlock()
	if len(problems) > 0 {
		u.t.Errorf("%s: script errors on %s:\n  %s", u.name, where, strings.Join(problems, "\n  "))
	}
}

// screenshot saves the full page as test-output/ui/<test>-<n>-<session>-<page>.png.
func (u *uiSession) screenshot() {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.t.Fatalf("%s: screenshot of %s: %v", u.name, u.location(), err)
	}
	u.b.mu.Lock()
	u.b.shots++
	n := u.b.shots
	u.b.mu.Unlock()
	file := filepath.Join(u.b.out, fmt.Sprintf("%s-%02d-%s-%s.png", u.b.name, n, u.name, pageName(u.location())))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

// pageName names a page after its path: "/" is the dashboard, "/ui/a/b"
// is "a-b".
func pageName(location string) string {
	l, err := url.Parse(location)
	if err != nil {
		return "page"
	}
	p := strings.Trim(strings.TrimPrefix(l.Path, "/ui/"), "/")
	if p == "" {
		return "dashboard"
	}
	p = regexp.MustCompile(`[^A-Za-z0-9.]+`).ReplaceAllString(p, "-")
	if len(p) > 60 {
		p = p[:60]
	}
	return p
}
