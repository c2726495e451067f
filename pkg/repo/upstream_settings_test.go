package repo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

func ptr[T any](v T) *T { return &v }

// connProxy is proxy "p" of remote with the given connection settings and
// authentication, on a manager of its own with proxy.timeout 5s.
func connProxy(t *testing.T, remote string, c *Connection, a *Authentication) *proxyRepo {
	t.Helper()
	return timedProxy(t, newEnv(t), testFormat{}, remote, 5*time.Second, func(cfg *Config) {
		cfg.HTTPClient.Connection, cfg.HTTPClient.Authentication = c, a
	})
}

// Failed GETs are sent again as often as retries says, and no more.
func TestProxyRetriesServerErrors(t *testing.T) {
	for _, tc := range []struct {
		retries, failures int
		ok                bool
	}{{2, 2, true}, {1, 3, false}, {0, 1, false}} {
		var n atomic.Int32
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			if int(n.Add(1)) <= tc.failures {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			io.WriteString(w, "content")
		})
		p := connProxy(t, up.URL+"/", &Connection{Retries: ptr(tc.retries)}, nil)
		_, err := p.Get(context.Background(), "a.txt")
		if (err == nil) != tc.ok {
			t.Errorf("retries %d, %d failures: err = %v", tc.retries, tc.failures, err)
		}
		if got, want := int(n.Load()), min(tc.failures, tc.retries)+1; got != want {
			t.Errorf("retries %d, %d failures: upstream saw %d requests, want %d", tc.retries, tc.failures, got, want)
		}
	}
}

// connection.timeout bounds an exchange instead of proxy.timeout.
func TestProxyConnectionTimeout(t *testing.T) {
	_, wait := hold(t)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { wait(r) })
	p := connProxy(t, up.URL+"/", &Connection{Timeout: ptr(1)}, nil)
	start := time.Now()
	_, err := p.Get(context.Background(), "slow.txt")
	if errs.KindOf(err) != errs.Upstream {
		t.Fatalf("err = %v, want an upstream error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a 1s timeout took %s", d)
	}
}

// The User-Agent carries the suffix; a bearer token goes as Authorization.
func TestProxyAgentSuffixAndBearerToken(t *testing.T) {
	var agent, authz string
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		agent, authz = r.UserAgent(), r.Header.Get("Authorization")
		io.WriteString(w, "content")
	})
	p := connProxy(t, up.URL+"/", &Connection{UserAgentSuffix: "team-a"},
		&Authentication{Type: "BEARERTOKEN", BearerToken: "t0ken"})
	read(t, context.Background(), p, "a.txt")
	waitIdle(t, p)
	if agent != "nexus-go team-a" {
		t.Errorf("User-Agent = %q", agent)
	}
	if authz != "Bearer t0ken" {
		t.Errorf("Authorization = %q", authz)
	}
	if shown := p.Config().WithoutSecrets().HTTPClient.Authentication; shown.BearerToken != "" || shown.Type != AuthBearerToken {
		t.Errorf("shown authentication = %+v", shown)
	}
}

// A redirect back to a URL of the chain is refused unless circular
// redirects are enabled.
func TestProxyCircularRedirects(t *testing.T) {
	for _, circular := range []bool{false, true} {
		var seen sync.Map
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			if _, again := seen.LoadOrStore(r.URL.Path, true); !again {
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
				return
			}
			io.WriteString(w, "content")
		})
		p := connProxy(t, up.URL+"/", &Connection{EnableCircularRedirects: ptr(circular)}, nil)
		_, err := p.Get(context.Background(), "a.txt")
		if (err == nil) != circular {
			t.Errorf("circular redirects %v: err = %v", circular, err)
		}
	}
}

// Cookies are kept only when enabled.
func TestProxyCookies(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		var sent atomic.Bool
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			if _, err := r.Cookie("session"); err == nil {
				sent.Store(true)
			}
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
			io.WriteString(w, "content")
		})
		p := connProxy(t, up.URL+"/", &Connection{EnableCookies: ptr(enabled)}, nil)
		read(t, context.Background(), p, "a.txt")
		read(t, context.Background(), p, "b.txt")
		if sent.Load() != enabled {
			t.Errorf("cookies enabled %v: upstream got its cookie back: %v", enabled, sent.Load())
		}
	}
}

