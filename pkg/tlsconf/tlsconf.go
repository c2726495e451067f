// Package tlsconf holds the TLS settings of the server's HTTPS listeners: a
// certificate and optional client-certificate authorities, read from PEM
// files and read again on Reload (SIGHUP) without closing a listener.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
)

// Files names the PEM files of one HTTPS listener.
type Files struct {
	Cert string // the certificate, followed by any intermediates
	Key  string
	// ClientCAs, when not empty, makes a client certificate signed by one
	// of these authorities required.
	ClientCAs []string
}

// Reloader serves the current settings to every new handshake. A reload
// that fails keeps the settings it had, so a listener never loses its
// certificate to a file being rewritten or a mistake.
type Reloader struct {
	files Files
	name  string // what the log calls it: "main port", "docker connectors"
	log   *slog.Logger
	// current is the certificate and the authorities of one successful
	// load; they are swapped together, so a handshake never pairs a new
	// certificate with the old authorities.
	current atomic.Pointer[tls.Config]
}

// New loads the files; unlike Reload, a failure here is returned, for the
// server to refuse to start.
func New(name string, files Files, log *slog.Logger) (*Reloader, error) {
	r := &Reloader{files: files, name: name, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// Config is the tls.Config of the listener: TLS 1.2 at least, HTTP/1.1
// (the connection cap and the body idle deadline are per connection), and
// each handshake gets the settings of the last successful load.
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.current.Load(), nil
		},
	}
}

// Reload reads the files again. On an error the previous settings stay in
// use; the error is logged and returned.
func (r *Reloader) Reload() error {
	if err := r.load(); err != nil {
		r.log.Error("TLS reload failed; the previous certificate stays in use", "listener", r.name, "err", err)
		return err
	}
	return nil
}

func (r *Reloader) load() error {
	cert, err := tls.LoadX509KeyPair(r.files.Cert, r.files.Key)
	if err != nil {
		return fmt.Errorf("%s TLS certificate %s / key %s: %w", r.name, r.files.Cert, r.files.Key, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
		Certificates: []tls.Certificate{cert},
	}
	if len(r.files.ClientCAs) > 0 {
		pool, err := loadPool(r.files.ClientCAs)
		if err != nil {
			return fmt.Errorf("%s TLS client CAs: %w", r.name, err)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	r.current.Store(cfg)
	leaf := cert.Leaf
	r.log.Info("TLS certificate loaded", "listener", r.name, "subject", leaf.Subject.String(),
		"serial", leaf.SerialNumber.Text(16), "notAfter", leaf.NotAfter, "clientCAs", len(r.files.ClientCAs))
	return nil
}

// loadPool reads PEM certificates from files; each file must hold at
// least one, so a wrong path is not a silently empty pool.
func loadPool(files []string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		n := 0
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			if block.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			pool.AddCert(c)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: %w", f, errNoCertificate)
		}
	}
	return pool, nil
}

var errNoCertificate = errors.New("no PEM certificate in the file")
