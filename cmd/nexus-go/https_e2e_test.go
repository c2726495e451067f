package main

// End-to-end tests of the HTTPS main port (application-port-ssl): real curl
// and a real Docker engine over TLS with a test CA, certificate rotation on
// SIGHUP (main port and Docker connector), and client certificates
// (ssl.client-cas).

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// curlResult is one curl run: the HTTP status (0 when there was none),
// the body, curl's exit code and its messages.
type curlResult struct {
	status int
	body   []byte
	exit   int
	stderr string
}

// curl runs the curl binary (bounded) with args and the URL last.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	bin := e2eClient(t, "curl")
	out := filepath.Join(t.TempDir(), "body")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	all := append([]string{"-sS", "--noproxy", "*", "--max-time", "30", "-o", out, "-w", "%{http_code}"}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Env = clientEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := curlResult{stderr: strings.TrimSpace(stderr.String())}
	err := cmd.Run()
	res.stderr = strings.TrimSpace(stderr.String())
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("curl %v: %v", args, err)
	}
	res.status, _ = strconv.Atoi(strings.TrimSpace(stdout.String()))
	res.body, _ = os.ReadFile(out)
	return res
}

// servedSerial opens a new TLS connection to addr, trusting roots and
// presenting client if not nil, and returns the serial of the server's
// certificate.
func servedSerial(addr string, roots *x509.CertPool, client *tls.Certificate) (string, error) {
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Text(16), nil
}

// waitSerial waits (bounded) until new connections to addr get want.
func waitSerial(t *testing.T, addr string, roots *x509.CertPool, want *x509.Certificate) {
	t.Helper()
	var got string
	var err error
	if !pollUntil(100, func() bool {
		got, err = servedSerial(addr, roots, nil)
		return err == nil && got == want.SerialNumber.Text(16)
	}) {
		t.Fatalf("%s serves serial %s (%v), want %s", addr, got, err, want.SerialNumber.Text(16))
	}
}

// waitLog waits (bounded) until the server has logged s n times.
func waitLog(t *testing.T, srv *nexusServer, s string, n int) {
	t.Helper()
	if !pollUntil(100, func() bool { return strings.Count(srv.logs.String(), s) >= n }) {
		t.Fatalf("the server did not log %q %d times", s, n)
	}
}