// NTLM settings are kept but the proxy does not fetch, and says why.
func TestProxyNTLMRefused(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "content") })
	p := connProxy(t, up.URL+"/", nil, &Authentication{Type: "ntlm", Username: "u", Password: "pw", NTLMHost: "h", NTLMDomain: "d"})
	_, err := p.Get(context.Background(), "a.txt")
	if errs.KindOf(err) != errs.Upstream || !strings.Contains(err.Error(), "NTLM") {
		t.Errorf("err = %v, want an upstream error naming NTLM", err)
	}
	if up.hits.Load() != 0 {
		t.Errorf("upstream asked %d times", up.hits.Load())
	}
	if s := p.Status(); !strings.Contains(s.Reason, "NTLM") {
		t.Errorf("status = %+v", s)
	}
	a := p.Config().WithoutSecrets().HTTPClient.Authentication
	if a.NTLMHost != "h" || a.NTLMDomain != "d" || a.Username != "u" || a.Password != "" {
		t.Errorf("shown authentication = %+v", a)
	}
}

// pool is a TrustPool tests change.
type pool struct {
	mu    sync.Mutex
	roots *x509.CertPool
	gen   uint64
}

func (p *pool) Pool() (*x509.CertPool, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.roots, p.gen
}

func (p *pool) set(roots *x509.CertPool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roots, p.gen = roots, p.gen+1
}

// A proxy with useTrustStore trusts what the pool holds, from the next
// request on; one without it never does.
func TestProxyUsesTrustStore(t *testing.T) {
	ca := tlstest.NewCA(t, "private CA")
	certFile, keyFile, _ := ca.Server(t, t.TempDir(), "upstream")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "content") }))
	up.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	up.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	up.StartTLS()
	t.Cleanup(up.Close)

	trust := &pool{roots: x509.NewCertPool()}
	e := newEnv(t)
	mk := func(name string, use bool) *proxyRepo {
		m := NewManager(e.db, e.stores, e.m.authz, Options{Log: e.m.opts.Log, TrustStore: trust}, testFormat{})
		cfg := proxyCfg(name, up.URL+"/")
		cfg.HTTPClient = &HTTPClient{Connection: &Connection{UseTrustStore: ptr(use)}}
		if err := m.Create(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		r, _ := m.Lookup(name)
		return r.(*proxyRepo)
	}
	using, plain := mk("using", true), mk("plain", false)
	// A new path each time: a cached copy would be served when the upstream fails.
	n := 0
	get := func(p *proxyRepo) error {
		n++
		_, err := p.Get(context.Background(), fmt.Sprintf("a%d.txt", n))
		waitIdle(t, p)
		return err
	}
	if err := get(using); err == nil {
		t.Fatal("fetched from an upstream of an untrusted CA")
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	trust.set(roots)
	if err := get(using); err != nil {
		t.Fatalf("with the CA in the truststore: %v", err)
	}
	if err := get(plain); err == nil {
		t.Error("a proxy without useTrustStore trusted the truststore")
	}
	trust.set(x509.NewCertPool())
	if err := get(using); err == nil {
		t.Error("fetched after the CA left the truststore")
	}
}

// The UI's form gives Basic credentials, a bearer token (which may be left
// out to keep the stored one) or none.
func TestConfigJSONAuthentication(t *testing.T) {
	e := newEnv(t)
	fields, err := e.m.Fields(context.Background(), "test", Proxy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		form map[string][]string
		want string
	}{
		{map[string][]string{"httpClient.authentication.type": {"bearerToken"}, "httpClient.authentication.bearerToken": {"t"},
			"httpClient.authentication.username": {"stale"}}, `{"bearerToken":"t","type":"bearerToken"}`},
		{map[string][]string{"httpClient.authentication.type": {"bearerToken"}}, `{"type":"bearerToken"}`},
		{map[string][]string{"httpClient.authentication.type": {"username"}, "httpClient.authentication.username": {"u"},
			"httpClient.authentication.bearerToken": {"stale"}}, `{"type":"username","username":"u"}`},
		{map[string][]string{"httpClient.authentication.type": {"username"}}, `null`},
	} {
		raw, err := ConfigJSON(fields, tc.form)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			HTTPClient struct {
				Authentication json.RawMessage `json:"authentication"`
			} `json:"httpClient"`
		}
		json.Unmarshal(raw, &got)
		if a := string(got.HTTPClient.Authentication); a != tc.want && !(a == "" && tc.want == "null") {
			t.Errorf("%v: authentication = %s, want %s", tc.form, a, tc.want)
		}
	}
}
