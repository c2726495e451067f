package main

// End-to-end test of a Docker HTTPS connector: a certificate configured in
// the properties file (docker.tls-certificate, docker.tls-key), a hosted
// repository on an httpsPort, and clients that trust that certificate.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// tlsHostedJSON is a hosted Docker repository on an HTTPS connector port.
func tlsHostedJSON(name string, httpsPort int) string {
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"allow"},`+
		`"docker":{"v1Enabled":false,"forceBasicAuth":true,"httpsPort":%d}}`, name, httpsPort)
}

// tlsCall sends one request and reads the whole answer; transport errors
// fail the test. Every answer must have come over TLS.
func tlsCall(t *testing.T, c *http.Client, method, target, auth string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, target, err)
	}
	if resp.TLS == nil || !resp.TLS.HandshakeComplete {
		t.Fatalf("%s %s: the answer did not come over TLS", method, target)
	}
	return resp.StatusCode, resp.Header, data
}

// TestDockerHTTPSConnector serves a hosted Docker repository on an HTTPS
// connector port with a certificate from the properties file: the token
// realm is https, a push and a pull work over TLS for a client trusting the
// certificate (and skopeo, given it as a CA), plain HTTP and untrusting
// clients get nowhere, and without a certificate an httpsPort does not listen.
func TestDockerHTTPSConnector(t *testing.T) {
	ca := tlstest.NewCA(t, "nexus-go e2e CA")
	certFile, keyFile, _ := ca.Server(t, t.TempDir(), "docker")

	s := startServer(t)
	s.stop()
	etc := filepath.Join(s.dataDir, "etc")
	if err := os.MkdirAll(etc, 0o700); err != nil {
		t.Fatal(err)
	}
	props := "docker.tls-certificate=" + certFile + "\ndocker.tls-key=" + keyFile + "\n"
	if err := os.WriteFile(filepath.Join(etc, "nexus-go.properties"), []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	s.restart()

	port := testproc.FreePort(t)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(), tlsHostedJSON("docker-tls", port), nil)
	base := "https://127.0.0.1:" + strconv.Itoa(port)

	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	client := &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			Proxy:           nil,
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()

	// The version check: a challenge whose realm is on this HTTPS port.
	var challenge string
	if !pollUntil(50, func() bool {
		resp, err := client.Get(base + "/v2/")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		challenge = resp.Header.Get("WWW-Authenticate")
		return resp.StatusCode == http.StatusUnauthorized
	}) {
		t.Fatalf("GET %s/v2/ never answered 401 over TLS (last challenge %q)", base, challenge)
	}
	ch, ok := parseBearerChallenge(challenge)
	if !ok {
		t.Fatalf("GET /v2/: WWW-Authenticate %q is not a Bearer challenge", challenge)
	}
	if want := base + "/v2/token"; !strings.HasPrefix(ch["realm"], want) {
		t.Fatalf("GET /v2/: realm %q, want it to start with %q (challenge %q)", ch["realm"], want, challenge)
	}

	// A token for pushing and pulling team/app, from that realm.
	q := url.Values{"scope": {"repository:team/app:pull,push"}}
	if ch["service"] != "" {
		q.Set("service", ch["service"])
	}
	status, _, body := tlsCall(t, client, http.MethodGet, ch["realm"]+"?"+q.Encode(), "Basic "+basicAuth(s.admin()), nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", ch["realm"], status, body)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("GET %s: no token in %q (%v)", ch["realm"], body, err)
	}
	bearer := "Bearer " + tok.Token
	if status, _, body := tlsCall(t, client, http.MethodGet, base+"/v2/", bearer, nil, nil); status != http.StatusOK {
		t.Fatalf("GET /v2/ with the token: %d %s", status, body)
	}

	// Push a layer, the config and the manifest as team/app:1.0.
	img := newDPImage(t, randomBytes(t, 256<<10))
	push := func(data []byte) {
		t.Helper()
		d := "sha256:" + sha(data)
		status, hdr, body := tlsCall(t, client, http.MethodPost, base+"/v2/team/app/blobs/uploads/", bearer, nil, nil)
		if status != http.StatusAccepted {
			t.Fatalf("POST blobs/uploads/: %d %s", status, body)
		}
		loc, err := url.Parse(base + "/")
		if err == nil {
			loc, err = loc.Parse(hdr.Get("Location"))
		}
		if err != nil {
			t.Fatalf("POST blobs/uploads/: Location %q: %v", hdr.Get("Location"), err)
		}
		if loc.Scheme != "https" || loc.Host != "127.0.0.1:"+strconv.Itoa(port) {
			t.Errorf("POST blobs/uploads/: Location %q is not on %s", hdr.Get("Location"), base)
		}
		status, hdr, body = tlsCall(t, client, http.MethodPatch, loc.String(), bearer, data,
			map[string]string{"Content-Type": "application/octet-stream"})
		if status != http.StatusAccepted {
			t.Fatalf("PATCH %s: %d %s", loc, status, body)
		}
		if l := hdr.Get("Location"); l != "" {
			if loc, err = loc.Parse(l); err != nil {
				t.Fatalf("PATCH: Location %q: %v", l, err)
			}
		}
		uq := loc.Query()
		uq.Set("digest", d)
		loc.RawQuery = uq.Encode()
		status, hdr, body = tlsCall(t, client, http.MethodPut, loc.String(), bearer, nil, nil)
		if status != http.StatusCreated || hdr.Get("Docker-Content-Digest") != d {
			t.Fatalf("PUT %s: %d, digest %q (want %s): %s", loc, status, hdr.Get("Docker-Content-Digest"), d, body)
		}
	}
	push(img.config)
	push(img.layers[0])
	status, hdr, body := tlsCall(t, client, http.MethodPut, base+"/v2/team/app/manifests/1.0", bearer, img.manifest,
		map[string]string{"Content-Type": dpOCIManifest})
	if status != http.StatusCreated || hdr.Get("Docker-Content-Digest") != img.digest {
		t.Fatalf("PUT manifests/1.0: %d, digest %q (want %s): %s", status, hdr.Get("Docker-Content-Digest"), img.digest, body)
	}

	// Pull it back.
	status, hdr, body = tlsCall(t, client, http.MethodGet, base+"/v2/team/app/manifests/1.0", bearer, nil,
		map[string]string{"Accept": dpOCIManifest})
	if status != http.StatusOK || !bytes.Equal(body, img.manifest) || hdr.Get("Docker-Content-Digest") != img.digest {
		t.Fatalf("GET manifests/1.0: %d, digest %q (want %s), %d bytes: %.300s", status, hdr.Get("Docker-Content-Digest"), img.digest, len(body), body)
	}
	for _, data := range [][]byte{img.config, img.layers[0]} {
		d := "sha256:" + sha(data)
		status, _, body := tlsCall(t, client, http.MethodGet, base+"/v2/team/app/blobs/"+d, bearer, nil, nil)
		if status != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("GET blobs/%s: %d, %d bytes (sha256:%s), want %d bytes", d, status, len(body), sha(body), len(data))
		}
	}
	if tags, _ := dockerVersions(s, "docker-tls"); len(tags["team/app"]) != 1 || tags["team/app"][0] != "1.0" {
		t.Errorf("components of docker-tls: %v, want team/app 1.0", tags)
	}

	// Plain HTTP to the HTTPS port gets no Docker API answer.
	plain := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	if resp, err := plain.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/v2/"); err == nil {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Docker-Distribution-API-Version") != "" {
			t.Errorf("plain HTTP GET /v2/ on the HTTPS port: %d %v %q, want a failure (or the TLS server's 400)", resp.StatusCode, resp.Header, data)
		} else {
			t.Logf("plain HTTP GET /v2/ on the HTTPS port: %d %q", resp.StatusCode, data)
		}
	} else {
		t.Logf("plain HTTP GET /v2/ on the HTTPS port fails: %v", err)
	}
	// A client that does not trust the certificate does not get through.
	untrusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	if resp, err := untrusting.Get(base + "/v2/"); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s/v2/ without trusting the certificate: %d, want a TLS error", base, resp.StatusCode)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("GET %s/v2/ without trusting the certificate: %v, want a certificate error", base, err)
	}
	// The main port stays plain HTTP.
	if res := s.doJSON(http.MethodGet, "/v1/status", nil, nil, nil); res.status != http.StatusOK {
		t.Errorf("GET /service/rest/v1/status on the main port: %d", res.status)
	}

	t.Run("skopeo", func(t *testing.T) {
		run := newSkopeo(t).run
		certDir := t.TempDir()
		ca.WriteCA(t, certDir, "ca.crt")
		ref := "docker://127.0.0.1:" + strconv.Itoa(port) + "/team/app:1.0"
		out, err := run("inspect", "--cert-dir", certDir, "--creds", "admin:"+s.adminPW, ref)
		if err != nil {
			t.Fatalf("skopeo inspect --cert-dir %s %s: %v\n%s", certDir, ref, err, out)
		}
		var info struct {
			Digest       string `json:"Digest"`
			Architecture string `json:"Architecture"`
			Os           string `json:"Os"`
			Layers       []string
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatalf("skopeo inspect: %q: %v", out, err)
		}
		if info.Digest != img.digest || info.Architecture != "amd64" || info.Os != "linux" ||
			len(info.Layers) != 1 || info.Layers[0] != "sha256:"+sha(img.layers[0]) {
			t.Errorf("skopeo inspect: %+v, want digest %s, amd64/linux and the one layer", info, img.digest)
		}
		t.Logf("skopeo inspect %s: %s %s/%s, layers %v", ref, info.Digest, info.Os, info.Architecture, info.Layers)
		// Without the CA, skopeo refuses the certificate.
		if out, err := run("inspect", "--cert-dir", t.TempDir(), "--creds", "admin:"+s.adminPW, ref); err == nil {
			t.Errorf("skopeo inspect without the CA succeeded:\n%s", out)
		} else if !strings.Contains(out, "certificate") {
			t.Errorf("skopeo inspect without the CA failed, but not on the certificate:\n%s", out)
		} else {
			t.Logf("skopeo inspect without the CA fails: %s", lastLine(out))
		}
	})

	// Without a certificate an httpsPort is kept, as Nexus does, but does
	// not listen, and the repository's status says why.
	t.Run("no certificate", func(t *testing.T) {
		s2 := startServer(t)
		port := testproc.FreePort(t)
		s2.createRepoOf("docker", "hosted", tlsHostedJSON("docker-tls", port))
		var got struct {
			Docker struct {
				HTTPSPort int `json:"httpsPort"`
			} `json:"docker"`
			Status struct {
				Reason string `json:"reason"`
			} `json:"status"`
		}
		s2.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/docker/hosted/docker-tls", s2.admin(), nil, &got)
		if got.Docker.HTTPSPort != port || !strings.Contains(got.Status.Reason, "no TLS certificate") {
			t.Errorf("repository = %+v, want the port kept and a status naming the missing certificate", got)
		}
		if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			conn.Close()
			t.Errorf("port %d listens without a certificate", port)
		}
	})
}

// parseBearerChallenge reads the parameters of a Bearer challenge.
func parseBearerChallenge(h string) (map[string]string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return nil, false
	}
	out := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimLeft(rest, " ,") {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, false
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				return nil, false
			}
			val, rest = after[1:end+1], after[end+2:]
		} else {
			val, rest, _ = strings.Cut(after, ",")
		}
		out[strings.ToLower(strings.TrimSpace(key))] = val
	}
	return out, out["realm"] != ""
}