// mainOnlyDockerJSON is a hosted Docker repository without connector ports,
// reached through the main ports' /v2/<name>/ routing.
func mainOnlyDockerJSON(name string) string {
	return `{"name":"` + name + `","online":true,` +
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"allow"},` +
		`"docker":{"v1Enabled":false,"forceBasicAuth":true}}`
}

// TestHTTPSMainPort serves the main port's routes over HTTPS next to
// plain HTTP: curl trusting the test CA reaches the REST API and a raw
// repository, clients that do not trust it do not; SIGHUP swaps the
// certificates of the HTTPS port and of a Docker HTTPS connector for new
// connections, and keeps them when a new file is bad; with ssl.client-cas
// only clients with a certificate from those CAs get through. A Docker
// engine pushes and pulls through the HTTPS port's path routing.
func TestHTTPSMainPort(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "nexus-go e2e CA")
	caFile := ca.WriteCA(t, dir, "ca.crt")
	mainCert, mainKey, mainFirst := ca.Server(t, dir, "main")
	dockerCert, dockerKey, dockerFirst := ca.Server(t, dir, "docker")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)

	sslPort := testproc.FreePort(t)
	s := startServerEnv(t, "NEXUS_GO_APPLICATION_PORT_SSL="+strconv.Itoa(sslPort),
		"NEXUS_GO_SSL_CERTIFICATE="+mainCert, "NEXUS_GO_SSL_KEY="+mainKey,
		"NEXUS_GO_DOCKER_TLS_CERTIFICATE="+dockerCert, "NEXUS_GO_DOCKER_TLS_KEY="+dockerKey)
	sslAddr := "127.0.0.1:" + strconv.Itoa(sslPort)
	base := "https://" + sslAddr
	adminUser := "admin:" + s.adminPW

	if res := curl(t, "--cacert", caFile, base+"/service/rest/v1/status"); res.exit != 0 || res.status != http.StatusOK {
		t.Fatalf("curl --cacert GET %s/service/rest/v1/status: %+v", base, res)
	}

	// A raw repository: upload and download over HTTPS, and the REST API's
	// download URL names the HTTPS port the client used.
	s.createRepo("hosted", hostedBody("raw-h", "allow"))
	data := randomBytes(t, 300<<10)
	file := filepath.Join(dir, "a.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if res := curl(t, "--cacert", caFile, "-u", adminUser, "-T", file, base+"/repository/raw-h/dir/a.bin"); res.status != http.StatusCreated {
		t.Fatalf("curl -T over HTTPS: %+v", res)
	}
	if res := curl(t, "--cacert", caFile, "-u", adminUser, base+"/repository/raw-h/dir/a.bin"); res.status != http.StatusOK || !bytes.Equal(res.body, data) {
		t.Fatalf("curl GET over HTTPS: %d, %d bytes (sha256 %s), want 200 and %d bytes (%s); %s",
			res.status, len(res.body), sha(res.body), len(data), sha(data), res.stderr)
	}
	res := curl(t, "--cacert", caFile, "-u", adminUser, base+"/service/rest/v1/assets?repository=raw-h")
	var assets struct {
		Items []struct {
			DownloadURL string `json:"downloadUrl"`
		} `json:"items"`
	}
	if err := json.Unmarshal(res.body, &assets); err != nil || len(assets.Items) != 1 ||
		assets.Items[0].DownloadURL != base+"/repository/raw-h/dir/a.bin" {
		t.Errorf("assets over HTTPS: %d %s (%v), want one with downloadUrl %s/repository/raw-h/dir/a.bin", res.status, res.body, err, base)
	}
	// The plain main port keeps working and is not redirected.
	s.getExpect("raw-h", "dir/a.bin", data)
	// curl without the CA refuses the certificate.
	if res := curl(t, base+"/service/rest/v1/status"); res.exit != 60 || res.status != 0 {
		t.Errorf("curl without --cacert: exit %d, status %d (%s), want exit 60 (certificate problem)", res.exit, res.status, res.stderr)
	} else {
		t.Logf("curl without --cacert: %s", res.stderr)
	}
	// Plain HTTP to the HTTPS port gets Go's refusal, not an answer.
	if status, _, body, err := v2Get(sslPort, "/service/rest/v1/status", nil); err == nil && status != http.StatusBadRequest {
		t.Errorf("plain HTTP to the HTTPS port: %d %q, want 400 or a failure", status, body)
	}

	// A Docker HTTPS connector, whose certificate SIGHUP reloads too.
	connPort := testproc.FreePort(t)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(), tlsHostedJSON("docker-tls", connPort), nil)
	connAddr := "127.0.0.1:" + strconv.Itoa(connPort)
	waitSerial(t, connAddr, roots, dockerFirst)
	waitSerial(t, sslAddr, roots, mainFirst)
	// The HTTPS port is the main port for connectors too.
	if r := s.doJSON(http.MethodPost, "/v1/repositories/docker/hosted", s.admin(), tlsHostedJSON("docker-clash", sslPort), nil); r.status != http.StatusBadRequest {
		t.Errorf("a connector on the HTTPS main port: %d %s, want 400", r.status, r.body)
	}

	t.Run("rotation", func(t *testing.T) {
		loaded := strings.Count(s.logs.String(), "TLS certificate loaded")
		_, _, mainNext := ca.Server(t, dir, "main")
		_, _, dockerNext := ca.Server(t, dir, "docker")
		// New files alone change nothing.
		if got, err := servedSerial(sslAddr, roots, nil); err != nil || got != mainFirst.SerialNumber.Text(16) {
			t.Errorf("before SIGHUP: serial %s (%v), want still %s", got, err, mainFirst.SerialNumber.Text(16))
		}
		s.signal(syscall.SIGHUP)
		waitSerial(t, sslAddr, roots, mainNext)
		waitSerial(t, connAddr, roots, dockerNext)
		waitLog(t, s, "TLS certificate loaded", loaded+2)
		if !strings.Contains(s.logs.String(), "serial="+mainNext.SerialNumber.Text(16)) {
			t.Errorf("the log does not name the new serial %s", mainNext.SerialNumber.Text(16))
		}
		if res := curl(t, "--cacert", caFile, base+"/service/rest/v1/status"); res.status != http.StatusOK {
			t.Errorf("curl after the rotation: %+v", res)
		}

		// A broken certificate file: the reload fails, the server lives on
		// with the certificate it had.
		if err := os.WriteFile(mainCert, []byte("-----BEGIN CERTIFICATE-----\nbroken\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		failed := strings.Count(s.logs.String(), "TLS reload failed")
		s.signal(syscall.SIGHUP)
		waitLog(t, s, "TLS reload failed", failed+1)
		if !s.running() {
			t.Fatal("the server exited after a bad reload")
		}
		if got, err := servedSerial(sslAddr, roots, nil); err != nil || got != mainNext.SerialNumber.Text(16) {
			t.Errorf("after the bad reload: serial %s (%v), want the previous %s", got, err, mainNext.SerialNumber.Text(16))
		}
		if res := curl(t, "--cacert", caFile, base+"/service/rest/v1/status"); res.status != http.StatusOK {
			t.Errorf("curl after the bad reload: %+v", res)
		}
		ca.Server(t, dir, "main") // a good file again, for what follows
	})

	// The engine pushes and pulls through the HTTPS port's /v2/<name>/
	// routing. It treats 127.0.0.0/8 as an insecure registry: it speaks
	// TLS without verifying the certificate and reads nothing from
	// certs.d, so this shows the TLS transport and the routing (the port
	// answers plain HTTP with 400 only); curl above shows the verification.
	t.Run("docker engine", func(t *testing.T) {
		eng := startDockerEngine(t)
		const plainOnTLS = "client sent an HTTP request to an HTTPS server"
		fallbacks := strings.Count(s.logs.String(), plainOnTLS)
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(), mainOnlyDockerJSON("docker-main"), nil)
		eng.login(t, sslAddr, "admin", s.adminPW)
		id := dpBuildImage(t, eng, "nexus-e2e/https:1", map[string][]byte{"a.bin": randomBytes(t, 1500), "b.bin": randomBytes(t, 2500)})
		ref := sslAddr + "/docker-main/team/app:1.0"
		eng.must(t, "tag", id, ref)
		eng.must(t, "push", ref)
		if versions, _ := dockerVersions(s, "docker-main"); len(versions["team/app"]) != 1 || versions["team/app"][0] != "1.0" {
			t.Errorf("components of docker-main: %v, want team/app 1.0", versions)
		}
		eng.drop(t, id)
		eng.pullExpect(t, ref, id)
		if n := strings.Count(s.logs.String(), plainOnTLS); n != fallbacks {
			t.Errorf("the engine tried plain HTTP on the HTTPS port %d times", n-fallbacks)
		}
	})

	t.Run("client certificates", func(t *testing.T) {
		clientCA := tlstest.NewCA(t, "nexus-go e2e client CA")
		clientCAFile := clientCA.WriteCA(t, dir, "clients.pem")
		aliceCert, aliceKey, _ := clientCA.Client(t, dir, "alice")
		strangerCert, strangerKey, _ := tlstest.NewCA(t, "another CA").Client(t, dir, "stranger")
		s.stop()
		s.env = append(s.env, "NEXUS_GO_SSL_CLIENT_CAS="+clientCAFile)
		s.restart()
		adminUser = "admin:" + s.adminPW

		if res := curl(t, "--cacert", caFile, base+"/service/rest/v1/status"); res.exit == 0 || res.status != 0 {
			t.Errorf("curl without a client certificate: %+v, want a failed handshake", res)
		} else {
			t.Logf("curl without a client certificate: exit %d, %s", res.exit, res.stderr)
		}
		if res := curl(t, "--cacert", caFile, "--cert", strangerCert, "--key", strangerKey, base+"/service/rest/v1/status"); res.exit == 0 || res.status != 0 {
			t.Errorf("curl with another CA's client certificate: %+v, want a failed handshake", res)
		}
		if res := curl(t, "--cacert", caFile, "--cert", aliceCert, "--key", aliceKey, base+"/service/rest/v1/status"); res.status != http.StatusOK {
			t.Errorf("curl with a client certificate: %+v", res)
		}
		// The client certificate proves a TLS peer, not a user: the
		// repository still wants credentials.
		if res := curl(t, "--cacert", caFile, "--cert", aliceCert, "--key", aliceKey, base+"/repository/raw-h/dir/a.bin"); res.status != http.StatusUnauthorized {
			t.Errorf("curl with a client certificate and no credentials: %d, want 401", res.status)
		}
		if res := curl(t, "--cacert", caFile, "--cert", aliceCert, "--key", aliceKey, "-u", adminUser, base+"/repository/raw-h/dir/a.bin"); res.status != http.StatusOK || !bytes.Equal(res.body, data) {
			t.Errorf("curl with a client certificate and credentials: %d, %d bytes", res.status, len(res.body))
		}
		// The Docker connector requires one too.
		alice, err := tls.LoadX509KeyPair(aliceCert, aliceKey)
		if err != nil {
			t.Fatal(err)
		}
		var status int
		if !pollUntil(50, func() bool { status, err = tlsFetch(connAddr, roots, &alice); return status == http.StatusUnauthorized }) {
			t.Fatalf("GET /v2/ on the connector with a client certificate: %d %v, want 401", status, err)
		}
		if status, err := tlsFetch(connAddr, roots, nil); err == nil {
			t.Errorf("the Docker connector served a client without a certificate: %d", status)
		}
		// The plain main port is unaffected.
		if r := s.doJSON(http.MethodGet, "/v1/status", nil, nil, nil); r.status != http.StatusOK {
			t.Errorf("plain main port: %d", r.status)
		}

	})
}

// tlsFetch sends GET /v2/ over a new TLS connection to addr and returns the
// status.
func tlsFetch(addr string, roots *x509.CertPool, client *tls.Certificate) (int, error) {
	cfg := &tls.Config{RootCAs: roots}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: cfg}}
	resp, err := c.Get("https://" + addr + "/v2/")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
