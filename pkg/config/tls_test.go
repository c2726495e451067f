package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestDockerSettings(t *testing.T) {
	isolate(t)
	got, err := Load(Flags{}, []string{"NEXUS_GO_DOCKER_GC_GRACE=0s", "NEXUS_GO_DOCKER_TLS_CERTIFICATE=/c.pem", "NEXUS_GO_DOCKER_TLS_KEY=/k.pem"})
	if err != nil {
		t.Fatal(err)
	}
	if got.DockerGCGrace != 0 || got.DockerTLSCert != "/c.pem" || got.DockerTLSKey != "/k.pem" {
		t.Errorf("docker settings = %v %q %q", got.DockerGCGrace, got.DockerTLSCert, got.DockerTLSKey)
	}
	if _, err := Load(Flags{}, []string{"NEXUS_GO_DOCKER_TLS_CERTIFICATE=/c.pem"}); err == nil || !strings.Contains(err.Error(), "docker.tls-key") {
		t.Errorf("certificate without key: err = %v", err)
	}
	if _, err := Load(Flags{}, []string{"NEXUS_GO_DOCKER_GC_GRACE=-1s"}); err == nil || !strings.Contains(err.Error(), "docker.gc-grace") {
		t.Errorf("negative grace: err = %v", err)
	}
}

func TestSSLSettings(t *testing.T) {
	isolate(t)
	got, err := Load(Flags{}, []string{"NEXUS_GO_APPLICATION_PORT_SSL=8443", "NEXUS_GO_SSL_CERTIFICATE=/c.pem",
		"NEXUS_GO_SSL_KEY=/k.pem", "NEXUS_GO_SSL_CLIENT_CAS= /a.pem, ,/b.pem "})
	if err != nil {
		t.Fatal(err)
	}
	if got.SSLPort != 8443 || got.SSLCert != "/c.pem" || got.SSLKey != "/k.pem" || got.SSLAddr() != "0.0.0.0:8443" {
		t.Errorf("ssl settings = %d %q %q %q", got.SSLPort, got.SSLCert, got.SSLKey, got.SSLAddr())
	}
	if cas := got.ClientCAFiles(); !reflect.DeepEqual(cas, []string{"/a.pem", "/b.pem"}) {
		t.Errorf("ClientCAFiles = %q", cas)
	}
	if cas := defaults().ClientCAFiles(); cas != nil {
		t.Errorf("ClientCAFiles of the defaults = %q, want none", cas)
	}
	// Client CAs for the Docker connectors alone are fine.
	if _, err := Load(Flags{}, []string{"NEXUS_GO_DOCKER_TLS_CERTIFICATE=/c.pem", "NEXUS_GO_DOCKER_TLS_KEY=/k.pem",
		"NEXUS_GO_SSL_CLIENT_CAS=/a.pem"}); err != nil {
		t.Errorf("client CAs with a Docker certificate only: %v", err)
	}
	for name, tt := range map[string]struct {
		env  []string
		want string
	}{
		"port without certificate": {[]string{"NEXUS_GO_APPLICATION_PORT_SSL=8443"}, "application-port-ssl"},
		"certificate without key":  {[]string{"NEXUS_GO_SSL_CERTIFICATE=/c.pem"}, "ssl.key"},
		"port not a number":        {[]string{"NEXUS_GO_APPLICATION_PORT_SSL=https"}, "application-port-ssl"},
		"port too big":             {[]string{"NEXUS_GO_APPLICATION_PORT_SSL=65536"}, "application-port-ssl"},
		"port is the main port": {[]string{"NEXUS_GO_APPLICATION_PORT_SSL=8081", "NEXUS_GO_SSL_CERTIFICATE=/c.pem",
			"NEXUS_GO_SSL_KEY=/k.pem"}, "must differ from application-port"},
		"client CAs without any HTTPS": {[]string{"NEXUS_GO_SSL_CLIENT_CAS=/a.pem"}, "ssl.client-cas"},
	} {
		if _, err := Load(Flags{}, tt.env); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one naming %q", name, err, tt.want)
		}
	}
}
