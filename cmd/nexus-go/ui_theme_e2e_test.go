package main

// End-to-end tests of the UI's presentation in headless chromium: the dark
// colour scheme and a phone-wide window pass axe-core too (contrast is
// checked in each), nothing is wider than a narrow window, and the sign-in
// form works from the keyboard alone with a visible focus.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// TestUIThemes opens the main pages in the dark scheme at full width and in
// the light scheme 390 pixels wide.
func TestUIThemes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	changeAdminPassword(s)
	createDockerHosted(s, "ui-docker", testproc.FreePort(t))
	s.createRepo("hosted", hostedBody("ui-raw", "allow"))
	s.put("ui-raw", "docs/a-rather-long-folder-name-that-must-wrap-somewhere/readme.txt", []byte("narrow\n"))
	b := newUIBrowser(t, s.base)

	anon := b.session("anonymous")
	anon.emulate("dark", 0)
	anon.open("/ui/login")

	admin := b.session("admin")
	admin.signInAdmin(s)
	pages := []string{"/", "/ui/repositories", "/ui/repositories/new", "/ui/repositories/new?format=docker&type=hosted",
		"/ui/repositories/ui-docker", "/ui/repositories/ui-raw", "/ui/browse/ui-raw/docs/", "/ui/search",
		"/ui/security/users"}
	for _, mode := range []struct {
		scheme string
		width  int64
	}{{"dark", 0}, {"light", 390}} {
		admin.emulate(mode.scheme, mode.width)
		for _, p := range pages {
			if st := admin.open(p); st != http.StatusOK {
				t.Errorf("%s: %s answered %d", admin.name, p, st)
				continue
			}
			if mode.width == 0 {
				continue
			}
			// Readable on a narrow window: the page does not scroll sideways.
			if w := eval[int](admin, `document.documentElement.scrollWidth`); w > int(mode.width) {
				t.Errorf("%s: %s is %d pixels wide, more than the %d-pixel window", admin.name, p, w, mode.width)
			}
		}
	}
}

// TestUIKeyboard signs in with the keyboard alone: Tab reaches the fields
// and the button in order, each focused control shows a focus indicator,
// and Enter submits.
func TestUIKeyboard(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	changeAdminPassword(s)
	b := newUIBrowser(t, s.base)
	u := b.session("keyboard")
	u.open("/ui/login")
	focusVisible := `(() => { const e = document.activeElement, st = getComputedStyle(e);
		return (st.outlineStyle !== "none" && parseFloat(st.outlineWidth) > 0) || st.boxShadow !== "none"; })()`
	// The page may put the focus in the first field itself (autofocus).
	var order []string
	for i := 0; i < 8 && !slices.Contains(order, "sign-in"); i++ {
		id := eval[string](u, `document.activeElement === document.body ? "" : document.activeElement.id || document.activeElement.tagName`)
		if id != "" {
			order = append(order, id)
			if !eval[bool](u, focusVisible) {
				t.Errorf("the focused %s shows no focus indicator (outline or box-shadow)", id)
			}
		}
		switch id {
		case "username":
			u.do("typing the user", chromedp.KeyEvent("admin"))
		case "password":
			u.do("typing the password", chromedp.KeyEvent(s.adminPW))
		case "sign-in":
			continue
		}
		u.do("pressing Tab", chromedp.KeyEvent("\t"))
	}
	got := strings.Join(order, " ")
	if !strings.Contains(got, "username password sign-in") {
		t.Fatalf("Tab order on the sign-in page: %s, want username, password, sign-in in a row", got)
	}
	ctx, cancel := context.WithTimeout(u.ctx, uiActionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r"))
	if err != nil {
		t.Fatalf("pressing Enter on the sign-in button: %v", err)
	}
	u.checkPage()
	if resp.Status != http.StatusOK || u.path() != "/" {
		t.Errorf("signed in from the keyboard: status %d at %s, want the dashboard", resp.Status, u.path())
	}
	u.must("#sign-out")
}
