package repo

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestGroupFirstMemberWins(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	put(t, h1, "a.txt", "from h1")
	put(t, h2, "a.txt", "from h2")
	put(t, h2, "only2.txt", "only in h2")

	g := e.create(groupCfg("g", "h1", "h2"))
	if body, stored := read(t, ctx, g, "a.txt"); body != "from h1" || !stored {
		t.Fatalf("g/a.txt = %q (stored %v), want h1's", body, stored)
	}
	if body, _ := read(t, ctx, g, "only2.txt"); body != "only in h2" {
		t.Fatalf("g/only2.txt = %q", body)
	}
	_, err := g.Get(ctx, "nowhere")
	wantKind(t, err, errs.NotFound, "path in no member")

	// Member order decides.
	if err := e.m.Update(ctx, groupCfg("g", "h2", "h1")); err != nil {
		t.Fatal(err)
	}
	g = e.lookup("g")
	if body, _ := read(t, ctx, g, "a.txt"); body != "from h2" {
		t.Fatalf("g/a.txt = %q after reordering, want h2's", body)
	}

	// A group never reads or writes content of its own.
	_, err = g.Put(ctx, "new", strings.NewReader("x"), PutOptions{Size: -1})
	wantKind(t, err, errs.Unsupported, "Put to a group")
	wantKind(t, g.Delete(ctx, "a.txt"), errs.Unsupported, "Delete from a group")
	if _, err := h2.Stat(ctx, "a.txt"); err != nil {
		t.Fatalf("group delete touched a member: %v", err)
	}
}

func TestGroupMergesMetadata(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	h3 := e.create(hostedCfg("h3", "allow"))
	put(t, h1, "pkg/x.meta", "b\nd\n")
	put(t, h2, "pkg/x.meta", "c\na\n")
	put(t, h3, "other.meta", "z\n")
	g := e.create(groupCfg("g", "h1", "h2", "h3"))

	if body, _ := read(t, ctx, g, "pkg/x.meta"); body != "a\nb\nc\nd\n" {
		t.Fatalf("merged metadata = %q", body)
	}
	// A single member's metadata goes through the merge too.
	if body, _ := read(t, ctx, g, "other.meta"); body != "z\n" {
		t.Fatalf("single-member metadata = %q", body)
	}
	_, err := g.Get(ctx, "none.meta")
	wantKind(t, err, errs.NotFound, "metadata in no member")
}

func TestGroupProxyMemberRewrite(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pkg/x.meta":
			io.WriteString(w, "UPSTREAM/pkg/x-1.tgz\n")
		case "/pkg/x-1.tgz":
			io.WriteString(w, "UPSTREAM/ is not rewritten in content")
		default:
			http.NotFound(w, r)
		}
	})
	h := e.create(hostedCfg("h", "allow"))
	put(t, h, "pkg/x.meta", "local/pkg/x-0.tgz\n")
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)
	g := e.create(groupCfg("g", "h", "p"))

	groupBase := mustURL(t, "http://nexus.example/repository/g/")
	proxyBase := mustURL(t, "http://nexus.example/repository/p/")

	// First fetch, through the group: the streamed download is rewritten
	// to the group's URL, then merged.
	body, _ := read(t, WithBaseURL(ctx, groupBase), g, "pkg/x.meta")
	if want := "http://nexus.example/repository/g/pkg/x-1.tgz\nlocal/pkg/x-0.tgz\n"; body != want {
		t.Fatalf("group metadata = %q, want %q", body, want)
	}
	// Cached now; addressed directly the proxy points at itself.
	body, _ = read(t, WithBaseURL(ctx, proxyBase), p, "pkg/x.meta")
	if body != "http://nexus.example/repository/p/pkg/x-1.tgz\n" {
		t.Fatalf("proxy metadata = %q", body)
	}
	// The cache holds the upstream's bytes, unrewritten.
	body, _ = read(t, ctx, p, "pkg/x.meta")
	if body != "UPSTREAM/pkg/x-1.tgz\n" {
		t.Fatalf("stored metadata = %q", body)
	}
	// Content is not rewritten.
	body, _ = read(t, WithBaseURL(ctx, groupBase), g, "pkg/x-1.tgz")
	if body != "UPSTREAM/ is not rewritten in content" {
		t.Fatalf("content = %q", body)
	}
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2", n)
	}
}

func TestGroupSkipsFailingMember(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	newProxyRepo(t, e, "p", up.URL, nil)
	h := e.create(hostedCfg("h", "allow"))
	put(t, h, "a", "from h")
	g := e.create(groupCfg("g", "p", "h"))
	if body, _ := read(t, ctx, g, "a"); body != "from h" {
		t.Fatalf("g/a = %q", body)
	}
	// With no member having the path, the member's failure is reported.
	_, err := g.Get(ctx, "b")
	wantKind(t, err, errs.Upstream, "path only a failing member could have")
}

func TestGroupList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	put(t, h1, "dir/a", "1")
	put(t, h1, "x", "1")
	put(t, h1, "same", "from h1")
	put(t, h2, "dir/b", "2")
	put(t, h2, "y", "2")
	put(t, h2, "same", "from h2")
	g := e.create(groupCfg("g", "h1", "h2"))

	entries, _, err := g.List(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		s := en.Name
		if en.Dir {
			s += "/"
		}
		got = append(got, s)
	}
	if strings.Join(got, ",") != "dir/,same,x,y" {
		t.Fatalf("group root = %v", got)
	}
	for _, en := range entries {
		if en.Name == "same" && (en.Asset == nil || en.Asset.Repository != "h1") {
			t.Fatalf("duplicate entry not taken from the first member: %+v", en)
		}
	}
	entries, _, err = g.List(ctx, "dir", "", 0)
	if err != nil || len(entries) != 2 || entries[0].Path != "dir/a" || entries[1].Path != "dir/b" {
		t.Fatalf("group dir = %+v, %v", entries, err)
	}
	_, _, err = g.List(ctx, "nope", "", 0)
	wantKind(t, err, errs.NotFound, "folder in no member")
}

func TestNestedGroup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	h3 := e.create(hostedCfg("h3", "allow"))
	put(t, h1, "a", "deep")
	put(t, h1, "m.meta", "1\n")
	put(t, h2, "m.meta", "2\n")
	put(t, h3, "m.meta", "3\n")
	put(t, h3, "a", "shallow")
	e.create(groupCfg("inner", "h1", "h2"))
	outer := e.create(groupCfg("outer", "inner", "h3"))

	if body, _ := read(t, ctx, outer, "a"); body != "deep" {
		t.Fatalf("outer/a = %q, want the inner group's (first member)", body)
	}
	if body, _ := read(t, ctx, outer, "m.meta"); body != "1\n2\n3\n" {
		t.Fatalf("outer/m.meta = %q", body)
	}
	entries, _, err := outer.List(ctx, "", "", 0)
	if err != nil || len(entries) != 2 {
		t.Fatalf("outer root = %+v, %v", entries, err)
	}
}
